//! The query parameters of list and watch requests (`metav1.ListOptions`) and the
//! server's validation of their combinations
//! (`apimachinery/pkg/apis/meta/internalversion/validation`).

use std::collections::HashMap;

use crate::status::Status;

/// `resourceVersionMatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Unset.
    Unset,
    /// `NotOlderThan`.
    NotOlderThan,
    /// `Exact`.
    Exact,
}

/// The list/watch options of one request.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `labelSelector`.
    pub label_selector: String,
    /// `fieldSelector`.
    pub field_selector: String,
    /// `limit` (0: none).
    pub limit: u64,
    /// `continue`.
    pub continue_token: String,
    /// `resourceVersion` (empty: unset).
    pub resource_version: String,
    /// `resourceVersionMatch` as sent.
    pub resource_version_match: String,
    /// `watch`.
    pub watch: bool,
    /// `allowWatchBookmarks`.
    pub allow_watch_bookmarks: bool,
    /// `sendInitialEvents`, when sent.
    pub send_initial_events: Option<bool>,
    /// `timeoutSeconds`, when sent.
    pub timeout_seconds: Option<u64>,
}

/// The API server's boolean query decoding: absent is false, `0` and `false` are false,
/// anything else (even empty) is true.
fn flag(value: Option<&String>) -> Option<bool> {
    value.map(|v| !(v == "0" || v.eq_ignore_ascii_case("false")))
}

impl ListOptions {
    /// Reads the options from the decoded query.
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, Status> {
        let text = |k: &str| query.get(k).cloned().unwrap_or_default();
        let number = |k: &str| -> Result<Option<i64>, Status> {
            match query.get(k).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                    Status::bad_request(format!(
                        "invalid value for {k}: strconv.ParseInt: parsing {v:?}: invalid syntax"
                    ))
                }),
            }
        };
        Ok(ListOptions {
            label_selector: text("labelSelector"),
            field_selector: text("fieldSelector"),
            limit: number("limit")?.map_or(0, |n| n.max(0) as u64),
            continue_token: text("continue"),
            resource_version: text("resourceVersion"),
            resource_version_match: text("resourceVersionMatch"),
            watch: flag(query.get("watch")).unwrap_or(false),
            allow_watch_bookmarks: flag(query.get("allowWatchBookmarks")).unwrap_or(false),
            send_initial_events: flag(query.get("sendInitialEvents")),
            timeout_seconds: number("timeoutSeconds")?.map(|n| n.max(0) as u64),
        })
    }

    /// `resourceVersionMatch` parsed (validated by [`ListOptions::validate`]).
    pub fn version_match(&self) -> Match {
        match self.resource_version_match.as_str() {
            "NotOlderThan" => Match::NotOlderThan,
            "Exact" => Match::Exact,
            _ => Match::Unset,
        }
    }

    /// `resourceVersion` as a number; `None` when unset; `0` for `"0"`.
    pub fn rv(&self) -> Result<Option<u64>, Status> {
        if self.resource_version.is_empty() {
            return Ok(None);
        }
        self.resource_version.parse::<u64>().map(Some).map_err(|_| {
            Status::bad_request(format!(
                "invalid resource version: {:?}: resource version is not well formed",
                self.resource_version
            ))
        })
    }

    /// The server's checks of the option combinations: 422 `ListOptions.meta.k8s.io ""
    /// is invalid: ...` when they fail.
    pub fn validate(&self) -> Result<(), Status> {
        let mut causes: Vec<(&str, &str, String)> = Vec::new();
        let m = self.resource_version_match.as_str();
        let forbidden = "FieldValueForbidden";
        if self.watch {
            if self.send_initial_events.is_some() && m != "NotOlderThan" {
                causes.push((
                    "resourceVersionMatch",
                    forbidden,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
                        .into(),
                ));
            }
            if !m.is_empty() {
                if self.send_initial_events.is_none() {
                    causes.push((
                        "resourceVersionMatch",
                        forbidden,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents \
                         is provided"
                            .into(),
                    ));
                }
                if m != "NotOlderThan" {
                    causes.push((
                        "resourceVersionMatch",
                        "FieldValueNotSupported",
                        format!("{m:?}: supported values: \"NotOlderThan\""),
                    ));
                }
                if !self.continue_token.is_empty() {
                    causes.push((
                        "resourceVersionMatch",
                        forbidden,
                        "resourceVersionMatch is forbidden when continue is provided".into(),
                    ));
                }
            }
        } else {
            if !m.is_empty() {
                if self.resource_version.is_empty() {
                    causes.push((
                        "resourceVersionMatch",
                        forbidden,
                        "resourceVersionMatch is forbidden unless resourceVersion is provided"
                            .into(),
                    ));
                }
                if !self.continue_token.is_empty() {
                    causes.push((
                        "resourceVersionMatch",
                        forbidden,
                        "resourceVersionMatch is forbidden when continue is provided".into(),
                    ));
                }
                if m != "Exact" && m != "NotOlderThan" {
                    causes.push((
                        "resourceVersionMatch",
                        "FieldValueNotSupported",
                        format!("{m:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""),
                    ));
                }
                if m == "Exact" && self.resource_version == "0" {
                    causes.push((
                        "resourceVersionMatch",
                        forbidden,
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                            .into(),
                    ));
                }
            }
            if self.send_initial_events.is_some() {
                causes.push((
                    "sendInitialEvents",
                    forbidden,
                    "sendInitialEvents is forbidden for list".into(),
                ));
            }
        }
        if causes.is_empty() {
            Ok(())
        } else {
            Err(Status::invalid("ListOptions", "meta.k8s.io", "", &causes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> ListOptions {
        let q: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListOptions::from_query(&q).expect("parses")
    }

    #[test]
    fn booleans_decode_like_the_server() {
        assert!(opts(&[("watch", "1")]).watch);
        assert!(opts(&[("watch", "true")]).watch);
        assert!(opts(&[("watch", "")]).watch);
        assert!(!opts(&[("watch", "false")]).watch);
        assert!(!opts(&[("watch", "0")]).watch);
        assert!(!opts(&[]).watch);
    }

    #[test]
    fn invalid_combinations_are_422() {
        let bad = [
            vec![("resourceVersionMatch", "Exact")],
            vec![("resourceVersion", "0"), ("resourceVersionMatch", "Exact")],
            vec![("resourceVersion", "5"), ("resourceVersionMatch", "Newest")],
            vec![("sendInitialEvents", "true")],
            vec![("watch", "1"), ("resourceVersionMatch", "NotOlderThan")],
            vec![("watch", "1"), ("sendInitialEvents", "true")],
        ];
        for pairs in bad {
            let err = opts(&pairs).validate().expect_err("invalid");
            assert_eq!(err.code, 422, "{pairs:?}");
            assert!(
                err.message
                    .starts_with("ListOptions.meta.k8s.io \"\" is invalid: "),
                "{}",
                err.message
            );
        }
        let good = [
            vec![
                ("resourceVersion", "0"),
                ("resourceVersionMatch", "NotOlderThan"),
            ],
            vec![("resourceVersion", "7"), ("resourceVersionMatch", "Exact")],
            vec![
                ("watch", "1"),
                ("sendInitialEvents", "true"),
                ("resourceVersionMatch", "NotOlderThan"),
            ],
        ];
        for pairs in good {
            assert!(opts(&pairs).validate().is_ok(), "{pairs:?}");
        }
    }
}

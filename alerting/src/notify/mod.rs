//! The notifier, as Alertmanager does it: an `alertmanager.yml`-syntax config
//! ([`config`]), the routing tree ([`route`]), aggregation groups with
//! `group_wait`/`group_interval`/`repeat_interval` and the notification log
//! ([`dispatch`], [`nflog`]), inhibition ([`inhibit`]), silences ([`silence`]) and the
//! receivers that turn a group into a chat message or a webhook call ([`receivers`]),
//! delivered over [`http`].

pub mod api;
pub mod config;
pub mod dispatch;
pub mod forward;
pub mod http;
pub mod inhibit;
pub mod matchers;
pub mod nflog;
mod persist;
pub mod receivers;
pub mod route;
pub mod silence;

use argus_core::series::Labels;
use std::collections::BTreeMap;

/// A string from the config that must never be shown: webhook URLs with keys, signing
/// secrets. `Debug`, `Display` and `Serialize` print `<secret>`.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The value, for building the request; never for logs or errors.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<secret>")
    }
}

/// An alert as the notifier holds it (Alertmanager's model; ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub starts_at_ms: i64,
    /// When it resolved, or until when it is valid if not re-sent; 0 = not set.
    pub ends_at_ms: i64,
    pub generator_url: String,
    /// When it was last received.
    pub updated_at_ms: i64,
}

impl Alert {
    /// Alertmanager's fingerprint of the label set (FNV-1a 64 over names and values in
    /// name order, each followed by 0xff), shown as 16 hex digits.
    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// Resolved at `now_ms`: its end time is set and not in the future.
    pub fn resolved_at(&self, now_ms: i64) -> bool {
        self.ends_at_ms != 0 && self.ends_at_ms <= now_ms
    }
}

/// See [`Alert::fingerprint`].
pub fn fingerprint(labels: &Labels) -> u64 {
    const OFFSET: u64 = 14695981039346656037;
    const PRIME: u64 = 1099511628211;
    let mut h = OFFSET;
    let mut add = |b: &[u8]| {
        for &x in b {
            h ^= x as u64;
            h = h.wrapping_mul(PRIME);
        }
    };
    for l in labels.iter() {
        add(l.name.as_bytes());
        add(&[0xff]);
        add(l.value.as_bytes());
        add(&[0xff]);
    }
    h
}

/// What one flush of an aggregation group hands to one receiver.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The receiver's name (from the config).
    pub receiver: String,
    /// Alertmanager's group key: `{}/{<route matchers>}:{<group labels>}`.
    pub group_key: String,
    /// The values of the route's `group_by` labels.
    pub group_labels: Labels,
    /// Firing and resolved alerts of the group, as Alertmanager orders them.
    pub alerts: Vec<Alert>,
    /// Where links point (`--external-url`).
    pub external_url: String,
    /// The flush time; decides which alerts count as resolved.
    pub now_ms: i64,
}

impl Notification {
    /// `firing` when any alert fires, else `resolved`.
    pub fn status(&self) -> &'static str {
        if self.alerts.iter().any(|a| !a.resolved_at(self.now_ms)) {
            "firing"
        } else {
            "resolved"
        }
    }

    /// The labels every alert has with the same value.
    pub fn common_labels(&self) -> Labels {
        let Some(first) = self.alerts.first() else {
            return Labels::default();
        };
        Labels::from_sorted(
            first
                .labels
                .iter()
                .filter(|l| {
                    self.alerts[1..]
                        .iter()
                        .all(|a| a.labels.get(&l.name) == Some(l.value.as_str()))
                })
                .cloned()
                .collect(),
        )
    }

    /// The annotations every alert has with the same value.
    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        let Some(first) = self.alerts.first() else {
            return BTreeMap::new();
        };
        first
            .annotations
            .iter()
            .filter(|(k, v)| {
                self.alerts[1..]
                    .iter()
                    .all(|a| a.annotations.get(*k) == Some(*v))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_alertmanager() {
        // model.LabelSet{}.Fingerprint() is the FNV-1a offset basis.
        assert_eq!(fingerprint(&Labels::default()), 0xcbf29ce484222325);
        // Order-independent, value-sensitive.
        let a = Labels::new([("alertname", "A"), ("job", "x")]);
        let b = Labels::new([("job", "x"), ("alertname", "A")]);
        let c = Labels::new([("job", "y"), ("alertname", "A")]);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("https://hooks.example/T0/B0/XXXX");
        assert_eq!(format!("{s} {s:?}"), "<secret> <secret>");
        assert_eq!(serde_json::to_string(&s).expect("json"), "\"<secret>\"");
        assert_eq!(s.expose(), "https://hooks.example/T0/B0/XXXX");
    }

    #[test]
    fn common_labels_and_status() {
        let alert = |inst: &str, end: i64| Alert {
            labels: Labels::new([("alertname", "Down"), ("instance", inst)]),
            annotations: [("summary".to_string(), "down".to_string())].into(),
            starts_at_ms: 1,
            ends_at_ms: end,
            generator_url: String::new(),
            updated_at_ms: 1,
        };
        let n = Notification {
            receiver: "r".into(),
            group_key: "{}:{}".into(),
            group_labels: Labels::default(),
            alerts: vec![alert("a", 0), alert("b", 5)],
            external_url: String::new(),
            now_ms: 10,
        };
        assert_eq!(n.status(), "firing");
        assert_eq!(n.common_labels(), Labels::new([("alertname", "Down")]));
        assert_eq!(n.common_annotations().len(), 1);
    }
}

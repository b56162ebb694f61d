//! Field selectors (`fieldSelector=`), after `k8s.io/apimachinery/pkg/fields` and the
//! API server's per-kind selectable fields: `f=v`, `f==v`, `f!=v` joined by `,`, with
//! `\,`, `\=` and `\\` escapes in values.

use serde_json::Value;

use crate::resources::{FieldSet, ResourceInfo};

/// A parsed and checked field selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    field: String,
    value: String,
    equal: bool,
}

/// Why a field selector was refused; the message is the API server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(String);

fn split_unescaped(input: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in input.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&input[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&input[start..]);
    parts
}

fn unescape(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => return None,
            }
        } else if c == ',' || c == '=' {
            return None;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Finds the first unescaped operator: `(byte offset, operator length, is equality)`.
fn find_operator(term: &str) -> Option<(usize, usize, bool)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'!' if bytes.get(i + 1) == Some(&b'=') => return Some((i, 2, false)),
            b'=' if bytes.get(i + 1) == Some(&b'=') => return Some((i, 2, true)),
            b'=' => return Some((i, 1, true)),
            _ => i += 1,
        }
    }
    None
}

impl FieldSelector {
    /// Parses `fieldSelector` and checks its labels against what `resource` supports.
    pub fn parse(input: &str, resource: &ResourceInfo) -> Result<Self, FieldError> {
        let mut terms = Vec::new();
        if input.is_empty() {
            return Ok(FieldSelector { terms });
        }
        for part in split_unescaped(input, ',') {
            let invalid = || {
                FieldError(format!(
                    "invalid selector: '{input}'; can't understand '{part}'"
                ))
            };
            let (at, len, equal) = find_operator(part).ok_or_else(invalid)?;
            let field = part[..at].trim().to_string();
            let value = unescape(&part[at + len..]).ok_or_else(invalid)?;
            let field = supported(&field, resource)?;
            terms.push(Term {
                field,
                value,
                equal,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether this selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether the object (in its storage form) satisfies every term.
    pub fn matches(&self, object: &Value) -> bool {
        self.terms
            .iter()
            .all(|t| (field_value(object, &t.field) == t.value) == t.equal)
    }
}

/// The label after conversion (`spec.host` is `spec.nodeName`), or the server's refusal.
fn supported(field: &str, resource: &ResourceInfo) -> Result<String, FieldError> {
    let meta = field == "metadata.name" || (field == "metadata.namespace" && resource.namespaced);
    match resource.fields {
        FieldSet::Default => {
            if field == "metadata.name" || field == "metadata.namespace" {
                Ok(field.to_string())
            } else {
                Err(FieldError(format!(
                    "\"{field}\" is not a known field selector: only \"metadata.name\", \
                     \"metadata.namespace\""
                )))
            }
        }
        FieldSet::Registered(fields) => {
            if meta || fields.contains(&field) {
                Ok(if field == "spec.host" {
                    "spec.nodeName".to_string()
                } else {
                    field.to_string()
                })
            } else {
                Err(FieldError(format!("field label not supported: {field}")))
            }
        }
    }
}

/// The selectable value of `field`, as the server's `ToSelectableFields` renders it:
/// absent strings are `""`, absent booleans `false`, absent counts `0`.
fn field_value(object: &Value, field: &str) -> String {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match field {
        "spec.hostNetwork" | "spec.unschedulable" => object
            .pointer(&format!("/{}", field.replace('.', "/")))
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string(),
        "status.replicas" | "status.successful" => object
            .pointer(&format!("/{}", field.replace('.', "/")))
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .to_string(),
        "status.podIPs" => object
            .pointer("/status/podIPs")
            .and_then(Value::as_array)
            .map(|ips| {
                ips.iter()
                    .filter_map(|ip| ip.get("ip").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        // Events: `source` is the component, or the reporting controller when it is empty.
        "source" => {
            let component = text("/source/component");
            if component.is_empty() {
                text("/reportingComponent")
            } else {
                component
            }
        }
        _ => text(&format!("/{}", field.replace('.', "/"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::resolve;
    use serde_json::json;

    #[test]
    fn pods_select_on_node_and_phase() {
        let pods = resolve("pods").expect("pods");
        let pod = json!({"metadata": {"name": "a", "namespace": "shop"},
                         "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let cases = [
            ("spec.nodeName=n1", true),
            ("spec.nodeName==n1", true),
            ("spec.nodeName!=n1", false),
            ("spec.host=n1", true),
            ("spec.nodeName=n1,status.phase=Running", true),
            ("status.phase=Pending", false),
            ("metadata.namespace=shop,metadata.name=a", true),
            ("spec.hostNetwork=false", true),
            ("status.nominatedNodeName=", true),
        ];
        for (selector, want) in cases {
            let s = FieldSelector::parse(selector, pods).expect(selector);
            assert_eq!(s.matches(&pod), want, "{selector}");
        }
    }

    #[test]
    fn events_select_on_involved_object_and_source() {
        let events = resolve("events").expect("events");
        let ev = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "web-1"},
                        "reason": "BackOff", "type": "Warning", "source": {},
                        "reportingComponent": "kubelet"});
        for (selector, want) in [
            ("involvedObject.kind=Pod,involvedObject.name=web-1", true),
            ("reason=BackOff,type!=Normal", true),
            ("source=kubelet", true),
            ("involvedObject.namespace=x", false),
        ] {
            let s = FieldSelector::parse(selector, events).expect(selector);
            assert_eq!(s.matches(&ev), want, "{selector}");
        }
    }

    #[test]
    fn unsupported_fields_get_the_server_message() {
        let pods = resolve("pods").expect("pods");
        let err = FieldSelector::parse("spec.foo=bar", pods).expect_err("unsupported");
        assert_eq!(err.to_string(), "field label not supported: spec.foo");
        let deployments = resolve("deployments").expect("deployments");
        let err = FieldSelector::parse("spec.replicas=1", deployments).expect_err("unsupported");
        assert_eq!(
            err.to_string(),
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        let nodes = resolve("nodes").expect("nodes");
        let err = FieldSelector::parse("metadata.namespace=x", nodes).expect_err("cluster-scoped");
        assert_eq!(
            err.to_string(),
            "field label not supported: metadata.namespace"
        );
        let err = FieldSelector::parse("nonsense", pods).expect_err("no operator");
        assert_eq!(
            err.to_string(),
            "invalid selector: 'nonsense'; can't understand 'nonsense'"
        );
    }

    #[test]
    fn escaped_values() {
        let pods = resolve("pods").expect("pods");
        let pod = json!({"metadata": {"name": "a,b=c"}});
        let s = FieldSelector::parse(r"metadata.name=a\,b\=c", pods).expect("escaped");
        assert!(s.matches(&pod));
    }
}

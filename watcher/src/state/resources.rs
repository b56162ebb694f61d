//! Resource names → the `resource` and `unit` labels of kube-state-metrics'
//! requests, limits, capacity and allocatable series.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

use super::quantity::{self, Quantity};
use super::text::{sample, sanitize};

/// How a resource's quantity becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Pod containers: cpu at milli precision, everything else `Value()`.
    Container,
    /// Nodes: `MilliValue() / 1000` for everything.
    Node,
}

/// The `unit` of a resource, or `None` when kube-state-metrics skips it.
fn unit(name: &str, conversion: Conversion) -> Option<&'static str> {
    match name {
        "cpu" => Some("core"),
        "memory" | "storage" | "ephemeral-storage" => Some("byte"),
        "pods" if conversion == Conversion::Node => Some("integer"),
        n if n.starts_with("hugepages-") || n.starts_with("attachable-volumes-") => Some("byte"),
        n if is_extended(n) => Some("integer"),
        _ => None,
    }
}

/// apimachinery's `IsExtendedResourceName`: a qualified name with a domain that is
/// not `kubernetes.io`, and not a quota `requests.` name.
fn is_extended(name: &str) -> bool {
    let native = !name.contains('/') || name.contains("kubernetes.io/");
    if native || name.starts_with("requests.") {
        return false;
    }
    let Some((prefix, local)) = name.split_once('/') else {
        return false;
    };
    // apimachinery's `IsDNS1123Subdomain`: at most 253 characters in all, no limit per
    // dot-separated part.
    let prefix = format!("requests.{prefix}");
    let dns = prefix.len() <= 253
        && prefix.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        });
    let local_ok = !local.is_empty()
        && local.len() <= 63
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && local.starts_with(|c: char| c.is_ascii_alphanumeric())
        && local.ends_with(|c: char| c.is_ascii_alphanumeric());
    dns && local_ok
}

/// Writes one series per known resource of `list` (sorted by name), with `labels`
/// followed by `resource` and `unit`.
pub fn write_resources(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    list: Option<&BTreeMap<String, Q>>,
    conversion: Conversion,
) {
    let Some(list) = list else { return };
    for (resource, q) in list {
        let Some(unit) = unit(resource, conversion) else {
            continue;
        };
        let Some(parsed) = Quantity::parse(&q.0) else {
            continue;
        };
        let value = match (conversion, resource.as_str()) {
            (Conversion::Node, _) => quantity::milli_units(&parsed),
            (Conversion::Container, "cpu") => quantity::cores(&parsed),
            (Conversion::Container, _) => quantity::units(&parsed),
        };
        let resource = sanitize(resource);
        let mut all: Vec<(&str, &str)> = labels.to_vec();
        all.push(("resource", &resource));
        all.push(("unit", unit));
        sample(out, name, &all, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_as_ksm() {
        let c = Conversion::Container;
        assert_eq!(unit("cpu", c), Some("core"));
        assert_eq!(unit("memory", c), Some("byte"));
        assert_eq!(unit("hugepages-2Mi", c), Some("byte"));
        assert_eq!(unit("nvidia.com/gpu", c), Some("integer"));
        assert_eq!(unit("kubernetes.io/foo", c), None);
        assert_eq!(unit("pods", c), None);
        assert_eq!(unit("pods", Conversion::Node), Some("integer"));
        // A domain part may be longer than 63 characters (only the name part may not).
        let long = format!("{}.example.com/gpu", "a".repeat(70));
        assert_eq!(unit(&long, c), Some("integer"));
        assert_eq!(unit(&format!("example.com/{}", "g".repeat(64)), c), None);
    }
}

//! A Kubernetes Event as argus records it: one record per Event object (by `uid`), updated
//! in place as its `count` rises. The JSON form is the hit of `/api/v1/events/search` and
//! also the body of the watcher → aggregator ingest (`POST /api/v1/events`), so a record
//! looks the same everywhere; times are RFC 3339 with nanoseconds, UTC.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{format_rfc3339_nano, parse_rfc3339};

/// One Kubernetes Event (core/v1 or events.k8s.io/v1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KubeEvent {
    /// When it last happened: the latest of `series.lastObservedTime`, `lastTimestamp`,
    /// `eventTime` and `firstTimestamp` (ns since the epoch).
    #[serde(with = "rfc3339")]
    pub timestamp: i64,
    /// `firstTimestamp` (else `eventTime`), ns; 0 when the Event has neither.
    #[serde(with = "rfc3339")]
    pub first_timestamp: i64,
    /// `lastTimestamp` (else `series.lastObservedTime`), ns; 0 when unknown.
    #[serde(with = "rfc3339")]
    pub last_timestamp: i64,
    /// Occurrences so far (`count`, or `series.count`; at least 1).
    pub count: u64,
    /// Namespace of the involved object (of the Event when the object has none).
    pub namespace: String,
    /// Kind and name of the involved object.
    pub kind: String,
    pub name: String,
    pub reason: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    pub message: String,
    /// Who reported it: `component` (or `reportingController`), with `host` (or
    /// `reportingInstance`) after a comma when set, e.g. `kubelet, node-a`.
    pub source: String,
    /// The Event object's uid: the record's identity.
    pub uid: String,
    /// The Event object's resourceVersion when this state was read.
    pub resource_version: String,
}

mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(ns: &i64, s: S) -> Result<S::Ok, S::Error> {
        if *ns == 0 {
            s.serialize_str("")
        } else {
            s.serialize_str(&format_rfc3339_nano(*ns))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        if s.is_empty() {
            return Ok(0);
        }
        parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {s:?}")))
    }
}

impl KubeEvent {
    /// The value of a query label (`namespace`, `kind`, `name`, `reason`, `type`, `source`).
    pub fn label(&self, name: &str) -> Option<&str> {
        Some(match name {
            "namespace" => &self.namespace,
            "kind" => &self.kind,
            "name" => &self.name,
            "reason" => &self.reason,
            "type" => &self.type_,
            "source" => &self.source,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_with_rfc3339_times() {
        let e = KubeEvent {
            timestamp: 1_614_331_859_000_000_000,
            first_timestamp: 1_614_331_859_000_000_000,
            last_timestamp: 0,
            count: 3,
            namespace: "my-app".into(),
            kind: "Pod".into(),
            name: "my-app-5fc464b465-t4z6r".into(),
            reason: "BackOff".into(),
            type_: "Warning".into(),
            message: "Back-off restarting failed container".into(),
            source: "kubelet, node-a".into(),
            uid: "48226d93-b2c7-4f26-8e7b-f60da9bfb335".into(),
            resource_version: "114058053".into(),
        };
        let j = serde_json::to_value(&e).expect("json");
        assert_eq!(j["timestamp"], "2021-02-26T09:30:59Z");
        assert_eq!(j["last_timestamp"], "");
        assert_eq!(j["type"], "Warning");
        let back: KubeEvent = serde_json::from_value(j).expect("parse");
        assert_eq!(back, e);
        assert!(serde_json::from_str::<KubeEvent>(r#"{"timestamp":"yesterday"}"#).is_err());
        assert_eq!(e.label("type"), Some("Warning"));
    }
}

//! A core/v1 `Event` as the API server serves it → argus' [`KubeEvent`].
//!
//! Every field of an Event is optional in practice: events written through
//! events.k8s.io/v1 and read through core/v1 have no `firstTimestamp`/`lastTimestamp`/
//! `count` and an empty `source`, but an `eventTime`, a `series` and `reporting*` fields;
//! node-problem-detector's have no `type` and no `count`. The conversion never fails:
//! a missing field becomes an empty string or 0, a count below 1 becomes 1.

use argus_core::event::KubeEvent;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

/// Converts an Event; see [`KubeEvent`] for how each field is derived.
pub fn to_kube_event(ev: &Event) -> KubeEvent {
    let series_last = ev
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .and_then(|t| ns(&t.0));
    let last = ev.last_timestamp.as_ref().and_then(|t| ns(&t.0));
    let event_time = ev.event_time.as_ref().and_then(|t| ns(&t.0));
    let first = ev.first_timestamp.as_ref().and_then(|t| ns(&t.0));
    // The doc's rule; when an Event has none of the four (not seen from a real API server,
    // but cheap to guard), its creation time still places it on the time line.
    let timestamp = [series_last, last, event_time, first]
        .into_iter()
        .flatten()
        .max()
        .or_else(|| {
            ev.metadata
                .creation_timestamp
                .as_ref()
                .and_then(|t| ns(&t.0))
        })
        .unwrap_or(0);
    let count = ev
        .count
        .into_iter()
        .chain(ev.series.as_ref().and_then(|s| s.count))
        .filter(|c| *c > 0)
        .max()
        .map_or(1, |c| c as u64);
    let obj = &ev.involved_object;
    let namespace = non_empty(obj.namespace.as_deref())
        .or(non_empty(ev.metadata.namespace.as_deref()))
        .unwrap_or_default();
    KubeEvent {
        timestamp,
        first_timestamp: first.or(event_time).unwrap_or(0),
        last_timestamp: last.or(series_last).unwrap_or(0),
        count,
        namespace: namespace.to_string(),
        kind: obj.kind.clone().unwrap_or_default(),
        name: obj.name.clone().unwrap_or_default(),
        reason: ev.reason.clone().unwrap_or_default(),
        type_: ev.type_.clone().unwrap_or_default(),
        message: ev.message.clone().unwrap_or_default(),
        source: source(ev),
        uid: ev.metadata.uid.clone().unwrap_or_default(),
        resource_version: ev.metadata.resource_version.clone().unwrap_or_default(),
    }
}

/// `component` (else `reportingComponent`), then `host` (else `reportingInstance`) after a
/// comma: `kubelet, node-a`; either part alone when the other is unknown.
fn source(ev: &Event) -> String {
    let src = ev.source.as_ref();
    let component = non_empty(src.and_then(|s| s.component.as_deref()))
        .or(non_empty(ev.reporting_component.as_deref()));
    let host = non_empty(src.and_then(|s| s.host.as_deref()))
        .or(non_empty(ev.reporting_instance.as_deref()));
    match (component, host) {
        (Some(c), Some(h)) => format!("{c}, {h}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => String::new(),
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// Nanoseconds since the epoch; `None` for times at or before the epoch (Go's zero time
/// `0001-01-01T00:00:00Z` means "unset") or past what an `i64` holds.
fn ns(t: &Timestamp) -> Option<i64> {
    i64::try_from(t.as_nanosecond()).ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::time::parse_rfc3339;
    use serde_json::{json, Value};

    fn convert(v: Value) -> KubeEvent {
        let ev: Event = serde_json::from_value(v).expect("an Event");
        to_kube_event(&ev)
    }

    fn t(s: &str) -> i64 {
        parse_rfc3339(s).expect("time")
    }

    /// The Event objects of the shared fixture file: plain objects, the items of an
    /// EventList and the objects of watch frames whose object is an Event.
    fn fixture_events() -> (Vec<Value>, usize) {
        let text = include_str!("../../tests/fixtures/k8s-events.jsonl");
        let mut events = Vec::new();
        let mut others = 0;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let v: Value = serde_json::from_str(line).expect("fixture line is JSON");
            if let Some(items) = v.get("items").and_then(Value::as_array) {
                events.extend(items.iter().cloned());
            } else if let Some(obj) = v.get("object") {
                if obj.get("kind").and_then(Value::as_str) == Some("Event") {
                    events.push(obj.clone());
                } else {
                    others += 1;
                }
            } else {
                events.push(v);
            }
        }
        (events, others)
    }

    #[test]
    fn every_fixture_event_converts() {
        let (events, others) = fixture_events();
        assert_eq!(events.len(), 7, "Event objects in the fixture");
        assert_eq!(others, 2, "the ERROR and BOOKMARK frames");
        let got: Vec<KubeEvent> = events.into_iter().map(convert).collect();
        for e in &got {
            assert!(e.count >= 1 && e.timestamp > 0, "{e:?}");
            assert!(!e.reason.is_empty() && !e.kind.is_empty(), "{e:?}");
        }

        // 1. kubelet BackOff: the plain core/v1 shape.
        let e = &got[0];
        assert_eq!(e.timestamp, t("2021-02-26T09:30:59Z"));
        assert_eq!(e.first_timestamp, e.timestamp);
        assert_eq!(e.last_timestamp, e.timestamp);
        assert_eq!(
            (e.count, e.namespace.as_str(), e.kind.as_str()),
            (1, "my-app", "Pod")
        );
        assert_eq!(e.name, "my-app-5fc464b465-t4z6r");
        assert_eq!(e.type_, "Warning");
        assert_eq!(e.source, "kubelet, xxxxxx.ap-northeast-1.compute.internal");
        assert_eq!(e.uid, "48226d93-b2c7-4f26-8e7b-f60da9bfb335");
        assert_eq!(e.resource_version, "114058053");

        // 2. count 4: the time is the last occurrence, the first stays.
        let e = &got[1];
        assert_eq!(e.count, 4);
        assert_eq!(e.timestamp, t("2022-03-03T04:10:08Z"));
        assert_eq!(e.first_timestamp, t("2022-03-03T04:09:23Z"));

        // 3. Written through events.k8s.io/v1: only eventTime, the reporting* fields.
        let e = &got[2];
        assert_eq!(e.timestamp, t("2023-12-24T13:37:16.335172Z"));
        assert_eq!(e.first_timestamp, e.timestamp);
        assert_eq!(e.last_timestamp, 0);
        assert_eq!(e.count, 1);
        assert_eq!(e.source, "default-scheduler, default-scheduler-minikube");
        assert_eq!(e.reason, "FailedScheduling");

        // 4. The MODIFIED frame's object: count 16.
        let e = &got[3];
        assert_eq!(e.count, 16);
        assert_eq!(e.timestamp, t("2024-07-31T18:47:15Z"));
        assert_eq!(e.source, "kubelet, minikube");

        // 5. node-problem-detector: a Node (no namespace), no count, no type.
        let e = &got[4];
        assert_eq!((e.kind.as_str(), e.reason.as_str()), ("Node", "OOMKilling"));
        assert_eq!(e.namespace, "default", "the Event's own namespace");
        assert_eq!((e.count, e.type_.as_str()), (1, ""));
        assert_eq!(e.source, "kernel-monitor, <node_name>");

        // 7. No metadata at all: empty uid, the rest still converts.
        let e = &got[6];
        assert_eq!((e.uid.as_str(), e.count), ("", 6));
        assert_eq!(e.timestamp, t("2017-02-01T07:18:11Z"));
    }

    #[test]
    fn series_wins_when_it_is_the_latest() {
        let e = convert(json!({
            "metadata": {"uid": "u1", "namespace": "shop", "resourceVersion": "7"},
            "involvedObject": {"kind": "Pod", "name": "web-1"},
            "reason": "BackOff", "type": "Warning",
            "eventTime": "2024-05-01T10:00:00.000001Z",
            "series": {"count": 12, "lastObservedTime": "2024-05-01T10:05:00.5Z"},
            "reportingComponent": "kubelet", "reportingInstance": "node-b"
        }));
        assert_eq!(e.count, 12);
        assert_eq!(e.timestamp, t("2024-05-01T10:05:00.5Z"));
        assert_eq!(e.first_timestamp, t("2024-05-01T10:00:00.000001Z"));
        assert_eq!(e.last_timestamp, e.timestamp);
        assert_eq!(e.namespace, "shop");
        assert_eq!(e.source, "kubelet, node-b");
    }

    #[test]
    fn missing_and_odd_fields_never_fail() {
        let cases = [
            (json!({}), 1, 0, ""),
            (
                json!({"count": -3, "series": {"count": 0}, "source": {"host": "n1"}}),
                1,
                0,
                "n1",
            ),
            (
                json!({"count": 2, "series": {"count": 5}, "source": {"component": "c"}}),
                5,
                0,
                "c",
            ),
            (
                json!({"metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"}}),
                1,
                t("2020-01-01T00:00:00Z"),
                "",
            ),
            (
                json!({"firstTimestamp": "0001-01-01T00:00:00Z", "source": {"component": ""}}),
                1,
                0,
                "",
            ),
        ];
        for (v, count, ts, source) in cases {
            let e = convert(v.clone());
            assert_eq!(
                (e.count, e.timestamp, e.source.as_str()),
                (count, ts, source),
                "{v}"
            );
        }
    }
}

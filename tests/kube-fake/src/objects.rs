//! Objects between the wire and the store: the storage form (core/v1 for events, which
//! both event APIs read, as in etcd), the events.k8s.io/v1 representation of the same
//! objects (`pkg/apis/events/v1/conversion.go`), and the type meta that list items lack.

use serde_json::{Map, Value};

use super::resources::ResourceInfo;

/// Core/v1 Event fields that Go always serializes (struct or no `omitempty`), so that
/// stored events have the shape a real server returns whatever the client sent.
type MakeDefault = fn() -> Value;

const CORE_EVENT_DEFAULTS: &[(&str, MakeDefault)] = &[
    ("involvedObject", || Value::Object(Map::new())),
    ("source", || Value::Object(Map::new())),
    ("firstTimestamp", || Value::Null),
    ("lastTimestamp", || Value::Null),
    ("eventTime", || Value::Null),
    ("reportingComponent", || Value::String(String::new())),
    ("reportingInstance", || Value::String(String::new())),
];

/// Core/v1 field → events.k8s.io/v1 field, for the renamed fields.
const RENAMES: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("source", "deprecatedSource"),
    ("message", "note"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    }
}

/// Turns an object as a client sent it to `resource` into the storage form: type meta
/// set to the storage's, events converted to and shaped as core/v1.
pub fn to_storage(resource: &ResourceInfo, object: Value) -> Value {
    let Value::Object(mut map) = object else {
        return object;
    };
    if resource.is_events_v1() {
        let mut core = Map::new();
        for (key, value) in map {
            let core_key = RENAMES
                .iter()
                .find(|(_, v1)| *v1 == key)
                .map(|(core, _)| (*core).to_string())
                .unwrap_or(key);
            core.insert(core_key, value);
        }
        map = core;
    }
    let (api_version, kind) = if resource.storage == "/events" {
        ("v1".to_string(), "Event")
    } else {
        (resource.api_version(), resource.kind)
    };
    map.insert("apiVersion".into(), Value::String(api_version));
    map.insert("kind".into(), Value::String(kind.into()));
    if resource.storage == "/events" {
        for (field, default) in CORE_EVENT_DEFAULTS {
            map.entry(*field).or_insert_with(default);
        }
    }
    Value::Object(map)
}

/// The stored object as `resource` serves it. `type_meta`: whether to keep `kind` and
/// `apiVersion` (single objects and watch frames have them, typed list items do not).
pub fn render(resource: &ResourceInfo, stored: &Value, type_meta: bool) -> Value {
    let Value::Object(map) = stored else {
        return stored.clone();
    };
    let mut out = Map::new();
    if resource.is_events_v1() {
        for (key, value) in map {
            match RENAMES.iter().find(|(core, _)| core == key) {
                // Go's omitempty: the v1 names of these are dropped when zero, except the
                // struct- and time-valued ones, which it always writes.
                Some((_, v1))
                    if is_zero(value)
                        && !matches!(
                            *v1,
                            "regarding"
                                | "deprecatedSource"
                                | "deprecatedFirstTimestamp"
                                | "deprecatedLastTimestamp"
                        ) => {}
                Some((_, v1)) => {
                    out.insert((*v1).to_string(), value.clone());
                }
                None if key == "reportingInstance" && is_zero(value) => {}
                None => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        out.insert("apiVersion".into(), Value::String(resource.api_version()));
        out.entry("eventTime").or_insert(Value::Null);
    } else {
        out = map.clone();
    }
    if type_meta {
        out.insert("apiVersion".into(), Value::String(resource.api_version()));
        out.insert("kind".into(), Value::String(resource.kind.into()));
    } else {
        out.remove("apiVersion");
        out.remove("kind");
    }
    Value::Object(out)
}

/// RFC 7386 JSON merge patch (also used, approximately, for strategic merge patches:
/// lists are replaced rather than merged by their patch keys).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::by_path;
    use serde_json::json;

    #[test]
    fn events_round_trip_between_the_two_apis() {
        let core = by_path("", "v1", "events").expect("core events");
        let v1 = by_path("events.k8s.io", "v1", "events").expect("events.k8s.io");
        let written = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "shop"},
            "eventTime": "2024-05-01T10:00:00.000000Z",
            "reportingController": "kubelet", "reportingInstance": "n1",
            "action": "Pulling", "reason": "Pulled", "type": "Normal",
            "regarding": {"kind": "Pod", "name": "web"}, "note": "pulled"
        });
        let stored = to_storage(v1, written.clone());
        assert_eq!(stored["involvedObject"]["name"], "web");
        assert_eq!(stored["message"], "pulled");
        assert_eq!(stored["reportingComponent"], "kubelet");
        assert_eq!(stored["source"], json!({}));
        assert_eq!(stored["firstTimestamp"], Value::Null);
        let as_core = render(core, &stored, true);
        assert_eq!(as_core["apiVersion"], "v1");
        assert_eq!(as_core["message"], "pulled");
        let back = render(v1, &stored, true);
        let mut want = written;
        merge_patch(
            &mut want,
            &json!({"deprecatedSource": {}, "deprecatedFirstTimestamp": null}),
        );
        if let Value::Object(m) = &mut want {
            m.insert("deprecatedFirstTimestamp".into(), Value::Null);
            m.insert("deprecatedLastTimestamp".into(), Value::Null);
        }
        assert_eq!(back, want);
        let item = render(core, &stored, false);
        assert!(item.get("kind").is_none() && item.get("apiVersion").is_none());
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut target, &json!({"l": [1, 2]}));
        assert_eq!(target["l"], json!([1, 2]));
    }
}

//! The body of `POST /api/v1/events` (the watcher's ingest): `{"events":[…]}` where each
//! element is a [`KubeEvent`] in its JSON form (the same as an event search hit). A batch
//! is taken whole or not at all: the first bad element is a [`DecodeError`] naming its
//! index and field (`events[2].timestamp: invalid RFC 3339 time "yesterday"`).
//!
//! Rules: `uid` and `timestamp` are required; `count` 0 (or absent) means 1; other fields
//! default to empty; unknown fields are ignored (so newer watchers can add some); the
//! identifying fields are at most [`MAX_FIELD_BYTES`] long.

use argus_core::event::KubeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::DecodeError;

/// Longest `uid`, `namespace`, `kind`, `name`, `reason`, `type`, `source` or
/// `resource_version` accepted (Kubernetes names are at most 253 bytes).
pub const MAX_FIELD_BYTES: usize = 1024;

#[derive(Deserialize)]
struct Body {
    events: Vec<Value>,
}

/// Decodes and checks a batch.
pub fn decode(body: &[u8]) -> Result<Vec<KubeEvent>, DecodeError> {
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| DecodeError(format!("invalid body (want {{\"events\":[…]}}): {e}")))?;
    body.events
        .into_iter()
        .enumerate()
        .map(|(i, v)| event(i, v))
        .collect()
}

fn event(i: usize, v: Value) -> Result<KubeEvent, DecodeError> {
    let err = |field: &str, msg: &str| DecodeError(format!("events[{i}]{field}: {msg}"));
    let Value::Object(obj) = v else {
        return Err(err("", "want an object"));
    };
    let mut e = match KubeEvent::deserialize(Value::Object(obj.clone())) {
        Ok(e) => e,
        Err(whole) => {
            // Find the field to name: the first that does not deserialize on its own.
            for (k, fv) in obj {
                let one = Value::Object([(k.clone(), fv)].into_iter().collect());
                if let Err(e) = KubeEvent::deserialize(one) {
                    return Err(err(&format!(".{k}"), &e.to_string()));
                }
            }
            return Err(err("", &whole.to_string()));
        }
    };
    if e.uid.is_empty() {
        return Err(err(".uid", "required"));
    }
    if e.timestamp == 0 {
        return Err(err(".timestamp", "required"));
    }
    let fields = [
        ("uid", &e.uid),
        ("namespace", &e.namespace),
        ("kind", &e.kind),
        ("name", &e.name),
        ("reason", &e.reason),
        ("type", &e.type_),
        ("source", &e.source),
        ("resource_version", &e.resource_version),
    ];
    for (name, value) in fields {
        if value.len() > MAX_FIELD_BYTES {
            return Err(err(
                &format!(".{name}"),
                &format!("longer than {MAX_FIELD_BYTES} bytes"),
            ));
        }
    }
    e.count = e.count.max(1);
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_a_batch() {
        let body = br#"{"events":[
            {"timestamp":"2021-02-26T09:30:59Z","first_timestamp":"2021-02-26T09:30:59Z",
             "last_timestamp":"","count":3,"namespace":"my-app","kind":"Pod","name":"p",
             "reason":"BackOff","type":"Warning","message":"Back-off","source":"kubelet, n",
             "uid":"u1","resource_version":"7","future_field":true},
            {"timestamp":"2021-02-26T09:31:00Z","uid":"u2"}]}"#;
        let evs = decode(body).expect("decode");
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].count, 3);
        assert_eq!(evs[0].type_, "Warning");
        assert_eq!(evs[0].last_timestamp, 0);
        assert_eq!(evs[1].count, 1);
        assert_eq!(decode(br#"{"events":[]}"#).expect("empty"), vec![]);
    }

    #[test]
    fn errors_name_the_index_and_field() {
        let ok = r#"{"timestamp":"2021-02-26T09:30:59Z","uid":"u"}"#;
        // (body, expected substring of the error)
        let cases = [
            ("", "invalid body"),
            ("[]", "invalid body"),
            (r#"{"event":[]}"#, "missing field `events`"),
            (r#"{"events":{}}"#, "invalid body"),
            (r#"{"events":[1]}"#, "events[0]: want an object"),
            (
                &format!(r#"{{"events":[{ok},{{"timestamp":"yesterday","uid":"u"}}]}}"#),
                "events[1].timestamp: invalid RFC 3339 time \"yesterday\"",
            ),
            (
                &format!(
                    r#"{{"events":[{ok},{ok},{{"timestamp":"2021-02-26T09:30:59Z","uid":"u","count":"3"}}]}}"#
                ),
                "events[2].count: invalid type",
            ),
            (
                r#"{"events":[{"timestamp":"2021-02-26T09:30:59Z","count":-1,"uid":"u"}]}"#,
                "events[0].count: invalid value",
            ),
            (
                r#"{"events":[{"timestamp":"2021-02-26T09:30:59Z"}]}"#,
                "events[0].uid: required",
            ),
            (
                r#"{"events":[{"uid":"u"}]}"#,
                "events[0].timestamp: required",
            ),
            (
                &format!(
                    r#"{{"events":[{{"timestamp":"2021-02-26T09:30:59Z","uid":"u","name":"{}"}}]}}"#,
                    "n".repeat(MAX_FIELD_BYTES + 1)
                ),
                "events[0].name: longer than 1024 bytes",
            ),
        ];
        for (body, want) in cases {
            let e = decode(body.as_bytes()).expect_err(body);
            assert!(e.0.contains(want), "{body}: {}", e.0);
        }
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&body);
        }

        #[test]
        fn json_shaped_garbage_never_panics(s in r#"\{"events":\[\{[ -~]{0,80}\}\]\}"#) {
            let _ = decode(s.as_bytes());
        }
    }
}

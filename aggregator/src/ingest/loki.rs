//! Loki's push API (`POST /loki/api/v1/push`): the JSON body
//! `{"streams":[{"stream":{labels},"values":[["<unix ns>","<line>", {metadata}?]]}]}` and the
//! snappy-compressed `logproto.PushRequest` protobuf that Promtail, Alloy and the Loki
//! clients send.

use argus_core::query::MatchOp;
use argus_core::LogRecord;
use prost::Message;
use serde::Deserialize;
use std::collections::BTreeMap;

use super::{set_field, DecodeError};

#[derive(Deserialize)]
struct JsonPush {
    streams: Vec<JsonStream>,
}

#[derive(Deserialize)]
struct JsonStream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    values: Vec<Vec<serde_json::Value>>,
}

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`.
#[derive(Clone, PartialEq, Message)]
pub struct StreamAdapter {
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPair>,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, Message)]
pub struct LabelPair {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The record every entry of a stream starts from.
fn stream_base(labels: &BTreeMap<String, String>) -> LogRecord {
    let mut r = LogRecord::default();
    let mut rest = BTreeMap::new();
    for (k, v) in labels {
        if let Some(v) = set_field(&mut r, k, v.clone()) {
            rest.insert(k.clone(), v);
        }
    }
    r.labels = rest.into();
    r
}

fn record(base: &LogRecord, ts: i64, line: String, meta: Vec<(String, String)>) -> LogRecord {
    let mut r = base.clone();
    r.timestamp_ns = ts;
    r.message = line;
    for (k, v) in meta {
        if let Some(v) = set_field(&mut r, &k, v) {
            std::sync::Arc::make_mut(&mut r.labels).insert(k, v);
        }
    }
    if r.level == argus_core::Level::Unknown {
        r.level = argus_core::level::detect(&r.message);
    }
    r
}

/// Decodes the JSON body.
pub fn decode_json(body: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let push: JsonPush = serde_json::from_slice(body)
        .map_err(|e| DecodeError(format!("invalid Loki push JSON body: {e}")))?;
    let mut out = Vec::new();
    for (si, s) in push.streams.into_iter().enumerate() {
        let base = stream_base(&s.stream);
        for (vi, v) in s.values.into_iter().enumerate() {
            let at = || format!("streams[{si}].values[{vi}]");
            let ts = v
                .first()
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(|| {
                    DecodeError(format!(
                        "{}: timestamp must be a string of unix nanoseconds",
                        at()
                    ))
                })?;
            let line = v
                .get(1)
                .and_then(|l| l.as_str())
                .ok_or_else(|| DecodeError(format!("{}: line must be a string", at())))?
                .to_string();
            let meta = match v.get(2) {
                Some(serde_json::Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            out.push(record(&base, ts, line, meta));
        }
    }
    Ok(out)
}

/// Decodes the snappy-compressed protobuf body.
pub fn decode_protobuf(body: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError(format!("invalid snappy block in Loki push body: {e}")))?;
    let req = PushRequest::decode(raw.as_slice())
        .map_err(|e| DecodeError(format!("invalid Loki push protobuf: {e}")))?;
    let mut out = Vec::new();
    for (si, s) in req.streams.into_iter().enumerate() {
        let labels = parse_labels(&s.labels)
            .map_err(|e| DecodeError(format!("streams[{si}].labels {:?}: {e}", s.labels)))?;
        let base = stream_base(&labels);
        for e in s.entries {
            let ts = e
                .timestamp
                .map(|t| {
                    t.seconds
                        .saturating_mul(1_000_000_000)
                        .saturating_add(t.nanos as i64)
                })
                .unwrap_or_else(argus_core::time::now_ns);
            let meta = e
                .structured_metadata
                .into_iter()
                .map(|p| (p.name, p.value))
                .collect();
            out.push(record(&base, ts, e.line, meta));
        }
    }
    Ok(out)
}

/// Parses a Prometheus label set `{a="b", c="d"}`.
fn parse_labels(s: &str) -> Result<BTreeMap<String, String>, String> {
    let q = argus_core::query::parse(s).map_err(|e| e.to_string())?;
    if !q.filters.is_empty() || !q.free.is_empty() {
        return Err("not a label set".into());
    }
    let mut out = BTreeMap::new();
    for m in q.matchers {
        if m.op != MatchOp::Eq {
            return Err(format!("label {} must use =", m.name));
        }
        out.insert(m.name, m.value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_json_push() {
        let body = br#"{"streams":[{"stream":{"namespace":"demo","app":"web","level":"error"},
            "values":[["1700000000000000001","boom"],["1700000000000000002","meta",{"trace_id":"abc"}]]}]}"#;
        let recs = decode_json(body).expect("valid push");
        assert_eq!(recs.len(), 2);
        assert_eq!(&*recs[0].namespace, "demo");
        assert_eq!(recs[0].labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(recs[0].level, argus_core::Level::Error);
        assert_eq!(
            recs[1].labels.get("trace_id").map(String::as_str),
            Some("abc")
        );
        let e =
            decode_json(br#"{"streams":[{"stream":{},"values":[[1,"x"]]}]}"#).expect_err("bad ts");
        assert!(e.0.contains("streams[0].values[0]"), "{e}");
    }

    #[test]
    fn decodes_snappy_protobuf_push() {
        let req = PushRequest {
            streams: vec![StreamAdapter {
                labels: r#"{namespace="shop", pod="cart-1"}"#.into(),
                entries: vec![EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1_700_000_000,
                        nanos: 5,
                    }),
                    line: "hello".into(),
                    structured_metadata: vec![],
                }],
                hash: 0,
            }],
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .expect("compress");
        let recs = decode_protobuf(&body).expect("valid push");
        assert_eq!(&*recs[0].pod, "cart-1");
        assert_eq!(recs[0].timestamp_ns, 1_700_000_000_000_000_005);
        assert!(decode_protobuf(b"not snappy").is_err());
    }
}

//! OTLP logs protobuf decoded straight from the wire into records: no intermediate message
//! structs, strings borrowed from the body until they become a record's fields. Field
//! numbers are those of opentelemetry-proto's `logs/v1`, `common/v1` and `resource/v1`;
//! unknown fields are skipped, fields may come in any order, and every length is checked.

use argus_core::LogRecord;

use super::otlp::{apply, finish};
use super::DecodeError;

enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32,
    Len(&'a [u8]),
}

struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

fn bad(what: &str, at: usize) -> DecodeError {
    DecodeError(format!("invalid OTLP protobuf body: {what} at byte {at}"))
}

impl<'a> Fields<'a> {
    fn new(b: &'a [u8]) -> Fields<'a> {
        Fields { b, at: 0 }
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        argus_core::varint::read(self.b, &mut self.at)
            .ok_or_else(|| bad("truncated or over-long varint", self.at))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let Some(end) = end else {
            return Err(bad("length past the end", self.at));
        };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// The next field, or `None` at the end.
    fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>, DecodeError> {
        if self.at >= self.b.len() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let wire = match tag & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                let s = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                Wire::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| bad("length too large", self.at))?;
                Wire::Len(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            _ => return Err(bad("unsupported wire type", self.at)),
        };
        Ok(Some((tag >> 3, wire)))
    }
}

fn utf8(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// An `AnyValue`, borrowed.
enum Any<'a> {
    None,
    Str(&'a [u8]),
    Bool(bool),
    Int(i64),
    Double(f64),
    Array(&'a [u8]),
    Kvlist(&'a [u8]),
    Bytes(&'a [u8]),
}

fn any(b: &[u8]) -> Result<Any<'_>, DecodeError> {
    let mut f = Fields::new(b);
    let mut v = Any::None;
    while let Some((n, w)) = f.next_field()? {
        v = match (n, w) {
            (1, Wire::Len(s)) => Any::Str(s),
            (2, Wire::Varint(x)) => Any::Bool(x != 0),
            (3, Wire::Varint(x)) => Any::Int(x as i64),
            (4, Wire::Fixed64(x)) => Any::Double(f64::from_bits(x)),
            (5, Wire::Len(s)) => Any::Array(s),
            (6, Wire::Len(s)) => Any::Kvlist(s),
            (7, Wire::Len(s)) => Any::Bytes(s),
            _ => v,
        };
    }
    Ok(v)
}

/// The same text the struct decoder gives (`value_string` there).
fn any_text(v: &Any<'_>, depth: u32) -> Result<String, DecodeError> {
    if depth > 32 {
        return Err(bad("values nested too deep", 0));
    }
    Ok(match v {
        Any::None => String::new(),
        Any::Str(s) | Any::Bytes(s) => utf8(s),
        Any::Bool(b) => b.to_string(),
        Any::Int(i) => i.to_string(),
        Any::Double(d) => d.to_string(),
        Any::Array(b) => {
            let mut items = Vec::new();
            let mut f = Fields::new(b);
            while let Some((n, w)) = f.next_field()? {
                if let (1, Wire::Len(s)) = (n, w) {
                    items.push(any_text(&any(s)?, depth + 1)?);
                }
            }
            format!("[{}]", items.join(","))
        }
        Any::Kvlist(b) => {
            let mut items = Vec::new();
            let mut f = Fields::new(b);
            while let Some((n, w)) = f.next_field()? {
                if let (1, Wire::Len(s)) = (n, w) {
                    let (k, v) = key_value(s)?;
                    items.push(format!("{}={}", utf8(k), any_text(&v, depth + 1)?));
                }
            }
            format!("{{{}}}", items.join(","))
        }
    })
}

fn key_value(b: &[u8]) -> Result<(&[u8], Any<'_>), DecodeError> {
    let mut f = Fields::new(b);
    let (mut key, mut value) = (&b[..0], Any::None);
    while let Some((n, w)) = f.next_field()? {
        match (n, w) {
            (1, Wire::Len(s)) => key = s,
            (2, Wire::Len(s)) => value = any(s)?,
            _ => {}
        }
    }
    Ok((key, value))
}

fn apply_kv(
    r: &mut LogRecord,
    b: &[u8],
    fp: &mut Option<i64>,
    off: &mut Option<i64>,
) -> Result<(), DecodeError> {
    let (key, value) = key_value(b)?;
    let key = utf8(key);
    let int = || match &value {
        Any::Int(i) => Some(*i),
        Any::Str(s) => std::str::from_utf8(s).ok()?.parse().ok(),
        _ => None,
    };
    let text = any_text(&value, 0)?;
    apply(r, &key, int, || text, fp, off);
    Ok(())
}

/// Decodes an `ExportLogsServiceRequest`.
pub fn decode(body: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let now = argus_core::time::now_ns();
    let mut out = Vec::new();
    let mut top = Fields::new(body);
    while let Some((n, w)) = top.next_field()? {
        let (1, Wire::Len(rl)) = (n, w) else { continue };
        let mut resource = None;
        let mut scopes = Vec::new();
        let mut f = Fields::new(rl);
        while let Some((n, w)) = f.next_field()? {
            match (n, w) {
                (1, Wire::Len(s)) => resource = Some(s),
                (2, Wire::Len(s)) => scopes.push(s),
                _ => {}
            }
        }
        let mut base = LogRecord::default();
        let (mut fp, mut off) = (None, None);
        if let Some(res) = resource {
            let mut f = Fields::new(res);
            while let Some((n, w)) = f.next_field()? {
                if let (1, Wire::Len(kv)) = (n, w) {
                    apply_kv(&mut base, kv, &mut fp, &mut off)?;
                }
            }
        }
        for sl in scopes {
            let mut f = Fields::new(sl);
            while let Some((n, w)) = f.next_field()? {
                if let (2, Wire::Len(lr)) = (n, w) {
                    out.push(record(&base, lr, (fp, off), now)?);
                }
            }
        }
    }
    Ok(out)
}

fn record(
    base: &LogRecord,
    lr: &[u8],
    (fp, off): (Option<i64>, Option<i64>),
    now: i64,
) -> Result<LogRecord, DecodeError> {
    let mut r = base.clone();
    let (mut fp, mut off) = (fp, off);
    let (mut time, mut observed, mut sev, mut sev_text, mut body) =
        (0u64, 0u64, 0i32, String::new(), None);
    let mut f = Fields::new(lr);
    while let Some((n, w)) = f.next_field()? {
        match (n, w) {
            (1, Wire::Fixed64(t)) => time = t,
            (11, Wire::Fixed64(t)) => observed = t,
            (2, Wire::Varint(s)) => sev = s as i32,
            (3, Wire::Len(s)) => sev_text = utf8(s),
            (5, Wire::Len(s)) => body = Some(s),
            (6, Wire::Len(kv)) => apply_kv(&mut r, kv, &mut fp, &mut off)?,
            _ => {}
        }
    }
    r.message = match body {
        Some(b) => any_text(&any(b)?, 0)?,
        None => String::new(),
    };
    finish(&mut r, (time, observed, now), sev, &sev_text, (fp, off));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::otlp::decode_protobuf_structs;
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord as PbRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message;

    fn kv(k: &str, v: Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    fn s(x: &str) -> Value {
        Value::StringValue(x.into())
    }

    fn request() -> ExportLogsServiceRequest {
        let nested = Value::KvlistValue(KeyValueList {
            values: vec![
                kv("a", Value::IntValue(-3)),
                kv(
                    "b",
                    Value::ArrayValue(ArrayValue {
                        values: vec![
                            AnyValue {
                                value: Some(Value::BoolValue(true)),
                            },
                            AnyValue {
                                value: Some(Value::DoubleValue(1.5)),
                            },
                            AnyValue {
                                value: Some(s("x")),
                            },
                        ],
                    }),
                ),
            ],
        });
        let rec = |t: u64, body: Value, sev: i32, attrs: Vec<KeyValue>| PbRecord {
            time_unix_nano: t,
            observed_time_unix_nano: 7,
            severity_number: sev,
            severity_text: if sev == 13 {
                "WARNING".into()
            } else {
                String::new()
            },
            body: Some(AnyValue { value: Some(body) }),
            attributes: attrs,
            trace_id: vec![1; 16],
            flags: 1,
            ..Default::default()
        };
        ExportLogsServiceRequest {
            resource_logs: vec![
                ResourceLogs {
                    resource: Some(Resource {
                        attributes: vec![
                            kv("k8s.namespace.name", s("shop")),
                            kv("k8s.pod.name", s("cart-1")),
                            kv("k8s.pod.label.app", s("cart")),
                            kv("k8s.container.restart_count", Value::IntValue(4)),
                            kv("service.name", s("cart-svc")),
                            kv("argus.log.file.fingerprint", Value::IntValue(-42)),
                            kv("deploy.env", nested.clone()),
                        ],
                        ..Default::default()
                    }),
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![
                            rec(
                                1_700_000_000_000_000_000,
                                s("ERROR boom"),
                                0,
                                vec![
                                    kv("argus.log.offset", Value::IntValue(100)),
                                    kv("log.iostream", s("stderr")),
                                ],
                            ),
                            rec(
                                0,
                                nested,
                                13,
                                vec![
                                    kv("http.route", s("/x")),
                                    kv("bytes", Value::BytesValue(b"raw".to_vec())),
                                ],
                            ),
                            rec(5, Value::IntValue(9), 17, vec![]),
                        ],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                ResourceLogs::default(),
            ],
        }
    }

    #[test]
    fn wire_decoder_matches_the_struct_decoder() {
        let body = request().encode_to_vec();
        let got = decode(&body).expect("valid body");
        let want = decode_protobuf_structs(&body).expect("valid body");
        assert_eq!(got.len(), 3);
        assert_eq!(got, want);
    }

    #[test]
    fn fields_in_any_order_and_unknown_fields() {
        // ResourceLogs with scope_logs (2) before resource (1) and an unknown field 9.
        let req = request();
        let rl = &req.resource_logs[0];
        let mut inner = Vec::new();
        for sl in &rl.scope_logs {
            prost::encoding::message::encode(2, sl, &mut inner);
        }
        prost::encoding::string::encode(9, &"unknown".to_string(), &mut inner);
        if let Some(r) = &rl.resource {
            prost::encoding::message::encode(1, r, &mut inner);
        }
        let mut body = Vec::new();
        prost::encoding::bytes::encode(1, &inner, &mut body);
        let got = decode(&body).expect("valid body");
        let want = decode_protobuf_structs(&request().encode_to_vec()).expect("valid body");
        assert_eq!(got, want);
    }

    #[test]
    fn truncated_bodies_are_errors_naming_the_place() {
        let body = request().encode_to_vec();
        for cut in [1, 5, body.len() / 2, body.len() - 1] {
            let e = decode(&body[..cut]).expect_err("truncated");
            assert!(
                e.0.contains("invalid OTLP protobuf body") && e.0.contains("byte"),
                "{e}"
            );
        }
    }
}

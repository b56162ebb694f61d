//! OTLP/HTTP logs (`ExportLogsServiceRequest`), protobuf or JSON. Resource attributes
//! `k8s.*` and `log.iostream` fill the record's fields, `k8s.pod.label.<name>` become pod
//! labels, other resource attributes become labels with `.` replaced by `_` (as Loki
//! does); argus collectors add the idempotency key `argus.log.file.fingerprint` +
//! `argus.log.offset`.

use argus_core::{Level, LogRecord, SourcePos};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

use super::{label_name, set_field, DecodeError};

/// Decodes a protobuf body (straight from the wire, see [`super::otlp_wire`]).
pub fn decode_protobuf(body: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    super::otlp_wire::decode(body)
}

/// Decodes a protobuf body through the generated structs: the reference the wire decoder
/// is tested against.
#[cfg(test)]
pub fn decode_protobuf_structs(body: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    use prost::Message;
    let req = ExportLogsServiceRequest::decode(body)
        .map_err(|e| DecodeError(format!("invalid OTLP protobuf body: {e}")))?;
    Ok(convert(req))
}

/// Decodes a JSON body (the OTLP/JSON encoding).
pub fn decode_json(body: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let req: ExportLogsServiceRequest = serde_json::from_slice(body)
        .map_err(|e| DecodeError(format!("invalid OTLP JSON body: {e}")))?;
    Ok(convert(req))
}

fn value_string(v: &AnyValue) -> String {
    match &v.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(value_string).collect();
            format!("[{}]", items.join(","))
        }
        Some(Value::KvlistValue(kv)) => {
            let items: Vec<String> = kv
                .values
                .iter()
                .map(|kv| {
                    format!(
                        "{}={}",
                        kv.key,
                        kv.value.as_ref().map(value_string).unwrap_or_default()
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        _ => String::new(),
    }
}

fn int_of(v: &Option<AnyValue>) -> Option<i64> {
    match v.as_ref()?.value.as_ref()? {
        Value::IntValue(i) => Some(*i),
        Value::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}

fn apply_attr(r: &mut LogRecord, kv: &KeyValue, fp: &mut Option<i64>, off: &mut Option<i64>) {
    apply(
        r,
        &kv.key,
        || int_of(&kv.value),
        || kv.value.as_ref().map(value_string).unwrap_or_default(),
        fp,
        off,
    )
}

/// Applies one attribute to a record: the idempotency key, the restart count, the fields
/// `set_field` knows, and labels for the rest.
pub(super) fn apply(
    r: &mut LogRecord,
    key: &str,
    int: impl FnOnce() -> Option<i64>,
    text: impl FnOnce() -> String,
    fp: &mut Option<i64>,
    off: &mut Option<i64>,
) {
    match key {
        "argus.log.file.fingerprint" => *fp = int(),
        "argus.log.offset" => *off = int(),
        "k8s.container.restart_count" => {
            r.restart_count = int().unwrap_or(0).clamp(0, u32::MAX as i64) as u32
        }
        key => {
            let v = text();
            if let Some(v) = set_field(r, key, v) {
                let name = match key.strip_prefix("k8s.pod.label.") {
                    // As Prometheus' `__meta_kubernetes_pod_label_<name>`: `app` stays,
                    // `app.kubernetes.io/name` becomes `app_kubernetes_io_name`.
                    Some(l) => label_name(l),
                    None => label_name(key),
                };
                std::sync::Arc::make_mut(&mut r.labels).insert(name, v);
            }
        }
    }
}

fn level_of_severity(number: i32, text: &str) -> Level {
    let l = Level::parse(text);
    if l != Level::Unknown {
        return l;
    }
    match number {
        1..=4 => Level::Trace,
        5..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17..=20 => Level::Error,
        21..=24 => Level::Fatal,
        _ => Level::Unknown,
    }
}

/// Completes a record once its attributes and message are set: time (the record's, else
/// the observed time, else now), level (severity, else a resource level, else detected from
/// the message) and the idempotency key.
pub(super) fn finish(
    r: &mut LogRecord,
    (time, observed, now): (u64, u64, i64),
    severity_number: i32,
    severity_text: &str,
    (fp, off): (Option<i64>, Option<i64>),
) {
    r.timestamp_ns = match (time, observed) {
        (0, 0) => now,
        (0, o) => o as i64,
        (t, _) => t as i64,
    };
    let sev = level_of_severity(severity_number, severity_text);
    if sev != Level::Unknown {
        r.level = sev;
    } else if r.level == Level::Unknown {
        r.level = argus_core::level::detect(&r.message);
    }
    if let (Some(fp), Some(off)) = (fp, off) {
        r.source = Some(SourcePos {
            fingerprint: fp as u64,
            offset: off as u64,
        });
    }
}

fn convert(req: ExportLogsServiceRequest) -> Vec<LogRecord> {
    let now = argus_core::time::now_ns();
    let mut out = Vec::new();
    for rl in req.resource_logs {
        let mut base = LogRecord::default();
        let (mut fp, mut off) = (None, None);
        if let Some(res) = &rl.resource {
            for kv in &res.attributes {
                apply_attr(&mut base, kv, &mut fp, &mut off);
            }
        }
        for sl in rl.scope_logs {
            for lr in sl.log_records {
                let mut r = base.clone();
                let (mut fp, mut off) = (fp, off);
                for kv in &lr.attributes {
                    apply_attr(&mut r, kv, &mut fp, &mut off);
                }
                r.message = lr.body.as_ref().map(value_string).unwrap_or_default();
                finish(
                    &mut r,
                    (lr.time_unix_nano, lr.observed_time_unix_nano, now),
                    lr.severity_number,
                    &lr.severity_text,
                    (fp, off),
                );
                out.push(r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_label_attributes_become_query_labels() {
        let body = br#"{"resourceLogs":[{"resource":{"attributes":[
            {"key":"k8s.pod.label.app","value":{"stringValue":"cart"}},
            {"key":"k8s.pod.label.app.kubernetes.io/name","value":{"stringValue":"cart-api"}},
            {"key":"k8s.pod.label.pod-template-hash","value":{"stringValue":"7d9c"}}]},
          "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000",
            "body":{"stringValue":"ok"}}]}]}]}"#;
        let recs = decode_json(body).expect("valid OTLP JSON");
        let r = &recs[0];
        assert_eq!(r.label("app"), Some("cart"));
        assert_eq!(r.label("app_kubernetes_io_name"), Some("cart-api"));
        assert_eq!(r.label("pod_template_hash"), Some("7d9c"));
    }

    #[test]
    fn decodes_otlp_json_with_k8s_attributes() {
        let body = br#"{"resourceLogs":[{"resource":{"attributes":[
            {"key":"k8s.namespace.name","value":{"stringValue":"shop"}},
            {"key":"k8s.pod.name","value":{"stringValue":"cart-1"}},
            {"key":"k8s.pod.label.app","value":{"stringValue":"cart"}},
            {"key":"service.name","value":{"stringValue":"cart-svc"}}]},
          "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":17,
            "body":{"stringValue":"payment declined"},
            "attributes":[{"key":"log.iostream","value":{"stringValue":"stderr"}}]}]}]}]}"#;
        let recs = decode_json(body).expect("valid OTLP JSON");
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!((&*r.namespace, &*r.pod), ("shop", "cart-1"));
        assert_eq!(r.labels.get("app").map(String::as_str), Some("cart"));
        assert_eq!(
            r.labels.get("service_name").map(String::as_str),
            Some("cart-svc")
        );
        assert_eq!(r.timestamp_ns, 1_700_000_000_000_000_000);
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.stream, argus_core::Stream::Stderr);
        assert_eq!(r.message, "payment declined");
    }

    #[test]
    fn rejects_garbage_with_a_message() {
        let e = decode_protobuf(b"\xff\xff\xff").expect_err("garbage");
        assert!(e.0.contains("OTLP protobuf"), "{e}");
        let e = decode_json(b"{\"resourceLogs\": 5}").expect_err("garbage");
        assert!(e.0.contains("OTLP JSON"), "{e}");
    }
}

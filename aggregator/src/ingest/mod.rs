//! Decoding of the ingest protocols into [`LogRecord`]s: OTLP/HTTP logs ([`otlp`],
//! protobuf and JSON) and Loki's push API ([`loki`], JSON and snappy-compressed protobuf);
//! and of the watcher's event batches ([`events`]) into Kubernetes events.
//!
//! [`LogRecord`]: argus_core::LogRecord

pub mod events;
pub mod loki;
pub mod otlp;
mod otlp_wire;

/// A body that cannot be decoded; the message says what and where.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// Maps well-known label names of other clients onto argus' fields.
pub(crate) fn set_field(r: &mut argus_core::LogRecord, key: &str, value: String) -> Option<String> {
    match key {
        "namespace" | "k8s.namespace.name" | "k8s_namespace_name" => r.namespace = value.into(),
        "pod" | "k8s.pod.name" | "k8s_pod_name" => r.pod = value.into(),
        "container" | "k8s.container.name" | "k8s_container_name" => r.container = value.into(),
        "node" | "k8s.node.name" | "k8s_node_name" => r.node = value.into(),
        "k8s.pod.uid" | "k8s_pod_uid" => r.pod_uid = value.into(),
        "stream" | "log.iostream" => {
            r.stream = argus_core::Stream::parse(&value).unwrap_or_default();
        }
        "level" | "detected_level" | "severity" => r.level = argus_core::Level::parse(&value),
        "log.file.path" | "filename" => r.file_path = value.into(),
        _ => return Some(value),
    }
    None
}

/// Loki's and Prometheus' label name rules: `[a-zA-Z_][a-zA-Z0-9_]*`; OTLP attribute names
/// get their other characters replaced by `_`, as Loki does.
pub(crate) fn label_name(key: &str) -> String {
    let mut s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Outside input never panics a decoder: garbage is an error (or, for protobuf,
        /// possibly a valid message), never a crash.
        #[test]
        fn decoders_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = super::otlp::decode_protobuf(&body);
            let _ = super::otlp::decode_json(&body);
            let _ = super::loki::decode_json(&body);
            let _ = super::loki::decode_protobuf(&body);
            let compressed = snap::raw::Encoder::new().compress_vec(&body).unwrap_or_default();
            let _ = super::loki::decode_protobuf(&compressed);
        }

        #[test]
        fn json_shaped_garbage_never_panics(s in r#"\{"(streams|resourceLogs)":\[\{[ -~]{0,80}\}\]\}"#) {
            let _ = super::otlp::decode_json(s.as_bytes());
            let _ = super::loki::decode_json(s.as_bytes());
        }
    }
}

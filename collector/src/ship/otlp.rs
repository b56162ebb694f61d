//! Batch → OTLP `ExportLogsServiceRequest`: one `ResourceLogs` per file (the container's
//! `k8s.*` attributes on the resource), one `LogRecord` per record.

use argus_core::{Level, Stream};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::attr;
use crate::logs::Batch;

fn kv_str(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.to_string())),
        }),
        ..Default::default()
    }
}

fn kv_int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
        ..Default::default()
    }
}

/// OTLP severity number of a level (SeverityNumber enum; 0 = unspecified).
pub fn severity_number(l: Level) -> i32 {
    match l {
        Level::Unknown => 0,
        Level::Trace => 1,
        Level::Debug => 5,
        Level::Info => 9,
        Level::Warn => 13,
        Level::Error => 17,
        Level::Fatal => 21,
    }
}

/// Encodes a batch as an OTLP/HTTP protobuf body.
pub fn encode(batch: &Batch, node: &str) -> Vec<u8> {
    let observed = argus_core::time::now_ns() as u64;
    let mut resource_logs = Vec::with_capacity(batch.chunks.len());
    for chunk in &batch.chunks {
        let m = &chunk.meta;
        let mut attributes = vec![
            kv_str(attr::NAMESPACE, &m.namespace),
            kv_str(attr::POD, &m.pod),
            kv_str(attr::POD_UID, &m.pod_uid),
            kv_str(attr::CONTAINER, &m.container),
            kv_int(attr::RESTART_COUNT, m.restart_count as i64),
            kv_str(attr::NODE, node),
        ];
        if !m.container_id.is_empty() {
            attributes.push(kv_str(attr::CONTAINER_ID, &m.container_id));
        }
        let fp = chunk.fingerprint as i64;
        let records = chunk
            .records
            .iter()
            .map(|r| LogRecord {
                time_unix_nano: r.timestamp_ns as u64,
                observed_time_unix_nano: observed,
                severity_number: severity_number(r.level),
                severity_text: if r.level == Level::Unknown {
                    String::new()
                } else {
                    r.level.as_str().to_string()
                },
                body: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(r.message.clone())),
                }),
                attributes: vec![
                    kv_str(
                        attr::IOSTREAM,
                        match r.stream {
                            Stream::Stdout => "stdout",
                            Stream::Stderr => "stderr",
                        },
                    ),
                    kv_str(attr::FILE_PATH, &m.path),
                    kv_int(attr::FINGERPRINT, fp),
                    kv_int(attr::OFFSET, r.offset as i64),
                ],
                ..Default::default()
            })
            .collect();
        resource_logs.push(ResourceLogs {
            resource: Some(Resource {
                attributes,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "argus-collector".to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    ExportLogsServiceRequest { resource_logs }.encode_to_vec()
}

//! The tantivy schema of the event index: the Event `uid` and the query labels
//! (`namespace`, `kind`, `name`, `reason`, `type`, `source`) are raw terms; the message is
//! indexed with the log store's tokenizers (see [`crate::store::schema`]) so that line
//! filters and free text plan the same way; timestamp, seq, count and resourceVersion are
//! fast fields (range, sort and histogram, and the upsert versions read at open); the whole
//! record is stored once as its JSON, the hit.

use argus_core::event::KubeEvent;
use std::path::Path;
use tantivy::schema::{Field, Schema, TextOptions, Value, FAST, STORED, STRING};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use crate::store::schema::{add_message_fields, register_tokenizers, TextFields};
use crate::store::{index_err, io_err, StoreError};

/// Doc-store block size: a verified candidate decompresses one small block.
const DOCSTORE_BLOCK_BYTES: usize = 4096;

/// The fields of the event index.
#[derive(Clone, Copy, Debug)]
pub struct EventFields {
    /// The Event's uid: the upsert key (`delete_term` + add).
    pub uid: Field,
    pub namespace: Field,
    pub kind: Field,
    pub name: Field,
    pub reason: Field,
    pub type_: Field,
    pub source: Field,
    pub text: TextFields,
    /// Latest occurrence (ns): what the time range applies to.
    pub timestamp: Field,
    /// Orders hits with equal timestamps: `(wal seq << 20) | index in the batch`.
    pub seq: Field,
    pub count: Field,
    pub resource_version: Field,
    /// The record's JSON ([`KubeEvent`]), stored only.
    pub event: Field,
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, EventFields) {
    let mut b = Schema::builder();
    let uid = b.add_text_field("uid", STRING | FAST);
    let namespace = b.add_text_field("namespace", STRING);
    let kind = b.add_text_field("kind", STRING);
    let name = b.add_text_field("name", STRING);
    let reason = b.add_text_field("reason", STRING);
    let type_ = b.add_text_field("type", STRING);
    let source = b.add_text_field("source", STRING);
    let text = add_message_fields(&mut b, false);
    let fields = EventFields {
        uid,
        namespace,
        kind,
        name,
        reason,
        type_,
        source,
        text,
        timestamp: b.add_i64_field("timestamp", FAST),
        seq: b.add_u64_field("seq", FAST),
        count: b.add_u64_field("count", FAST),
        resource_version: b
            .add_text_field("resource_version", TextOptions::default().set_fast("raw")),
        event: b.add_bytes_field("event", STORED),
    };
    (b.build(), fields)
}

/// The raw-term field of a query label; `None` for a label events do not have.
pub fn label_field(f: &EventFields, name: &str) -> Option<Field> {
    Some(match name {
        "namespace" => f.namespace,
        "kind" => f.kind,
        "name" => f.name,
        "reason" => f.reason,
        "type" => f.type_,
        "source" => f.source,
        _ => return None,
    })
}

/// The tantivy document of an Event state.
pub fn document(f: &EventFields, e: &KubeEvent, seq: u64) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.uid, &e.uid);
    d.add_text(f.namespace, &e.namespace);
    d.add_text(f.kind, &e.kind);
    d.add_text(f.name, &e.name);
    d.add_text(f.reason, &e.reason);
    d.add_text(f.type_, &e.type_);
    d.add_text(f.source, &e.source);
    d.add_text(f.text.message, &e.message);
    d.add_text(f.text.message_hex, &e.message);
    d.add_i64(f.timestamp, e.timestamp);
    d.add_u64(f.seq, seq);
    d.add_u64(f.count, e.count);
    d.add_text(f.resource_version, &e.resource_version);
    d.add_bytes(f.event, &serde_json::to_vec(e).unwrap_or_default());
    d
}

/// The Event stored in a document.
pub fn stored_event(f: &EventFields, d: &TantivyDocument) -> Option<KubeEvent> {
    let bytes = d.get_first(f.event)?.as_bytes()?;
    serde_json::from_slice(bytes).ok()
}

/// The event index in `dir` (created when absent) and a reader reloaded by the indexer.
pub fn open(dir: &Path) -> Result<(Index, IndexReader, EventFields), StoreError> {
    let (schema, fields) = build();
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let index = if dir.join("meta.json").exists() {
        Index::open_in_dir(dir).map_err(index_err(dir))?
    } else {
        let settings = tantivy::IndexSettings {
            docstore_blocksize: DOCSTORE_BLOCK_BYTES,
            ..tantivy::IndexSettings::default()
        };
        Index::builder()
            .schema(schema.clone())
            .settings(settings)
            .create_in_dir(dir)
            .map_err(index_err(dir))?
    };
    if index.schema() != schema {
        return Err(StoreError::Corrupt(format!(
            "{}: the event index has another schema than this version of argus writes",
            dir.display()
        )));
    }
    register_tokenizers(&index);
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(index_err(dir))?;
    Ok((index, reader, fields))
}

//! One time partition of the log store: a tantivy index holding the records whose
//! timestamps fall in `[start, start + span)`. Retention drops whole partitions, and a
//! search opens only the partitions its time range touches.

use argus_core::LogRecord;
use std::path::{Path, PathBuf};
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer, ValueVisitor,
};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use super::schema::{self, Fields};
use super::StoreError;

/// Doc-store block size of new partitions.
const DOCSTORE_BLOCK_BYTES: usize = 4096;

/// A partition's index and its reader.
pub struct Partition {
    pub start_ns: i64,
    pub end_ns: i64,
    pub dir: PathBuf,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
}

fn terr(dir: &Path) -> impl FnOnce(tantivy::TantivyError) -> StoreError + '_ {
    move |e| StoreError::Index {
        path: dir.display().to_string(),
        message: e.to_string(),
    }
}

impl Partition {
    /// Directory name of the partition starting at `start_ns`.
    pub fn dir_name(start_ns: i64) -> String {
        format!("p{}", start_ns / 1_000_000_000)
    }

    /// Parses a directory name back to the partition start.
    pub fn parse_dir_name(name: &str) -> Option<i64> {
        name.strip_prefix('p')?
            .parse::<i64>()
            .ok()?
            .checked_mul(1_000_000_000)
    }

    /// Opens the partition in `dir`, creating it when absent.
    pub fn open_or_create(
        dir: &Path,
        start_ns: i64,
        span_ns: i64,
    ) -> Result<Partition, StoreError> {
        let (schema, fields) = schema::build();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        let exists = dir.join("meta.json").exists();
        let index = if exists {
            Index::open_in_dir(dir).map_err(terr(dir))?
        } else {
            // Small doc-store blocks: a verified candidate decompresses one 4 KiB block
            // rather than 16 KiB (argus-bench search, regex filter).
            let settings = tantivy::IndexSettings {
                docstore_blocksize: DOCSTORE_BLOCK_BYTES,
                ..tantivy::IndexSettings::default()
            };
            Index::builder()
                .schema(schema)
                .settings(settings)
                .create_in_dir(dir)
                .map_err(terr(dir))?
        };
        index
            .tokenizers()
            .register(schema::TOKENIZER, schema::analyzer());
        index
            .tokenizers()
            .register(schema::HEX_TOKENIZER, schema::hex_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(terr(dir))?;
        Ok(Partition {
            start_ns,
            end_ns: start_ns + span_ns,
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
        })
    }

    /// The WAL seq through which this partition has committed everything it was given.
    pub fn committed_seq(&self) -> u64 {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// The tantivy document of a record; `seq` orders records with equal timestamps.
pub fn document(f: &Fields, r: &LogRecord, seq: u64) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_i64(f.timestamp, r.timestamp_ns);
    d.add_u64(f.seq, seq);
    d.add_text(f.message, &r.message);
    d.add_text(f.message_hex, &r.message);
    d.add_text(f.namespace, &r.namespace);
    d.add_text(f.pod, &r.pod);
    d.add_text(f.container, &r.container);
    d.add_text(f.node, &r.node);
    d.add_text(f.stream, r.stream.as_str());
    d.add_text(f.level, r.level.as_str());
    if !r.pod_uid.is_empty() {
        d.add_text(f.pod_uid, &r.pod_uid);
    }
    if r.restart_count != 0 {
        d.add_u64(f.restart, r.restart_count as u64);
    }
    if !r.file_path.is_empty() {
        d.add_text(f.file_path, &r.file_path);
    }
    let mut kv = String::new();
    for (k, v) in &r.labels {
        kv.clear();
        kv.push_str(k);
        kv.push('=');
        kv.push_str(v);
        d.add_text(f.labels, &kv);
    }
    d
}

/// A stored document read straight into a [`LogRecord`] (one pass, no intermediate
/// document tree): what search verification and hits need.
pub struct StoredRecord(pub LogRecord);

enum Stored {
    Str(String),
    U64(u64),
    Other,
}

struct StoredVisitor;

impl ValueVisitor for StoredVisitor {
    type Value = Stored;
    fn visit_string(&self, v: String) -> Result<Stored, DeserializeError> {
        Ok(Stored::Str(v))
    }
    fn visit_u64(&self, v: u64) -> Result<Stored, DeserializeError> {
        Ok(Stored::U64(v))
    }
    fn visit_i64(&self, _: i64) -> Result<Stored, DeserializeError> {
        Ok(Stored::Other)
    }
    fn visit_null(&self) -> Result<Stored, DeserializeError> {
        Ok(Stored::Other)
    }
}

impl ValueDeserialize for Stored {
    fn deserialize<'de, D: ValueDeserializer<'de>>(d: D) -> Result<Self, DeserializeError> {
        d.deserialize_any(StoredVisitor)
    }
}

fn fields() -> &'static Fields {
    static FIELDS: std::sync::OnceLock<Fields> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| schema::build().1)
}

impl DocumentDeserialize for StoredRecord {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(mut d: D) -> Result<Self, DeserializeError> {
        let f = fields();
        let mut r = LogRecord::default();
        while let Some((field, v)) = d.next_field::<Stored>()? {
            match v {
                Stored::Str(s) => {
                    if field == f.message {
                        r.message = s;
                    } else if field == f.namespace {
                        r.namespace = s;
                    } else if field == f.pod {
                        r.pod = s;
                    } else if field == f.container {
                        r.container = s;
                    } else if field == f.node {
                        r.node = s;
                    } else if field == f.stream {
                        r.stream = argus_core::Stream::parse(&s).unwrap_or_default();
                    } else if field == f.level {
                        r.level = argus_core::Level::parse(&s);
                    } else if field == f.pod_uid {
                        r.pod_uid = s;
                    } else if field == f.file_path {
                        r.file_path = s;
                    } else if field == f.labels {
                        if let Some((k, v)) = s.split_once('=') {
                            r.labels.insert(k.to_string(), v.to_string());
                        }
                    }
                }
                Stored::U64(v) if field == f.restart => {
                    r.restart_count = v.min(u32::MAX as u64) as u32
                }
                _ => {}
            }
        }
        Ok(StoredRecord(r))
    }
}

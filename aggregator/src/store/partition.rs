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
        let (schema, mut fields) = schema::build();
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
        // A partition written before pair terms (schema v1) has the tokenizer without
        // them: its new documents go without them too, and its searches are planned
        // without them.
        fields.pairs = schema::pairs_field(&index.schema(), fields.message_hex);
        schema::register_tokenizers(&index);
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
    d.add_u64(f.stream, schema::stream_code(r.stream));
    d.add_u64(f.level, schema::level_code(r.level));
    d.add_text(f.pod_uid, &r.pod_uid);
    if r.restart_count != 0 {
        d.add_u64(f.restart, r.restart_count as u64);
    }
    d.add_text(f.file_path, &r.file_path);
    let mut kv = String::new();
    for (k, v) in r.labels.iter() {
        kv.clear();
        kv.push_str(k);
        kv.push('=');
        kv.push_str(v);
        d.add_text(f.labels, &kv);
    }
    d
}

/// A stored document read straight into a [`LogRecord`] (one pass, no intermediate
/// document tree): what search verification and hits need. Node, stream and level are
/// not stored: [`Columns::fill`] adds them.
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
                    } else if field == f.labels {
                        if let Some((k, v)) = s.split_once('=') {
                            std::sync::Arc::make_mut(&mut r.labels)
                                .insert(k.to_string(), v.to_string());
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

/// A segment's node, stream and level columns.
pub struct Columns {
    namespace: Option<tantivy::columnar::StrColumn>,
    pod: Option<tantivy::columnar::StrColumn>,
    container: Option<tantivy::columnar::StrColumn>,
    pod_uid: Option<tantivy::columnar::StrColumn>,
    file_path: Option<tantivy::columnar::StrColumn>,
    node: Option<tantivy::columnar::StrColumn>,
    stream: tantivy::columnar::Column<u64>,
    level: tantivy::columnar::Column<u64>,
}

impl Columns {
    /// Opens the columns of a segment.
    pub fn open(seg: &tantivy::SegmentReader) -> tantivy::Result<Columns> {
        let ff = seg.fast_fields();
        Ok(Columns {
            namespace: ff.str("namespace")?,
            pod: ff.str("pod")?,
            container: ff.str("container")?,
            pod_uid: ff.str("pod_uid")?,
            file_path: ff.str("file_path")?,
            node: ff.str("node")?,
            stream: ff.u64("stream")?,
            level: ff.u64("level")?,
        })
    }

    /// The node's term ordinal of a document (`None`: no value, i.e. "").
    pub fn node_ord(&self, doc: tantivy::DocId) -> Option<u64> {
        self.node.as_ref()?.term_ords(doc).next()
    }

    /// Every node value of the segment with its ordinal.
    pub fn node_values(&self) -> Vec<String> {
        let Some(col) = &self.node else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for ord in 0..col.num_terms() as u64 {
            let mut s = String::new();
            let _ = col.ord_to_str(ord, &mut s);
            out.push(s);
        }
        out
    }

    pub fn stream_code(&self, doc: tantivy::DocId) -> u64 {
        self.stream.first(doc).unwrap_or(0)
    }

    pub fn level_code(&self, doc: tantivy::DocId) -> u64 {
        self.level.first(doc).unwrap_or(0)
    }

    /// Sets the record's fields kept in columns: namespace, pod, container, pod uid, file
    /// path, node, stream and level.
    pub fn fill(&self, doc: tantivy::DocId, r: &mut LogRecord) {
        fn text(
            col: &Option<tantivy::columnar::StrColumn>,
            doc: tantivy::DocId,
        ) -> std::sync::Arc<str> {
            let mut s = String::new();
            if let Some(col) = col {
                if let Some(ord) = col.term_ords(doc).next() {
                    let _ = col.ord_to_str(ord, &mut s);
                }
            }
            s.into()
        }
        r.stream = schema::STREAMS[(self.stream_code(doc) as usize).min(1)];
        r.level = schema::LEVELS[(self.level_code(doc) as usize).min(6)];
        r.namespace = text(&self.namespace, doc);
        r.pod = text(&self.pod, doc);
        r.container = text(&self.container, doc);
        r.pod_uid = text(&self.pod_uid, doc);
        r.file_path = text(&self.file_path, doc);
        r.node = text(&self.node, doc);
    }
}

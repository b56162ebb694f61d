//! One time partition of the log store: a tantivy index holding the records whose
//! timestamps fall in `[start, start + span)`. Retention drops whole partitions, and a
//! search opens only the partitions its time range touches.

use argus_core::LogRecord;
use std::path::{Path, PathBuf};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use super::schema::{self, Fields};
use super::StoreError;

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
            Index::create_in_dir(dir, schema).map_err(terr(dir))?
        };
        index
            .tokenizers()
            .register(schema::TOKENIZER, schema::analyzer());
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
    for (k, v) in &r.labels {
        d.add_text(f.labels, format!("{k}={v}"));
    }
    d
}

/// Reads a record back from a stored document.
pub fn record(f: &Fields, d: &TantivyDocument, timestamp_ns: i64) -> LogRecord {
    use tantivy::schema::Value;
    let s = |field| {
        d.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut labels = std::collections::BTreeMap::new();
    for v in d.get_all(f.labels) {
        if let Some((k, v)) = v.as_str().and_then(|kv| kv.split_once('=')) {
            labels.insert(k.to_string(), v.to_string());
        }
    }
    LogRecord {
        timestamp_ns,
        stream: argus_core::Stream::parse(&s(f.stream)).unwrap_or_default(),
        level: argus_core::Level::parse(&s(f.level)),
        message: s(f.message),
        namespace: s(f.namespace),
        pod: s(f.pod),
        pod_uid: s(f.pod_uid),
        container: s(f.container),
        restart_count: d.get_first(f.restart).and_then(|v| v.as_u64()).unwrap_or(0) as u32,
        node: s(f.node),
        file_path: s(f.file_path),
        labels,
        source: None,
    }
}

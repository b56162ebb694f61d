//! The log store: a write-ahead log for durability and idempotency, and tantivy indexes
//! partitioned by time for search. [`LogBackend`] is the seam where a distributed engine
//! could replace the embedded store.
//!
//! Write path: dedup → WAL append + fsync (the ack) → indexer thread → tantivy commit at
//! least every `commit_interval`, after which records are searchable. Read path: the
//! partitions overlapping the range are searched with a [`plan`] and the [`collect`]or.

pub mod codec;
pub mod collect;
pub mod dedup;
mod indexer;
pub mod partition;
pub mod plan;
pub mod schema;
#[cfg(test)]
mod tests;
pub mod wal;

use argus_core::query::LogQuery;
use argus_core::LogRecord;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tantivy::DocAddress;
use tokio::sync::broadcast;

pub use collect::{Cursor, Direction};
use dedup::Dedup;
use partition::Partition;
use wal::Wal;

/// Store errors name the file or index involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Wal(#[from] wal::WalError),
    #[error("index {path}: {message}")]
    Index { path: String, message: String },
    #[error("{0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a tantivy error to [`StoreError::Index`] naming `path`.
pub(crate) fn index_err(path: &Path) -> impl FnOnce(tantivy::TantivyError) -> StoreError + '_ {
    move |e| StoreError::Index {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// How the store is laid out and tuned.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub dir: PathBuf,
    /// Span of one partition.
    pub partition: Duration,
    pub retention: Duration,
    /// Longest time between an ack and searchability.
    pub commit_interval: Duration,
    pub writer_threads: usize,
    pub writer_memory_bytes: usize,
}

/// A search over a time range.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: LogQuery,
    pub start_ns: i64,
    pub end_ns: i64,
    pub limit: usize,
    pub direction: Direction,
    pub cursor: Option<Cursor>,
    /// Histogram bucket width.
    pub step_ns: i64,
}

/// One hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub record: LogRecord,
    pub seq: u64,
}

/// What a search found (`H`: the hit type of the store, [`Hit`] for logs).
#[derive(Debug, Clone)]
pub struct SearchResult<H = Hit> {
    pub hits: Vec<H>,
    /// Exact number of matches in the range.
    pub total: u64,
    /// Matches per bucket of `step_ns` from `start_ns`.
    pub histogram: Vec<u64>,
    pub next_cursor: Option<Cursor>,
    pub partitions: usize,
    /// Candidates checked against the stored record.
    pub verified: u64,
}

/// What an append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    pub accepted: usize,
    pub duplicates: usize,
    pub expired: usize,
}

/// The seam for log storage engines.
pub trait LogBackend: Send + Sync {
    /// Stores records durably (returns once they survive a crash), dropping resends.
    fn append(&self, records: Vec<LogRecord>) -> Result<Appended>;
    /// Searches a time range.
    fn search(&self, req: &SearchRequest) -> Result<SearchResult>;
    /// Records as they are accepted (for live tail).
    fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<LogRecord>>>;
}

/// Counters of the store (exported as `argus_aggregator_*`).
#[derive(Debug, Default)]
pub struct StoreStats {
    pub records_ingested: AtomicU64,
    pub records_duplicate: AtomicU64,
    pub records_expired: AtomicU64,
    pub bytes_ingested: AtomicU64,
    pub commits: AtomicU64,
    pub index_errors: AtomicU64,
}

struct Ingest {
    wal: Wal,
    dedup: Dedup,
}

type Partitions = Arc<RwLock<BTreeMap<i64, Arc<Partition>>>>;

/// The embedded tantivy log store.
pub struct TantivyStore {
    cfg: StoreConfig,
    ingest: Arc<Mutex<Ingest>>,
    indexer: indexer::Handle,
    partitions: Partitions,
    tail: broadcast::Sender<Arc<Vec<LogRecord>>>,
    pub stats: Arc<StoreStats>,
    snapshot_seq: Arc<AtomicU64>,
    /// Searches use both cores: segments are collected in parallel.
    executor: tantivy::Executor,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub(crate) fn read_seq(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    Ok(())
}

impl TantivyStore {
    /// Opens the store, replaying the write-ahead log into the dedup state and the indexer.
    pub fn open(cfg: StoreConfig) -> Result<TantivyStore> {
        let index_dir = cfg.dir.join("index");
        std::fs::create_dir_all(&index_dir).map_err(io_err(&index_dir))?;
        let span = cfg.partition.as_nanos() as i64;
        let mut parts = BTreeMap::new();
        for e in std::fs::read_dir(&index_dir)
            .map_err(io_err(&index_dir))?
            .flatten()
        {
            let name = e.file_name();
            let Some(start) = name.to_str().and_then(Partition::parse_dir_name) else {
                continue;
            };
            let p = Partition::open_or_create(&e.path(), start, span)?;
            parts.insert(start, Arc::new(p));
        }
        let indexed_seq = read_seq(&cfg.dir.join("indexed_seq"));
        let snap_path = cfg.dir.join("dedup.snapshot");
        let (mut dedup, snap_seq) = Dedup::load(&snap_path).map_err(StoreError::Corrupt)?;
        let mut replay: Vec<(u64, Vec<LogRecord>)> = Vec::new();
        let mut bad = None;
        let wal = Wal::open(
            &cfg.dir.join("wal"),
            indexed_seq.min(snap_seq),
            codec::VERSION,
            |seq, version, payload| match codec::decode_all(version, payload) {
                Ok(recs) => {
                    if seq > snap_seq {
                        dedup.replay(&recs);
                    }
                    if seq > indexed_seq {
                        replay.push((seq, recs));
                    }
                }
                Err(e) => bad = Some(format!("wal entry {seq}: {e}")),
            },
        )?;
        if let Some(b) = bad {
            return Err(StoreError::Corrupt(b));
        }
        if !replay.is_empty() {
            tracing::info!(
                entries = replay.len(),
                "replaying write-ahead log into the index"
            );
        }
        let partitions: Partitions = Arc::new(RwLock::new(parts));
        let stats = Arc::new(StoreStats::default());
        let ingest = Arc::new(Mutex::new(Ingest { wal, dedup }));
        let snapshot_seq = Arc::new(AtomicU64::new(snap_seq));
        let indexer = indexer::spawn(
            cfg.clone(),
            partitions.clone(),
            stats.clone(),
            ingest_truncator(ingest.clone(), snapshot_seq.clone()),
            indexed_seq,
        )?;
        for (seq, recs) in replay {
            indexer.send(seq, Arc::new(recs))?;
        }
        let (tail, _) = broadcast::channel(1024);
        Ok(TantivyStore {
            cfg,
            ingest,
            indexer,
            partitions,
            tail,
            stats,
            snapshot_seq,
            executor: tantivy::Executor::multi_thread(2, "argus-search-").map_err(|e| {
                StoreError::Index {
                    path: "search threads".into(),
                    message: e.to_string(),
                }
            })?,
        })
    }

    /// Makes everything appended so far searchable now.
    pub fn flush(&self) -> Result<()> {
        self.indexer.flush()
    }

    /// Writes the dedup snapshot so the write-ahead log can be trimmed.
    pub fn snapshot(&self) -> Result<()> {
        let (bytes, seq) = {
            let g = lock(&self.ingest);
            let seq = g.wal.next_seq().saturating_sub(1);
            (g.dedup.encode(seq), seq)
        };
        write_atomic(&self.cfg.dir.join("dedup.snapshot"), &bytes)?;
        self.snapshot_seq.store(seq, Relaxed);
        Ok(())
    }

    /// Drops partitions that ended before the retention horizon; returns how many.
    pub fn apply_retention(&self) -> usize {
        let horizon = argus_core::time::now_ns() - self.cfg.retention.as_nanos() as i64;
        let old: Vec<Arc<Partition>> = {
            let mut g = self.partitions.write().unwrap_or_else(|p| p.into_inner());
            let keys: Vec<i64> = g
                .values()
                .filter(|p| p.end_ns <= horizon)
                .map(|p| p.start_ns)
                .collect();
            keys.iter().filter_map(|k| g.remove(k)).collect()
        };
        for p in &old {
            self.indexer.forget(p.start_ns);
            if let Err(e) = std::fs::remove_dir_all(&p.dir) {
                tracing::warn!(dir = %p.dir.display(), error = %e, "cannot delete expired partition");
            } else {
                tracing::info!(dir = %p.dir.display(), "deleted partition past retention");
            }
        }
        old.len()
    }

    /// (partitions, documents, bytes on disk).
    pub fn sizes(&self) -> (usize, u64, u64) {
        let g = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        let docs = g.values().map(|p| p.num_docs()).sum();
        let bytes =
            g.values().map(|p| dir_size(&p.dir)).sum::<u64>() + lock(&self.ingest).wal.size_bytes();
        (g.len(), docs, bytes)
    }

    /// Commits and stops the indexer.
    pub fn close(&self) {
        self.indexer.stop();
    }
}

pub(crate) fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Called by the indexer after a commit through `seq`: trims the write-ahead log.
fn ingest_truncator(ingest: Arc<Mutex<Ingest>>, snap: Arc<AtomicU64>) -> Box<dyn Fn(u64) + Send> {
    Box::new(move |seq| {
        let upto = seq.min(snap.load(Relaxed));
        lock(&ingest).wal.remove_through(upto);
    })
}

impl LogBackend for TantivyStore {
    fn append(&self, records: Vec<LogRecord>) -> Result<Appended> {
        let n = records.len();
        let horizon = argus_core::time::now_ns() - self.cfg.retention.as_nanos() as i64;
        let records: Vec<LogRecord> = records
            .into_iter()
            .filter(|r| r.timestamp_ns >= horizon)
            .collect();
        let expired = n - records.len();
        let (kept, seq) = {
            let mut g = lock(&self.ingest);
            let before = records.len();
            let (kept, pending) = g.dedup.filter(records);
            let dups = before - kept.len();
            self.stats.records_duplicate.fetch_add(dups as u64, Relaxed);
            if kept.is_empty() {
                self.stats
                    .records_expired
                    .fetch_add(expired as u64, Relaxed);
                return Ok(Appended {
                    accepted: 0,
                    duplicates: dups,
                    expired,
                });
            }
            let mut payload = Vec::with_capacity(kept.iter().map(|r| r.message.len() + 16).sum());
            codec::encode_all(&kept, &mut payload);
            let seq = g.wal.append(&payload)?;
            g.dedup.apply(pending);
            (kept, seq)
        };
        let accepted = kept.len();
        self.stats
            .records_ingested
            .fetch_add(accepted as u64, Relaxed);
        self.stats
            .records_expired
            .fetch_add(expired as u64, Relaxed);
        self.stats
            .bytes_ingested
            .fetch_add(kept.iter().map(|r| r.message.len() as u64).sum(), Relaxed);
        let kept = Arc::new(kept);
        let _ = self.tail.send(kept.clone());
        self.indexer.send(seq, kept)?;
        Ok(Appended {
            accepted,
            duplicates: n - expired - accepted,
            expired,
        })
    }

    fn search(&self, req: &SearchRequest) -> Result<SearchResult> {
        let parts: Vec<Arc<Partition>> = {
            let g = self.partitions.read().unwrap_or_else(|p| p.into_inner());
            g.values()
                .filter(|p| p.end_ns > req.start_ns && p.start_ns <= req.end_ns)
                .cloned()
                .collect()
        };
        let step = req.step_ns.max(1);
        let buckets = (((req.end_ns - req.start_ns).max(0) / step) + 1) as usize;
        let k = req.limit + 1;
        let mut fruits = Vec::new();
        let mut searchers = Vec::new();
        for (pi, p) in parts.iter().enumerate() {
            let searcher = p.reader.searcher();
            let plan = plan::build(&p.fields, &req.query, req.start_ns, req.end_ns);
            let index_err = |e: tantivy::TantivyError| StoreError::Index {
                path: p.dir.display().to_string(),
                message: e.to_string(),
            };
            let marked = match &plan.marked {
                Some(q) => Some(
                    q.weight(tantivy::query::EnableScoring::disabled_from_searcher(
                        &searcher,
                    ))
                    .map_err(index_err)?,
                ),
                None => None,
            };
            let coll = collect::Shared(Arc::new(collect::HitCollector {
                fields: p.fields,
                query: plan.check.clone(),
                columns: plan.columns.clone(),
                verify: plan.verify,
                marked,
                start_ns: req.start_ns,
                end_ns: req.end_ns,
                step_ns: step,
                buckets,
                direction: req.direction,
                cursor: req.cursor,
                k,
            }));
            let scoring = tantivy::query::EnableScoring::disabled_from_searcher(&searcher);
            let mut fruit = searcher
                .search_with_executor(&*plan.query, &coll, &self.executor, scoring)
                .map_err(index_err)?;
            // Tag candidates with their partition through the segment ordinal's high bits.
            for c in &mut fruit.top {
                c.3 |= (pi as u32) << 20;
            }
            fruits.push(fruit);
            searchers.push(searcher);
        }
        let mut fruit = collect::merge(fruits, buckets, k);
        let more = fruit.top.len() > req.limit;
        fruit.top.truncate(req.limit);
        let mut hits = Vec::with_capacity(fruit.top.len());
        let mut columns: std::collections::HashMap<(usize, u32), partition::Columns> =
            std::collections::HashMap::new();
        for (_, ts, seq, tagged, doc) in &fruit.top {
            let pi = (*tagged >> 20) as usize;
            let seg = *tagged & 0xF_FFFF;
            let (Some(searcher), Some(p)) = (searchers.get(pi), parts.get(pi)) else {
                continue;
            };
            let d: partition::StoredRecord =
                searcher
                    .doc(DocAddress::new(seg, *doc))
                    .map_err(|e| StoreError::Index {
                        path: p.dir.display().to_string(),
                        message: e.to_string(),
                    })?;
            let mut record = d.0;
            record.timestamp_ns = *ts;
            let cols = match columns.entry((pi, seg)) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let c =
                        partition::Columns::open(searcher.segment_reader(seg)).map_err(|e| {
                            StoreError::Index {
                                path: p.dir.display().to_string(),
                                message: e.to_string(),
                            }
                        })?;
                    e.insert(c)
                }
            };
            cols.fill(*doc, &mut record);
            hits.push(Hit { record, seq: *seq });
        }
        let next_cursor = if more {
            hits.last().map(|h| Cursor {
                timestamp_ns: h.record.timestamp_ns,
                seq: h.seq,
            })
        } else {
            None
        };
        Ok(SearchResult {
            hits,
            total: fruit.total,
            histogram: fruit.histogram,
            next_cursor,
            partitions: parts.len(),
            verified: fruit.verified,
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<LogRecord>>> {
        self.tail.subscribe()
    }
}

impl Drop for TantivyStore {
    fn drop(&mut self) {
        self.indexer.stop();
    }
}

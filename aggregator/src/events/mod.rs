//! The event store: one record per Kubernetes Event (by `uid`), replaced in place when a
//! newer state arrives ([`version`]), kept for `events_retention`, searchable with the log
//! query language over the labels `namespace`, `kind`, `name`, `reason`, `type`, `source`
//! and the message.
//!
//! Write path, as the log store's: decide the upserts against the versions in memory → WAL
//! append + fsync (the ack) → the [`indexer`] thread applies them in WAL order
//! (`delete_term(uid)` + add) and commits at least every `commit_interval`. At open, the
//! versions are read from the index's fast fields and the WAL entries after the index's
//! last commit are replayed. Events are few (a cluster makes thousands an hour, not
//! millions), so one index holds them all and retention deletes by timestamp.

mod collect;
mod indexer;
pub mod plan;
pub mod schema;
pub mod stats;
#[cfg(test)]
mod tests;
pub mod version;

use argus_core::event::KubeEvent;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::collector::Count;
use tantivy::query::RangeQuery;
use tantivy::{DocAddress, IndexReader, TantivyDocument, Term};

use crate::store::wal::Wal;
use crate::store::{
    dir_size, index_err, lock, Cursor, Result, SearchRequest, SearchResult, StoreError,
};
pub use stats::EventStats;
use version::Versions;

/// Payload format of an event WAL entry: this byte, then the JSON array of the states.
const WAL_FORMAT: u8 = 1;

/// Indexing memory budget (tantivy's minimum is 15 MB per thread).
const WRITER_MEMORY_BYTES: usize = 32 << 20;

/// How the event store is laid out and tuned.
#[derive(Debug, Clone)]
pub struct EventStoreConfig {
    /// `<data-dir>/events`: `index/` and `wal/` below it.
    pub dir: PathBuf,
    /// States whose timestamp is older are dropped (and not accepted).
    pub retention: Duration,
    /// Longest time between an ack and searchability.
    pub commit_interval: Duration,
}

/// One hit: the stored Event and its tie-break sequence.
#[derive(Debug, Clone)]
pub struct EventHit {
    pub event: KubeEvent,
    pub seq: u64,
}

/// What an append did (the body of the ingest answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventsAppended {
    /// Events stored: new ones and newer states of known ones.
    pub accepted: usize,
    /// Of `accepted`, those that replaced a state.
    pub updated: usize,
    /// Older, equal (re-sent) or expired states, dropped.
    pub ignored: usize,
}

struct Ingest {
    wal: Wal,
    versions: Versions,
}

/// The embedded tantivy event store.
pub struct EventStore {
    cfg: EventStoreConfig,
    ingest: Mutex<Ingest>,
    indexer: indexer::Handle,
    reader: IndexReader,
    fields: schema::EventFields,
    /// WAL seq through which the index has committed.
    committed: Arc<AtomicU64>,
    pub stats: Arc<EventStats>,
}

fn encode(events: &[KubeEvent]) -> Vec<u8> {
    let mut out = vec![WAL_FORMAT];
    // Serializing plain strings and integers cannot fail.
    let _ = serde_json::to_writer(&mut out, events);
    out
}

fn decode(payload: &[u8]) -> std::result::Result<Vec<KubeEvent>, String> {
    match payload.split_first() {
        Some((&WAL_FORMAT, json)) => serde_json::from_slice(json).map_err(|e| e.to_string()),
        Some((v, _)) => Err(format!("unknown event entry format {v}")),
        None => Err("empty entry".into()),
    }
}

/// The versions of the committed states, from the index's fast fields.
fn load_versions(reader: &IndexReader) -> tantivy::Result<Versions> {
    let mut versions = Versions::new();
    let searcher = reader.searcher();
    for seg in searcher.segment_readers() {
        let ff = seg.fast_fields();
        let (Some(uid), Some(rv)) = (ff.str("uid")?, ff.str("resource_version")?) else {
            continue;
        };
        let count = ff.u64("count")?;
        let ts = ff.i64("timestamp")?;
        for doc in seg.doc_ids_alive() {
            let text = |col: &tantivy::columnar::StrColumn| {
                let mut s = String::new();
                if let Some(ord) = col.term_ords(doc).next() {
                    let _ = col.ord_to_str(ord, &mut s);
                }
                s
            };
            let v = version::Version {
                count: count.first(doc).unwrap_or(0),
                timestamp_ns: ts.first(doc).unwrap_or(0),
                resource_version: text(&rv),
            };
            let uid = text(&uid);
            if versions.get(&uid).is_none_or(|old| v.is_newer_than(old)) {
                versions.insert(uid, v);
            }
        }
    }
    Ok(versions)
}

impl EventStore {
    /// Opens the store, replaying the write-ahead log entries the index had not committed.
    pub fn open(cfg: EventStoreConfig) -> Result<EventStore> {
        let index_dir = cfg.dir.join("index");
        let (index, reader, fields) = schema::open(&index_dir)?;
        let committed_seq = index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0);
        let mut versions = load_versions(&reader).map_err(index_err(&index_dir))?;
        let mut replay: Vec<(u64, Vec<KubeEvent>)> = Vec::new();
        let mut bad = None;
        let wal = Wal::open(
            &cfg.dir.join("wal"),
            committed_seq,
            1,
            |seq, _, payload| match decode(payload) {
                Ok(events) => {
                    version::apply(&mut versions, &events);
                    replay.push((seq, events));
                }
                Err(e) => bad = Some(format!("event wal entry {seq}: {e}")),
            },
        )?;
        if let Some(b) = bad {
            return Err(StoreError::Corrupt(b));
        }
        if !replay.is_empty() {
            tracing::info!(
                entries = replay.len(),
                "replaying the event write-ahead log into the index"
            );
        }
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY_BYTES)
            .map_err(index_err(&index_dir))?;
        let stats = Arc::new(EventStats::default());
        let committed = Arc::new(AtomicU64::new(committed_seq));
        let indexer = indexer::spawn(
            writer,
            reader.clone(),
            fields,
            cfg.commit_interval,
            stats.clone(),
            committed.clone(),
        )?;
        for (seq, events) in replay {
            indexer.send(seq, Arc::new(events))?;
        }
        Ok(EventStore {
            cfg,
            ingest: Mutex::new(Ingest { wal, versions }),
            indexer,
            reader,
            fields,
            committed,
            stats,
        })
    }

    /// Stores the newer states of a batch durably (returns once they survive a crash);
    /// older, re-sent and expired states are ignored.
    pub fn append(&self, events: Vec<KubeEvent>) -> Result<EventsAppended> {
        let horizon = argus_core::time::now_ns() - self.cfg.retention.as_nanos() as i64;
        let mut g = lock(&self.ingest);
        let u = version::decide(&g.versions, events, horizon);
        let out = EventsAppended {
            accepted: u.accepted,
            updated: u.updated,
            ignored: u.ignored,
        };
        self.stats.ignored.fetch_add(u.ignored as u64, Relaxed);
        if u.kept.is_empty() {
            return Ok(out);
        }
        let seq = g.wal.append(&encode(&u.kept))?;
        version::apply(&mut g.versions, &u.kept);
        self.stats.ingested.fetch_add(u.accepted as u64, Relaxed);
        self.stats.updated.fetch_add(u.updated as u64, Relaxed);
        // Sent under the lock: the indexer must apply batches in WAL order (an older state
        // indexed after a newer one would win).
        self.indexer.send(seq, Arc::new(u.kept))?;
        g.wal.remove_through(self.committed.load(Relaxed));
        Ok(out)
    }

    /// Searches the states whose (latest) timestamp is in the range.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult<EventHit>> {
        let t0 = Instant::now();
        let res = self.search_inner(req);
        self.stats.observe_search(t0.elapsed());
        res
    }

    fn search_inner(&self, req: &SearchRequest) -> Result<SearchResult<EventHit>> {
        let searcher = self.reader.searcher();
        let plan = plan::build(&self.fields, &req.query, req.start_ns, req.end_ns);
        let step = req.step_ns.max(1);
        let buckets = (((req.end_ns - req.start_ns).max(0) / step) + 1) as usize;
        let coll = collect::EventCollector {
            fields: self.fields,
            check: plan.check.clone(),
            verify: plan.verify,
            start_ns: req.start_ns,
            end_ns: req.end_ns,
            step_ns: step,
            buckets,
            direction: req.direction,
            cursor: req.cursor,
            k: req.limit + 1,
        };
        let path = self.cfg.dir.join("index");
        let mut fruit = searcher
            .search(&*plan.query, &coll)
            .map_err(index_err(&path))?;
        let more = fruit.top.len() > req.limit;
        fruit.top.truncate(req.limit);
        let mut hits = Vec::with_capacity(fruit.top.len());
        for (_, _, seq, seg, doc) in &fruit.top {
            let d: TantivyDocument = searcher
                .doc(DocAddress::new(*seg, *doc))
                .map_err(index_err(&path))?;
            match schema::stored_event(&self.fields, &d) {
                Some(event) => hits.push(EventHit { event, seq: *seq }),
                None => tracing::warn!(seq, "event index: unreadable stored event"),
            }
        }
        let next_cursor = if more {
            hits.last().map(|h| Cursor {
                timestamp_ns: h.event.timestamp,
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
            partitions: 1,
            verified: fruit.verified,
        })
    }

    /// Makes everything appended so far searchable now.
    pub fn flush(&self) -> Result<()> {
        self.indexer.flush()
    }

    /// Deletes the states older than the retention (index and upsert versions) and trims
    /// the write-ahead log; returns how many states were deleted.
    pub fn apply_retention(&self) -> Result<u64> {
        let horizon = argus_core::time::now_ns() - self.cfg.retention.as_nanos() as i64;
        self.apply_retention_at(horizon)
    }

    fn apply_retention_at(&self, horizon_ns: i64) -> Result<u64> {
        {
            let mut g = lock(&self.ingest);
            let upto = self.committed.load(Relaxed);
            g.wal.remove_through(upto);
            g.versions.retain(|_, v| v.timestamp_ns >= horizon_ns);
        }
        let old = RangeQuery::new(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Excluded(Term::from_field_i64(self.fields.timestamp, horizon_ns)),
        );
        let n = self
            .reader
            .searcher()
            .search(&old, &Count)
            .map_err(index_err(&self.cfg.dir))? as u64;
        if n > 0 {
            self.indexer.retain(horizon_ns)?;
            tracing::info!(deleted = n, "deleted events past retention");
        }
        Ok(n)
    }

    /// (searchable events, bytes on disk).
    pub fn sizes(&self) -> (u64, u64) {
        let docs = self.reader.searcher().num_docs();
        let bytes = dir_size(&self.cfg.dir.join("index")) + lock(&self.ingest).wal.size_bytes();
        (docs, bytes)
    }

    /// Commits and stops the indexer.
    pub fn close(&self) {
        self.indexer.stop();
    }

    /// Stops the indexer without committing, as a crash would (tests of the WAL replay).
    #[cfg(test)]
    fn crash(&self) {
        self.indexer.abandon();
    }
}

impl Drop for EventStore {
    fn drop(&mut self) {
        self.indexer.stop();
    }
}

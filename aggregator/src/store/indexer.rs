//! The indexer thread: owns the tantivy writers, adds the records the write-ahead log
//! accepted, and commits every `commit_interval` (each partition's commit payload is the
//! WAL seq it covers; `indexed_seq` is written once all partitions have committed), then
//! reloads the readers so the records are searchable and lets the WAL be trimmed.

use argus_core::LogRecord;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::{IndexWriter, TantivyDocument};

use super::partition::{self, Partition};
use super::{write_atomic, Partitions, Result, StoreConfig, StoreError, StoreStats};

/// Accepted batches waiting for the indexer.
const QUEUE: usize = 4;

/// Writers idle this long are closed.
const WRITER_IDLE: Duration = Duration::from_secs(120);

enum Msg {
    Batch(u64, Arc<Vec<LogRecord>>),
    Flush(SyncSender<Result<()>>),
    Forget(i64),
    Stop,
}

/// Handle to the indexer thread.
pub struct Handle {
    tx: SyncSender<Msg>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Handle {
    /// Queues an accepted batch (blocks while the indexer is behind: backpressure).
    pub fn send(&self, seq: u64, recs: Arc<Vec<LogRecord>>) -> Result<()> {
        self.tx
            .send(Msg::Batch(seq, recs))
            .map_err(|_| StoreError::Closed)
    }

    /// Commits now and waits for it.
    pub fn flush(&self) -> Result<()> {
        let (tx, rx) = sync_channel(1);
        self.tx
            .send(Msg::Flush(tx))
            .map_err(|_| StoreError::Closed)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Drops the writer of a partition being deleted.
    pub fn forget(&self, start_ns: i64) {
        let _ = self.tx.send(Msg::Forget(start_ns));
    }

    /// Commits and joins the thread.
    pub fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
        let t = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }
}

struct Indexer {
    cfg: StoreConfig,
    partitions: Partitions,
    fields: crate::store::schema::Fields,
    stats: Arc<StoreStats>,
    truncate: Box<dyn Fn(u64) + Send>,
    writers: HashMap<i64, (IndexWriter<TantivyDocument>, Instant)>,
    /// Seq each partition had committed when opened (skip replayed records at or below it).
    committed_at_open: HashMap<i64, u64>,
    dirty: HashSet<i64>,
    last_seq: u64,
    indexed_seq: u64,
    last_commit: Instant,
}

/// Starts the indexer thread.
pub fn spawn(
    cfg: StoreConfig,
    partitions: Partitions,
    stats: Arc<StoreStats>,
    truncate: Box<dyn Fn(u64) + Send>,
    indexed_seq: u64,
) -> Result<Handle> {
    // A short queue: acks (WAL appends) may only run a few batches ahead of indexing, so a
    // record is searchable within about `commit_interval` of its ack even under load.
    let (tx, rx) = sync_channel(QUEUE);
    let committed_at_open = partitions
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .map(|p| (p.start_ns, p.committed_seq()))
        .collect();
    let mut ix = Indexer {
        cfg,
        partitions,
        fields: crate::store::schema::build().1,
        stats,
        truncate,
        writers: HashMap::new(),
        committed_at_open,
        dirty: HashSet::new(),
        last_seq: indexed_seq,
        indexed_seq,
        last_commit: Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name("argus-indexer".into())
        .spawn(move || ix.run(rx))
        .map_err(|e| StoreError::Io {
            path: "indexer thread".into(),
            source: e,
        })?;
    Ok(Handle {
        tx,
        thread: Mutex::new(Some(thread)),
    })
}

impl Indexer {
    fn run(&mut self, rx: Receiver<Msg>) {
        loop {
            let wait = self
                .cfg
                .commit_interval
                .saturating_sub(self.last_commit.elapsed())
                .max(Duration::from_millis(10));
            match rx.recv_timeout(wait) {
                Ok(Msg::Batch(seq, recs)) => self.add(seq, &recs),
                Ok(Msg::Flush(ack)) => {
                    let _ = ack.send(self.commit());
                }
                Ok(Msg::Forget(start)) => {
                    self.writers.remove(&start);
                    self.dirty.remove(&start);
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    if let Err(e) = self.commit() {
                        tracing::error!(error = %e, "final index commit failed");
                    }
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if !self.dirty.is_empty() && self.last_commit.elapsed() >= self.cfg.commit_interval {
                if let Err(e) = self.commit() {
                    self.stats.index_errors.fetch_add(1, Relaxed);
                    tracing::error!(error = %e, "index commit failed; records stay in the write-ahead log");
                }
            }
        }
    }

    fn partition(&mut self, start: i64) -> Result<Arc<Partition>> {
        if let Some(p) = self
            .partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&start)
        {
            return Ok(p.clone());
        }
        let dir = self.cfg.dir.join("index").join(Partition::dir_name(start));
        let p = Arc::new(Partition::open_or_create(
            &dir,
            start,
            self.cfg.partition.as_nanos() as i64,
        )?);
        self.partitions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(start, p.clone());
        Ok(p)
    }

    fn add(&mut self, seq: u64, recs: &[LogRecord]) {
        let span = self.cfg.partition.as_nanos() as i64;
        for (i, r) in recs.iter().enumerate() {
            let start = r.timestamp_ns.div_euclid(span) * span;
            if self
                .committed_at_open
                .get(&start)
                .is_some_and(|c| seq <= *c)
            {
                continue; // replayed, and this partition had committed it
            }
            if let Err(e) = self.add_one(start, seq, i, r) {
                self.stats.index_errors.fetch_add(1, Relaxed);
                tracing::error!(error = %e, "cannot index record");
            }
        }
        self.last_seq = self.last_seq.max(seq);
    }

    fn add_one(&mut self, start: i64, seq: u64, i: usize, r: &LogRecord) -> Result<()> {
        if !self.writers.contains_key(&start) {
            let p = self.partition(start)?;
            let w = p
                .index
                .writer_with_num_threads(self.cfg.writer_threads, self.cfg.writer_memory_bytes)
                .map_err(|e| StoreError::Index {
                    path: p.dir.display().to_string(),
                    message: e.to_string(),
                })?;
            self.writers.insert(start, (w, Instant::now()));
        }
        let Some((w, used)) = self.writers.get_mut(&start) else {
            return Ok(());
        };
        *used = Instant::now();
        let doc = partition::document(&self.fields, r, (seq << 20) | (i.min(0xF_FFFF) as u64));
        w.add_document(doc).map_err(|e| StoreError::Index {
            path: format!("partition {start}"),
            message: e.to_string(),
        })?;
        self.dirty.insert(start);
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.last_commit = Instant::now();
        let payload = self.last_seq.to_string();
        for start in std::mem::take(&mut self.dirty) {
            let Some((w, _)) = self.writers.get_mut(&start) else {
                continue;
            };
            let mut pc = w.prepare_commit().map_err(|e| StoreError::Index {
                path: format!("partition {start}"),
                message: e.to_string(),
            })?;
            pc.set_payload(&payload);
            pc.commit().map_err(|e| StoreError::Index {
                path: format!("partition {start}"),
                message: e.to_string(),
            })?;
            if let Some(p) = self
                .partitions
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&start)
            {
                let _ = p.reader.reload();
            }
            self.stats.commits.fetch_add(1, Relaxed);
        }
        if self.last_seq > self.indexed_seq {
            self.indexed_seq = self.last_seq;
            write_atomic(
                &self.cfg.dir.join("indexed_seq"),
                self.indexed_seq.to_string().as_bytes(),
            )?;
            (self.truncate)(self.indexed_seq);
        }
        self.writers
            .retain(|_, (_, used)| used.elapsed() < WRITER_IDLE);
        Ok(())
    }
}

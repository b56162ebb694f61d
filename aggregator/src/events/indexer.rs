//! The event indexer thread: owns the tantivy writer and applies the states the write-ahead
//! log accepted, in WAL order, as `delete_term(uid)` + add (tantivy applies a delete to the
//! documents added before it, committed or not, so exactly one document per uid stays
//! visible). It commits every `commit_interval` with the WAL seq it covers as the commit
//! payload, reloads the reader and publishes that seq so the WAL can be trimmed.

use argus_core::event::KubeEvent;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::query::RangeQuery;
use tantivy::{IndexReader, IndexWriter, TantivyDocument, Term};

use super::schema::{self, EventFields};
use super::stats::EventStats;
use crate::store::{Result, StoreError};

/// Accepted batches waiting for the indexer (acks run at most this far ahead).
const QUEUE: usize = 4;

enum Msg {
    Batch(u64, Arc<Vec<KubeEvent>>),
    Flush(SyncSender<Result<()>>),
    /// Delete the states whose timestamp is before this, then commit.
    Retain(i64, SyncSender<Result<()>>),
    Stop,
    /// Stop without committing (tests: a crash).
    #[cfg(test)]
    Abandon,
}

/// Handle to the indexer thread.
pub struct Handle {
    tx: SyncSender<Msg>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

fn closed<T>(_: T) -> StoreError {
    StoreError::Closed
}

impl Handle {
    /// Queues an accepted batch (blocks while the indexer is behind: backpressure).
    pub fn send(&self, seq: u64, events: Arc<Vec<KubeEvent>>) -> Result<()> {
        self.tx.send(Msg::Batch(seq, events)).map_err(closed)
    }

    /// Commits now and waits for it.
    pub fn flush(&self) -> Result<()> {
        let (tx, rx) = sync_channel(1);
        self.tx.send(Msg::Flush(tx)).map_err(closed)?;
        rx.recv().map_err(closed)?
    }

    /// Deletes the states older than `horizon_ns` and commits; waits for it.
    pub fn retain(&self, horizon_ns: i64) -> Result<()> {
        let (tx, rx) = sync_channel(1);
        self.tx.send(Msg::Retain(horizon_ns, tx)).map_err(closed)?;
        rx.recv().map_err(closed)?
    }

    /// Commits and joins the thread.
    pub fn stop(&self) {
        self.stop_with(Msg::Stop);
    }

    /// Joins the thread without committing: uncommitted documents are dropped.
    #[cfg(test)]
    pub fn abandon(&self) {
        self.stop_with(Msg::Abandon);
    }

    fn stop_with(&self, msg: Msg) {
        let _ = self.tx.send(msg);
        let t = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }
}

struct Indexer {
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    fields: EventFields,
    commit_interval: Duration,
    stats: Arc<EventStats>,
    /// The WAL seq through which the index has committed (read by the store to trim the WAL).
    committed: Arc<AtomicU64>,
    last_seq: u64,
    dirty: bool,
    last_commit: Instant,
}

/// Starts the indexer thread; `committed` holds the seq the index had committed at open.
pub fn spawn(
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    fields: EventFields,
    commit_interval: Duration,
    stats: Arc<EventStats>,
    committed: Arc<AtomicU64>,
) -> Result<Handle> {
    let (tx, rx) = sync_channel(QUEUE);
    let last_seq = committed.load(Relaxed);
    let mut ix = Indexer {
        writer,
        reader,
        fields,
        commit_interval,
        stats,
        committed,
        last_seq,
        dirty: false,
        last_commit: Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name("argus-event-indexer".into())
        .spawn(move || ix.run(rx))
        .map_err(|e| StoreError::Io {
            path: "event indexer thread".into(),
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
                .commit_interval
                .saturating_sub(self.last_commit.elapsed())
                .max(Duration::from_millis(10));
            match rx.recv_timeout(wait) {
                Ok(Msg::Batch(seq, events)) => self.add(seq, &events),
                Ok(Msg::Flush(ack)) => {
                    let _ = ack.send(self.commit());
                }
                Ok(Msg::Retain(horizon, ack)) => {
                    let _ = ack.send(self.retain(horizon));
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    if let Err(e) = self.commit() {
                        tracing::error!(error = %e, "final event index commit failed");
                    }
                    return;
                }
                #[cfg(test)]
                Ok(Msg::Abandon) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self.dirty && self.last_commit.elapsed() >= self.commit_interval {
                if let Err(e) = self.commit() {
                    self.stats.index_errors.fetch_add(1, Relaxed);
                    tracing::error!(error = %e, "event index commit failed; events stay in the write-ahead log");
                }
            }
        }
    }

    fn add(&mut self, seq: u64, events: &[KubeEvent]) {
        if seq <= self.committed.load(Relaxed) {
            return; // replayed, and the index had committed it
        }
        for (i, e) in events.iter().enumerate() {
            self.writer
                .delete_term(Term::from_field_text(self.fields.uid, &e.uid));
            let doc = schema::document(&self.fields, e, (seq << 20) | (i.min(0xF_FFFF) as u64));
            if let Err(e) = self.writer.add_document(doc) {
                self.stats.index_errors.fetch_add(1, Relaxed);
                tracing::error!(error = %e, "cannot index event");
            }
        }
        self.dirty = true;
        self.last_seq = self.last_seq.max(seq);
    }

    fn retain(&mut self, horizon_ns: i64) -> Result<()> {
        let old = RangeQuery::new(
            Bound::Unbounded,
            Bound::Excluded(Term::from_field_i64(self.fields.timestamp, horizon_ns)),
        );
        self.writer
            .delete_query(Box::new(old))
            .map_err(|e| StoreError::Index {
                path: "events".into(),
                message: e.to_string(),
            })?;
        self.dirty = true;
        self.commit()
    }

    fn commit(&mut self) -> Result<()> {
        self.last_commit = Instant::now();
        if !self.dirty {
            return Ok(());
        }
        let err = |e: tantivy::TantivyError| StoreError::Index {
            path: "events".into(),
            message: e.to_string(),
        };
        let mut pc = self.writer.prepare_commit().map_err(err)?;
        pc.set_payload(&self.last_seq.to_string());
        pc.commit().map_err(err)?;
        self.dirty = false;
        self.reader.reload().map_err(err)?;
        self.committed.store(self.last_seq, Relaxed);
        self.stats.commits.fetch_add(1, Relaxed);
        Ok(())
    }
}

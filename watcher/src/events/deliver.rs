//! The sender task: takes queued states in batches, posts them until the aggregator
//! acknowledges, then records them in `seen`, counts their occurrences and persists the
//! record. One batch is in flight at a time, so a uid's states arrive in order; a failed
//! batch goes back to the head of the queue, where a newer state of the same uid, queued
//! meanwhile, replaces it.
//!
//! Crash windows, both harmless: states acknowledged but not yet persisted are sent again
//! after a restart (the aggregator ignores an equal state; their occurrences are counted
//! again by the new process, whose counter restarted from 0); states queued but not
//! acknowledged are observed again by the new process's first list.

use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use argus_core::event::KubeEvent;
use argus_core::time::now_ns;
use tokio::sync::watch;
use tokio::time::Instant;

use super::seen::{Mark, Seen};
use super::send::{rejected, Backoff, Ingest};
use super::{Shared, RESOURCE};
use crate::metrics::EventKey;
use crate::{Error, Result};

/// How often the record is pruned (and saved if that changed it) when nothing is sent.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

pub(super) async fn deliver(
    shared: Arc<Shared>,
    mut seen: Seen,
    ingest: Ingest,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let flush_timeout = shared.cfg.flush_timeout;
    let mut stop_flush = stop.clone();
    // Resolves `flush_timeout` after the stop signal: the end of the shutdown flush.
    let mut flush_over = pin!(async move {
        let _ = stop_flush.wait_for(|s| *s).await;
        tokio::time::sleep(flush_timeout).await;
    });
    let mut backoff = Backoff::default();
    let mut limit = shared.cfg.batch_max;
    let mut last_save = Instant::now();
    let mut last_prune = Instant::now();
    loop {
        if last_prune.elapsed() >= HOUSEKEEPING {
            // O(known) under the lock the watch needs: once a minute, not per batch.
            shared.prune_known(now_ns());
            last_prune = Instant::now();
        }
        let stopping = *stop.borrow();
        let batch = shared.take(limit);
        if batch.is_empty() {
            if stopping {
                break;
            }
            if last_save.elapsed() >= HOUSEKEEPING {
                seen = save(&shared, seen).await?;
                last_save = Instant::now();
            }
            tokio::select! {
                _ = shared.wake.notified() => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        // The stop signal's sender is gone: nobody can stop us gracefully.
                        break;
                    }
                }
                _ = tokio::time::sleep(HOUSEKEEPING) => {}
            }
            continue;
        }
        let result = tokio::select! {
            r = ingest.send(&batch) => r,
            _ = &mut flush_over => {
                shared.requeue(batch);
                break;
            }
        };
        match result {
            Ok(()) => {
                backoff.reset();
                limit = shared.cfg.batch_max;
                record(&shared, &mut seen, &batch);
                seen = save(&shared, seen).await?;
                last_save = Instant::now();
            }
            Err(e) if rejected(&e) && batch.len() > 1 => {
                // Halve until the state the aggregator refuses is alone in its batch.
                shared.metrics.send_failures.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, events = batch.len(), "event batch refused; splitting it");
                limit = (batch.len() / 2).max(1);
                shared.requeue(batch);
            }
            Err(e) if rejected(&e) => {
                shared.metrics.send_failures.fetch_add(1, Relaxed);
                shared.metrics.events_rejected.fetch_add(1, Relaxed);
                tracing::error!(
                    error = %e, uid = %batch[0].uid, namespace = %batch[0].namespace,
                    reason = %batch[0].reason, "event refused by the aggregator; dropped"
                );
                limit = shared.cfg.batch_max;
            }
            Err(e) => {
                shared.metrics.send_failures.fetch_add(1, Relaxed);
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?delay, events = batch.len(), "event delivery failed");
                shared.requeue(batch);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = &mut flush_over => break,
                }
            }
        }
    }
    save(&shared, seen).await?;
    let left = shared.lock().pending.len();
    if left > 0 {
        tracing::warn!(
            events = left,
            "stopped with undelivered event states; the next start sends them"
        );
    }
    Ok(())
}

/// The acknowledged batch becomes the record; its new occurrences are counted.
fn record(shared: &Shared, seen: &mut Seen, batch: &[KubeEvent]) {
    let now = now_ns();
    for ev in batch {
        let occurrences = seen.record(&ev.uid, Mark::of(ev), now);
        shared.metrics.add_occurrences(
            EventKey {
                namespace: ev.namespace.clone(),
                kind: ev.kind.clone(),
                reason: ev.reason.clone(),
                type_: ev.type_.clone(),
            },
            occurrences,
        );
    }
    let m = &shared.metrics;
    m.events_sent.fetch_add(batch.len() as u64, Relaxed);
    m.events_seen.store(seen.len() as u64, Relaxed);
}

/// Prunes the record and saves what changed (on a blocking thread: a compaction writes
/// the whole record).
async fn save(shared: &Shared, seen: Seen) -> Result<Seen> {
    let now = now_ns();
    let (seen, written) = tokio::task::spawn_blocking(move || {
        let mut seen = seen;
        let r = seen.save(now);
        (seen, r)
    })
    .await
    .map_err(|e| Error::Task {
        what: "seen-events writer",
        message: e.to_string(),
    })?;
    shared.metrics.events_seen.store(seen.len() as u64, Relaxed);
    if let Err(e) = written {
        shared.metrics.inc_error(RESOURCE, "persist_failed");
        tracing::error!(error = %e, "cannot save the seen-events record; will retry");
    }
    Ok(seen)
}

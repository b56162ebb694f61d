//! Kubernetes Events, each occurrence recorded once into the aggregator's event store.
//!
//! ```text
//! API server ── list + watch (kube-runtime watcher: resume by resourceVersion, bookmarks,
//!   │            410 Expired → relist, backoff with jitter)
//!   ▼
//! observe: convert → decide against the latest known state of the uid → queue (coalesced)
//!   ▼                                              (full queue: the watch waits)
//! deliver: POST /api/v1/events, retry with backoff → on 200: record in `seen`, count the
//!          occurrences in argus_kube_events_total, persist `seen` atomically
//! ```
//!
//! - [`convert`]: core/v1 Event → [`KubeEvent`].
//! - [`decide`]: whether an observed state is news (the de-duplication rule).
//! - [`queue`]: pending states, one per uid.
//! - [`seen`]: the persisted record of acknowledged states.
//! - [`send`]: the ingest client and its backoff.
//!
//! Deleted Events are ignored: their record stays in the store.

pub mod convert;
pub mod decide;
mod deliver;
pub mod queue;
pub mod seen;
pub mod send;

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

use argus_core::event::KubeEvent;
use argus_core::time::now_ns;
use k8s_openapi::api::core::v1::Event;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio::sync::{watch, Notify};
use tokio_stream::StreamExt as _;

use crate::config::EventsConfig;
use crate::metrics::WatcherMetrics;
use crate::Result;
use decide::{decide, Verdict};
use queue::Pending;
use seen::{Mark, Seen};
use send::Ingest;

/// The `resource` label of this pipeline's health series.
const RESOURCE: &str = "events";

/// The events pipeline, built from the config and the persisted record.
pub struct Events {
    shared: Arc<Shared>,
    seen: Seen,
}

struct Shared {
    cfg: EventsConfig,
    state: Mutex<State>,
    /// Wakes the sender: something was queued.
    wake: Notify,
    /// Wakes a watch waiting for room in the queue.
    room: Notify,
    metrics: Arc<WatcherMetrics>,
    synced: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    /// The latest accepted state per uid: queued, in flight or acknowledged.
    known: HashMap<String, Known>,
    pending: Pending,
}

struct Known {
    mark: Mark,
    /// When it was accepted (ns).
    at: i64,
}

impl Events {
    /// Loads the record at `seen_path`; what it holds counts as known.
    pub fn open(
        cfg: EventsConfig,
        seen_path: PathBuf,
        metrics: Arc<WatcherMetrics>,
    ) -> Result<Self> {
        let seen = Seen::load(seen_path, cfg.seen_retention, cfg.seen_max)?;
        let known = seen
            .iter()
            .map(|(uid, mark, at)| {
                let mark = mark.clone();
                (uid.to_string(), Known { mark, at })
            })
            .collect();
        metrics.events_seen.store(seen.len() as u64, Relaxed);
        let shared = Arc::new(Shared {
            cfg,
            state: Mutex::new(State {
                known,
                pending: Pending::default(),
            }),
            wake: Notify::new(),
            room: Notify::new(),
            metrics,
            synced: Arc::new(AtomicBool::new(false)),
        });
        Ok(Events { shared, seen })
    }

    /// A flag that turns true once the first list of Events was processed.
    pub fn synced(&self) -> Arc<AtomicBool> {
        self.shared.synced.clone()
    }

    /// Lists and watches Events through `client` and delivers them to `ingest` until
    /// `stop` turns true; then sends what is queued for up to `flush_timeout` and returns.
    pub async fn run(
        self,
        client: kube::Client,
        ingest: Ingest,
        stop: watch::Receiver<bool>,
    ) -> Result<()> {
        let mut sender = tokio::spawn(deliver::deliver(
            self.shared.clone(),
            self.seen,
            ingest,
            stop.clone(),
        ));
        let joined = tokio::select! {
            _ = watch_events(&self.shared, client, stop) => sender.await,
            // The sender only ends by itself on an error: stop watching too.
            early = &mut sender => early,
        };
        joined.map_err(|e| crate::Error::Task {
            what: "events sender",
            message: e.to_string(),
        })?
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than stopping would; keep going with what is there.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one state into the pipeline if it is news. Waits while the queue is full;
    /// returns false when `stop` turned true meanwhile.
    async fn observe(&self, ev: KubeEvent, stop: &mut watch::Receiver<bool>) -> bool {
        if ev.uid.is_empty() {
            tracing::warn!(
                namespace = %ev.namespace, name = %ev.name, reason = %ev.reason,
                "event without metadata.uid ignored"
            );
            return true;
        }
        let uid = ev.uid.clone();
        let mark = Mark::of(&ev);
        let mut ev = Some(ev);
        loop {
            let room = self.room.notified();
            {
                let mut st = self.lock();
                if decide(st.known.get(&uid).map(|k| &k.mark), &mark) == Verdict::Known {
                    self.metrics.events_repeated.fetch_add(1, Relaxed);
                    return true;
                }
                if st.pending.get(&uid).is_some() || st.pending.len() < self.cfg.max_pending {
                    let at = now_ns();
                    st.known.insert(uid, Known { mark, at });
                    if let Some(ev) = ev.take() {
                        st.pending.push(ev);
                    }
                    self.metrics
                        .events_pending
                        .store(st.pending.len() as u64, Relaxed);
                    drop(st);
                    self.wake.notify_one();
                    return true;
                }
            }
            tokio::select! {
                _ = room => {}
                _ = stop.wait_for(|s| *s) => return false,
            }
        }
    }

    /// Takes up to `n` queued states for sending and wakes a watch waiting for room.
    fn take(&self, n: usize) -> Vec<KubeEvent> {
        let mut st = self.lock();
        let batch = st.pending.take(n);
        self.metrics
            .events_pending
            .store(st.pending.len() as u64, Relaxed);
        drop(st);
        if !batch.is_empty() {
            self.room.notify_waiters();
        }
        batch
    }

    /// Puts an unacknowledged batch back at the head of the queue.
    fn requeue(&self, batch: Vec<KubeEvent>) {
        let mut st = self.lock();
        st.pending.requeue(batch);
        self.metrics
            .events_pending
            .store(st.pending.len() as u64, Relaxed);
    }

    /// Forgets known states older than the retention (the record's rule), keeping queued
    /// ones; beyond the cap only the queued ones stay (the cost: a relist re-sends states
    /// the aggregator already has and ignores).
    fn prune_known(&self, now: i64) {
        let cutoff = now
            .saturating_sub(i64::try_from(self.cfg.seen_retention.as_nanos()).unwrap_or(i64::MAX));
        let mut st = self.lock();
        let State { known, pending } = &mut *st;
        known.retain(|uid, k| k.mark.timestamp.max(k.at) >= cutoff || pending.get(uid).is_some());
        if known.len() > self.cfg.seen_max {
            known.retain(|uid, _| pending.get(uid).is_some());
        }
    }
}

/// The list/watch loop over Events in all namespaces.
async fn watch_events(shared: &Shared, client: kube::Client, mut stop: watch::Receiver<bool>) {
    let api: Api<Event> = Api::all(client);
    let mut stream = pin!(watcher(api, watcher::Config::default()).default_backoff());
    let m = &shared.metrics;
    loop {
        let item = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            item = stream.next() => item,
        };
        let obj = match item {
            None => return,
            Some(Ok(watcher::Event::Init)) => {
                tracing::debug!("listing events");
                continue;
            }
            Some(Ok(watcher::Event::InitDone)) => {
                m.inc_list(RESOURCE);
                if !shared.synced.swap(true, Relaxed) {
                    tracing::info!("events listed; watching");
                }
                continue;
            }
            Some(Ok(watcher::Event::Delete(_))) => {
                m.inc_watch_event(RESOURCE, "delete");
                continue;
            }
            Some(Ok(watcher::Event::InitApply(obj))) => {
                m.inc_watch_event(RESOURCE, "init_apply");
                obj
            }
            Some(Ok(watcher::Event::Apply(obj))) => {
                m.inc_watch_event(RESOURCE, "apply");
                obj
            }
            Some(Err(e)) => {
                m.inc_error(RESOURCE, error_kind(&e));
                tracing::warn!(error = %e, "events list/watch failed; retrying with backoff");
                continue;
            }
        };
        if !shared
            .observe(convert::to_kube_event(&obj), &mut stop)
            .await
        {
            return;
        }
    }
}

pub(crate) fn error_kind(e: &watcher::Error) -> &'static str {
    match e {
        watcher::Error::InitialListFailed(_) => "list_failed",
        watcher::Error::WatchStartFailed(_) => "watch_start_failed",
        watcher::Error::WatchError(_) => "watch_error",
        watcher::Error::WatchFailed(_) => "watch_failed",
        watcher::Error::NoResourceVersion => "no_resource_version",
    }
}

#[cfg(test)]
mod tests;

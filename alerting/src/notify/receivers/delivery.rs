//! The delivery runtime: one worker task per integration of every receiver, so a slow or
//! failing receiver never delays another. Each worker takes jobs from its own bounded
//! queue in order, waits for its rate limit (a queue, never a drop), sends, and retries
//! transport errors, 5xx, 429 and the vendors' rate-limit codes with exponential backoff
//! and jitter for up to the job's retry period; other answers are permanent failures.
//! The job's `done` channel gets the outcome, for the notification log.
//!
//! Errors and logs name the receiver, the integration, the HTTP status and the vendor's
//! message — never a URL or secret.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::common::Verdict;
use super::config::{Globals, IntegrationId, ReceiverConfig};
use super::integration::Integration;
use super::limiter::Limiter;
use super::metrics::{self, Stats};
use crate::notify::http::{Client, HttpError};
use crate::notify::Notification;

/// Tuning of the delivery; the defaults suit production, tests shorten the times.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Jobs waiting per integration; beyond that the oldest waiting job is dropped (and
    /// fails with [`FailureKind::Dropped`]).
    pub queue_capacity: usize,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// How long after its first attempt a job is retried, unless the job says otherwise.
    pub retry_for: Duration,
    /// The first wait before a retry; it doubles up to `max_backoff`, ±50 % jitter.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The shortest wait after the receiver said "too fast" (429, a vendor code).
    pub rate_limited_backoff: Duration,
    /// The period of `rate_limit_per_minute` (a minute; tests shorten it).
    pub rate_limit_period: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            queue_capacity: 10_000,
            request_timeout: Duration::from_secs(30),
            retry_for: Duration::from_secs(300),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            rate_limited_backoff: Duration::from_secs(10),
            rate_limit_period: Duration::from_secs(60),
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The receiver rejected it (4xx, a vendor error code) or it could not be built.
    Permanent,
    /// Every attempt failed with a retryable error until the retry period ended.
    GaveUp { attempts: u32 },
    /// Dropped from a full queue before it was tried.
    Dropped,
    /// The receiver or integration is not in the config.
    UnknownIntegration,
    /// The delivery was shut down (config reload, exit) before the job finished.
    Stopped,
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailureKind::Permanent => f.write_str("permanent failure"),
            FailureKind::GaveUp { attempts } => write!(f, "gave up after {attempts} attempts"),
            FailureKind::Dropped => f.write_str("dropped from a full queue"),
            FailureKind::UnknownIntegration => f.write_str("no such integration"),
            FailureKind::Stopped => f.write_str("delivery stopped"),
        }
    }
}

/// A failed job: `receiver "ops" dingtalk[0]: permanent failure: HTTP 400: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("receiver {receiver:?} {integration}[{index}]: {kind}: {message}")]
pub struct DeliveryError {
    pub receiver: String,
    pub integration: &'static str,
    pub index: usize,
    pub kind: FailureKind,
    pub message: String,
}

/// The outcome of a job.
pub type Outcome = Result<(), DeliveryError>;

/// One notification for one integration of a receiver (`notification.receiver`).
#[derive(Debug)]
pub struct Job {
    pub notification: Notification,
    pub integration: IntegrationId,
    /// How long after the first attempt to keep retrying (the route's `group_interval`
    /// fits); `None` for [`DeliveryOptions::retry_for`].
    pub retry_for: Option<Duration>,
    /// Gets the outcome; `None` when nobody waits for it.
    pub done: Option<oneshot::Sender<Outcome>>,
}

impl Job {
    /// A job and the receiver of its outcome.
    pub fn new(
        notification: Notification,
        integration: IntegrationId,
    ) -> (Job, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        (
            Job {
                notification,
                integration,
                retry_for: None,
                done: Some(tx),
            },
            rx,
        )
    }
}

struct Worker {
    integration: Integration,
    queue: Mutex<VecDeque<Job>>,
    wake: Notify,
    stats: Stats,
    client: Client,
    opts: Arc<DeliveryOptions>,
}

/// The running delivery. Dropping it stops the workers; jobs not finished then fail with
/// [`FailureKind::Stopped`] (their `done` sender is dropped).
pub struct Delivery {
    workers: HashMap<(String, &'static str, usize), Arc<Worker>>,
    /// In config order, for metrics.
    order: Vec<Arc<Worker>>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for Delivery {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Delivery {
    /// Validates the receivers and starts one worker per integration on the current tokio
    /// runtime (an error outside one).
    pub fn new(
        receivers: &[ReceiverConfig],
        globals: &Globals,
        client: Client,
        opts: DeliveryOptions,
    ) -> Result<Delivery, String> {
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| "the notification delivery needs a tokio runtime".to_string())?;
        let opts = Arc::new(opts);
        let mut d = Delivery {
            workers: HashMap::new(),
            order: Vec::new(),
            tasks: Vec::new(),
        };
        for r in receivers {
            for integration in Integration::all(r, globals)? {
                let key = (r.name.clone(), integration.id.name, integration.id.index);
                let w = Arc::new(Worker {
                    integration,
                    queue: Mutex::new(VecDeque::new()),
                    wake: Notify::new(),
                    stats: Stats::default(),
                    client: client.clone(),
                    opts: opts.clone(),
                });
                if d.workers.insert(key, w.clone()).is_some() {
                    return Err(format!("receiver {:?}: defined twice", r.name));
                }
                d.order.push(w.clone());
            }
        }
        for w in &d.order {
            d.tasks.push(rt.spawn(w.clone().run()).abort_handle());
        }
        Ok(d)
    }

    /// Queues a job for its integration's worker and returns at once. The outcome goes to
    /// `job.done`; a job for an unknown integration fails at once.
    pub fn submit(&self, job: Job) {
        let key = (
            job.notification.receiver.clone(),
            job.integration.name,
            job.integration.index,
        );
        let Some(w) = self.workers.get(&key) else {
            let e = DeliveryError {
                receiver: job.notification.receiver.clone(),
                integration: job.integration.name,
                index: job.integration.index,
                kind: FailureKind::UnknownIntegration,
                message: "not in the config".into(),
            };
            if let Some(tx) = job.done {
                let _ = tx.send(Err(e));
            }
            return;
        };
        let dropped = {
            let mut q = lock(&w.queue);
            let dropped = if q.len() >= w.opts.queue_capacity.max(1) {
                q.pop_front()
            } else {
                None
            };
            q.push_back(job);
            dropped
        };
        if let Some(old) = dropped {
            w.stats.dropped.fetch_add(1, Relaxed);
            w.stats.failed.fetch_add(1, Relaxed);
            let e = w.error(FailureKind::Dropped, "queue full".into());
            tracing::error!(
                receiver = %w.integration.receiver,
                integration = %w.integration.id,
                capacity = w.opts.queue_capacity,
                "notification queue full: dropped the oldest notification"
            );
            if let Some(tx) = old.done {
                let _ = tx.send(Err(e));
            }
        }
        w.wake.notify_one();
    }

    /// Submits `notification` for `integration` and waits for the outcome.
    pub async fn deliver(&self, notification: Notification, integration: IntegrationId) -> Outcome {
        let receiver = notification.receiver.clone();
        let (job, rx) = Job::new(notification, integration);
        self.submit(job);
        rx.await.unwrap_or_else(|_| {
            Err(DeliveryError {
                receiver,
                integration: integration.name,
                index: integration.index,
                kind: FailureKind::Stopped,
                message: "the delivery was shut down".into(),
            })
        })
    }

    /// Jobs waiting for `integration` of `receiver`.
    pub fn queue_len(&self, receiver: &str, integration: IntegrationId) -> usize {
        self.workers
            .get(&(receiver.to_string(), integration.name, integration.index))
            .map_or(0, |w| lock(&w.queue).len())
    }

    /// Appends the delivery's metrics in Prometheus' text format (see [`metrics`]).
    pub fn write_metrics(&self, out: &mut String) {
        let lens: Vec<usize> = self.order.iter().map(|w| lock(&w.queue).len()).collect();
        metrics::write(
            self.order.iter().zip(lens).map(|(w, q)| {
                (
                    w.integration.receiver.as_str(),
                    w.integration.id.name,
                    &w.stats,
                    q,
                )
            }),
            out,
        );
    }
}

/// `d` ±50 %, from a per-process random seed and a counter.
fn jitter(d: Duration) -> Duration {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Relaxed));
    let r = (h.finish() % 1001) as f64 / 1000.0; // 0..=1
    d.mul_f64(0.5 + r)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Worker {
    fn error(&self, kind: FailureKind, message: String) -> DeliveryError {
        DeliveryError {
            receiver: self.integration.receiver.clone(),
            integration: self.integration.id.name,
            index: self.integration.id.index,
            kind,
            message,
        }
    }

    async fn run(self: Arc<Self>) {
        let limits = self.integration.rate_limits(self.opts.rate_limit_period);
        let mut limiter = Limiter::new(&limits);
        loop {
            let next = lock(&self.queue).pop_front();
            let Some(job) = next else {
                self.wake.notified().await;
                continue;
            };
            let retry_for = job.retry_for.unwrap_or(self.opts.retry_for);
            let outcome = self
                .deliver(job.notification, retry_for, &mut limiter)
                .await;
            match &outcome {
                Ok(()) => {
                    self.stats.success.fetch_add(1, Relaxed);
                }
                Err(e) => {
                    self.stats.failed.fetch_add(1, Relaxed);
                    tracing::error!(
                        receiver = %self.integration.receiver,
                        integration = %self.integration.id,
                        error = %e.message,
                        kind = %e.kind,
                        "notification failed"
                    );
                }
            }
            if let Some(tx) = job.done {
                let _ = tx.send(outcome);
            }
        }
    }

    /// Delivers one notification: rate limit, attempts, retries.
    async fn deliver(
        &self,
        mut n: Notification,
        retry_for: Duration,
        limiter: &mut Limiter,
    ) -> Outcome {
        if !self.integration.id.send_resolved {
            let now = n.now_ms;
            n.alerts.retain(|a| !a.resolved_at(now));
        }
        if n.alerts.is_empty() {
            // Alertmanager's rule: nothing left to say is a success.
            return Ok(());
        }
        let mut deadline: Option<Instant> = None;
        let mut backoff = self.opts.initial_backoff;
        let mut attempts = 0u32;
        loop {
            if let Some(at) = limiter.next_slot(Instant::now()) {
                tokio::time::sleep_until(at).await;
            }
            let start = Instant::now();
            limiter.record(start);
            let deadline = *deadline.get_or_insert(start + retry_for);
            attempts += 1;
            let verdict = self.attempt(&n).await;
            self.stats.observe(start.elapsed());
            let (msg, rate_limited) = match verdict {
                Verdict::Success => return Ok(()),
                Verdict::Permanent(m) => return Err(self.error(FailureKind::Permanent, m)),
                Verdict::Retry(m) => (m, false),
                Verdict::RateLimited(m) => (m, true),
            };
            let mut wait = jitter(backoff);
            if rate_limited {
                wait = wait.max(self.opts.rate_limited_backoff);
            }
            if Instant::now() + wait > deadline {
                return Err(self.error(FailureKind::GaveUp { attempts }, msg));
            }
            self.stats.retries.fetch_add(1, Relaxed);
            tracing::warn!(
                receiver = %self.integration.receiver,
                integration = %self.integration.id,
                attempt = attempts,
                retry_in_ms = wait.as_millis() as u64,
                error = %msg,
                "notification attempt failed, retrying"
            );
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(self.opts.max_backoff);
        }
    }

    /// One request.
    async fn attempt(&self, n: &Notification) -> Verdict {
        let i = &self.integration;
        let resolved = match i.resolve().await {
            Ok(r) => r,
            Err(e) => return Verdict::Permanent(i.redact(&e, None)),
        };
        let req = match i.request(n, &resolved, now_ms()) {
            Ok(r) => r,
            Err(e) => return Verdict::Permanent(i.redact(&e, Some(&resolved))),
        };
        let headers: Vec<(&str, &str)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let verdict = match self
            .client
            .post(
                &req.url,
                "application/json",
                &headers,
                req.body,
                self.opts.request_timeout,
            )
            .await
        {
            Ok(resp) => i.verdict(resp.status, &resp.body),
            Err(HttpError::Transport(e)) => Verdict::Retry(e),
            Err(HttpError::Request(e)) => Verdict::Permanent(e),
        };
        match verdict {
            Verdict::Success => Verdict::Success,
            Verdict::Retry(m) => Verdict::Retry(i.redact(&m, Some(&resolved))),
            Verdict::RateLimited(m) => Verdict::RateLimited(i.redact(&m, Some(&resolved))),
            Verdict::Permanent(m) => Verdict::Permanent(i.redact(&m, Some(&resolved))),
        }
    }
}

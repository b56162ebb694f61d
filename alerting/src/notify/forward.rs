//! Forwarding to external Alertmanagers (`alerting.alertmanagers`), as Prometheus' notifier
//! does it: alerts go into one queue (10 000 alerts; the oldest are dropped beyond that),
//! are sent in batches of at most 64 to every Alertmanager at once with
//! `POST <url>/api/v2/alerts`, and are not retried — the rule engine re-sends active alerts
//! every resend delay, so a missed batch is repaired by the next one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::http::Client;
use super::Alert;

/// Alerts waiting beyond this are dropped, oldest first (Prometheus'
/// `--alertmanager.notification-queue-capacity`).
pub const QUEUE_CAPACITY: usize = 10_000;
/// Alerts per request (Prometheus' `maxBatchSize`).
pub const MAX_BATCH: usize = 64;
/// How long one request may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One Alertmanager: where alerts go and how that went.
struct Target {
    /// `…/api/v2/alerts`.
    url: String,
    /// The URL without credentials or query, for metrics and logs.
    shown: String,
    sent: AtomicU64,
    errors: AtomicU64,
    latency_sum_ms: AtomicU64,
    latency_count: AtomicU64,
}

struct Shared {
    queue: Mutex<VecDeque<Alert>>,
    wake: tokio::sync::Notify,
    dropped: AtomicU64,
    targets: Vec<Target>,
}

/// Handle to the forwarding task; cheap to clone.
#[derive(Clone)]
pub struct Forwarder {
    shared: Arc<Shared>,
}

/// `http://user:pw@am:9093/prefix` → request URL `http://user:pw@am:9093/prefix/api/v2/alerts`
/// and shown form `http://am:9093/prefix`. A URL that already ends in `/api/v2/alerts` is
/// used as it is.
fn target(url: &str) -> Result<Target, String> {
    let trimmed = url.trim_end_matches('/');
    let uri: hyper::Uri = trimmed
        .parse()
        .map_err(|_| format!("alerting.alertmanagers: {:?} is not a URL", shown(trimmed)))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(format!(
            "alerting.alertmanagers: {:?} must be an http or https URL",
            shown(trimmed)
        ));
    }
    let url = if trimmed.ends_with("/api/v2/alerts") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/api/v2/alerts")
    };
    Ok(Target {
        shown: shown(trimmed),
        url,
        sent: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        latency_sum_ms: AtomicU64::new(0),
        latency_count: AtomicU64::new(0),
    })
}

/// A URL without user info and query.
fn shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = host.rsplit('@').next().unwrap_or(host);
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

/// Go's `time.Time` JSON form (RFC 3339, UTC, fraction only when non-zero).
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

/// The body of `POST /api/v2/alerts` (Alertmanager's `postableAlerts`).
pub fn postable_alerts(alerts: &[Alert]) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                let labels: Map<String, Value> = a
                    .labels
                    .iter()
                    .map(|l| (l.name.clone(), Value::String(l.value.clone())))
                    .collect();
                let mut o = json!({
                    "labels": labels,
                    "annotations": a.annotations,
                    "startsAt": rfc3339_ms(a.starts_at_ms),
                    "generatorURL": a.generator_url,
                });
                if a.ends_at_ms != 0 {
                    o["endsAt"] = Value::String(rfc3339_ms(a.ends_at_ms));
                }
                o
            })
            .collect(),
    )
}

impl Forwarder {
    /// Checks the URLs; nothing is sent before [`Forwarder::spawn`].
    pub fn new(urls: &[String]) -> Result<Forwarder, String> {
        let targets = urls.iter().map(|u| target(u)).collect::<Result<_, _>>()?;
        Ok(Forwarder {
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                wake: tokio::sync::Notify::new(),
                dropped: AtomicU64::new(0),
                targets,
            }),
        })
    }

    /// Starts the sending task on the current tokio runtime (none without Alertmanagers).
    pub fn spawn(&self, client: Client) -> Option<tokio::task::JoinHandle<()>> {
        (!self.shared.targets.is_empty()).then(|| tokio::spawn(run(self.shared.clone(), client)))
    }

    /// Whether any Alertmanager is configured.
    pub fn is_enabled(&self) -> bool {
        !self.shared.targets.is_empty()
    }

    /// Queues alerts for every Alertmanager.
    pub fn send(&self, alerts: &[Alert]) {
        if alerts.is_empty() || self.shared.targets.is_empty() {
            return;
        }
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.extend(alerts.iter().cloned());
        let over = q.len().saturating_sub(QUEUE_CAPACITY);
        if over > 0 {
            q.drain(..over);
            self.shared.dropped.fetch_add(over as u64, Relaxed);
            tracing::warn!(
                dropped = over,
                "alert queue for Alertmanagers is full; oldest alerts dropped"
            );
        }
        drop(q);
        self.shared.wake.notify_one();
    }

    /// Alerts waiting to be sent.
    pub fn queue_length(&self) -> usize {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// The forwarder's series in the Prometheus text format.
    pub fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        if self.shared.targets.is_empty() {
            return;
        }
        let s = &self.shared;
        let _ = writeln!(out, "# HELP argus_alertmanager_alerts_sent_total Alerts sent to each Alertmanager.\n# TYPE argus_alertmanager_alerts_sent_total counter");
        for t in &s.targets {
            let _ = writeln!(
                out,
                "argus_alertmanager_alerts_sent_total{{alertmanager={:?}}} {}",
                t.shown,
                t.sent.load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP argus_alertmanager_alerts_errors_total Alerts whose sending to an Alertmanager failed.\n# TYPE argus_alertmanager_alerts_errors_total counter");
        for t in &s.targets {
            let _ = writeln!(
                out,
                "argus_alertmanager_alerts_errors_total{{alertmanager={:?}}} {}",
                t.shown,
                t.errors.load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP argus_alertmanager_request_duration_seconds Time of requests to each Alertmanager.\n# TYPE argus_alertmanager_request_duration_seconds summary");
        for t in &s.targets {
            let _ = writeln!(
                out,
                "argus_alertmanager_request_duration_seconds_sum{{alertmanager={:?}}} {}\nargus_alertmanager_request_duration_seconds_count{{alertmanager={:?}}} {}",
                t.shown,
                t.latency_sum_ms.load(Relaxed) as f64 / 1000.0,
                t.shown,
                t.latency_count.load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP argus_alertmanager_alerts_dropped_total Alerts dropped because the queue was full.\n# TYPE argus_alertmanager_alerts_dropped_total counter\nargus_alertmanager_alerts_dropped_total {}", s.dropped.load(Relaxed));
        let _ = writeln!(out, "# HELP argus_alertmanager_queue_length Alerts waiting to be sent.\n# TYPE argus_alertmanager_queue_length gauge\nargus_alertmanager_queue_length {}", self.queue_length());
    }
}

async fn run(shared: Arc<Shared>, client: Client) {
    loop {
        let batch: Vec<Alert> = {
            let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            let n = q.len().min(MAX_BATCH);
            q.drain(..n).collect()
        };
        if batch.is_empty() {
            shared.wake.notified().await;
            continue;
        }
        let body = postable_alerts(&batch).to_string().into_bytes();
        let n = batch.len() as u64;
        let sends = shared.targets.iter().map(|t| {
            let (client, body) = (client.clone(), body.clone());
            async move {
                let t0 = Instant::now();
                let r = client
                    .post(&t.url, "application/json", &[], body, TIMEOUT)
                    .await;
                t.latency_sum_ms
                    .fetch_add(t0.elapsed().as_millis() as u64, Relaxed);
                t.latency_count.fetch_add(1, Relaxed);
                let err = match r {
                    Ok(r) if (200..300).contains(&r.status) => None,
                    Ok(r) => Some(format!(
                        "HTTP {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body[..r.body.len().min(512)]).trim()
                    )),
                    Err(e) => Some(e.to_string()),
                };
                match err {
                    None => {
                        t.sent.fetch_add(n, Relaxed);
                    }
                    Some(e) => {
                        t.errors.fetch_add(n, Relaxed);
                        tracing::error!(alertmanager = %t.shown, alerts = n, error = %e, "cannot send alerts to Alertmanager");
                    }
                }
            }
        });
        join_all(sends).await;
    }
}

/// Drives the futures together until all are done (no `futures` dependency for this).
async fn join_all<F: std::future::Future<Output = ()>>(futs: impl Iterator<Item = F>) {
    use std::pin::Pin;
    use std::task::Poll;
    let mut futs: Vec<Pin<Box<F>>> = futs.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        futs.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if futs.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::Labels;

    #[test]
    fn urls_are_completed_and_shown_without_credentials() {
        let t = target("http://u:p@am:9093/prefix/").expect("valid");
        assert_eq!(t.url, "http://u:p@am:9093/prefix/api/v2/alerts");
        assert_eq!(t.shown, "http://am:9093/prefix");
        let t = target("https://am.example/api/v2/alerts").expect("valid");
        assert_eq!(t.url, "https://am.example/api/v2/alerts");
        let e = target("ftp://u:secret@x/").err().expect("rejected");
        assert!(
            e.contains("alerting.alertmanagers") && !e.contains("secret"),
            "{e}"
        );
        assert!(target("not a url").is_err());
    }

    #[test]
    fn postable_alerts_shape() {
        let a = Alert {
            labels: Labels::new([("alertname", "Down"), ("job", "x")]),
            annotations: [("summary".to_string(), "s".to_string())].into(),
            starts_at_ms: 1_700_000_000_123,
            ends_at_ms: 1_700_000_240_000,
            generator_url: "http://argus/graph".into(),
            updated_at_ms: 0,
        };
        let v = postable_alerts(&[a]);
        assert_eq!(
            v,
            json!([{
                "labels": {"alertname": "Down", "job": "x"},
                "annotations": {"summary": "s"},
                "startsAt": "2023-11-14T22:13:20.123Z",
                "endsAt": "2023-11-14T22:17:20Z",
                "generatorURL": "http://argus/graph",
            }])
        );
    }
}

//! The delivery's metrics, per receiver and integration (Alertmanager's
//! `alertmanager_notifications_total`/`_failed_total` and
//! `alertmanager_notification_latency_seconds`, as argus names them):
//!
//! - `argus_notifications_total{receiver,integration,status="success"|"failed"}`: jobs
//!   delivered, and jobs given up on (permanent error, retries exhausted, dropped);
//! - `argus_notification_retries_total{receiver,integration}`: attempts retried;
//! - `argus_notification_queue_dropped_total{receiver,integration}`: jobs dropped from a
//!   full queue (also counted as failed);
//! - `argus_notification_queue_length{receiver,integration}`: jobs waiting;
//! - `argus_notification_latency_seconds{receiver,integration}`: histogram of the time of
//!   one attempt (request and answer).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latency buckets (seconds), Alertmanager's plus a few.
pub const BUCKETS: [f64; 7] = [0.1, 0.5, 1.0, 5.0, 10.0, 15.0, 20.0];

/// The counters of one integration.
#[derive(Debug, Default)]
pub struct Stats {
    pub success: AtomicU64,
    pub failed: AtomicU64,
    pub retries: AtomicU64,
    pub dropped: AtomicU64,
    /// Per bucket (not cumulative), then +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Stats {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }
}

#[derive(Default)]
struct Sum {
    success: u64,
    failed: u64,
    retries: u64,
    dropped: u64,
    queued: u64,
    buckets: [u64; BUCKETS.len() + 1],
    sum_micros: u64,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the metrics of `series` — (receiver, integration name, stats, queue length), the
/// integrations of one kind of a receiver summed — in Prometheus' text format.
pub fn write<'a>(
    series: impl Iterator<Item = (&'a str, &'static str, &'a Stats, usize)>,
    out: &mut String,
) {
    let mut sums: BTreeMap<(&str, &str), Sum> = BTreeMap::new();
    for (r, i, s, q) in series {
        let e = sums.entry((r, i)).or_default();
        e.success += s.success.load(Relaxed);
        e.failed += s.failed.load(Relaxed);
        e.retries += s.retries.load(Relaxed);
        e.dropped += s.dropped.load(Relaxed);
        e.queued += q as u64;
        for (b, x) in e.buckets.iter_mut().zip(&s.buckets) {
            *b += x.load(Relaxed);
        }
        e.sum_micros += s.sum_micros.load(Relaxed);
    }
    let labels =
        |r: &str, i: &str| format!("receiver=\"{}\",integration=\"{}\"", escape(r), escape(i));
    let header = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
    };
    header(
        out,
        "argus_notifications_total",
        "counter",
        "Notifications delivered (status=\"success\") or given up on (status=\"failed\").",
    );
    for ((r, i), s) in &sums {
        let l = labels(r, i);
        let _ = writeln!(
            out,
            "argus_notifications_total{{{l},status=\"success\"}} {}",
            s.success
        );
        let _ = writeln!(
            out,
            "argus_notifications_total{{{l},status=\"failed\"}} {}",
            s.failed
        );
    }
    header(
        out,
        "argus_notification_retries_total",
        "counter",
        "Delivery attempts that failed and were retried.",
    );
    for ((r, i), s) in &sums {
        let _ = writeln!(
            out,
            "argus_notification_retries_total{{{}}} {}",
            labels(r, i),
            s.retries
        );
    }
    header(
        out,
        "argus_notification_queue_dropped_total",
        "counter",
        "Notifications dropped, oldest first, from a full delivery queue.",
    );
    for ((r, i), s) in &sums {
        let _ = writeln!(
            out,
            "argus_notification_queue_dropped_total{{{}}} {}",
            labels(r, i),
            s.dropped
        );
    }
    header(
        out,
        "argus_notification_queue_length",
        "gauge",
        "Notifications waiting for delivery.",
    );
    for ((r, i), s) in &sums {
        let _ = writeln!(
            out,
            "argus_notification_queue_length{{{}}} {}",
            labels(r, i),
            s.queued
        );
    }
    header(
        out,
        "argus_notification_latency_seconds",
        "histogram",
        "Time of one delivery attempt.",
    );
    for ((r, i), s) in &sums {
        let l = labels(r, i);
        let mut cum = 0;
        for (b, n) in BUCKETS.iter().zip(&s.buckets) {
            cum += n;
            let _ = writeln!(
                out,
                "argus_notification_latency_seconds_bucket{{{l},le=\"{b}\"}} {cum}"
            );
        }
        cum += s.buckets[BUCKETS.len()];
        let _ = writeln!(
            out,
            "argus_notification_latency_seconds_bucket{{{l},le=\"+Inf\"}} {cum}"
        );
        let _ = writeln!(
            out,
            "argus_notification_latency_seconds_sum{{{l}}} {}",
            s.sum_micros as f64 / 1e6
        );
        let _ = writeln!(out, "argus_notification_latency_seconds_count{{{l}}} {cum}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let a = Stats::default();
        a.success.fetch_add(2, Relaxed);
        a.observe(Duration::from_millis(50));
        a.observe(Duration::from_secs(30));
        let b = Stats::default();
        b.failed.fetch_add(1, Relaxed);
        let mut out = String::new();
        write(
            [("ops", "dingtalk", &a, 3), ("ops", "dingtalk", &b, 1)].into_iter(),
            &mut out,
        );
        for want in [
            "# TYPE argus_notifications_total counter\n",
            "argus_notifications_total{receiver=\"ops\",integration=\"dingtalk\",status=\"success\"} 2\n",
            "argus_notifications_total{receiver=\"ops\",integration=\"dingtalk\",status=\"failed\"} 1\n",
            "argus_notification_queue_length{receiver=\"ops\",integration=\"dingtalk\"} 4\n",
            "argus_notification_latency_seconds_bucket{receiver=\"ops\",integration=\"dingtalk\",le=\"0.1\"} 1\n",
            "argus_notification_latency_seconds_bucket{receiver=\"ops\",integration=\"dingtalk\",le=\"20\"} 1\n",
            "argus_notification_latency_seconds_bucket{receiver=\"ops\",integration=\"dingtalk\",le=\"+Inf\"} 2\n",
            "argus_notification_latency_seconds_sum{receiver=\"ops\",integration=\"dingtalk\"} 30.05\n",
            "argus_notification_latency_seconds_count{receiver=\"ops\",integration=\"dingtalk\"} 2\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
    }
}

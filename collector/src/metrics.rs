//! The collector's own health counters (`argus_collector_*`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters shared by the tailer and the shipper.
#[derive(Debug, Default)]
pub struct CollectorMetrics {
    pub files_tailed: AtomicU64,
    pub lines_read: AtomicU64,
    pub bytes_read: AtomicU64,
    pub batches_sent: AtomicU64,
    pub batches_failed: AtomicU64,
    pub batches_rejected: AtomicU64,
    pub lag_bytes: AtomicU64,
}

impl CollectorMetrics {
    /// Prometheus text exposition of the counters.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let rows: [(&str, &str, &str, &AtomicU64); 7] = [
            (
                "argus_collector_files_tailed",
                "gauge",
                "Log files being tailed.",
                &self.files_tailed,
            ),
            (
                "argus_collector_lines_read_total",
                "counter",
                "Log records read from files.",
                &self.lines_read,
            ),
            (
                "argus_collector_read_bytes_total",
                "counter",
                "Message bytes read from log files.",
                &self.bytes_read,
            ),
            (
                "argus_collector_batches_sent_total",
                "counter",
                "Batches acknowledged by the aggregator.",
                &self.batches_sent,
            ),
            (
                "argus_collector_batches_failed_total",
                "counter",
                "Failed batch send attempts (retried).",
                &self.batches_failed,
            ),
            (
                "argus_collector_batches_rejected_total",
                "counter",
                "Batches the aggregator rejected as malformed (dropped).",
                &self.batches_rejected,
            ),
            (
                "argus_collector_checkpoint_lag_bytes",
                "gauge",
                "Bytes of tailed files not yet read.",
                &self.lag_bytes,
            ),
        ];
        for (name, kind, help, v) in rows {
            s.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                v.load(Relaxed)
            ));
        }
        s
    }
}

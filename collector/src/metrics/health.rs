//! The collector's own health series (`argus_collector_*`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use super::expo::{Exposition, Kind};

/// Counters shared by the tailer, the shipper and the scrape handlers.
#[derive(Debug, Default)]
pub struct CollectorMetrics {
    pub files_tailed: AtomicU64,
    pub lines_read: AtomicU64,
    pub bytes_read: AtomicU64,
    pub batches_sent: AtomicU64,
    pub batches_failed: AtomicU64,
    pub batches_rejected: AtomicU64,
    pub lag_bytes: AtomicU64,
    /// Duration of the last collection, in ns (f64 bits would lose nothing here).
    pub cgroup_scrape_ns: AtomicU64,
    pub node_scrape_ns: AtomicU64,
    pub cgroups: AtomicU64,
    /// The node-local pod watch (pod labels on records), when one runs.
    pub pod_watch: PodWatchMetrics,
}

/// Health of the collector's pod watch.
#[derive(Debug, Default)]
pub struct PodWatchMetrics {
    /// Whether a pod watch runs (its series are written only then).
    pub enabled: AtomicBool,
    /// 1 once a list completed, 0 again at the next failure until a list completes.
    pub synced: AtomicU64,
    /// Pods of this node in the index.
    pub pods: AtomicU64,
    /// Failed list or watch requests.
    pub failures: AtomicU64,
}

impl CollectorMetrics {
    /// Writes the `argus_collector_*` families.
    pub fn collect(&self, out: &mut Exposition) {
        let rows: [(&str, Kind, &str, &AtomicU64); 8] = [
            (
                "argus_collector_files_tailed",
                Kind::Gauge,
                "Log files being tailed.",
                &self.files_tailed,
            ),
            (
                "argus_collector_lines_read_total",
                Kind::Counter,
                "Log records read from files.",
                &self.lines_read,
            ),
            (
                "argus_collector_read_bytes_total",
                Kind::Counter,
                "Message bytes read from log files.",
                &self.bytes_read,
            ),
            (
                "argus_collector_batches_sent_total",
                Kind::Counter,
                "Batches acknowledged by the aggregator.",
                &self.batches_sent,
            ),
            (
                "argus_collector_batches_failed_total",
                Kind::Counter,
                "Failed batch send attempts (retried).",
                &self.batches_failed,
            ),
            (
                "argus_collector_batches_rejected_total",
                Kind::Counter,
                "Batches the aggregator rejected as malformed (dropped).",
                &self.batches_rejected,
            ),
            (
                "argus_collector_checkpoint_lag_bytes",
                Kind::Gauge,
                "Bytes of tailed files not yet read.",
                &self.lag_bytes,
            ),
            (
                "argus_collector_cgroups",
                Kind::Gauge,
                "Cgroups reported as container_* series at the last scrape.",
                &self.cgroups,
            ),
        ];
        for (name, kind, help, v) in rows {
            out.single(name, kind, help, v.load(Relaxed) as f64);
        }
        if self.pod_watch.enabled.load(Relaxed) {
            let w = &self.pod_watch;
            let rows: [(&str, Kind, &str, &AtomicU64); 3] = [
                (
                    "argus_collector_pod_watch_synced",
                    Kind::Gauge,
                    "Whether the node's pod list is in and no list or watch has failed since (1), or not (0).",
                    &w.synced,
                ),
                (
                    "argus_collector_pod_watch_pods",
                    Kind::Gauge,
                    "Pods of this node whose labels records get.",
                    &w.pods,
                ),
                (
                    "argus_collector_pod_watch_failures_total",
                    Kind::Counter,
                    "Failed pod list or watch requests (retried with backoff).",
                    &w.failures,
                ),
            ];
            for (name, kind, help, v) in rows {
                out.single(name, kind, help, v.load(Relaxed) as f64);
            }
        }
        let name = "argus_collector_scrape_duration_seconds";
        out.family(
            name,
            Kind::Gauge,
            "Time the last collection of each part took.",
        );
        for (part, v) in [
            ("cgroup", &self.cgroup_scrape_ns),
            ("node", &self.node_scrape_ns),
        ] {
            out.sample(name, &[("collector", part)], v.load(Relaxed) as f64 / 1e9);
        }
    }
}

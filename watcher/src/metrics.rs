//! The watcher's series, rendered in the Prometheus text format (0.0.4).
//!
//! Cluster series (served on `/metrics/cluster`, scraped with `honor_labels: true`):
//!
//! - `argus_kube_events_total{namespace,kind,reason,type}`: Event occurrences (count
//!   deltas, not objects), `kind` of the involved object, `type` Normal/Warning. An
//!   occurrence is counted when the aggregator acknowledged the state that carries it, and
//!   against the persisted count, so each is counted once even across restarts; the
//!   counter itself starts from 0 in a new process (a counter reset for `rate()`), and
//!   occurrences that happened while the watcher was down are added after its restart.
//!
//! The watcher's health (served on `/metrics`):
//!
//! - `argus_watcher_list_total{resource}`: completed lists (the first, and each relist).
//! - `argus_watcher_watch_events_total{resource,type}`: objects received, by kube-runtime
//!   event type (`init_apply` from a list, `apply` for ADDED/MODIFIED, `delete`).
//! - `argus_watcher_errors_total{resource,error}`: list/watch failures (`list_failed`,
//!   `watch_start_failed`, `watch_error` — a `410 Expired` is one —, `watch_failed`,
//!   `no_resource_version`) and `persist_failed` for the seen-events file.
//! - `argus_watcher_events_sent_total`: Event states the aggregator acknowledged.
//! - `argus_watcher_send_failures_total`: ingest requests that failed (retried).
//! - `argus_watcher_events_rejected_total`: states the aggregator refused as malformed.
//! - `argus_watcher_events_repeated_total`: observed states already known (relists,
//!   restarts), not sent again.
//! - `argus_watcher_events_pending`, `argus_watcher_events_seen`: states waiting for
//!   delivery; uids in the persisted record.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// The labels of `argus_kube_events_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey {
    pub namespace: String,
    pub kind: String,
    pub reason: String,
    pub type_: String,
}

/// Every series of the watcher.
#[derive(Debug, Default)]
pub struct WatcherMetrics {
    kube_events: Mutex<HashMap<EventKey, u64>>,
    lists: Mutex<BTreeMap<&'static str, u64>>,
    watch_events: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    errors: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Event states acknowledged by the aggregator.
    pub events_sent: AtomicU64,
    /// Failed ingest requests.
    pub send_failures: AtomicU64,
    /// States the aggregator refused as malformed.
    pub events_rejected: AtomicU64,
    /// Observed states already known.
    pub events_repeated: AtomicU64,
    /// States waiting for delivery (gauge).
    pub events_pending: AtomicU64,
    /// Uids in the seen record (gauge).
    pub events_seen: AtomicU64,
}

fn bump<K: Ord>(m: &Mutex<BTreeMap<K, u64>>, k: K) {
    if let Ok(mut m) = m.lock() {
        *m.entry(k).or_default() += 1;
    }
}

impl WatcherMetrics {
    /// Adds `occurrences` to `argus_kube_events_total{…}`.
    pub fn add_occurrences(&self, key: EventKey, occurrences: u64) {
        if occurrences == 0 {
            return;
        }
        if let Ok(mut m) = self.kube_events.lock() {
            *m.entry(key).or_default() += occurrences;
        }
    }

    /// The value of `argus_kube_events_total` summed over all label sets.
    pub fn occurrences_total(&self) -> u64 {
        self.kube_events
            .lock()
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// A completed list of `resource`.
    pub fn inc_list(&self, resource: &'static str) {
        bump(&self.lists, resource);
    }

    /// An object received from a list or watch of `resource`.
    pub fn inc_watch_event(&self, resource: &'static str, type_: &'static str) {
        bump(&self.watch_events, (resource, type_));
    }

    /// A failure while listing or watching `resource`.
    pub fn inc_error(&self, resource: &'static str, error: &'static str) {
        bump(&self.errors, (resource, error));
    }

    /// The completed lists of `resource` so far.
    pub fn lists(&self, resource: &'static str) -> u64 {
        self.lists
            .lock()
            .map(|m| m.get(resource).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Renders the cluster series (`/metrics/cluster`).
    pub fn write_cluster_metrics(&self, out: &mut String) {
        header(
            out,
            "argus_kube_events_total",
            "Kubernetes Event occurrences (count deltas), by involved object kind.",
            "counter",
        );
        if let Ok(m) = self.kube_events.lock() {
            let mut rows: Vec<(&EventKey, &u64)> = m.iter().collect();
            rows.sort();
            for (k, v) in rows {
                out.push_str("argus_kube_events_total{");
                label(out, "namespace", &k.namespace, false);
                label(out, "kind", &k.kind, true);
                label(out, "reason", &k.reason, true);
                label(out, "type", &k.type_, true);
                let _ = writeln!(out, "}} {v}");
            }
        }
    }

    /// Renders the watcher's own health series (`/metrics`).
    pub fn write_health_metrics(&self, out: &mut String) {
        header(
            out,
            "argus_watcher_list_total",
            "Completed lists, by resource.",
            "counter",
        );
        if let Ok(m) = self.lists.lock() {
            for (r, v) in m.iter() {
                out.push_str("argus_watcher_list_total{");
                label(out, "resource", r, false);
                let _ = writeln!(out, "}} {v}");
            }
        }
        header(
            out,
            "argus_watcher_watch_events_total",
            "Objects received from lists and watches, by resource and type.",
            "counter",
        );
        if let Ok(m) = self.watch_events.lock() {
            for ((r, t), v) in m.iter() {
                out.push_str("argus_watcher_watch_events_total{");
                label(out, "resource", r, false);
                label(out, "type", t, true);
                let _ = writeln!(out, "}} {v}");
            }
        }
        header(
            out,
            "argus_watcher_errors_total",
            "List, watch and persistence failures, by resource and error.",
            "counter",
        );
        if let Ok(m) = self.errors.lock() {
            for ((r, e), v) in m.iter() {
                out.push_str("argus_watcher_errors_total{");
                label(out, "resource", r, false);
                label(out, "error", e, true);
                let _ = writeln!(out, "}} {v}");
            }
        }
        let plain = [
            (
                "argus_watcher_events_sent_total",
                "Event states acknowledged by the aggregator.",
                "counter",
                &self.events_sent,
            ),
            (
                "argus_watcher_send_failures_total",
                "Event ingest requests that failed and were retried.",
                "counter",
                &self.send_failures,
            ),
            (
                "argus_watcher_events_rejected_total",
                "Event states the aggregator refused as malformed.",
                "counter",
                &self.events_rejected,
            ),
            (
                "argus_watcher_events_repeated_total",
                "Observed Event states already known (relists, restarts), not sent again.",
                "counter",
                &self.events_repeated,
            ),
            (
                "argus_watcher_events_pending",
                "Event states waiting for delivery to the aggregator.",
                "gauge",
                &self.events_pending,
            ),
            (
                "argus_watcher_events_seen",
                "Event uids in the persisted record of delivered states.",
                "gauge",
                &self.events_seen,
            ),
        ];
        for (name, help, kind, v) in plain {
            header(out, name, help, kind);
            let _ = writeln!(out, "{name} {}", v.load(Relaxed));
        }
    }

    /// Renders everything, for a process that serves all series on one endpoint.
    pub fn write_metrics(&self, out: &mut String) {
        self.write_cluster_metrics(out);
        self.write_health_metrics(out);
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn label(out: &mut String, name: &str, value: &str, comma: bool) {
    if comma {
        out.push(',');
    }
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = WatcherMetrics::default();
        let key = |ns: &str, reason: &str| EventKey {
            namespace: ns.into(),
            kind: "Pod".into(),
            reason: reason.into(),
            type_: "Warning".into(),
        };
        m.add_occurrences(key("shop", "BackOff"), 3);
        m.add_occurrences(key("shop", "BackOff"), 2);
        m.add_occurrences(key("a\"b", "OOMKilling"), 1);
        m.add_occurrences(key("none", "Zero"), 0);
        m.inc_list("events");
        m.inc_watch_event("events", "apply");
        m.inc_error("events", "watch_error");
        m.events_sent.store(4, Relaxed);
        let mut out = String::new();
        m.write_metrics(&mut out);
        for want in [
            "# TYPE argus_kube_events_total counter\n",
            "argus_kube_events_total{namespace=\"shop\",kind=\"Pod\",reason=\"BackOff\",type=\"Warning\"} 5\n",
            "argus_kube_events_total{namespace=\"a\\\"b\",kind=\"Pod\",reason=\"OOMKilling\",type=\"Warning\"} 1\n",
            "argus_watcher_list_total{resource=\"events\"} 1\n",
            "argus_watcher_watch_events_total{resource=\"events\",type=\"apply\"} 1\n",
            "argus_watcher_errors_total{resource=\"events\",error=\"watch_error\"} 1\n",
            "argus_watcher_events_sent_total 4\n",
            "# TYPE argus_watcher_events_pending gauge\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
        assert!(!out.contains("Zero"));
        assert_eq!(m.occurrences_total(), 6);
    }
}

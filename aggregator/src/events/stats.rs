//! Counters of the event store, exported by `GET /metrics` as `argus_aggregator_event*`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the search duration histogram.
pub const SEARCH_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Counters of the event store.
#[derive(Debug, Default)]
pub struct EventStats {
    /// Event states stored (new Events and newer states of known ones).
    pub ingested: AtomicU64,
    /// Of `ingested`, those that replaced a stored state.
    pub updated: AtomicU64,
    /// Older, equal (re-sent) or expired states dropped.
    pub ignored: AtomicU64,
    pub commits: AtomicU64,
    pub index_errors: AtomicU64,
    /// Searches per bucket of [`SEARCH_BUCKETS`] (not cumulative; the last slot is +Inf).
    pub search_buckets: [AtomicU64; SEARCH_BUCKETS.len() + 1],
    /// Total search time, microseconds.
    pub search_micros: AtomicU64,
}

impl EventStats {
    /// Records the duration of one search.
    pub fn observe_search(&self, took: Duration) {
        let s = took.as_secs_f64();
        let i = SEARCH_BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(SEARCH_BUCKETS.len());
        self.search_buckets[i].fetch_add(1, Relaxed);
        self.search_micros
            .fetch_add(took.as_micros().min(u64::MAX as u128) as u64, Relaxed);
    }

    /// The search histogram as (cumulative counts per bucket incl. +Inf, sum in seconds).
    pub fn search_histogram(&self) -> (Vec<u64>, f64) {
        let mut acc = 0;
        let counts = self
            .search_buckets
            .iter()
            .map(|c| {
                acc += c.load(Relaxed);
                acc
            })
            .collect();
        (counts, self.search_micros.load(Relaxed) as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_histogram_is_cumulative() {
        let s = EventStats::default();
        s.observe_search(Duration::from_micros(500));
        s.observe_search(Duration::from_millis(30));
        s.observe_search(Duration::from_secs(9));
        let (counts, sum) = s.search_histogram();
        assert_eq!(counts.len(), SEARCH_BUCKETS.len() + 1);
        assert_eq!(counts[0], 1);
        assert_eq!(counts[4], 2); // ≤ 50ms
        assert_eq!(counts[SEARCH_BUCKETS.len() - 1], 2);
        assert_eq!(counts[SEARCH_BUCKETS.len()], 3);
        assert!((sum - 9.0305).abs() < 1e-9);
    }
}

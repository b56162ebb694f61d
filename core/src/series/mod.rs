//! The metrics model shared by the metrics store (`tsdb`), the PromQL engine (`promql`)
//! and the rule engine (`alerting`): label sets, label matchers, float samples with
//! Prometheus' staleness marker, and the [`SeriesSource`] a query reads from.

mod labels;
mod matcher;
mod mem;

pub use labels::{valid_label_name, valid_metric_name, Label, Labels, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use mem::MemSource;

/// One float sample: milliseconds since the epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

/// Bits of Prometheus' staleness marker, a NaN that ends a series (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (not any NaN).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// A series and its samples in a time range, oldest first (stale markers included).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// Where queries read series from: the embedded store, or test data.
pub trait SeriesSource: Send + Sync {
    /// The series matching every matcher, with their samples whose timestamps are in
    /// `[mint, maxt]` (ms, inclusive). Series without samples there are left out.
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData>;

    /// Label names of the series matching `matchers` (all series when empty) that have
    /// samples in `[mint, maxt]`, sorted.
    fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String>;

    /// Values of label `name` among those series, sorted.
    fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String>;
}

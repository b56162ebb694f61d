//! argus' shared model: the log record every component passes around, time and duration
//! parsing as Prometheus and Loki take them, the tokenizer shared by the index and the
//! query verifier, the log query language (a LogQL subset plus free text), and the
//! metrics model (label sets, matchers, samples) shared by the metrics store and PromQL,
//! and time zones.
//!
//! No IO and almost no dependencies: every other crate builds on this one. Exceptions:
//! [`tz`] reads time zones from the system's zoneinfo (`/usr/share/zoneinfo`, once per
//! zone), behind the `ship` feature is the HTTP client that collectors and watchers
//! post batches to the aggregator with, and behind `serve` what their HTTP servers share
//! (gzip responses).

pub mod duration;
pub mod event;
pub mod level;
pub mod query;
pub mod record;
pub mod series;
#[cfg(feature = "serve")]
pub mod serve;
#[cfg(feature = "ship")]
pub mod ship;
pub mod text;
pub mod time;
pub mod tz;
pub mod varint;

pub use record::{Level, LogRecord, SourcePos, Stream};

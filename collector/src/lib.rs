//! argus' node agent. It tails every container's log files under kubelet's
//! `/var/log/pods` (CRI and docker json-file formats, both rotation styles), keeps a
//! checkpoint per file that advances only after the aggregator acknowledged a batch, and
//! ships records as OTLP/HTTP protobuf to the aggregator.
//!
//! - [`logs`]: discovery, file identity, line parsing, the tailer and its checkpoints.
//! - [`pods`]: pod labels from a watch of this node's pods (optional).
//! - [`ship`]: OTLP encoding and the HTTP client with retries and backpressure.
//! - [`Collector`]: the running component built from a [`CollectorConfig`].

pub mod config;
mod http;
pub mod logs;
pub mod metrics;
pub mod pods;
mod run;
pub mod ship;

pub use config::{CollectorConfig, LogMetricConfig, MetricsConfig, ReadFrom};
pub use run::Collector;

/// Errors of the collector.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("checkpoint file {path} is corrupt: {message}")]
    Checkpoint { path: String, message: String },
    #[error("invalid config field `{field}`: {message}")]
    Config { field: String, message: String },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.as_ref().display().to_string();
    move |source| Error::Io { path, source }
}

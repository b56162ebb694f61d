//! argus' cluster watcher: lists and watches the Kubernetes API server, records every
//! Event occurrence once (into the aggregator's event store), serves the
//! kube-state-metrics-compatible `kube_*` series, and discovers collector pods. Its tests
//! and `all-in-one --demo` run it against the fake API server of `tests/kube-fake`.
//!
//! - [`events`]: Events listed and watched, de-duplicated against a persisted record,
//!   delivered to the aggregator's `POST /api/v1/events`; `argus_kube_events_total`.
//! - [`state`]: the kube-state-metrics-compatible `kube_*` series, rendered from
//!   reflectors; [`ClusterState`] is the handle a process serves them from.
//! - [`metrics`]: the watcher's series in the Prometheus text format.
//! - [`Watcher`]: the running component built from a [`WatcherConfig`]; it serves
//!   `/metrics/cluster`, `/metrics`, `/healthz` and `/readyz` on `listen` (default
//!   `127.0.0.1:9402`).

pub mod config;
pub mod events;
mod http;
pub mod metrics;
mod run;
pub mod state;

pub use config::{EventsConfig, WatcherConfig};
pub use metrics::WatcherMetrics;
pub use run::Watcher;
pub use state::ClusterState;

/// Errors of the watcher.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid config field `{field}`: {message}")]
    Config { field: String, message: String },
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("seen-events file {path} is unreadable: {message}")]
    Seen { path: String, message: String },
    #[error("kubeconfig {path}")]
    Kubeconfig {
        path: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no Kubernetes API server found (not in a pod, no usable kubeconfig): {message}")]
    NoApiServer { message: String },
    #[error("cannot build the Kubernetes client")]
    Client {
        #[source]
        source: kube::Error,
    },
    #[error("{what} stopped unexpectedly: {message}")]
    Task { what: &'static str, message: String },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.as_ref().display().to_string();
    move |source| Error::Io { path, source }
}

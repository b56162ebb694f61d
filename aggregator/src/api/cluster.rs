//! `GET /metrics/cluster`: the cluster series of a watcher running in this process
//! (all-in-one, or an aggregator that found a kubeconfig), for the embedded scraper's
//! `kube-state-metrics` job. The aggregator does not depend on the watcher: the binary
//! hands it writers (see [`InProcessMetrics`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// Appends series in the Prometheus text format (0.0.4) to a buffer.
pub type WriteMetrics = Arc<dyn Fn(&mut String) + Send + Sync>;

/// Series of components that run inside the aggregator's process.
#[derive(Clone, Default)]
pub struct InProcessMetrics {
    /// Served on `/metrics/cluster` (cluster state and Event counters); None: 404.
    pub cluster: Option<WriteMetrics>,
    /// Appended to the aggregator's `/metrics` (the components' own health series).
    pub health: Vec<WriteMetrics>,
    /// The watched cluster's pods, for collector discovery; None: no discovery.
    pub pods: Option<crate::discovery::PodSource>,
}

impl std::fmt::Debug for InProcessMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessMetrics")
            .field("cluster", &self.cluster.is_some())
            .field("health", &self.health.len())
            .field("pods", &self.pods.is_some())
            .finish()
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(write) = state.in_process.cluster.clone() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no cluster watcher runs in this process (no kubeconfig or in-cluster config found)",
        )
        .into_response();
    };
    let mut out = String::new();
    write(&mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

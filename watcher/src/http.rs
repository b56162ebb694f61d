//! The watcher's endpoints on `listen`:
//!
//! - `/metrics/cluster`: cluster series (the kube-state-metrics-compatible `kube_*`
//!   and `argus_kube_events_total`), for a scrape job with `honor_labels: true`;
//! - `/metrics`: the watcher's own `argus_watcher_*` health series;
//! - `/healthz`: the process is up; `/readyz`: the first list of Events and of every
//!   reflected resource is done.
//!
//! Text format 0.0.4, gzip-compressed for clients that accept it; values are read at
//! scrape time, without timestamps.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::metrics::WatcherMetrics;
use crate::state::ClusterState;

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The router of the watcher's endpoints; `synced` (Events listed) and the state's
/// sync answer `/readyz`.
pub fn router(
    metrics: Arc<WatcherMetrics>,
    state: Option<ClusterState>,
    synced: Arc<AtomicBool>,
) -> Router {
    let cluster = metrics.clone();
    let cluster_state = state.clone();
    Router::new()
        .route(
            "/metrics/cluster",
            get(move || async move {
                let mut out = String::new();
                if let Some(s) = &cluster_state {
                    s.write_metrics(&mut out);
                }
                cluster.write_cluster_metrics(&mut out);
                ([(header::CONTENT_TYPE, TEXT_FORMAT)], out)
            }),
        )
        .route(
            "/metrics",
            get(move || async move {
                let mut out = String::new();
                metrics.write_health_metrics(&mut out);
                ([(header::CONTENT_TYPE, TEXT_FORMAT)], out)
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || async move {
                let mut waiting: Vec<&str> = Vec::new();
                if !synced.load(Relaxed) {
                    waiting.push("events");
                }
                if let Some(s) = &state {
                    waiting.extend(s.unsynced());
                }
                if waiting.is_empty() {
                    (StatusCode::OK, "ready\n").into_response()
                } else {
                    let body = format!("not listed yet: {}\n", waiting.join(", "));
                    (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
                }
            }),
        )
        .layer(axum::middleware::from_fn(argus_core::serve::gzip))
}

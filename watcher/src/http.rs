//! The watcher's endpoints on `listen`:
//!
//! - `/metrics/cluster`: cluster series (`argus_kube_events_total`, later `kube_*`), for a
//!   scrape job with `honor_labels: true`;
//! - `/metrics`: the watcher's own `argus_watcher_*` health series;
//! - `/healthz`: the process is up; `/readyz`: the first list of Events is done.
//!
//! Text format 0.0.4; values are read at scrape time, without timestamps.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::metrics::WatcherMetrics;

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The router of the watcher's endpoints; `synced` answers `/readyz`.
pub fn router(metrics: Arc<WatcherMetrics>, synced: Arc<AtomicBool>) -> Router {
    let cluster = metrics.clone();
    Router::new()
        .route(
            "/metrics/cluster",
            get(move || async move {
                let mut out = String::new();
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
                if synced.load(Relaxed) {
                    (StatusCode::OK, "ready\n").into_response()
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "events not listed yet\n").into_response()
                }
            }),
        )
}

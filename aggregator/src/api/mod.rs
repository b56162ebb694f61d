//! The aggregator's HTTP API (see DESIGN.md): ingest, log search and tail, the event store's
//! ingest and search, self-monitoring and the web UI. Responses use Prometheus' envelope.

mod am;
mod cluster;
mod error;
mod events;
mod ingest;
mod prom;
mod search;
mod self_metrics;
mod tail;
mod ui;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub use cluster::{InProcessMetrics, WriteMetrics};
pub use error::ApiError;

use crate::events::EventStore;
use crate::store::TantivyStore;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<TantivyStore>,
    pub events: Arc<EventStore>,
    pub token: Option<Arc<str>>,
    pub metrics: Arc<argus_tsdb::Db>,
    pub scrape: Arc<argus_tsdb::scrape::Manager>,
    pub engine: Arc<argus_promql::Engine>,
    pub rules: Option<Arc<crate::rules::Rules>>,
    pub notifier: Arc<crate::notifier::Notifier>,
    /// Series of components running in this process (the in-process watcher).
    pub in_process: InProcessMetrics,
}

/// The API router.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/logs", post(ingest::otlp))
        .route("/loki/api/v1/push", post(ingest::loki))
        .route("/api/v1/logs/search", get(search::get).post(search::post))
        .route("/api/v1/logs/tail", get(tail::tail))
        .route("/api/v1/events", post(events::ingest))
        .route(
            "/api/v1/events/search",
            get(events::search_get).post(events::search_post),
        )
        .route("/api/v1/query", get(prom::query).post(prom::query_form))
        .route(
            "/api/v1/query_range",
            get(prom::query_range).post(prom::query_range_form),
        )
        .route("/api/v1/series", get(prom::series).post(prom::series_form))
        .route("/api/v1/labels", get(prom::labels).post(prom::labels_form))
        .route("/api/v1/label/{name}/values", get(prom::label_values))
        .route("/api/v1/targets", get(prom::targets))
        .route("/api/v1/rules", get(prom::rules))
        .route("/api/v1/alerts", get(prom::alerts))
        .route("/-/reload", post(prom::reload))
        .route("/api/v1/status/buildinfo", get(prom::buildinfo))
        .route("/api/v1/status/tsdb", get(prom::tsdb_status))
        .route("/api/v1/metadata", get(prom::metadata))
        .route(
            "/api/v1/query_exemplars",
            get(prom::exemplars).post(prom::exemplars),
        )
        .route("/api/v2/status", get(am::status))
        .route("/api/v2/receivers", get(am::receivers))
        .route("/api/v2/alerts", get(am::get_alerts).post(am::post_alerts))
        .route("/api/v2/alerts/groups", get(am::alert_groups))
        .route(
            "/api/v2/silences",
            get(am::get_silences).post(am::post_silences),
        )
        .route(
            "/api/v2/silence/{id}",
            get(am::get_silence).delete(am::delete_silence),
        )
        .route("/-/healthy", get(|| async { "OK" }))
        .route("/-/ready", get(|| async { "OK" }))
        .route("/metrics", get(self_metrics::metrics))
        .route("/metrics/cluster", get(cluster::metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(|| async { "ready\n" }))
        .route("/", get(ui::index))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(argus_core::serve::gzip))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

async fn not_found(req: Request) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
    .into_response()
}

async fn auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = &state.token else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    // `/metrics/cluster` is open like the watcher's own listener and the collector's
    // `/metrics`: the embedded scraper, which sends no token, reads it over loopback.
    if path == "/healthz" || path == "/readyz" || path == "/metrics/cluster" {
        return next.run(req).await;
    }
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == &**token);
    if ok {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        )
        .into_response()
    }
}

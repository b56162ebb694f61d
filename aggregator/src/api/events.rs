//! `POST /api/v1/events` (the watcher's ingest, answered once durable) and
//! `GET|POST /api/v1/events/search` (the log search's parameters and envelope, event hits).

use argus_core::event::KubeEvent;
use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};

use super::search::{respond, SearchParams};
use super::{ApiError, AppState};
use crate::events::EventHit;

/// `{"events":[KubeEvent…]}` → 200 `{"accepted":N,"updated":U,"ignored":I}` once durable.
pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    match headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
    {
        None | Some("") | Some("identity") => {}
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "bad_data",
                format!("content-encoding {other:?} is not supported; send the body uncompressed"),
            ))
        }
    }
    let store = state.events.clone();
    let done = tokio::task::spawn_blocking(move || {
        let events = crate::ingest::events::decode(&body).map_err(|e| ApiError::bad_data(e.0))?;
        store
            .append(events)
            .map_err(|e| ApiError::unavailable(format!("cannot store the events: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(json!({
        "accepted": done.accepted,
        "updated": done.updated,
        "ignored": done.ignored,
    })))
}

/// The JSON of one event hit: the [`KubeEvent`] JSON (DESIGN.md's event hit fields plus
/// `resource_version`), the same shape the ingest takes.
pub fn hit_json(e: &KubeEvent) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

pub async fn search_get(
    State(s): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    run(s, p).await
}

pub async fn search_post(
    State(s): State<AppState>,
    Form(p): Form<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    run(s, p).await
}

async fn run(state: AppState, p: SearchParams) -> Result<Json<Value>, ApiError> {
    let store = state.events.clone();
    respond(
        p,
        move |req| store.search(req),
        |h: &EventHit| hit_json(&h.event),
    )
    .await
}

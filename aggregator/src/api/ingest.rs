//! `POST /v1/logs` (OTLP/HTTP) and `POST /loki/api/v1/push`. The response is sent once the
//! batch is durable; a body that cannot be decoded is a 400 that says why.

use argus_core::LogRecord;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::ingest;
use crate::store::LogBackend;

fn content_type(h: &HeaderMap) -> &str {
    h.get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn check_encoding(h: &HeaderMap) -> Result<(), ApiError> {
    match h.get("content-encoding").and_then(|v| v.to_str().ok()) {
        None | Some("identity") | Some("") => Ok(()),
        Some("snappy") => Ok(()),
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_data",
            format!("content-encoding {other:?} is not supported; send the body uncompressed"),
        )),
    }
}

async fn store(
    state: &AppState,
    decode: impl FnOnce() -> Result<Vec<LogRecord>, ingest::DecodeError> + Send + 'static,
) -> Result<(), ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let recs = decode().map_err(|e| ApiError::bad_data(e.0))?;
        store
            .append(recs)
            .map_err(|e| ApiError::unavailable(format!("cannot store the batch: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(())
}

/// OTLP/HTTP logs, protobuf or JSON.
pub async fn otlp(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_encoding(&headers)?;
    let json = content_type(&headers).starts_with("application/json");
    store(&state, move || {
        if json {
            ingest::otlp::decode_json(&body)
        } else {
            ingest::otlp::decode_protobuf(&body)
        }
    })
    .await?;
    Ok(if json {
        ([("content-type", "application/json")], "{}").into_response()
    } else {
        // An empty ExportLogsServiceResponse.
        ([("content-type", "application/x-protobuf")], Bytes::new()).into_response()
    })
}

/// Loki push, JSON or snappy-compressed protobuf.
pub async fn loki(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let json = content_type(&headers).starts_with("application/json");
    if json {
        check_encoding(&headers)?;
    }
    store(&state, move || {
        if json {
            ingest::loki::decode_json(&body)
        } else {
            ingest::loki::decode_protobuf(&body)
        }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

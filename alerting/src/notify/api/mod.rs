//! Alertmanager 0.25's v2 API over argus' dispatcher and silences, one function per
//! endpoint, each returning the status and JSON body Alertmanager would (so `amtool`,
//! Grafana and Prometheus work unchanged). The HTTP server only routes, decodes the
//! query string into pairs and writes [`ApiResponse`].
//!
//! | endpoint | function |
//! | --- | --- |
//! | `GET /api/v2/status` | [`get_status`] |
//! | `GET /api/v2/receivers` | [`get_receivers`] |
//! | `GET /api/v2/alerts` | [`get_alerts`] |
//! | `POST /api/v2/alerts` | [`post_alerts`] |
//! | `GET /api/v2/alerts/groups` | [`get_alert_groups`] |
//! | `GET /api/v2/silences` | [`get_silences`] |
//! | `POST /api/v2/silences` | [`post_silences`] |
//! | `GET /api/v2/silence/{id}` | [`get_silence`] |
//! | `DELETE /api/v2/silence/{id}` | [`delete_silence`] |

pub mod parse;
pub mod render;

use serde_json::{json, Value};

pub use render::{time_string, StatusInfo};

use crate::notify::config::Config;
use crate::notify::dispatch::Dispatcher;
use crate::notify::silence::{SilenceError, Silences};

/// A response: status code and JSON body (`None`: empty body).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body; `None` for an empty body.
    pub body: Option<Value>,
}

impl ApiResponse {
    fn ok(body: Value) -> ApiResponse {
        ApiResponse {
            status: 200,
            body: Some(body),
        }
    }

    fn empty(status: u16) -> ApiResponse {
        ApiResponse { status, body: None }
    }

    /// Alertmanager's handler errors: a JSON string.
    fn message(status: u16, msg: impl Into<String>) -> ApiResponse {
        ApiResponse {
            status,
            body: Some(Value::String(msg.into())),
        }
    }

    /// go-swagger's errors: `{"code": …, "message": …}`.
    fn coded(status: u16, code: u16, msg: impl Into<String>) -> ApiResponse {
        ApiResponse {
            status,
            body: Some(json!({"code": code, "message": msg.into()})),
        }
    }

    /// The body as bytes (empty for no body).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// `GET /api/v2/status`.
pub fn get_status(info: &StatusInfo, config: &Config) -> ApiResponse {
    ApiResponse::ok(render::status(info, config))
}

/// `GET /api/v2/receivers`.
pub fn get_receivers(config: &Config) -> ApiResponse {
    ApiResponse::ok(render::receivers(config))
}

/// `GET /api/v2/alerts` (`active`, `silenced`, `inhibited`, `unprocessed`, `filter`,
/// `receiver`).
pub fn get_alerts(
    d: &Dispatcher,
    silences: &Silences,
    query: &[(String, String)],
    now_ms: i64,
) -> ApiResponse {
    match parse::alert_filter(query) {
        Ok(f) => ApiResponse::ok(render::gettable_alerts(
            &d.alerts_for_api(silences, &f, now_ms),
        )),
        Err(e) => ApiResponse::message(400, e),
    }
}

/// `GET /api/v2/alerts/groups` (`active`, `silenced`, `inhibited`, `filter`, `receiver`).
pub fn get_alert_groups(
    d: &Dispatcher,
    silences: &Silences,
    query: &[(String, String)],
    now_ms: i64,
) -> ApiResponse {
    match parse::alert_filter(query) {
        Ok(f) => ApiResponse::ok(render::alert_groups(
            &d.groups_for_api(silences, &f, now_ms),
        )),
        Err(e) => ApiResponse::message(400, e),
    }
}

/// `POST /api/v2/alerts`: valid alerts are taken even when others are refused (400 with
/// every problem, `; `-separated, as Alertmanager).
pub fn post_alerts(d: &mut Dispatcher, body: &[u8], now_ms: i64) -> ApiResponse {
    let alerts = match parse::postable_alerts(body) {
        Ok(a) => a,
        Err(e) => return ApiResponse::message(400, e),
    };
    let errors = d.put(alerts, now_ms);
    if errors.is_empty() {
        ApiResponse::empty(200)
    } else {
        ApiResponse::message(400, errors.join("; "))
    }
}

/// `GET /api/v2/silences` (`filter`).
pub fn get_silences(silences: &Silences, query: &[(String, String)], now_ms: i64) -> ApiResponse {
    match parse::filter_params(query) {
        Ok(f) => ApiResponse::ok(json!(silences
            .list(&f, now_ms)
            .iter()
            .map(|s| render::gettable_silence(s, now_ms))
            .collect::<Vec<_>>())),
        Err(e) => ApiResponse::message(400, e),
    }
}

/// `GET /api/v2/silence/{id}`.
pub fn get_silence(silences: &Silences, id: &str, now_ms: i64) -> ApiResponse {
    if let Err(e) = parse::check_silence_id(id) {
        return ApiResponse::coded(422, 601, e);
    }
    match silences.get(id) {
        Some(s) => ApiResponse::ok(render::gettable_silence(s, now_ms)),
        None => ApiResponse::empty(404),
    }
}

/// `POST /api/v2/silences`: creates or updates; answers `{"silenceID": …}`.
pub fn post_silences(silences: &mut Silences, body: &[u8], now_ms: i64) -> ApiResponse {
    let sil = match parse::postable_silence(body) {
        Ok(s) => s,
        Err(e) if e.status == 400 && e.message.starts_with("silence invalid") => {
            return ApiResponse::message(400, e.message)
        }
        Err(e) => return ApiResponse::coded(e.status, e.code, e.message),
    };
    if sil.starts_at_ms >= sil.ends_at_ms {
        return ApiResponse::message(
            400,
            "Failed to create silence: start time must be before end time",
        );
    }
    if sil.ends_at_ms < now_ms {
        return ApiResponse::message(
            400,
            "Failed to create silence: end time can't be in the past",
        );
    }
    match silences.set(sil, now_ms) {
        Ok(id) => ApiResponse::ok(json!({ "silenceID": id })),
        Err(SilenceError::NotFound) => ApiResponse::message(404, "silence not found"),
        Err(e @ SilenceError::Invalid(_)) => ApiResponse::message(400, e.to_string()),
        Err(e) => ApiResponse::message(500, e.to_string()),
    }
}

/// `DELETE /api/v2/silence/{id}`: expires it (success also when already expired, as
/// Alertmanager 0.25). An unknown id is a 404 (Alertmanager 0.25 answers 500 there, a
/// bug fixed later; its API spec says 404).
pub fn delete_silence(silences: &mut Silences, id: &str, now_ms: i64) -> ApiResponse {
    if let Err(e) = parse::check_silence_id(id) {
        return ApiResponse::coded(422, 601, e);
    }
    match silences.expire(id, now_ms) {
        Ok(()) => ApiResponse::empty(200),
        Err(SilenceError::NotFound) => ApiResponse::message(404, "silence not found"),
        Err(e) => ApiResponse::message(500, e.to_string()),
    }
}

#[cfg(test)]
mod tests;

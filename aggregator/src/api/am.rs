//! Alertmanager's v2 API on the aggregator port (so `amtool`, Grafana's Alertmanager data
//! source and Prometheus itself work against argus): the handlers decode the request and
//! call `argus_alerting::notify::api`, which answers as Alertmanager 0.25 does.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use argus_alerting::notify::api::{self, ApiResponse, StatusInfo};

use super::AppState;

fn now_ms() -> i64 {
    argus_core::time::now_ns() / 1_000_000
}

fn pairs(q: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn respond(r: ApiResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if r.body.is_none() {
        return status.into_response();
    }
    (
        status,
        [("content-type", "application/json")],
        r.body_bytes(),
    )
        .into_response()
}

pub async fn status(State(s): State<AppState>) -> Response {
    let info = StatusInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        revision: String::new(),
        branch: String::new(),
        build_user: String::new(),
        build_date: String::new(),
        go_version: "rust".to_string(),
        started_at_ms: s.notifier.started_ms(),
    };
    let config = s.notifier.state().config.clone();
    respond(api::get_status(&info, &config))
}

pub async fn receivers(State(s): State<AppState>) -> Response {
    let config = s.notifier.state().config.clone();
    respond(api::get_receivers(&config))
}

pub async fn get_alerts(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let st = s.notifier.state();
    respond(api::get_alerts(
        &st.dispatcher,
        &st.silences,
        &pairs(q),
        now_ms(),
    ))
}

pub async fn post_alerts(State(s): State<AppState>, body: Bytes) -> Response {
    let r = api::post_alerts(&mut s.notifier.state().dispatcher, &body, now_ms());
    s.notifier.poke();
    respond(r)
}

pub async fn alert_groups(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let st = s.notifier.state();
    respond(api::get_alert_groups(
        &st.dispatcher,
        &st.silences,
        &pairs(q),
        now_ms(),
    ))
}

pub async fn get_silences(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let st = s.notifier.state();
    respond(api::get_silences(&st.silences, &pairs(q), now_ms()))
}

pub async fn post_silences(State(s): State<AppState>, body: Bytes) -> Response {
    let r = api::post_silences(&mut s.notifier.state().silences, &body, now_ms());
    s.notifier.poke();
    respond(r)
}

pub async fn get_silence(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let st = s.notifier.state();
    respond(api::get_silence(&st.silences, &id, now_ms()))
}

pub async fn delete_silence(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let r = api::delete_silence(&mut s.notifier.state().silences, &id, now_ms());
    s.notifier.poke();
    respond(r)
}

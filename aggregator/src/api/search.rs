//! `GET|POST /api/v1/logs/search`: `query`, `start`, `end` (RFC3339 or unix seconds; default
//! the last hour), `limit` (default 100, at most 5000), `direction` (`backward`, newest
//! first, or `forward`), `cursor` (from `next_cursor`), `step` (histogram bucket; chosen
//! for about 60 buckets when absent). The parameters and the answer's envelope are shared
//! with `/api/v1/events/search` ([`request`], [`respond`]).

use argus_core::LogRecord;
use axum::extract::{Form, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;

use super::{ApiError, AppState};
use crate::store::{Cursor, Direction, Hit, LogBackend, SearchRequest, SearchResult};

/// The most hits one page returns.
pub const MAX_LIMIT: usize = 5000;
const MAX_BUCKETS: i64 = 11_000;

/// Query parameters shared by the search endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub query: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub limit: Option<String>,
    pub direction: Option<String>,
    pub cursor: Option<String>,
    pub step: Option<String>,
}

pub async fn get(
    State(s): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    run(s, p).await
}

pub async fn post(
    State(s): State<AppState>,
    Form(p): Form<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    run(s, p).await
}

/// Chooses a histogram step: a round duration giving at most about 60 buckets.
pub fn auto_step(range_ns: i64) -> i64 {
    const STEPS: [i64; 19] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400, 604_800,
    ];
    let want = range_ns / 60;
    STEPS
        .iter()
        .map(|s| s * 1_000_000_000)
        .find(|s| *s >= want)
        .unwrap_or(want.max(1))
}

/// Parses the parameters into a request (also used by tail).
pub fn request(p: &SearchParams) -> Result<SearchRequest, ApiError> {
    let query_text = p.query.as_deref().unwrap_or("");
    let query = argus_core::query::parse(query_text)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    let now = argus_core::time::now_ns();
    let time = |name: &str, v: &Option<String>, default: i64| -> Result<i64, ApiError> {
        match v.as_deref() {
            None | Some("") => Ok(default),
            Some(t) => argus_core::time::parse_api_time(t)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter \"{name}\": {e}"))),
        }
    };
    let end = time("end", &p.end, now)?;
    let start = time("start", &p.start, end - 3_600_000_000_000)?;
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let limit = match p.limit.as_deref() {
        None | Some("") => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| *l <= MAX_LIMIT)
            .ok_or_else(|| {
                ApiError::bad_data(format!(
                    "invalid parameter \"limit\": {l:?} is not a number from 0 to {MAX_LIMIT}"
                ))
            })?,
    };
    let direction = match p.direction.as_deref() {
        None | Some("") | Some("backward") | Some("BACKWARD") => Direction::Backward,
        Some("forward") | Some("FORWARD") => Direction::Forward,
        Some(d) => {
            return Err(ApiError::bad_data(format!(
                "invalid parameter \"direction\": {d:?} (want backward or forward)"
            )))
        }
    };
    let cursor =
        match p.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(parse_cursor(c).ok_or_else(|| {
                ApiError::bad_data(format!("invalid parameter \"cursor\": {c:?}"))
            })?),
        };
    let range = end - start;
    let step_ns = match p.step.as_deref() {
        None | Some("") => auto_step(range),
        Some(s) => {
            let d = argus_core::duration::parse_duration(s)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter \"step\": {e}")))?;
            let ns = d.as_nanos().min(i64::MAX as u128) as i64;
            if ns <= 0 {
                return Err(ApiError::bad_data(
                    "invalid parameter \"step\": must be positive",
                ));
            }
            if range / ns > MAX_BUCKETS {
                return Err(ApiError::bad_data(format!(
                    "invalid parameter \"step\": more than {MAX_BUCKETS} histogram buckets; use a larger step"
                )));
            }
            ns
        }
    };
    Ok(SearchRequest {
        query,
        start_ns: start,
        end_ns: end,
        limit,
        direction,
        cursor,
        step_ns,
    })
}

fn parse_cursor(c: &str) -> Option<Cursor> {
    let (ts, seq) = c.split_once(':')?;
    Some(Cursor {
        timestamp_ns: ts.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

/// The JSON of one hit (DESIGN.md: timestamp, namespace, pod, container, node, stream,
/// level, message, labels).
pub fn hit_json(r: &LogRecord) -> Value {
    json!({
        "timestamp": argus_core::time::format_rfc3339_nano(r.timestamp_ns),
        "namespace": r.namespace,
        "pod": r.pod,
        "container": r.container,
        "node": r.node,
        "stream": r.stream.as_str(),
        "level": r.level.as_str(),
        "message": r.message,
        "labels": r.labels,
        "pod_uid": r.pod_uid,
        "restart_count": r.restart_count,
        "file_path": r.file_path,
    })
}

async fn run(state: AppState, p: SearchParams) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    respond(
        p,
        move |req| store.search(req),
        |h: &Hit| hit_json(&h.record),
    )
    .await
}

/// Runs a search of `p` on a blocking thread and answers with the search envelope (hits,
/// total, histogram, step, next_cursor, stats): shared by the log and event searches.
pub async fn respond<H: Send + 'static>(
    p: SearchParams,
    search: impl FnOnce(&SearchRequest) -> crate::store::Result<SearchResult<H>> + Send + 'static,
    hit_json: impl Fn(&H) -> Value,
) -> Result<Json<Value>, ApiError> {
    let req = request(&p)?;
    let t0 = Instant::now();
    let (req, res) = tokio::task::spawn_blocking(move || {
        let res = search(&req);
        (req, res)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let res = res.map_err(|e| ApiError::internal(format!("search failed: {e}")))?;
    let took = t0.elapsed();
    let histogram: Vec<Value> = res
        .histogram
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "timestamp": argus_core::time::format_rfc3339_nano(req.start_ns + i as i64 * req.step_ns),
                "count": c,
            })
        })
        .collect();
    let hits: Vec<Value> = res.hits.iter().map(hit_json).collect();
    Ok(Json(json!({
        "status": "success",
        "data": {
            "hits": hits,
            "total": res.total,
            "histogram": histogram,
            "step": req.step_ns as f64 / 1e9,
            "next_cursor": res.next_cursor.map(|c| format!("{}:{}", c.timestamp_ns, c.seq)),
            "stats": {
                "partitions": res.partitions,
                "verified": res.verified,
                "took_seconds": took.as_secs_f64(),
            },
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_step_is_round() {
        assert_eq!(auto_step(3_600_000_000_000), 60_000_000_000);
        assert_eq!(auto_step(60_000_000_000), 1_000_000_000);
        assert_eq!(auto_step(0), 1_000_000_000);
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let p = SearchParams {
            query: Some("{namespace=}".into()),
            ..SearchParams::default()
        };
        let e = request(&p).expect_err("bad query");
        assert!(
            e.message.contains("\"query\"") && e.message.contains("position"),
            "{}",
            e.message
        );
        let p = SearchParams {
            limit: Some("lots".into()),
            ..SearchParams::default()
        };
        assert!(request(&p)
            .expect_err("bad limit")
            .message
            .contains("limit"));
        let p = SearchParams {
            start: Some("2026-01-02T00:00:00Z".into()),
            end: Some("2026-01-01T00:00:00Z".into()),
            ..SearchParams::default()
        };
        assert!(request(&p).is_err());
    }
}

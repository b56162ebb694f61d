//! Prometheus' HTTP API over the embedded metrics store, with its request parameters (GET
//! query string or form POST, repeated `match[]`) and JSON shapes, so that Grafana's
//! Prometheus data source and other tools work against argus.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as Json_};

use argus_core::series::{Labels, Matcher, SeriesSource};

use super::{ApiError, AppState};

/// Largest number of points a range query may return per series, as Prometheus.
const MAX_POINTS: i64 = 11_000;

/// Query-string or form parameters, repeated keys kept.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &str) -> Params {
        Params(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn merge(query: Option<String>, body: &str) -> Params {
        let mut p = Params::parse(query.as_deref().unwrap_or(""));
        p.0.extend(Params::parse(body).0);
        p
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn success(data: Json_) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

/// A query result written straight to the response body.
fn json_body(v: &argus_promql::Value) -> Response {
    let mut body = String::with_capacity(4096);
    v.write_api_response(&mut body);
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn now_ms() -> i64 {
    argus_core::time::now_ns() / 1_000_000
}

/// A time parameter (unix seconds or RFC3339) in ms.
fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => parse_time_ms(v).ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse {v:?} to a valid timestamp"
            ))
        }),
    }
}

/// Unix seconds or RFC3339 in ms. Seconds are rounded to the nearest millisecond, as
/// Prometheus' `parseTime` does: the float nearest to `1700010000.734` is 733.99996… ms
/// past the second, and Grafana sends such times (its instant queries' `time` is the end
/// of the dashboard's range, milliseconds kept).
///
/// Seconds may lie far outside the nanosecond range of log times: Grafana's exemplar
/// probe sends milliseconds where seconds belong (`start=1700008200734`, the year 55 840),
/// and Prometheus takes them. Up to 9.2e12 s, so that the milliseconds leave room for the
/// engine's arithmetic.
fn parse_time_ms(v: &str) -> Option<i64> {
    match v.trim().parse::<f64>() {
        Ok(secs) => {
            if !secs.is_finite() || secs.abs() >= 9.2e12 {
                return None;
            }
            let whole = secs.trunc();
            Some(whole as i64 * 1000 + ((secs - whole) * 1000.0).round() as i64)
        }
        Err(_) => argus_core::time::parse_api_time(v)
            .ok()
            .map(|ns| ns.div_euclid(1_000_000)),
    }
}

/// A duration parameter: a float of seconds or a Prometheus duration, in ms.
fn duration_param(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = p.get(name) else {
        return Ok(None);
    };
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs > 0.0 && secs < 9.2e12 {
            return Ok(Some((secs * 1000.0).round() as i64));
        }
    }
    argus_core::duration::parse_duration(v)
        .map(|d| Some(d.as_millis() as i64))
        .map_err(|_| {
            ApiError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse {v:?} to a valid duration"
            ))
        })
}

fn exec_error(e: argus_promql::Error) -> ApiError {
    match e {
        argus_promql::Error::Parse(m) => {
            ApiError::bad_data(format!("invalid parameter \"query\": {m}"))
        }
        argus_promql::Error::Timeout => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "query timed out in expression evaluation",
        ),
        argus_promql::Error::TooManySamples => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "execution",
            "query processing would load too many samples into memory in query execution",
        ),
        argus_promql::Error::Eval(m) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "execution", m)
        }
    }
}

async fn run_query(state: AppState, p: Params) -> Response {
    let Some(q) = p.get("query").map(str::to_string) else {
        return ApiError::bad_data("invalid parameter \"query\": unknown position: parse error: no expression found in input").into_response();
    };
    let t = match time_param(&p, "time", now_ms()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let res = tokio::task::spawn_blocking(move || {
        let _busy = crate::memory::busy();
        state.engine.instant(&*state.metrics, &q, t)
    })
    .await;
    match res {
        Ok(Ok(v)) => json_body(&v),
        Ok(Err(e)) => exec_error(e).into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

pub async fn query(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    run_query(state, Params::merge(q, "")).await
}

pub async fn query_form(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    body: String,
) -> Response {
    run_query(state, Params::merge(q, &body)).await
}

async fn run_range(state: AppState, p: Params) -> Response {
    let Some(q) = p.get("query").map(str::to_string) else {
        return ApiError::bad_data("invalid parameter \"query\": unknown position: parse error: no expression found in input").into_response();
    };
    let parsed = (|| -> Result<(i64, i64, i64), ApiError> {
        if p.get("start").is_none() {
            return Err(ApiError::bad_data(
                "invalid parameter \"start\": cannot parse \"\" to a valid timestamp",
            ));
        }
        if p.get("end").is_none() {
            return Err(ApiError::bad_data(
                "invalid parameter \"end\": cannot parse \"\" to a valid timestamp",
            ));
        }
        let start = time_param(&p, "start", 0)?;
        let end = time_param(&p, "end", 0)?;
        if end < start {
            return Err(ApiError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        let step = duration_param(&p, "step")?.ok_or_else(|| {
            ApiError::bad_data("invalid parameter \"step\": cannot parse \"\" to a valid duration")
        })?;
        if step <= 0 {
            return Err(ApiError::bad_data("invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"));
        }
        if (end - start) / step > MAX_POINTS {
            return Err(ApiError::bad_data("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"));
        }
        Ok((start, end, step))
    })();
    let (start, end, step) = match parsed {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let res = tokio::task::spawn_blocking(move || {
        let _busy = crate::memory::busy();
        state.engine.range(&*state.metrics, &q, start, end, step)
    })
    .await;
    match res {
        Ok(Ok(v)) => json_body(&v),
        Ok(Err(e)) => exec_error(e).into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

pub async fn query_range(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    run_range(state, Params::merge(q, "")).await
}

pub async fn query_range_form(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    body: String,
) -> Response {
    run_range(state, Params::merge(q, &body)).await
}

/// A series selector (`up{job="x"}`) as matcher sets (one per `or` alternative).
fn selector(s: &str) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let bad = |m: String| ApiError::bad_data(format!("invalid parameter \"match[]\": {m}"));
    let expr =
        promql_parser::parser::parse(s).map_err(|e| bad(format!("1:1: parse error: {e}")))?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(bad(format!(
            "1:1: parse error: unexpected expression, want a series selector: {s:?}"
        )));
    };
    let convert = |ms: &[promql_parser::label::Matcher]| -> Result<Vec<Matcher>, ApiError> {
        let mut out = Vec::new();
        if let Some(n) = &vs.name {
            out.push(Matcher::equal("__name__", n));
        }
        for m in ms {
            use promql_parser::label::MatchOp as Op;
            out.push(match &m.op {
                Op::Equal => Matcher::equal(&m.name, &m.value),
                Op::NotEqual => Matcher::not_equal(&m.name, &m.value),
                Op::Re(_) => {
                    Matcher::regex(&m.name, &m.value, false).map_err(|e| bad(e.to_string()))?
                }
                Op::NotRe(_) => {
                    Matcher::regex(&m.name, &m.value, true).map_err(|e| bad(e.to_string()))?
                }
            });
        }
        Ok(out)
    };
    let mut sets = vec![convert(&vs.matchers.matchers)?];
    for alt in &vs.matchers.or_matchers {
        sets.push(convert(alt)?);
    }
    sets.retain(|s| !s.is_empty());
    if sets.is_empty() || sets.iter().all(|s| s.iter().all(|m| m.matches_empty())) {
        return Err(bad(
            "match[] must contain at least one non-empty matcher".into()
        ));
    }
    Ok(sets)
}

fn range(p: &Params) -> Result<(i64, i64), ApiError> {
    Ok((
        time_param(p, "start", i64::MIN / 2)?,
        time_param(p, "end", i64::MAX / 2)?,
    ))
}

fn labels_json(l: &Labels) -> Json_ {
    let mut m = serde_json::Map::new();
    for x in l {
        m.insert(x.name.clone(), Json_::String(x.value.clone()));
    }
    Json_::Object(m)
}

async fn run_series(state: AppState, p: Params) -> Response {
    let res = (|| -> Result<Json_, ApiError> {
        let sels = p.all("match[]");
        if sels.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let (start, end) = range(&p)?;
        let mut out: Vec<Labels> = Vec::new();
        for s in sels {
            for ms in selector(s)? {
                out.extend(state.metrics.series(&ms, start, end));
            }
        }
        out.sort();
        out.dedup();
        Ok(Json_::Array(out.iter().map(labels_json).collect()))
    })();
    match res {
        Ok(v) => success(v),
        Err(e) => e.into_response(),
    }
}

pub async fn series(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    run_series(state, Params::merge(q, "")).await
}

pub async fn series_form(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    body: String,
) -> Response {
    run_series(state, Params::merge(q, &body)).await
}

/// Names (or values of `name`) over the series the `match[]` selectors pick (all when none).
fn names_or_values(state: &AppState, p: &Params, name: Option<&str>) -> Result<Json_, ApiError> {
    let (start, end) = range(p)?;
    let sels = p.all("match[]");
    let sets: Vec<Vec<Matcher>> = if sels.is_empty() {
        vec![Vec::new()]
    } else {
        let mut v = Vec::new();
        for s in sels {
            v.extend(selector(s)?);
        }
        v
    };
    let mut out: Vec<String> = Vec::new();
    for ms in sets {
        out.extend(match name {
            None => state.metrics.label_names(&ms, start, end),
            Some(n) => state.metrics.label_values(n, &ms, start, end),
        });
    }
    out.sort();
    out.dedup();
    Ok(json!(out))
}

pub async fn labels(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    match names_or_values(&state, &Params::merge(q, ""), None) {
        Ok(v) => success(v),
        Err(e) => e.into_response(),
    }
}

pub async fn labels_form(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    body: String,
) -> Response {
    match names_or_values(&state, &Params::merge(q, &body), None) {
        Ok(v) => success(v),
        Err(e) => e.into_response(),
    }
}

pub async fn label_values(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if !argus_tsdb::textparse::valid_label_name(&name) {
        return ApiError::bad_data(format!("invalid label name: {name:?}")).into_response();
    }
    match names_or_values(&state, &Params::merge(q, ""), Some(&name)) {
        Ok(v) => success(v),
        Err(e) => e.into_response(),
    }
}

fn rfc3339(t: std::time::SystemTime) -> String {
    let ns = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    argus_core::time::format_rfc3339_nano(ns)
}

pub async fn targets(State(state): State<AppState>) -> Response {
    let active: Vec<Json_> = state
        .scrape
        .targets()
        .iter()
        .map(|t| {
            let st = t.status();
            let mut discovered = labels_json(&t.labels);
            if let Json_::Object(m) = &mut discovered {
                m.insert("__address__".into(), json!(t.labels.get("instance").unwrap_or("")));
                m.insert("__scheme__".into(), json!("http"));
                m.insert("__metrics_path__".into(), json!(t.url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default()));
            }
            json!({
                "discoveredLabels": discovered,
                "labels": labels_json(&t.labels),
                "scrapePool": t.job,
                "scrapeUrl": t.url,
                "globalUrl": t.url,
                "lastError": st.last_error,
                "lastScrape": st.last_scrape.map(rfc3339).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
                "lastScrapeDuration": st.last_duration.as_secs_f64(),
                "health": st.health.as_str(),
                "scrapeInterval": argus_core::duration::format_duration(t.interval),
                "scrapeTimeout": argus_core::duration::format_duration(t.timeout),
            })
        })
        .collect();
    success(json!({"activeTargets": active, "droppedTargets": []}))
}

pub async fn buildinfo() -> Response {
    success(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "argus",
        "buildDate": "",
        "goVersion": "",
    }))
}

/// `/api/v1/status/tsdb`: the head's size and its largest cardinalities (Prometheus UI's
/// "TSDB Status"), to find what makes series multiply. `limit` (default 10) is the length
/// of each list, as in later Prometheus versions (2.42 always lists 10).
pub async fn tsdb_status(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::merge(q, "");
    let limit = match p.get("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            return ApiError::bad_data(
                "invalid parameter \"limit\": limit must be a positive number",
            )
            .into_response()
        }
    };
    let db = state.metrics.clone();
    let (stats, c) =
        match tokio::task::spawn_blocking(move || (db.stats(), db.cardinality(limit))).await {
            Ok(r) => r,
            Err(e) => {
                return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
                    .into_response()
            }
        };
    let list = |v: &[(String, u64)]| -> Json_ {
        v.iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    success(json!({
        "headStats": {
            "numSeries": stats.series,
            "numLabelPairs": c.num_label_pairs,
            "chunkCount": stats.chunks,
            // An empty head, as Prometheus reports it.
            "minTime": stats.min_t.unwrap_or(i64::MAX),
            "maxTime": stats.max_t.unwrap_or(i64::MIN),
        },
        "seriesCountByMetricName": list(&c.series_by_metric),
        "labelValueCountByLabelName": list(&c.values_by_label),
        "memoryInBytesByLabelName": list(&c.bytes_by_label),
        "seriesCountByLabelValuePair": list(&c.series_by_pair),
    }))
}

pub async fn metadata() -> Response {
    success(json!({}))
}

/// `query_exemplars`: argus keeps no exemplars, so a valid request finds none; the
/// parameters are checked as Prometheus checks them (Grafana's "exemplars available" probe
/// reads `status`, and a mistyped query in Explore should say so).
pub async fn exemplars(RawQuery(q): RawQuery, body: String) -> Response {
    let p = Params::merge(q, &body);
    let checked = (|| {
        let start = time_param(&p, "start", i64::MIN)?;
        let end = time_param(&p, "end", i64::MAX)?;
        if end < start {
            return Err(ApiError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        argus_promql::parse(p.get("query").unwrap_or("")).map_err(exec_error)?;
        Ok(())
    })();
    match checked {
        Ok(()) => success(json!([])),
        Err(e) => e.into_response(),
    }
}

pub async fn rules(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::merge(q, "");
    let filter = argus_alerting::api::RulesFilter {
        kind: p.get("type").map(str::to_string),
        rule_names: p
            .all("rule_name[]")
            .into_iter()
            .map(str::to_string)
            .collect(),
        rule_groups: p
            .all("rule_group[]")
            .into_iter()
            .map(str::to_string)
            .collect(),
        files: p.all("file[]").into_iter().map(str::to_string).collect(),
    };
    if let Some(k) = &filter.kind {
        if k != "alert" && k != "record" {
            return ApiError::bad_data(format!(
                "invalid parameter \"type\": unsupported type {k:?}"
            ))
            .into_response();
        }
    }
    match &state.rules {
        None => success(json!({"groups": []})),
        Some(r) => {
            let m = r.manager.lock().unwrap_or_else(|e| e.into_inner());
            Json(m.rules_json(&filter)).into_response()
        }
    }
}

pub async fn alerts(State(state): State<AppState>) -> Response {
    match &state.rules {
        None => success(json!({"alerts": []})),
        Some(r) => {
            let m = r.manager.lock().unwrap_or_else(|e| e.into_inner());
            Json(m.alerts_json()).into_response()
        }
    }
}

/// `POST /-/reload`: re-reads the rule files; the old rules stay on an error.
pub async fn reload(State(state): State<AppState>) -> Response {
    let rules = state.rules.clone();
    let notifier = state.notifier.clone();
    let res = tokio::task::spawn_blocking(move || {
        let mut done = Vec::new();
        if let Some(r) = rules {
            done.push(format!("{} rule groups", r.reload()?));
        }
        notifier.reload()?;
        done.push("the notification config".to_string());
        Ok::<_, String>(done.join(" and "))
    })
    .await;
    match res {
        Ok(Ok(what)) => (StatusCode::OK, format!("reloaded {what}\n")).into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grafana's instant queries at `1700010000.734` were evaluated at …733 ms (the float's
    /// fraction truncated), and the answer's timestamps said so.
    #[test]
    fn unix_seconds_with_milliseconds_round_to_the_millisecond_like_prometheus() {
        let cases = [
            ("1700010000.734", Some(1_700_010_000_734)),
            ("1700003550.5", Some(1_700_003_550_500)),
            ("4", Some(4_000)),
            ("0.001", Some(1)),
            ("1.0006", Some(1_001)),
            ("-1.5", Some(-1_500)),
            ("2023-11-15T01:00:00.734Z", Some(1_700_010_000_734)),
            ("2023-11-15T01:00:00.7349Z", Some(1_700_010_000_734)),
            ("yesterday", None),
            ("NaN", None),
            ("inf", None),
            // Milliseconds sent as seconds (Grafana's exemplar probe): far future, taken.
            ("1700008200734", Some(1_700_008_200_734_000)),
            ("1e13", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_time_ms(input), want, "{input}");
        }
    }
}

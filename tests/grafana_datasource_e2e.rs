//! Grafana's Prometheus data source, replayed against argus and against the real Prometheus
//! 2.42 holding the same data (issue #4). Grafana cannot run here, so this test sends the
//! HTTP requests Grafana 10/11 sends to a Prometheus data source, with its methods,
//! encodings and headers, to both servers, and compares the parts of each answer Grafana
//! reads. Where they differ, Grafana would show something else on argus than on Prometheus.
//!
//! Where each request comes from in Grafana's source (github.com/grafana/grafana; Grafana
//! 10 has the same code under `public/app/plugins/datasource/prometheus/` and
//! `pkg/tsdb/prometheus/`):
//!
//! - Backend queries, `pkg/promlib/client/client.go`: `QueryRange` (`query`, `start`,
//!   `end`, `step` as seconds with decimals, `timeout` when a query timeout is configured),
//!   `QueryInstant` (`query`, `time`: the range's end, milliseconds kept), `QueryExemplars`;
//!   sent as a form body with POST (the default method, `querydata/request.go`) or in the
//!   query string with GET, keys sorted (Go's `url.Values.Encode`). `models/query.go`
//!   aligns `start`/`end` down to the step and expands `$__rate_interval` (a Go duration
//!   such as `1m0s`), `$__interval` and `$__range`; `intervalv2` picks the step.
//! - "Save & test", `pkg/promlib/healthcheck.go`: an instant `1+1` over the range 1 s..4 s,
//!   then `heuristics.go` reads `/api/v1/status/buildinfo` (`features`: none means
//!   Prometheus, not Mimir; also `public/app/features/alerting/unified/api/buildInfo.ts`).
//! - Frontend calls, `packages/grafana-prometheus/src/datasource.ts` `metadataRequest` /
//!   `_request`: the configured method for `query`, `query_range`, `series`, `labels` (and
//!   `query_exemplars`, whose URL contains `api/v1/query`), GET for the rest; GET puts the
//!   parameters in the URL with `encodeURIComponent`, POST sends a form body
//!   (`public/app/core/utils/fetch.ts` `parseBody`: `new URLSearchParams(data)`). `init()`
//!   calls `/api/v1/rules` (reads recording rules' `name` and `query`; the alert list,
//!   `public/app/features/alerting/unified/api/prometheus.ts`, reads groups and rules) and
//!   `areExemplarsAvailable` (`query_exemplars` with times in milliseconds, reads `status`).
//! - Query editor and metrics browser, `language_provider.ts`: `start()` fetches
//!   `label/__name__/values` and `metadata`, `fetchLabels` (`labels`, the dashboard's
//!   metrics as repeated `match[]`, a `URLSearchParams` body or query string),
//!   `fetchSeriesLabelsMatch`, `fetchSeriesValuesWithMatch`, `fetchSeriesLabels` (`series`
//!   with `limit`), `fetchDefaultSeries`; times from `getAdjustedInterval`
//!   (`language_utils.ts` `getRangeSnapInterval`: whole minutes around the range).
//!   `querybuilder/components/MetricSelect.tsx` searches metric names with
//!   `label_values({__name__=~".*<words joined by .*>"},__name__)`.
//! - Template variables, `metric_find_query.ts`: `label_names()`, `label_values(label)`,
//!   `label_values(metric, label)`, `metrics(regex)`, `query_result(expr)`, a series
//!   selector; ad hoc filters via `getTagKeys` / `getTagValues` (`datasource.ts`).
//! - Answers, `pkg/promlib/converter/prom.go`: `status`, `errorType` and `error`,
//!   `warnings`, `data.resultType`, `data.result[]` with `metric` and `value`/`values`
//!   (timestamps as float seconds, values as strings parsed as floats); the resource
//!   calls read `data` as a list of strings, label sets or metadata.
//! - Headers: `User-Agent: Grafana/<version>`, `Accept-Encoding: gzip` (Go's transport,
//!   which then decompresses), `Content-Type: application/x-www-form-urlencoded` on POST,
//!   and the tracing headers `pkg/services/pluginsintegration/clientmiddleware/
//!   tracing_header_middleware.go` forwards on queries (`X-Dashboard-Uid`, `X-Panel-Id`,
//!   `X-Grafana-Org-Id`, `X-Datasource-Uid`).
//!
//! Left out of the comparison, each where the answer is read (`grafana_datasource/view.rs`):
//! the wording of error messages (each engine's own; both must have one), buildinfo's
//! values (each program's version and build) and rules' evaluation times; sample values
//! agree within 1e-9 relative (summation order). Prometheus answers label queries per 2 h
//! block, argus per sample; the time ranges avoid the difference (`dataset::BATCH_END`).
#![allow(clippy::unwrap_used)]

mod common;
mod grafana_datasource;

use common::*;
use grafana_datasource::dataset::{dataset, SPAN, STEP, T0};
use grafana_datasource::request::{
    align, prom_time, secs, snapped, unsnapped, Expect, Kind, Mode, Req,
};
use grafana_datasource::view::replay;
use std::time::Duration;

/// The requests of one session: "Save & test", a dashboard with its panels, template
/// variables and ad hoc filters, the query editor, Explore, and queries with errors.
fn session(m: Mode) -> Vec<Req> {
    use Expect::*;
    let mut v = Vec::new();
    // "Last 3 hours" when now is 734 ms past the end of the data; the last hour of it; a
    // 5-minute zoom across the counter reset.
    let full = (T0 * 1000 + 734, (T0 + SPAN) * 1000 + 734);
    let last_hour = ((T0 + SPAN - 3600) * 1000 + 734, full.1);
    let zoom = ((T0 + 4350) * 1000 + 812, (T0 + 4650) * 1000 + 812);

    // "Save & test".
    v.push(m.backend(
        "Save & test: instant 1+1 at 4 s (healthcheck.go)",
        "/api/v1/query",
        &[("query", "1+1".into()), ("time", "4".into())],
        None,
        Data,
    ));
    v.push(m.resource(
        "Save & test: buildinfo (heuristics.go)",
        "/api/v1/status/buildinfo",
        &[],
        Kind::BuildInfo,
        Data,
    ));

    // The data source starts in the browser.
    v.push(m.resource(
        "init: loadRules (datasource.ts)",
        "/api/v1/rules",
        &[],
        Kind::Rules,
        Data,
    ));
    v.push(m.resource(
        "init: areExemplarsAvailable, times in ms (datasource.ts)",
        "/api/v1/query_exemplars",
        &[
            ("query", "test".into()),
            ("start", (full.1 - 1_800_000).to_string()),
            ("end", full.1.to_string()),
        ],
        Kind::Exemplars,
        Any,
    ));
    // Explore asks for exemplars of what is typed, errors included.
    v.push(m.resource(
        "Explore: exemplars of a query with a syntax error",
        "/api/v1/query_exemplars",
        &[
            ("query", "sum(rate(http_requests_total[5m])".into()),
            ("start", (full.1 - 1_800_000).to_string()),
            ("end", full.1.to_string()),
        ],
        Kind::Exemplars,
        Error,
    ));
    v.push(m.resource(
        "Explore: exemplars with the range backwards",
        "/api/v1/query_exemplars",
        &[
            ("query", "http_requests_total".into()),
            ("start", full.1.to_string()),
            ("end", (full.1 - 1_800_000).to_string()),
        ],
        Kind::Exemplars,
        Error,
    ));

    // Panels (backend), "Last 3 hours", 1000 data points: step 15 s (the scrape interval),
    // $__rate_interval = max(step + scrape, 4 * scrape) = 1m0s.
    v.push(m.range(
        "panel: rate by code, $__rate_interval",
        "sum by (code) (rate(http_requests_total{job=\"api\"}[1m0s]))",
        full,
        15_000,
        true,
        Data,
    ));
    v.push(m.range(
        "panel: raw counter with a reset, 400 data points (step 30 s)",
        "http_requests_total{instance=\"a:2\",method=\"POST\"}",
        full,
        30_000,
        true,
        Data,
    ));
    v.push(m.range(
        "panel: min interval 1m (step 60 s, $__rate_interval 1m15s)",
        "rate(http_requests_total{job=\"api\"}[1m15s])",
        full,
        60_000,
        true,
        Data,
    ));
    let quantile =
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m0s])))";
    v.push(m.range(
        "panel: histogram quantile",
        quantile,
        full,
        15_000,
        true,
        Data,
    ));
    v.push(m.backend(
        "panel: exemplars of the histogram panel (client.go QueryExemplars)",
        "/api/v1/query_exemplars",
        &[
            ("query", quantile.to_string()),
            ("start", secs(align(full.0, 15_000))),
            ("end", secs(align(full.1, 15_000))),
        ],
        Some(2),
        Any,
    ));
    v.push(m.range(
        "panel: seconds since the batch job's last run (series ends early)",
        "time() - batch_last_run_seconds",
        full,
        15_000,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: count_over_time with $__interval, last hour",
        "count_over_time(up[15s])",
        last_hour,
        15_000,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: gauge in MiB, zoomed to 5 min, scrape interval 1s (step 0.5 s)",
        "node_memory_free_bytes / 1024 / 1024",
        zoom,
        500,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: irate across the counter reset, zoomed (step 0.5 s)",
        "irate(http_requests_total{instance=\"a:2\",method=\"POST\",code=\"200\"}[1m])",
        zoom,
        500,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: $__rate_interval with scrape interval 1s (4s: no two samples, empty)",
        "rate(http_requests_total{job=\"api\"}[4s])",
        zoom,
        500,
        false,
        Empty,
    ));
    v.push(m.range(
        "panel: selector with ?&+ and space in a label value",
        "app_info{path=\"/api/v1/users?id=1&x=a+b c\"}",
        last_hour,
        15_000,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: non-ASCII and backslash label values",
        "app_info{city=\"Zürich\",dir=\"C:\\\\data\"}",
        last_hour,
        15_000,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: regex on __name__ with |",
        "{__name__=~\"http_requests_total|up\",job=\"api\"}",
        last_hour,
        60_000,
        false,
        Data,
    ));

    v.push(m.range(
        "panel: recording-rule style name with colons",
        "instance:node_cpu:ratio",
        last_hour,
        15_000,
        false,
        Data,
    ));
    v.push(m.range(
        "panel: NaN, infinities, tiny and huge values",
        "odd_values",
        last_hour,
        60_000,
        false,
        Data,
    ));

    // Table and stat panels (instant, at the range's end with its milliseconds).
    v.push(m.instant(
        "table: increase over $__range",
        "sum by (instance, method) (increase(http_requests_total[10800s]))",
        full.1,
        true,
        Data,
    ));
    v.push(m.instant(
        "table: topk",
        "topk(3, sum by (instance, method, code) (rate(http_requests_total[5m])))",
        full.1,
        false,
        Data,
    ));
    v.push(m.instant(
        "table: sort_desc",
        "sort_desc(sum by (job) (up))",
        full.1,
        false,
        Data,
    ));
    v.push(m.instant(
        "table: range vector in an instant query (raw samples)",
        "http_requests_total{instance=\"a:1\",method=\"GET\"}[1m]",
        full.1,
        false,
        Data,
    ));
    v.push(m.instant("stat: time()", "time()", full.1, false, Data));
    v.push(m.instant(
        "stat: targets down while n:2 is down",
        "up == 0",
        (T0 + 230 * STEP) * 1000 + 500,
        false,
        Data,
    ));
    v.push(m.instant(
        "stat: after the batch job stopped (empty)",
        "batch_last_run_seconds",
        full.1,
        false,
        Empty,
    ));
    v.push(m.instant(
        "table: label values with special characters",
        "app_info",
        full.1,
        false,
        Data,
    ));
    v.push(m.instant(
        "stat: Grafana 10's step-aligned instant time",
        "max(node_memory_free_bytes)",
        align(full.1, 15_000),
        false,
        Data,
    ));

    // Explore, query type "Both": a range and an instant query of the same expression.
    let both = "sum by (instance) (rate(http_requests_total[5m]))";
    v.push(m.range("Explore both: range", both, full, 15_000, false, Data));
    v.push(m.instant("Explore both: instant", both, full.1, false, Data));

    // Query errors, shown as `<errorType>: <error>`.
    v.push(m.range(
        "panel: syntax error",
        "sum(rate(http_requests_total[5m])",
        full,
        15_000,
        false,
        Error,
    ));
    v.push(m.range(
        "panel: unknown function",
        "rate2(up[5m])",
        full,
        15_000,
        false,
        Error,
    ));
    v.push(m.instant(
        "table: many-to-many matching",
        "http_requests_total{job=\"api\"} + on (job) up{job=\"api\"}",
        full.1,
        false,
        Error,
    ));

    // The query editor opens (language_provider.ts start()).
    let sn = snapped(full);
    v.push(m.resource(
        "editor: metric names, fetchLabelValues('__name__')",
        "/api/v1/label/__name__/values",
        &sn,
        Kind::Strings,
        Data,
    ));
    v.push(m.resource(
        "editor: loadMetricsMetadata",
        "/api/v1/metadata",
        &[],
        Kind::Metadata,
        Any,
    ));
    v.push(m.fetch_labels("editor: fetchLabels", full, &[]));
    v.push(m.fetch_labels(
        "editor: fetchLabels with the dashboard's metrics as match[]",
        full,
        &["http_requests_total", "up"],
    ));
    v.push(m.fetch_labels("editor: fetchLabels, last hour", last_hour, &[]));
    v.push(m.resource(
        "builder: metric search 'requests total' (MetricSelect.tsx)",
        "/api/v1/label/__name__/values",
        &[
            ("match[]", "{__name__=~\".*requests.*total.*\"}".into()),
            unsnapped(full)[0].clone(),
            unsnapped(full)[1].clone(),
        ],
        Kind::Strings,
        Data,
    ));
    let mut p = sn.to_vec();
    p.push(("match[]", "http_requests_total".into()));
    v.push(m.resource(
        "builder: label names of a metric, fetchSeriesLabelsMatch",
        "/api/v1/labels",
        &p,
        Kind::Strings,
        Data,
    ));
    let mut p = sn.to_vec();
    p.push((
        "match[]",
        "{__name__=\"http_requests_total\",job=\"api\",}".into(),
    ));
    v.push(m.resource(
        "builder: label names, {__name__=…} selector with a trailing comma",
        "/api/v1/labels",
        &p,
        Kind::Strings,
        Data,
    ));
    let mut p = sn.to_vec();
    p.push(("match[]", "http_requests_total{job=".into()));
    v.push(m.resource(
        "code editor: label names while the selector is being typed (error)",
        "/api/v1/labels",
        &p,
        Kind::Strings,
        Error,
    ));
    let mut p = sn.to_vec();
    p.push(("match[]", "http_requests_total{job=\"api\"}".into()));
    v.push(m.resource(
        "builder: label values, fetchSeriesValuesWithMatch",
        "/api/v1/label/code/values",
        &p,
        Kind::Strings,
        Data,
    ));
    let mut p = sn.to_vec();
    p.push(("match[]", "{job=\"api\"}".into()));
    p.push(("limit", "40000".into()));
    v.push(m.resource(
        "metrics browser: fetchSeriesLabels with limit",
        "/api/v1/series",
        &p,
        Kind::Series,
        Data,
    ));
    for key in ["job", "instance"] {
        v.push(m.resource(
            &format!("editor: fetchDefaultSeries, values of {key}"),
            &format!("/api/v1/label/{key}/values"),
            &sn,
            Kind::Strings,
            Data,
        ));
    }

    // Template variables (metric_find_query.ts) and ad hoc filters.
    let un = unsnapped(full);
    v.push(m.resource(
        "variable: label_values(job)",
        "/api/v1/label/job/values",
        &un,
        Kind::Strings,
        Data,
    ));
    v.push(m.resource(
        "variable: label_values(job), last hour (the batch job is gone)",
        "/api/v1/label/job/values",
        &unsnapped(last_hour),
        Kind::Strings,
        Data,
    ));
    v.push(m.resource(
        "variable: label_values(http_requests_total{job=\"api\"}, instance)",
        "/api/v1/label/instance/values",
        &[
            ("match[]", "http_requests_total{job=\"api\"}".into()),
            un[0].clone(),
            un[1].clone(),
        ],
        Kind::Strings,
        Data,
    ));
    for label in ["path", "city", "dir"] {
        v.push(m.resource(
            &format!("variable: label_values(app_info, {label})"),
            &format!("/api/v1/label/{label}/values"),
            &[("match[]", "app_info".into()), un[0].clone(), un[1].clone()],
            Kind::Strings,
            Data,
        ));
    }
    v.push(m.resource(
        "variable: label_values of a label no series has (empty)",
        "/api/v1/label/nonexistent/values",
        &un,
        Kind::Strings,
        Empty,
    ));
    v.push(m.resource(
        "variable: metrics(http_.*)",
        "/api/v1/label/__name__/values",
        &un,
        Kind::Strings,
        Data,
    ));
    v.push(m.resource(
        "variable: query_result(count by (job) (up))",
        "/api/v1/query",
        &[
            ("query", "count by (job) (up)".into()),
            ("time", prom_time(full.1).to_string()),
        ],
        Kind::Query,
        Data,
    ));
    v.push(m.resource(
        "variable: series selector http_requests_total{code=\"500\"}",
        "/api/v1/series",
        &[
            ("match[]", "http_requests_total{code=\"500\"}".into()),
            un[0].clone(),
            un[1].clone(),
        ],
        Kind::Series,
        Data,
    ));
    v.push(m.resource(
        "variable: series selector with ?&+ and space in a label value",
        "/api/v1/series",
        &[
            (
                "match[]",
                "app_info{path=\"/api/v1/users?id=1&x=a+b c\"}".into(),
            ),
            un[0].clone(),
            un[1].clone(),
        ],
        Kind::Series,
        Data,
    ));
    let mut p = sn.to_vec();
    p.push(("match[]", "{job=\"api\"}".into()));
    v.push(m.resource(
        "ad hoc filter: getTagValues(instance) with job=api",
        "/api/v1/label/instance/values",
        &p,
        Kind::Strings,
        Data,
    ));
    v.push(m.resource(
        "series with repeated match[], the form fetchLabels uses on labels",
        "/api/v1/series",
        &[
            un[0].clone(),
            un[1].clone(),
            ("match[]", "up{job=\"node\"}".into()),
            ("match[]", "batch_last_run_seconds".into()),
        ],
        Kind::Series,
        Data,
    ));
    v
}

const RULES: &str = r#"groups:
  - name: api
    rules:
      - record: job:http_requests:rate5m
        expr: sum(rate(http_requests_total[5m])) by (job)
      - alert: ApiErrors
        expr: sum by(job) (rate(http_requests_total{code="500"}[5m])) > 0.5
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} answers errors"
"#;

#[test]
fn grafana_requests_get_the_same_answers_from_argus_and_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, RULES).unwrap();
    // Both evaluate rule groups without an interval every 15 s (the rules' `interval`).
    let both = same_data(
        dir.path(),
        &dataset(),
        &format!(
            "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nrule_files:\n  - {}\n",
            rules.display()
        ),
        "aggregator:\n  metrics:\n    retention: 36500d\nalerting:\n  evaluation_interval: 15s\n",
        &["--rules", rules.to_str().unwrap()],
    );
    let (addr, prom_addr) = (both.argus_addr.clone(), both.prom_addr.clone());

    // Rules say `health: unknown` until their first evaluation (some seconds after the
    // start, at an offset of their own); the alert list shows it.
    for a in [&addr, &prom_addr] {
        wait_for(Duration::from_secs(60), "every rule evaluated once", || {
            let d = api(a, "/api/v1/rules");
            let groups = d["groups"].as_array()?.clone();
            groups
                .iter()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .all(|r| r["health"] != "unknown")
                .then_some(())
        });
    }

    let mut fails = Vec::new();
    let mut count = 0;
    for mode in [Mode::Post, Mode::Get] {
        let reqs = session(mode);
        count += reqs.len();
        fails.extend(replay(mode, &reqs, &addr, &prom_addr));
    }
    println!(
        "{count} Grafana requests replayed, {} differences",
        fails.len()
    );
    assert!(
        fails.is_empty(),
        "{} differences between argus and Prometheus in what Grafana reads:\n\n{}",
        fails.len(),
        fails.join("\n\n")
    );
}

//! The requests as Grafana writes them: its encodings (Go's on the backend, the browser's
//! on the frontend), its time parameters and its headers.

use std::fmt::Write as _;

/// Grafana's version in `User-Agent`.
const UA: &str = "Grafana/11.1.0";

/// Go's `url.QueryEscape` (what `url.Values.Encode` writes): unreserved bytes kept, space
/// as `+`, everything else `%XX`.
fn go_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Go's `url.Values.Encode()`: sorted by key.
fn go_encode(params: &[(&str, String)]) -> String {
    let mut p: Vec<&(&str, String)> = params.iter().collect();
    p.sort_by_key(|(k, _)| *k);
    p.iter()
        .map(|(k, v)| format!("{}={}", go_escape(k), go_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// JavaScript's `encodeURIComponent`.
fn js_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// JavaScript's `URLSearchParams.toString()` (form bodies): in insertion order, space as
/// `+`.
fn js_form(params: &[(&str, String)]) -> String {
    let esc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"*-._".contains(&b) {
                out.push(b as char);
            } else if b == b' ' {
                out.push('+');
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Go's `strconv.FormatFloat(x, 'f', -1, 64)` of a time in milliseconds, as seconds
/// (`client.go` `formatTime`); Rust's shortest round-trip formatting is the same.
pub fn secs(ms: i64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

/// `models.AlignTimeRange`: down to a multiple of the step (UTC).
pub fn align(ms: i64, step_ms: i64) -> i64 {
    ms.div_euclid(step_ms) * step_ms
}

/// `getPrometheusTime`: whole seconds, rounded up.
pub fn prom_time(ms: i64) -> i64 {
    (ms + 999).div_euclid(1000)
}

/// `getAdjustedInterval` with the default cache level (`getRangeSnapInterval`: start down
/// and end up to whole minutes).
pub fn snapped((from, to): (i64, i64)) -> [(&'static str, String); 2] {
    let start = prom_time(from).div_euclid(60) * 60;
    let mut end = (prom_time(to) + 59).div_euclid(60) * 60;
    if end == start {
        end += 60;
    }
    [("start", start.to_string()), ("end", end.to_string())]
}

/// `metric_find_query.ts`' times: `getPrometheusTime` of both ends.
pub fn unsnapped((from, to): (i64, i64)) -> [(&'static str, String); 2] {
    [
        ("start", prom_time(from).to_string()),
        ("end", prom_time(to).to_string()),
    ]
}

/// What Grafana reads from an answer (see `view.rs`).
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Query,
    Strings,
    Series,
    Metadata,
    Exemplars,
    BuildInfo,
    Rules,
}

/// What Prometheus' own answer must be, so that the comparison is not between two empty
/// answers by mistake.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expect {
    Data,
    Empty,
    Error,
    Any,
}

/// One HTTP request as Grafana sends it, and what to read from the answer.
pub struct Req {
    /// Where in Grafana the request comes from.
    pub what: String,
    pub method: &'static str,
    pub target: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub kind: Kind,
    pub expect: Expect,
}

/// The data source's "HTTP method" setting (`jsonData.httpMethod`; new data sources get
/// POST, `configuration/PromSettings.tsx`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Post,
    Get,
}

const FORM: &str = "application/x-www-form-urlencoded";

impl Mode {
    /// A backend query (`client.go` `createQueryRequest`), with the tracing headers of
    /// panel `panel` when it comes from a dashboard.
    pub fn backend(
        self,
        what: &str,
        endpoint: &str,
        params: &[(&str, String)],
        panel: Option<u32>,
        expect: Expect,
    ) -> Req {
        let mut headers = vec![
            ("User-Agent", UA.to_string()),
            ("Accept-Encoding", "gzip".into()),
        ];
        if let Some(id) = panel {
            headers.extend([
                ("X-Dashboard-Uid", "argus-e2e".to_string()),
                ("X-Datasource-Uid", "prometheus".to_string()),
                ("X-Grafana-Org-Id", "1".to_string()),
                ("X-Panel-Id", id.to_string()),
            ]);
        }
        let enc = go_encode(params);
        let kind = if endpoint.ends_with("query_exemplars") {
            Kind::Exemplars
        } else {
            Kind::Query
        };
        match self {
            Mode::Post => {
                headers.push(("Content-Type", FORM.into()));
                Req {
                    what: what.into(),
                    method: "POST",
                    target: endpoint.into(),
                    headers,
                    body: enc,
                    kind,
                    expect,
                }
            }
            Mode::Get => Req {
                what: what.into(),
                method: "GET",
                target: format!("{endpoint}?{enc}"),
                headers,
                body: String::new(),
                kind,
                expect,
            },
        }
    }

    /// A frontend call through Grafana's resource proxy (`datasource.ts`
    /// `metadataRequest`); the proxy keeps the method, the query string and the body.
    pub fn resource(
        self,
        what: &str,
        url: &str,
        params: &[(&str, String)],
        kind: Kind,
        expect: Expect,
    ) -> Req {
        let post_ok = [
            "api/v1/query",
            "api/v1/query_range",
            "api/v1/series",
            "api/v1/labels",
        ]
        .iter()
        .any(|e| url.contains(e));
        let mut headers = vec![
            ("User-Agent", UA.to_string()),
            ("Accept-Encoding", "gzip".into()),
        ];
        if self == Mode::Post && post_ok {
            headers.push(("Content-Type", FORM.into()));
            Req {
                what: what.into(),
                method: "POST",
                target: url.into(),
                headers,
                body: js_form(params),
                kind,
                expect,
            }
        } else {
            let q: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{}={}", js_component(k), js_component(v)))
                .collect();
            let target = if q.is_empty() {
                url.to_string()
            } else {
                format!("{url}?{}", q.join("&"))
            };
            Req {
                what: what.into(),
                method: "GET",
                target,
                headers,
                body: String::new(),
                kind,
                expect,
            }
        }
    }

    /// `language_provider.ts` `fetchLabels`: a `URLSearchParams` of the snapped range and
    /// the dashboard's metrics, in the URL for GET, as the body for POST.
    pub fn fetch_labels(self, what: &str, range: (i64, i64), metrics: &[&str]) -> Req {
        let mut p: Vec<(&str, String)> = snapped(range).to_vec();
        p.extend(metrics.iter().map(|m| ("match[]", m.to_string())));
        let mut r = self.resource(what, "/api/v1/labels", &p, Kind::Strings, Expect::Data);
        if self == Mode::Get {
            r.target = format!("/api/v1/labels?{}", js_form(&p));
        }
        r
    }

    /// A panel's range query: `$__…` already expanded in `expr`, start and end aligned to
    /// the step, `timeout` when the data source has a query timeout.
    pub fn range(
        self,
        what: &str,
        expr: &str,
        (from, to): (i64, i64),
        step_ms: i64,
        timeout: bool,
        expect: Expect,
    ) -> Req {
        let mut p = vec![
            ("query", expr.to_string()),
            ("start", secs(align(from, step_ms))),
            ("end", secs(align(to, step_ms))),
            ("step", secs(step_ms)),
        ];
        if timeout {
            p.push(("timeout", "60s".into()));
        }
        self.backend(what, "/api/v1/query_range", &p, Some(2), expect)
    }

    /// A panel's instant query at `at` (milliseconds kept).
    pub fn instant(self, what: &str, expr: &str, at: i64, timeout: bool, expect: Expect) -> Req {
        let mut p = vec![("query", expr.to_string()), ("time", secs(at))];
        if timeout {
            p.push(("timeout", "60s".into()));
        }
        self.backend(what, "/api/v1/query", &p, Some(3), expect)
    }
}

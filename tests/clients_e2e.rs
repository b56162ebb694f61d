//! End-to-end tests of argus' client-facing surface: real OTLP clients (the Python
//! OpenTelemetry SDK), OTLP/JSON, Loki JSON and snappy-protobuf pushes, search (pagination,
//! cursors, directions, filters), live tail over server-sent events, errors and token auth.
//!
//! Each test starts its own aggregator (release binary) on a free loopback port with a
//! temporary data directory, and uses unique markers so tests cannot see each other's data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(20);

/// A started aggregator with its temp dirs (dropped = killed and removed).
struct Agg {
    addr: String,
    proc: Proc,
    _dir: tempfile::TempDir,
}

impl Agg {
    fn start() -> Agg {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let port = free_port();
        let proc = aggregator(port, &data, dir.path());
        Agg {
            addr: format!("127.0.0.1:{port}"),
            proc,
            _dir: dir,
        }
    }

    fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Resp {
        request(
            &self.addr,
            "POST",
            path,
            &[("Content-Type", content_type)],
            body,
        )
        .unwrap_or_else(|| {
            panic!(
                "no answer to POST {path}; aggregator log:\n{}",
                self.proc.output()
            )
        })
    }

    fn get(&self, path: &str) -> Resp {
        get(&self.addr, path).unwrap_or_else(|| {
            panic!(
                "no answer to GET {path}; aggregator log:\n{}",
                self.proc.output()
            )
        })
    }

    fn push_loki_json(&self, body: &Value) {
        let r = self.post(
            "/loki/api/v1/push",
            "application/json",
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 204, "Loki JSON push: {}", r.text());
    }

    fn search(&self, query: &str, extra: &str) -> Value {
        search(&self.addr, query, extra)
    }

    /// Polls the search until `total` reaches `n` and returns that answer.
    fn wait_total(&self, query: &str, extra: &str, n: u64) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let d = self.search(query, extra);
            if d["total"].as_u64() == Some(n) {
                return d;
            }
            let last = d["total"].clone();
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {n} hits of {query:?} (last total {last}); log:\n{}",
                    self.proc.output()
                );
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

/// A unique, lower-case alphanumeric marker (a single search word).
fn marker(prefix: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{}x{:x}", std::process::id(), n % 0xffff_ffff_ffff)
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

fn hits(d: &Value) -> Vec<Value> {
    d["hits"].as_array().cloned().unwrap_or_default()
}

fn messages(d: &Value) -> Vec<String> {
    hits(d)
        .iter()
        .map(|h| h["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. The real Python OpenTelemetry SDK.

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

#[test]
fn python_otel_sdk_logs_are_found() {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import opentelemetry.sdk._logs, opentelemetry.exporter.otlp.proto.http._log_exporter",
        ])
        .output();
    match &probe {
        Err(e) => panic!(
            "python3 is not runnable ({e}); the OTLP client test needs Python with the \
             OpenTelemetry SDK: run scripts/test.sh (it installs them)"
        ),
        Ok(o) if !o.status.success() => panic!(
            "the Python OpenTelemetry SDK is missing ({}); run scripts/test.sh, which installs \
             opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(_) => {}
    }

    let agg = Agg::start();
    let mk = marker("otel");
    let endpoint = format!("http://{}/v1/logs", agg.addr);
    let out = Command::new("python3")
        .arg(fixture("otel_send.py"))
        .arg(&endpoint)
        .arg(&mk)
        .stdin(Stdio::null())
        .output()
        .expect("run otel_send.py");
    assert!(
        out.status.success(),
        "otel_send.py failed ({}):\nstdout: {}\nstderr: {}\naggregator log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        agg.proc.output()
    );

    let query = format!("{{namespace=\"otel-ns\"}} |= \"{mk}\"");
    let d = agg.wait_total(&query, "&limit=100", 5);
    let mut got = messages(&d);
    got.sort();
    let mut want: Vec<String> = (0..3)
        .map(|i| format!("info {mk} number {i}"))
        .chain((0..2).map(|i| format!("error {mk} number {i}")))
        .collect();
    want.sort();
    assert_eq!(got, want, "each SDK record exactly once: {d:#}");
    for h in hits(&d) {
        assert_eq!(h["namespace"], "otel-ns", "{h:#}");
        assert_eq!(h["pod"], format!("otel-pod-{mk}").as_str(), "{h:#}");
        assert_eq!(h["labels"]["service_name"], "otel-e2e-svc", "{h:#}");
        let msg = h["message"].as_str().unwrap();
        let want_level = if msg.starts_with("error ") {
            "error"
        } else {
            "info"
        };
        assert_eq!(h["level"], want_level, "{h:#}");
    }
    // The free-text marker search finds the same 5, and a level selector finds the errors.
    assert_eq!(agg.search(&mk, "")["total"], 5);
    let errs = agg.search(
        &format!("{{namespace=\"otel-ns\", level=\"error\"}} |= \"{mk}\""),
        "",
    );
    assert_eq!(errs["total"], 2, "{errs:#}");
}

// ---------------------------------------------------------------------------------------
// 2. OTLP/JSON.

#[test]
fn otlp_json_is_accepted() {
    let agg = Agg::start();
    let mk = marker("oj");
    let ts = now_ns();
    let body = json!({
        "resourceLogs": [{
            "resource": {"attributes": [
                {"key": "k8s.namespace.name", "value": {"stringValue": "json-ns"}},
                {"key": "k8s.pod.name", "value": {"stringValue": "json-pod-1"}},
                {"key": "k8s.container.name", "value": {"stringValue": "web"}},
                {"key": "k8s.node.name", "value": {"stringValue": "node-a"}},
                {"key": "k8s.pod.label.app", "value": {"stringValue": "shop"}},
                {"key": "service.name", "value": {"stringValue": "checkout"}}
            ]},
            "scopeLogs": [{
                "scope": {"name": "e2e"},
                "logRecords": [{
                    "timeUnixNano": ts.to_string(),
                    "severityNumber": 13,
                    "severityText": "WARN",
                    "body": {"stringValue": format!("payment slow {mk}")},
                    "attributes": [
                        {"key": "log.iostream", "value": {"stringValue": "stderr"}},
                        {"key": "http.route", "value": {"stringValue": "/pay"}}
                    ]
                }]
            }]
        }]
    });
    let r = agg.post("/v1/logs", "application/json", body.to_string().as_bytes());
    assert_eq!(r.status, 200, "OTLP/JSON push: {}", r.text());

    let d = agg.wait_total(&mk, "", 1);
    let h = &hits(&d)[0];
    assert_eq!(h["message"], format!("payment slow {mk}").as_str(), "{h:#}");
    assert_eq!(h["namespace"], "json-ns", "{h:#}");
    assert_eq!(h["pod"], "json-pod-1", "{h:#}");
    assert_eq!(h["container"], "web", "{h:#}");
    assert_eq!(h["node"], "node-a", "{h:#}");
    assert_eq!(h["stream"], "stderr", "{h:#}");
    assert_eq!(h["level"], "warn", "{h:#}");
    assert_eq!(h["labels"]["app"], "shop", "{h:#}");
    assert_eq!(h["labels"]["service_name"], "checkout", "{h:#}");
    assert_eq!(h["labels"]["http_route"], "/pay", "{h:#}");
    let secs = ts.div_euclid(1_000_000_000);
    let nanos = ts.rem_euclid(1_000_000_000) as u32;
    assert_eq!(h["timestamp"], rfc3339_nano(secs, nanos).as_str(), "{h:#}");
    // Selectors over the mapped fields and labels find it too.
    let sel = agg.search(
        &format!("{{namespace=\"json-ns\", app=\"shop\", service_name=\"checkout\"}} |= \"{mk}\""),
        "",
    );
    assert_eq!(sel["total"], 1, "{sel:#}");
}

// ---------------------------------------------------------------------------------------
// 3. Loki JSON push, resent.

#[test]
fn loki_json_push_is_found_once_even_when_resent() {
    let agg = Agg::start();
    let mk = marker("lj");
    let t = now_ns() - 5_000_000_000;
    let body = json!({"streams": [
        {"stream": {"namespace": "loki-ns", "app": "cart", "pod": "cart-7"},
         "values": [
            [(t).to_string(), format!("cart added {mk} one")],
            [(t + 1_000).to_string(), format!("cart added {mk} two")]
         ]},
        {"stream": {"namespace": "loki-ns", "app": "payments"},
         "values": [
            [(t + 2_000).to_string(), format!("payment ok {mk} three")],
            [(t + 3_000).to_string(), format!("payment ok {mk} four")]
         ]}
    ]});
    agg.push_loki_json(&body);
    agg.push_loki_json(&body);
    // A sentinel pushed after the resend: once it is visible, the resend has been processed.
    let sentinel = format!("sentinel {mk}");
    agg.push_loki_json(&json!({"streams": [{"stream": {"namespace": "loki-ns"},
        "values": [[now_ns().to_string(), sentinel.clone()]]}]}));
    agg.wait_total(&format!("\"{sentinel}\""), "", 1);
    std::thread::sleep(Duration::from_millis(1500));

    let query = format!("{{namespace=\"loki-ns\"}} |= \"{mk}\" != \"sentinel\"");
    let d = agg.search(&query, "&limit=100");
    let mut got = messages(&d);
    got.sort();
    let mut want: Vec<String> = ["cart added {} one", "cart added {} two"]
        .iter()
        .chain(["payment ok {} three", "payment ok {} four"].iter())
        .map(|s| s.replace("{}", &mk))
        .collect();
    want.sort();
    assert_eq!(got, want, "each line exactly once after a resend: {d:#}");
    assert_eq!(d["total"], 4, "{d:#}");
    for h in hits(&d) {
        let msg = h["message"].as_str().unwrap();
        let app = if msg.starts_with("cart") {
            "cart"
        } else {
            "payments"
        };
        assert_eq!(h["labels"]["app"], app, "{h:#}");
        assert_eq!(h["namespace"], "loki-ns", "{h:#}");
        if app == "cart" {
            assert_eq!(h["pod"], "cart-7", "{h:#}");
        }
    }
    // Histogram counts add up to total.
    let sum: u64 = d["histogram"]
        .as_array()
        .expect("histogram array")
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 4, "histogram sums to total: {d:#}");

    // Label queries.
    let cart = agg.search(&format!("{{app=\"cart\"}} |= \"{mk}\""), "");
    assert_eq!(cart["total"], 2, "{cart:#}");
    assert!(messages(&cart).iter().all(|m| m.starts_with("cart added")));
    let re = agg.search(&format!("{{app=~\"pay.*\"}} |= \"{mk}\""), "");
    assert_eq!(re["total"], 2, "{re:#}");
    let ne = agg.search(
        &format!("{{namespace=\"loki-ns\", app!=\"cart\"}} |= \"{mk}\""),
        "",
    );
    // app!="cart" also matches the sentinel stream, which has no app label.
    assert_eq!(ne["total"], 3, "{ne:#}");
    let sum_cart: u64 = cart["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum_cart, 2, "{cart:#}");
}

// ---------------------------------------------------------------------------------------
// 4. Loki snappy + protobuf push, hand-encoded.

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn pb_varint_field(field: u32, v: u64, out: &mut Vec<u8>) {
    varint(u64::from(field) << 3, out);
    varint(v, out);
}

fn pb_bytes_field(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint((u64::from(field) << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

struct Entry<'a> {
    secs: i64,
    nanos: i32,
    line: &'a str,
    meta: &'a [(&'a str, &'a str)],
}

fn loki_push_request(streams: &[(&str, Vec<Entry>)]) -> Vec<u8> {
    let mut req = Vec::new();
    for (labels, entries) in streams {
        let mut stream = Vec::new();
        pb_bytes_field(1, labels.as_bytes(), &mut stream);
        for e in entries {
            let mut ts = Vec::new();
            pb_varint_field(1, e.secs as u64, &mut ts);
            pb_varint_field(2, e.nanos as u64, &mut ts);
            let mut entry = Vec::new();
            pb_bytes_field(1, &ts, &mut entry);
            pb_bytes_field(2, e.line.as_bytes(), &mut entry);
            for (k, v) in e.meta {
                let mut pair = Vec::new();
                pb_bytes_field(1, k.as_bytes(), &mut pair);
                pb_bytes_field(2, v.as_bytes(), &mut pair);
                pb_bytes_field(3, &pair, &mut entry);
            }
            pb_bytes_field(2, &entry, &mut stream);
        }
        pb_varint_field(3, 0, &mut stream);
        pb_bytes_field(1, &stream, &mut req);
    }
    req
}

/// A valid snappy block made of literal elements only (of varying sizes, to exercise the
/// 1-, 2- and 3-byte literal tags).
fn snappy_literals(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(data.len() as u64, &mut out);
    let sizes = [40usize, 200, 65_536];
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = rest.len().min(sizes[i % sizes.len()]);
        i += 1;
        let (chunk, tail) = rest.split_at(n);
        let m = n - 1;
        if n <= 60 {
            out.push((m as u8) << 2);
        } else if n <= 256 {
            out.push(60 << 2);
            out.push(m as u8);
        } else {
            out.push(61 << 2);
            out.extend_from_slice(&(m as u16).to_le_bytes());
        }
        out.extend_from_slice(chunk);
        rest = tail;
    }
    out
}

#[test]
fn loki_snappy_protobuf_push_is_found() {
    let agg = Agg::start();
    let mk = marker("lp");
    let secs = now_ns() / 1_000_000_000 - 30;
    let nanos = 123_456_789;
    let long_line = format!("{mk} long {}", "x".repeat(400));
    let l1 = format!("order placed {mk}");
    let l2 = format!("order shipped {mk}");
    let body = loki_push_request(&[
        (
            r#"{namespace="shop", pod="cart-1", app="cart"}"#,
            vec![
                Entry {
                    secs,
                    nanos,
                    line: &l1,
                    meta: &[("trace_id", "abc123")],
                },
                Entry {
                    secs: secs + 1,
                    nanos: 7,
                    line: &l2,
                    meta: &[],
                },
            ],
        ),
        (
            r#"{namespace="shop", pod="cart-2"}"#,
            vec![Entry {
                secs: secs + 2,
                nanos: 0,
                line: &long_line,
                meta: &[],
            }],
        ),
    ]);
    let compressed = snappy_literals(&body);
    let r = agg.post("/loki/api/v1/push", "application/x-protobuf", &compressed);
    assert_eq!(r.status, 204, "snappy protobuf push: {}", r.text());

    let d = agg.wait_total(&format!("{{namespace=\"shop\"}} |= \"{mk}\""), "", 3);
    let by_msg: BTreeMap<String, Value> = hits(&d)
        .into_iter()
        .map(|h| (h["message"].as_str().unwrap().to_string(), h))
        .collect();
    let h1 = &by_msg[&l1];
    assert_eq!(h1["namespace"], "shop", "{h1:#}");
    assert_eq!(h1["pod"], "cart-1", "{h1:#}");
    assert_eq!(h1["labels"]["app"], "cart", "{h1:#}");
    assert_eq!(h1["labels"]["trace_id"], "abc123", "{h1:#}");
    assert_eq!(h1["timestamp"], rfc3339_nano(secs, 123_456_789).as_str());
    let h2 = &by_msg[&l2];
    assert_eq!(h2["pod"], "cart-1", "{h2:#}");
    assert_eq!(h2["timestamp"], rfc3339_nano(secs + 1, 7).as_str());
    let h3 = &by_msg[&long_line];
    assert_eq!(h3["pod"], "cart-2", "{h3:#}");
    assert_eq!(h3["timestamp"], rfc3339_nano(secs + 2, 0).as_str());
    // Newest first by default.
    assert_eq!(
        messages(&d),
        vec![long_line.clone(), l2.clone(), l1.clone()]
    );

    // Not snappy → 400 naming snappy; the server keeps serving.
    let bad = agg.post("/loki/api/v1/push", "application/x-protobuf", &body);
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert!(
        bad.text().to_lowercase().contains("snappy"),
        "{}",
        bad.text()
    );
}

// ---------------------------------------------------------------------------------------
// 5. Errors.

fn assert_error(r: &Resp, status: u16, error_type: &str, contains: &[&str]) {
    assert_eq!(r.status, status, "{}", r.text());
    let j = r.json();
    assert_eq!(j["status"], "error", "{j:#}");
    assert_eq!(j["errorType"], error_type, "{j:#}");
    let e = j["error"].as_str().unwrap_or_default();
    for c in contains {
        assert!(e.contains(c), "error {e:?} should mention {c:?}");
    }
}

#[test]
fn bad_requests_get_clear_errors() {
    let agg = Agg::start();
    let mk = marker("br");

    let r = agg.get(&format!(
        "/api/v1/logs/search?query={}",
        enc(r#"{namespace="#)
    ));
    assert_error(
        &r,
        400,
        "bad_data",
        &["invalid parameter \"query\"", "position 11"],
    );
    let r = agg.get(&format!(
        "/api/v1/logs/search?query={}",
        enc(r#"{namespace="a"} |~ "(""#)
    ));
    assert_error(&r, 400, "bad_data", &["\"query\""]);

    let r = agg.post(
        "/v1/logs",
        "application/x-protobuf",
        b"\xff\xff\xff garbage !!",
    );
    assert_error(&r, 400, "bad_data", &["OTLP"]);
    let r = agg.post("/v1/logs", "application/json", b"{\"resourceLogs\": [");
    assert_error(&r, 400, "bad_data", &["OTLP"]);

    let r = agg.post("/loki/api/v1/push", "application/json", b"{\"streams\":");
    assert_error(&r, 400, "bad_data", &["Loki"]);
    let r = agg.post(
        "/loki/api/v1/push",
        "application/json",
        br#"{"streams":[{"stream":{},"values":[[1,"x"]]}]}"#,
    );
    assert_error(&r, 400, "bad_data", &["streams[0].values[0]"]);

    let q = enc("{namespace=\"x\"}");
    let r = agg.get(&format!("/api/v1/logs/search?query={q}&limit=abc"));
    assert_error(&r, 400, "bad_data", &["\"limit\""]);
    let r = agg.get(&format!("/api/v1/logs/search?query={q}&start=notatime"));
    assert_error(&r, 400, "bad_data", &["\"start\""]);
    let r = agg.get(&format!("/api/v1/logs/search?query={q}&end=yesterday-ish"));
    assert_error(&r, 400, "bad_data", &["\"end\""]);
    let r = agg.get(&format!("/api/v1/logs/search?query={q}&direction=sideways"));
    assert_error(&r, 400, "bad_data", &["\"direction\""]);
    let r = agg.get(&format!("/api/v1/logs/search?query={q}&cursor=bogus"));
    assert_error(&r, 400, "bad_data", &["\"cursor\""]);

    let r = agg.get("/api/v1/no/such/route");
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["status"], "error", "{}", r.text());

    // Still serving after all that.
    let h = agg.get("/healthz");
    assert_eq!(h.status, 200, "{}", h.text());
    agg.push_loki_json(
        &json!({"streams": [{"stream": {"namespace": "after-errors"},
        "values": [[now_ns().to_string(), format!("still alive {mk}")]]}]}),
    );
    let d = agg.wait_total(&mk, "", 1);
    assert_eq!(hits(&d)[0]["namespace"], "after-errors");
}

// ---------------------------------------------------------------------------------------
// 6. Pagination, directions and filters.

fn page_all(agg: &Agg, query: &str, direction: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0..10 {
        let mut extra = format!("&limit=10&direction={direction}");
        if let Some(c) = &cursor {
            extra.push_str(&format!("&cursor={}", enc(c)));
        }
        let d = agg.search(query, &extra);
        assert_eq!(d["total"], 25, "total on page {page} ({direction}): {d:#}");
        let n = hits(&d).len();
        assert!(n <= 10, "page {page} has {n} hits");
        out.extend(messages(&d));
        match &d["next_cursor"] {
            Value::Null => {
                assert!(out.len() >= 25, "null cursor too early: {d:#}");
                return out;
            }
            Value::String(c) => {
                assert_eq!(n, 10, "a non-final page is full: {d:#}");
                cursor = Some(c.clone());
            }
            other => panic!("next_cursor {other}"),
        }
    }
    panic!("paging did not end: {out:?}");
}

#[test]
fn search_pagination_cursor_and_direction() {
    let agg = Agg::start();
    let mk = marker("pg");
    let ns = format!("ns-{mk}");
    let base = now_ns() - 120_000_000_000;
    let line = |i: usize| {
        let parity = if i.is_multiple_of(2) { "Even" } else { "odd" };
        format!("{mk} item {i:02} {parity}")
    };
    let values: Vec<Value> = (0..25)
        .map(|i| json!([(base + i as i64 * 1_000_000_000).to_string(), line(i)]))
        .collect();
    agg.push_loki_json(
        &json!({"streams": [{"stream": {"namespace": ns, "app": "pager"},
        "values": values}]}),
    );
    let sel = format!("{{namespace=\"{ns}\"}}");
    agg.wait_total(&sel, "", 25);

    let backward = page_all(&agg, &sel, "backward");
    let want_newest_first: Vec<String> = (0..25).rev().map(line).collect();
    assert_eq!(backward, want_newest_first);
    assert_eq!(backward.iter().collect::<BTreeSet<_>>().len(), 25);

    let forward = page_all(&agg, &sel, "forward");
    let want_oldest_first: Vec<String> = (0..25).map(line).collect();
    assert_eq!(forward, want_oldest_first);

    // First forward page starts with the oldest.
    let d = agg.search(&sel, "&limit=10&direction=forward");
    assert_eq!(messages(&d)[0], line(0));
    assert_eq!(hits(&d)[0]["labels"]["app"], "pager");

    // Filters give exact totals.
    let total = |q: String| agg.search(&q, "&limit=100")["total"].as_u64().unwrap();
    assert_eq!(total(format!("{sel} |= \"Even\"")), 13);
    assert_eq!(total(format!("{sel} != \"Even\"")), 12);
    assert_eq!(total(format!("{sel} != \"odd\" != \"item 00\"")), 12);
    assert_eq!(total(format!("{sel} |~ \"item 1[0-9]\"")), 10);
    assert_eq!(
        total(format!("{sel} |~ \"item (0[0-4]|2[0-4])\" |= \"odd\"")),
        4
    );
    assert_eq!(total(format!("{sel} !~ \"item [01]\"")), 5);
    let d = agg.search(&format!("{sel} |~ \"item 2[0-4]\""), "&limit=100");
    assert_eq!(
        messages(&d),
        (20..25).rev().map(line).collect::<Vec<_>>(),
        "{d:#}"
    );
    // Free text: case-insensitive whole words, phrases and exclusions.
    assert_eq!(total(format!("{mk} even")), 13);
    assert_eq!(total(format!("{mk} EVEN")), 13);
    assert_eq!(total(format!("{mk} -even")), 12);
    assert_eq!(total(format!("{mk} \"item 07\"")), 1);
    assert_eq!(total(format!("{mk} eve")), 0, "whole words only");
}

// ---------------------------------------------------------------------------------------
// 7. Live tail over SSE.

/// Decodes the complete chunks of a chunked body; returns the payload so far.
fn dechunk_complete(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&b[..nl]);
        let size = size.split(';').next().unwrap_or("").trim();
        let Ok(n) = usize::from_str_radix(size, 16) else {
            break;
        };
        if n == 0 || b.len() < nl + 2 + n {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[(nl + 2 + n + 2).min(b.len())..];
    }
    out
}

#[test]
fn tail_streams_new_matching_records() {
    let agg = Agg::start();
    let mk = marker("tl");
    let query = format!("{{namespace=\"tail-ns\"}} |= \"{mk}\" != \"skip\"");
    let mut s = TcpStream::connect(&agg.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    write!(
        s,
        "GET /api/v1/logs/tail?query={} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        enc(&query),
        agg.addr
    )
    .unwrap();

    let mut raw: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    let mut read_some = |raw: &mut Vec<u8>| match s.read(&mut buf) {
        Ok(0) => panic!("tail stream closed: {}", String::from_utf8_lossy(raw)),
        Ok(n) => raw.extend_from_slice(&buf[..n]),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        Err(e) => panic!("tail read: {e}"),
    };
    // Wait for the response head (the subscription exists before it is sent).
    let deadline = Instant::now() + WAIT;
    let head_end = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        assert!(
            Instant::now() < deadline,
            "no tail response head: {}",
            String::from_utf8_lossy(&raw)
        );
        read_some(&mut raw);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    let chunked = head.contains("transfer-encoding: chunked");

    let t = now_ns();
    let matching: Vec<String> = (0..3).map(|i| format!("tail hit {i} {mk}")).collect();
    let v = |i: i64, l: &str| json!([(t + i).to_string(), l]);
    agg.push_loki_json(&json!({"streams": [
        {"stream": {"namespace": "tail-ns"}, "values": [
            v(0, &matching[0]), v(1, &format!("tail skip {mk}")), v(2, &matching[1])]},
        {"stream": {"namespace": "other-ns"}, "values": [v(3, &format!("tail other {mk}"))]},
        {"stream": {"namespace": "tail-ns"}, "values": [v(4, &format!("unrelated line {}", mk.len()))]}
    ]}));
    // A second push later.
    std::thread::sleep(Duration::from_millis(300));
    agg.push_loki_json(&json!({"streams": [
        {"stream": {"namespace": "tail-ns"}, "values": [
            v(5, &format!("late skip {mk}")), v(6, &matching[2])]}
    ]}));

    let parse = |raw: &[u8]| -> (String, Vec<Value>) {
        let body = &raw[head_end..];
        let body = if chunked {
            dechunk_complete(body)
        } else {
            body.to_vec()
        };
        let text = String::from_utf8_lossy(&body).into_owned();
        let events = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| {
                serde_json::from_str(d.trim()).unwrap_or_else(|e| panic!("bad SSE data {d}: {e}"))
            })
            .collect();
        (text, events)
    };
    let deadline = Instant::now() + WAIT;
    let mut complete_at: Option<Instant> = None;
    let events = loop {
        let (text, events) = parse(&raw);
        if events.len() >= 3 && complete_at.is_none() {
            complete_at = Some(Instant::now());
        }
        // Once the matching records are in, linger a little so that a wrongly streamed
        // non-matching record would show up too.
        if complete_at.is_some_and(|t| t.elapsed() > Duration::from_millis(1500)) {
            break events;
        }
        assert!(
            Instant::now() < deadline,
            "tail gave only {events:?}; raw:\n{text}\nlog:\n{}",
            agg.proc.output()
        );
        read_some(&mut raw);
    };
    let got: Vec<String> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(got, matching, "exactly the matching records, in order");
    for e in &events {
        assert_eq!(e["namespace"], "tail-ns", "{e:#}");
    }
}

// ---------------------------------------------------------------------------------------
// 8. Token auth.

#[test]
fn token_auth_protects_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = dir.path().join("aggregator-token.log");
    let f = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin())
        .args([
            "aggregator",
            "--listen",
            &addr,
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .env("RUST_LOG", "info,tantivy=warn")
        .env("ARGUS_TOKEN", "secret")
        .stdout(Stdio::from(f.try_clone().unwrap()))
        .stderr(Stdio::from(f))
        .spawn()
        .unwrap();
    let proc = Proc {
        child,
        name: "aggregator-token".into(),
        log,
    };
    wait_healthy(&addr);

    let mk = marker("tk");
    let auth = [("Authorization", "Bearer secret")];
    let search_path = format!("/api/v1/logs/search?query={}", enc(&mk));

    // No token, or a wrong one: 401 with the error envelope.
    for headers in [
        &[][..],
        &[("Authorization", "Bearer wrong")][..],
        &[("Authorization", "secret")][..],
    ] {
        let r = request(&addr, "GET", &search_path, headers, b"").unwrap();
        assert_eq!(r.status, 401, "{headers:?}: {}", r.text());
        assert_eq!(r.json()["status"], "error", "{}", r.text());
    }
    let body = json!({"streams": [{"stream": {"namespace": "auth-ns"},
        "values": [[now_ns().to_string(), format!("secret line {mk}")]]}]})
    .to_string();
    let r = request(
        &addr,
        "POST",
        "/loki/api/v1/push",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 401, "push without token: {}", r.text());
    let r = request(
        &addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        b"{\"resourceLogs\":[]}",
    )
    .unwrap();
    assert_eq!(r.status, 401, "OTLP without token: {}", r.text());
    let r = request(
        &addr,
        "GET",
        &format!("/api/v1/logs/tail?query={}", enc(&mk)),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 401, "tail without token: {}", r.text());

    // Health endpoints stay open.
    assert_eq!(get(&addr, "/healthz").unwrap().status, 200);
    assert_eq!(get(&addr, "/readyz").unwrap().status, 200);

    // With the token everything works.
    let r = request(
        &addr,
        "POST",
        "/loki/api/v1/push",
        &[("Content-Type", "application/json"), auth[0]],
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 204, "push with token: {}", r.text());
    let found = wait_for(WAIT, "the pushed line via an authorized search", || {
        let r = request(&addr, "GET", &search_path, &auth, b"")?;
        assert_eq!(r.status, 200, "{}", r.text());
        let d = r.json()["data"].clone();
        (d["total"] == 1).then_some(d)
    });
    assert_eq!(
        found["hits"][0]["message"],
        format!("secret line {mk}").as_str()
    );
    drop(proc);
}

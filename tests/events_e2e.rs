//! End to end: Kubernetes Events (the real-world shapes of /work/shared/fixtures, converted
//! here by the watcher's rules, plus live series) → `POST /api/v1/events` → `kill -9` and
//! restart of the aggregator → `/api/v1/events/search`. Every Event uid is found exactly
//! once with its final count, whatever the order, resends and crashes; hits have the
//! documented shape field by field.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const FIXTURE: &str = "/work/shared/fixtures/k8s-events.jsonl";
const SEC: i64 = 1_000_000_000;

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac]Z` (what the API server writes) to ns; test-local, so
/// argus' own parser is not what checks argus.
fn parse_time(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let t: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, day) = (d[0] - i64::from(d[1] <= 2), d[1], d[2]);
    // Howard Hinnant's days_from_civil.
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let nanos = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}")[..9].parse::<i64>().ok()?
    };
    Some((days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) * SEC + nanos)
}

fn fmt_time(ns: i64) -> String {
    if ns == 0 {
        return String::new();
    }
    rfc3339_nano(ns.div_euclid(SEC), ns.rem_euclid(SEC) as u32)
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// The watcher's conversion of a core/v1 (or events.k8s.io/v1) Event to the record argus
/// keeps; `None` for what is not an Event.
fn convert(ev: &Value) -> Option<Value> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let t = |v: &Value| v.as_str().and_then(parse_time).unwrap_or(0);
    let obj = if ev["involvedObject"].is_object() {
        &ev["involvedObject"]
    } else {
        ev.get("regarding")?
    };
    let series_last = t(&ev["series"]["lastObservedTime"]);
    let last = t(&ev["lastTimestamp"]).max(t(&ev["deprecatedLastTimestamp"]));
    let event_time = t(&ev["eventTime"]);
    let first = t(&ev["firstTimestamp"]).max(t(&ev["deprecatedFirstTimestamp"]));
    let timestamp = [series_last, last, event_time, first].into_iter().max()?;
    let count = ev["count"]
        .as_u64()
        .or(ev["series"]["count"].as_u64())
        .or(ev["deprecatedCount"].as_u64())
        .unwrap_or(1)
        .max(1);
    let src = if ev["source"].is_object() {
        &ev["source"]
    } else {
        &ev["deprecatedSource"]
    };
    let component = [
        &src["component"],
        &ev["reportingComponent"],
        &ev["reportingController"],
    ]
    .into_iter()
    .map(s)
    .find(|c| !c.is_empty())
    .unwrap_or_default();
    let host = [&src["host"], &ev["reportingInstance"]]
        .into_iter()
        .map(s)
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    let source = match (component.is_empty(), host.is_empty()) {
        (_, true) => component,
        (true, false) => host,
        (false, false) => format!("{component}, {host}"),
    };
    let namespace = match s(&obj["namespace"]) {
        n if n.is_empty() => s(&ev["metadata"]["namespace"]),
        n => n,
    };
    let message = if ev["message"].is_string() {
        s(&ev["message"])
    } else {
        s(&ev["note"])
    };
    let mut uid = s(&ev["metadata"]["uid"]);
    if uid.is_empty() {
        // Fixture 7's excerpt has no metadata: a stable synthetic uid.
        uid = format!("synthetic-{}-{}", s(&ev["reason"]), s(&obj["name"]));
    }
    Some(json!({
        "timestamp": fmt_time(timestamp),
        "first_timestamp": fmt_time(if first != 0 { first } else { event_time }),
        "last_timestamp": fmt_time(if last != 0 { last } else { series_last }),
        "count": count,
        "namespace": namespace,
        "kind": s(&obj["kind"]),
        "name": s(&obj["name"]),
        "reason": s(&ev["reason"]),
        "type": s(&ev["type"]),
        "message": message,
        "source": source,
        "uid": uid,
        "resource_version": s(&ev["metadata"]["resourceVersion"]),
    }))
}

/// Every Event of the fixture: plain objects, lists and watch frames (ADDED/MODIFIED);
/// ERROR and BOOKMARK frames are not Events.
fn fixture_events() -> Vec<Value> {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with("//") && !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).unwrap();
        let items: Vec<&Value> = match (v["type"].as_str(), v["kind"].as_str()) {
            (Some("ADDED" | "MODIFIED"), _) => vec![&v["object"]],
            (Some(_), _) if v.get("object").is_some() => vec![],
            (_, Some("EventList")) => v["items"].as_array().unwrap().iter().collect(),
            _ => vec![&v],
        };
        out.extend(items.into_iter().filter_map(convert));
    }
    out
}

struct Agg {
    addr: String,
}

impl Agg {
    fn post(&self, body: &[u8]) -> Resp {
        request(
            &self.addr,
            "POST",
            "/api/v1/events",
            &[("Content-Type", "application/json")],
            body,
        )
        .unwrap()
    }

    /// Posts a batch; returns (accepted, updated, ignored).
    fn send(&self, events: &[Value]) -> (u64, u64, u64) {
        let r = self.post(json!({ "events": events }).to_string().as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
        (n("accepted"), n("updated"), n("ignored"))
    }

    fn search(&self, query: &str, extra: &str) -> Value {
        let path = format!("/api/v1/events/search?query={}{extra}", enc(query));
        let r = get(&self.addr, &path).unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let v = r.json();
        assert_eq!(v["status"], "success");
        v["data"].clone()
    }

    /// The uids of a search over everything since 2015, in hit order.
    fn uids(&self, query: &str, extra: &str) -> Vec<String> {
        let d = self.search(query, &format!("&start=2015-01-01T00:00:00Z{extra}"));
        d["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["uid"].as_str().unwrap().to_string())
            .collect()
    }
}

fn start(port: u16, data: &Path, logs: &Path, cfg: &Path) -> Proc {
    aggregator_with(port, data, logs, &["--config", cfg.to_str().unwrap()])
}

fn with(e: &Value, count: u64, timestamp: i64, rv: u64) -> Value {
    let mut e = e.clone();
    e["count"] = json!(count);
    e["timestamp"] = json!(fmt_time(timestamp));
    e["last_timestamp"] = json!(fmt_time(timestamp));
    e["resource_version"] = json!(rv.to_string());
    e
}

/// A live Event; `what` is namespace, kind, name, reason, type and message.
fn live(uid: &str, what: [&str; 6], ts: i64) -> Value {
    json!({
        "timestamp": fmt_time(ts), "first_timestamp": fmt_time(ts), "last_timestamp": fmt_time(ts),
        "count": 1, "namespace": what[0], "kind": what[1], "name": what[2], "reason": what[3],
        "type": what[4], "message": what[5], "source": "kubelet, node-a", "uid": uid,
        "resource_version": "1",
    })
}

#[test]
fn every_event_once_with_its_final_count_through_updates_resends_and_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cfg = root.join("argus.yaml");
    // The fixtures are years old: keep events long enough to hold them; a small body limit
    // to see it enforced.
    std::fs::write(
        &cfg,
        "aggregator:\n  events_retention: 5000d\n  max_body_mb: 1\n",
    )
    .unwrap();
    let port = free_port();
    let data = root.join("data");
    let mut agg_proc = start(port, &data, root, &cfg);
    let agg = Agg {
        addr: format!("127.0.0.1:{port}"),
    };

    // The conversion of the real-world shapes.
    let fixtures = fixture_events();
    assert_eq!(fixtures.len(), 7, "{fixtures:#?}");
    let by_reason = |r: &str| fixtures.iter().find(|e| e["reason"] == r).unwrap().clone();
    let sched = by_reason("FailedScheduling");
    assert_eq!(sched["timestamp"], "2023-12-24T13:37:16.335172Z");
    assert_eq!(sched["first_timestamp"], "2023-12-24T13:37:16.335172Z");
    assert_eq!(sched["last_timestamp"], "");
    assert_eq!(
        sched["source"],
        "default-scheduler, default-scheduler-minikube"
    );
    let oom = by_reason("OOMKilling");
    assert_eq!(
        (
            oom["namespace"].as_str(),
            oom["kind"].as_str(),
            oom["type"].as_str()
        ),
        (Some("default"), Some("Node"), Some(""))
    );
    assert_eq!(by_reason("FailedMount")["count"], 16);
    assert_eq!(by_reason("Unhealthy")["timestamp"], "2022-03-03T04:10:08Z");

    // Final state per uid, kept by the test.
    let mut want: BTreeMap<String, Value> = BTreeMap::new();
    let got = agg.send(&fixtures);
    assert_eq!(got, (7, 0, 0));
    for e in &fixtures {
        want.insert(e["uid"].as_str().unwrap().into(), e.clone());
    }

    // Searchable within 2 s of the ack.
    let t = Instant::now();
    let now = now_ns();
    let probe = live(
        "live-probe",
        [
            "my-app",
            "Pod",
            "api-0",
            "Unhealthy",
            "Warning",
            "Liveness probe failed: HTTP probe failed with statuscode: 500",
        ],
        now - 30 * SEC,
    );
    assert_eq!(agg.send(std::slice::from_ref(&probe)), (1, 0, 0));
    want.insert("live-probe".into(), probe.clone());
    wait_for(
        Duration::from_secs(2),
        "a new event searchable within 2s",
        || {
            agg.uids(r#"{name="api-0"}"#, "")
                .contains(&"live-probe".to_string())
                .then_some(())
        },
    );
    eprintln!("searchable {:?} after the ack", t.elapsed());

    // The fixture BackOff repeats: counts 2..=5 every 5 minutes, sent out of order, with
    // resends of old states in between; a live BackOff series in another pod rises to 10.
    let backoff = by_reason("BackOff");
    let b0 = parse_time(backoff["timestamp"].as_str().unwrap()).unwrap();
    let state = |c: u64| {
        with(
            &backoff,
            c,
            b0 + (c as i64 - 1) * 300 * SEC,
            114_058_053 + c,
        )
    };
    assert_eq!(agg.send(&[state(2), state(3)]), (2, 2, 0));
    assert_eq!(agg.send(&[state(5), state(4)]), (1, 1, 1));
    assert_eq!(agg.send(&[backoff.clone(), state(3)]), (0, 0, 2));
    want.insert(backoff["uid"].as_str().unwrap().into(), state(5));
    let lb = live(
        "live-backoff",
        [
            "my-app",
            "Pod",
            "worker-1",
            "BackOff",
            "Warning",
            "Back-off restarting failed container worker",
        ],
        now - 3600 * SEC,
    );
    let lstate = |c: u64| with(&lb, c, now - 3600 * SEC + c as i64 * 60 * SEC, c);
    for c in [1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 10] {
        agg.send(&[lstate(c)]);
    }
    want.insert("live-backoff".into(), lstate(10));
    // Fixture 8 has only message texts: NodeNotReady, synthetic.
    let nnr = live(
        "live-nnr-pod",
        [
            "default",
            "Pod",
            "web-1",
            "NodeNotReady",
            "Warning",
            "Node is not ready",
        ],
        now - 600 * SEC,
    );
    let nnr_node = live(
        "live-nnr-node",
        [
            "",
            "Node",
            "node-b",
            "NodeNotReady",
            "Normal",
            "Node node-b status is now: NodeNotReady",
        ],
        now - 590 * SEC,
    );
    assert_eq!(agg.send(&[nnr.clone(), nnr_node.clone()]), (2, 0, 0));
    want.insert("live-nnr-pod".into(), nnr);
    want.insert("live-nnr-node".into(), nnr_node);

    // Bad input: 400 naming the element and field; the whole batch is refused.
    let valid = live("bad-but-valid", ["x", "Pod", "p", "R", "Normal", "m"], now);
    let bad = json!({"events": [valid, {"uid": "u", "timestamp": "yesterday"}]});
    let r = agg.post(bad.to_string().as_bytes());
    assert_eq!(r.status, 400, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");
    assert!(
        v["error"].as_str().unwrap().contains("events[1].timestamp"),
        "{v}"
    );
    let r = agg.post(br#"{"events":[{"timestamp":"2026-01-01T00:00:00Z"}]}"#);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("events[0].uid"), "{}", r.text());
    let r = agg.post(b"not json");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("invalid body"), "{}", r.text());
    let big = format!(
        r#"{{"events":[{{"uid":"big","timestamp":"2026-01-01T00:00:00Z","message":"{}"}}]}}"#,
        "x".repeat(2 << 20)
    );
    let r = agg.post(big.as_bytes());
    assert_eq!(r.status, 413, "{}", r.text());

    // kill -9 right after an ack: what was acknowledged survives.
    let after = live(
        "after-ack",
        [
            "my-app",
            "Deployment",
            "my-app",
            "ScalingReplicaSet",
            "Normal",
            "Scaled up replica set my-app-5fc464b465 to 3",
        ],
        now - 5 * SEC,
    );
    assert_eq!(agg.send(&[after.clone(), lstate(11)]), (2, 1, 0));
    want.insert("after-ack".into(), after);
    want.insert("live-backoff".into(), lstate(11));
    agg_proc.kill9();
    agg_proc = start(port, &data, root, &cfg);

    // Everything re-sent after the restart is ignored: nothing duplicates or rolls back.
    let mut again = fixtures.clone();
    again.extend([state(4), state(5), lstate(9), lstate(11), probe.clone()]);
    assert_eq!(agg.send(&again), (0, 0, again.len() as u64));

    // Each uid exactly once, with its final state, field by field.
    let all = wait_for(
        Duration::from_secs(10),
        "every event searchable after restart",
        || {
            let d = agg.search("{}", "&start=2015-01-01T00:00:00Z&limit=1000");
            (d["total"].as_u64() == Some(want.len() as u64)).then_some(d)
        },
    );
    let hits = all["hits"].as_array().unwrap();
    assert_eq!(hits.len(), want.len());
    let mut seen = BTreeMap::new();
    for h in hits {
        let uid = h["uid"].as_str().unwrap();
        assert!(seen.insert(uid.to_string(), ()).is_none(), "{uid} twice");
        let w = &want[uid];
        let mut keys: Vec<&String> = h.as_object().unwrap().keys().collect();
        let mut want_keys: Vec<&String> = w.as_object().unwrap().keys().collect();
        keys.sort();
        want_keys.sort();
        assert_eq!(keys, want_keys, "{uid}");
        for k in [
            "timestamp",
            "first_timestamp",
            "last_timestamp",
            "count",
            "namespace",
            "kind",
            "name",
            "reason",
            "type",
            "message",
            "source",
            "uid",
            "resource_version",
        ] {
            assert_eq!(h[k], w[k], "{uid}.{k}");
        }
    }
    let hist: u64 = all["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hist, want.len() as u64);
    // Newest first by default.
    let ts: Vec<i64> = hits
        .iter()
        .map(|h| parse_time(h["timestamp"].as_str().unwrap()).unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "{ts:?}");

    // Label selectors, line filters, free text.
    let backoff_uid = backoff["uid"].as_str().unwrap().to_string();
    assert_eq!(
        agg.uids(r#"{namespace="my-app", reason="BackOff"}"#, ""),
        ["live-backoff", backoff_uid.as_str()]
    );
    let d = agg.search(
        r#"{namespace="my-app", reason="BackOff"}"#,
        "&start=2015-01-01T00:00:00Z",
    );
    assert_eq!(d["hits"][1]["count"], 5);
    assert_eq!(d["hits"][0]["count"], 11);
    let unhealthy = by_reason("Unhealthy")["uid"].as_str().unwrap().to_string();
    assert_eq!(
        agg.uids(r#"{type="Warning"} |= "probe""#, ""),
        ["live-probe", unhealthy.as_str()]
    );
    assert_eq!(
        agg.uids(r#"{type="Warning"} |= "Readiness probe""#, ""),
        [unhealthy.as_str()]
    );
    assert_eq!(agg.uids("readiness REFUSED", ""), [unhealthy.as_str()]);
    assert_eq!(
        agg.uids(r#""back-off restarting" -worker"#, ""),
        [backoff_uid.as_str()]
    );
    assert_eq!(
        agg.uids(r#"{kind="Node"} |~ "NodeNotReady|out of memory""#, "")
            .len(),
        2
    );
    assert_eq!(
        agg.uids(r#"{source=~"default-scheduler.*"}"#, ""),
        [sched["uid"].as_str().unwrap().to_string()]
    );
    assert!(agg.uids(r#"{pod="anything"}"#, "").is_empty());

    // Time ranges apply to the latest occurrence.
    let d = agg.search("{}", "&start=2022-03-03T04:10:00Z&end=2022-03-03T04:11:00Z");
    assert_eq!(d["total"], 1);
    assert_eq!(d["hits"][0]["uid"], unhealthy.as_str());
    let d = agg.search("{}", "&start=2022-03-03T04:09:00Z&end=2022-03-03T04:10:00Z");
    assert_eq!(d["total"], 0, "first occurrence only: not in range");
    let d = agg.search("{}", "&start=2021-02-26T09:40:00Z&end=2021-02-26T10:00:00Z");
    assert_eq!(
        d["total"], 1,
        "BackOff's latest state (count 5) is at 09:50:59"
    );
    assert_eq!(d["hits"][0]["timestamp"], "2021-02-26T09:50:59Z");
    // Default range: the last hour.
    let d = agg.search("{}", "");
    assert_eq!(d["total"], 5, "{d}");

    // Limits, direction and pages.
    let pulled = by_reason("Pulled")["uid"].as_str().unwrap().to_string();
    let killing = by_reason("Killing")["uid"].as_str().unwrap().to_string();
    assert_eq!(
        agg.uids("{}", "&limit=3&direction=forward"),
        [pulled, killing, backoff_uid]
    );
    let d = agg.search("{}", "&start=2015-01-01T00:00:00Z&limit=2");
    assert_eq!(d["hits"].as_array().unwrap().len(), 2);
    assert_eq!(d["total"], want.len() as u64);
    assert_eq!(d["hits"][0]["uid"], "after-ack");
    assert_eq!(d["hits"][1]["uid"], "live-probe");
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let extra = format!(
            "&start=2015-01-01T00:00:00Z&limit=4&direction=forward&cursor={}",
            enc(&cursor)
        );
        let d = agg.search("{}", &extra);
        pages.extend(
            d["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["uid"].as_str().unwrap().to_string()),
        );
        match d["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let mut forward = agg.uids("{}", "&direction=forward&limit=1000");
    assert_eq!(pages, forward);
    forward.sort();
    forward.dedup();
    assert_eq!(forward.len(), want.len());
    let r = get(&agg.addr, "/api/v1/events/search?limit=99999").unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("limit"), "{}", r.text());

    // POST form, as the log search.
    let r = request(
        &agg.addr,
        "POST",
        "/api/v1/events/search",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!(
            "query={}&start=2015-01-01T00:00:00Z&limit=0",
            enc(r#"{reason="BackOff"}"#)
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["total"], 2);

    // Self-monitoring.
    let m = get(&agg.addr, "/metrics").unwrap().text();
    let metric = |name: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} missing:\n{m}"))
            .parse()
            .unwrap()
    };
    assert_eq!(metric("argus_aggregator_events_stored"), want.len() as f64);
    assert_eq!(
        metric("argus_aggregator_events_ignored_total"),
        again.len() as f64
    );
    assert!(metric("argus_aggregator_event_search_duration_seconds_count") >= 10.0);
    assert!(m.contains("argus_aggregator_events_ingested_total"));
    agg_proc.terminate();
}

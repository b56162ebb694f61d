//! `/api/v1/status/tsdb` against the real Prometheus 2.42: both scrape the same target,
//! then report the same head size and the same largest cardinalities (Prometheus UI's
//! "TSDB Status", where users look for what makes their series multiply).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

/// A target whose lists have clear leaders: metric `m_<k>` has `k + 2` series, label
/// `l<k>` has `k + 2` values, so the top of every list is decided by counts.
fn body() -> String {
    let mut out = String::new();
    for k in 0..14 {
        out.push_str(&format!("# TYPE m_{k} gauge\n"));
        for i in 0..k + 2 {
            out.push_str(&format!(
                "m_{k}{{l{k}=\"value-{i}\",shard=\"s{}\"}} {i}\n",
                i % 3
            ));
        }
    }
    out
}

/// A list sorted by count, largest first, ties by name (Prometheus leaves ties unordered).
fn ranked(v: &Value) -> Vec<(u64, String)> {
    let mut r: Vec<(u64, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["value"].as_u64().unwrap(),
                e["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    r.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    r
}

#[test]
fn tsdb_status_matches_prometheus_on_the_same_scrapes() {
    let dir = tempfile::tempdir().unwrap();
    let (target, _body) = fake_target(Some(&body()));
    let job = format!(
        "scrape_configs:\n  - job_name: t\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['{target}']\n"
    );
    let prom_dir = dir.path().join("prom");
    std::fs::create_dir_all(&prom_dir).unwrap();
    let (_prom, prom_addr) = prometheus(&prom_dir, &job, &[]);
    let argus_dir = dir.path().join("argus");
    std::fs::create_dir_all(&argus_dir).unwrap();
    let indented: String = job.lines().map(|l| format!("    {l}\n")).collect();
    let (_argus, addr) = serve(
        &["aggregator"],
        &format!("aggregator:\n  metrics:\n{indented}"),
        &argus_dir,
        &[],
    );
    // A few scrapes on both (Prometheus computes the lists on its first status request
    // and keeps them 30 s, so ask once, when everything is in).
    for a in [&addr, &prom_addr] {
        wait_for(Duration::from_secs(30), "three scrapes", || {
            let r = query(a, "count_over_time(up[1m])");
            let n: f64 = r.first()?["value"][1].as_str()?.parse().ok()?;
            (n >= 3.0).then_some(())
        });
    }
    let ours = api(&addr, "/api/v1/status/tsdb");
    let theirs = api(&prom_addr, "/api/v1/status/tsdb");

    let head = |v: &Value| {
        (
            v["headStats"]["numSeries"].as_u64().unwrap(),
            v["headStats"]["numLabelPairs"].as_u64().unwrap(),
        )
    };
    assert_eq!(head(&ours), head(&theirs), "ours {ours}\ntheirs {theirs}");
    // 119 target series and the 5 scrape series.
    assert_eq!(head(&ours).0, 124);
    for s in [&ours, &theirs] {
        let h = &s["headStats"];
        assert!(h["chunkCount"].as_u64().unwrap() >= 124, "{h}");
        assert!(
            h["minTime"].as_i64().unwrap() <= h["maxTime"].as_i64().unwrap(),
            "{h}"
        );
    }
    for list in [
        "seriesCountByMetricName",
        "labelValueCountByLabelName",
        "memoryInBytesByLabelName",
        "seriesCountByLabelValuePair",
    ] {
        let (a, b) = (ranked(&ours[list]), ranked(&theirs[list]));
        assert_eq!(a.len(), 10, "{list}: {a:?}");
        assert_eq!(b.len(), 10, "{list}: {b:?}");
        // The same counts; the same names except among ties at the cut, where each
        // keeps a different one of the equals.
        let cut = a[9].0;
        assert_eq!(
            a.iter().map(|e| e.0).collect::<Vec<_>>(),
            b.iter().map(|e| e.0).collect::<Vec<_>>(),
            "{list}"
        );
        let above =
            |v: &[(u64, String)]| v.iter().filter(|e| e.0 > cut).cloned().collect::<Vec<_>>();
        assert_eq!(above(&a), above(&b), "{list}");
    }
    assert_eq!(
        ranked(&ours["seriesCountByMetricName"])[0],
        (15, "m_13".to_string())
    );

    // `limit`, as later Prometheus versions take it; a bad one is named.
    let two = api(&addr, "/api/v1/status/tsdb?limit=2");
    assert_eq!(
        two["seriesCountByLabelValuePair"].as_array().unwrap().len(),
        2
    );
    let bad = get(&addr, "/api/v1/status/tsdb?limit=0").unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("limit"));
}

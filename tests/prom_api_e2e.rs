//! The embedded metrics store end to end, as users run it: all-in-one scraping its own
//! collector, Prometheus' HTTP API over it (as Grafana calls it), staleness when a series
//! or a target goes away, persistence across restarts, and `argus tsdb import`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::Duration;

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn all_in_one_scrapes_its_collector_into_the_prometheus_api() {
    let dir = tempfile::tempdir().unwrap();
    let api_addr = format!("127.0.0.1:{}", free_port());
    let col = format!("127.0.0.1:{}", free_port());
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(
        &cfg,
        format!(
            "collector:\n  listen: \"{col}\"\naggregator:\n  metrics:\n    scrape_interval: 1s\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let start = |name: &str| {
        Proc::start(
            name,
            &[
                "all-in-one",
                "--config",
                cfg.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
                "--listen",
                &api_addr,
            ],
            dir.path(),
        )
    };
    let mut p = start("aio");
    wait_healthy(&api_addr);
    let targets = wait_for(Duration::from_secs(30), "both targets up", || {
        let d = api(&api_addr, "/api/v1/targets");
        let t = d["activeTargets"].as_array()?.clone();
        (t.len() == 2 && t.iter().all(|x| x["health"] == "up")).then_some(t)
    });
    let pools: Vec<&str> = targets
        .iter()
        .map(|t| t["scrapePool"].as_str().unwrap())
        .collect();
    assert!(
        pools.contains(&"cadvisor") && pools.contains(&"node-exporter"),
        "{pools:?}"
    );
    assert_eq!(targets[0]["scrapeInterval"], "1s");

    let jobs = api(&api_addr, "/api/v1/label/job/values");
    assert_eq!(jobs, serde_json::json!(["cadvisor", "node-exporter"]));
    let up = api(
        &api_addr,
        &format!("/api/v1/series?match[]=up&start={}", now() - 60.0),
    );
    assert_eq!(up.as_array().unwrap().len(), 2, "{up}");
    // The node series the collector's /metrics also carries are dropped from job cadvisor.
    let dup = api(
        &api_addr,
        &format!(
            "/api/v1/series?match[]={}",
            enc("{job=\"cadvisor\",__name__=~\"node_.*\"}")
        ),
    );
    assert_eq!(dup, serde_json::json!([]));
    let node = api(
        &api_addr,
        &format!("/api/v1/series?match[]={}", enc("node_load1")),
    );
    assert_eq!(node[0]["job"], "node-exporter");
    let names = api(&api_addr, "/api/v1/labels");
    for n in ["__name__", "job", "instance", "id", "cpu"] {
        assert!(
            names.as_array().unwrap().iter().any(|x| x == n),
            "label {n} in {names}"
        );
    }
    // Bad requests answer in Prometheus' error envelope.
    let bad = get(&api_addr, "/api/v1/series").unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["errorType"], "bad_data");
    let bad = get(&api_addr, &format!("/api/v1/series?match[]={}", enc("up{"))).unwrap();
    assert_eq!(bad.status, 400, "{}", bad.text());

    // A query nested too deep for the evaluator's stack is refused, and the process stays
    // up (20 000 levels of sum() overflowed it and aborted the aggregator before).
    let deep = format!(
        "query={}",
        enc(&format!(
            "{}up{}",
            "sum(".repeat(20_000),
            ")".repeat(20_000)
        ))
    );
    let r = request(
        &api_addr,
        "POST",
        "/api/v1/query",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        deep.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("too deeply nested"), "{}", r.text());
    assert_eq!(get(&api_addr, "/-/healthy").unwrap().status, 200);

    // Clients that accept gzip (Grafana, Prometheus' scraper) get it; the answer is the
    // same. A window that ended 2 s ago, so that both requests see the same series, once
    // it holds a few scrapes.
    let (path, plain) = wait_for(Duration::from_secs(30), "the series of both jobs", || {
        let t = now() - 2.0;
        let path = format!(
            "/api/v1/series?match[]={}&start={}&end={t}",
            enc("{job=~\".+\"}"),
            t - 60.0
        );
        let plain = get(&api_addr, &path)?;
        (plain.body.len() > 4096).then_some((path, plain))
    });
    assert!(!plain
        .headers
        .to_ascii_lowercase()
        .contains("content-encoding"));
    let (zipped, unzipped) = get_gzipped(&api_addr, &path);
    let head = zipped.headers.to_ascii_lowercase();
    assert!(head.contains("vary: accept-encoding"), "{head}");
    assert!(
        zipped.body.len() * 4 < plain.body.len(),
        "{} vs {}",
        zipped.body.len(),
        plain.body.len()
    );
    assert_eq!(unzipped, plain.text());

    // Restart: what was scraped is still there.
    // Only samples from before the restart count: the new process scrapes after `to`.
    let (from, to) = (now() - 600.0, now());
    let before = api(
        &api_addr,
        &format!("/api/v1/series?match[]=up&start={from}&end={to}"),
    );
    p.terminate();
    let _p = start("aio2");
    wait_healthy(&api_addr);
    let after = api(
        &api_addr,
        &format!("/api/v1/series?match[]=up&start={from}&end={to}"),
    );
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len(),
        "after a restart: {after}\nfirst run:\n{}\nsecond run:\n{}",
        std::fs::read_to_string(dir.path().join("aio.log")).unwrap_or_default(),
        std::fs::read_to_string(dir.path().join("aio2.log")).unwrap_or_default()
    );
}

#[test]
fn staleness_and_down_targets() {
    let dir = tempfile::tempdir().unwrap();
    let (target, body) = fake_target(Some("# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 2\n"));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(&cfg, "aggregator:\n  metrics:\n    scrape_interval: 1s\n").unwrap();
    let _p = aggregator_with(
        port,
        &dir.path().join("data"),
        dir.path(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--scrape-target",
            &format!("http://{target}/metrics"),
        ],
    );
    let series = |sel: &str| {
        api(
            &addr,
            &format!(
                "/api/v1/series?match[]={}&start={}",
                enc(sel),
                now() - 3600.0
            ),
        )
    };
    wait_for(Duration::from_secs(20), "two series of a", || {
        (series("a").as_array()?.len() == 2).then_some(())
    });
    let s = series("a");
    assert_eq!(s[0]["job"], "cadvisor");
    assert_eq!(s[0]["instance"], target.as_str());
    // One series goes away, then the whole target.
    *body.lock().unwrap() = Some("a{x=\"1\"} 1\n".into());
    std::thread::sleep(Duration::from_millis(2500));
    *body.lock().unwrap() = None;
    wait_for(Duration::from_secs(20), "target down", || {
        let t = api(&addr, "/api/v1/targets");
        let t0 = t["activeTargets"][0].clone();
        (t0["health"] == "down" && t0["lastError"].as_str()?.contains("500")).then_some(())
    });
    // Staleness markers end both series: instant queries see nothing now.
    std::thread::sleep(Duration::from_millis(1500));
    let q = api(&addr, &format!("/api/v1/query?query={}", enc("a")));
    assert_eq!(
        q["result"],
        serde_json::json!([]),
        "stale series are not returned: {q}"
    );
    let up = api(&addr, &format!("/api/v1/query?query={}", enc("up")));
    assert_eq!(up["result"][0]["value"][1], "0");
}

#[test]
fn tsdb_import_then_query() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.om");
    let t0 = (now() as i64 / 60) * 60 - 3600;
    let mut text = String::from("# TYPE http_requests counter\n");
    for i in 0..240 {
        text.push_str(&format!(
            "http_requests_total{{code=\"200\"}} {} {}\n",
            i * 10,
            t0 + i * 15
        ));
    }
    text.push_str("# EOF\n");
    std::fs::write(&file, text).unwrap();
    let data = dir.path().join("data");
    let out = tsdb_import(&file, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 240 samples of 1 series"));
    let bad = dir.path().join("bad.om");
    std::fs::write(&bad, "x{a=\"1\"} 1 100\nx{a=} 2 200\n").unwrap();
    let out = tsdb_import(&bad, &data);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.om") && err.contains("line 2"), "{err}");

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _p = aggregator(port, &data, dir.path());
    let at = t0 + 239 * 15;
    let q = api(
        &addr,
        &format!(
            "/api/v1/query?query={}&time={at}",
            enc("rate(http_requests_total[5m])")
        ),
    );
    let v: f64 = q["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((v - 10.0 / 15.0).abs() < 1e-9, "{q}");
    let r = api(
        &addr,
        &format!(
            "/api/v1/query_range?query={}&start={}&end={at}&step=60",
            enc("http_requests_total"),
            t0
        ),
    );
    assert_eq!(r["resultType"], "matrix");
    assert_eq!(r["result"][0]["values"].as_array().unwrap().len(), 60);
}

//! Rules end to end: all-in-one scrapes its collector, a rule on the collector's
//! log-derived counters goes pending, fires (in `/api/v1/alerts`, `/api/v1/rules` and as
//! `ALERTS`), then resolves; `argus rules check` and `argus rules test` as promtool's.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::Write;
use std::process::Command;
use std::time::Duration;

fn alert_state(addr: &str) -> Option<String> {
    let a = api(addr, "/api/v1/alerts");
    a["alerts"]
        .as_array()?
        .iter()
        .find(|x| x["labels"]["alertname"] == "LogBurst")
        .and_then(|x| x["state"].as_str().map(str::to_string))
}

#[test]
fn a_rule_on_collector_series_fires_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("log");
    let file = logs.join("pods/shop_web_u1/app/0.log");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "").unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        r#"groups:
  - name: logs
    interval: 1s
    rules:
      - record: namespace:log_lines:increase5s
        expr: sum by (namespace) (increase(argus_log_lines_total{job="cadvisor"}[5s]))
      - alert: LogBurst
        expr: namespace:log_lines:increase5s > 0
        for: 2s
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.namespace }} logged {{ $value | humanize }} lines"
"#,
    )
    .unwrap();
    let api_addr = format!("127.0.0.1:{}", free_port());
    let col = format!("127.0.0.1:{}", free_port());
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(
        &cfg,
        format!(
            "collector:\n  listen: \"{col}\"\n  log_root: {}\naggregator:\n  metrics:\n    scrape_interval: 1s\nalerting:\n  rule_files: [\"{}\"]\n",
            logs.display(),
            rules.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let _p = Proc::start(
        "aio",
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
    );
    wait_healthy(&api_addr);
    let groups = api(&api_addr, "/api/v1/rules");
    assert_eq!(groups["groups"][0]["name"], "logs");
    assert_eq!(groups["groups"][0]["rules"].as_array().unwrap().len(), 2);
    let only_alerts = api(&api_addr, "/api/v1/rules?type=alert");
    assert_eq!(
        only_alerts["groups"][0]["rules"].as_array().unwrap().len(),
        1
    );

    // Log lines keep coming for a while: pending, then firing.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, file) = (stop.clone(), file.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&file)
                .unwrap();
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                writeln!(f, "2026-11-27T10:00:00.000000000Z stdout F line {i}").unwrap();
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    wait_for(Duration::from_secs(30), "LogBurst pending", || {
        (alert_state(&api_addr)? == "pending").then_some(())
    });
    wait_for(Duration::from_secs(30), "LogBurst firing", || {
        (alert_state(&api_addr)? == "firing").then_some(())
    });
    let alerts = api(&api_addr, "/api/v1/alerts");
    let a = &alerts["alerts"][0];
    assert_eq!(a["labels"]["severity"], "warning");
    assert_eq!(a["labels"]["namespace"], "shop");
    assert!(
        a["annotations"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("shop logged "),
        "{a}"
    );
    let q = api(
        &api_addr,
        &format!(
            "/api/v1/query?query={}",
            enc("ALERTS{alertname=\"LogBurst\"}")
        ),
    );
    assert_eq!(q["result"][0]["metric"]["alertstate"], "firing", "{q}");
    let rec = api(
        &api_addr,
        &format!(
            "/api/v1/query?query={}",
            enc("namespace:log_lines:increase5s")
        ),
    );
    assert!(
        rec["result"][0]["value"][1]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    // The rule engine's own series.
    let own = get(&api_addr, "/metrics").unwrap().text();
    let evals: f64 = own
        .lines()
        .find_map(|l| l.strip_prefix("argus_rule_evaluations_total "))
        .expect("argus_rule_evaluations_total")
        .parse()
        .unwrap();
    assert!(evals >= 4.0, "{evals}");
    assert!(
        own.contains("argus_rule_group_rules{rule_group=\"logs\""),
        "{own}"
    );
    let listed = api(&api_addr, "/api/v1/rules");
    let alert_rule = &listed["groups"][0]["rules"][1];
    assert_eq!(alert_rule["state"], "firing");
    assert_eq!(alert_rule["health"], "ok");

    // The lines stop: the increase drops to 0 and the alert resolves.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    wait_for(Duration::from_secs(40), "LogBurst resolved", || {
        alert_state(&api_addr).is_none().then_some(())
    });
    let q = wait_for(Duration::from_secs(10), "ALERTS gone", || {
        let q = api(
            &api_addr,
            &format!(
                "/api/v1/query?query={}",
                enc("ALERTS{alertname=\"LogBurst\"}")
            ),
        );
        (q["result"] == serde_json::json!([])).then_some(q)
    });
    assert_eq!(q["resultType"], "vector");
    // Reload with a broken file keeps the loaded rules and names the problem.
    std::fs::write(
        &rules,
        "groups:\n  - name: logs\n    rules:\n      - alert: X\n        expr: sum(\n",
    )
    .unwrap();
    let r = request(&api_addr, "POST", "/-/reload", &[], b"").unwrap();
    assert_eq!(r.status, 500);
    assert!(r.text().contains("rules.yml"), "{}", r.text());
    assert_eq!(
        api(&api_addr, "/api/v1/rules")["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn rules_check_and_test_behave_like_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yml");
    std::fs::write(
        &good,
        "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job (up)\n").unwrap();
    let run = |args: &[&str]| Command::new(bin()).args(args).output().unwrap();
    let out = run(&["rules", "check", good.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS: 2 rules found"));
    let out = run(&[
        "rules",
        "check",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yml") && err.contains("5:"), "{err}");

    let test = dir.path().join("test.yml");
    std::fs::write(
        &test,
        "rule_files: [good.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job=\"a\",instance=\"x\"}'\n        values: '1 1 0 0 0 0 0 0'\n    alert_rule_test:\n      - eval_time: 10m\n        alertname: Down\n        exp_alerts:\n          - exp_labels: {job: a, instance: x}\n    promql_expr_test:\n      - expr: job:up:sum\n        eval_time: 1m\n        exp_samples:\n          - labels: 'job:up:sum{job=\"a\"}'\n            value: 1\n",
    )
    .unwrap();
    let out = run(&["rules", "test", test.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let wrong = std::fs::read_to_string(&test)
        .unwrap()
        .replace("value: 1\n", "value: 2\n");
    std::fs::write(&test, wrong).unwrap();
    let out = run(&["rules", "test", test.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("FAILED") && text.contains("exp:") && text.contains("got:"),
        "{text}"
    );
}

/// Rules evaluated on a remote Prometheus-compatible query API (a real Prometheus here),
/// like vmalert: the data exists only there.
#[test]
fn rules_on_a_remote_prometheus_datasource() {
    let dir = tempfile::tempdir().unwrap();
    // A target only Prometheus scrapes.
    let (target, _) = fake_target(Some(
        "# TYPE remote_only gauge\nremote_only{site=\"x\"} 7\n",
    ));
    let (_prom, prom_addr) = prometheus(
        dir.path(),
        &format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: remote\n    static_configs:\n      - targets: ['{target}']\n"),
        &[],
    );
    wait_for(
        Duration::from_secs(60),
        "prometheus has remote_only",
        || {
            let r = get(
                &prom_addr,
                &format!("/api/v1/query?query={}", enc("remote_only")),
            )?;
            (r.json()["data"]["result"].as_array()?.len() == 1).then_some(())
        },
    );
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: remote\n    interval: 1s\n    rules:\n      - alert: RemoteHigh\n        expr: remote_only > 5\n",
    )
    .unwrap();
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(
        &cfg,
        format!(
            "alerting:\n  rule_files: [\"{}\"]\n  datasource:\n    url: http://{prom_addr}\n",
            rules.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _a = aggregator_with(
        port,
        &dir.path().join("data"),
        dir.path(),
        &["--config", cfg.to_str().unwrap()],
    );
    let alert = wait_for(Duration::from_secs(30), "RemoteHigh firing", || {
        let a = api(&addr, "/api/v1/alerts");
        let x = a["alerts"].as_array()?.first()?.clone();
        (x["state"] == "firing").then_some(x)
    });
    assert_eq!(alert["labels"]["site"], "x");
    assert_eq!(alert["value"], "7e+00");
}

//! Notifications end to end: alerts from argus' rules reach a real Alertmanager 0.25
//! (`alerting.alertmanagers`) and, through argus' own Alertmanager-compatible pipeline, the
//! receivers the tests start on loopback.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

/// A rule file whose alert fires on the first evaluation, every second.
fn always_firing_rules(dir: &Path) -> std::path::PathBuf {
    let rules = dir.join("rules.yml");
    std::fs::write(
        &rules,
        r#"groups:
  - name: always
    interval: 1s
    rules:
      - alert: AlwaysOn
        expr: vector(1)
        labels:
          severity: critical
          namespace: shop
          pod: web-0
        annotations:
          summary: "always on ({{ $value }})"
"#,
    )
    .unwrap();
    rules
}

#[test]
fn alerts_are_forwarded_to_a_real_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Sink::ok();
    let (_am, am_addr) = alertmanager(
        dir.path(),
        &format!(
            r#"route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: http://{}/am-hook
"#,
            hook.addr
        ),
    );
    let rules = always_firing_rules(dir.path());
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(
        &cfg,
        format!(
            "alerting:\n  rule_files: [\"{}\"]\n  external_labels:\n    cluster: prod-1\n  alertmanagers: [\"http://{am_addr}\"]\n",
            rules.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let data = dir.path().join("data");
    let _agg = Proc::start(
        "aggregator",
        &[
            "aggregator",
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            &addr,
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
    );
    wait_healthy(&addr);
    // Alertmanager has the alert with argus' labels and the external label …
    let alert = wait_for(Duration::from_secs(30), "alert in Alertmanager", || {
        let r = get(&am_addr, "/api/v2/alerts")?;
        r.json()
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "AlwaysOn")
            .cloned()
    });
    assert_eq!(alert["labels"]["cluster"], "prod-1", "{alert}");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["annotations"]["summary"], "always on (1)");
    assert_eq!(alert["status"]["state"], "active");
    // … and delivered it to its webhook receiver.
    let msg = wait_for(Duration::from_secs(30), "Alertmanager's webhook", || {
        hook.to("/am-hook").into_iter().next()
    });
    let body = msg.json();
    assert_eq!(body["status"], "firing");
    assert_eq!(body["alerts"][0]["labels"]["alertname"], "AlwaysOn");
    assert_eq!(body["alerts"][0]["labels"]["cluster"], "prod-1");
    // argus counts what it sent.
    let m = get(&addr, "/metrics").unwrap().text();
    let sent = m
        .lines()
        .find(|l| l.starts_with("argus_alertmanager_alerts_sent_total{"))
        .unwrap_or_else(|| panic!("no sent counter in\n{m}"));
    assert!(
        sent.contains(&format!("alertmanager=\"http://{am_addr}\"")),
        "{sent}"
    );
    assert!(!sent.ends_with(" 0"), "{sent}");
}

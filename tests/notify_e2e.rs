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
    let (_agg, addr) = serve(
        &["aggregator"],
        &format!(
            "alerting:\n  rule_files: [\"{}\"]\n  external_labels:\n    cluster: prod-1\n  alertmanagers: [\"http://{am_addr}\"]\n",
            rules.display()
        ),
        dir.path(),
        &[],
    );
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

/// Starts `argus aggregator` with rules, a scrape target, a notification config and
/// `extra` lines in the `alerting:` section; returns it with its address.
fn aggregator_notifying(dir: &Path, rules: &str, target: &str, am_config: &str) -> (Proc, String) {
    let rules_file = dir.join("rules.yml");
    std::fs::write(&rules_file, rules).unwrap();
    let am_file = dir.join("notify.yml");
    std::fs::write(&am_file, am_config).unwrap();
    serve(
        &["aggregator", "--alertmanager-config", am_file.to_str().unwrap()],
        &format!(
            "aggregator:\n  metrics:\n    scrape_interval: 1s\n    scrape_targets: [\"http://{target}/metrics\"]\nalerting:\n  rule_files: [\"{}\"]\n  external_url: http://argus.example:9400\n",
            rules_file.display()
        ),
        dir,
        &[],
    )
}

const RULES: &str = r#"groups:
  - name: test
    interval: 1s
    rules:
      - alert: Burning
        expr: burn > 0
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.pod }} burns"
          runbook_url: https://runbooks.example/burning
      - alert: Meltdown
        expr: meltdown > 0
        labels:
          severity: critical
      - alert: Inhibited
        expr: meltdown > 0
        labels:
          severity: warning
      - alert: Silenced
        expr: hush > 0
"#;

fn alertnames(r: &Received) -> Vec<String> {
    r.json()["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap().to_string())
        .collect()
}

fn amtool(addr: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("amtool")
        .arg(format!("--alertmanager.url=http://{addr}"))
        .args(args)
        .output()
        .expect("amtool (Debian prometheus-alertmanager) must be installed");
    assert!(
        out.status.success(),
        "amtool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn grouped_repeated_resolved_inhibited_and_silenced_as_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Sink::ok();
    let (target, body) = fake_target(Some("burn{pod=\"a\"} 0\n"));
    let (_agg, addr) = aggregator_notifying(
        dir.path(),
        RULES,
        &target,
        &format!(
            r#"route:
  receiver: hook
  group_by: [alertname]
  group_wait: 2s
  group_interval: 2s
  repeat_interval: 8s
inhibit_rules:
  - source_matchers: [alertname="Meltdown"]
    target_matchers: [severity="warning"]
    equal: [job]
receivers:
  - name: hook
    webhook_configs:
      - url: http://{}/hook
"#,
            hook.addr
        ),
    );
    // amtool adds a silence for an alert that does not fire yet.
    let id = amtool(
        &addr,
        &[
            "silence",
            "add",
            "alertname=Silenced",
            "--comment=maintenance window",
            "--author=tester",
            "--duration=1h",
        ],
    );
    let id = id.trim().to_string();
    assert_eq!(id.len(), 36, "a silence id: {id:?}");
    let listed = amtool(&addr, &["silence", "query", "-o", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["createdBy"], "tester");
    assert_eq!(listed[0]["comment"], "maintenance window");
    assert_eq!(listed[0]["status"]["state"], "active");

    // Two pods burn, a silenced alert fires, and Meltdown inhibits the warnings of its
    // job — but Burning's job is the same, so switch Meltdown on only later.
    let t_fire = std::time::Instant::now();
    *body.lock().unwrap() = Some("burn{pod=\"a\"} 1\nburn{pod=\"b\"} 1\nhush 1\n".into());
    let first = wait_for(Duration::from_secs(30), "first notification", || {
        hook.requests().into_iter().next()
    });
    let waited = first.at.duration_since(t_fire);
    assert!(
        waited >= Duration::from_secs(2),
        "sent before group_wait: {waited:?}"
    );
    let n = first.json();
    assert_eq!(n["version"], "4");
    assert_eq!(n["receiver"], "hook");
    assert_eq!(n["status"], "firing");
    assert_eq!(n["groupKey"], "{}:{alertname=\"Burning\"}");
    assert_eq!(
        n["groupLabels"],
        serde_json::json!({"alertname": "Burning"})
    );
    assert_eq!(n["commonLabels"]["severity"], "warning");
    assert_eq!(
        n["commonAnnotations"]["runbook_url"],
        "https://runbooks.example/burning"
    );
    assert_eq!(n["externalURL"], "http://argus.example:9400");
    assert_eq!(n["truncatedAlerts"], 0);
    let alerts = n["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "one message for the group: {n}");
    for (a, pod) in alerts.iter().zip(["a", "b"]) {
        assert_eq!(a["status"], "firing");
        assert_eq!(a["labels"]["pod"], pod);
        assert_eq!(a["annotations"]["summary"], format!("{pod} burns"));
        assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
        assert_eq!(a["fingerprint"].as_str().unwrap().len(), 16);
        assert!(a["startsAt"].as_str().unwrap().ends_with('Z'));
        assert!(a["generatorURL"]
            .as_str()
            .unwrap()
            .starts_with("http://argus.example:9400/"));
    }
    // Silenced: in the API as suppressed, never notified.
    let silenced = wait_for(
        Duration::from_secs(10),
        "Silenced in /api/v2/alerts",
        || {
            get(&addr, "/api/v2/alerts")?
                .json()
                .as_array()?
                .iter()
                .find(|a| a["labels"]["alertname"] == "Silenced")
                .cloned()
        },
    );
    assert_eq!(silenced["status"]["state"], "suppressed", "{silenced}");
    assert_eq!(silenced["status"]["silencedBy"][0], id.as_str());
    let q = amtool(&addr, &["alert", "query", "alertname=Burning"]);
    assert!(q.contains("Burning") && q.contains("burns"), "{q}");

    // Nothing new within the repeat interval; then exactly one repeat.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        hook.requests().len(),
        1,
        "{:?}",
        hook.requests().iter().map(alertnames).collect::<Vec<_>>()
    );
    let repeat = wait_for(Duration::from_secs(20), "repeat", || {
        hook.requests().get(1).cloned()
    });
    let gap = repeat.at.duration_since(first.at);
    assert!(gap >= Duration::from_secs(8), "repeated after {gap:?}");
    assert_eq!(alertnames(&repeat), ["Burning", "Burning"]);

    // Meltdown fires and inhibits the warnings of its job: Burning is muted (no repeat
    // until it ends), Inhibited never sent; Meltdown is.
    *body.lock().unwrap() =
        Some("burn{pod=\"a\"} 1\nburn{pod=\"b\"} 1\nhush 1\nmeltdown 1\n".into());
    let melt = wait_for(Duration::from_secs(30), "Meltdown", || {
        hook.requests()
            .into_iter()
            .find(|r| alertnames(r) == ["Meltdown"])
    });
    assert_eq!(melt.json()["commonLabels"]["severity"], "critical");
    let inhibited = wait_for(Duration::from_secs(10), "Inhibited in the API", || {
        get(&addr, "/api/v2/alerts?inhibited=true")?
            .json()
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "Inhibited")
            .cloned()
    });
    assert_eq!(inhibited["status"]["state"], "suppressed");
    assert_eq!(
        inhibited["status"]["inhibitedBy"].as_array().unwrap().len(),
        1
    );

    // Meltdown ends: Burning pod b ends too → a resolved Meltdown message, and Burning's
    // next message has b resolved.
    *body.lock().unwrap() = Some("burn{pod=\"a\"} 1\nburn{pod=\"b\"} 0\nhush 1\n".into());
    let resolved = wait_for(Duration::from_secs(30), "Meltdown resolved", || {
        hook.requests()
            .into_iter()
            .find(|r| alertnames(r) == ["Meltdown"] && r.json()["status"] == "resolved")
    });
    assert_ne!(
        resolved.json()["alerts"][0]["endsAt"],
        "0001-01-01T00:00:00Z"
    );
    let burning_b = wait_for(Duration::from_secs(30), "Burning b resolved", || {
        hook.requests().into_iter().find(|r| {
            let v = r.json();
            v["groupLabels"]["alertname"] == "Burning"
                && v["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["labels"]["pod"] == "b" && a["status"] == "resolved")
        })
    });
    assert_eq!(burning_b.json()["status"], "firing", "a still fires");
    for r in hook.requests() {
        let names = alertnames(&r);
        assert!(
            !names.iter().any(|n| n == "Inhibited" || n == "Silenced"),
            "muted alert notified: {names:?}"
        );
    }

    // amtool expires the silence: gone from the active list, shown with --expired.
    amtool(&addr, &["silence", "expire", &id]);
    let active = amtool(&addr, &["silence", "query", "-q"]);
    assert!(!active.contains(&id), "{active}");
    let expired = amtool(&addr, &["silence", "query", "--expired", "-q"]);
    assert!(expired.contains(&id), "{expired}");
    // … and Silenced is notified now.
    wait_for(Duration::from_secs(30), "Silenced after expiry", || {
        hook.requests()
            .into_iter()
            .find(|r| alertnames(r) == ["Silenced"])
    });
    let m = get(&addr, "/metrics").unwrap().text();
    assert!(
        m.contains("argus_notifications_total{receiver=\"hook\",integration=\"webhook\",status=\"success\"}"),
        "{m}"
    );
}

/// The vendors' signatures, computed by Python's standard library (an implementation
/// independent of argus').
fn python_sign(kind: &str, secret: &str, ts: &str) -> String {
    let code = match kind {
        // DingTalk: base64(HMAC-SHA256(key=secret, msg=timestamp+"\n"+secret)).
        "dingtalk" => "import hmac,hashlib,base64,sys;s=sys.argv[1];t=sys.argv[2];print(base64.b64encode(hmac.new(s.encode(),(t+'\\n'+s).encode(),hashlib.sha256).digest()).decode())",
        // Feishu: base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg="")).
        _ => "import hmac,hashlib,base64,sys;s=sys.argv[1];t=sys.argv[2];print(base64.b64encode(hmac.new((t+'\\n'+s).encode(),b'',hashlib.sha256).digest()).decode())",
    };
    let out = std::process::Command::new("python3")
        .args(["-c", code, secret, ts])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn query_param(path: &str, name: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            // Percent-decoding of the base64 alphabet's escapes.
            v.replace("%2B", "+")
                .replace("%2F", "/")
                .replace("%3D", "=")
                .replace("%2b", "+")
                .replace("%2f", "/")
                .replace("%3d", "=")
        })
    })
}

#[test]
fn chat_receivers_are_signed_and_secrets_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    const DING: &str = "SECding0123456789";
    const FEI: &str = "feishu-secret-42";
    // The fake vendors check signatures and answer as the vendors do.
    let chat = Sink::start(|r| {
        let ok = match r.path.split('?').next().unwrap() {
            "/robot/send" => {
                let ts = query_param(&r.path, "timestamp").unwrap_or_default();
                let sign = query_param(&r.path, "sign").unwrap_or_default();
                sign == python_sign("dingtalk", DING, &ts)
            }
            "/open-apis/bot/v2/hook/feishu" => {
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let ts = v["timestamp"].as_str().unwrap_or_default();
                v["sign"].as_str() == Some(&python_sign("feishu", FEI, ts))
            }
            _ => true,
        };
        if r.path.starts_with("/services/") {
            // Slack's incoming webhooks answer a plain `ok`.
            return (200, "ok".into());
        }
        match (ok, r.path.starts_with("/open-apis")) {
            (true, true) => (200, r#"{"code":0,"msg":"success"}"#.into()),
            (false, true) => (200, r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#.into()),
            (true, false) => (200, r#"{"errcode":0,"errmsg":"ok"}"#.into()),
            (false, false) => (200, r#"{"errcode":310000,"errmsg":"sign not match"}"#.into()),
        }
    });
    let (target, body) = fake_target(Some("burn{pod=\"a\",namespace=\"shop\"} 1\n"));
    let c = &chat.addr;
    let (agg, addr) = aggregator_notifying(
        dir.path(),
        RULES,
        &target,
        &format!(
            r##"route:
  receiver: chat
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  routes:
    - matchers: [alertname="Meltdown"]
      receiver: wrong-secret
receivers:
  - name: chat
    dingtalk_configs:
      - url: http://{c}/robot/send?access_token=tok-ding-777
        secret: {DING}
        at_mobiles: ["13800000000"]
        time_zone: Asia/Shanghai
    feishu_configs:
      - url: http://{c}/open-apis/bot/v2/hook/feishu
        secret: {FEI}
    wecom_configs:
      - url: http://{c}/cgi-bin/webhook/send?key=wecom-key-555
    slack_configs:
      - api_url: http://{c}/services/T0/B0/slacktoken999
        channel: "#alerts"
  - name: wrong-secret
    dingtalk_configs:
      - url: http://{c}/robot/send?access_token=tok-ding-777
        secret: SECnot-the-right-one
"##
        ),
    );
    let got = |prefix: &str| {
        wait_for(Duration::from_secs(30), prefix, || {
            chat.to(prefix).into_iter().next()
        })
    };
    let ding = got("/robot/send");
    let d = ding.json();
    assert_eq!(d["msgtype"], "markdown");
    let text = d["markdown"]["text"].as_str().unwrap();
    for want in [
        "Burning",
        "warning",
        "shop",
        "a burns",
        "https://runbooks.example/burning",
        "http://argus.example:9400/#query=",
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in DingTalk text:\n{text}"
        );
    }
    // The start time is shown in the configured zone (Asia/Shanghai, UTC+8); the logs
    // link covers 15 minutes either side of it.
    let start: i64 = text
        .split("&start=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no start in the logs link:\n{text}"));
    let local = rfc3339_nano(start + 15 * 60 + 8 * 3600, 0)
        .replace('T', " ")
        .replace('Z', " CST");
    assert!(
        text.contains(&local),
        "{local:?} not in DingTalk text:\n{text}"
    );
    assert_eq!(d["at"]["atMobiles"][0], "13800000000");
    let fei = got("/open-apis/").json();
    assert_eq!(fei["msg_type"], "interactive");
    assert_eq!(fei["card"]["header"]["template"], "red");
    assert_eq!(fei["timestamp"].as_str().unwrap().len(), 10, "seconds");
    let wecom = got("/cgi-bin/webhook/send").json();
    assert_eq!(wecom["msgtype"], "markdown");
    assert!(wecom["markdown"]["content"].as_str().unwrap().len() <= 4096);
    let slack = got("/services/").json();
    assert_eq!(slack["channel"], "#alerts");
    assert_eq!(slack["attachments"][0]["color"], "danger");
    // The fake vendors accepted the signatures: every integration succeeded, once for
    // the group (no duplicates within the interval).
    std::thread::sleep(Duration::from_secs(3));
    let m = get(&addr, "/metrics").unwrap().text();
    for integration in ["dingtalk", "feishu", "wecom", "slack"] {
        let line = format!(
            "argus_notifications_total{{receiver=\"chat\",integration=\"{integration}\",status=\"success\"}} 1"
        );
        assert!(m.lines().any(|l| l == line), "{line} not in\n{m}");
    }
    assert_eq!(chat.to("/robot/send").len(), 1);
    assert_eq!(chat.to("/open-apis/").len(), 1);

    // A wrong DingTalk secret: the fake vendor rejects the signature, argus counts a
    // failure, and neither the log nor the status page shows a secret or key.
    *body.lock().unwrap() = Some("burn{pod=\"a\",namespace=\"shop\"} 1\nmeltdown 1\n".into());
    wait_for(Duration::from_secs(30), "failed delivery counted", || {
        let m = get(&addr, "/metrics")?.text();
        m.lines()
            .find(|l| {
                l.starts_with("argus_notifications_total{receiver=\"wrong-secret\",integration=\"dingtalk\",status=\"failed\"}")
                    && !l.ends_with(" 0")
            })
            .map(str::to_string)
    });
    let status = get(&addr, "/api/v2/status").unwrap().text();
    assert!(status.contains("<secret>"), "{status}");
    let log = agg.output();
    assert!(
        log.contains("wrong-secret"),
        "the failure is logged:\n{log}"
    );
    for s in [
        DING,
        FEI,
        "SECnot-the-right-one",
        "tok-ding-777",
        "wecom-key-555",
        "slacktoken999",
    ] {
        assert!(!status.contains(s), "{s} in /api/v2/status");
        assert!(!log.contains(s), "{s} in the log:\n{log}");
    }
}

#[test]
fn a_restart_neither_resends_nor_forgets() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Sink::ok();
    let (target, _body) = fake_target(Some("burn{pod=\"a\"} 1\n"));
    let am = format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://{}/hook\n",
        hook.addr
    );
    let (mut agg, addr) = aggregator_notifying(dir.path(), RULES, &target, &am);
    wait_for(Duration::from_secs(30), "first notification", || {
        hook.requests().into_iter().next()
    });
    let id = amtool(
        &addr,
        &[
            "silence",
            "add",
            "alertname=Other",
            "--comment=c",
            "--duration=2h",
        ],
    );
    agg.kill9();
    let (_agg, addr) = aggregator_notifying(dir.path(), RULES, &target, &am);
    // The alert fires again after the restart, but was notified within repeat_interval.
    wait_for(Duration::from_secs(30), "alert back after restart", || {
        get(&addr, "/api/v2/alerts")?
            .json()
            .as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "Burning")
            .cloned()
    });
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(hook.requests().len(), 1, "re-sent after restart");
    let s = api_v2(&addr, &format!("/api/v2/silence/{}", id.trim()));
    assert_eq!(s["status"]["state"], "active", "{s}");
}

fn api_v2(addr: &str, path: &str) -> serde_json::Value {
    let r = get(addr, path).unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

#[test]
fn a_real_prometheus_can_use_argus_as_its_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Sink::ok();
    let am_file = dir.path().join("notify.yml");
    std::fs::write(
        &am_file,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://{}/hook\n",
            hook.addr
        ),
    )
    .unwrap();
    let (_agg, addr) = serve(
        &[
            "aggregator",
            "--alertmanager-config",
            am_file.to_str().unwrap(),
        ],
        "",
        dir.path(),
        &[],
    );
    let rules = always_firing_rules(dir.path());
    let (_prom, _) = prometheus(
        dir.path(),
        &format!(
            "global:\n  evaluation_interval: 1s\nrule_files: [\"{}\"]\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{addr}\"]\n",
            rules.display()
        ),
        // Prometheus drops the alerts of evaluations before its Alertmanagers are
        // discovered and re-sends only after this delay (default 1m).
        &["--rules.alert.resend-delay=1s"],
    );
    let msg = wait_for(
        Duration::from_secs(60),
        "Prometheus' alert via argus",
        || hook.requests().into_iter().next(),
    );
    let v = msg.json();
    assert_eq!(v["groupKey"], "{}:{alertname=\"AlwaysOn\"}");
    assert_eq!(v["alerts"][0]["labels"]["pod"], "web-0");
    assert_eq!(v["alerts"][0]["annotations"]["summary"], "always on (1)");
    let alerts = get(&addr, "/api/v2/alerts").unwrap().json();
    assert_eq!(alerts[0]["receivers"][0]["name"], "hook", "{alerts}");
}

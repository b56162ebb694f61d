//! Parity of argus' notifier with the real Alertmanager 0.25 (`/usr/bin/prometheus-alertmanager`,
//! `/usr/bin/amtool`): the same `alertmanager.yml`, the same alerts and the same silence go
//! to both, then
//!
//! - `GET /api/v2/alerts` and `GET /api/v2/alerts/groups` must be equal (times left
//!   out, silence ids mapped): same groups in the same order, same receivers, labels,
//!   fingerprints, states, `silencedBy`/`inhibitedBy`;
//! - the webhook notifications Alertmanager sends (captured by a local listener) must be
//!   what argus' dispatcher, notification log and mute stages decide to send: same
//!   receiver, byte-identical group key, same alerts in the same order (and the same
//!   Slack messages per receiver: one receiver also has a `slack_configs`);
//! - `amtool config routes test` must route every alert as argus does, and
//!   `amtool check-config` must accept and refuse the same configs.
//!
//! Skipped, with a message, only when the binaries are missing (CI installs them).

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argus_alerting::notify::api;
use argus_alerting::notify::config::Config;
use argus_alerting::notify::dispatch::Dispatcher;
use argus_alerting::notify::nflog::Nflog;
use argus_alerting::notify::silence::Silences;
use serde_json::{json, Value};

const AM: &str = "/usr/bin/prometheus-alertmanager";
const AMTOOL: &str = "/usr/bin/amtool";

const CONFIG: &str = r#"
global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 2s
  group_interval: 1h
  routes:
  - matchers: ['severity="critical"', 'team=~"db|web"']
    receiver: pager
    group_by: [alertname, cluster]
    continue: true
    routes:
    - match: {service: api}
      receiver: api
      group_by: ['...']
    - match_re: {service: 'cache-.*'}
      receiver: cache
  - match: {team: db}
    receiver: db
    routes:
    - matchers: ['env!="prod"']
      receiver: db-dev
      group_by: []
  - matchers: ['{env="prod", region=~"eu-.*"}']
    receiver: eu
    group_by: [region, a1, a]
receivers:
- {name: default, webhook_configs: [{url: 'http://127.0.0.1:HOOK/default'}]}
- {name: pager, webhook_configs: [{url: 'http://127.0.0.1:HOOK/pager'}]}
- {name: api, webhook_configs: [{url: 'http://127.0.0.1:HOOK/api'}]}
- {name: cache, webhook_configs: [{url: 'http://127.0.0.1:HOOK/cache'}]}
- {name: db, webhook_configs: [{url: 'http://127.0.0.1:HOOK/db'}]}
- {name: db-dev, webhook_configs: [{url: 'http://127.0.0.1:HOOK/db-dev'}]}
- name: eu
  webhook_configs: [{url: 'http://127.0.0.1:HOOK/eu'}]
  slack_configs:
  - api_url: 'http://127.0.0.1:HOOK/slack/eu'
    channel: '#eu'
    send_resolved: true
    title: '{{ .CommonLabels.alertname }}'
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster, alertname]
- source_match: {alertname: NodeDown}
  target_match_re: {alertname: 'Node.+'}
  equal: [node]
"#;

/// The alerts: labels, and whether the alert already ended (10 minutes ago).
fn alert_table() -> Vec<(Vec<(&'static str, &'static str)>, bool)> {
    vec![
        (
            vec![
                ("alertname", "HighLatency"),
                ("severity", "critical"),
                ("team", "web"),
                ("cluster", "c1"),
            ],
            false,
        ),
        // Inhibited by the critical one (same cluster and alertname).
        (
            vec![
                ("alertname", "HighLatency"),
                ("severity", "warning"),
                ("team", "web"),
                ("cluster", "c1"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "HighLatency"),
                ("severity", "warning"),
                ("team", "web"),
                ("cluster", "c2"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "ApiErrors"),
                ("severity", "critical"),
                ("team", "web"),
                ("service", "api"),
                ("cluster", "c1"),
                ("instance", "i1"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "ApiErrors"),
                ("severity", "critical"),
                ("team", "web"),
                ("service", "api"),
                ("cluster", "c1"),
                ("instance", "i2"),
            ],
            false,
        ),
        // Continues from pager/cache to db/db-dev.
        (
            vec![
                ("alertname", "CacheMiss"),
                ("severity", "critical"),
                ("team", "db"),
                ("service", "cache-redis"),
                ("cluster", "c2"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "DiskFull"),
                ("team", "db"),
                ("env", "prod"),
                ("cluster", "c1"),
                ("job", "node"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "DiskFull"),
                ("team", "db"),
                ("env", "staging"),
                ("cluster", "c1"),
            ],
            false,
        ),
        // Group labels printed in Go's string order: a1="v" before a="w".
        (
            vec![
                ("alertname", "Traffic"),
                ("env", "prod"),
                ("region", "eu-west"),
                ("a1", "v"),
                ("a", "w"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "Traffic"),
                ("env", "prod"),
                ("region", "us-east"),
            ],
            false,
        ),
        // NodeDown matches both sides of the second rule: it does not inhibit itself.
        (
            vec![("alertname", "NodeDown"), ("node", "n1"), ("job", "node")],
            false,
        ),
        (
            vec![
                ("alertname", "NodeHighLoad"),
                ("node", "n1"),
                ("job", "node"),
                ("instance", "x"),
            ],
            false,
        ),
        (
            vec![
                ("alertname", "NodeHighLoad"),
                ("node", "n2"),
                ("job", "node"),
            ],
            false,
        ),
        // Silenced: its group sends nothing.
        (
            vec![
                ("alertname", "Silenced"),
                ("team", "ops"),
                ("severity", "info"),
            ],
            false,
        ),
        // Go quoting in the group key (grouped by all labels).
        (
            vec![
                ("alertname", "Quoted"),
                ("severity", "critical"),
                ("team", "web"),
                ("service", "api"),
                ("msg", "tab\there \"q\" é\n\\"),
            ],
            false,
        ),
        // Already resolved: grouped, flushed at once, never notified.
        (vec![("alertname", "Gone"), ("team", "ops")], true),
    ]
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One HTTP/1.0 exchange (no chunked bodies to decode): status and body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read");
    let text = String::from_utf8_lossy(&resp).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The real Alertmanager, killed on drop.
struct Alertmanager {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Alertmanager {
    fn start(dir: &Path, config: &Path) -> Alertmanager {
        let port = free_port();
        let log = dir.join("am.log");
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(AM)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=debug")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("start alertmanager");
        let am = Alertmanager { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() && am.get("/-/ready").0 == 200 {
                return am;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("alertmanager did not become ready:\n{}", am.logs());
    }

    fn get(&self, path: &str) -> (u16, String) {
        http(self.port, "GET", path, None)
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        http(self.port, "POST", path, Some(body))
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook endpoint that records every notification (path and JSON body).
struct Hooks {
    port: u16,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Hooks {
    fn start() -> Hooks {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        // The thread ends with the test process.
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                if let Some(req) = read_request(conn) {
                    sink.lock().expect("lock").push(req);
                }
            }
        });
        Hooks { port, got }
    }

    fn received(&self) -> Vec<(String, Value)> {
        self.got.lock().expect("lock").clone()
    }
}

fn read_request(mut conn: TcpStream) -> Option<(String, Value)> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let body = serde_json::from_slice(&buf[header_end..]).ok()?;
    Some((path, body))
}

fn have_binaries() -> bool {
    let ok = Path::new(AM).exists() && Path::new(AMTOOL).exists();
    if !ok {
        println!("skipped: {AM} or {AMTOOL} is not installed");
    }
    ok
}

fn rfc3339(ms: i64) -> String {
    api::time_string(ms)
}

/// The alerts as Prometheus posts them.
fn alerts_body(t0: i64) -> String {
    let alerts: Vec<Value> = alert_table()
        .into_iter()
        .map(|(labels, resolved)| {
            let labels: serde_json::Map<String, Value> = labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            if resolved {
                json!({"labels": labels, "startsAt": rfc3339(t0 - 20 * 60_000), "endsAt": rfc3339(t0 - 10 * 60_000)})
            } else {
                json!({"labels": labels, "startsAt": rfc3339(t0 - 1_000), "annotations": {"summary": "s"}})
            }
        })
        .collect();
    Value::Array(alerts).to_string()
}

/// Drops the times (the two sides received the alerts a few ms apart) and replaces
/// silence ids by the other side's.
fn normalize(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::Object(m) => {
            for k in ["startsAt", "endsAt", "updatedAt"] {
                m.remove(k);
            }
            if let Some(Value::Array(s)) = m.get_mut("silencedBy") {
                for id in s.iter_mut() {
                    if let Some(x) = id.as_str().and_then(|x| ids.get(x)) {
                        *id = Value::String(x.clone());
                    }
                }
            }
            for x in m.values_mut() {
                normalize(x, ids);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalize(x, ids)),
        _ => {}
    }
}

/// (receiver, group key, fingerprints in order) of a notification.
type Sent = (String, String, Vec<String>);

#[test]
fn dispatcher_matches_alertmanager() {
    if !have_binaries() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let hooks = Hooks::start();
    let yaml = CONFIG.replace("HOOK", &hooks.port.to_string());
    let conf_path = dir.path().join("alertmanager.yml");
    std::fs::write(&conf_path, &yaml).expect("write config");
    let config = Config::parse(&yaml, "alertmanager.yml").expect("argus reads the config");
    let am = Alertmanager::start(dir.path(), &conf_path);

    // The same silence on both sides.
    let t0 = now_ms();
    let silence = json!({
        "matchers": [{"name": "alertname", "value": "Silenced", "isRegex": false, "isEqual": true}],
        "startsAt": rfc3339(t0),
        "endsAt": rfc3339(t0 + 3_600_000),
        "createdBy": "am_parity",
        "comment": "parity",
    })
    .to_string();
    let (st, body) = am.post("/api/v2/silences", &silence);
    assert_eq!(st, 200, "{body}");
    let am_sil = json_of(&body)["silenceID"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut silences = Silences::in_memory();
    let ours = api::post_silences(&mut silences, silence.as_bytes(), t0);
    assert_eq!(ours.status, 200);
    let our_sil = ours
        .body
        .as_ref()
        .map(|b| b["silenceID"].clone())
        .unwrap_or_default();
    let ids = HashMap::from([(am_sil, our_sil.as_str().unwrap_or("").to_string())]);

    // The same alerts on both sides.
    let t0 = now_ms();
    let body = alerts_body(t0);
    let (st, resp) = am.post("/api/v2/alerts", &body);
    assert_eq!(st, 200, "{resp}");
    let mut d = Dispatcher::new(&config, t0);
    assert_eq!(api::post_alerts(&mut d, body.as_bytes(), t0).status, 200);

    // The API views, once Alertmanager has processed every alert.
    let now = now_ms();
    let mut our_alerts = api::get_alerts(&d, &silences, &[], now)
        .body
        .unwrap_or_default();
    let mut our_groups = api::get_alert_groups(&d, &silences, &[], now)
        .body
        .unwrap_or_default();
    let want = our_groups
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| g["alerts"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        })
        .unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut am_groups = Value::Null;
    while Instant::now() < deadline {
        am_groups = json_of(&am.get("/api/v2/alerts/groups").1);
        let n: usize = am_groups
            .as_array()
            .map(|g| {
                g.iter()
                    .map(|g| g["alerts"].as_array().map_or(0, Vec::len))
                    .sum()
            })
            .unwrap_or(0);
        if n >= want {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut am_alerts = json_of(&am.get("/api/v2/alerts").1);
    for v in [&mut our_alerts, &mut our_groups] {
        normalize(v, &HashMap::new());
    }
    for v in [&mut am_alerts, &mut am_groups] {
        normalize(v, &ids);
    }
    assert_eq!(
        our_groups, am_groups,
        "alert groups differ\nargus: {our_groups:#}\nalertmanager: {am_groups:#}"
    );
    assert_eq!(
        our_alerts, am_alerts,
        "alerts differ\nargus: {our_alerts:#}\nalertmanager: {am_alerts:#}"
    );
    // The interesting states are really there.
    let states: BTreeSet<String> = our_alerts
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let s = &x["status"];
                    format!(
                        "{}:{}:{}",
                        s["state"],
                        s["silencedBy"].as_array().map_or(0, Vec::len),
                        s["inhibitedBy"].as_array().map_or(0, Vec::len)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(states.contains("\"suppressed\":1:0"), "{states:?}");
    assert!(states.contains("\"suppressed\":0:1"), "{states:?}");

    // The notifications: argus' dispatcher, mute stages and notification log decide.
    let flush_at = t0 + 2_500;
    let mut nflog = Nflog::in_memory();
    let mut ours: Vec<Sent> = Vec::new();
    let mut ours_slack: Vec<String> = Vec::new();
    for f in d.flush(&silences, flush_at) {
        let rc = config.receiver(&f.receiver).expect("receiver");
        let (firing, resolved) = f.hashes();
        for integration in rc.integrations() {
            if nflog.needs_update(
                &f.group_key,
                &f.receiver,
                &integration,
                &firing,
                &resolved,
                f.repeat_interval_ms,
                flush_at,
            ) {
                let fps = f
                    .alerts
                    .iter()
                    .map(|a| format!("{:016x}", a.fingerprint()))
                    .collect();
                if integration.name == "slack" {
                    // Slack's payload has no group key: counted, compared below.
                    ours_slack.push(f.receiver.clone());
                } else {
                    ours.push((f.receiver.clone(), f.group_key.clone(), fps));
                }
                nflog
                    .log(
                        &f.group_key,
                        &f.receiver,
                        &integration,
                        &firing,
                        &resolved,
                        flush_at,
                    )
                    .expect("log");
            }
        }
        d.delivered(f.group, flush_at);
    }
    ours.sort();
    // Alertmanager's, captured; wait for as many, then a little longer for extras.
    let deadline = Instant::now() + Duration::from_secs(15);
    while hooks.received().len() < ours.len() + ours_slack.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1_500));
    let received = hooks.received();
    let mut theirs_slack: Vec<String> = received
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("/slack/").map(str::to_string))
        .collect();
    theirs_slack.sort();
    ours_slack.sort();
    assert!(
        !ours_slack.is_empty(),
        "the slack receiver got nothing to send"
    );
    assert_eq!(theirs_slack, ours_slack, "Slack notifications per receiver");
    let mut theirs: Vec<Sent> = received
        .iter()
        .filter(|(path, _)| !path.starts_with("/slack/"))
        .map(|(path, b)| {
            let receiver = b["receiver"].as_str().unwrap_or("").to_string();
            assert_eq!(path, &format!("/{receiver}"));
            let fps = b["alerts"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| x["fingerprint"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            (
                receiver,
                b["groupKey"].as_str().unwrap_or("").to_string(),
                fps,
            )
        })
        .collect();
    theirs.sort();
    assert_eq!(
        ours,
        theirs,
        "notifications differ\nalertmanager log:\n{}",
        am.logs()
    );
    // Group keys computed by hand from route.go (Key: parent key, '/', matchers).
    let keys: BTreeSet<&str> = ours.iter().map(|s| s.1.as_str()).collect();
    for k in [
        "{}/{env=\"prod\",region=~\"eu-.*\"}:{a1=\"v\", a=\"w\", region=\"eu-west\"}",
        "{}/{severity=\"critical\",team=~\"db|web\"}:{alertname=\"HighLatency\", cluster=\"c1\"}",
        "{}/{severity=\"critical\",team=~\"db|web\"}/{service=~\"^(?:cache-.*)$\"}:{alertname=\"CacheMiss\", cluster=\"c2\"}",
        "{}/{team=\"db\"}/{env!=\"prod\"}:{alertname=\"CacheMiss\"}",
        "{}/{severity=\"critical\",team=~\"db|web\"}/{service=\"api\"}:{alertname=\"Quoted\", msg=\"tab\\there \\\"q\\\" é\\n\\\\\", service=\"api\", severity=\"critical\", team=\"web\"}",
        "{}:{alertname=\"NodeHighLoad\"}",
    ] {
        assert!(keys.contains(k), "missing {k} in {keys:#?}");
    }
    assert!(!keys
        .iter()
        .any(|k| k.contains("Silenced") || k.contains("Gone")));
    println!(
        "equal to Alertmanager: {} groups, {} alerts, {} notifications",
        our_groups.as_array().map_or(0, Vec::len),
        our_alerts.as_array().map_or(0, Vec::len),
        ours.len()
    );
}

#[test]
fn routing_matches_amtool() {
    if !have_binaries() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = CONFIG.replace("HOOK", "1");
    let path = dir.path().join("alertmanager.yml");
    std::fs::write(&path, &yaml).expect("write");
    let config = Config::parse(&yaml, "alertmanager.yml").expect("config");
    let d = Dispatcher::new(&config, 0);
    for (labels, _) in alert_table() {
        // amtool takes labels as matchers on the command line: plain values only.
        if labels
            .iter()
            .any(|(_, v)| v.contains(['\t', '\n', '"', '\\']))
        {
            continue;
        }
        let out = Command::new(AMTOOL)
            .args([
                "config",
                "routes",
                "test",
                &format!("--config.file={}", path.display()),
            ])
            .args(labels.iter().map(|(k, v)| format!("{k}={v}")))
            .output()
            .expect("amtool");
        let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ls = argus_core::series::Labels::new(labels.iter().copied());
        let ours: Vec<String> = d
            .route()
            .matching(&ls)
            .iter()
            .map(|r| r.receiver.clone())
            .collect();
        assert_eq!(ours.join(","), theirs, "{labels:?}");
    }
}

#[test]
fn config_checks_match_amtool() {
    if !have_binaries() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let base = "receivers: [{name: r}, {name: s}]\n";
    let cases = [
        "route: {receiver: r}\n",
        "route: {receiver: r, group_by: ['...']}\n",
        "route: {receiver: r, group_by: []}\n",
        "route: {receiver: r, routes: [{matchers: ['a=\"b\", c=~\"d|e\"'], receiver: s, continue: true}]}\n",
        "route: {receiver: r, routes: [{match_re: {a: 'x.*'}, group_wait: 1m30s}]}\n",
        "route: {receiver: r}\ninhibit_rules: [{source_match: {a: b}, target_matchers: [c=d], equal: [e]}]\n",
        "route: {receiver: r}\nglobal: {resolve_timeout: 1h, smtp_smarthost: 'localhost:25'}\n",
        // Refused by both.
        "route: {group_by: [a]}\n",
        "route: {receiver: nope}\n",
        "route: {receiver: r, matchers: [a=b]}\n",
        "route: {receiver: r, routes: [{receiver: nope}]}\n",
        "route: {receiver: r, group_by: [a, '...']}\n",
        "route: {receiver: r, group_by: [a, a]}\n",
        "route: {receiver: r, group_by: ['a-b']}\n",
        "route: {receiver: r, group_interval: 0s}\n",
        "route: {receiver: r, repeat_interval: 0s}\n",
        "route: {receiver: r, group_wait: 1.5m}\n",
        "route: {receiver: r, grup_by: [a]}\n",
        "route: {receiver: r, routes: [{matchers: ['a=\"b']}]}\n",
        "route: {receiver: r, routes: [{match_re: {a: '('}}]}\n",
        "route: {receiver: r, routes: [{match: {'a-b': c}}]}\n",
        "route: {receiver: r}\ninhibit_rules: [{equal: ['a-b']}]\n",
        "route: {receiver: r}\nreceivers: [{name: r}, {name: r}]\n",
    ];
    for (i, case) in cases.iter().enumerate() {
        let text = if case.contains("receivers:") {
            case.to_string()
        } else {
            format!("{case}{base}")
        };
        let path = dir.path().join(format!("c{i}.yml"));
        std::fs::write(&path, &text).expect("write");
        let am_ok = Command::new(AMTOOL)
            .args(["check-config", &path.display().to_string()])
            .output()
            .expect("amtool")
            .status
            .success();
        let ours = Config::parse(&text, "c.yml");
        assert_eq!(ours.is_ok(), am_ok, "{text}\nargus: {ours:?}");
    }
}

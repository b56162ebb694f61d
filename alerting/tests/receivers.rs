//! End-to-end delivery to fake receivers on loopback: each integration's payload field by
//! field, DingTalk's and Feishu's signatures verified the way the vendors document them,
//! retries, permanent failures, isolation of a slow receiver, rate-limit queueing, queue
//! overflow, metrics, and no secret in any error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argus_alerting::notify::http::Client;
use argus_alerting::notify::receivers::sign::{base64, url_decode};
use argus_alerting::notify::receivers::{
    Delivery, DeliveryOptions, FailureKind, Globals, IntegrationId, Job, Outcome, ReceiverConfig,
};
use argus_alerting::notify::{Alert, Notification};
use argus_core::series::Labels;
use ring::hmac;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

/// A request as the fake receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }

    fn query(&self) -> BTreeMap<String, String> {
        let q = self.target.split_once('?').map(|x| x.1).unwrap_or("");
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), url_decode(v)))
            .collect()
    }
}

/// What the fake answers: status, body, delay before answering.
type Answer = (u16, String, Duration);
type Handler = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

struct Fake {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn read_request(
    s: &mut tokio::net::TcpStream,
) -> Option<(String, BTreeMap<String, String>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((target, headers, body))
}

/// Starts a fake receiver; `handler` gets each request and how many came before it.
async fn fake(handler: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let handler: Arc<Handler> = Arc::new(handler);
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = s2.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                let Some((target, headers, body)) = read_request(&mut sock).await else {
                    return;
                };
                let req = Seen {
                    target,
                    headers,
                    body,
                    at: Instant::now(),
                };
                let n = {
                    let mut s = seen.lock().expect("lock");
                    s.push(req.clone());
                    s.len() - 1
                };
                let (status, body, delay) = handler(&req, n);
                tokio::time::sleep(delay).await;
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Fake { base, seen }
}

fn ok(body: &str) -> Answer {
    (200, body.to_string(), Duration::ZERO)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn alert(pod: &str, resolved: bool) -> Alert {
    let now = now_ms();
    Alert {
        labels: Labels::new([
            ("alertname", "PodCrashLooping"),
            ("namespace", "shop"),
            ("pod", pod),
            ("severity", "critical"),
        ]),
        annotations: [
            ("summary".to_string(), format!("{pod} restarts")),
            (
                "runbook_url".to_string(),
                "https://runbooks.example/crash".to_string(),
            ),
        ]
        .into(),
        starts_at_ms: now - 60_000,
        ends_at_ms: if resolved { now - 1_000 } else { 0 },
        generator_url: "http://prom:9090/graph?g0.expr=x".into(),
        updated_at_ms: now,
    }
}

fn notification(receiver: &str, alerts: Vec<Alert>) -> Notification {
    Notification {
        receiver: receiver.into(),
        group_key: "{}:{alertname=\"PodCrashLooping\"}".into(),
        group_labels: Labels::new([("alertname", "PodCrashLooping")]),
        alerts,
        external_url: "https://argus.example".into(),
        now_ms: now_ms(),
    }
}

fn receivers(yaml: &str) -> Vec<ReceiverConfig> {
    serde_yaml::from_str(yaml).expect("receivers yaml")
}

fn fast() -> DeliveryOptions {
    DeliveryOptions {
        initial_backoff: Duration::from_millis(50),
        rate_limited_backoff: Duration::from_millis(100),
        request_timeout: Duration::from_secs(10),
        ..DeliveryOptions::default()
    }
}

fn start(yaml: &str, opts: DeliveryOptions) -> (Delivery, Vec<ReceiverConfig>) {
    let rs = receivers(yaml);
    for r in &rs {
        r.validate(&Globals::default()).expect("valid config");
    }
    let d = Delivery::new(&rs, &Globals::default(), Client::new(), opts).expect("delivery");
    (d, rs)
}

fn id(rs: &[ReceiverConfig], receiver: &str, k: usize) -> IntegrationId {
    rs.iter()
        .find(|r| r.name == receiver)
        .expect("receiver")
        .integrations()[k]
}

/// Every secret of the configs in these tests; no error or Debug output may contain one.
const SECRETS: [&str; 5] = [
    "tok-dt-123456",
    "SECdingtalk-secret",
    "feishu-s3cret",
    "wecom-key-9999",
    "hunter2-pass",
];

fn assert_no_secret(s: &str) {
    for sec in SECRETS {
        assert!(!s.contains(sec), "secret {sec:?} leaked in {s:?}");
    }
}

fn dingtalk_expected(secret: &str, ts: &str) -> String {
    // DingTalk's documented algorithm: HmacSHA256 keyed by the secret over
    // "timestamp\nsecret", Base64.
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    base64(hmac::sign(&key, format!("{ts}\n{secret}").as_bytes()).as_ref())
}

fn feishu_expected(secret: &str, ts: &str) -> String {
    // Feishu's documented algorithm: HmacSHA256 keyed by "timestamp\nsecret" over empty
    // data, Base64.
    let key = hmac::Key::new(hmac::HMAC_SHA256, format!("{ts}\n{secret}").as_bytes());
    base64(hmac::sign(&key, b"").as_ref())
}

/// A DingTalk robot that checks access token, timestamp (within an hour) and signature.
async fn dingtalk_robot(secret: &'static str) -> Fake {
    fake(move |req, _| {
        let q = req.query();
        if q.get("access_token").map(String::as_str) != Some("tok-dt-123456") {
            return ok(r#"{"errcode":300001,"errmsg":"token is not exist"}"#);
        }
        let ts = q.get("timestamp").cloned().unwrap_or_default();
        let fresh = ts
            .parse::<i64>()
            .is_ok_and(|t| (now_ms() - t).abs() < 3_600_000);
        if !fresh || q.get("sign") != Some(&dingtalk_expected(secret, &ts)) {
            return ok(r#"{"errcode":310000,"errmsg":"sign not match"}"#);
        }
        ok(r#"{"errcode":0,"errmsg":"ok"}"#)
    })
    .await
}

/// A Feishu bot that checks the body's timestamp (within an hour) and signature.
async fn feishu_bot(secret: &'static str) -> Fake {
    fake(move |req, _| {
        let v = req.json();
        let ts = v["timestamp"].as_str().unwrap_or_default().to_string();
        let fresh = ts.parse::<i64>().is_ok_and(|t| (now_ms() / 1000 - t).abs() < 3600);
        if !fresh || v["sign"].as_str() != Some(&feishu_expected(secret, &ts)) {
            return ok(r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#);
        }
        ok(r#"{"code":0,"msg":"success","data":{}}"#)
    })
    .await
}

#[tokio::test]
async fn webhook_payload_v4_and_basic_auth() {
    let f = fake(|_, _| ok("")).await;
    let (d, rs) = start(
        &format!(
            "[{{name: hook, webhook_configs: [{{url: '{}/alerts?x=1', max_alerts: 2, http_config: {{basic_auth: {{username: am, password: hunter2-pass}}}}}}]}}]",
            f.base
        ),
        fast(),
    );
    let n = notification(
        "hook",
        vec![
            alert("api-0", false),
            alert("api-1", true),
            alert("api-2", false),
        ],
    );
    d.deliver(n.clone(), id(&rs, "hook", 0))
        .await
        .expect("delivered");
    let seen = f.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.target, "/alerts?x=1");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.headers["authorization"],
        format!("Basic {}", base64(b"am:hunter2-pass"))
    );
    let v = r.json();
    assert_eq!(v["receiver"], "hook");
    assert_eq!(v["status"], "firing");
    assert_eq!(v["version"], "4");
    assert_eq!(v["groupKey"], n.group_key);
    assert_eq!(v["truncatedAlerts"], 1);
    assert_eq!(v["externalURL"], "https://argus.example");
    assert_eq!(
        v["groupLabels"],
        serde_json::json!({"alertname": "PodCrashLooping"})
    );
    assert_eq!(
        v["commonLabels"],
        serde_json::json!({"alertname": "PodCrashLooping", "namespace": "shop", "severity": "critical"})
    );
    assert_eq!(
        v["commonAnnotations"]["runbook_url"],
        "https://runbooks.example/crash"
    );
    let alerts = v["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0]["status"], "firing");
    assert_eq!(alerts[0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(alerts[1]["status"], "resolved");
    assert!(alerts[1]["endsAt"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z') && !s.starts_with("0001")));
    assert_eq!(alerts[0]["labels"]["pod"], "api-0");
    assert_eq!(
        alerts[0]["generatorURL"],
        "http://prom:9090/graph?g0.expr=x"
    );
    assert_eq!(
        alerts[0]["fingerprint"],
        format!("{:016x}", n.alerts[0].fingerprint())
    );
    let keys: Vec<&str> = alerts[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "annotations",
            "endsAt",
            "fingerprint",
            "generatorURL",
            "labels",
            "startsAt",
            "status"
        ]
    );
    assert!(String::from_utf8_lossy(&r.body).ends_with("}\n"));
}

#[tokio::test]
async fn slack_wecom_and_signed_chats_deliver() {
    let slack = fake(|_, _| (200, "ok".into(), Duration::ZERO)).await;
    let wecom = fake(|req, _| {
        if req.query().get("key").map(String::as_str) == Some("wecom-key-9999") {
            ok(r#"{"errcode":0,"errmsg":"ok"}"#)
        } else {
            ok(r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#)
        }
    })
    .await;
    let ding = dingtalk_robot("SECdingtalk-secret").await;
    let feishu = feishu_bot("feishu-s3cret").await;
    let (d, rs) = start(
        &format!(
            r#"
- name: chat
  slack_configs: [{{api_url: '{}/services/T/B/X', channel: '#ops', send_resolved: true}}]
  wecom_configs: [{{url: '{}/cgi-bin/webhook/send?key=wecom-key-9999', mentioned_list: [lisi]}}]
  dingtalk_configs: [{{url: '{}/robot/send?access_token=tok-dt-123456', secret: SECdingtalk-secret, at_mobiles: ['13800000000'], time_zone: '+08:00'}}]
  feishu_configs: [{{url: '{}/open-apis/bot/v2/hook/h', secret: feishu-s3cret}}]
"#,
            slack.base, wecom.base, ding.base, feishu.base
        ),
        fast(),
    );
    let n = notification("chat", vec![alert("api-0", false), alert("api-1", true)]);
    for k in 0..4 {
        d.deliver(n.clone(), id(&rs, "chat", k))
            .await
            .expect("delivered");
    }

    let s = &slack.seen()[0];
    assert_eq!(s.target, "/services/T/B/X");
    let v = s.json();
    assert_eq!(v["channel"], "#ops");
    let att = &v["attachments"][0];
    assert_eq!(att["title"], "[FIRING:1, RESOLVED:1] PodCrashLooping");
    assert_eq!(att["color"], "danger");
    assert!(att["text"]
        .as_str()
        .is_some_and(|t| t.contains("Pod: shop/api-0")));

    let w = &wecom.seen()[0].json();
    assert_eq!(w["msgtype"], "markdown");
    let content = w["markdown"]["content"].as_str().expect("content");
    assert!(
        content.starts_with("### [FIRING:1, RESOLVED:1] PodCrashLooping\n"),
        "{content}"
    );
    assert!(
        content.contains("[Runbook](https://runbooks.example/crash)"),
        "{content}"
    );
    assert!(content.contains("[Logs](https://argus.example/#query=%7Bnamespace%3D%22shop%22%2Cpod%3D%22api-0%22%7D&range=custom&start="), "{content}");
    assert!(content.ends_with("<@lisi>"), "{content}");
    assert_eq!(w["markdown"]["mentioned_list"], serde_json::json!(["lisi"]));

    let dt = &ding.seen()[0];
    assert!(dt.query().contains_key("sign"));
    let v = dt.json();
    assert_eq!(v["msgtype"], "markdown");
    assert_eq!(
        v["markdown"]["title"],
        "[FIRING:1, RESOLVED:1] PodCrashLooping"
    );
    let text = v["markdown"]["text"].as_str().expect("text");
    assert!(text.contains("+0800"), "{text}");
    assert!(text.ends_with("@13800000000"), "{text}");
    assert_eq!(v["at"]["atMobiles"], serde_json::json!(["13800000000"]));
    assert_eq!(v["at"]["isAtAll"], false);

    let v = feishu.seen()[0].json();
    assert_eq!(v["msg_type"], "interactive");
    assert_eq!(v["card"]["header"]["template"], "red");
    assert_eq!(v["card"]["header"]["title"]["tag"], "plain_text");
    assert_eq!(v["card"]["elements"][0]["tag"], "markdown");
    assert!(v["card"]["elements"][0]["content"]
        .as_str()
        .is_some_and(|c| c.contains("**PodCrashLooping**")));
}

#[tokio::test]
async fn wrong_signing_secrets_fail_without_leaking() {
    let ding = dingtalk_robot("SECdingtalk-secret").await;
    let feishu = feishu_bot("feishu-s3cret").await;
    let (d, rs) = start(
        &format!(
            r#"
- name: wrong
  dingtalk_configs: [{{url: '{}/robot/send?access_token=tok-dt-123456', secret: SECwrong-one}}]
  feishu_configs: [{{url: '{}/open-apis/bot/v2/hook/h', secret: wrong-one}}]
"#,
            ding.base, feishu.base
        ),
        fast(),
    );
    let n = notification("wrong", vec![alert("api-0", false)]);
    let e = d
        .deliver(n.clone(), id(&rs, "wrong", 0))
        .await
        .expect_err("bad sign");
    assert_eq!(e.kind, FailureKind::Permanent);
    assert_eq!(
        e.to_string(),
        "receiver \"wrong\" dingtalk[0]: permanent failure: DingTalk error 310000: sign not match"
    );
    let e = d
        .deliver(n, id(&rs, "wrong", 1))
        .await
        .expect_err("bad sign");
    assert!(e.to_string().contains("Feishu error 19021"), "{e}");
    assert_eq!(ding.seen().len(), 1);
    assert_eq!(feishu.seen().len(), 1);
    assert_no_secret(&e.to_string());
    assert_no_secret(&format!("{rs:?}"));
}

#[tokio::test]
async fn retries_500_and_rate_limits_but_not_400() {
    let flaky = fake(|_, i| match i {
        0 => (500, "oops".into(), Duration::ZERO),
        1 => (429, String::new(), Duration::ZERO),
        _ => ok(""),
    })
    .await;
    let busy = fake(|_, i| {
        if i == 0 {
            ok(r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#)
        } else {
            ok(r#"{"errcode":0,"errmsg":"ok"}"#)
        }
    })
    .await;
    let feishu_busy = fake(|_, i| {
        if i == 0 {
            ok(r#"{"code":11232,"msg":"frequency limited"}"#)
        } else {
            ok(r#"{"code":0}"#)
        }
    })
    .await;
    let bad = fake(|_, _| (400, r#"{"error":"bad payload"}"#.into(), Duration::ZERO)).await;
    let (d, rs) = start(
        &format!(
            r#"
- name: flaky
  webhook_configs: [{{url: '{}/h'}}]
- name: busy
  dingtalk_configs: [{{url: '{}/robot/send?access_token=tok-dt-123456'}}]
  feishu_configs: [{{url: '{}/hook/x'}}]
- name: bad
  webhook_configs: [{{url: '{}/h?token=hunter2-pass'}}]
"#,
            flaky.base, busy.base, feishu_busy.base, bad.base
        ),
        fast(),
    );
    let n = |r: &str| notification(r, vec![alert("api-0", false)]);
    d.deliver(n("flaky"), id(&rs, "flaky", 0))
        .await
        .expect("after retries");
    assert_eq!(flaky.seen().len(), 3);
    let gaps: Vec<Duration> = flaky.seen().windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(
        gaps[1] >= Duration::from_millis(100),
        "rate-limited backoff: {gaps:?}"
    );
    d.deliver(n("busy"), id(&rs, "busy", 0))
        .await
        .expect("after 130101");
    assert_eq!(busy.seen().len(), 2);
    d.deliver(n("busy"), id(&rs, "busy", 1))
        .await
        .expect("after 11232");
    assert_eq!(feishu_busy.seen().len(), 2);

    let e = d
        .deliver(n("bad"), id(&rs, "bad", 0))
        .await
        .expect_err("400");
    assert_eq!(e.kind, FailureKind::Permanent);
    assert_eq!(e.message, r#"HTTP 400: {"error":"bad payload"}"#);
    assert_eq!(bad.seen().len(), 1);

    let mut m = String::new();
    d.write_metrics(&mut m);
    for want in [
        "argus_notifications_total{receiver=\"flaky\",integration=\"webhook\",status=\"success\"} 1",
        "argus_notifications_total{receiver=\"bad\",integration=\"webhook\",status=\"failed\"} 1",
        "argus_notification_retries_total{receiver=\"flaky\",integration=\"webhook\"} 2",
        "argus_notification_latency_seconds_count{receiver=\"flaky\",integration=\"webhook\"} 3",
        "argus_notifications_total{receiver=\"busy\",integration=\"dingtalk\",status=\"success\"} 1",
    ] {
        assert!(m.contains(want), "missing {want:?} in\n{m}");
    }
}

#[tokio::test]
async fn gives_up_at_the_deadline_and_hides_urls() {
    // Nothing listens on this port once the listener is dropped.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    };
    let down = fake(|_, _| (503, "maintenance for wecom-key-9999".into(), Duration::ZERO)).await;
    let (d, rs) = start(
        &format!(
            r#"
- name: gone
  wecom_configs: [{{url: 'http://127.0.0.1:{port}/send?key=wecom-key-9999'}}]
- name: down
  wecom_configs: [{{url: '{}/send?key=wecom-key-9999'}}]
"#,
            down.base
        ),
        fast(),
    );
    for r in ["gone", "down"] {
        let (mut job, rx) = Job::new(notification(r, vec![alert("api-0", false)]), id(&rs, r, 0));
        job.retry_for = Some(Duration::from_millis(400));
        d.submit(job);
        let e = rx.await.expect("outcome").expect_err("gives up");
        assert!(
            matches!(e.kind, FailureKind::GaveUp { attempts } if attempts >= 2),
            "{e}"
        );
        assert_no_secret(&e.to_string());
        assert!(!e.to_string().contains("/send"), "{e}");
        if r == "down" {
            assert_eq!(e.message, "HTTP 503: maintenance for <secret>");
        }
    }
}

#[tokio::test]
async fn a_slow_receiver_does_not_delay_another() {
    let slow = fake(|_, _| (200, String::new(), Duration::from_secs(5))).await;
    let quick = fake(|_, _| ok("")).await;
    let (d, rs) = start(
        &format!(
            "[{{name: slow, webhook_configs: [{{url: '{}/'}}]}}, {{name: quick, webhook_configs: [{{url: '{}/'}}]}}]",
            slow.base, quick.base
        ),
        fast(),
    );
    let t0 = Instant::now();
    let (j1, slow_done) = Job::new(
        notification("slow", vec![alert("a", false)]),
        id(&rs, "slow", 0),
    );
    d.submit(j1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    d.deliver(
        notification("quick", vec![alert("b", false)]),
        id(&rs, "quick", 0),
    )
    .await
    .expect("quick delivered");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(slow.seen().len(), 1);
    slow_done.await.expect("outcome").expect("slow delivered");
    assert!(t0.elapsed() >= Duration::from_secs(5));
}

#[tokio::test]
async fn rate_limits_queue_instead_of_dropping() {
    let f = fake(|_, _| ok("")).await;
    let opts = DeliveryOptions {
        rate_limit_period: Duration::from_secs(2),
        ..fast()
    };
    let (d, rs) = start(
        &format!(
            "[{{name: limited, webhook_configs: [{{url: '{}/', rate_limit_per_minute: 3}}]}}]",
            f.base
        ),
        opts,
    );
    let t0 = Instant::now();
    let mut rxs = Vec::new();
    for i in 0..5 {
        let (job, rx) = Job::new(
            notification("limited", vec![alert(&format!("p{i}"), false)]),
            id(&rs, "limited", 0),
        );
        d.submit(job);
        rxs.push(rx);
    }
    for rx in rxs {
        rx.await.expect("outcome").expect("delivered");
    }
    let at: Vec<Duration> = f.seen().iter().map(|s| s.at - t0).collect();
    assert_eq!(at.len(), 5);
    assert!(
        at[2] < Duration::from_secs(1),
        "first three at once: {at:?}"
    );
    assert!(
        at[3] >= Duration::from_secs(2),
        "the fourth waits for the window: {at:?}"
    );
    assert!(at[4] >= Duration::from_secs(2), "{at:?}");
    // In order.
    let pods: Vec<String> = f
        .seen()
        .iter()
        .map(|s| {
            s.json()["alerts"][0]["labels"]["pod"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(pods, ["p0", "p1", "p2", "p3", "p4"]);
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_waiting_job() {
    let f = fake(|_, _| (200, String::new(), Duration::from_millis(800))).await;
    let opts = DeliveryOptions {
        queue_capacity: 2,
        ..fast()
    };
    let (d, rs) = start(
        &format!("[{{name: q, webhook_configs: [{{url: '{}/'}}]}}]", f.base),
        opts,
    );
    let iid = id(&rs, "q", 0);
    let mut rxs = Vec::new();
    for i in 0..4 {
        let (job, rx) = Job::new(notification("q", vec![alert(&format!("p{i}"), false)]), iid);
        d.submit(job);
        rxs.push(rx);
        if i == 0 {
            // Let the worker take the first job.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(d.queue_len("q", iid), 2);
    let mut outcomes: Vec<Outcome> = Vec::new();
    for rx in rxs {
        outcomes.push(rx.await.expect("outcome"));
    }
    assert!(outcomes[0].is_ok());
    assert_eq!(
        outcomes[1].as_ref().map_err(|e| e.kind),
        Err(FailureKind::Dropped)
    );
    assert!(outcomes[2].is_ok() && outcomes[3].is_ok());
    let mut m = String::new();
    d.write_metrics(&mut m);
    assert!(
        m.contains(
            "argus_notification_queue_dropped_total{receiver=\"q\",integration=\"webhook\"} 1"
        ),
        "{m}"
    );
}

#[tokio::test]
async fn send_resolved_false_skips_resolved_only_groups_and_unknown_integrations_fail() {
    let f = fake(|_, _| (200, "ok".into(), Duration::ZERO)).await;
    let (d, rs) = start(
        &format!(
            "[{{name: s, slack_configs: [{{api_url: '{}/x'}}]}}]",
            f.base
        ),
        fast(),
    );
    d.deliver(notification("s", vec![alert("a", true)]), id(&rs, "s", 0))
        .await
        .expect("nothing to send is a success");
    assert!(f.seen().is_empty());
    d.deliver(
        notification("s", vec![alert("a", true), alert("b", false)]),
        id(&rs, "s", 0),
    )
    .await
    .expect("delivered");
    let v = f.seen()[0].json();
    // Only the firing alert is shown.
    assert_eq!(v["attachments"][0]["title"], "[FIRING:1] PodCrashLooping");
    let e = d
        .deliver(
            notification("nobody", vec![alert("a", false)]),
            id(&rs, "s", 0),
        )
        .await
        .expect_err("unknown");
    assert_eq!(e.kind, FailureKind::UnknownIntegration);
}

#[tokio::test]
async fn long_groups_are_cut_to_whole_alerts() {
    let f = fake(|_, _| ok(r#"{"errcode":0}"#)).await;
    let (d, rs) = start(
        &format!(
            "[{{name: w, wecom_configs: [{{url: '{}/send?key=wecom-key-9999'}}]}}]",
            f.base
        ),
        fast(),
    );
    let alerts: Vec<Alert> = (0..300)
        .map(|i| alert(&format!("pod-{i}"), false))
        .collect();
    d.deliver(notification("w", alerts), id(&rs, "w", 0))
        .await
        .expect("delivered");
    let v = f.seen()[0].json();
    let content = v["markdown"]["content"].as_str().expect("content");
    assert!(content.len() <= 4096, "{}", content.len());
    let shown = content.matches("**PodCrashLooping**").count();
    assert!(shown >= 3, "{shown}");
    assert!(
        content.ends_with(&format!("\n\nand {} more", 300 - shown)),
        "{content}"
    );
}

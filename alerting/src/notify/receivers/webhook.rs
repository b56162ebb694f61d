//! `webhook_configs`: Alertmanager's webhook, payload version 4, byte for byte what
//! Alertmanager sends (Go's JSON encoding, field names and order, `max_alerts` truncation).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::{http_verdict, UrlSource, Verdict};
use super::data::{alert_status, go_json, go_time_json, quote_meta, shown_ends_at};
use super::http_config::HttpConfig;
use crate::notify::{Notification, Secret};

/// `webhook_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Whether resolved alerts are notified (default true).
    pub send_resolved: bool,
    /// Authentication of the requests.
    pub http_config: HttpConfig,
    /// Where to POST (a secret: it may hold a key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    /// A file holding the URL, read at every delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// At most this many alerts per message, the rest counted in `truncatedAlerts`
    /// (0: all).
    pub max_alerts: u64,
    /// argus: at most this many requests a minute, queued beyond that (default unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            send_resolved: true,
            http_config: HttpConfig::default(),
            url: None,
            url_file: None,
            max_alerts: 0,
            rate_limit_per_minute: None,
        }
    }
}

/// One alert of the payload (`template.Alert`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertJson<'a> {
    status: &'static str,
    labels: BTreeMap<&'a str, &'a str>,
    annotations: &'a BTreeMap<String, String>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: String,
}

/// `webhook.Message`: `template.Data`'s fields, then `version`, `groupKey`,
/// `truncatedAlerts`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    receiver: String,
    status: &'static str,
    alerts: Vec<AlertJson<'a>>,
    group_labels: BTreeMap<String, String>,
    common_labels: BTreeMap<String, String>,
    common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    group_key: &'a str,
    truncated_alerts: u64,
}

/// The webhook body for `n`: Alertmanager's `json.NewEncoder(…).Encode(msg)`. With
/// `max_alerts`, only the first alerts are sent, and — as in Alertmanager — the status
/// and common labels are those of the alerts sent.
pub fn payload(max_alerts: u64, n: &Notification) -> Result<Vec<u8>, String> {
    let (sent, truncated) = match usize::try_from(max_alerts) {
        Ok(m) if m != 0 && n.alerts.len() > m => (&n.alerts[..m], (n.alerts.len() - m) as u64),
        _ => (&n.alerts[..], 0),
    };
    let view = Notification {
        receiver: String::new(),
        group_key: String::new(),
        group_labels: Default::default(),
        alerts: sent.to_vec(),
        external_url: String::new(),
        now_ms: n.now_ms,
    };
    let map = |l: &argus_core::series::Labels| -> BTreeMap<String, String> {
        l.iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect()
    };
    let msg = Message {
        receiver: quote_meta(&n.receiver),
        status: view.status(),
        alerts: sent
            .iter()
            .map(|a| AlertJson {
                status: alert_status(a, n.now_ms),
                labels: a
                    .labels
                    .iter()
                    .map(|l| (l.name.as_str(), l.value.as_str()))
                    .collect(),
                annotations: &a.annotations,
                starts_at: go_time_json(a.starts_at_ms),
                ends_at: go_time_json(shown_ends_at(a, n.now_ms)),
                generator_url: &a.generator_url,
                fingerprint: format!("{:016x}", a.fingerprint()),
            })
            .collect(),
        group_labels: map(&n.group_labels),
        common_labels: map(&view.common_labels()),
        common_annotations: view.common_annotations(),
        external_url: &n.external_url,
        version: "4",
        group_key: &n.group_key,
        truncated_alerts: truncated,
    };
    go_json(&msg)
}

/// A webhook prepared for delivery.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub config: WebhookConfig,
    pub url: UrlSource,
}

impl Webhook {
    pub fn new(config: &WebhookConfig) -> Result<Webhook, String> {
        config.http_config.validate()?;
        Ok(Webhook {
            url: UrlSource::from_config("url", "url_file", &config.url, &config.url_file)?,
            config: config.clone(),
        })
    }

    /// Alertmanager's rule: 2xx is success, 5xx (and argus adds 429) is retried, anything
    /// else fails.
    pub fn verdict(status: u16, body: &[u8]) -> Verdict {
        http_verdict(status, body).unwrap_or(Verdict::Success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Alert;
    use argus_core::series::Labels;

    fn alert(inst: &str, start: i64, end: i64) -> Alert {
        Alert {
            labels: Labels::new([("alertname", "Down"), ("instance", inst), ("job", "node")]),
            annotations: [
                ("summary".to_string(), "<down> & out".to_string()),
                ("host".to_string(), inst.to_string()),
            ]
            .into(),
            starts_at_ms: start,
            ends_at_ms: end,
            generator_url: "http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1".into(),
            updated_at_ms: start,
        }
    }

    fn notification() -> Notification {
        Notification {
            receiver: "team-x.pager".into(),
            group_key: "{}/{severity=\"page\"}:{alertname=\"Down\"}".into(),
            group_labels: Labels::new([("alertname", "Down")]),
            alerts: vec![
                alert("a:9100", 1_700_000_000_000, 0),
                alert("b:9100", 1_700_000_000_500, 1_700_000_060_000),
                alert("c:9100", 1_700_000_001_000, 1_800_000_000_000),
            ],
            external_url: "http://argus.example:9090".into(),
            now_ms: 1_700_000_100_000,
        }
    }

    #[test]
    fn payload_version_4_byte_for_byte() {
        let body = payload(0, &notification()).expect("payload");
        let fp = |i: &str| format!("{:016x}", alert(i, 0, 0).fingerprint());
        let a = |inst: &str, status: &str, start: &str, end: &str| {
            format!(
                r#"{{"status":"{status}","labels":{{"alertname":"Down","instance":"{inst}","job":"node"}},"annotations":{{"host":"{inst}","summary":"\u003cdown\u003e \u0026 out"}},"startsAt":"{start}","endsAt":"{end}","generatorURL":"http://prom:9090/graph?g0.expr=up+%3D%3D+0\u0026g0.tab=1","fingerprint":"{}"}}"#,
                fp(inst)
            )
        };
        let want = format!(
            r#"{{"receiver":"team-x\\.pager","status":"firing","alerts":[{},{},{}],"groupLabels":{{"alertname":"Down"}},"commonLabels":{{"alertname":"Down","job":"node"}},"commonAnnotations":{{"summary":"\u003cdown\u003e \u0026 out"}},"externalURL":"http://argus.example:9090","version":"4","groupKey":"{{}}/{{severity=\"page\"}}:{{alertname=\"Down\"}}","truncatedAlerts":0}}"#,
            a(
                "a:9100",
                "firing",
                "2023-11-14T22:13:20Z",
                "0001-01-01T00:00:00Z"
            ),
            a(
                "b:9100",
                "resolved",
                "2023-11-14T22:13:20.5Z",
                "2023-11-14T22:14:20Z"
            ),
            // Ends in the future: still firing, and its end is not shown.
            a(
                "c:9100",
                "firing",
                "2023-11-14T22:13:21Z",
                "0001-01-01T00:00:00Z"
            ),
        ) + "\n";
        assert_eq!(String::from_utf8(body).expect("utf8"), want);
    }

    #[test]
    fn max_alerts_truncates_and_counts() {
        let mut n = notification();
        n.alerts.swap(0, 1);
        let body = payload(1, &n).expect("payload");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["truncatedAlerts"], 2);
        // Status and common labels are those of the alerts sent.
        assert_eq!(v["status"], "resolved");
        assert_eq!(v["commonLabels"]["instance"], "b:9100");
        assert_eq!(v["version"], "4");
    }

    #[test]
    fn config_defaults_and_validation() {
        let c: WebhookConfig = serde_yaml::from_str("url: http://x/hook").expect("parse");
        assert!(c.send_resolved);
        assert_eq!(c.max_alerts, 0);
        assert!(Webhook::new(&c).is_ok());
        let c: WebhookConfig = serde_yaml::from_str("{}").expect("parse");
        assert_eq!(
            Webhook::new(&c).expect_err("no url"),
            "url: missing (set url or url_file)"
        );
        let c: WebhookConfig =
            serde_yaml::from_str("{url: 'http://x/?k=s3cret', url_file: /f}").expect("parse");
        let e = Webhook::new(&c).expect_err("both");
        assert!(e.contains("at most one of url and url_file"), "{e}");
        assert!(serde_yaml::from_str::<WebhookConfig>("timeout: 5s").is_err());
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(Webhook::verdict(200, b""), Verdict::Success);
        assert!(matches!(Webhook::verdict(500, b""), Verdict::Retry(_)));
    }
}

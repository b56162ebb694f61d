//! `feishu_configs` (argus'): Feishu / Lark custom bots. Interactive cards (red header
//! while firing, green once resolved) with a markdown element, signed with the bot's
//! secret when one is set (see [`super::sign::feishu_sign`]). Feishu allows 100 messages a
//! minute and 5 a second per bot (code 11232 beyond that) and request bodies of 20 KB.

use serde::{Deserialize, Serialize};

use super::common::{http_verdict, json_code_verdict, json_len, ChatTexts, UrlSource, Verdict};
use super::message::Flavor;
use super::sign::feishu_sign;
use crate::notify::{Notification, Secret};

/// Feishu's limit on a custom bot's request body (bytes).
pub const BODY_LIMIT_BYTES: usize = 20 * 1024;
/// Feishu's "frequency limited" code.
pub const RATE_LIMITED: i64 = 11_232;

/// `feishu_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeishuConfig {
    /// Whether resolved alerts are notified (default true).
    pub send_resolved: bool,
    /// The bot's webhook URL (a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    /// A file holding the URL, read at every delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// The bot's signing secret, when its security setting is "签名校验".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// The card title (template; default `[FIRING:n] …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The card's markdown (template; default argus' alert blocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Time zone of the times shown and of `.Local` (IANA name or `+08:00`; default UTC).
    pub time_zone: String,
    /// At most this many messages a minute (default 100, and 5 a second: Feishu's limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for FeishuConfig {
    fn default() -> Self {
        FeishuConfig {
            send_resolved: true,
            url: None,
            url_file: None,
            secret: None,
            title: None,
            text: None,
            time_zone: "UTC".into(),
            rate_limit_per_minute: None,
        }
    }
}

#[derive(Serialize)]
struct Text {
    tag: &'static str,
    content: String,
}

#[derive(Serialize)]
struct Header {
    title: Text,
    template: &'static str,
}

#[derive(Serialize)]
struct Card {
    header: Header,
    elements: Vec<Text>,
}

#[derive(Serialize)]
struct Message {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign: Option<String>,
    msg_type: &'static str,
    card: Card,
}

/// A Feishu bot prepared for delivery.
#[derive(Debug, Clone)]
pub struct Feishu {
    pub config: FeishuConfig,
    pub url: UrlSource,
    texts: ChatTexts,
}

impl Feishu {
    pub fn new(config: &FeishuConfig) -> Result<Feishu, String> {
        if config.secret.as_ref().is_some_and(Secret::is_empty) {
            return Err("secret: empty".into());
        }
        Ok(Feishu {
            url: UrlSource::from_config("url", "url_file", &config.url, &config.url_file)?,
            texts: ChatTexts::new(
                &config.title,
                "text",
                &config.text,
                &config.time_zone,
                Flavor::Feishu,
            )?,
            config: config.clone(),
        })
    }

    /// The card for `n`, signed for `now_ms` when the bot has a secret.
    pub fn payload(&self, n: &Notification, now_ms: i64) -> Result<Vec<u8>, String> {
        let title = self.texts.title(n, 256)?;
        // The body around the markdown is well under 1 KB.
        let limit = BODY_LIMIT_BYTES.saturating_sub(1024 + json_len(&title));
        let content = self.texts.body(n, None, limit, &json_len)?;
        let ts = now_ms.div_euclid(1000);
        let (timestamp, sign) = match &self.config.secret {
            Some(s) => (Some(ts.to_string()), Some(feishu_sign(s.expose(), ts))),
            None => (None, None),
        };
        let msg = Message {
            timestamp,
            sign,
            msg_type: "interactive",
            card: Card {
                header: Header {
                    title: Text {
                        tag: "plain_text",
                        content: title,
                    },
                    template: if n.status() == "firing" {
                        "red"
                    } else {
                        "green"
                    },
                },
                elements: vec![Text {
                    tag: "markdown",
                    content,
                }],
            },
        };
        serde_json::to_vec(&msg).map_err(|e| format!("cannot encode JSON: {e}"))
    }

    /// `code` (or the older `StatusCode`) 0 is success; 11232 (frequency limited) is
    /// retried later.
    pub fn verdict(status: u16, body: &[u8]) -> Verdict {
        http_verdict(status, body).unwrap_or_else(|| {
            json_code_verdict(
                "Feishu",
                body,
                &["code", "StatusCode"],
                &["msg", "StatusMessage"],
                &[RATE_LIMITED],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Alert;
    use argus_core::series::Labels;

    fn n(k: usize, resolved: bool) -> Notification {
        Notification {
            receiver: "ops".into(),
            group_key: "{}:{}".into(),
            group_labels: Labels::new([("alertname", "DiskFull")]),
            alerts: (0..k)
                .map(|i| Alert {
                    labels: Labels::new([("alertname", "DiskFull"), ("node", &format!("n{i}"))]),
                    annotations: [("summary".to_string(), "磁盘 \"/data\" 已满".to_string())]
                        .into(),
                    starts_at_ms: 1_700_000_000_000,
                    ends_at_ms: if resolved { 1_700_000_010_000 } else { 0 },
                    generator_url: "http://prom/graph?x=1&y=2".into(),
                    updated_at_ms: 0,
                })
                .collect(),
            external_url: String::new(),
            now_ms: 1_700_000_100_000,
        }
    }

    fn bot(yaml: &str) -> Feishu {
        Feishu::new(&serde_yaml::from_str(yaml).expect("parse")).expect("valid")
    }

    #[test]
    fn card_payload_and_signature() {
        let f = bot("{url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: secret}");
        let v: serde_json::Value =
            serde_json::from_slice(&f.payload(&n(2, false), 1_700_000_000_999).expect("payload"))
                .expect("json");
        assert_eq!(v["timestamp"], "1700000000");
        assert_eq!(v["sign"], "fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA=");
        assert_eq!(v["msg_type"], "interactive");
        assert_eq!(
            v["card"]["header"]["title"],
            serde_json::json!({"tag": "plain_text", "content": "[FIRING:2] DiskFull"})
        );
        assert_eq!(v["card"]["header"]["template"], "red");
        assert_eq!(v["card"]["elements"][0]["tag"], "markdown");
        let md = v["card"]["elements"][0]["content"].as_str().expect("md");
        assert!(
            md.starts_with("**DiskFull** · <font color='red'>FIRING</font>\nNode: n0"),
            "{md}"
        );
        assert!(md.contains("[Source](http://prom/graph?x=1&y=2)"), "{md}");
        let v: serde_json::Value =
            serde_json::from_slice(&f.payload(&n(1, true), 0).expect("payload")).expect("json");
        assert_eq!(v["card"]["header"]["template"], "green");
        let plain = bot("url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x'");
        let v: serde_json::Value =
            serde_json::from_slice(&plain.payload(&n(1, true), 0).expect("payload")).expect("json");
        assert!(v.get("sign").is_none() && v.get("timestamp").is_none());
    }

    #[test]
    fn bodies_stay_under_20_kb() {
        let f = bot("url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x'");
        let body = f.payload(&n(1000, false), 0).expect("payload");
        assert!(body.len() <= BODY_LIMIT_BYTES, "{}", body.len());
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let md = v["card"]["elements"][0]["content"].as_str().expect("md");
        let shown = md.matches("**DiskFull**").count();
        assert!(
            md.ends_with(&format!("and {} more", 1000 - shown)),
            "{shown}"
        );
    }

    #[test]
    fn answers() {
        assert_eq!(
            Feishu::verdict(200, br#"{"code":0,"msg":"success","data":{}}"#),
            Verdict::Success
        );
        assert_eq!(
            Feishu::verdict(200, br#"{"StatusCode":0,"StatusMessage":"success"}"#),
            Verdict::Success
        );
        assert!(matches!(
            Feishu::verdict(200, br#"{"code":11232,"msg":"frequency limited"}"#),
            Verdict::RateLimited(_)
        ));
        assert!(
            matches!(Feishu::verdict(200, br#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#), Verdict::Permanent(m) if m.starts_with("Feishu error 19021: sign match fail"))
        );
    }
}

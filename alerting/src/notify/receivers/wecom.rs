//! `wecom_configs` (argus'): WeCom (企业微信) group robots. Markdown messages of at most
//! 4096 bytes; WeCom allows 20 messages a minute per robot (errcode 45009 beyond that).

use serde::{Deserialize, Serialize};

use super::common::{http_verdict, json_code_verdict, ChatTexts, UrlSource, Verdict};
use super::message::Flavor;
use crate::notify::{Notification, Secret};

/// WeCom's limit on markdown content (bytes).
pub const CONTENT_LIMIT_BYTES: usize = 4096;
/// WeCom's "api freq out of limit" error code.
pub const RATE_LIMITED: i64 = 45_009;

/// `wecom_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WecomConfig {
    /// Whether resolved alerts are notified (default true).
    pub send_resolved: bool,
    /// The robot's webhook URL with its `key` (a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    /// A file holding the URL, read at every delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// User ids to @mention (`<@id>` is added to the content).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentioned_list: Vec<String>,
    /// Phone numbers to @mention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentioned_mobile_list: Vec<String>,
    /// The heading of the default content (template; default `[FIRING:n] …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The markdown content (template; default a heading and argus' alert blocks).
    #[serde(skip_serializing_if = "Option::is_none", alias = "content")]
    pub text: Option<String>,
    /// Time zone of the times shown and of `.Local` (IANA name or `+08:00`; default UTC).
    pub time_zone: String,
    /// At most this many messages a minute (default 20, WeCom's limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for WecomConfig {
    fn default() -> Self {
        WecomConfig {
            send_resolved: true,
            url: None,
            url_file: None,
            mentioned_list: Vec::new(),
            mentioned_mobile_list: Vec::new(),
            title: None,
            text: None,
            time_zone: "UTC".into(),
            rate_limit_per_minute: None,
        }
    }
}

#[derive(Serialize)]
struct Markdown<'a> {
    content: String,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    mentioned_list: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    mentioned_mobile_list: &'a [String],
}

#[derive(Serialize)]
struct Message<'a> {
    msgtype: &'static str,
    markdown: Markdown<'a>,
}

/// A WeCom robot prepared for delivery.
#[derive(Debug, Clone)]
pub struct Wecom {
    pub config: WecomConfig,
    pub url: UrlSource,
    texts: ChatTexts,
}

impl Wecom {
    pub fn new(config: &WecomConfig) -> Result<Wecom, String> {
        Ok(Wecom {
            url: UrlSource::from_config("url", "url_file", &config.url, &config.url_file)?,
            texts: ChatTexts::new(
                &config.title,
                "text",
                &config.text,
                &config.time_zone,
                Flavor::WeCom,
            )?,
            config: config.clone(),
        })
    }

    /// The markdown message for `n`, at most 4096 bytes of content.
    pub fn payload(&self, n: &Notification) -> Result<Vec<u8>, String> {
        let c = &self.config;
        let mentions: Vec<String> = c.mentioned_list.iter().map(|m| format!("<@{m}>")).collect();
        let suffix = if mentions.is_empty() {
            String::new()
        } else {
            format!("\n{}", mentions.join(" "))
        };
        let title = self.texts.title(n, 256)?;
        let limit = CONTENT_LIMIT_BYTES.saturating_sub(suffix.len());
        let content = self.texts.body(n, Some(&title), limit, &str::len)? + &suffix;
        let msg = Message {
            msgtype: "markdown",
            markdown: Markdown {
                content,
                mentioned_list: &c.mentioned_list,
                mentioned_mobile_list: &c.mentioned_mobile_list,
            },
        };
        serde_json::to_vec(&msg).map_err(|e| format!("cannot encode JSON: {e}"))
    }

    /// `errcode` 0 is success; 45009 (too frequent) is retried later.
    pub fn verdict(status: u16, body: &[u8]) -> Verdict {
        http_verdict(status, body).unwrap_or_else(|| {
            json_code_verdict("WeCom", body, &["errcode"], &["errmsg"], &[RATE_LIMITED])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Alert;
    use argus_core::series::Labels;

    fn n(k: usize) -> Notification {
        Notification {
            receiver: "ops".into(),
            group_key: "{}:{}".into(),
            group_labels: Labels::default(),
            alerts: (0..k)
                .map(|i| Alert {
                    labels: Labels::new([
                        ("alertname", "KubePodNotReady"),
                        ("namespace", "prod"),
                        ("pod", &format!("web-{i}")),
                    ]),
                    annotations: [("description".to_string(), "未就绪超过15分钟".to_string())]
                        .into(),
                    starts_at_ms: 1_700_000_000_000,
                    ends_at_ms: 1_700_000_050_000,
                    generator_url: String::new(),
                    updated_at_ms: 0,
                })
                .collect(),
            external_url: "http://argus".into(),
            now_ms: 1_700_000_100_000,
        }
    }

    fn robot(yaml: &str) -> Wecom {
        Wecom::new(&serde_yaml::from_str(yaml).expect("parse")).expect("valid")
    }

    #[test]
    fn markdown_payload() {
        let w = robot("{url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', mentioned_list: [zhangsan], mentioned_mobile_list: ['13800001111']}");
        let v: serde_json::Value =
            serde_json::from_slice(&w.payload(&n(1)).expect("payload")).expect("json");
        assert_eq!(v["msgtype"], "markdown");
        let content = v["markdown"]["content"].as_str().expect("content");
        assert!(content.starts_with("### [RESOLVED:1] KubePodNotReady\n**KubePodNotReady** · <font color=\"info\">RESOLVED</font>"), "{content}");
        assert!(content.contains("Pod: prod/web-0"), "{content}");
        assert!(
            content.contains("Description: 未就绪超过15分钟"),
            "{content}"
        );
        assert!(content.contains("[Logs](http://argus/#query="), "{content}");
        assert!(content.ends_with("\n<@zhangsan>"), "{content}");
        assert_eq!(
            v["markdown"]["mentioned_list"],
            serde_json::json!(["zhangsan"])
        );
        assert_eq!(
            v["markdown"]["mentioned_mobile_list"],
            serde_json::json!(["13800001111"])
        );
    }

    #[test]
    fn content_is_at_most_4096_bytes() {
        let w = robot("{url: 'https://x/', content: '{{ range .Alerts }}{{ .Labels.pod }}：{{ .Annotations.description }}\n{{ end }}'}");
        let v: serde_json::Value =
            serde_json::from_slice(&w.payload(&n(400)).expect("payload")).expect("json");
        let content = v["markdown"]["content"].as_str().expect("content");
        assert!(content.len() <= CONTENT_LIMIT_BYTES, "{}", content.len());
        let shown = content.matches("web-").count();
        assert!(content.ends_with(&format!("and {} more", 400 - shown)));
        assert!(v["markdown"].get("mentioned_list").is_none());
    }

    #[test]
    fn answers() {
        assert_eq!(
            Wecom::verdict(200, br#"{"errcode":0,"errmsg":"ok"}"#),
            Verdict::Success
        );
        assert!(matches!(
            Wecom::verdict(
                200,
                br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
            ),
            Verdict::RateLimited(_)
        ));
        assert!(matches!(
            Wecom::verdict(200, br#"{"errcode":93000,"errmsg":"invalid webhook url"}"#),
            Verdict::Permanent(_)
        ));
    }
}

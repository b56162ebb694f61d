//! `dingtalk_configs` (argus'): DingTalk custom robots. Markdown messages with @mentions,
//! signed with the robot's secret when one is set (see [`super::sign::dingtalk_sign`]).
//! DingTalk allows 20 messages a minute per robot (errcode 130101 beyond that) and 20 000
//! bytes of markdown text.

use serde::{Deserialize, Serialize};

use super::common::{http_verdict, json_code_verdict, ChatTexts, UrlSource, Verdict};
use super::message::Flavor;
use super::sign::{dingtalk_sign, url_encode};
use crate::notify::{Notification, Secret};

/// DingTalk's limit on markdown text (bytes).
pub const TEXT_LIMIT_BYTES: usize = 20_000;
/// DingTalk's "send too fast" error code.
pub const RATE_LIMITED: i64 = 130_101;

/// `dingtalk_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DingtalkConfig {
    /// Whether resolved alerts are notified (default true).
    pub send_resolved: bool,
    /// The robot's webhook URL with its `access_token` (a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    /// A file holding the URL, read at every delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// The robot's signing secret (`SEC…`), when its security setting is "加签".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Phone numbers to @mention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_mobiles: Vec<String>,
    /// DingTalk user ids to @mention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_user_ids: Vec<String>,
    /// @everyone.
    pub at_all: bool,
    /// The message title (template; default `[FIRING:n] …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The markdown text (template; default argus' alert blocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Time zone of the times shown and of `.Local` (IANA name or `+08:00`; default UTC).
    pub time_zone: String,
    /// At most this many messages a minute (default 20, DingTalk's limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for DingtalkConfig {
    fn default() -> Self {
        DingtalkConfig {
            send_resolved: true,
            url: None,
            url_file: None,
            secret: None,
            at_mobiles: Vec::new(),
            at_user_ids: Vec::new(),
            at_all: false,
            title: None,
            text: None,
            time_zone: "UTC".into(),
            rate_limit_per_minute: None,
        }
    }
}

#[derive(Serialize)]
struct Markdown {
    title: String,
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct At<'a> {
    at_mobiles: &'a [String],
    at_user_ids: &'a [String],
    is_at_all: bool,
}

#[derive(Serialize)]
struct Message<'a> {
    msgtype: &'static str,
    markdown: Markdown,
    at: At<'a>,
}

/// A DingTalk robot prepared for delivery.
#[derive(Debug, Clone)]
pub struct Dingtalk {
    pub config: DingtalkConfig,
    pub url: UrlSource,
    texts: ChatTexts,
}

impl Dingtalk {
    pub fn new(config: &DingtalkConfig) -> Result<Dingtalk, String> {
        if config.secret.as_ref().is_some_and(Secret::is_empty) {
            return Err("secret: empty".into());
        }
        Ok(Dingtalk {
            url: UrlSource::from_config("url", "url_file", &config.url, &config.url_file)?,
            texts: ChatTexts::new(
                &config.title,
                "text",
                &config.text,
                &config.time_zone,
                Flavor::DingTalk,
            )?,
            config: config.clone(),
        })
    }

    /// The markdown message for `n`; the text ends with the @mentions DingTalk needs to
    /// see in it.
    pub fn payload(&self, n: &Notification) -> Result<Vec<u8>, String> {
        let c = &self.config;
        let title = self.texts.title(n, 256)?;
        let mut mentions: Vec<String> = c
            .at_mobiles
            .iter()
            .chain(&c.at_user_ids)
            .map(|m| format!("@{m}"))
            .collect();
        if c.at_all && mentions.is_empty() {
            mentions.push("@all".into());
        }
        let suffix = if mentions.is_empty() {
            String::new()
        } else {
            format!("\n\n{}", mentions.join(" "))
        };
        let limit = TEXT_LIMIT_BYTES.saturating_sub(suffix.len());
        let text = self.texts.body(n, Some(&title), limit, &str::len)? + &suffix;
        let msg = Message {
            msgtype: "markdown",
            markdown: Markdown { title, text },
            at: At {
                at_mobiles: &c.at_mobiles,
                at_user_ids: &c.at_user_ids,
                is_at_all: c.at_all,
            },
        };
        serde_json::to_vec(&msg).map_err(|e| format!("cannot encode JSON: {e}"))
    }

    /// The robot URL with `timestamp` and `sign` when the robot has a secret.
    pub fn signed_url(&self, url: &str, now_ms: i64) -> String {
        match &self.config.secret {
            Some(s) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!(
                    "{url}{sep}timestamp={now_ms}&sign={}",
                    url_encode(&dingtalk_sign(s.expose(), now_ms))
                )
            }
            None => url.to_string(),
        }
    }

    /// HTTP 200 with `errcode` 0 is success; 130101 (too fast) is retried later.
    pub fn verdict(status: u16, body: &[u8]) -> Verdict {
        http_verdict(status, body).unwrap_or_else(|| {
            json_code_verdict("DingTalk", body, &["errcode"], &["errmsg"], &[RATE_LIMITED])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::receivers::sign::url_decode;
    use crate::notify::Alert;
    use argus_core::series::Labels;

    fn n(k: usize) -> Notification {
        Notification {
            receiver: "ops".into(),
            group_key: "{}:{}".into(),
            group_labels: Labels::new([("alertname", "NodeDown")]),
            alerts: (0..k)
                .map(|i| Alert {
                    labels: Labels::new([
                        ("alertname", "NodeDown"),
                        ("node", &format!("node-{i}")),
                        ("severity", "warning"),
                    ]),
                    annotations: [("summary".to_string(), "节点失联".repeat(20))].into(),
                    starts_at_ms: 1_700_000_000_000,
                    ends_at_ms: 0,
                    generator_url: String::new(),
                    updated_at_ms: 0,
                })
                .collect(),
            external_url: String::new(),
            now_ms: 1_700_000_100_000,
        }
    }

    fn robot(yaml: &str) -> Dingtalk {
        Dingtalk::new(&serde_yaml::from_str(yaml).expect("parse")).expect("valid")
    }

    #[test]
    fn markdown_payload() {
        let d = robot(
            "{url: 'https://oapi.dingtalk.com/robot/send?access_token=t', at_mobiles: ['13800000000'], at_user_ids: [u1], time_zone: Asia/Shanghai}",
        );
        let v: serde_json::Value =
            serde_json::from_slice(&d.payload(&n(2)).expect("payload")).expect("json");
        assert_eq!(v["msgtype"], "markdown");
        assert_eq!(v["markdown"]["title"], "[FIRING:2] NodeDown");
        let text = v["markdown"]["text"].as_str().expect("text");
        assert!(
            text.starts_with("### [FIRING:2] NodeDown\n\n**NodeDown** · warning"),
            "{text}"
        );
        assert!(text.contains("Node: node-1"), "{text}");
        assert!(text.ends_with("\n\n@13800000000 @u1"), "{text}");
        if std::path::Path::new("/usr/share/zoneinfo/Asia/Shanghai").exists() {
            assert!(text.contains("Started: 2023-11-15 06:13:20 CST"), "{text}");
        }
        assert_eq!(
            v["at"],
            serde_json::json!({"atMobiles": ["13800000000"], "atUserIds": ["u1"], "isAtAll": false})
        );
    }

    #[test]
    fn long_groups_fit_20000_bytes() {
        let d = robot("url: https://oapi.dingtalk.com/robot/send?access_token=t");
        let v: serde_json::Value =
            serde_json::from_slice(&d.payload(&n(500)).expect("payload")).expect("json");
        let text = v["markdown"]["text"].as_str().expect("text");
        assert!(text.len() <= TEXT_LIMIT_BYTES, "{}", text.len());
        assert!(text.len() > TEXT_LIMIT_BYTES - 1000, "{}", text.len());
        let shown = text.matches("**NodeDown**").count();
        assert!(
            text.ends_with(&format!("and {} more", 500 - shown)),
            "{shown}"
        );
    }

    #[test]
    fn user_templates_are_cut_by_whole_alerts() {
        let d = robot(
            "{url: 'https://x/robot', title: 'T', text: '{{ range .Alerts }}- {{ .Labels.node }} {{ .Annotations.summary }}\n{{ end }}'}",
        );
        let v: serde_json::Value =
            serde_json::from_slice(&d.payload(&n(500)).expect("payload")).expect("json");
        let text = v["markdown"]["text"].as_str().expect("text");
        assert!(text.len() <= TEXT_LIMIT_BYTES);
        let shown = text.matches("- node-").count();
        assert!(
            text.ends_with(&format!("\n\n---\n\nand {} more", 500 - shown)),
            "{}",
            &text[text.len() - 60..]
        );
        assert_eq!(v["markdown"]["title"], "T");
    }

    #[test]
    fn signing() {
        let d =
            robot("{url: 'https://oapi.dingtalk.com/robot/send?access_token=t', secret: SECabc}");
        let u = d.signed_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            1_700_000_000_000,
        );
        let (_, q) = u.split_once('?').expect("query");
        let params: Vec<(&str, &str)> = q.split('&').filter_map(|kv| kv.split_once('=')).collect();
        assert_eq!(params[0], ("access_token", "t"));
        assert_eq!(params[1], ("timestamp", "1700000000000"));
        assert_eq!(params[2].0, "sign");
        assert_eq!(
            url_decode(params[2].1),
            "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM="
        );
        assert!(!format!("{d:?}").contains("SECabc"));
    }

    #[test]
    fn answers() {
        assert_eq!(
            Dingtalk::verdict(200, br#"{"errcode":0,"errmsg":"ok"}"#),
            Verdict::Success
        );
        assert!(matches!(
            Dingtalk::verdict(200, br#"{"errcode":130101,"errmsg":"send too fast"}"#),
            Verdict::RateLimited(_)
        ));
        assert!(
            matches!(Dingtalk::verdict(200, br#"{"errcode":300001,"errmsg":"token is not exist"}"#), Verdict::Permanent(m) if m == "DingTalk error 300001: token is not exist")
        );
    }
}

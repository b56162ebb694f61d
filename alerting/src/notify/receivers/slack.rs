//! `slack_configs`: Slack incoming webhooks with Alertmanager's message shape (one
//! attachment with a color), argus' default title and text.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::common::{
    char_len, execute, http_verdict, parse_template, ChatTexts, UrlSource, Verdict,
};
use super::http_config::HttpConfig;
use super::message::Flavor;
use crate::notify::{Notification, Secret};
use crate::template::Template;

/// Slack's limit on a message's text (characters).
pub const TEXT_LIMIT_CHARS: usize = 40_000;
/// Alertmanager cuts titles to this many runes.
pub const TITLE_LIMIT_CHARS: usize = 1024;

/// `slack_configs` entry. Fields left out get argus' defaults (title `[FIRING:n] …`, the
/// alert blocks as text, `danger`/`good` color).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackConfig {
    /// Whether resolved alerts are notified (default false, as in Alertmanager).
    pub send_resolved: bool,
    /// Authentication of the requests.
    pub http_config: HttpConfig,
    /// The incoming-webhook URL (a secret); defaults to the global `slack_api_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Secret>,
    /// A file holding the URL, read at every delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url_file: Option<String>,
    /// Templates (Go text/template, Alertmanager's data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretext: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    /// Slack's `link_names`.
    pub link_names: bool,
    /// Which attachment fields Slack formats (default fallback, pretext, text).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
    /// Whether `fields` without `short` are short.
    pub short_fields: bool,
    /// Attachment fields (title and value are templates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<SlackField>,
    /// Not supported (message buttons need a Slack app): rejected by `validate`.
    #[serde(skip_serializing)]
    pub actions: Option<IgnoredAny>,
    /// argus: the time zone of times in the default text and of `.Local` (IANA name or
    /// `+08:00`; default UTC).
    pub time_zone: String,
    /// argus: at most this many messages a minute (default 60, and one a second).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            send_resolved: false,
            http_config: HttpConfig::default(),
            api_url: None,
            api_url_file: None,
            channel: None,
            username: None,
            color: None,
            title: None,
            title_link: None,
            pretext: None,
            text: None,
            fallback: None,
            callback_id: None,
            footer: None,
            icon_emoji: None,
            icon_url: None,
            image_url: None,
            thumb_url: None,
            link_names: false,
            mrkdwn_in: Vec::new(),
            short_fields: false,
            fields: Vec::new(),
            actions: None,
            time_zone: "UTC".into(),
            rate_limit_per_minute: None,
        }
    }
}

/// An attachment field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackField {
    pub title: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

#[derive(Serialize)]
struct FieldJson {
    title: String,
    value: String,
    short: bool,
}

/// Alertmanager's `attachment`, in its field order.
#[derive(Serialize)]
struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pretext: String,
    text: String,
    fallback: String,
    callback_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldJson>,
    #[serde(skip_serializing_if = "String::is_empty")]
    image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    thumb_url: String,
    footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mrkdwn_in: Vec<String>,
}

/// Alertmanager's `request`.
#[derive(Serialize)]
struct SlackRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_url: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    link_names: bool,
    attachments: Vec<Attachment>,
}

/// Parsed templates of the fields other than title and text.
#[derive(Debug, Clone, Default)]
struct Fields {
    channel: Option<Template>,
    username: Option<Template>,
    color: Option<Template>,
    title_link: Option<Template>,
    pretext: Option<Template>,
    fallback: Option<Template>,
    callback_id: Option<Template>,
    footer: Option<Template>,
    icon_emoji: Option<Template>,
    icon_url: Option<Template>,
    image_url: Option<Template>,
    thumb_url: Option<Template>,
    fields: Vec<(Template, Template, bool)>,
}

/// A Slack integration prepared for delivery.
#[derive(Debug, Clone)]
pub struct Slack {
    pub config: SlackConfig,
    pub url: UrlSource,
    texts: ChatTexts,
    fields: Fields,
}

impl Slack {
    /// `global_url`/`global_url_file`: the global `slack_api_url(_file)` used when the
    /// integration has none.
    pub fn new(
        config: &SlackConfig,
        global_url: &Option<Secret>,
        global_url_file: &Option<String>,
    ) -> Result<Slack, String> {
        if config.actions.is_some() {
            return Err("actions: not supported by argus (Slack buttons need a Slack app)".into());
        }
        config.http_config.validate()?;
        let url = if config.api_url.is_none() && config.api_url_file.is_none() {
            UrlSource::from_config("api_url", "api_url_file", global_url, global_url_file).map_err(
                |_| {
                    "api_url: missing (set api_url or api_url_file, or the global slack_api_url)"
                        .to_string()
                },
            )?
        } else {
            UrlSource::from_config(
                "api_url",
                "api_url_file",
                &config.api_url,
                &config.api_url_file,
            )?
        };
        let p = |f: &str, t: &Option<String>| parse_template(f, t);
        let mut fields = Vec::new();
        for (i, f) in config.fields.iter().enumerate() {
            let title = Template::parse_notification("title", &f.title)
                .map_err(|e| format!("fields[{i}].title: {e}"))?;
            let value = Template::parse_notification("value", &f.value)
                .map_err(|e| format!("fields[{i}].value: {e}"))?;
            fields.push((title, value, f.short.unwrap_or(config.short_fields)));
        }
        Ok(Slack {
            url,
            texts: ChatTexts::new(
                &config.title,
                "text",
                &config.text,
                &config.time_zone,
                Flavor::Slack,
            )?,
            fields: Fields {
                channel: p("channel", &config.channel)?,
                username: p("username", &config.username)?,
                color: p("color", &config.color)?,
                title_link: p("title_link", &config.title_link)?,
                pretext: p("pretext", &config.pretext)?,
                fallback: p("fallback", &config.fallback)?,
                callback_id: p("callback_id", &config.callback_id)?,
                footer: p("footer", &config.footer)?,
                icon_emoji: p("icon_emoji", &config.icon_emoji)?,
                icon_url: p("icon_url", &config.icon_url)?,
                image_url: p("image_url", &config.image_url)?,
                thumb_url: p("thumb_url", &config.thumb_url)?,
                fields,
            },
            config: config.clone(),
        })
    }

    /// The request body for `n`.
    pub fn payload(&self, n: &Notification) -> Result<Vec<u8>, String> {
        let zone = &self.texts.zone;
        let k = n.alerts.len();
        let run = |t: &Option<Template>, default: &dyn Fn() -> String| -> Result<String, String> {
            match t {
                Some(t) => execute(t, n, k, zone),
                None => Ok(default()),
            }
        };
        let none = || String::new();
        let title = self.texts.title(n, TITLE_LIMIT_CHARS)?;
        let title_link = run(&self.fields.title_link, &|| n.external_url.clone())?;
        let text = self.texts.body(n, None, TEXT_LIMIT_CHARS, &char_len)?;
        let fallback = run(&self.fields.fallback, &|| {
            if title_link.is_empty() {
                title.clone()
            } else {
                format!("{title} | {title_link}")
            }
        })?;
        let color = run(&self.fields.color, &|| {
            if n.status() == "firing" {
                "danger"
            } else {
                "good"
            }
            .to_string()
        })?;
        let mut fields = Vec::new();
        for (t, v, short) in &self.fields.fields {
            fields.push(FieldJson {
                title: execute(t, n, k, zone)?,
                value: execute(v, n, k, zone)?,
                short: *short,
            });
        }
        let mrkdwn_in = if self.config.mrkdwn_in.is_empty() {
            vec!["fallback".into(), "pretext".into(), "text".into()]
        } else {
            self.config.mrkdwn_in.clone()
        };
        let att = Attachment {
            title,
            title_link,
            pretext: run(&self.fields.pretext, &none)?,
            text,
            fallback,
            callback_id: run(&self.fields.callback_id, &none)?,
            fields,
            image_url: run(&self.fields.image_url, &none)?,
            thumb_url: run(&self.fields.thumb_url, &none)?,
            footer: run(&self.fields.footer, &none)?,
            color,
            mrkdwn_in,
        };
        let req = SlackRequest {
            channel: run(&self.fields.channel, &none)?,
            username: run(&self.fields.username, &|| "argus".to_string())?,
            icon_emoji: run(&self.fields.icon_emoji, &none)?,
            icon_url: run(&self.fields.icon_url, &none)?,
            link_names: self.config.link_names,
            attachments: vec![att],
        };
        serde_json::to_vec(&req).map_err(|e| format!("cannot encode JSON: {e}"))
    }

    /// Incoming webhooks answer `ok` (text); the Web API answers `{"ok":true}`.
    pub fn verdict(status: u16, body: &[u8]) -> Verdict {
        if let Some(v) = http_verdict(status, body) {
            return v;
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            if v.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
                return Verdict::Success;
            }
            let err = v
                .get("error")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            return Verdict::Permanent(format!("error response from Slack: {err}"));
        }
        if text == "ok" || text.is_empty() {
            Verdict::Success
        } else {
            Verdict::Permanent(format!(
                "error response from Slack{}",
                super::common::body_snippet(body)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Alert;
    use argus_core::series::Labels;

    fn n(resolved: bool) -> Notification {
        Notification {
            receiver: "slack".into(),
            group_key: "{}:{}".into(),
            group_labels: Labels::new([("alertname", "HighLatency")]),
            alerts: vec![Alert {
                labels: Labels::new([
                    ("alertname", "HighLatency"),
                    ("service", "checkout"),
                    ("namespace", "shop"),
                ]),
                annotations: [("summary".to_string(), "p99 > 1s & rising".to_string())].into(),
                starts_at_ms: 1_700_000_000_000,
                ends_at_ms: if resolved { 1_700_000_050_000 } else { 0 },
                generator_url: String::new(),
                updated_at_ms: 0,
            }],
            external_url: "https://argus.example".into(),
            now_ms: 1_700_000_100_000,
        }
    }

    fn slack(yaml: &str) -> Slack {
        let c: SlackConfig = serde_yaml::from_str(yaml).expect("parse");
        Slack::new(&c, &None, &None).expect("valid")
    }

    #[test]
    fn default_payload() {
        let s = slack("api_url: https://hooks.slack.com/services/T/B/X");
        let v: serde_json::Value =
            serde_json::from_slice(&s.payload(&n(false)).expect("payload")).expect("json");
        assert_eq!(v["username"], "argus");
        assert!(v.get("channel").is_none());
        let a = &v["attachments"][0];
        assert_eq!(a["title"], "[FIRING:1] HighLatency");
        assert_eq!(a["title_link"], "https://argus.example");
        assert_eq!(a["color"], "danger");
        assert_eq!(
            a["fallback"],
            "[FIRING:1] HighLatency | https://argus.example"
        );
        assert_eq!(
            a["mrkdwn_in"],
            serde_json::json!(["fallback", "pretext", "text"])
        );
        let text = a["text"].as_str().expect("text");
        assert!(text.contains("Service: shop/checkout"), "{text}");
        assert!(text.contains("Summary: p99 &gt; 1s &amp; rising"), "{text}");
        let v: serde_json::Value =
            serde_json::from_slice(&s.payload(&n(true)).expect("payload")).expect("json");
        assert_eq!(v["attachments"][0]["color"], "good");
    }

    #[test]
    fn templated_fields() {
        let s = slack(
            "{api_url: 'https://h/x', channel: '#alerts', username: bot, icon_emoji: ':fire:', link_names: true,
              title: '{{ .CommonLabels.alertname }} ({{ .Status }})', text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ end }}',
              color: '{{ if eq .Status \"firing\" }}#ff0000{{ else }}#00ff00{{ end }}', short_fields: true,
              fields: [{title: svc, value: '{{ .CommonLabels.service }}'}, {title: t, value: v, short: false}]}",
        );
        let v: serde_json::Value =
            serde_json::from_slice(&s.payload(&n(false)).expect("payload")).expect("json");
        assert_eq!(v["channel"], "#alerts");
        assert_eq!(v["username"], "bot");
        assert_eq!(v["icon_emoji"], ":fire:");
        assert_eq!(v["link_names"], true);
        let a = &v["attachments"][0];
        assert_eq!(a["title"], "HighLatency (firing)");
        assert_eq!(a["text"], "p99 > 1s & rising");
        assert_eq!(a["color"], "#ff0000");
        assert_eq!(
            a["fields"][0],
            serde_json::json!({"title": "svc", "value": "checkout", "short": true})
        );
        assert_eq!(a["fields"][1]["short"], false);
    }

    #[test]
    fn validation_names_fields() {
        let c: SlackConfig = serde_yaml::from_str("channel: x").expect("parse");
        let e = Slack::new(&c, &None, &None).expect_err("no url");
        assert!(e.starts_with("api_url: missing"), "{e}");
        let g = Some(Secret::new("https://hooks.slack.com/services/G"));
        assert!(Slack::new(&c, &g, &None).is_ok());
        let c: SlackConfig =
            serde_yaml::from_str("{api_url: 'https://h/x', actions: [{type: button}]}")
                .expect("parse");
        assert!(Slack::new(&c, &None, &None)
            .expect_err("actions")
            .starts_with("actions:"));
        let c: SlackConfig =
            serde_yaml::from_str("{api_url: 'https://h/x', title: '{{ .Status '}").expect("parse");
        assert!(Slack::new(&c, &None, &None)
            .expect_err("template")
            .starts_with("title: template: title:1:"));
        let c: SlackConfig =
            serde_yaml::from_str("{api_url: 'https://h/x', time_zone: Nowhere/Land}")
                .expect("parse");
        assert!(Slack::new(&c, &None, &None)
            .expect_err("zone")
            .starts_with("time_zone: unknown time zone"));
    }

    #[test]
    fn slack_answers() {
        assert_eq!(Slack::verdict(200, b"ok"), Verdict::Success);
        assert_eq!(Slack::verdict(200, br#"{"ok":true}"#), Verdict::Success);
        assert!(
            matches!(Slack::verdict(200, br#"{"ok":false,"error":"channel_not_found"}"#), Verdict::Permanent(m) if m.ends_with("channel_not_found"))
        );
        assert!(matches!(
            Slack::verdict(404, b"no_service"),
            Verdict::Permanent(_)
        ));
        assert!(matches!(Slack::verdict(429, b""), Verdict::RateLimited(_)));
    }
}

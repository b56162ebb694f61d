//! A receiver's config in `alertmanager.yml` syntax, and its validation.

use serde::{Deserialize, Serialize};

use super::integration::Integration;
use crate::notify::Secret;

pub use super::dingtalk::DingtalkConfig;
pub use super::feishu::FeishuConfig;
pub use super::http_config::{Authorization, BasicAuth, HttpConfig};
pub use super::slack::{SlackConfig, SlackField};
pub use super::webhook::WebhookConfig;
pub use super::wecom::WecomConfig;

/// One `receivers:` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// The name routes refer to.
    pub name: String,
    /// Alertmanager's webhook (payload version 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
    /// Slack incoming webhooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    /// argus: DingTalk robots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dingtalk_configs: Vec<DingtalkConfig>,
    /// argus: WeCom group robots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wecom_configs: Vec<WecomConfig>,
    /// argus: Feishu / Lark custom bots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feishu_configs: Vec<FeishuConfig>,
}

/// The `global:` settings receivers fall back to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Globals {
    /// `global.slack_api_url`.
    pub slack_api_url: Option<Secret>,
    /// `global.slack_api_url_file`.
    pub slack_api_url_file: Option<String>,
    /// `global.http_config`: the default of every integration without its own.
    pub http_config: Option<HttpConfig>,
}

/// One integration of a receiver, as the notification log and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntegrationId {
    /// `webhook`, `slack`, `dingtalk`, `wecom`, `feishu`.
    pub name: &'static str,
    /// Position among the receiver's integrations of that kind.
    pub index: usize,
    pub send_resolved: bool,
}

impl std::fmt::Display for IntegrationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.name, self.index)
    }
}

impl ReceiverConfig {
    /// Every integration of the receiver, in config order by kind.
    pub fn integrations(&self) -> Vec<IntegrationId> {
        let mut out = Vec::new();
        let mut add = |name: &'static str, resolved: &mut dyn Iterator<Item = bool>| {
            for (index, send_resolved) in resolved.enumerate() {
                out.push(IntegrationId {
                    name,
                    index,
                    send_resolved,
                });
            }
        };
        add(
            "webhook",
            &mut self.webhook_configs.iter().map(|c| c.send_resolved),
        );
        add(
            "slack",
            &mut self.slack_configs.iter().map(|c| c.send_resolved),
        );
        add(
            "dingtalk",
            &mut self.dingtalk_configs.iter().map(|c| c.send_resolved),
        );
        add(
            "wecom",
            &mut self.wecom_configs.iter().map(|c| c.send_resolved),
        );
        add(
            "feishu",
            &mut self.feishu_configs.iter().map(|c| c.send_resolved),
        );
        out
    }

    /// Checks everything that can be checked before sending: URLs present and well formed
    /// (Slack's falling back to `globals`), `http_config`, templates parse, time zones
    /// exist. The error names the receiver, the integration and the field —
    /// `receiver "ops": dingtalk_configs[0].time_zone: unknown time zone "Asia/Shangai" …`
    /// — and never shows a URL or secret.
    pub fn validate(&self, globals: &Globals) -> Result<(), String> {
        Integration::all(self, globals).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver(yaml: &str) -> ReceiverConfig {
        serde_yaml::from_str(yaml).expect("parse")
    }

    #[test]
    fn all_integrations_parse_with_defaults() {
        let r = receiver(
            r#"
name: everything
webhook_configs:
  - url: http://hook/
    max_alerts: 5
slack_configs:
  - api_url: https://hooks.slack.com/services/T/B/X
    channel: '#ops'
dingtalk_configs:
  - url: https://oapi.dingtalk.com/robot/send?access_token=x
    secret: SECxyz
    at_mobiles: ['13800000000']
    time_zone: '+08:00'
wecom_configs:
  - url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
    content: '{{ .Status }}'
feishu_configs:
  - url: https://open.feishu.cn/open-apis/bot/v2/hook/h
    secret: s
    send_resolved: false
"#,
        );
        r.validate(&Globals::default()).expect("valid");
        let ids: Vec<(String, bool)> = r
            .integrations()
            .iter()
            .map(|i| (i.to_string(), i.send_resolved))
            .collect();
        assert_eq!(
            ids,
            [
                ("webhook[0]".to_string(), true),
                ("slack[0]".into(), false),
                ("dingtalk[0]".into(), true),
                ("wecom[0]".into(), true),
                ("feishu[0]".into(), false),
            ]
        );
        let dbg = format!("{r:?}");
        for secret in ["access_token=x", "SECxyz", "key=k", "/T/B/X", "hook/h"] {
            assert!(!dbg.contains(secret), "{secret} in {dbg}");
        }
    }

    #[test]
    fn errors_name_receiver_integration_and_field() {
        let cases = [
            ("{name: a, webhook_configs: [{}]}", "receiver \"a\": webhook_configs[0].url: missing (set url or url_file)"),
            ("{name: a, slack_configs: [{channel: x}]}", "receiver \"a\": slack_configs[0].api_url: missing"),
            ("{name: a, wecom_configs: [{url: 'https://w/?key=abc', text: '{{ .Status '}]}", "receiver \"a\": wecom_configs[0].text: template: text:1:"),
            ("{name: a, feishu_configs: [{url: 'https://f/', time_zone: Mars/Base}]}", "receiver \"a\": feishu_configs[0].time_zone: unknown time zone \"Mars/Base\""),
            ("{name: a, dingtalk_configs: [{url: 'ftp://d/?access_token=abc'}]}", "receiver \"a\": dingtalk_configs[0].url: not an absolute http or https URL"),
            ("{name: a, webhook_configs: [{url: 'http://h/', http_config: {oauth2: {client_id: x}}}]}", "receiver \"a\": webhook_configs[0].http_config.oauth2: not supported"),
            ("{name: '', webhook_configs: [{url: 'http://h/'}]}", "receiver \"\": name: missing"),
        ];
        for (yaml, want) in cases {
            let e = receiver(yaml)
                .validate(&Globals::default())
                .expect_err(yaml);
            assert!(e.starts_with(want), "{yaml}\n got: {e}\nwant: {want}");
            assert!(!e.contains("abc"), "{e}");
        }
        let g = Globals {
            slack_api_url: Some(Secret::new("https://hooks.slack.com/services/G")),
            ..Globals::default()
        };
        receiver("{name: a, slack_configs: [{channel: x}]}")
            .validate(&g)
            .expect("global url");
        assert!(serde_yaml::from_str::<ReceiverConfig>("{name: a, email_configs: []}").is_err());
    }
}

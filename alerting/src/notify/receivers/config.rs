//! A receiver's config in `alertmanager.yml` syntax.

use serde::{Deserialize, Serialize};

use crate::notify::Secret;

/// One `receivers:` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dingtalk_configs: Vec<DingtalkConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wecom_configs: Vec<WecomConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feishu_configs: Vec<FeishuConfig>,
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
}

fn yes() -> bool {
    true
}

/// `webhook_configs` (Alertmanager's payload version 4).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub url: Option<Secret>,
    #[serde(default)]
    pub max_alerts: u64,
}

/// `slack_configs` (incoming webhook).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub api_url: Option<Secret>,
}

/// `dingtalk_configs` (argus': DingTalk robot).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DingtalkConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub url: Option<Secret>,
    #[serde(default)]
    pub secret: Option<Secret>,
}

/// `wecom_configs` (argus': WeCom group robot).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub url: Option<Secret>,
}

/// `feishu_configs` (argus': Feishu / Lark custom bot).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub url: Option<Secret>,
    #[serde(default)]
    pub secret: Option<Secret>,
}

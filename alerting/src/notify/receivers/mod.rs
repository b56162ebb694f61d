//! Receivers: the integrations a notification is delivered through (webhook, Slack,
//! DingTalk, WeCom, Feishu), their config, payloads, signing and delivery.

pub mod config;

pub use config::ReceiverConfig;

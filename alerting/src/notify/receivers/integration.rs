//! One configured integration ready to send: its prepared config (URL source, parsed
//! templates, time zone), the request it builds for a notification, how it judges the
//! answer and the rate limits it observes.

use std::time::Duration;

use super::common::{redact, Request, Verdict};
use super::config::{Globals, IntegrationId, ReceiverConfig};
use super::dingtalk::Dingtalk;
use super::feishu::Feishu;
use super::http_config::HttpConfig;
use super::slack::Slack;
use super::webhook::{self, Webhook};
use super::wecom::Wecom;
use crate::notify::Notification;

#[derive(Debug, Clone)]
enum Kind {
    Webhook(Box<Webhook>),
    Slack(Box<Slack>),
    Dingtalk(Box<Dingtalk>),
    Wecom(Box<Wecom>),
    Feishu(Box<Feishu>),
}

/// What [`Integration::resolve`] reads at delivery time: the URL (from the config or its
/// file) and the `Authorization` header. `Debug` shows neither.
#[derive(Clone)]
pub struct Resolved {
    pub url: String,
    pub authorization: Option<String>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolved { <secret> }")
    }
}

/// An integration of a receiver, validated and prepared.
#[derive(Debug, Clone)]
pub struct Integration {
    pub receiver: String,
    pub id: IntegrationId,
    kind: Kind,
    /// `global.http_config`, for integrations without their own.
    global_http: Option<HttpConfig>,
}

impl Integration {
    /// Every integration of `r`, in [`ReceiverConfig::integrations`] order. Errors name the
    /// receiver, the integration and the field.
    pub fn all(r: &ReceiverConfig, globals: &Globals) -> Result<Vec<Integration>, String> {
        let ctx = |kind: &'static str, i: usize| {
            let name = r.name.clone();
            move |e: String| format!("receiver {name:?}: {kind}_configs[{i}].{e}")
        };
        if r.name.is_empty() {
            return Err("receiver \"\": name: missing".into());
        }
        let mut kinds = Vec::new();
        for (i, c) in r.webhook_configs.iter().enumerate() {
            kinds.push(Kind::Webhook(Box::new(
                Webhook::new(c).map_err(ctx("webhook", i))?,
            )));
        }
        for (i, c) in r.slack_configs.iter().enumerate() {
            kinds.push(Kind::Slack(Box::new(
                Slack::new(c, &globals.slack_api_url, &globals.slack_api_url_file)
                    .map_err(ctx("slack", i))?,
            )));
        }
        for (i, c) in r.dingtalk_configs.iter().enumerate() {
            kinds.push(Kind::Dingtalk(Box::new(
                Dingtalk::new(c).map_err(ctx("dingtalk", i))?,
            )));
        }
        for (i, c) in r.wecom_configs.iter().enumerate() {
            kinds.push(Kind::Wecom(Box::new(
                Wecom::new(c).map_err(ctx("wecom", i))?,
            )));
        }
        for (i, c) in r.feishu_configs.iter().enumerate() {
            kinds.push(Kind::Feishu(Box::new(
                Feishu::new(c).map_err(ctx("feishu", i))?,
            )));
        }
        Ok(r.integrations()
            .into_iter()
            .zip(kinds)
            .map(|(id, kind)| Integration {
                receiver: r.name.clone(),
                id,
                kind,
                global_http: globals.http_config.clone(),
            })
            .collect())
    }

    /// The integration's own `http_config`, else `global.http_config` (as Alertmanager).
    fn http_config(&self) -> Option<&HttpConfig> {
        let own = match &self.kind {
            Kind::Webhook(w) => Some(&w.config.http_config),
            Kind::Slack(s) => Some(&s.config.http_config),
            _ => None,
        };
        match own {
            Some(h) if *h != HttpConfig::default() => Some(h),
            _ => self.global_http.as_ref(),
        }
    }

    /// Reads the URL and credentials (`*_file`s are read now).
    pub async fn resolve(&self) -> Result<Resolved, String> {
        let url = match &self.kind {
            Kind::Webhook(w) => w.url.resolve().await?,
            Kind::Slack(s) => s.url.resolve().await?,
            Kind::Dingtalk(d) => d.url.resolve().await?,
            Kind::Wecom(w) => w.url.resolve().await?,
            Kind::Feishu(f) => f.url.resolve().await?,
        };
        let authorization = match self.http_config() {
            Some(h) => h.auth_header().await?,
            None => None,
        };
        Ok(Resolved { url, authorization })
    }

    /// The request delivering `n` at `now_ms` (the signing time of DingTalk and Feishu).
    /// Pure: the same inputs give the same request.
    pub fn request(
        &self,
        n: &Notification,
        resolved: &Resolved,
        now_ms: i64,
    ) -> Result<Request, String> {
        let (url, body) = match &self.kind {
            Kind::Webhook(w) => (
                resolved.url.clone(),
                webhook::payload(w.config.max_alerts, n)?,
            ),
            Kind::Slack(s) => (resolved.url.clone(), s.payload(n)?),
            Kind::Dingtalk(d) => (d.signed_url(&resolved.url, now_ms), d.payload(n)?),
            Kind::Wecom(w) => (resolved.url.clone(), w.payload(n)?),
            Kind::Feishu(f) => (resolved.url.clone(), f.payload(n, now_ms)?),
        };
        let mut headers = Vec::new();
        if let Some(a) = &resolved.authorization {
            headers.push(("authorization".to_string(), a.clone()));
        }
        Ok(Request { url, headers, body })
    }

    /// Judges the answer to a request.
    pub fn verdict(&self, status: u16, body: &[u8]) -> Verdict {
        match &self.kind {
            Kind::Webhook(_) => Webhook::verdict(status, body),
            Kind::Slack(_) => Slack::verdict(status, body),
            Kind::Dingtalk(_) => Dingtalk::verdict(status, body),
            Kind::Wecom(_) => Wecom::verdict(status, body),
            Kind::Feishu(_) => Feishu::verdict(status, body),
        }
    }

    /// The rate limits to observe, as (messages, per period): the configured or the
    /// vendor's messages per minute (`per_minute` is the minute, shortened in tests) and a
    /// vendor's per-second limit. `rate_limit_per_minute: 0` turns them off.
    pub fn rate_limits(&self, per_minute: Duration) -> Vec<(u32, Duration)> {
        let sec = Duration::from_secs(1);
        let (configured, default, per_second) = match &self.kind {
            Kind::Webhook(w) => (w.config.rate_limit_per_minute, None, None),
            Kind::Slack(s) => (s.config.rate_limit_per_minute, Some(60), Some(1)),
            Kind::Dingtalk(d) => (d.config.rate_limit_per_minute, Some(20), None),
            Kind::Wecom(w) => (w.config.rate_limit_per_minute, Some(20), None),
            Kind::Feishu(f) => (f.config.rate_limit_per_minute, Some(100), Some(5)),
        };
        if configured == Some(0) {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(m) = configured.or(default) {
            out.push((m, per_minute));
        }
        if let Some(s) = per_second {
            out.push((s, sec));
        }
        out
    }

    /// Removes the integration's secrets (and `resolved`'s) from a message.
    pub fn redact(&self, msg: &str, resolved: Option<&Resolved>) -> String {
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(r) = resolved {
            secrets.push(&r.url);
            if let Some(a) = &r.authorization {
                secrets.push(a);
                if let Some((_, cred)) = a.split_once(' ') {
                    secrets.push(cred);
                }
            }
        }
        let inline = |u: &super::common::UrlSource| match u {
            super::common::UrlSource::Inline(s) => Some(s.expose().to_string()),
            super::common::UrlSource::File(..) => None,
        };
        let owned: Vec<String> = match &self.kind {
            Kind::Webhook(w) => inline(&w.url).into_iter().collect(),
            Kind::Slack(s) => inline(&s.url).into_iter().collect(),
            Kind::Dingtalk(d) => inline(&d.url)
                .into_iter()
                .chain(d.config.secret.as_ref().map(|s| s.expose().to_string()))
                .collect(),
            Kind::Wecom(w) => inline(&w.url).into_iter().collect(),
            Kind::Feishu(f) => inline(&f.url)
                .into_iter()
                .chain(f.config.secret.as_ref().map(|s| s.expose().to_string()))
                .collect(),
        };
        secrets.extend(owned.iter().map(String::as_str));
        redact(msg, &secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn global_http_config_is_the_default_of_integrations() {
        let r: ReceiverConfig = serde_yaml::from_str(
            "{name: r, webhook_configs: [{url: 'http://h/a'}, {url: 'http://h/b', http_config: {bearer_token: own}}]}",
        )
        .expect("receiver");
        let globals = Globals {
            http_config: Some(serde_yaml::from_str("{bearer_token: global}").expect("http_config")),
            ..Globals::default()
        };
        let all = Integration::all(&r, &globals).expect("integrations");
        let a0 = all[0].resolve().await.expect("resolve").authorization;
        let a1 = all[1].resolve().await.expect("resolve").authorization;
        assert_eq!(a0.as_deref(), Some("Bearer global"));
        assert_eq!(a1.as_deref(), Some("Bearer own"));
    }
}

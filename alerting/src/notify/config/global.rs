//! The `global:` section: the resolve timeout, Slack's default URL and the default HTTP
//! client settings. Fields that only configure integrations argus does not have (SMTP,
//! PagerDuty, OpsGenie, WeChat, VictorOps, Telegram, Webex, …) are accepted and ignored,
//! so that an existing `alertmanager.yml` loads unchanged.

use serde_yaml::{Mapping, Value};

use super::walk::{Node, Res};
use crate::duration::format_duration;
use crate::notify::receivers::config::{Globals, HttpConfig};
use crate::notify::Secret;

/// Global fields of Alertmanager that configure integrations argus does not have.
const IGNORED: &[&str] = &[
    "smtp_from",
    "smtp_hello",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_identity",
    "smtp_require_tls",
    "pagerduty_url",
    "opsgenie_api_url",
    "opsgenie_api_key",
    "opsgenie_api_key_file",
    "wechat_api_url",
    "wechat_api_secret",
    "wechat_api_corp_id",
    "victorops_api_url",
    "victorops_api_key",
    "victorops_api_key_file",
    "telegram_api_url",
    "webex_api_url",
];

/// `global:`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalConfig {
    /// How long after its last update an alert without an end time counts as resolved;
    /// default 5m.
    pub resolve_timeout_ms: i64,
    /// The default `api_url` of `slack_configs`.
    pub slack_api_url: Option<Secret>,
    /// A file holding the default Slack URL (exclusive with `slack_api_url`).
    pub slack_api_url_file: Option<String>,
    /// The default `http_config` of receivers (the receivers' own type and rules).
    pub http_config: Option<HttpConfig>,
}

/// The default of `global.resolve_timeout`.
pub fn default_resolve_timeout_ms() -> i64 {
    5 * 60_000
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            resolve_timeout_ms: default_resolve_timeout_ms(),
            slack_api_url: None,
            slack_api_url_file: None,
            http_config: None,
        }
    }
}

/// Reads `global:`.
pub(super) fn parse_global(node: Option<Node<'_>>) -> Res<GlobalConfig> {
    let mut g = GlobalConfig::default();
    let Some(node) = node else {
        return Ok(g);
    };
    let mut allowed = vec![
        "resolve_timeout",
        "slack_api_url",
        "slack_api_url_file",
        "http_config",
    ];
    allowed.extend_from_slice(IGNORED);
    let f = node.fields(&allowed)?;
    if let Some(n) = f.get("resolve_timeout") {
        g.resolve_timeout_ms = n.duration()?;
    }
    if let Some(n) = f.get("slack_api_url") {
        g.slack_api_url = Some(Secret::new(n.string()?));
    }
    if let Some(n) = f.get("slack_api_url_file") {
        g.slack_api_url_file = Some(n.string()?);
    }
    if g.slack_api_url.is_some() && g.slack_api_url_file.is_some() {
        return Err(
            node.err("at most one of slack_api_url & slack_api_url_file must be configured")
        );
    }
    if let Some(n) = f.get("http_config") {
        let hc: HttpConfig = serde_yaml::from_value(n.value.clone())
            .map_err(|e| n.err(e.to_string().replace(" at line 1 column 1", "")))?;
        // Its messages start with `http_config.`.
        hc.validate().map_err(|e| node.err(e))?;
        g.http_config = Some(hc);
    }
    Ok(g)
}

impl GlobalConfig {
    /// What receivers fall back to.
    pub fn receiver_globals(&self) -> Globals {
        Globals {
            slack_api_url: self.slack_api_url.clone(),
            slack_api_url_file: self.slack_api_url_file.clone(),
            http_config: self.http_config.clone(),
        }
    }

    /// The section as YAML, secrets as `<secret>`.
    pub(super) fn to_yaml(&self) -> Value {
        let mut m = Mapping::new();
        m.insert(
            "resolve_timeout".into(),
            format_duration(self.resolve_timeout_ms).into(),
        );
        if let Some(hc) = &self.http_config {
            m.insert(
                "http_config".into(),
                serde_yaml::to_value(hc).unwrap_or(Value::Null),
            );
        }
        if self.slack_api_url.is_some() {
            m.insert("slack_api_url".into(), "<secret>".into());
        }
        if let Some(f) = &self.slack_api_url_file {
            m.insert("slack_api_url_file".into(), f.clone().into());
        }
        Value::Mapping(m)
    }
}

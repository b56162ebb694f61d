//! `http_config` of `webhook_configs` and `slack_configs` (Prometheus' common HTTP client
//! config): the authentication parts argus supports — `basic_auth`, `authorization`,
//! `bearer_token` — as request headers. The other fields are recognized and rejected by
//! name, so a config written for Alertmanager never half-works silently.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::sign::base64;
use crate::notify::Secret;

/// `http_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `Authorization: Basic …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization: <type> <credentials>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// `Authorization: Bearer …` (deprecated in Prometheus for `authorization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// The bearer token read from a file at every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// Only `false` is supported: argus never follows redirects (a 3xx is a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// Accepted and ignored: argus speaks HTTP/1.1 to receivers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_http2: Option<bool>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub oauth2: Option<IgnoredAny>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub tls_config: Option<IgnoredAny>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub proxy_url: Option<IgnoredAny>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub no_proxy: Option<IgnoredAny>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub proxy_from_environment: Option<IgnoredAny>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub proxy_connect_header: Option<IgnoredAny>,
    /// Not supported (rejected by `validate`).
    #[serde(default, skip_serializing)]
    pub http_headers: Option<IgnoredAny>,
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(default)]
    pub username: String,
    /// The username read from a file at every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The password read from a file at every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// `authorization`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The scheme; `Bearer` when empty.
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Secret>,
    /// The credentials read from a file at every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

impl HttpConfig {
    /// Checks the config as Prometheus does; errors name the field under `http_config`.
    pub fn validate(&self) -> Result<(), String> {
        let unsupported = [
            ("oauth2", self.oauth2.is_some()),
            ("tls_config", self.tls_config.is_some()),
            ("proxy_url", self.proxy_url.is_some()),
            ("no_proxy", self.no_proxy.is_some()),
            (
                "proxy_from_environment",
                self.proxy_from_environment.is_some(),
            ),
            ("proxy_connect_header", self.proxy_connect_header.is_some()),
            ("http_headers", self.http_headers.is_some()),
        ];
        if let Some((f, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err(format!(
                "http_config.{f}: not supported by argus (supported: basic_auth, authorization, bearer_token, bearer_token_file)"
            ));
        }
        if self.follow_redirects == Some(true) {
            return Err(
                "http_config.follow_redirects: argus does not follow redirects; remove it or set it to false"
                    .into(),
            );
        }
        let bearer = self.bearer_token.is_some() || self.bearer_token_file.is_some();
        let schemes = [
            self.basic_auth.is_some(),
            self.authorization.is_some(),
            bearer,
        ];
        if schemes.iter().filter(|s| **s).count() > 1 {
            return Err(
                "http_config: at most one of basic_auth, authorization and bearer_token(_file) must be configured"
                    .into(),
            );
        }
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            return Err(
                "http_config: at most one of bearer_token and bearer_token_file must be configured"
                    .into(),
            );
        }
        if let Some(b) = &self.basic_auth {
            if !b.username.is_empty() && b.username_file.is_some() {
                return Err("http_config.basic_auth: at most one of username and username_file must be configured".into());
            }
            if b.password.is_some() && b.password_file.is_some() {
                return Err("http_config.basic_auth: at most one of password and password_file must be configured".into());
            }
        }
        if let Some(a) = &self.authorization {
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(
                    "http_config.authorization.type: cannot be \"Basic\", use basic_auth instead"
                        .into(),
                );
            }
            if a.credentials.is_some() && a.credentials_file.is_some() {
                return Err("http_config.authorization: at most one of credentials and credentials_file must be configured".into());
            }
            if a.kind
                .contains(|c: char| c.is_whitespace() || c.is_control())
            {
                return Err("http_config.authorization.type: must be a single word".into());
            }
        }
        Ok(())
    }

    /// The `Authorization` header, if any, with files read now. Errors name the file,
    /// never its content.
    pub async fn auth_header(&self) -> Result<Option<String>, String> {
        if let Some(b) = &self.basic_auth {
            let user = match &b.username_file {
                Some(f) => read_secret_file(f, "http_config.basic_auth.username_file").await?,
                None => b.username.clone(),
            };
            let pass = match (&b.password, &b.password_file) {
                (Some(p), _) => p.expose().to_string(),
                (None, Some(f)) => {
                    read_secret_file(f, "http_config.basic_auth.password_file").await?
                }
                (None, None) => String::new(),
            };
            return Ok(Some(format!(
                "Basic {}",
                base64(format!("{user}:{pass}").as_bytes())
            )));
        }
        let (kind, cred) = if let Some(a) = &self.authorization {
            let kind = if a.kind.is_empty() { "Bearer" } else { &a.kind };
            let cred = match (&a.credentials, &a.credentials_file) {
                (Some(c), _) => c.expose().to_string(),
                (None, Some(f)) => {
                    read_secret_file(f, "http_config.authorization.credentials_file").await?
                }
                (None, None) => String::new(),
            };
            (kind.to_string(), cred)
        } else if let Some(t) = &self.bearer_token {
            ("Bearer".to_string(), t.expose().to_string())
        } else if let Some(f) = &self.bearer_token_file {
            (
                "Bearer".to_string(),
                read_secret_file(f, "http_config.bearer_token_file").await?,
            )
        } else {
            return Ok(None);
        };
        Ok(Some(format!("{kind} {cred}")))
    }
}

/// Reads a `*_file` secret (trimmed of surrounding whitespace) off the runtime threads.
pub async fn read_secret_file(path: &str, field: &str) -> Result<String, String> {
    tokio::fs::read_to_string(path)
        .await
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("{field}: cannot read {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> Result<HttpConfig, String> {
        serde_yaml::from_str::<HttpConfig>(y).map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn headers_from_each_scheme() {
        let c = parse("basic_auth: {username: u, password: p}").expect("parse");
        c.validate().expect("valid");
        assert_eq!(
            c.auth_header().await.expect("header").as_deref(),
            Some("Basic dTpw")
        );
        let c = parse("authorization: {credentials: tok}").expect("parse");
        assert_eq!(
            c.auth_header().await.expect("header").as_deref(),
            Some("Bearer tok")
        );
        let c = parse("authorization: {type: Token, credentials: tok}").expect("parse");
        assert_eq!(
            c.auth_header().await.expect("header").as_deref(),
            Some("Token tok")
        );
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("tok");
        std::fs::write(&f, "filetok\n").expect("write");
        let c = parse(&format!("bearer_token_file: {}", f.display())).expect("parse");
        assert_eq!(
            c.auth_header().await.expect("header").as_deref(),
            Some("Bearer filetok")
        );
        let c = parse("bearer_token_file: /nonexistent/argus-token").expect("parse");
        let e = c.auth_header().await.expect_err("missing file");
        assert!(
            e.starts_with("http_config.bearer_token_file: cannot read /nonexistent"),
            "{e}"
        );
        assert_eq!(HttpConfig::default().auth_header().await, Ok(None));
    }

    #[test]
    fn unsupported_and_conflicting_fields_are_named() {
        let e = parse("tls_config: {insecure_skip_verify: true}")
            .expect("parse")
            .validate()
            .expect_err("unsupported");
        assert!(
            e.starts_with("http_config.tls_config: not supported"),
            "{e}"
        );
        let e = parse("proxy_url: http://proxy:3128")
            .expect("parse")
            .validate()
            .expect_err("unsupported");
        assert!(e.starts_with("http_config.proxy_url"), "{e}");
        let e = parse("{bearer_token: tok3n, basic_auth: {username: u}}")
            .expect("parse")
            .validate()
            .expect_err("conflict");
        assert!(e.contains("at most one"), "{e}");
        assert!(!e.contains("tok3n"), "{e}");
        let e = parse("authorization: {type: basic, credentials: x}")
            .expect("parse")
            .validate()
            .expect_err("basic");
        assert!(e.contains("basic_auth"), "{e}");
        assert!(parse("nope: 1").is_err());
        let c = parse("{bearer_token: hunter2, follow_redirects: false, enable_http2: true}")
            .expect("parse");
        c.validate().expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}

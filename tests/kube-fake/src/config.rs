//! The fake API server's configuration: data with defaults and validation.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::Error;

/// How the fake API server listens and how long it remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeApiServerConfig {
    /// Address to listen on; port 0 picks a free port (see `FakeApiServer::addr`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Changes (of all resources together, like etcd revisions) the history keeps for
    /// watches, exact lists and continue tokens; anything older gets 410 Expired.
    #[serde(default = "default_history_window")]
    pub history_window: usize,
    /// Milliseconds between BOOKMARK frames of watches with `allowWatchBookmarks=true`
    /// (the real server sends one about every minute).
    #[serde(default = "default_bookmark_interval_ms")]
    pub bookmark_interval_ms: u64,
    /// Changes a watch may fall behind its client before the server closes it, as the
    /// watch cache closes unresponsive watchers.
    #[serde(default = "default_watch_queue")]
    pub watch_queue: usize,
    /// Seconds a watch without `timeoutSeconds` lasts (kube-apiserver's
    /// `--min-request-timeout`; the real server adds up to as much again at random).
    #[serde(default = "default_min_request_timeout_seconds")]
    pub min_request_timeout_seconds: u64,
    /// Milliseconds a request for a resourceVersion newer than the store's waits for it
    /// before failing with 504 "Too large resource version".
    #[serde(default = "default_too_large_rv_wait_ms")]
    pub too_large_rv_wait_ms: u64,
    /// The resourceVersion before the first write (real clusters' numbers are large).
    #[serde(default = "default_first_resource_version")]
    pub first_resource_version: u64,
    /// The `gitVersion` served at `/version` (`vMAJOR.MINOR.PATCH`).
    #[serde(default = "default_server_version")]
    pub server_version: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn default_history_window() -> usize {
    10_000
}

fn default_bookmark_interval_ms() -> u64 {
    1_000
}

fn default_watch_queue() -> usize {
    10_000
}

fn default_min_request_timeout_seconds() -> u64 {
    1_800
}

fn default_too_large_rv_wait_ms() -> u64 {
    3_000
}

fn default_first_resource_version() -> u64 {
    1_000
}

fn default_server_version() -> String {
    "v1.33.0".to_string()
}

impl Default for FakeApiServerConfig {
    fn default() -> Self {
        FakeApiServerConfig {
            listen: default_listen(),
            history_window: default_history_window(),
            bookmark_interval_ms: default_bookmark_interval_ms(),
            watch_queue: default_watch_queue(),
            min_request_timeout_seconds: default_min_request_timeout_seconds(),
            too_large_rv_wait_ms: default_too_large_rv_wait_ms(),
            first_resource_version: default_first_resource_version(),
            server_version: default_server_version(),
        }
    }
}

impl FakeApiServerConfig {
    /// The defaults, listening on `listen`.
    pub fn listening_on(listen: SocketAddr) -> Self {
        FakeApiServerConfig {
            listen,
            ..FakeApiServerConfig::default()
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |field: &'static str, reason: &str| Error::Config {
            field,
            reason: reason.to_string(),
        };
        if self.history_window == 0 {
            return Err(bad("history_window", "must be at least 1"));
        }
        if self.bookmark_interval_ms == 0 {
            return Err(bad("bookmark_interval_ms", "must be at least 1"));
        }
        if self.watch_queue == 0 {
            return Err(bad("watch_queue", "must be at least 1"));
        }
        if self.min_request_timeout_seconds == 0 {
            return Err(bad("min_request_timeout_seconds", "must be at least 1"));
        }
        if self.major_minor().is_none() {
            return Err(bad("server_version", "must look like v1.33.0"));
        }
        Ok(())
    }

    /// `(major, minor)` of `server_version`.
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let mut parts = self
            .server_version
            .strip_prefix('v')?
            .split(['.', '-', '+']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_fields_are_named() {
        assert!(FakeApiServerConfig::default().validate().is_ok());
        let config: FakeApiServerConfig =
            serde_json::from_str(r#"{"history_window": 0}"#).expect("parses");
        let err = config.validate().expect_err("zero window");
        assert!(err.to_string().contains("history_window"), "{err}");
        let config = FakeApiServerConfig {
            server_version: "1.33".into(),
            ..FakeApiServerConfig::default()
        };
        assert!(config.validate().is_err());
        assert!(serde_json::from_str::<FakeApiServerConfig>(r#"{"nope": 1}"#).is_err());
    }
}

//! The collector's configuration (`collector:` section of the config file).

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

use crate::{Error, Result};

/// Where to start reading a file that has no checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReadFrom {
    /// From its first byte, so nothing a pod wrote before the collector started is lost.
    #[default]
    Beginning,
    /// From its current end (only for files present at the first scan).
    End,
}

/// Configuration of the node collector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorConfig {
    /// Address of the collector's `/metrics` and `/healthz` (empty: no listener).
    pub listen: String,
    /// Directory holding kubelet's `pods/` and `containers/`.
    pub log_root: PathBuf,
    /// Globs of live log files; empty means `<log_root>/pods/*/*/*.log`.
    pub log_globs: Vec<String>,
    /// Where per-file checkpoints are kept.
    pub checkpoint_dir: PathBuf,
    /// Base URL of the aggregator (`/v1/logs` is appended).
    pub aggregator: String,
    /// Node name put on every record; empty means `$NODE_NAME` or the hostname.
    pub node_name: String,
    /// Where to start in files without a checkpoint.
    pub read_from: ReadFrom,
    /// Longest line kept; the rest is cut and the line marked.
    pub max_line_bytes: usize,
    /// Largest batch sent in one request, in bytes of messages.
    pub batch_max_bytes: usize,
    /// Longest a record waits in a batch before it is sent.
    #[serde(with = "duration_str")]
    pub batch_timeout: Duration,
    /// How long an unfinished partial line waits for its continuation before it is flushed.
    #[serde(with = "duration_str")]
    pub partial_timeout: Duration,
    /// How often the glob is re-evaluated when inotify says nothing.
    #[serde(with = "duration_str")]
    pub rescan_interval: Duration,
    /// Bearer token sent to the aggregator (`ARGUS_TOKEN` when empty).
    pub token: String,
}

/// Serde helper: durations written as Prometheus durations (`5s`, `1m`).
pub mod duration_str {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        argus_core::duration::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

fn default_node_name() -> String {
    if let Ok(n) = std::env::var("NODE_NAME") {
        if !n.is_empty() {
            return n;
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            listen: "127.0.0.1:9401".to_string(),
            log_root: PathBuf::from("/var/log"),
            log_globs: Vec::new(),
            checkpoint_dir: PathBuf::from("/var/lib/argus/checkpoints"),
            aggregator: "http://127.0.0.1:9400".to_string(),
            node_name: String::new(),
            read_from: ReadFrom::Beginning,
            max_line_bytes: 256 * 1024,
            batch_max_bytes: 1024 * 1024,
            batch_timeout: Duration::from_millis(500),
            partial_timeout: Duration::from_secs(2),
            rescan_interval: Duration::from_secs(2),
            token: String::new(),
        }
    }
}

impl CollectorConfig {
    /// Fills derived defaults (globs, node name, token) and checks every field.
    pub fn validate(mut self) -> Result<Self> {
        if self.log_globs.is_empty() {
            self.log_globs = vec![format!("{}/pods/*/*/*.log", self.log_root.display())];
        }
        for g in &self.log_globs {
            glob::Pattern::new(g).map_err(|e| Error::Config {
                field: "collector.log_globs",
                message: format!("{g:?}: {e}"),
            })?;
        }
        if self.node_name.is_empty() {
            self.node_name = default_node_name();
        }
        if self.token.is_empty() {
            self.token = std::env::var("ARGUS_TOKEN").unwrap_or_default();
        }
        if !(self.aggregator.starts_with("http://") || self.aggregator.starts_with("https://")) {
            return Err(Error::Config {
                field: "collector.aggregator",
                message: format!("{:?} is not an http:// URL", self.aggregator),
            });
        }
        if self.aggregator.starts_with("https://") {
            return Err(Error::Config {
                field: "collector.aggregator",
                message: "https is not supported yet; use http:// inside the cluster".into(),
            });
        }
        if !self.listen.is_empty() && self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(Error::Config {
                field: "collector.listen",
                message: format!("{:?}: want host:port, e.g. 127.0.0.1:9401", self.listen),
            });
        }
        if self.max_line_bytes < 1024 {
            return Err(Error::Config {
                field: "collector.max_line_bytes",
                message: "must be at least 1024".into(),
            });
        }
        if self.batch_max_bytes < 4096 {
            return Err(Error::Config {
                field: "collector.batch_max_bytes",
                message: "must be at least 4096".into(),
            });
        }
        if self.rescan_interval > Duration::from_secs(5) || self.rescan_interval.is_zero() {
            return Err(Error::Config {
                field: "collector.rescan_interval",
                message: "must be between 1ms and 5s".into(),
            });
        }
        Ok(self)
    }
}

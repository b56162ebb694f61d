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
    /// The host's procfs (the DaemonSet mounts it at `/host/proc`).
    pub procfs: PathBuf,
    /// The host's sysfs.
    pub sysfs: PathBuf,
    /// The host's cgroup hierarchy (v1, v2 or hybrid).
    pub cgroupfs: PathBuf,
    /// The host's root filesystem (for mount points and container runtime bundles).
    pub rootfs: PathBuf,
    /// What the metrics endpoints serve.
    pub metrics: MetricsConfig,
    /// Regexes counted per container as `argus_log_pattern_matches_total{pattern}`.
    pub log_metrics: Vec<LogMetricConfig>,
    /// Kubeconfig of the API server whose pods' labels are put on records; absent: the
    /// in-cluster config when `KUBERNETES_SERVICE_HOST` is set, else no pod labels.
    pub kubeconfig: Option<PathBuf>,
}

/// The `collector.metrics` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve the `node_*` series on `/metrics` too (they are always on `/metrics/node`).
    /// Off by default; on by default in all-in-one.
    pub single_endpoint: Option<bool>,
}

/// One entry of `collector.log_metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogMetricConfig {
    /// The `pattern` label value.
    pub name: String,
    /// A `regex` crate expression matched against each log message.
    pub regex: String,
    /// Only count lines of these namespaces (all when absent).
    #[serde(default)]
    pub namespaces: Vec<String>,
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
            procfs: PathBuf::from("/proc"),
            sysfs: PathBuf::from("/sys"),
            cgroupfs: PathBuf::from("/sys/fs/cgroup"),
            rootfs: PathBuf::from("/"),
            metrics: MetricsConfig::default(),
            log_metrics: Vec::new(),
            kubeconfig: None,
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
                field: "collector.log_globs".into(),
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
                field: "collector.aggregator".into(),
                message: format!("{:?} is not an http:// URL", self.aggregator),
            });
        }
        if self.aggregator.starts_with("https://") {
            return Err(Error::Config {
                field: "collector.aggregator".into(),
                message: "https is not supported yet; use http:// inside the cluster".into(),
            });
        }
        if !self.listen.is_empty() && self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(Error::Config {
                field: "collector.listen".into(),
                message: format!("{:?}: want host:port, e.g. 127.0.0.1:9401", self.listen),
            });
        }
        if self.max_line_bytes < 1024 {
            return Err(Error::Config {
                field: "collector.max_line_bytes".into(),
                message: "must be at least 1024".into(),
            });
        }
        if self.batch_max_bytes < 4096 {
            return Err(Error::Config {
                field: "collector.batch_max_bytes".into(),
                message: "must be at least 4096".into(),
            });
        }
        if self.rescan_interval > Duration::from_secs(5) || self.rescan_interval.is_zero() {
            return Err(Error::Config {
                field: "collector.rescan_interval".into(),
                message: "must be between 1ms and 5s".into(),
            });
        }
        self.log_patterns()?;
        Ok(self)
    }

    /// The compiled `log_metrics` patterns; errors name the entry and what is wrong.
    pub fn log_patterns(&self) -> Result<Vec<crate::metrics::logs::Pattern>> {
        let mut out: Vec<crate::metrics::logs::Pattern> = Vec::new();
        for (i, m) in self.log_metrics.iter().enumerate() {
            if m.name.is_empty() {
                return Err(Error::Config {
                    field: format!("collector.log_metrics[{i}].name"),
                    message: "must not be empty".into(),
                });
            }
            if out.iter().any(|p| p.name == m.name) {
                return Err(Error::Config {
                    field: format!("collector.log_metrics[{i}].name"),
                    message: format!("{:?} is used twice", m.name),
                });
            }
            let regex = regex::Regex::new(&m.regex).map_err(|e| Error::Config {
                field: format!("collector.log_metrics[{i}].regex"),
                message: format!("{:?}: {e}", m.regex),
            })?;
            out.push(crate::metrics::logs::Pattern {
                name: m.name.clone(),
                regex,
                namespaces: m.namespaces.clone(),
            });
        }
        Ok(out)
    }

    /// Where the host's pseudo-filesystems are.
    pub fn host_paths(&self) -> crate::metrics::HostPaths {
        crate::metrics::HostPaths {
            procfs: self.procfs.clone(),
            sysfs: self.sysfs.clone(),
            cgroupfs: self.cgroupfs.clone(),
            rootfs: self.rootfs.clone(),
        }
    }
}

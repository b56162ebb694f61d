//! The YAML config file: one section per component, every field defaulted; an unknown
//! field or a bad value is an error naming it. Flags override the file.

use anyhow::Context;
use serde::Deserialize;
use std::path::Path;

use argus_aggregator::{AggregatorConfig, AlertingConfig};
use argus_collector::CollectorConfig;
use argus_watcher::WatcherConfig;

/// `auth:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Bearer token for the API and for collectors shipping to it (`ARGUS_TOKEN` overrides).
    pub token: String,
}

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArgusConfig {
    pub collector: CollectorConfig,
    pub aggregator: AggregatorConfig,
    pub alerting: AlertingConfig,
    pub watcher: WatcherConfig,
    pub auth: AuthConfig,
}

impl ArgusConfig {
    /// Loads `path`, or the defaults when `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<ArgusConfig> {
        let Some(path) = path else {
            return Ok(ArgusConfig::default().with_token());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let cfg: ArgusConfig = serde_yaml::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            anyhow::anyhow!("config file {}{at}: {e}", path.display())
        })?;
        Ok(cfg.with_token())
    }

    fn with_token(mut self) -> Self {
        let token = std::env::var("ARGUS_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .unwrap_or(self.auth.token.clone());
        if self.aggregator.token.is_empty() {
            self.aggregator.token = token.clone();
        }
        if self.watcher.token.is_empty() {
            self.watcher.token = token.clone();
        }
        if self.collector.token.is_empty() {
            self.collector.token = token;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("argus.yaml");
        std::fs::write(&p, "aggregator:\n  retention: 3d\n  colour: blue\n").expect("write");
        let e = ArgusConfig::load(Some(&p))
            .expect_err("unknown field")
            .to_string();
        assert!(e.contains("colour") && e.contains("argus.yaml:3"), "{e}");
        std::fs::write(
            &p,
            "collector:\n  read_from: end\n  max_line_bytes: 4096\naggregator:\n  retention: 3d\n",
        )
        .expect("write");
        let c = ArgusConfig::load(Some(&p)).expect("valid");
        assert_eq!(c.aggregator.retention.as_secs(), 3 * 86_400);
        assert_eq!(c.collector.max_line_bytes, 4096);
        assert_eq!(c.collector.read_from, argus_collector::ReadFrom::End);
    }

    #[test]
    fn watcher_section() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("argus.yaml");
        std::fs::write(
            &p,
            "watcher:\n  kubeconfig: /etc/kube.yaml\n  listen: 0.0.0.0:9402\n  events:\n    seen_retention: 3h\n",
        )
        .expect("write");
        let c = ArgusConfig::load(Some(&p)).expect("valid").watcher;
        assert_eq!(c.kubeconfig.as_deref(), Some(Path::new("/etc/kube.yaml")));
        assert_eq!(c.listen, "0.0.0.0:9402");
        assert_eq!(c.events.seen_retention.as_secs(), 3 * 3600);
        assert_eq!(c.aggregator, "http://127.0.0.1:9400");
        std::fs::write(&p, "watcher:\n  events:\n    batch: 3\n").expect("write");
        let e = ArgusConfig::load(Some(&p))
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("batch") && e.contains("argus.yaml:3"), "{e}");
    }
}

//! The aggregator's configuration (`aggregator:` section of the config file).

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Configuration of the central aggregator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AggregatorConfig {
    /// Address the HTTP API listens on.
    pub listen: String,
    /// Where the stores keep their data (`<data_dir>/logs`, `<data_dir>/events`,
    /// `<data_dir>/metrics`).
    pub data_dir: PathBuf,
    /// How long logs are kept; whole partitions are dropped past it.
    #[serde(with = "duration_str")]
    pub retention: Duration,
    /// How long Kubernetes events are kept, counted from their latest occurrence; older
    /// ones are deleted and not accepted.
    #[serde(with = "duration_str")]
    pub events_retention: Duration,
    /// Span of one log partition (`1h` or `1d` are typical).
    #[serde(with = "duration_str")]
    pub partition: Duration,
    /// Longest time between the ack of a record and its searchability.
    #[serde(with = "duration_str")]
    pub commit_interval: Duration,
    /// Indexing threads per active partition.
    pub index_threads: usize,
    /// Indexing memory budget per active partition, in MiB.
    pub index_memory_mb: usize,
    /// Largest request body accepted by the ingest endpoints, in MiB.
    pub max_body_mb: usize,
    /// Bearer token required by the API (`ARGUS_TOKEN` when empty; none when both are).
    pub token: String,
    /// The embedded metrics store and its scraper.
    pub metrics: MetricsConfig,
}

/// The `aggregator.metrics` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// How long samples are kept.
    #[serde(with = "duration_str")]
    pub retention: Duration,
    /// How often the store writes a snapshot (and drops the WAL before it).
    #[serde(with = "duration_str")]
    pub snapshot_interval: Duration,
    /// Interval of the jobs made from `--scrape-target` (and all-in-one's own).
    #[serde(with = "duration_str")]
    pub scrape_interval: Duration,
    /// Scrape jobs in Prometheus' `scrape_configs` shape (static targets).
    pub scrape_configs: Vec<argus_tsdb::scrape::ScrapeConfig>,
    /// `--scrape-target` URLs (jobs named by path: `/metrics/node` → `node-exporter`,
    /// `/metrics/cluster` → `kube-state-metrics`, other paths → `cadvisor`).
    pub scrape_targets: Vec<String>,
    /// Discovery of the collector pods of the cluster watched in-process.
    pub collector_discovery: crate::discovery::CollectorDiscoveryConfig,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            retention: Duration::from_secs(24 * 3600),
            snapshot_interval: Duration::from_secs(15 * 60),
            scrape_interval: Duration::from_secs(15),
            scrape_configs: Vec::new(),
            scrape_targets: Vec::new(),
            collector_discovery: Default::default(),
        }
    }
}

impl MetricsConfig {
    /// Every job: the configured ones plus one per `--scrape-target`.
    pub fn jobs(&self) -> Result<Vec<argus_tsdb::scrape::ScrapeConfig>, String> {
        let mut jobs = self.scrape_configs.clone();
        for url in &self.scrape_targets {
            let path = url.split_once("://").map_or("", |(_, r)| r);
            let path = path.find('/').map_or("/metrics", |i| &path[i..]);
            let (job, honor) = match path {
                "/metrics/node" => ("node-exporter", false),
                "/metrics/cluster" => ("kube-state-metrics", true),
                _ => ("cadvisor", true),
            };
            let mut c = argus_tsdb::scrape::ScrapeConfig::from_url(job, url, self.scrape_interval)?;
            c.honor_labels = honor;
            match jobs
                .iter_mut()
                .find(|j| j.job_name == job && j.metrics_path == c.metrics_path)
            {
                Some(j) => j.static_configs.extend(c.static_configs),
                None => jobs.push(c),
            }
        }
        Ok(jobs)
    }
}

/// Serde helper: durations written as Prometheus durations (`5s`, `7d`).
pub mod duration_str {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        argus_core::duration::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        AggregatorConfig {
            listen: "127.0.0.1:9400".into(),
            data_dir: PathBuf::from("./argus-data"),
            retention: Duration::from_secs(7 * 86_400),
            events_retention: default_events_retention(),
            partition: Duration::from_secs(3600),
            commit_interval: Duration::from_secs(1),
            index_threads: 2,
            index_memory_mb: 64,
            max_body_mb: 64,
            token: String::new(),
            metrics: MetricsConfig::default(),
        }
    }
}

/// Kubernetes keeps events for an hour; argus keeps them for 30 days.
pub fn default_events_retention() -> Duration {
    Duration::from_secs(30 * 86_400)
}

/// A config value that cannot work, naming the field.
#[derive(Debug, thiserror::Error)]
#[error("invalid config field `{field}`: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl AggregatorConfig {
    /// Fills derived defaults and checks every field.
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        let err = |field, message: &str| ConfigError {
            field,
            message: message.to_string(),
        };
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                "aggregator.listen",
                "want host:port, e.g. 127.0.0.1:9400",
            ));
        }
        if self.partition < Duration::from_secs(60)
            || self.partition > Duration::from_secs(7 * 86_400)
        {
            return Err(err("aggregator.partition", "must be between 1m and 7d"));
        }
        let secs = self.partition.as_secs();
        if !86_400u64.is_multiple_of(secs) && !secs.is_multiple_of(86_400) {
            return Err(err(
                "aggregator.partition",
                "must divide a day (e.g. 1h, 6h) or be whole days",
            ));
        }
        if self.retention < self.partition {
            return Err(err(
                "aggregator.retention",
                "must be at least one partition",
            ));
        }
        if self.events_retention < Duration::from_secs(60) {
            return Err(err("aggregator.events_retention", "must be at least 1m"));
        }
        if self.commit_interval.is_zero() || self.commit_interval > Duration::from_secs(60) {
            return Err(err(
                "aggregator.commit_interval",
                "must be between 1ms and 60s",
            ));
        }
        if self.index_threads == 0 || self.index_threads > 16 {
            return Err(err("aggregator.index_threads", "must be between 1 and 16"));
        }
        if self.index_memory_mb < 16 * self.index_threads {
            return Err(err(
                "aggregator.index_memory_mb",
                "must be at least 16 per index thread",
            ));
        }
        if self.max_body_mb == 0 {
            return Err(err("aggregator.max_body_mb", "must be positive"));
        }
        if self.token.is_empty() {
            self.token = std::env::var("ARGUS_TOKEN").unwrap_or_default();
        }
        if self.metrics.retention < Duration::from_secs(60) {
            return Err(err("aggregator.metrics.retention", "must be at least 1m"));
        }
        if self.metrics.snapshot_interval < Duration::from_secs(10) {
            return Err(err(
                "aggregator.metrics.snapshot_interval",
                "must be at least 10s",
            ));
        }
        if self.metrics.scrape_interval < Duration::from_secs(1) {
            return Err(err(
                "aggregator.metrics.scrape_interval",
                "must be at least 1s",
            ));
        }
        let d = &self.metrics.collector_discovery;
        if let Err(e) = crate::discovery::parse_selector(&d.label_selector) {
            return Err(err(
                "aggregator.metrics.collector_discovery.label_selector",
                &e,
            ));
        }
        if d.port == 0 {
            return Err(err(
                "aggregator.metrics.collector_discovery.port",
                "must be positive",
            ));
        }
        if d.refresh_interval < Duration::from_secs(1) {
            return Err(err(
                "aggregator.metrics.collector_discovery.refresh_interval",
                "must be at least 1s",
            ));
        }
        let jobs = self.metrics.jobs().map_err(|m| ConfigError {
            field: "aggregator.metrics.scrape_configs",
            message: m,
        })?;
        argus_tsdb::scrape::Manager::new(&jobs).map_err(|m| ConfigError {
            field: "aggregator.metrics.scrape_configs",
            message: m,
        })?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_retention_defaults_to_30_days_and_is_checked() {
        let c = AggregatorConfig::default().validate().expect("defaults");
        assert_eq!(c.events_retention, Duration::from_secs(30 * 86_400));
        let c: AggregatorConfig =
            serde_json::from_str(r#"{"events_retention":"90d"}"#).expect("parse");
        assert_eq!(c.events_retention.as_secs(), 90 * 86_400);
        let c: AggregatorConfig =
            serde_json::from_str(r#"{"events_retention":"30s"}"#).expect("parse");
        let e = c.validate().expect_err("too short").to_string();
        assert!(e.contains("aggregator.events_retention"), "{e}");
        assert!(
            serde_json::from_str::<AggregatorConfig>(r#"{"events_retention":"soon"}"#).is_err()
        );
    }

    #[test]
    fn collector_discovery_defaults_and_checks() {
        let c = AggregatorConfig::default().validate().expect("defaults");
        let d = &c.metrics.collector_discovery;
        assert!(d.enabled);
        assert_eq!(d.label_selector, "app.kubernetes.io/name=argus-collector");
        assert_eq!(d.port, 9401);
        for (bad, field) in [
            (r#"{"label_selector":"a!=b"}"#, "label_selector"),
            (r#"{"port":0}"#, "port"),
            (r#"{"refresh_interval":"100ms"}"#, "refresh_interval"),
        ] {
            let mut c = AggregatorConfig::default();
            c.metrics.collector_discovery = serde_json::from_str(bad).expect("parse");
            let e = c.validate().expect_err(bad).to_string();
            assert!(e.contains(&format!("collector_discovery.{field}")), "{e}");
        }
    }
}

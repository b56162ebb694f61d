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
    /// Where the log store keeps its data (`<data_dir>/logs`).
    pub data_dir: PathBuf,
    /// How long logs are kept; whole partitions are dropped past it.
    #[serde(with = "duration_str")]
    pub retention: Duration,
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
            partition: Duration::from_secs(3600),
            commit_interval: Duration::from_secs(1),
            index_threads: 2,
            index_memory_mb: 64,
            max_body_mb: 64,
            token: String::new(),
        }
    }
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
        Ok(self)
    }
}

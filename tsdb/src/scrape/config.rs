//! Scrape jobs, in Prometheus' `scrape_configs` shape (the subset argus supports: static
//! targets; Kubernetes discovery comes with the watcher).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// One job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    pub job_name: String,
    #[serde(default = "default_interval", with = "dur")]
    pub scrape_interval: Duration,
    /// Zero when not given: then [`ScrapeConfig::timeout`] is Prometheus' default, 10 s or
    /// the interval if that is shorter.
    #[serde(default, with = "dur")]
    pub scrape_timeout: Duration,
    #[serde(default = "default_path")]
    pub metrics_path: String,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    #[serde(default)]
    pub honor_labels: bool,
    #[serde(default = "yes")]
    pub honor_timestamps: bool,
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    /// Applied to each scraped series (actions `keep` and `drop`).
    #[serde(default)]
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

/// What a relabel rule does (the subset supported on scraped series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelabelAction {
    Keep,
    Drop,
}

/// A `metric_relabel_configs` entry: the values of `source_labels` joined by `separator`
/// are matched against the fully anchored `regex`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    pub source_labels: Vec<String>,
    #[serde(default = "default_separator")]
    pub separator: String,
    #[serde(default = "default_regex")]
    pub regex: String,
    pub action: RelabelAction,
}

fn default_separator() -> String {
    ";".into()
}
fn default_regex() -> String {
    "(.*)".into()
}

/// A compiled relabel rule.
#[derive(Debug, Clone)]
pub struct Relabel {
    source: Vec<String>,
    separator: String,
    regex: regex::Regex,
    action: RelabelAction,
}

impl Relabel {
    pub fn compile(c: &RelabelConfig) -> Result<Relabel, String> {
        let regex = regex::Regex::new(&format!("^(?:{})$", c.regex))
            .map_err(|e| format!("metric_relabel_configs regex {:?}: {e}", c.regex))?;
        Ok(Relabel {
            source: c.source_labels.clone(),
            separator: c.separator.clone(),
            regex,
            action: c.action,
        })
    }

    /// Whether a series with these labels is kept.
    pub fn keeps(&self, labels: &argus_core::series::Labels) -> bool {
        let joined = self
            .source
            .iter()
            .map(|n| labels.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&self.separator);
        let m = self.regex.is_match(&joined);
        match self.action {
            RelabelAction::Keep => m,
            RelabelAction::Drop => !m,
        }
    }
}

/// `static_configs` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    pub targets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn default_interval() -> Duration {
    Duration::from_secs(15)
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_path() -> String {
    "/metrics".into()
}
fn default_scheme() -> String {
    "http".into()
}
fn yes() -> bool {
    true
}

mod dur {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        argus_core::duration::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

impl ScrapeConfig {
    /// The scrape timeout: as given, else 10 s or the interval if that is shorter (as
    /// Prometheus derives it from its global default).
    pub fn timeout(&self) -> Duration {
        if self.scrape_timeout.is_zero() {
            self.scrape_interval.min(default_timeout())
        } else {
            self.scrape_timeout
        }
    }

    /// A job scraping one URL (`--scrape-target http://host:port/path`).
    pub fn from_url(job: &str, url: &str, interval: Duration) -> Result<ScrapeConfig, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("scrape target {url:?}: want http://host:port[/path]"))?;
        if scheme != "http" {
            return Err(format!("scrape target {url:?}: only http:// is supported"));
        }
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/metrics"),
        };
        if host.is_empty() {
            return Err(format!("scrape target {url:?}: no host"));
        }
        Ok(ScrapeConfig {
            job_name: job.to_string(),
            scrape_interval: interval,
            scrape_timeout: interval.min(default_timeout()),
            metrics_path: path.to_string(),
            scheme: "http".into(),
            honor_labels: false,
            honor_timestamps: true,
            metric_relabel_configs: Vec::new(),
            static_configs: vec![StaticConfig {
                targets: vec![host.to_string()],
                labels: BTreeMap::new(),
            }],
        })
    }

    /// Checks the job; errors name the job and field.
    pub fn validate(&self) -> Result<(), String> {
        let job = &self.job_name;
        if job.is_empty() {
            return Err("scrape config without job_name".into());
        }
        if self.scrape_interval.is_zero() {
            return Err(format!("job {job:?}: scrape_interval must be positive"));
        }
        if self.timeout() > self.scrape_interval {
            return Err(format!(
                "job {job:?}: scrape_timeout greater than scrape_interval"
            ));
        }
        if self.scheme != "http" {
            return Err(format!(
                "job {job:?}: scheme {:?} is not supported (http)",
                self.scheme
            ));
        }
        if !self.metrics_path.starts_with('/') {
            return Err(format!("job {job:?}: metrics_path must start with /"));
        }
        for r in &self.metric_relabel_configs {
            Relabel::compile(r).map_err(|e| format!("job {job:?}: {e}"))?;
        }
        for sc in &self.static_configs {
            for t in &sc.targets {
                if t.is_empty() || t.contains('/') {
                    return Err(format!("job {job:?}: target {t:?} must be host:port"));
                }
            }
            for k in sc.labels.keys() {
                if !crate::textparse::valid_label_name(k) {
                    return Err(format!("job {job:?}: invalid label name {k:?}"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(yaml: &str) -> ScrapeConfig {
        serde_yaml::from_str(yaml).expect("valid job")
    }

    #[test]
    fn an_unset_timeout_is_prometheus_default_or_the_interval_if_shorter() {
        let fast = job("job_name: t\nscrape_interval: 1s\nstatic_configs: [{targets: ['a:1']}]\n");
        assert_eq!(fast.timeout(), Duration::from_secs(1));
        assert_eq!(fast.validate(), Ok(()));
        let slow = job("job_name: t\nscrape_interval: 1m\n");
        assert_eq!(slow.timeout(), Duration::from_secs(10));
        let default = job("job_name: t\n");
        assert_eq!(
            (default.scrape_interval, default.timeout()),
            (Duration::from_secs(15), Duration::from_secs(10))
        );
        let given = job("job_name: t\nscrape_interval: 1m\nscrape_timeout: 30s\n");
        assert_eq!(given.timeout(), Duration::from_secs(30));
        let bad = job("job_name: t\nscrape_interval: 1s\nscrape_timeout: 2s\n");
        assert_eq!(
            bad.validate(),
            Err("job \"t\": scrape_timeout greater than scrape_interval".to_string())
        );
    }
}

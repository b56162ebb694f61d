//! The watcher's configuration (`watcher:` section of the config file).

use serde::{Deserialize, Deserializer};
use std::path::PathBuf;
use std::time::Duration;

use crate::{Error, Result};

/// Configuration of the cluster watcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatcherConfig {
    /// kubeconfig file of the API server to watch; unset: the in-cluster config when
    /// running in a pod, else `$KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// Base URL of the aggregator (`/api/v1/events` is appended).
    pub aggregator: String,
    /// Data directory; the watcher keeps `<data_dir>/watcher/events-seen.json`.
    pub data_dir: PathBuf,
    /// Address of `/metrics/cluster`, `/metrics`, `/healthz` and `/readyz` (empty: no
    /// listener).
    pub listen: String,
    /// Bearer token sent to the aggregator (`auth.token` / `ARGUS_TOKEN` when empty).
    pub token: String,
    /// Kubernetes Event recording.
    pub events: EventsConfig,
    /// Serve the kube-state-metrics-compatible `kube_*` series on `/metrics/cluster`
    /// (reflectors of pods, nodes, workloads, services, volumes, HPAs).
    pub state: bool,
}

/// The `watcher.events` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Record Events (list and watch core/v1 Events in all namespaces).
    pub enabled: bool,
    /// Most Event states per ingest request.
    pub batch_max: usize,
    /// Most Events waiting for delivery (one state per Event); when full, the watch waits.
    pub max_pending: usize,
    /// How long a delivered Event is remembered after its last update, so that a relist
    /// or a restart does not deliver it again; must exceed the API server's `--event-ttl`
    /// (1h by default).
    #[serde(deserialize_with = "duration")]
    pub seen_retention: Duration,
    /// Most Events remembered; the least recent are forgotten first.
    pub seen_max: usize,
    /// On shutdown, how long queued states are still sent.
    #[serde(deserialize_with = "duration")]
    pub flush_timeout: Duration,
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    argus_core::duration::parse_duration(&s).map_err(serde::de::Error::custom)
}

/// Default address of the watcher's endpoints.
pub fn default_listen() -> String {
    "127.0.0.1:9402".to_string()
}

fn default_state() -> bool {
    true
}

fn default_aggregator() -> String {
    "http://127.0.0.1:9400".to_string()
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./argus-data")
}

impl Default for WatcherConfig {
    fn default() -> Self {
        WatcherConfig {
            kubeconfig: None,
            aggregator: default_aggregator(),
            data_dir: default_data_dir(),
            listen: default_listen(),
            token: String::new(),
            events: EventsConfig::default(),
            state: default_state(),
        }
    }
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            enabled: true,
            batch_max: 500,
            max_pending: 20_000,
            seen_retention: Duration::from_secs(2 * 3600),
            seen_max: 500_000,
            flush_timeout: Duration::from_secs(5),
        }
    }
}

impl WatcherConfig {
    /// Fills the token from `ARGUS_TOKEN` when empty and checks every field.
    pub fn validate(mut self) -> Result<Self> {
        let bad = |field: &str, message: String| Error::Config {
            field: format!("watcher.{field}"),
            message,
        };
        if self.token.is_empty() {
            self.token = std::env::var("ARGUS_TOKEN").unwrap_or_default();
        }
        if !self.aggregator.starts_with("http://") {
            let why = if self.aggregator.starts_with("https://") {
                "https is not supported yet; use http:// inside the cluster".to_string()
            } else {
                format!("{:?} is not an http:// URL", self.aggregator)
            };
            return Err(bad("aggregator", why));
        }
        if !self.listen.is_empty() && self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(bad(
                "listen",
                format!("{:?}: want host:port, e.g. 127.0.0.1:9402", self.listen),
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(bad("data_dir", "must not be empty".into()));
        }
        if let Some(k) = &self.kubeconfig {
            if k.as_os_str().is_empty() {
                return Err(bad("kubeconfig", "must not be empty when set".into()));
            }
        }
        let e = &self.events;
        if e.batch_max == 0 {
            return Err(bad("events.batch_max", "must be at least 1".into()));
        }
        if e.max_pending == 0 {
            return Err(bad("events.max_pending", "must be at least 1".into()));
        }
        if e.seen_max == 0 {
            return Err(bad("events.seen_max", "must be at least 1".into()));
        }
        if e.seen_retention < Duration::from_secs(3600) {
            return Err(bad(
                "events.seen_retention",
                "must be at least 1h (the API server keeps Events 1h by default)".into(),
            ));
        }
        Ok(self)
    }

    /// Where the record of delivered Events is kept.
    pub fn seen_path(&self) -> PathBuf {
        self.data_dir.join("watcher").join("events-seen.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = WatcherConfig::default().validate().expect("valid");
        assert_eq!(c.listen, "127.0.0.1:9402");
        assert_eq!(
            c.seen_path(),
            PathBuf::from("./argus-data/watcher/events-seen.json")
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        type Change = fn(&mut WatcherConfig);
        let cases: [(Change, &str); 5] = [
            (
                |c| c.aggregator = "127.0.0.1:9400".into(),
                "watcher.aggregator",
            ),
            (|c| c.listen = "nowhere".into(), "watcher.listen"),
            (|c| c.events.batch_max = 0, "watcher.events.batch_max"),
            (
                |c| c.events.seen_retention = Duration::from_secs(60),
                "watcher.events.seen_retention",
            ),
            (
                |c| c.kubeconfig = Some(PathBuf::new()),
                "watcher.kubeconfig",
            ),
        ];
        for (change, field) in cases {
            let mut c = WatcherConfig::default();
            change(&mut c);
            let e = c.validate().expect_err(field).to_string();
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn parses_yaml_like_data() {
        let c: WatcherConfig = serde_json::from_str(
            r#"{"kubeconfig":"/k","events":{"seen_retention":"3h","flush_timeout":"500ms"}}"#,
        )
        .expect("parse");
        assert_eq!(c.kubeconfig, Some(PathBuf::from("/k")));
        assert_eq!(c.events.seen_retention, Duration::from_secs(3 * 3600));
        assert_eq!(c.events.flush_timeout, Duration::from_millis(500));
        assert!(c.events.enabled);
        assert!(c.state);
        let c: WatcherConfig = serde_json::from_str(r#"{"state":false}"#).expect("parse");
        assert!(!c.state);
        assert!(serde_json::from_str::<WatcherConfig>(r#"{"colour":1}"#).is_err());
    }
}

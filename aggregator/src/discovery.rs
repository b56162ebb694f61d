//! Collector discovery: the embedded scraper finds the collector pods of the cluster
//! watched in-process and scrapes each as kube-prometheus scrapes cAdvisor and
//! node_exporter (`/metrics` as job `cadvisor`, `/metrics/node` as job `node-exporter`).
//!
//! The aggregator does not depend on the watcher: the binary hands it a [`PodSource`]
//! (see [`crate::api::InProcessMetrics::pods`]). Every `refresh_interval` the pods are
//! read, those Running with a pod IP and a node whose labels match `label_selector` are
//! kept, and both jobs' discovered targets are replaced ([`Manager::set_discovered`]):
//! target `<podIP>:<port>`, `instance` = the pod's node name (kubernetes-mixin joins
//! node-exporter series on `instance` = node).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use argus_core::series::Labels;
use argus_tsdb::scrape::{Manager, RelabelAction, RelabelConfig, ScrapeConfig};
use serde::Deserialize;

/// A pod as discovery sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    /// `spec.nodeName` (empty when not scheduled).
    pub node: String,
    /// `status.podIP` (empty when none yet).
    pub ip: String,
    /// `status.phase`.
    pub phase: String,
    pub labels: BTreeMap<String, String>,
}

/// The pods of the cluster watched in-process, read on each refresh.
pub type PodSource = Arc<dyn Fn() -> Vec<PodInfo> + Send + Sync>;

/// The `aggregator.metrics.collector_discovery` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorDiscoveryConfig {
    /// Discover and scrape collector pods when a cluster watcher runs in this process.
    pub enabled: bool,
    /// Equality-based label selector of the collector pods (`k=v[,k=v]`).
    pub label_selector: String,
    /// Port of the collector's metrics listener on the pod IP.
    pub port: u16,
    /// How often the pods are read again.
    #[serde(with = "crate::config::duration_str")]
    pub refresh_interval: Duration,
}

impl Default for CollectorDiscoveryConfig {
    fn default() -> Self {
        CollectorDiscoveryConfig {
            enabled: true,
            label_selector: default_label_selector(),
            port: 9401,
            refresh_interval: Duration::from_secs(15),
        }
    }
}

/// The label the collector's manifests put on its pods.
pub fn default_label_selector() -> String {
    "app.kubernetes.io/name=argus-collector".into()
}

/// Parses an equality-based selector: `k=v` (or `k==v`) pairs separated by commas.
pub fn parse_selector(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once("==")
            .or_else(|| part.split_once('='))
            .ok_or_else(|| format!("{part:?}: want key=value"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || k.ends_with('!') {
            return Err(format!("{part:?}: only key=value is supported"));
        }
        out.push((k.to_string(), v.to_string()));
    }
    if out.is_empty() {
        return Err("empty selector".into());
    }
    Ok(out)
}

/// The collectors' targets: Running pods matching `selector`, with an IP and a node.
pub fn targets(
    pods: &[PodInfo],
    selector: &[(String, String)],
    port: u16,
) -> Vec<(String, Labels)> {
    let mut out: Vec<(String, Labels)> = pods
        .iter()
        .filter(|p| p.phase == "Running" && !p.ip.is_empty() && !p.node.is_empty())
        .filter(|p| {
            selector
                .iter()
                .all(|(k, v)| p.labels.get(k).is_some_and(|x| x == v))
        })
        .map(|p| {
            let host = match p.ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V6(_)) => format!("[{}]:{port}", p.ip),
                _ => format!("{}:{port}", p.ip),
            };
            (host, Labels::new([("instance", p.node.as_str())]))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The two jobs' templates (no static targets), as all-in-one scrapes its own collector:
/// `cadvisor` honors the series' labels and drops the `node_*` series it also serves.
pub fn jobs(interval: Duration) -> [ScrapeConfig; 2] {
    let job = |name: &str, path: &str, honor: bool| ScrapeConfig {
        job_name: name.into(),
        scrape_interval: interval,
        scrape_timeout: interval.min(Duration::from_secs(10)),
        metrics_path: path.into(),
        scheme: "http".into(),
        honor_labels: honor,
        honor_timestamps: true,
        static_configs: Vec::new(),
        metric_relabel_configs: Vec::new(),
    };
    let mut cadvisor = job("cadvisor", "/metrics", true);
    cadvisor.metric_relabel_configs = vec![RelabelConfig {
        source_labels: vec!["__name__".into()],
        separator: ";".into(),
        regex: "node_.*".into(),
        action: RelabelAction::Drop,
    }];
    [cadvisor, job("node-exporter", "/metrics/node", false)]
}

/// Refreshes the discovered collector targets every `refresh_interval`, forever.
pub async fn run(
    cfg: CollectorDiscoveryConfig,
    scrape_interval: Duration,
    pods: PodSource,
    scrape: Arc<Manager>,
) {
    let selector = match parse_selector(&cfg.label_selector) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "collector discovery: bad label_selector");
            return;
        }
    };
    let jobs = jobs(scrape_interval);
    let mut tick = tokio::time::interval(cfg.refresh_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let found = targets(&pods(), &selector, cfg.port);
        for job in &jobs {
            if let Err(e) = scrape.set_discovered(job, found.clone()) {
                tracing::error!(error = %e, job = %job.job_name, "collector discovery");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let ok = [
            ("a=b", vec![("a", "b")]),
            ("a==b, c=d", vec![("a", "b"), ("c", "d")]),
            (
                "app.kubernetes.io/name=argus-collector",
                vec![("app.kubernetes.io/name", "argus-collector")],
            ),
        ];
        for (s, want) in ok {
            let got = parse_selector(s).expect(s);
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "{s}");
        }
        for bad in ["", "a", "a!=b", "=b", "a in (b)"] {
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_running_matching_pods_with_an_ip() {
        let pod = |name: &str, phase: &str, ip: &str, app: &str| PodInfo {
            namespace: "argus".into(),
            name: name.into(),
            node: format!("node-{name}"),
            ip: ip.into(),
            phase: phase.into(),
            labels: [("app.kubernetes.io/name".to_string(), app.to_string())].into(),
        };
        let pods = [
            pod("a", "Running", "10.0.0.2", "argus-collector"),
            pod("b", "Pending", "10.0.0.3", "argus-collector"),
            pod("c", "Running", "", "argus-collector"),
            pod("d", "Running", "10.0.0.4", "other"),
            pod("e", "Running", "fd00::5", "argus-collector"),
        ];
        let sel = parse_selector(&default_label_selector()).expect("selector");
        let got = targets(&pods, &sel, 9401);
        assert_eq!(
            got,
            vec![
                (
                    "10.0.0.2:9401".to_string(),
                    Labels::new([("instance", "node-a")])
                ),
                (
                    "[fd00::5]:9401".to_string(),
                    Labels::new([("instance", "node-e")])
                ),
            ]
        );
    }
}

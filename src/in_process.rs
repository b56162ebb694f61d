//! The cluster watcher inside the aggregator's process (`all-in-one`, `aggregator`): when
//! it runs, how it reaches the aggregator, and what the aggregator serves of it.
//!
//! It runs when a cluster is found ([`find_cluster`]). It has no listener of its own: the
//! aggregator's port serves its cluster series on `/metrics/cluster` (scraped by the
//! embedded scraper as job `kube-state-metrics`, [`cluster_job`]) and appends its health
//! series to `/metrics`; it posts Events to the aggregator's `/api/v1/events` over
//! loopback, and keeps its record under `<data-dir>/watcher`. Its Pods feed the embedded
//! scraper's collector discovery (`aggregator.metrics.collector_discovery`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use argus_aggregator::api::InProcessMetrics;
use argus_tsdb::scrape::{ScrapeConfig, StaticConfig};
use argus_watcher::{Watcher, WatcherConfig};

/// Where the cluster to watch was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `watcher.kubeconfig` in the config file.
    Config(PathBuf),
    /// Running in a pod (`KUBERNETES_SERVICE_HOST` is set).
    InCluster,
    /// A file listed in `$KUBECONFIG`.
    Env(PathBuf),
    /// `~/.kube/config`.
    Home(PathBuf),
    /// The demo's simulated cluster.
    Demo(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Config(p) => write!(f, "watcher.kubeconfig {}", p.display()),
            Source::InCluster => f.write_str("in-cluster config"),
            Source::Env(p) => write!(f, "$KUBECONFIG {}", p.display()),
            Source::Home(p) => write!(f, "{}", p.display()),
            Source::Demo(p) => write!(f, "the demo's simulated cluster ({})", p.display()),
        }
    }
}

/// The environment [`find_cluster`] looks at (a parameter, for the tests).
pub struct Env {
    pub kubeconfig: Option<String>,
    pub service_host: Option<String>,
    pub home: Option<PathBuf>,
}

impl Env {
    /// The process' environment.
    pub fn current() -> Env {
        Env {
            kubeconfig: std::env::var("KUBECONFIG").ok(),
            service_host: std::env::var("KUBERNETES_SERVICE_HOST").ok(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }
}

/// Finds a cluster the way the watcher connects to one: `watcher.kubeconfig` (an error
/// when that file is missing), else the in-cluster config, else the first existing file
/// of `$KUBECONFIG` (when it is set, `~/.kube/config` is not looked at, as kubectl does),
/// else `~/.kube/config`. None: no cluster, the watcher does not run.
pub fn find_cluster(cfg: &WatcherConfig, env: &Env) -> Result<Option<Source>> {
    if let Some(p) = &cfg.kubeconfig {
        if !p.is_file() {
            bail!("watcher.kubeconfig {}: no such file", p.display());
        }
        return Ok(Some(Source::Config(p.clone())));
    }
    if env.service_host.as_deref().is_some_and(|h| !h.is_empty()) {
        return Ok(Some(Source::InCluster));
    }
    if let Some(list) = env.kubeconfig.as_deref().filter(|k| !k.is_empty()) {
        return Ok(std::env::split_paths(list)
            .find(|p| p.is_file())
            .map(Source::Env));
    }
    Ok(env
        .home
        .as_ref()
        .map(|h| h.join(".kube").join("config"))
        .filter(|p| p.is_file())
        .map(Source::Home))
}

/// The address to reach a listener bound to `addr` from this process: loopback when
/// it is bound to all interfaces.
pub fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// The scrape job of the in-process watcher's cluster series, as kube-prometheus scrapes
/// kube-state-metrics: `/metrics/cluster` on the aggregator's own address, honoring the
/// series' labels (`namespace`, `pod`, … are the objects', not the target's).
pub fn cluster_job(addr: SocketAddr, interval: Duration) -> ScrapeConfig {
    ScrapeConfig {
        job_name: "kube-state-metrics".into(),
        scrape_interval: interval,
        scrape_timeout: interval.min(Duration::from_secs(10)),
        metrics_path: "/metrics/cluster".into(),
        scheme: "http".into(),
        honor_labels: true,
        honor_timestamps: true,
        static_configs: vec![StaticConfig {
            targets: vec![addr.to_string()],
            labels: Default::default(),
        }],
        metric_relabel_configs: Vec::new(),
    }
}

/// The in-process watcher of `source`: no listener, Events to the aggregator at
/// `aggregator`, its record under `<data_dir>/watcher`; and the series the aggregator
/// serves for it.
pub fn watcher(
    mut cfg: WatcherConfig,
    source: &Source,
    data_dir: &Path,
    aggregator: SocketAddr,
) -> Result<(Watcher, InProcessMetrics)> {
    cfg.listen = String::new();
    cfg.aggregator = format!("http://{aggregator}");
    cfg.data_dir = data_dir.to_path_buf();
    cfg.kubeconfig = match source {
        Source::Config(p) | Source::Demo(p) => Some(p.clone()),
        // The watcher's own order: in-cluster, then $KUBECONFIG, then ~/.kube/config.
        Source::InCluster | Source::Env(_) | Source::Home(_) => None,
    };
    let watcher = Watcher::new(cfg)?;
    let m = watcher.metrics();
    let health = m.clone();
    let state = watcher.cluster_state();
    // What collector discovery needs of each Pod.
    let pods = state
        .clone()
        .map(|s| -> argus_aggregator::discovery::PodSource {
            Arc::new(move || {
                s.pods()
                    .iter()
                    .map(|p| {
                        let status = p.status.as_ref();
                        argus_aggregator::discovery::PodInfo {
                            namespace: p.metadata.namespace.clone().unwrap_or_default(),
                            name: p.metadata.name.clone().unwrap_or_default(),
                            node: (p.spec.as_ref())
                                .and_then(|s| s.node_name.clone())
                                .unwrap_or_default(),
                            ip: status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
                            phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
                            labels: p.metadata.labels.clone().unwrap_or_default(),
                        }
                    })
                    .collect()
            })
        });
    // As the watcher's own `/metrics/cluster`: the `kube_*` series, then the Event
    // counters.
    let cluster = move |out: &mut String| {
        if let Some(s) = &state {
            s.write_metrics(out);
        }
        m.write_cluster_metrics(out);
    };
    let metrics = InProcessMetrics {
        cluster: Some(Arc::new(cluster)),
        health: vec![Arc::new(move |out: &mut String| {
            health.write_health_metrics(out)
        })],
        pods,
    };
    Ok((watcher, metrics))
}

/// Runs the in-process watcher until `shutdown`; when it fails (an unreachable or
/// refusing API server), the error is logged and the rest of the process keeps serving.
pub async fn run(watcher: Watcher, shutdown: impl std::future::Future<Output = ()>) {
    if let Err(e) = watcher.serve(None, shutdown).await {
        tracing::error!(error = %e, "the in-process cluster watcher stopped; logs, metrics and alerts go on without it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cluster_in_the_watchers_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".kube")).expect("mkdir");
        let env = |kubeconfig: Option<&str>, host: Option<&str>| Env {
            kubeconfig: kubeconfig.map(str::to_string),
            service_host: host.map(str::to_string),
            home: Some(home.clone()),
        };
        let cfg = WatcherConfig::default();
        assert_eq!(find_cluster(&cfg, &env(None, None)).expect("ok"), None);
        let home_cfg = home.join(".kube/config");
        std::fs::write(&home_cfg, "apiVersion: v1\n").expect("write");
        assert_eq!(
            find_cluster(&cfg, &env(None, None)).expect("ok"),
            Some(Source::Home(home_cfg.clone()))
        );
        assert_eq!(
            find_cluster(&cfg, &env(Some(""), None)).expect("ok"),
            Some(Source::Home(home_cfg.clone()))
        );
        // $KUBECONFIG set: only its files count.
        assert_eq!(
            find_cluster(&cfg, &env(Some("/nonexistent/k"), None)).expect("ok"),
            None
        );
        let listed = format!("/nonexistent/k:{}", home_cfg.display());
        assert_eq!(
            find_cluster(&cfg, &env(Some(&listed), None)).expect("ok"),
            Some(Source::Env(home_cfg.clone()))
        );
        assert_eq!(
            find_cluster(&cfg, &env(None, Some("10.96.0.1"))).expect("ok"),
            Some(Source::InCluster)
        );
        let mut explicit = WatcherConfig {
            kubeconfig: Some(home_cfg.clone()),
            ..Default::default()
        };
        assert_eq!(
            find_cluster(&explicit, &env(None, Some("10.96.0.1"))).expect("ok"),
            Some(Source::Config(home_cfg))
        );
        explicit.kubeconfig = Some(dir.path().join("missing"));
        let e = find_cluster(&explicit, &env(None, None)).expect_err("missing");
        assert!(e.to_string().contains("watcher.kubeconfig"), "{e}");
    }

    #[test]
    fn loopback_for_unspecified_addresses() {
        let a: SocketAddr = "0.0.0.0:9400".parse().expect("addr");
        assert_eq!(loopback(a).to_string(), "127.0.0.1:9400");
        let b: SocketAddr = "[::]:9400".parse().expect("addr");
        assert_eq!(loopback(b).to_string(), "[::1]:9400");
        let c: SocketAddr = "10.0.0.5:9400".parse().expect("addr");
        assert_eq!(loopback(c), c);
    }
}

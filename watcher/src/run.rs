//! The running watcher: the Kubernetes client, the events pipeline, the cluster-state
//! reflectors and the endpoints.

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::WatcherConfig;
use crate::events::send::Ingest;
use crate::events::Events;
use crate::metrics::WatcherMetrics;
use crate::state::{ClusterState, Reflectors};
use crate::{http, io_err, Error, Result};

/// The cluster watcher, built from a [`WatcherConfig`].
pub struct Watcher {
    cfg: WatcherConfig,
    metrics: Arc<WatcherMetrics>,
    events: Option<Events>,
    synced: Arc<AtomicBool>,
    state: Option<(ClusterState, Reflectors)>,
}

impl Watcher {
    /// Validates the config and loads the record of delivered Events
    /// (`<data_dir>/watcher/events-seen.json`).
    pub fn new(cfg: WatcherConfig) -> Result<Watcher> {
        let cfg = cfg.validate()?;
        let metrics = Arc::new(WatcherMetrics::default());
        let (events, synced) = if cfg.events.enabled {
            let events = Events::open(cfg.events.clone(), cfg.seen_path(), metrics.clone())?;
            let synced = events.synced();
            (Some(events), synced)
        } else {
            (None, Arc::new(AtomicBool::new(true)))
        };
        let state = cfg.state.then(ClusterState::new);
        Ok(Watcher {
            cfg,
            metrics,
            events,
            synced,
            state,
        })
    }

    /// The validated config.
    pub fn config(&self) -> &WatcherConfig {
        &self.cfg
    }

    /// The watcher's series, for a process that serves them itself (all-in-one).
    pub fn metrics(&self) -> Arc<WatcherMetrics> {
        self.metrics.clone()
    }

    /// The `kube_*` series' handle (`None` when `state` is off), for a process that
    /// serves them itself: [`ClusterState::write_metrics`]. It fills once the watcher
    /// runs.
    pub fn cluster_state(&self) -> Option<ClusterState> {
        self.state.as_ref().map(|(s, _)| s.clone())
    }

    /// Binds `listen` (`None` when it is empty).
    pub async fn bind(&self) -> Result<Option<TcpListener>> {
        if self.cfg.listen.is_empty() {
            return Ok(None);
        }
        let l = TcpListener::bind(&self.cfg.listen)
            .await
            .map_err(io_err(format!("watcher.listen {}", self.cfg.listen)))?;
        Ok(Some(l))
    }

    /// Binds `listen` and runs until `shutdown` resolves; see [`Watcher::serve`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let listener = self.bind().await?;
        self.serve(listener, shutdown).await
    }

    /// Serves the endpoints on `listener` and runs the events pipeline and the
    /// cluster-state reflectors until `shutdown` resolves; then sends what is queued
    /// for up to `events.flush_timeout`, saves the record and returns.
    pub async fn serve(
        self,
        listener: Option<TcpListener>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        let Watcher {
            cfg,
            metrics,
            events,
            synced,
            state,
        } = self;
        // The client first: a bad kubeconfig is an error before anything listens.
        let client = if events.is_some() || state.is_some() {
            Some(kube_client(&cfg).await?)
        } else {
            None
        };
        let (stop_tx, stop) = watch::channel(false);
        let (cluster, reflectors) = match state {
            Some((s, r)) => (Some(s), Some(r)),
            None => (None, None),
        };
        let server = listener.map(|listener| {
            let app = http::router(metrics.clone(), cluster.clone(), synced.clone());
            let mut stop = stop.clone();
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "watcher listening");
            }
            tokio::spawn(async move {
                let graceful = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(graceful)
                    .await
                {
                    tracing::error!(error = %e, "watcher http server failed");
                }
            })
        });
        let reflecting = match (reflectors, &client) {
            (Some(r), Some(client)) => {
                tracing::info!("reflecting cluster state for the kube_* series");
                Some(tokio::spawn(r.run(
                    client.clone(),
                    metrics.clone(),
                    stop.clone(),
                )))
            }
            _ => None,
        };
        let mut pipeline = match (events, client) {
            (Some(events), Some(client)) => {
                let ingest = Ingest::new(&cfg.aggregator, &cfg.token);
                tracing::info!(aggregator = %ingest.url(), "recording Kubernetes events");
                Some(tokio::spawn(events.run(client, ingest, stop.clone())))
            }
            _ => None,
        };
        let pipeline_ended = async {
            match pipeline.as_mut() {
                Some(p) => p.await,
                None => std::future::pending().await,
            }
        };
        // The pipeline only ends by itself on an error; then the watcher stops too.
        let early = tokio::select! {
            _ = shutdown => None,
            r = pipeline_ended => Some(r),
        };
        let _ = stop_tx.send(true);
        let result = match early {
            Some(r) => r,
            None => match pipeline {
                Some(p) => p.await,
                None => Ok(Ok(())),
            },
        };
        if let Some(r) = reflecting {
            let _ = r.await;
        }
        if let Some(s) = server {
            let _ = s.await;
        }
        result.map_err(|e| Error::Task {
            what: "events pipeline",
            message: e.to_string(),
        })?
    }
}

/// A client from the configured kubeconfig; else in-cluster; else inferred
/// (`$KUBECONFIG`, `~/.kube/config`).
async fn kube_client(cfg: &WatcherConfig) -> Result<kube::Client> {
    let config = match &cfg.kubeconfig {
        Some(path) => {
            let shown = path.display().to_string();
            let kc = Kubeconfig::read_from(path).map_err(|source| Error::Kubeconfig {
                path: shown.clone(),
                source,
            })?;
            kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|source| Error::Kubeconfig {
                    path: shown,
                    source,
                })?
        }
        None => match kube::Config::incluster() {
            Ok(c) => c,
            Err(_) => kube::Config::infer()
                .await
                .map_err(|e| Error::NoApiServer {
                    message: e.to_string(),
                })?,
        },
    };
    tracing::info!(api_server = %config.cluster_url, "watching the Kubernetes API server");
    kube::Client::try_from(config).map_err(|source| Error::Client { source })
}

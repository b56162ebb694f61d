//! The running aggregator: opens the log, event and metrics stores, serves the API, and
//! runs retention and dedup snapshots in the background.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{self, AppState};
use crate::config::{AggregatorConfig, ConfigError};
use crate::events::{EventStore, EventStoreConfig};
use crate::store::{StoreConfig, StoreError, TantivyStore};
use argus_tsdb::scrape::Manager;
use argus_tsdb::Db;

/// Why the aggregator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("log store: {0}")]
    Store(#[from] StoreError),
    #[error("event store: {0}")]
    Events(StoreError),
    #[error("metrics store: {0}")]
    Metrics(#[from] argus_tsdb::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("rules: {0}")]
    Rules(String),
    #[error("{0}")]
    Notifier(String),
    #[error("http server: {0}")]
    Serve(std::io::Error),
}

/// The aggregator built from its config.
pub struct Aggregator {
    cfg: AggregatorConfig,
    store: Arc<TantivyStore>,
    events: Arc<EventStore>,
    metrics: Arc<Db>,
    scrape: Arc<Manager>,
    engine: Arc<argus_promql::Engine>,
    rules: Option<crate::rules::Rules>,
    notifier: Option<Arc<crate::notifier::Notifier>>,
    in_process: api::InProcessMetrics,
}

impl Aggregator {
    /// Validates the config and opens (recovering) the store.
    pub fn open(cfg: AggregatorConfig) -> Result<Aggregator, Error> {
        let cfg = cfg.validate()?;
        let store = TantivyStore::open(StoreConfig {
            dir: cfg.data_dir.join("logs"),
            partition: cfg.partition,
            retention: cfg.retention,
            commit_interval: cfg.commit_interval,
            writer_threads: cfg.index_threads,
            writer_memory_bytes: cfg.index_memory_mb * 1024 * 1024,
        })?;
        let events = EventStore::open(EventStoreConfig {
            dir: cfg.data_dir.join("events"),
            retention: cfg.events_retention,
            commit_interval: cfg.commit_interval,
        })
        .map_err(Error::Events)?;
        let metrics = Db::open(
            &cfg.data_dir.join("metrics"),
            argus_tsdb::Options {
                retention: cfg.metrics.retention,
            },
        )?;
        let jobs = cfg.metrics.jobs().map_err(|message| ConfigError {
            field: "aggregator.metrics.scrape_configs",
            message,
        })?;
        let scrape = Manager::new(&jobs).map_err(|message| ConfigError {
            field: "aggregator.metrics.scrape_configs",
            message,
        })?;
        Ok(Aggregator {
            cfg,
            store: Arc::new(store),
            events: Arc::new(events),
            metrics: Arc::new(metrics),
            scrape: Arc::new(scrape),
            engine: Arc::new(argus_promql::Engine::new(
                argus_promql::EngineOptions::default(),
            )),
            rules: None,
            notifier: None,
            in_process: api::InProcessMetrics::default(),
        })
    }

    /// Loads the rule files of `alerting` (none: no rule engine); errors name the file
    /// and line.
    pub fn with_rules(mut self, alerting: crate::AlertingConfig) -> Result<Aggregator, Error> {
        self.notifier = Some(Arc::new(
            crate::notifier::Notifier::new(&alerting, &self.cfg.data_dir)
                .map_err(Error::Notifier)?,
        ));
        if alerting.rule_files.is_empty() {
            return Ok(self);
        }
        let rules = crate::rules::Rules::new(alerting, self.metrics.clone(), self.engine.clone())
            .map_err(Error::Rules)?;
        self.rules = Some(rules);
        Ok(self)
    }

    /// Serves the series of components running in this process: `/metrics/cluster` and
    /// additions to `/metrics` (the binary's in-process watcher).
    pub fn with_in_process_metrics(mut self, metrics: api::InProcessMetrics) -> Aggregator {
        self.in_process = metrics;
        self
    }

    /// The metrics store.
    pub fn metrics(&self) -> Arc<Db> {
        self.metrics.clone()
    }

    /// The log store.
    pub fn store(&self) -> Arc<TantivyStore> {
        self.store.clone()
    }

    /// The event store.
    pub fn events(&self) -> Arc<EventStore> {
        self.events.clone()
    }

    /// The validated config.
    pub fn config(&self) -> &AggregatorConfig {
        &self.cfg
    }

    /// Binds the listen address (so callers learn a port-0 address before serving).
    pub async fn bind(&self) -> Result<tokio::net::TcpListener, Error> {
        tokio::net::TcpListener::bind(&self.cfg.listen)
            .await
            .map_err(|source| Error::Listen {
                addr: self.cfg.listen.clone(),
                source,
            })
    }

    /// Serves until `shutdown` completes, then commits the index.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let notifier = match self.notifier.clone() {
            Some(n) => n,
            None => Arc::new(
                crate::notifier::Notifier::new(
                    &crate::AlertingConfig::default(),
                    &self.cfg.data_dir,
                )
                .map_err(Error::Notifier)?,
            ),
        };
        let state = AppState {
            store: self.store.clone(),
            events: self.events.clone(),
            token: (!self.cfg.token.is_empty()).then(|| Arc::from(self.cfg.token.as_str())),
            metrics: self.metrics.clone(),
            scrape: self.scrape.clone(),
            engine: self.engine.clone(),
            rules: None,
            notifier: notifier.clone(),
            in_process: self.in_process.clone(),
        };
        let mut state = state;
        let notifier_tasks = notifier.spawn().map_err(Error::Notifier)?;
        let rules_loop = match self.rules {
            None => None,
            Some(r) => {
                let r = Arc::new(r.with_remote(tokio::runtime::Handle::current()));
                state.rules = Some(r.clone());
                let notifier = notifier.clone();
                Some(tokio::spawn(async move {
                    loop {
                        // Wake at the next group's slot (as Prometheus does), so alerts
                        // are evaluated and sent when due; at least every second.
                        let now = argus_core::time::now_ns() / 1_000_000;
                        let due = r.next_eval_ms().unwrap_or(now + 1000);
                        let wait = (due - now).clamp(1, 1000) as u64;
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        let r2 = r.clone();
                        let _ = tokio::task::spawn_blocking(move || r2.tick()).await;
                        let alerts = r.take_alerts();
                        if !alerts.is_empty() {
                            notifier.receive_rule_alerts(
                                alerts,
                                argus_core::time::now_ns() / 1_000_000,
                            );
                        }
                    }
                }))
            }
        };
        let scrapers = self.scrape.start(self.metrics.clone());
        let discovery = match (&self.in_process.pods, &self.cfg.metrics.collector_discovery) {
            (Some(pods), d) if d.enabled => Some(tokio::spawn(crate::discovery::run(
                d.clone(),
                self.cfg.metrics.scrape_interval,
                pods.clone(),
                self.scrape.clone(),
            ))),
            _ => None,
        };
        let metrics_housekeeping = {
            let db = self.metrics.clone();
            let every = self.cfg.metrics.snapshot_interval;
            tokio::spawn(async move {
                let mut retention = tokio::time::interval(Duration::from_secs(60));
                let mut snapshot = tokio::time::interval(every);
                snapshot.tick().await;
                loop {
                    let db = db.clone();
                    tokio::select! {
                        _ = retention.tick() => {
                            let _ = tokio::task::spawn_blocking(move || {
                                db.apply_retention(argus_core::time::now_ns() / 1_000_000)
                            }).await;
                        }
                        _ = snapshot.tick() => {
                            let _ = tokio::task::spawn_blocking(move || {
                                let _busy = crate::memory::busy();
                                if let Err(e) = db.snapshot() {
                                    tracing::error!(error = %e, "cannot write the metrics snapshot");
                                }
                            }).await;
                        }
                    }
                }
            })
        };
        let trimmer = tokio::spawn(crate::memory::run(Duration::from_secs(1)));
        let app = api::router(state, self.cfg.max_body_mb * 1024 * 1024);
        let store = self.store.clone();
        let housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let s = store.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = s.snapshot() {
                        tracing::error!(error = %e, "cannot write the dedup snapshot");
                    }
                    s.apply_retention();
                })
                .await;
            }
        });
        let events = self.events.clone();
        let events_housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let e = events.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(err) = e.apply_retention() {
                        tracing::error!(error = %err, "event retention failed");
                    }
                })
                .await;
            }
        });
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "aggregator listening");
        }
        let res = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve);
        housekeeping.abort();
        trimmer.abort();
        events_housekeeping.abort();
        metrics_housekeeping.abort();
        if let Some(r) = rules_loop {
            r.abort();
        }
        if let Some(d) = discovery {
            d.abort();
        }
        for s in scrapers {
            s.abort();
        }
        self.scrape.abort_discovered();
        for t in notifier_tasks {
            t.abort();
        }
        let db = self.metrics.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = db.snapshot() {
                tracing::error!(error = %e, "cannot write the metrics snapshot");
            }
        })
        .await;
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _ = store.snapshot();
            store.close();
        })
        .await;
        let events = self.events.clone();
        let _ = tokio::task::spawn_blocking(move || events.close()).await;
        res
    }
}

//! The running aggregator: opens the log store, serves the API, and runs retention and
//! dedup snapshots in the background.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{self, AppState};
use crate::config::{AggregatorConfig, ConfigError};
use crate::store::{StoreConfig, StoreError, TantivyStore};

/// Why the aggregator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("log store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("http server: {0}")]
    Serve(std::io::Error),
}

/// The aggregator built from its config.
pub struct Aggregator {
    cfg: AggregatorConfig,
    store: Arc<TantivyStore>,
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
        Ok(Aggregator {
            cfg,
            store: Arc::new(store),
        })
    }

    /// The log store.
    pub fn store(&self) -> Arc<TantivyStore> {
        self.store.clone()
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
        let state = AppState {
            store: self.store.clone(),
            token: (!self.cfg.token.is_empty()).then(|| Arc::from(self.cfg.token.as_str())),
        };
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
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "aggregator listening");
        }
        let res = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve);
        housekeeping.abort();
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _ = store.snapshot();
            store.close();
        })
        .await;
        res
    }
}

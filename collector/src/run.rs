//! The running collector: a tailer thread (blocking file IO, batching and encoding), an
//! async shipper that posts batches in order and advances checkpoints after each ack, and a
//! flusher that persists checkpoints. A bounded channel between tailer and shipper is the
//! backpressure: while the aggregator is unreachable the tailer stops reading.

use bytes::Bytes;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::http;
use crate::logs::checkpoint::CheckpointStore;
use crate::logs::{discover, Batch, Tailer, TailerConfig};
use crate::metrics::cgroup::CgroupCollector;
use crate::metrics::logs::LogMetrics;
use crate::metrics::node::NodeCollector;
use crate::metrics::CollectorMetrics;
use crate::pods::{self, PodLabels};
use crate::ship::client::{self, Backoff};
use crate::ship::otlp;
use crate::{CollectorConfig, Result};

/// Batches waiting for the shipper; with the one in flight and the one being filled this
/// bounds memory at about `(QUEUE + 2) * batch_max_bytes`.
const QUEUE: usize = 2;

/// Longest the tailer waits at start for the first list of the node's pods.
const POD_SYNC_WAIT: Duration = Duration::from_secs(3);

struct Outgoing {
    body: Bytes,
    checkpoints: Vec<(u64, u64, Option<u64>)>,
}

/// The node collector built from its config.
pub struct Collector {
    cfg: CollectorConfig,
    store: Arc<CheckpointStore>,
    metrics: Arc<CollectorMetrics>,
}

impl Collector {
    /// Validates the config and opens the checkpoints.
    pub fn new(cfg: CollectorConfig) -> Result<Collector> {
        let cfg = cfg.validate()?;
        let store = Arc::new(CheckpointStore::open(&cfg.checkpoint_dir)?);
        Ok(Collector {
            cfg,
            store,
            metrics: Arc::new(CollectorMetrics::default()),
        })
    }

    /// The collector's health counters.
    pub fn metrics(&self) -> Arc<CollectorMetrics> {
        self.metrics.clone()
    }

    /// The validated config.
    pub fn config(&self) -> &CollectorConfig {
        &self.cfg
    }

    /// Runs until `shutdown` completes; checkpoints are persisted on the way out.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let Collector {
            cfg,
            store,
            metrics,
        } = self;
        let log_metrics = Arc::new(LogMetrics::new(cfg.log_patterns()?));
        let server = if cfg.listen.is_empty() {
            None
        } else {
            let listener = tokio::net::TcpListener::bind(&cfg.listen)
                .await
                .map_err(crate::io_err(format!("collector.listen {}", cfg.listen)))?;
            let paths = cfg.host_paths();
            let sources = Arc::new(http::Sources {
                cgroups: CgroupCollector::new(paths.clone(), &cfg.log_root),
                node: NodeCollector::new(paths),
                logs: log_metrics.clone(),
                health: metrics.clone(),
                single_endpoint: cfg.metrics.single_endpoint.unwrap_or(false),
            });
            let app = http::router(sources);
            tracing::info!(addr = %cfg.listen, "collector metrics listening");
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "collector http server failed");
                }
            }))
        };
        let (pod_labels, pod_watch) = start_pod_watch(&cfg, metrics.clone()).await.unzip();
        let (tx, mut rx) = mpsc::channel::<Outgoing>(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let tail_thread = {
            let tailer = Tailer::new(
                TailerConfig {
                    globs: cfg.log_globs.clone(),
                    log_root: cfg.log_root.clone(),
                    max_line: cfg.max_line_bytes,
                    read_from: cfg.read_from,
                    partial_timeout: cfg.partial_timeout,
                },
                store.clone(),
            );
            let ctx = TailContext {
                cfg: cfg.clone(),
                stop: stop.clone(),
                metrics: metrics.clone(),
                store: store.clone(),
                log_metrics,
                pods: pod_labels,
            };
            std::thread::Builder::new()
                .name("argus-tailer".into())
                .spawn(move || tail_loop(tailer, tx, ctx))
                .map_err(crate::io_err("tailer thread"))?
        };
        tracing::info!(
            globs = ?cfg.log_globs,
            aggregator = %cfg.aggregator,
            node = %cfg.node_name,
            "collector started"
        );
        let shipper = client::shipper(&cfg.aggregator, &cfg.token);
        let ship = {
            let (store, metrics, stop) = (store.clone(), metrics.clone(), stop.clone());
            async move {
                while let Some(out) = rx.recv().await {
                    let mut backoff = Backoff::default();
                    let mut failures = 0u32;
                    loop {
                        match shipper.send(out.body.clone()).await {
                            Ok(()) => {
                                for (fp, off, tail) in &out.checkpoints {
                                    store.advance(*fp, *off, *tail);
                                }
                                metrics.batches_sent.fetch_add(1, Relaxed);
                                if failures > 0 {
                                    tracing::info!(
                                        url = shipper.url(),
                                        "aggregator reachable again"
                                    );
                                }
                                break;
                            }
                            Err(e) if client::retryable(&e) => {
                                metrics.batches_failed.fetch_add(1, Relaxed);
                                if failures == 0 || failures.is_multiple_of(20) {
                                    tracing::warn!(error = %e, "batch not acknowledged; retrying (reading paused)");
                                }
                                failures += 1;
                                if stop.load(Relaxed) {
                                    return;
                                }
                                tokio::time::sleep(backoff.next_delay()).await;
                            }
                            Err(e) => {
                                metrics.batches_rejected.fetch_add(1, Relaxed);
                                tracing::error!(error = %e, "batch rejected by the aggregator; dropped");
                                for (fp, off, tail) in &out.checkpoints {
                                    store.advance(*fp, *off, *tail);
                                }
                                break;
                            }
                        }
                        backoff.reset();
                    }
                }
            }
        };
        let flush = {
            let store = store.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let s = store.clone();
                    match tokio::task::spawn_blocking(move || s.persist()).await {
                        Ok(Err(e)) => tracing::error!(error = %e, "cannot write checkpoints"),
                        Err(e) => tracing::error!(error = %e, "checkpoint task failed"),
                        Ok(Ok(())) => {}
                    }
                }
            }
        };
        tokio::select! {
            _ = shutdown => {}
            _ = ship => {}
            _ = flush => {}
        }
        stop.store(true, Relaxed);
        if let Some(s) = server {
            s.abort();
        }
        if let Some(w) = pod_watch {
            w.abort();
        }
        let _ = tokio::task::spawn_blocking(move || tail_thread.join()).await;
        let s = store.clone();
        tokio::task::spawn_blocking(move || s.persist())
            .await
            .unwrap_or(Ok(()))?;
        tracing::info!("collector stopped; checkpoints written");
        Ok(())
    }
}

/// The pod watch of [`pods`] when an API server is configured or found; None (and a log
/// line saying why) otherwise: records then carry only what their path says.
async fn start_pod_watch(
    cfg: &CollectorConfig,
    health: Arc<CollectorMetrics>,
) -> Option<(Arc<PodLabels>, tokio::task::JoinHandle<()>)> {
    let Some(source) = pods::ApiSource::find(cfg.kubeconfig.as_deref()) else {
        tracing::info!("no kubeconfig and not in a pod: records go without pod labels");
        return None;
    };
    match source.client().await {
        Ok(client) => {
            let (watch, task) = pods::spawn(client, &cfg.node_name, health);
            // Lines read before the first list would go out unlabelled: wait for it a
            // little; an unreachable API server delays the start by that much, no more.
            if !watch.wait_synced(POD_SYNC_WAIT).await {
                tracing::warn!(
                    wait = ?POD_SYNC_WAIT,
                    "pod list not in yet: reading logs anyway, pod labels follow once it is"
                );
            }
            Some((watch.labels, task))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no usable API server config: records go without pod labels");
            None
        }
    }
}

struct TailContext {
    cfg: CollectorConfig,
    stop: Arc<AtomicBool>,
    metrics: Arc<CollectorMetrics>,
    store: Arc<CheckpointStore>,
    log_metrics: Arc<LogMetrics>,
    pods: Option<Arc<PodLabels>>,
}

fn tail_loop(mut tailer: Tailer, tx: mpsc::Sender<Outgoing>, ctx: TailContext) {
    let TailContext {
        cfg,
        stop,
        metrics,
        store,
        log_metrics,
        pods,
    } = ctx;
    let (ev_tx, ev_rx) = std::sync::mpsc::channel::<bool>();
    let _watcher = watch(&cfg.log_globs, ev_tx);
    let mut last_scan: Option<Instant> = None;
    let mut rescan = true;
    let mut last_lag = Instant::now();
    while !stop.load(Relaxed) {
        if rescan
            || tailer.rescan_needed()
            || last_scan.is_none_or(|t| t.elapsed() >= cfg.rescan_interval)
        {
            if tailer.rescan() {
                // Identities changed: make them durable before shipping what is read next.
                if let Err(e) = store.persist() {
                    tracing::error!(error = %e, "cannot write checkpoints");
                }
            }
            last_scan = Some(Instant::now());
            metrics
                .files_tailed
                .store(tailer.file_count() as u64, Relaxed);
            log_metrics.retain(&tailer.containers());
        }
        rescan = false;
        loop {
            let mut batch = Batch::default();
            let full = tailer.read(&mut batch, cfg.batch_max_bytes);
            if !batch.is_empty() {
                metrics.lines_read.fetch_add(batch.records as u64, Relaxed);
                metrics.bytes_read.fetch_add(batch.bytes as u64, Relaxed);
                log_metrics.observe(&batch);
                if let Some(p) = &pods {
                    for c in &mut batch.chunks {
                        c.labels = p.get(&c.meta.pod_uid, &c.meta.namespace, &c.meta.pod);
                    }
                }
                let body = Bytes::from(otlp::encode(&batch, &cfg.node_name));
                let out = Outgoing {
                    body,
                    checkpoints: std::mem::take(&mut batch.checkpoints),
                };
                if tx.blocking_send(out).is_err() {
                    return;
                }
            }
            if !full || stop.load(Relaxed) {
                break;
            }
        }
        if last_lag.elapsed() >= Duration::from_secs(5) {
            metrics.lag_bytes.store(tailer.lag_bytes(), Relaxed);
            last_lag = Instant::now();
        }
        // Sleep until inotify says something changed, or the poll interval passes.
        if let Ok(r) = ev_rx.recv_timeout(Duration::from_millis(100)) {
            rescan |= r;
            while let Ok(r) = ev_rx.try_recv() {
                rescan |= r;
            }
        }
    }
}

fn watch(
    globs: &[String],
    tx: std::sync::mpsc::Sender<bool>,
) -> Option<notify::RecommendedWatcher> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            let rescan = matches!(
                ev.kind,
                EventKind::Create(_)
                    | EventKind::Remove(_)
                    | EventKind::Modify(notify::event::ModifyKind::Name(_))
            );
            let _ = tx.send(rescan);
        }
    })
    .map_err(|e| tracing::warn!(error = %e, "inotify unavailable; polling only"))
    .ok()?;
    for root in discover::watch_roots(globs) {
        if let Err(e) = w.watch(&root, RecursiveMode::Recursive) {
            tracing::debug!(root = %root.display(), error = %e, "cannot watch; polling only");
        }
    }
    Some(w)
}

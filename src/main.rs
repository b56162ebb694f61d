//! The `argus` binary: parses the command line and wires the crates together.

mod config;
mod demo;
mod in_process;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use argus_aggregator::Aggregator;
use argus_collector::Collector;
use argus_watcher::Watcher;
use config::ArgusConfig;

#[derive(Parser)]
#[command(
    name = "argus",
    version,
    about = "Kubernetes observability in one binary: logs, metrics, events, alerts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Checks rule files; exit 1 with file:line errors when one is wrong.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Runs rule unit tests in promtool's format; exit 1 when any fails.
    Test {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TsdbCommand {
    /// Backfills the store from an OpenMetrics text file with timestamps (like
    /// `promtool tsdb create-blocks-from openmetrics`).
    Import {
        /// The OpenMetrics file.
        file: PathBuf,
        /// Data directory of the aggregator (metrics go to <data-dir>/metrics)
        /// [default: ./argus-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Collector and aggregator in one process, with embedded defaults.
    AllInOne {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory [default: ./argus-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// API and UI address [default: 127.0.0.1:9400].
        #[arg(long)]
        listen: Option<String>,
        /// Add a simulated workload: kubelet-style log files, a simulated cluster (fake API
        /// server) and cgroup tree, read by the real collector and watcher.
        #[arg(long)]
        demo: bool,
    },
    /// The node agent: tails container log files and ships them to the aggregator; serves
    /// container (cAdvisor-compatible) and node (node_exporter-compatible) metrics.
    Collector {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Metrics address [default: 127.0.0.1:9401].
        #[arg(long)]
        listen: Option<String>,
        /// Aggregator base URL [default: http://127.0.0.1:9400].
        #[arg(long)]
        aggregator: Option<String>,
        /// Directory holding kubelet's pods/ and containers/ [default: /var/log].
        #[arg(long)]
        log_root: Option<PathBuf>,
        /// Live log files to tail (repeatable) [default: <log-root>/pods/*/*/*.log].
        #[arg(long = "log-glob")]
        log_globs: Vec<String>,
        /// Where checkpoints are kept [default: /var/lib/argus/checkpoints].
        #[arg(long)]
        checkpoint_dir: Option<PathBuf>,
        /// Node name on every record [default: $NODE_NAME or the hostname].
        #[arg(long)]
        node_name: Option<String>,
        /// The host's procfs [default: /proc].
        #[arg(long)]
        procfs: Option<PathBuf>,
        /// The host's sysfs [default: /sys].
        #[arg(long)]
        sysfs: Option<PathBuf>,
        /// The host's cgroup hierarchy (v1, v2 or hybrid) [default: /sys/fs/cgroup].
        #[arg(long)]
        cgroupfs: Option<PathBuf>,
        /// The host's root filesystem [default: /].
        #[arg(long)]
        rootfs: Option<PathBuf>,
    },
    /// The central aggregator: log ingest, store and search UI; metrics store, scraper,
    /// PromQL (Prometheus' HTTP API) and rules.
    Aggregator {
        #[arg(long)]
        config: Option<PathBuf>,
        /// API and UI address [default: 127.0.0.1:9400].
        #[arg(long)]
        listen: Option<String>,
        /// Data directory [default: ./argus-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A target to scrape into the metrics store (repeatable), e.g.
        /// http://node-a:9401/metrics and http://node-a:9401/metrics/node.
        #[arg(long = "scrape-target")]
        scrape_targets: Vec<String>,
        /// Prometheus rule files to evaluate (glob, repeatable).
        #[arg(long = "rules")]
        rules: Vec<String>,
        /// Base URL of argus used in alert links and templates ($externalURL).
        #[arg(long)]
        external_url: Option<String>,
        /// Notification config in Alertmanager's syntax (routes, receivers, inhibit rules).
        #[arg(long)]
        alertmanager_config: Option<String>,
    },
    /// The cluster watcher: records every Kubernetes Event occurrence once into the
    /// aggregator's event store and serves the cluster series (`/metrics/cluster`).
    Watcher {
        #[arg(long)]
        config: Option<PathBuf>,
        /// kubeconfig of the API server [default: in-cluster, else $KUBECONFIG or
        /// ~/.kube/config].
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// Aggregator base URL [default: http://127.0.0.1:9400].
        #[arg(long)]
        aggregator: Option<String>,
        /// Metrics address [default: 127.0.0.1:9402].
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (the record of delivered events) [default: ./argus-data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Prometheus rule files: `check` (like `promtool check rules`) and `test` (like
    /// `promtool test rules`, same file format).
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The embedded metrics store's tools.
    Tsdb {
        #[command(subcommand)]
        command: TsdbCommand,
    },
    /// Prints the version.
    Version,
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn")),
        )
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("argus: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Version => {
            println!("argus {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Collector {
            config,
            listen,
            aggregator,
            log_root,
            log_globs,
            checkpoint_dir,
            node_name,
            procfs,
            sysfs,
            cgroupfs,
            rootfs,
        } => {
            let mut cfg = ArgusConfig::load(config.as_deref())?.collector;
            if let Some(v) = listen {
                cfg.listen = v;
            }
            if let Some(v) = aggregator {
                cfg.aggregator = v;
            }
            if let Some(v) = log_root {
                cfg.log_root = v;
            }
            if !log_globs.is_empty() {
                cfg.log_globs = log_globs;
            }
            if let Some(v) = checkpoint_dir {
                cfg.checkpoint_dir = v;
            }
            if let Some(v) = node_name {
                cfg.node_name = v;
            }
            for (flag, field) in [
                (procfs, &mut cfg.procfs),
                (sysfs, &mut cfg.sysfs),
                (cgroupfs, &mut cfg.cgroupfs),
                (rootfs, &mut cfg.rootfs),
            ] {
                if let Some(v) = flag {
                    *field = v;
                }
            }
            let collector = Collector::new(cfg)?;
            runtime()?.block_on(async move { collector.run(shutdown_signal()).await })?;
            Ok(())
        }
        Command::Watcher {
            config,
            kubeconfig,
            aggregator,
            listen,
            data_dir,
        } => {
            let mut cfg = ArgusConfig::load(config.as_deref())?.watcher;
            if kubeconfig.is_some() {
                cfg.kubeconfig = kubeconfig;
            }
            if let Some(v) = aggregator {
                cfg.aggregator = v;
            }
            if let Some(v) = listen {
                cfg.listen = v;
            }
            if let Some(v) = data_dir {
                cfg.data_dir = v;
            }
            let watcher = Watcher::new(cfg)?;
            runtime()?.block_on(async move { watcher.run(shutdown_signal()).await })?;
            Ok(())
        }
        Command::Rules { command } => {
            let code = match command {
                RulesCommand::Check { files } => argus_alerting::run_check(&files),
                RulesCommand::Test { files } => argus_alerting::run_tests(&files),
            };
            std::process::exit(code);
        }
        Command::Tsdb {
            command: TsdbCommand::Import { file, data_dir },
        } => {
            let dir = data_dir.unwrap_or_else(|| PathBuf::from("./argus-data"));
            let r = argus_tsdb::import::import(&file, &dir.join("metrics"), &mut std::io::stderr())
                .with_context(|| format!("cannot import {}", file.display()))?;
            println!(
                "imported {} samples of {} series into {}",
                r.samples,
                r.series,
                dir.join("metrics").display()
            );
            Ok(())
        }
        Command::Aggregator {
            config,
            listen,
            data_dir,
            scrape_targets,
            rules,
            external_url,
            alertmanager_config,
        } => {
            let file = ArgusConfig::load(config.as_deref())?;
            let mut cfg = file.aggregator;
            let mut alerting = file.alerting;
            alerting.rule_files.extend(rules);
            if let Some(u) = external_url {
                alerting.external_url = u;
            }
            if let Some(f) = alertmanager_config {
                alerting.alertmanager_config = f;
            }
            cfg.metrics.scrape_targets.extend(scrape_targets);
            if let Some(v) = listen {
                cfg.listen = v;
            }
            if let Some(v) = data_dir {
                cfg.data_dir = v;
            }
            let listener = bind(&cfg.listen)?;
            let local = in_process::loopback(listener.local_addr().context("listener address")?);
            let source = in_process::find_cluster(&file.watcher, &in_process::Env::current())?;
            let (watcher, in_process) = match &source {
                Some(source) => {
                    cfg.metrics
                        .scrape_configs
                        .push(in_process::cluster_job(local, cfg.metrics.scrape_interval));
                    tracing::info!(%source, "running the cluster watcher in-process");
                    let (w, m) = in_process::watcher(file.watcher, source, &cfg.data_dir, local)?;
                    (Some(w), m)
                }
                None => (None, Default::default()),
            };
            let agg = Aggregator::open(cfg)?
                .with_rules(alerting)?
                .with_in_process_metrics(in_process);
            runtime()?.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .context("cannot serve the listener")?;
                let (watcher_stop, w_rx) = tokio::sync::watch::channel(false);
                let watcher = watcher.map(|w| tokio::spawn(in_process::run(w, stopped(w_rx))));
                let (tx, rx) = tokio::sync::watch::channel(false);
                let mut srv = tokio::spawn(agg.serve(listener, stopped(rx)));
                tokio::select! {
                    _ = shutdown_signal() => {}
                    r = &mut srv => {
                        r.context("aggregator task")??;
                        return anyhow::Ok(());
                    }
                }
                stop_watcher(watcher_stop, watcher).await;
                let _ = tx.send(true);
                srv.await.context("aggregator task")??;
                anyhow::Ok(())
            })?;
            Ok(())
        }
        Command::AllInOne {
            config,
            data_dir,
            listen,
            demo,
        } => all_in_one(config, data_dir, listen, demo),
    }
}

fn all_in_one(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    demo: bool,
) -> Result<()> {
    let file = ArgusConfig::load(config.as_deref())?;
    let mut agg_cfg = file.aggregator;
    if let Some(v) = data_dir {
        agg_cfg.data_dir = v;
    }
    if let Some(v) = listen {
        agg_cfg.listen = v;
    }
    let data = agg_cfg.data_dir.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data dir {}", data.display()))?;
    // Bound first, so that the collector, the watcher and the scrape jobs know the port.
    let listener = bind(&agg_cfg.listen)?;
    let addr = listener.local_addr().context("listener address")?;
    let local = in_process::loopback(addr);
    let mut col_cfg = file.collector;
    col_cfg.checkpoint_dir = data.join("collector");
    col_cfg.aggregator = format!("http://{local}");
    col_cfg.metrics.single_endpoint.get_or_insert(true);
    if !col_cfg.listen.is_empty() {
        agg_cfg.metrics.scrape_configs.extend(local_collector_jobs(
            &col_cfg.listen,
            agg_cfg.metrics.scrape_interval,
        ));
    }
    let demo_dir = data.join("demo");
    let source = if demo {
        if let Some(k) = &file.watcher.kubeconfig {
            tracing::info!(kubeconfig = %k.display(), "--demo: watching the simulated cluster instead of watcher.kubeconfig");
        }
        Some(in_process::Source::Demo(demo_dir.join("kubeconfig")))
    } else {
        in_process::find_cluster(&file.watcher, &in_process::Env::current())?
    };
    // The collector labels records with the pods of the cluster the watcher watches
    // (in a pod it finds the in-cluster config itself).
    match &source {
        Some(in_process::Source::Demo(k)) => col_cfg.kubeconfig = Some(k.clone()),
        Some(
            in_process::Source::Config(k)
            | in_process::Source::Env(k)
            | in_process::Source::Home(k),
        ) if col_cfg.kubeconfig.is_none() => col_cfg.kubeconfig = Some(k.clone()),
        _ => {}
    }
    let (watcher, in_process) = match &source {
        Some(source) => {
            agg_cfg.metrics.scrape_configs.push(in_process::cluster_job(
                local,
                agg_cfg.metrics.scrape_interval,
            ));
            let (w, m) = in_process::watcher(file.watcher, source, &data, local)?;
            (Some(w), m)
        }
        None => (None, Default::default()),
    };
    let mut cgroups = None;
    if demo {
        // The simulator plays the node: kubelet's log files, containerd's cgroups and
        // bundles; the collector reads them where it would read the host's.
        col_cfg.log_root = demo_dir.join("log");
        col_cfg.log_globs = Vec::new();
        col_cfg.cgroupfs = demo_dir.join("cgroup");
        col_cfg.rootfs = demo_dir.join("rootfs");
        if col_cfg.node_name.is_empty() {
            col_cfg.node_name = demo::NODE.to_string();
        }
        cgroups = Some(
            demo::CgroupTree::new(&col_cfg.cgroupfs, &col_cfg.rootfs, &col_cfg.sysfs)
                .with_context(|| {
                    format!(
                        "cannot create the demo cgroup tree in {}",
                        demo_dir.display()
                    )
                })?,
        );
    }
    let agg = Aggregator::open(agg_cfg)?
        .with_rules(file.alerting)?
        .with_in_process_metrics(in_process);
    let stop = Arc::new(AtomicBool::new(false));
    let rt = runtime()?;
    let sim = rt.block_on(async {
        let listener =
            tokio::net::TcpListener::from_std(listener).context("cannot serve the listener")?;
        let mut sim = None;
        if demo {
            let api = argus_kube_fake::FakeApiServer::start_with(demo_api_config())
                .await
                .context("cannot start the demo's simulated API server")?;
            let kubeconfig = demo_dir.join("kubeconfig");
            api.kubeconfig(&kubeconfig)?;
            let extras = demo::Extras {
                cluster: Some(demo::Cluster::new(Arc::new(api))),
                cgroups,
            };
            sim = Some(demo::spawn(
                demo::DemoConfig::new(demo_dir.join("log")),
                stop.clone(),
                extras,
            ));
        }
        let collector = Collector::new(col_cfg)?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let col = tokio::spawn(collector.run(stopped(rx.clone())));
        eprintln!("argus all-in-one: UI and API on http://{addr}/");
        let srv = tokio::spawn(agg.serve(listener, stopped(rx)));
        let (watcher_stop, w_rx) = tokio::sync::watch::channel(false);
        let watcher = watcher.map(|w| tokio::spawn(in_process::run(w, stopped(w_rx))));
        if let Some(source) = &source {
            eprintln!("  cluster watcher: {source}; cluster series on http://{local}/metrics/cluster");
        }
        if demo {
            eprintln!("  demo workload writing to {}", demo_dir.join("log").display());
            eprintln!("  try: curl -G http://{local}/api/v1/logs/search --data-urlencode 'query={{namespace=\"demo\"}} |= \"error\"'");
            eprintln!("       curl -G http://{local}/api/v1/events/search --data-urlencode 'query={{reason=\"BackOff\"}}'");
        }
        shutdown_signal().await;
        // The watcher first: it sends what it has queued while the aggregator still listens.
        stop_watcher(watcher_stop, watcher).await;
        let _ = tx.send(true);
        col.await.context("collector task")??;
        srv.await.context("aggregator task")??;
        anyhow::Ok(sim)
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(h) = sim? {
        let _ = h.join();
    }
    Ok(())
}

/// The demo's fake API server: on loopback, any free port; bookmarks about once a minute
/// as a real server sends them.
fn demo_api_config() -> argus_kube_fake::FakeApiServerConfig {
    let mut c = argus_kube_fake::FakeApiServerConfig::listening_on(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        0,
    )));
    c.bookmark_interval_ms = 60_000;
    c
}

/// Binds the aggregator's address (before its stores open, so the port is known).
fn bind(listen: &str) -> Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(listen)
        .with_context(|| format!("cannot listen on {listen}"))?;
    l.set_nonblocking(true)
        .with_context(|| format!("cannot listen on {listen}"))?;
    Ok(l)
}

/// Resolves when `rx` turns true (or its sender is gone).
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

/// Stops the in-process watcher and waits for it (it flushes for up to
/// `watcher.events.flush_timeout`).
async fn stop_watcher(
    stop: tokio::sync::watch::Sender<bool>,
    watcher: Option<tokio::task::JoinHandle<()>>,
) {
    let _ = stop.send(true);
    if let Some(w) = watcher {
        let _ = w.await;
    }
}

/// all-in-one scrapes its own collector as kube-prometheus scrapes cAdvisor and
/// node_exporter: `/metrics` as job `cadvisor` (honoring the series' labels; the node
/// series it also serves are dropped there) and `/metrics/node` as job `node-exporter`.
fn local_collector_jobs(
    listen: &str,
    interval: std::time::Duration,
) -> Vec<argus_tsdb::scrape::ScrapeConfig> {
    use argus_tsdb::scrape::{RelabelAction, RelabelConfig, ScrapeConfig, StaticConfig};
    let job = |name: &str, path: &str, honor: bool, drop_node: bool| ScrapeConfig {
        job_name: name.into(),
        scrape_interval: interval,
        scrape_timeout: interval.min(std::time::Duration::from_secs(10)),
        metrics_path: path.into(),
        scheme: "http".into(),
        honor_labels: honor,
        honor_timestamps: true,
        static_configs: vec![StaticConfig {
            targets: vec![listen.to_string()],
            labels: Default::default(),
        }],
        metric_relabel_configs: if drop_node {
            vec![RelabelConfig {
                source_labels: vec!["__name__".into()],
                separator: ";".into(),
                regex: "node_.*".into(),
                action: RelabelAction::Drop,
            }]
        } else {
            Vec::new()
        },
    };
    vec![
        job("cadvisor", "/metrics", true, true),
        job("node-exporter", "/metrics/node", false, false),
    ]
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

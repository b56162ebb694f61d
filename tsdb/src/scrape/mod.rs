//! The scraper: one loop per target, each scraping on its own interval at an offset spread
//! by a hash of its URL (as Prometheus spreads them), writing the samples with the target's
//! `job`/`instance` and static labels (`honor_labels` decides who wins a clash, the loser
//! kept as `exported_<name>`), the report series `up`, `scrape_duration_seconds`,
//! `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`,
//! `scrape_series_added`, and staleness markers for series that disappear or for all of a
//! target's series when it goes down.
//!
//! Targets are static (built once from the [`ScrapeConfig`]s) or discovered
//! ([`Manager::set_discovered`] replaces a job's discovered set: new targets start a
//! loop, removed ones stop theirs after writing staleness markers for all their series,
//! as Prometheus does when a target disappears).

pub mod config;
mod fetch;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argus_core::series::{stale_nan, Labels};

pub use config::{Relabel, RelabelAction, RelabelConfig, ScrapeConfig, StaticConfig};
use fetch::Fetcher;

use crate::textparse::{self, Flavor};
use crate::Db;

/// Health of a target, as `/api/v1/targets` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The last scrape of a target.
#[derive(Debug, Clone)]
pub struct Status {
    pub health: Health,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_duration: Duration,
    pub samples: usize,
}

/// One scrape target.
#[derive(Debug)]
pub struct Target {
    pub job: String,
    pub url: String,
    /// Labels every series of the target gets (`job`, `instance`, static labels).
    pub labels: Labels,
    pub interval: Duration,
    pub timeout: Duration,
    honor_labels: bool,
    honor_timestamps: bool,
    relabel: Vec<Relabel>,
    status: Mutex<Status>,
}

impl Target {
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A discovered target's loop: its stop signal and task.
#[derive(Debug)]
struct Running {
    target: Arc<Target>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Where loops write, known once [`Manager::start`] ran.
#[derive(Clone)]
struct Sink {
    db: Arc<Db>,
    fetcher: Fetcher,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").finish_non_exhaustive()
    }
}

/// All targets of all jobs: the static ones and the discovered ones.
#[derive(Debug, Default)]
pub struct Manager {
    static_targets: Vec<Arc<Target>>,
    /// Discovered targets by job name.
    discovered: RwLock<BTreeMap<String, Vec<Running>>>,
    sink: Mutex<Option<Sink>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn new_target(
    c: &ScrapeConfig,
    host: &str,
    pairs: Vec<(String, String)>,
    relabel: &[Relabel],
) -> Target {
    Target {
        job: c.job_name.clone(),
        url: format!("{}://{host}{}", c.scheme, c.metrics_path),
        labels: Labels::new(pairs),
        interval: c.scrape_interval,
        timeout: c.timeout(),
        honor_labels: c.honor_labels,
        honor_timestamps: c.honor_timestamps,
        relabel: relabel.to_vec(),
        status: Mutex::new(Status {
            health: Health::Unknown,
            last_error: String::new(),
            last_scrape: None,
            last_duration: Duration::ZERO,
            samples: 0,
        }),
    }
}

fn compile_relabel(c: &ScrapeConfig) -> Result<Vec<Relabel>, String> {
    c.metric_relabel_configs
        .iter()
        .map(Relabel::compile)
        .collect()
}

impl Manager {
    /// Builds the targets; errors name the job.
    pub fn new(configs: &[ScrapeConfig]) -> Result<Manager, String> {
        let mut targets = Vec::new();
        let mut jobs = HashSet::new();
        for c in configs {
            c.validate()?;
            if !jobs.insert(c.job_name.clone()) {
                return Err(format!("job_name {:?} is used twice", c.job_name));
            }
            let relabel = compile_relabel(c)?;
            for sc in &c.static_configs {
                for host in &sc.targets {
                    let mut pairs: Vec<(String, String)> = sc
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    pairs.push(("job".into(), c.job_name.clone()));
                    pairs.push(("instance".into(), host.clone()));
                    targets.push(Arc::new(new_target(c, host, pairs, &relabel)));
                }
            }
        }
        Ok(Manager {
            static_targets: targets,
            ..Default::default()
        })
    }

    /// Every target: the static ones, then the discovered ones by job.
    pub fn targets(&self) -> Vec<Arc<Target>> {
        let discovered = self.discovered.read().unwrap_or_else(|e| e.into_inner());
        self.static_targets
            .iter()
            .cloned()
            .chain(discovered.values().flatten().map(|r| r.target.clone()))
            .collect()
    }

    /// Starts one loop per static target on the current tokio runtime (and the loops of
    /// targets discovered before); later discovered targets start when they are set.
    pub fn start(&self, db: Arc<Db>) -> Vec<tokio::task::JoinHandle<()>> {
        let sink = Sink {
            db,
            fetcher: Fetcher::default(),
        };
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink.clone());
        let mut discovered = self.discovered.write().unwrap_or_else(|e| e.into_inner());
        for r in discovered.values_mut().flatten() {
            if r.task.is_none() {
                r.task = Some(spawn(&r.target, &sink, r.stop.subscribe()));
            }
        }
        self.static_targets
            .iter()
            .map(|t| {
                // Static loops never stop: the sender is dropped, `changed()` never
                // resolves to a stop.
                let (_tx, rx) = tokio::sync::watch::channel(false);
                spawn(t, &sink, rx)
            })
            .collect()
    }

    /// Replaces the discovered targets of `job` (its `static_configs` are ignored) with
    /// `targets`: `(host:port, labels)`, the labels added to `job` and `instance`
    /// (`instance` defaults to `host:port`; a label given here wins). Targets not there
    /// before start a loop; targets gone stop theirs, which ends with staleness markers
    /// for all the target's series; a target whose labels changed is replaced. Targets
    /// with the URL of a static target are skipped. Errors name the job.
    pub fn set_discovered(
        &self,
        job: &ScrapeConfig,
        targets: Vec<(String, Labels)>,
    ) -> Result<(), String> {
        job.validate()?;
        let relabel = compile_relabel(job)?;
        let sink = self.sink.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut wanted: Vec<Target> = Vec::new();
        for (host, labels) in targets {
            let mut pairs = vec![
                ("job".to_string(), job.job_name.clone()),
                ("instance".to_string(), host.clone()),
            ];
            // A later duplicate wins in `Labels::new`.
            pairs.extend(
                labels
                    .into_iter()
                    .map(|l| (l.name.clone(), l.value.clone())),
            );
            let t = new_target(job, &host, pairs, &relabel);
            let taken = self.static_targets.iter().any(|s| s.url == t.url)
                || wanted.iter().any(|w| w.url == t.url);
            if !taken {
                wanted.push(t);
            }
        }
        let mut discovered = self.discovered.write().unwrap_or_else(|e| e.into_inner());
        let old = discovered.remove(&job.job_name).unwrap_or_default();
        let same = |a: &Target, b: &Target| {
            a.url == b.url && a.labels == b.labels && a.interval == b.interval
        };
        let mut kept = Vec::new();
        for r in old {
            if wanted.iter().any(|w| same(w, &r.target)) {
                kept.push(r);
            } else {
                tracing::info!(job = %job.job_name, target = %r.target.url, "discovered target gone");
                let _ = r.stop.send(true);
            }
        }
        for w in wanted {
            if kept.iter().any(|r| same(&w, &r.target)) {
                continue;
            }
            tracing::info!(job = %job.job_name, target = %w.url, "target discovered");
            let target = Arc::new(w);
            let (stop, rx) = tokio::sync::watch::channel(false);
            let task = sink.as_ref().map(|s| spawn(&target, s, rx));
            kept.push(Running { target, stop, task });
        }
        kept.sort_by(|a, b| a.target.url.cmp(&b.target.url));
        if !kept.is_empty() {
            discovered.insert(job.job_name.clone(), kept);
        }
        Ok(())
    }

    /// Aborts the discovered targets' loops (at shutdown: no staleness markers).
    pub fn abort_discovered(&self) {
        let discovered = self.discovered.read().unwrap_or_else(|e| e.into_inner());
        for r in discovered.values().flatten() {
            if let Some(t) = &r.task {
                t.abort();
            }
        }
    }
}

fn spawn(
    t: &Arc<Target>,
    sink: &Sink,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(t.clone(), sink.db.clone(), sink.fetcher.clone(), stop))
}

/// Resolves when `stop` turns true; never when its sender is gone.
async fn stopping(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn run(
    t: Arc<Target>,
    db: Arc<Db>,
    fetcher: Fetcher,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Spread targets over the interval, as Prometheus does with its offset.
    let iv = t.interval.as_millis().max(1) as u64;
    let offset = xxhash_rust::xxh3::xxh3_64(t.url.as_bytes()) % iv;
    let now = now_ms() as u64;
    let first = (now / iv) * iv + offset;
    let wait = if first > now {
        first - now
    } else {
        first + iv - now
    };
    let mut previous: HashSet<Labels> = HashSet::new();
    let mut last = i64::MIN;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
        _ = stopping(&mut stop) => return,
    }
    let mut tick = tokio::time::interval(t.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping(&mut stop) => break,
        }
        let start = now_ms();
        last = start;
        let t0 = std::time::Instant::now();
        let fetched = fetcher.get(&t.url, t.timeout).await;
        let took = t0.elapsed();
        let (t2, db2) = (t.clone(), db.clone());
        let prev = std::mem::take(&mut previous);
        let joined =
            tokio::task::spawn_blocking(move || ingest(&t2, &db2, start, took, fetched, prev))
                .await;
        match joined {
            Ok(p) => previous = p,
            Err(e) => tracing::error!(error = %e, target = %t.url, "scrape ingest task failed"),
        }
    }
    if last == i64::MIN {
        return;
    }
    // The target is gone: every series it wrote, report series included, ends now.
    let ts = now_ms().max(last + 1);
    let _ = tokio::task::spawn_blocking(move || end_of_run(&t, &db, ts, previous)).await;
}

/// Staleness markers at `ts` for `series` and the target's report series.
fn end_of_run(t: &Target, db: &Db, ts: i64, series: HashSet<Labels>) {
    let mut batch: Vec<(Labels, i64, f64)> =
        series.into_iter().map(|l| (l, ts, stale_nan())).collect();
    for name in REPORT_SERIES {
        let mut l = t.labels.clone();
        l.set("__name__", name);
        batch.push((l, ts, stale_nan()));
    }
    if let Err(e) = db.append(&batch) {
        tracing::error!(error = %e, target = %t.url, "cannot store staleness markers");
    }
}

/// The series every scrape writes about itself.
const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Builds the scraped series' labels: target labels added, clashes resolved as
/// `honor_labels` says.
fn merge_labels(scraped: &Labels, target: &Labels, honor: bool) -> Labels {
    let mut out = scraped.clone();
    for l in target {
        match scraped.get(&l.name) {
            Some(_) if honor => {}
            Some(v) => {
                let mut name = format!("exported_{}", l.name);
                while out.get(&name).is_some() {
                    name = format!("exported_{name}");
                }
                out.set(&name, v);
                out.set(&l.name, &l.value);
            }
            None => out.set(&l.name, &l.value),
        }
    }
    out
}

/// Appends one scrape's samples (or the failure) and returns the series seen.
fn ingest(
    t: &Target,
    db: &Db,
    start: i64,
    took: Duration,
    fetched: Result<fetch::Fetched, String>,
    previous: HashSet<Labels>,
) -> HashSet<Labels> {
    let parsed = fetched.and_then(|f| {
        let flavor = if f.openmetrics {
            Flavor::OpenMetrics
        } else {
            Flavor::Prometheus
        };
        textparse::parse(&f.body, flavor).map_err(|e| e.to_string())
    });
    let mut batch: Vec<(Labels, i64, f64)> = Vec::new();
    let mut seen = HashSet::new();
    let mut kept = 0;
    let (up, error, scraped) = match parsed {
        Ok(samples) => {
            let n = samples.len();
            for s in samples {
                if !t.relabel.iter().all(|r| r.keeps(&s.labels)) {
                    continue;
                }
                kept += 1;
                let labels = merge_labels(&s.labels, &t.labels, t.honor_labels);
                let ts = match s.timestamp {
                    Some(ts) if t.honor_timestamps => ts,
                    _ => start,
                };
                if seen.insert(labels.clone()) {
                    batch.push((labels, ts, s.value));
                }
            }
            (1.0, String::new(), n)
        }
        Err(e) => (0.0, e, 0),
    };
    // Series that were there last time and are not now end with a staleness marker.
    for gone in previous.difference(&seen) {
        batch.push((gone.clone(), start, stale_nan()));
    }
    let mut res = match db.append(&batch) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, target = %t.url, "cannot store scraped samples");
            Default::default()
        }
    };
    let report = |name: &str, v: f64| {
        let mut l = t.labels.clone();
        l.set("__name__", name);
        (l, start, v)
    };
    let reports = [
        report("up", up),
        report("scrape_duration_seconds", took.as_secs_f64()),
        report("scrape_samples_scraped", scraped as f64),
        report("scrape_samples_post_metric_relabeling", kept as f64),
        report("scrape_series_added", res.new_series as f64),
    ];
    if let Ok(r) = db.append(&reports) {
        res.samples += r.samples;
    }
    if res.out_of_order + res.duplicate > 0 {
        tracing::debug!(target = %t.url, out_of_order = res.out_of_order, duplicate = res.duplicate, "samples rejected");
    }
    if !error.is_empty() {
        tracing::debug!(target = %t.url, error = %error, "scrape failed");
    }
    let mut st = t.status.lock().unwrap_or_else(|e| e.into_inner());
    *st = Status {
        health: if up == 1.0 { Health::Up } else { Health::Down },
        last_error: error,
        last_scrape: Some(UNIX_EPOCH + Duration::from_millis(start.max(0) as u64)),
        last_duration: took,
        samples: scraped,
    };
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honor_labels_decides_clashes() {
        let scraped = Labels::new([("__name__", "x"), ("job", "inner"), ("pod", "p")]);
        let target = Labels::new([("job", "outer"), ("instance", "h:1")]);
        let kept = merge_labels(&scraped, &target, true);
        assert_eq!(kept.get("job"), Some("inner"));
        assert_eq!(kept.get("instance"), Some("h:1"));
        let renamed = merge_labels(&scraped, &target, false);
        assert_eq!(renamed.get("job"), Some("outer"));
        assert_eq!(renamed.get("exported_job"), Some("inner"));
    }

    /// Serves `body` on `/metrics` of a loopback port until the runtime ends.
    async fn serve(body: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = c.read(&mut buf).await;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = c.write_all(resp.as_bytes()).await;
                });
            }
        });
        addr
    }

    fn job(name: &str) -> ScrapeConfig {
        let mut c =
            ScrapeConfig::from_url(name, "http://x/metrics", Duration::from_secs(1)).expect("job");
        c.static_configs.clear();
        c.scrape_timeout = Duration::from_millis(500);
        c
    }

    /// The last sample of each series named `name` whose `instance` is `instance`.
    fn last(db: &Db, name: &str, instance: &str) -> Vec<f64> {
        use argus_core::series::{Matcher, SeriesSource};
        db.select(
            &[
                Matcher::equal("__name__", name),
                Matcher::equal("instance", instance),
            ],
            0,
            i64::MAX,
        )
        .into_iter()
        .filter_map(|s| s.samples.last().map(|x| x.v))
        .collect()
    }

    async fn wait_for(what: &str, f: impl Fn() -> bool) {
        for _ in 0..100 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn set_discovered_adds_removes_with_staleness_and_updates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Arc::new(Db::open(dir.path(), crate::Options::default()).expect("db"));
        let a = serve("m{x=\"a\"} 1\n").await;
        let b = serve("m{x=\"b\"} 2\n").await;
        let static_job = ScrapeConfig::from_url(
            "static",
            &format!("http://{a}/metrics"),
            Duration::from_secs(60),
        )
        .expect("job");
        let m = Manager::new(&[static_job]).expect("manager");
        let _static = m.start(db.clone());
        let j = job("node-exporter");
        let node = |n: &str| Labels::new([("instance", n)]);
        // Added: a (already a static target's URL, skipped) and b, instance from labels.
        m.set_discovered(
            &j,
            vec![(a.clone(), node("node-a")), (b.clone(), node("node-b"))],
        )
        .expect("set");
        let urls: Vec<String> = m.targets().iter().map(|t| t.url.clone()).collect();
        assert_eq!(
            urls,
            [format!("http://{a}/metrics"), format!("http://{b}/metrics")]
        );
        let t = m.targets().pop().expect("discovered");
        assert_eq!(t.labels.get("instance"), Some("node-b"));
        assert_eq!(t.labels.get("job"), Some("node-exporter"));
        wait_for("b scraped", || last(&db, "m", "node-b") == [2.0]).await;
        assert_eq!(last(&db, "up", "node-b"), [1.0]);

        // Updated: new labels replace the target (its old series end).
        m.set_discovered(&j, vec![(b.clone(), node("node-c"))])
            .expect("set");
        assert_eq!(m.targets().len(), 2);
        wait_for("old labels stale", || {
            last(&db, "m", "node-b")
                .first()
                .is_some_and(|v| argus_core::series::is_stale(*v))
        })
        .await;
        wait_for("c scraped", || last(&db, "up", "node-c") == [1.0]).await;
        // Setting the same set again keeps the loop (no staleness).
        m.set_discovered(&j, vec![(b.clone(), node("node-c"))])
            .expect("set");
        assert_eq!(m.targets().len(), 2);

        // Removed: every series of the target, report series included, goes stale.
        m.set_discovered(&j, Vec::new()).expect("set");
        assert_eq!(m.targets().len(), 1);
        wait_for("removed target stale", || {
            ["m", "up", "scrape_duration_seconds", "scrape_series_added"]
                .iter()
                .all(|n| {
                    last(&db, n, "node-c")
                        .first()
                        .is_some_and(|v| argus_core::series::is_stale(*v))
                })
        })
        .await;
        m.abort_discovered();
    }
}

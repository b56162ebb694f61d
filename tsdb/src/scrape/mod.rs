//! The scraper: one loop per target, each scraping on its own interval at an offset spread
//! by a hash of its URL (as Prometheus spreads them), writing the samples with the target's
//! `job`/`instance` and static labels (`honor_labels` decides who wins a clash, the loser
//! kept as `exported_<name>`), the report series `up`, `scrape_duration_seconds`,
//! `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`,
//! `scrape_series_added`, and staleness markers for series that disappear or for all of a
//! target's series when it goes down.

pub mod config;
mod fetch;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
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

/// All targets of all jobs.
#[derive(Debug, Default)]
pub struct Manager {
    targets: Vec<Arc<Target>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
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
            let relabel = c
                .metric_relabel_configs
                .iter()
                .map(Relabel::compile)
                .collect::<Result<Vec<_>, _>>()?;
            for sc in &c.static_configs {
                for host in &sc.targets {
                    let mut pairs: Vec<(String, String)> = sc
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    pairs.push(("job".into(), c.job_name.clone()));
                    pairs.push(("instance".into(), host.clone()));
                    targets.push(Arc::new(Target {
                        job: c.job_name.clone(),
                        url: format!("{}://{host}{}", c.scheme, c.metrics_path),
                        labels: Labels::new(pairs),
                        interval: c.scrape_interval,
                        timeout: c.scrape_timeout,
                        honor_labels: c.honor_labels,
                        honor_timestamps: c.honor_timestamps,
                        relabel: relabel.clone(),
                        status: Mutex::new(Status {
                            health: Health::Unknown,
                            last_error: String::new(),
                            last_scrape: None,
                            last_duration: Duration::ZERO,
                            samples: 0,
                        }),
                    }));
                }
            }
        }
        Ok(Manager { targets })
    }

    pub fn targets(&self) -> &[Arc<Target>] {
        &self.targets
    }

    /// Starts one loop per target on the current tokio runtime.
    pub fn start(&self, db: Arc<Db>) -> Vec<tokio::task::JoinHandle<()>> {
        let fetcher = Fetcher::default();
        self.targets
            .iter()
            .map(|t| tokio::spawn(run(t.clone(), db.clone(), fetcher.clone())))
            .collect()
    }
}

async fn run(t: Arc<Target>, db: Arc<Db>, fetcher: Fetcher) {
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
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let mut tick = tokio::time::interval(t.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut previous: HashSet<Labels> = HashSet::new();
    loop {
        tick.tick().await;
        let start = now_ms();
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
}

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
}

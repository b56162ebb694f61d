//! `argus-bench`: measures the `argus` binary (collector throughput, end-to-end ingest,
//! search latency on generated kubelet-style CRI logs; scrape cost, the metrics store and
//! alert notification beside their Prometheus-ecosystem peers). Benchmarks measure and
//! print; they never assert.

mod gen;
mod http;
mod notify;
mod procs;
mod scrape;
mod tsdb;
mod watcher;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gen::{Dataset, Target};
use procs::Proc;

#[derive(Parser)]
#[command(name = "argus-bench", about = "Benchmarks of the argus binary")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Common {
    /// The argus binary [default: target/release/argus under the current dir or the workspace].
    #[arg(long)]
    argus: Option<PathBuf>,
    /// Where temporary data goes [default: the system temp dir].
    #[arg(long)]
    tmp_dir: Option<PathBuf>,
    /// Keep the temporary directory (generated logs, data, process logs) for inspection.
    #[arg(long)]
    keep: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Collector throughput: generated files → argus collector → in-process null receiver.
    Collector {
        /// File counts to run, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,100")]
        files: Vec<usize>,
        /// MiB of CRI log files to generate (CRI prefix included).
        #[arg(long, default_value_t = 512)]
        mib: u64,
        #[command(flatten)]
        common: Common,
    },
    /// End to end: generated files → argus collector → argus aggregator, until searchable.
    E2e {
        #[arg(long, default_value_t = 100)]
        files: usize,
        #[arg(long, default_value_t = 256)]
        mib: u64,
        #[command(flatten)]
        common: Common,
    },
    /// The cluster watcher against the fake API server: time to record every Event, RSS,
    /// CPU per 1,000 Event updates a second.
    Watcher {
        #[arg(long, default_value_t = 5_000)]
        pods: usize,
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Event updates a second in the sustained phase.
        #[arg(long, default_value_t = 1_000)]
        rate: usize,
        #[arg(long, default_value_t = 10)]
        secs: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Scrape latency and CPU of the collector's metrics endpoints on a generated node,
    /// beside the real node_exporter.
    Scrape {
        #[arg(long, default_value_t = 100)]
        pods: usize,
        /// Containers per pod, the pod sandbox included.
        #[arg(long, default_value_t = 3)]
        containers_per_pod: usize,
        #[arg(long, default_value_t = 100)]
        runs: usize,
        #[command(flatten)]
        common: Common,
    },
    /// The metrics store and PromQL beside Prometheus 2.42 on the same generated data.
    Tsdb {
        #[arg(long, default_value_t = 100_000)]
        series: usize,
        #[arg(long, default_value_t = 6)]
        hours: u64,
        /// Seconds between samples.
        #[arg(long, default_value_t = 15)]
        step: u64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Alert notification latency (rule evaluation → delivered webhook) and CPU, beside
    /// Prometheus 2.42 + Alertmanager 0.25 on the same scrape target.
    Notify {
        /// Alerts that fire at once (series of the scrape target).
        #[arg(long, default_value_t = 1000)]
        alerts: usize,
        /// Values of the `group` label the alerts spread over (the route's group_by).
        #[arg(long, default_value_t = 50)]
        groups: usize,
        /// Runs; each system is restarted on a fresh data directory for each.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Seconds to wait for every alert at the webhook.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// The route's group_wait for both systems; each value is a set of runs.
        #[arg(long, value_delimiter = ',', default_value = "0s,1s")]
        group_wait: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Search latency over ingested generated logs, beside grep over the raw files.
    Search {
        /// Lines to generate and ingest.
        #[arg(long, default_value_t = 5_000_000)]
        lines: u64,
        #[arg(long, default_value_t = 20)]
        files: usize,
        /// Timed runs per argus query.
        #[arg(long, default_value_t = 30)]
        runs: usize,
        /// Timed runs per grep.
        #[arg(long, default_value_t = 5)]
        grep_runs: usize,
        #[command(flatten)]
        common: Common,
    },
}

fn main() {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Collector { files, mib, common } => bench_collector(&files, mib, &common),
        Cmd::E2e { files, mib, common } => bench_e2e(files, mib, &common),
        Cmd::Tsdb {
            series,
            hours,
            step,
            runs,
            common,
        } => tsdb::bench_tsdb(series, hours, step, runs, &common),
        Cmd::Watcher {
            pods,
            events,
            rate,
            secs,
            common,
        } => watcher::bench_watcher(pods, events, rate, secs, &common),
        Cmd::Scrape {
            pods,
            containers_per_pod,
            runs,
            common,
        } => scrape::bench_scrape(pods, containers_per_pod, runs, &common),
        Cmd::Notify {
            alerts,
            groups,
            runs,
            timeout,
            group_wait,
            common,
        } => notify::bench_notify(
            &notify::Params {
                alerts,
                groups,
                runs,
                timeout_s: timeout,
                group_waits: group_wait,
            },
            &common,
        ),
        Cmd::Search {
            lines,
            files,
            runs,
            grep_runs,
            common,
        } => bench_search(lines, files, runs, grep_runs, &common),
    };
    if let Err(e) = res {
        eprintln!("argus-bench: error: {e:#}");
        std::process::exit(1);
    }
}

const MIB: f64 = 1024.0 * 1024.0;

impl Common {
    fn argus(&self) -> Result<PathBuf> {
        let candidates = match &self.argus {
            Some(p) => vec![p.clone()],
            None => vec![
                PathBuf::from("target/release/argus"),
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/argus"),
            ],
        };
        for c in &candidates {
            if c.is_file() {
                return Ok(c.canonicalize()?);
            }
        }
        bail!(
            "argus binary not found at {}; run `cargo build --release --bin argus` or pass --argus",
            candidates[0].display()
        )
    }

    fn tempdir(&self) -> Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new()
            .prefix("argus-bench-")
            .disable_cleanup(self.keep)
            .tempdir_in(self.tmp_dir.clone().unwrap_or_else(std::env::temp_dir))?;
        if self.keep {
            println!("keeping {}", dir.path().display());
        }
        Ok(dir)
    }

    fn args(&self, argus: &Path) -> String {
        let mut s = format!(" --argus {}", argus.display());
        if self.keep {
            s.push_str(" --keep");
        }
        if let Some(t) = &self.tmp_dir {
            s.push_str(&format!(" --tmp-dir {}", t.display()));
        }
        s
    }
}

fn exe() -> String {
    std::env::args()
        .next()
        .unwrap_or_else(|| "argus-bench".into())
}

fn header(what: &str) {
    println!(
        "== argus-bench {what} | load average {} | {} cores ==",
        procs::loadavg(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
}

fn generate(root: &Path, files: usize, target: Target) -> Result<Dataset> {
    let t = Instant::now();
    let ds = gen::generate(root, files, target)?;
    println!(
        "generated {} lines, {:.1} MiB in {} file(s) in {:.1}s (avg line {:.0} B)",
        ds.lines,
        ds.mib(),
        ds.files.len(),
        t.elapsed().as_secs_f64(),
        ds.bytes as f64 / ds.lines.max(1) as f64
    );
    Ok(ds)
}

fn collector_args(aggregator: &str, tmp: &Path, metrics: SocketAddr) -> Vec<String> {
    [
        "collector",
        "--aggregator",
        aggregator,
        "--log-root",
        &tmp.join("logs").display().to_string(),
        "--checkpoint-dir",
        &tmp.join("checkpoints").display().to_string(),
        "--listen",
        &metrics.to_string(),
        "--node-name",
        "n1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Prints rows as an aligned table.
fn table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if i == 0 {
                    format!("{s:<w$}", w = widths[i])
                } else {
                    format!("{s:>w$}", w = widths[i])
                }
            })
            .collect();
        println!("  {}", line.join("  "));
    }
}

fn row(cells: &[&dyn std::fmt::Display]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// collector

struct CollectorRun {
    files: usize,
    mib: f64,
    lines: u64,
    wall: f64,
    cpu: f64,
    rss: f64,
    requests: u64,
    wire_bytes: u64,
    receiver_cpu: f64,
}

fn run_collector(argus: &Path, common: &Common, files: usize, mib: u64) -> Result<CollectorRun> {
    let tmp = common.tempdir()?;
    let ds = generate(&tmp.path().join("logs"), files, Target::Bytes(mib << 20))?;
    let recv = http::NullReceiver::start()?;
    let metrics = loopback(http::free_port()?);
    let args = collector_args(&format!("http://{}", recv.addr), tmp.path(), metrics);
    let self_cpu0 = procs::self_cpu_secs()?;
    let t0 = Instant::now();
    let mut coll = Proc::spawn(
        "argus collector",
        argus,
        &args,
        &tmp.path().join("collector.log"),
    )?;
    let mut last_progress = (0u64, 0u64, Instant::now());
    let lines_read = loop {
        std::thread::sleep(Duration::from_millis(50));
        coll.check_alive()?;
        let Ok(v) = http::scrape(metrics, &["argus_collector_lines_read_total"]) else {
            if t0.elapsed() > Duration::from_secs(30) && last_progress.0 == 0 {
                bail!("collector metrics never answered on {metrics}");
            }
            continue;
        };
        let lines = v[0] as u64;
        let records = recv
            .stats
            .records
            .load(std::sync::atomic::Ordering::Relaxed);
        if lines >= ds.lines && records >= ds.lines {
            break lines;
        }
        if (lines, records) != (last_progress.0, last_progress.1) {
            last_progress = (lines, records, Instant::now());
        } else if last_progress.2.elapsed() > Duration::from_secs(60) {
            bail!(
                "no progress for 60s: collector read {lines} of {} lines, receiver got {records} records \
                 in {} requests ({} unparsable); collector log:\n{}",
                ds.lines,
                recv.stats.requests.load(std::sync::atomic::Ordering::Relaxed),
                recv.stats.bad_bodies.load(std::sync::atomic::Ordering::Relaxed),
                coll.log_tail(20)
            );
        }
    };
    let cpu = coll.cpu_secs()?;
    let rss = coll.peak_rss_mib()?;
    let wall = recv.last_request_since(t0);
    let receiver_cpu = procs::self_cpu_secs()? - self_cpu0;
    let st = &recv.stats;
    let records = st.records.load(std::sync::atomic::Ordering::Relaxed);
    if records != ds.lines || lines_read != ds.lines {
        println!(
            "  note: collector read {lines_read} lines, receiver got {records} records, generated {}",
            ds.lines
        );
    }
    drop(coll);
    Ok(CollectorRun {
        files,
        mib: ds.mib(),
        lines: ds.lines,
        wall,
        cpu,
        rss,
        requests: st.requests.load(std::sync::atomic::Ordering::Relaxed),
        wire_bytes: st.bytes.load(std::sync::atomic::Ordering::Relaxed),
        receiver_cpu,
    })
}

fn bench_collector(files: &[usize], mib: u64, common: &Common) -> Result<()> {
    let argus = common.argus()?;
    header("collector");
    let mut runs = Vec::new();
    for &f in files {
        println!("-- {f} file(s), {mib} MiB --");
        runs.push(run_collector(&argus, common, f, mib)?);
    }
    println!();
    println!(
        "argus collector → null OTLP/HTTP receiver (MiB = bytes of CRI files, prefix included)"
    );
    let mut rows = vec![row(&[
        &"files",
        &"MiB",
        &"lines",
        &"wall s",
        &"MiB/s wall",
        &"CPU s",
        &"MiB/s per core",
        &"lines/s per core",
        &"CPU s per GiB",
        &"peak RSS MiB",
        &"batches",
        &"wire MiB",
        &"receiver CPU s",
    ])];
    for r in &runs {
        rows.push(row(&[
            &r.files,
            &format!("{:.0}", r.mib),
            &r.lines,
            &format!("{:.2}", r.wall),
            &format!("{:.1}", r.mib / r.wall),
            &format!("{:.2}", r.cpu),
            &format!("{:.1}", r.mib / r.cpu),
            &format!("{:.0}", r.lines as f64 / r.cpu),
            &format!("{:.2}", r.cpu / (r.mib / 1024.0)),
            &format!("{:.1}", r.rss),
            &r.requests,
            &format!("{:.0}", r.wire_bytes as f64 / MIB),
            &format!("{:.2}", r.receiver_cpu),
        ]));
    }
    table(&rows);
    println!();
    println!("published figures of peers (NOT measured here, other hardware and setups):");
    table(&[
        row(&[&"Vector (file → blackhole/tcp)", &"76.7 MiB/s on 2 vCPU"]),
        row(&[&"Fluent Bit", &"35 MiB/s"]),
    ]);
    println!();
    println!(
        "reproduce: {} collector --files {} --mib {mib}{}",
        exe(),
        files
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(","),
        common.args(&argus)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// e2e

struct Ingest {
    agg: Proc,
    api: SocketAddr,
    wall: f64,
    ack_wall: f64,
    collector_cpu: f64,
    aggregator_cpu: f64,
    collector_rss: f64,
    aggregator_rss: f64,
    index_bytes: f64,
    docs: u64,
}

/// Runs the aggregator and the collector over `ds` until every line is searchable; the
/// aggregator is returned still running.
fn ingest(argus: &Path, tmp: &Path, ds: &Dataset) -> Result<Ingest> {
    let api = loopback(http::free_port()?);
    let mut agg = Proc::spawn(
        "argus aggregator",
        argus,
        &[
            "aggregator".to_string(),
            "--listen".into(),
            api.to_string(),
            "--data-dir".into(),
            tmp.join("data").display().to_string(),
        ],
        &tmp.join("aggregator.log"),
    )?;
    agg.wait_ready(api, Duration::from_secs(30))?;
    let agg_cpu0 = agg.cpu_secs()?;
    let metrics = loopback(http::free_port()?);
    let t0 = Instant::now();
    let mut coll = Proc::spawn(
        "argus collector",
        argus,
        &collector_args(&format!("http://{api}"), tmp, metrics),
        &tmp.join("collector.log"),
    )?;
    let mut ack_wall = None;
    let mut last = (0u64, Instant::now());
    let names = [
        "argus_aggregator_ingested_records_total",
        "argus_aggregator_index_documents",
        "argus_aggregator_index_size_bytes",
        "argus_aggregator_duplicate_records_total",
        "argus_aggregator_expired_records_total",
        "argus_aggregator_index_errors_total",
    ];
    let (docs, index_bytes) = loop {
        std::thread::sleep(Duration::from_millis(100));
        coll.check_alive()?;
        agg.check_alive()?;
        let v = http::scrape(api, &names)?;
        let (ingested, docs) = (v[0] as u64, v[1] as u64);
        if ack_wall.is_none() && ingested >= ds.lines {
            ack_wall = Some(t0.elapsed().as_secs_f64());
        }
        if docs >= ds.lines {
            break (docs, v[2]);
        }
        let progress = ingested + docs;
        if progress != last.0 {
            last = (progress, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(120) {
            let coll_m = http::scrape(metrics, &["argus_collector_lines_read_total"])
                .map(|v| v[0] as u64)
                .unwrap_or(0);
            bail!(
                "no progress for 120s: {} lines generated, collector read {coll_m}, aggregator \
                 ingested {ingested}, searchable {docs} (duplicates {}, expired {}, index errors {})\n\
                 collector log:\n{}\naggregator log:\n{}",
                ds.lines,
                v[3],
                v[4],
                v[5],
                coll.log_tail(10),
                agg.log_tail(10)
            );
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    println!("  CPU seconds by thread name (aggregator includes its startup):");
    println!("    aggregator: {}", thread_cpu(&agg));
    println!("    collector:  {}", thread_cpu(&coll));
    let res = Ingest {
        wall,
        ack_wall: ack_wall.unwrap_or(wall),
        collector_cpu: coll.cpu_secs()?,
        aggregator_cpu: agg.cpu_secs()? - agg_cpu0,
        collector_rss: coll.peak_rss_mib()?,
        aggregator_rss: agg.peak_rss_mib()?,
        index_bytes,
        docs,
        agg,
        api,
    };
    drop(coll);
    Ok(res)
}

/// CPU seconds per thread name (threads of the same name summed), largest first.
fn thread_cpu(p: &Proc) -> String {
    let mut by: Vec<(String, f64)> = Vec::new();
    let task = format!("/proc/{}/task", p.pid());
    for t in std::fs::read_dir(&task).into_iter().flatten().flatten() {
        let dir = t.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let Ok(cpu) = procs::cpu_secs(&dir.join("stat").display().to_string()) else {
            continue;
        };
        let name = name.trim().to_string();
        match by.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 += cpu,
            None => by.push((name, cpu)),
        }
    }
    let live: f64 = by.iter().map(|(_, c)| c).sum();
    if let Ok(total) = p.cpu_secs() {
        by.push(("(exited threads)".into(), total - live));
    }
    by.sort_by(|a, b| b.1.total_cmp(&a.1));
    by.iter()
        .filter(|(_, c)| *c >= 0.01)
        .map(|(n, c)| format!("{n} {c:.1}s"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_ingest(ds: &Dataset, r: &Ingest) {
    let mib = ds.mib();
    let cpu = r.collector_cpu + r.aggregator_cpu;
    table(&[
        row(&[&"lines", &ds.lines]),
        row(&[&"MiB (CRI files)", &format!("{mib:.1}")]),
        row(&[&"searchable docs", &r.docs]),
        row(&[&"wall s until all acked", &format!("{:.2}", r.ack_wall)]),
        row(&[&"wall s until all searchable", &format!("{:.2}", r.wall)]),
        row(&[&"MiB/s wall (searchable)", &format!("{:.1}", mib / r.wall)]),
        row(&[&"collector CPU s", &format!("{:.2}", r.collector_cpu)]),
        row(&[&"aggregator CPU s", &format!("{:.2}", r.aggregator_cpu)]),
        row(&[
            &"MiB per CPU-second (collector+aggregator)",
            &format!("{:.2}", mib / cpu),
        ]),
        row(&[
            &"MiB per aggregator CPU-second",
            &format!("{:.2}", mib / r.aggregator_cpu),
        ]),
        row(&[
            &"aggregator peak RSS MiB",
            &format!("{:.0}", r.aggregator_rss),
        ]),
        row(&[
            &"collector peak RSS MiB",
            &format!("{:.0}", r.collector_rss),
        ]),
        row(&[&"store on disk MiB", &format!("{:.0}", r.index_bytes / MIB)]),
    ]);
}

fn bench_e2e(files: usize, mib: u64, common: &Common) -> Result<()> {
    let argus = common.argus()?;
    header("e2e");
    let tmp = common.tempdir()?;
    let ds = generate(&tmp.path().join("logs"), files, Target::Bytes(mib << 20))?;
    let r = ingest(&argus, tmp.path(), &ds)?;
    println!();
    println!("argus collector → argus aggregator, until index_documents = lines:");
    print_ingest(&ds, &r);
    println!();
    println!("for scale (reference figures, NOT measured by this run):");
    table(&[
        row(&[
            &"plain-schema tantivy on this machine",
            &"~7.5 MiB per CPU-second",
        ]),
        row(&[&"Quickwit (published)", &"7.5 MB/s per core"]),
    ]);
    println!();
    println!(
        "reproduce: {} e2e --files {files} --mib {mib}{}",
        exe(),
        common.args(&argus)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// search

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

struct Timings {
    first: f64,
    p50: f64,
    p99: f64,
    count: u64,
}

fn search_once(api: SocketAddr, ds: &Dataset, query: &str) -> Result<(f64, u64)> {
    let path = format!(
        "/api/v1/logs/search?query={}&start={}&end={}&limit=100",
        http::urlencode(query),
        ds.start_s,
        ds.end_s
    );
    let t = Instant::now();
    let (status, body) = http::get(api, &path, Duration::from_secs(120))?;
    let el = t.elapsed().as_secs_f64();
    if status != 200 {
        bail!("search {query:?} answered {status}: {body}");
    }
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let total = v["data"]["total"]
        .as_u64()
        .ok_or_else(|| anyhow!("no data.total in {}", &body[..body.len().min(300)]))?;
    Ok((el, total))
}

fn time_argus(api: SocketAddr, ds: &Dataset, query: &str, runs: usize) -> Result<Timings> {
    let (first, count) = search_once(api, ds, query)?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (el, n) = search_once(api, ds, query)?;
        if n != count {
            println!("  note: {query:?} total changed between runs: {count} → {n}");
        }
        t.push(el);
    }
    t.sort_by(f64::total_cmp);
    Ok(Timings {
        first,
        p50: percentile(&t, 0.5),
        p99: percentile(&t, 0.99),
        count,
    })
}

fn grep_once(args: &[&str], files: &[PathBuf]) -> Result<(f64, u64)> {
    let t = Instant::now();
    let out = Command::new("grep")
        .env("LC_ALL", "C")
        .args(args)
        .args(files)
        .output()
        .context("running grep")?;
    let el = t.elapsed().as_secs_f64();
    // grep exits 1 when nothing matched; -c still prints zeros.
    if out.status.code() == Some(2) {
        bail!("grep failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let n = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse::<u64>().unwrap_or(0))
        .sum();
    Ok((el, n))
}

fn time_grep(args: &[&str], files: &[PathBuf], runs: usize) -> Result<Timings> {
    let (first, count) = grep_once(args, files)?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        t.push(grep_once(args, files)?.0);
    }
    t.sort_by(f64::total_cmp);
    Ok(Timings {
        first,
        p50: percentile(&t, 0.5),
        p99: percentile(&t, 0.99),
        count,
    })
}

fn ms(s: f64) -> String {
    format!("{:.1}", s * 1000.0)
}

fn bench_search(
    lines: u64,
    files: usize,
    runs: usize,
    grep_runs: usize,
    common: &Common,
) -> Result<()> {
    let argus = common.argus()?;
    header("search");
    let tmp = common.tempdir()?;
    let ds = generate(&tmp.path().join("logs"), files, Target::Lines(lines))?;
    let ing = ingest(&argus, tmp.path(), &ds)?;
    println!();
    println!("ingest (argus collector → argus aggregator, until searchable):");
    print_ingest(&ds, &ing);
    // Background merges still running would compete with the timed queries (grep has the
    // machine to itself): wait until the aggregator is idle.
    let settle = Instant::now();
    loop {
        let before = ing.agg.cpu_secs()?;
        std::thread::sleep(Duration::from_secs(1));
        let used = ing.agg.cpu_secs()? - before;
        if used < 0.05 || settle.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    println!(
        "  aggregator idle {:.1} s after searchable (merges done)",
        settle.elapsed().as_secs_f64()
    );

    let ns = "payments";
    let ns_files = ds.files_of(ns);
    let all = ds.all_paths();
    // (label, argus query, grep arguments, files grep reads)
    let cases: [(&str, &str, Vec<&str>, &[PathBuf]); 3] = [
        (
            "term (free text)",
            "deadlock",
            vec!["-c", "-h", "-i", "-w", "deadlock"],
            &all,
        ),
        (
            "namespace + |= substring",
            "{namespace=\"payments\"} |= \"error\"",
            vec!["-c", "-h", "error"],
            &ns_files,
        ),
        (
            "namespace + |~ regex",
            "{namespace=\"payments\"} |~ \"status=5\\\\d\\\\d\"",
            vec!["-c", "-h", "-E", "status=5[0-9][0-9]"],
            &ns_files,
        ),
    ];
    // Warm the page cache for grep, as the aggregator's index is warm from ingest.
    for f in &all {
        std::io::copy(&mut std::fs::File::open(f)?, &mut std::io::sink())?;
    }
    let mut rows = vec![row(&[
        &"query",
        &"argus first ms",
        &"argus p50 ms",
        &"argus p99 ms",
        &"argus total",
        &"grep first ms",
        &"grep p50 ms",
        &"grep p99 ms",
        &"grep count",
        &"agree",
    ])];
    let mut legend = Vec::new();
    for (label, q, gargs, gfiles) in &cases {
        let a = time_argus(ing.api, &ds, q, runs)?;
        let g = time_grep(gargs, gfiles, grep_runs)?;
        rows.push(row(&[
            label,
            &ms(a.first),
            &ms(a.p50),
            &ms(a.p99),
            &a.count,
            &ms(g.first),
            &ms(g.p50),
            &ms(g.p99),
            &g.count,
            &if a.count == g.count { "yes" } else { "NO" },
        ]));
        legend.push(format!(
            "  {label}: argus `{q}` | LC_ALL=C grep {} over {} file(s), {:.0} MiB",
            gargs.join(" "),
            gfiles.len(),
            ds.files
                .iter()
                .filter(|f| gfiles.contains(&f.path))
                .map(|f| f.bytes as f64)
                .sum::<f64>()
                / MIB
        ));
    }
    println!();
    println!(
        "search latency over {} lines ({:.0} MiB): argus HTTP round trip (limit=100, range covering \
         all data): first run shown apart, then {runs} timed runs; grep likewise with {grep_runs} runs",
        ds.lines,
        ds.mib()
    );
    table(&rows);
    for l in legend {
        println!("{l}");
    }
    println!("  p99 of {runs} samples is the nearest-rank 99th percentile, i.e. the slowest run.");
    println!(
        "  aggregator peak RSS after the queries: {:.0} MiB",
        ing.agg.peak_rss_mib()?
    );
    println!();
    println!(
        "reproduce: {} search --lines {lines} --files {files} --runs {runs} --grep-runs {grep_runs}{}",
        exe(),
        common.args(&argus)
    );
    drop(ing);
    Ok(())
}

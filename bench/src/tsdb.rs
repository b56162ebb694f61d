//! The metrics store and PromQL beside Prometheus 2.42 on the same data: a generated
//! OpenMetrics file loaded into both (`argus tsdb import`; `promtool tsdb
//! create-blocks-from openmetrics`), then a rule-set-sized batch of instant queries and a
//! heavy `query_range` timed over HTTP on each, resident memory per series and bytes per
//! sample on disk.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{self, urlencode};
use crate::procs::Proc;
use crate::{exe, header, loopback, row, table, Common};

/// How long after the last query "RSS after queries" is read, on both sides: resident
/// memory once the work is over, as a dashboard shows it, not mid-way through freeing.
const SETTLE: Duration = Duration::from_secs(3);

const METRICS: [(&str, bool); 8] = [
    ("container_cpu_usage_seconds_total", true),
    ("container_memory_working_set_bytes", false),
    ("container_network_receive_bytes_total", true),
    ("container_network_transmit_bytes_total", true),
    ("container_fs_reads_bytes_total", true),
    ("container_memory_rss", false),
    ("container_cpu_cfs_throttled_periods_total", true),
    ("container_cpu_cfs_periods_total", true),
];

/// Writes the data set; returns (series, samples).
fn generate(path: &Path, series: usize, hours: u64, step: u64, end: i64) -> Result<(u64, u64)> {
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::with_capacity(4 << 20, f);
    let points = hours * 3600 / step;
    let start = end - (points as i64 - 1) * step as i64;
    let per_metric = series / METRICS.len();
    let mut samples = 0u64;
    for (m, counter) in METRICS {
        let family = m.strip_suffix("_total").unwrap_or(m);
        writeln!(
            w,
            "# TYPE {family} {}",
            if counter { "counter" } else { "gauge" }
        )?;
        for i in 0..per_metric {
            let labels = format!(
                "{{namespace=\"ns{}\",pod=\"pod-{i}\",container=\"c{}\",instance=\"node-{}\",job=\"cadvisor\"}}",
                i % 50,
                i % 3,
                i % 20
            );
            let mut v = (i % 97) as f64;
            for p in 0..points {
                // Counters grow (with a reset now and then); gauges wander.
                if counter {
                    v += ((p * 7 + i as u64) % 13) as f64;
                    if (p + i as u64).is_multiple_of(997) {
                        v = 0.0;
                    }
                } else {
                    v = 1e6 + ((p * 31 + i as u64 * 17) % 1000) as f64;
                }
                writeln!(w, "{m}{labels} {v} {}", start + (p * step) as i64)?;
                samples += 1;
            }
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()?;
    Ok(((per_metric * METRICS.len()) as u64, samples))
}

/// Recording-rule-like expressions, as kubernetes-mixin's k8s.rules over cAdvisor data.
fn rule_set() -> Vec<String> {
    let mut v = Vec::new();
    for w in ["1m", "5m"] {
        v.push(format!(
            "sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total[{w}]))"
        ));
        v.push(format!(
            "sum by (namespace) (irate(container_cpu_usage_seconds_total[{w}]))"
        ));
        v.push(format!(
            "sum by (instance) (rate(container_network_receive_bytes_total[{w}]))"
        ));
        v.push(format!(
            "sum by (namespace) (rate(container_network_transmit_bytes_total[{w}]))"
        ));
        v.push(format!(
            "sum by (namespace, pod) (rate(container_fs_reads_bytes_total[{w}]))"
        ));
        v.push(format!(
            "sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total[{w}])) / sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total[{w}])) > 0.25"
        ));
    }
    for agg in ["sum", "max", "avg", "count"] {
        v.push(format!(
            "{agg} by (namespace, pod, container) (container_memory_working_set_bytes)"
        ));
        v.push(format!("{agg} by (namespace) (container_memory_rss)"));
    }
    v.push("topk(10, sum by (pod) (rate(container_cpu_usage_seconds_total[5m])))".into());
    v.push("quantile by (namespace) (0.9, container_memory_working_set_bytes)".into());
    v.push("container_memory_working_set_bytes > on (namespace, pod, container) group_left container_memory_rss".into());
    v.push("count(count by (instance) (container_cpu_usage_seconds_total))".into());
    v.push("max_over_time(container_memory_working_set_bytes[10m])".into());
    v.push("predict_linear(container_memory_rss[30m], 3600)".into());
    v
}

struct Side {
    name: &'static str,
    rules_ms: Vec<f64>,
    range_ms: Vec<f64>,
    rss_mib: f64,
    /// Resident memory once the data is loaded, before any query.
    loaded_mib: f64,
    disk: u64,
    load_s: f64,
    results: usize,
}

fn dir_size(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => n += dir_size(&e.path()),
                Ok(m) => n += m.len(),
                Err(_) => {}
            }
        }
    }
    n
}

fn rss_mib(pid: u32) -> Result<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")?;
    Ok(kib / 1024.0)
}

fn query(addr: std::net::SocketAddr, path: &str) -> Result<String> {
    let (status, body) = http::get(addr, path, Duration::from_secs(300))?;
    if status != 200 {
        bail!("GET {path}: {status}: {}", &body[..body.len().min(300)]);
    }
    Ok(body)
}

fn run_queries(
    addr: std::net::SocketAddr,
    end: i64,
    hours: u64,
    step: u64,
    runs: usize,
    side: &mut Side,
) -> Result<()> {
    let rules = rule_set();
    let heavy = "sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))";
    for _ in 0..runs {
        let t = Instant::now();
        let mut results = 0;
        for r in &rules {
            let b = query(
                addr,
                &format!("/api/v1/query?query={}&time={end}", urlencode(r)),
            )?;
            results += b.matches("\"metric\"").count();
        }
        side.rules_ms.push(t.elapsed().as_secs_f64() * 1e3);
        side.results = results;
        let t = Instant::now();
        query(
            addr,
            &format!(
                "/api/v1/query_range?query={}&start={}&end={end}&step={step}",
                urlencode(heavy),
                end - hours as i64 * 3600 + 600
            ),
        )?;
        side.range_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}

fn p50(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn bench_tsdb(
    series: usize,
    hours: u64,
    step: u64,
    runs: usize,
    common: &Common,
) -> Result<()> {
    let argus = common.argus()?;
    header("tsdb");
    for tool in ["promtool", "prometheus"] {
        if Command::new(tool).arg("--version").output().is_err() {
            bail!("{tool} not found: apt-get install prometheus");
        }
    }
    let tmp = common.tempdir()?;
    let root = tmp.path();
    let end = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64
        / 60)
        * 60;
    let om = root.join("data.om");
    let t = Instant::now();
    let (n_series, n_samples) = generate(&om, series, hours, step, end)?;
    println!(
        "generated {n_series} series x {} samples ({n_samples} samples, {:.0} MiB of OpenMetrics) in {:.1}s",
        n_samples / n_series.max(1),
        std::fs::metadata(&om)?.len() as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );

    // argus
    let data = root.join("argus");
    let t = Instant::now();
    let st = Command::new(&argus)
        .args(["tsdb", "import"])
        .arg(&om)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !st.success() {
        bail!("argus tsdb import failed");
    }
    let mut a = Side {
        name: "argus",
        rules_ms: vec![],
        range_ms: vec![],
        rss_mib: 0.0,
        loaded_mib: 0.0,
        disk: dir_size(&data.join("metrics")),
        load_s: t.elapsed().as_secs_f64(),
        results: 0,
    };
    let port = http::free_port()?;
    let cfg = root.join("argus.yaml");
    std::fs::write(&cfg, "aggregator:\n  metrics:\n    retention: 3650d\n")?;
    let args: Vec<String> = [
        "aggregator",
        "--config",
        &cfg.display().to_string(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        &data.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    {
        let mut p = Proc::spawn("aggregator", &argus, &args, &root.join("aggregator.log"))?;
        let addr = loopback(port);
        let t0 = Instant::now();
        while http::get(addr, "/healthz", Duration::from_secs(2))
            .map(|r| r.0)
            .ok()
            != Some(200)
        {
            p.check_alive()?;
            if t0.elapsed() > Duration::from_secs(600) {
                bail!("aggregator did not start");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(2));
        a.loaded_mib = rss_mib(p.pid())?;
        run_queries(addr, end, hours, step, runs, &mut a)?;
        std::thread::sleep(SETTLE);
        a.rss_mib = rss_mib(p.pid())?;
    }

    // Prometheus
    let pdata = root.join("prometheus");
    let t = Instant::now();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&pdata)
        .output()?;
    if !out.status.success() {
        bail!(
            "promtool create-blocks failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut p = Side {
        name: "prometheus 2.42",
        rules_ms: vec![],
        range_ms: vec![],
        rss_mib: 0.0,
        loaded_mib: 0.0,
        disk: dir_size(&pdata),
        load_s: t.elapsed().as_secs_f64(),
        results: 0,
    };
    let pport = http::free_port()?;
    let pcfg = root.join("prometheus.yml");
    std::fs::write(&pcfg, "global:\n  scrape_interval: 15s\n")?;
    let log = std::fs::File::create(root.join("prometheus.log"))?;
    let mut child = Command::new("prometheus")
        .arg(format!("--config.file={}", pcfg.display()))
        .arg(format!("--storage.tsdb.path={}", pdata.display()))
        .arg("--storage.tsdb.retention.time=3650d")
        .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()?;
    let paddr = loopback(pport);
    let t0 = Instant::now();
    let res = (|| -> Result<()> {
        while http::get(paddr, "/-/ready", Duration::from_secs(2))
            .map(|r| r.0)
            .ok()
            != Some(200)
        {
            if t0.elapsed() > Duration::from_secs(600) {
                bail!("prometheus did not become ready");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(2));
        p.loaded_mib = rss_mib(child.id())?;
        run_queries(paddr, end, hours, step, runs, &mut p)?;
        std::thread::sleep(SETTLE);
        p.rss_mib = rss_mib(child.id())?;
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    res?;

    println!();
    println!("{} rule-like instant queries per run, heavy query_range = sum by (namespace) (rate(cpu[5m])) over {hours}h at {step}s; {runs} runs (p50)", rule_set().len());
    let mut rows = vec![row(&[
        &"",
        &"load s",
        &"rule set p50 ms",
        &"query_range p50 ms",
        &"RSS loaded MiB",
        &"bytes/series loaded",
        &"RSS after queries MiB",
        &"bytes/series after",
        &"disk bytes/sample",
        &"result series",
    ])];
    for s in [&a, &p] {
        rows.push(row(&[
            &s.name,
            &format!("{:.1}", s.load_s),
            &format!("{:.1}", p50(&s.rules_ms)),
            &format!("{:.1}", p50(&s.range_ms)),
            &format!("{:.0}", s.loaded_mib),
            &format!("{:.0}", s.loaded_mib * (1 << 20) as f64 / n_series as f64),
            &format!("{:.0}", s.rss_mib),
            &format!("{:.0}", s.rss_mib * (1 << 20) as f64 / n_series as f64),
            &format!("{:.2}", s.disk as f64 / n_samples as f64),
            &s.results,
        ]));
    }
    table(&rows);
    println!(
        "time ratio argus/prometheus: rule set {:.2}, query_range {:.2}",
        p50(&a.rules_ms) / p50(&p.rules_ms),
        p50(&a.range_ms) / p50(&p.range_ms)
    );
    println!(
        "RSS loaded: 2 s after ready; RSS after queries: {} s after the last query",
        SETTLE.as_secs()
    );
    println!();
    println!(
        "reproduce: {} tsdb --series {series} --hours {hours} --step {step} --runs {runs}{}",
        exe(),
        common.args(&argus)
    );
    Ok(())
}

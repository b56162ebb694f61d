//! Alert notification latency beside Prometheus 2.42 + Alertmanager 0.25 (issue #5): a
//! scrape target whose N `bench_alert` series flip from 0 to 1 at T0, one alerting rule
//! evaluated every second, one webhook receiver grouped by `group`. Measured per alert:
//! webhook arrival − `startsAt` (the evaluation that fired it); per system: the CPU of
//! its processes from T0 to the last delivery, and per second before T0 and after the
//! last delivery. Each system runs alone, restarted on a fresh data directory for every
//! run.
//!
//! By default the runs are made with `group_wait` 0s and again with 1s: Prometheus sends
//! alerts to Alertmanager in batches of 64, so with 0s Alertmanager flushes a group before
//! the rest of it arrived and that rest waits `group_interval` (1m); 1s shows the
//! pipelines without that effect.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::{self, urlencode};
use crate::procs::Proc;
use crate::{exe, header, loopback, percentile, row, table, Common};

const RULES: &str = r#"groups:
  - name: bench
    interval: 1s
    rules:
      - alert: BenchAlert
        expr: bench_alert > 0
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.group }}/{{ $labels.i }}"
"#;

/// How long the CPU rate of a system is measured before T0 (quiet) and after the last
/// delivery (every alert firing).
const STEADY: Duration = Duration::from_secs(3);

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The notification config, identical for both systems but for the webhook address.
fn am_config(hook: SocketAddr, group_wait: &str) -> String {
    format!(
        "route:\n  receiver: hook\n  group_by: [group]\n  group_wait: {group_wait}\n  \
         group_interval: 1m\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    \
         webhook_configs:\n      - url: http://{hook}/hook\n"
    )
}

// ---------------------------------------------------------------------------------------
// the scrape target

/// `bench_alert{group, i}` series on a loopback port, 0 until [`Target::fire`].
struct Target {
    addr: SocketAddr,
    firing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

/// The exposition for `alerts` series spread over `groups` groups, all at `value`.
fn exposition(alerts: usize, groups: usize, value: u8) -> String {
    let width = (groups.saturating_sub(1)).to_string().len().max(2);
    let mut s = String::from("# TYPE bench_alert gauge\n");
    for k in 0..alerts {
        s.push_str(&format!(
            "bench_alert{{group=\"g{:0width$}\",i=\"{}\"}} {value}\n",
            k % groups,
            k / groups
        ));
    }
    s
}

impl Target {
    fn start(alerts: usize, groups: usize) -> Result<Target> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let bodies = Arc::new([exposition(alerts, groups, 0), exposition(alerts, groups, 1)]);
        let firing = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, sp) = (firing.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (f, b) = (f.clone(), bodies.clone());
                std::thread::spawn(move || {
                    let _ = serve_target(conn, &f, &b);
                });
            }
        });
        Ok(Target { addr, firing, stop })
    }

    fn fire(&self, on: bool) {
        self.firing.store(on, Relaxed);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Answers every request on a keep-alive connection with the current body.
fn serve_target(conn: TcpStream, firing: &AtomicBool, bodies: &[String; 2]) -> Result<()> {
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    let (mut first, mut body) = (String::new(), Vec::new());
    while let Some((len, chunked)) = http::read_headers(&mut r, &mut first)? {
        http::read_body(&mut r, len, chunked, &mut body)?;
        let text = &bodies[usize::from(firing.load(Relaxed))];
        write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// the webhook receiver

/// When the first firing notification carrying an alert arrived, and its `startsAt`.
#[derive(Clone, Copy)]
struct Arrival {
    at_ms: i64,
    starts_at_ms: i64,
}

#[derive(Default)]
struct HookStats {
    posts: AtomicU64,
    bad_bodies: AtomicU64,
    /// Distinct firing alerts received (`first.len()`, readable without the lock).
    delivered: AtomicU64,
    /// By `group/i`.
    first: Mutex<HashMap<String, Arrival>>,
}

/// Alertmanager webhook (v4 JSON) receiver on a loopback port.
struct Webhook {
    addr: SocketAddr,
    stats: Arc<HookStats>,
    stop: Arc<AtomicBool>,
}

impl Webhook {
    fn start() -> Result<Webhook> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(HookStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (stats.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve_hook(conn, &st);
                });
            }
        });
        Ok(Webhook { addr, stats, stop })
    }

    fn arrivals(&self) -> Vec<Arrival> {
        let first = self.stats.first.lock().unwrap_or_else(|e| e.into_inner());
        first.values().copied().collect()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve_hook(conn: TcpStream, st: &HookStats) -> Result<()> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    let (mut first, mut body) = (String::new(), Vec::new());
    while let Some((len, chunked)) = http::read_headers(&mut r, &mut first)? {
        http::read_body(&mut r, len, chunked, &mut body)?;
        let at_ms = now_ms();
        if first.starts_with("POST") {
            st.posts.fetch_add(1, Relaxed);
            if record(st, &body, at_ms).is_none() {
                st.bad_bodies.fetch_add(1, Relaxed);
            }
        }
        w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?;
    }
    Ok(())
}

/// Records the firing alerts of one webhook body; `None` if it is not a v4 payload.
fn record(st: &HookStats, body: &[u8], at_ms: i64) -> Option<()> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut first = st.first.lock().unwrap_or_else(|e| e.into_inner());
    for a in v["alerts"].as_array()? {
        if a["status"] != "firing" {
            continue;
        }
        let l = &a["labels"];
        let key = format!("{}/{}", l["group"].as_str()?, l["i"].as_str()?);
        let starts_at_ms = rfc3339_ms(a["startsAt"].as_str()?)?;
        if let std::collections::hash_map::Entry::Vacant(e) = first.entry(key) {
            e.insert(Arrival {
                at_ms,
                starts_at_ms,
            });
            st.delivered.fetch_add(1, Relaxed);
        }
    }
    Some(())
}

/// Milliseconds since the epoch of an RFC 3339 time (`Z` or `±hh:mm`, any fraction), as
/// Go's `time.Time` marshals it.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = s.get(19..)?;
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        ms = padded.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset_s) * 1000 + ms)
}

// ---------------------------------------------------------------------------------------
// the systems

/// One system's processes and the Prometheus-compatible query API of its rule engine.
struct System {
    name: &'static str,
    procs: Vec<Proc>,
    api: SocketAddr,
}

impl System {
    fn cpu(&self) -> Result<Vec<f64>> {
        self.procs.iter().map(Proc::cpu_secs).collect()
    }

    fn check_alive(&mut self) -> Result<()> {
        self.procs.iter_mut().try_for_each(Proc::check_alive)
    }
}

/// Waits until `GET path` on `addr` answers 200 with a body `ok` accepts.
fn wait_for(
    p: &mut System,
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
    ok: impl Fn(&str) -> bool,
) -> Result<()> {
    let t0 = Instant::now();
    loop {
        p.check_alive()?;
        if let Ok((200, body)) = http::get(addr, path, Duration::from_secs(2)) {
            if ok(&body) {
                return Ok(());
            }
        }
        if t0.elapsed() > timeout {
            let logs: Vec<String> = p
                .procs
                .iter()
                .map(|q| format!("{}:\n{}", q.name, q.log_tail(10)))
                .collect();
            bail!(
                "{}: http://{addr}{path} not as expected within {timeout:?}; logs:\n{}",
                p.name,
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of a one-sample instant query answer.
fn scalar(body: &str) -> Option<f64> {
    let v: Value = serde_json::from_str(body).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn start_argus(
    argus: &Path,
    dir: &Path,
    target: SocketAddr,
    hook: SocketAddr,
    group_wait: &str,
) -> Result<System> {
    std::fs::create_dir_all(dir)?;
    let rules = dir.join("rules.yml");
    std::fs::write(&rules, RULES)?;
    let am = dir.join("alertmanager.yml");
    std::fs::write(&am, am_config(hook, group_wait))?;
    let cfg = dir.join("argus.yaml");
    std::fs::write(
        &cfg,
        format!(
            "aggregator:\n  metrics:\n    scrape_interval: 1s\n    scrape_targets: \
             [\"http://{target}/metrics\"]\nalerting:\n  rule_files: [\"{}\"]\n",
            rules.display()
        ),
    )?;
    let api = loopback(http::free_port()?);
    let proc = Proc::spawn(
        "argus aggregator",
        argus,
        &args(&[
            "aggregator",
            "--config",
            &cfg.display().to_string(),
            "--alertmanager-config",
            &am.display().to_string(),
            "--listen",
            &api.to_string(),
            "--data-dir",
            &dir.join("data").display().to_string(),
        ]),
        &dir.join("aggregator.log"),
    )?;
    let mut sys = System {
        name: "argus",
        procs: vec![proc],
        api,
    };
    wait_for(&mut sys, api, "/healthz", Duration::from_secs(60), |_| true)?;
    Ok(sys)
}

fn start_peer(
    dir: &Path,
    target: SocketAddr,
    hook: SocketAddr,
    group_wait: &str,
) -> Result<System> {
    std::fs::create_dir_all(dir)?;
    let rules = dir.join("rules.yml");
    std::fs::write(&rules, RULES)?;
    let am = dir.join("alertmanager.yml");
    std::fs::write(&am, am_config(hook, group_wait))?;
    let am_addr = loopback(http::free_port()?);
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files: [\"{}\"]\nalerting:\n  alertmanagers:\n    - static_configs:\n        \
             - targets: [\"{am_addr}\"]\nscrape_configs:\n  - job_name: bench\n    \
             static_configs:\n      - targets: [\"{target}\"]\n",
            rules.display()
        ),
    )?;
    let api = loopback(http::free_port()?);
    let prom = Proc::spawn(
        "prometheus",
        Path::new("prometheus"),
        &[
            format!("--config.file={}", cfg.display()),
            format!("--storage.tsdb.path={}", dir.join("prometheus").display()),
            format!("--web.listen-address={api}"),
        ],
        &dir.join("prometheus.log"),
    )?;
    let alertmanager = Proc::spawn(
        "alertmanager",
        Path::new("prometheus-alertmanager"),
        &[
            format!("--config.file={}", am.display()),
            format!("--storage.path={}", dir.join("alertmanager").display()),
            format!("--web.listen-address={am_addr}"),
            "--cluster.listen-address=".into(),
        ],
        &dir.join("alertmanager.log"),
    )?;
    let mut sys = System {
        name: "prometheus + alertmanager",
        procs: vec![prom, alertmanager],
        api,
    };
    let t = Duration::from_secs(60);
    wait_for(&mut sys, am_addr, "/-/ready", t, |_| true)?;
    wait_for(&mut sys, api, "/-/ready", t, |_| true)?;
    wait_for(&mut sys, api, "/api/v1/alertmanagers", t, |b| {
        b.contains(&am_addr.to_string())
    })?;
    Ok(sys)
}

/// What one system did in one run.
struct Run {
    /// Webhook arrival − startsAt per delivered alert, ms, sorted.
    latency_ms: Vec<f64>,
    posts: u64,
    bad_bodies: u64,
    /// T0 → first and last delivery, seconds.
    first_s: f64,
    last_s: f64,
    /// CPU seconds per process from T0 until every alert was delivered (or the timeout).
    cpu: Vec<(&'static str, f64)>,
    /// CPU seconds per second of all its processes in the quiet seconds before T0.
    idle_cpu: f64,
    /// Likewise after the last delivery, every alert firing.
    firing_cpu: f64,
}

impl Run {
    fn cpu_total(&self) -> f64 {
        self.cpu.iter().map(|c| c.1).sum()
    }
}

/// CPU seconds per second of `sys` over `d`.
fn cpu_rate(sys: &System, d: Duration) -> Result<f64> {
    let c0: f64 = sys.cpu()?.iter().sum();
    std::thread::sleep(d);
    Ok((sys.cpu()?.iter().sum::<f64>() - c0) / d.as_secs_f64())
}

/// Waits until the system scraped the quiet target and evaluated the rule on it, flips
/// the target at T0 and waits for every alert at the webhook.
fn measure(
    sys: &mut System,
    target: &Target,
    hook: &Webhook,
    alerts: usize,
    timeout: Duration,
) -> Result<Run> {
    let query = format!(
        "/api/v1/query?query={}",
        urlencode("count(bench_alert == 0)")
    );
    let api = sys.api;
    wait_for(sys, api, &query, Duration::from_secs(60), |b| {
        scalar(b) == Some(alerts as f64)
    })?;
    // Quiet seconds: the rule is evaluated on the zeros (1 s interval) and the idle CPU of
    // scraping and evaluating is measured.
    let idle_cpu = cpu_rate(sys, STEADY)?;
    if hook.stats.posts.load(Relaxed) != 0 {
        println!("  note: {} notified before T0", sys.name);
    }
    let c0 = sys.cpu()?;
    let t0 = now_ms();
    target.fire(true);
    let started = Instant::now();
    while hook.stats.delivered.load(Relaxed) < alerts as u64 && started.elapsed() < timeout {
        sys.check_alive()?;
        std::thread::sleep(Duration::from_millis(5));
    }
    let c1 = sys.cpu()?;
    let firing_cpu = cpu_rate(sys, STEADY)?;
    target.fire(false);
    let arrivals = hook.arrivals();
    if arrivals.len() < alerts {
        println!(
            "  note: {}: {} of {alerts} alerts delivered within {timeout:?}",
            sys.name,
            arrivals.len()
        );
    }
    let mut latency_ms: Vec<f64> = arrivals
        .iter()
        .map(|a| (a.at_ms - a.starts_at_ms) as f64)
        .collect();
    latency_ms.sort_by(f64::total_cmp);
    let since_t0 = |ms: Option<i64>| ms.map_or(f64::NAN, |m| (m - t0) as f64 / 1000.0);
    Ok(Run {
        latency_ms,
        posts: hook.stats.posts.load(Relaxed),
        bad_bodies: hook.stats.bad_bodies.load(Relaxed),
        first_s: since_t0(arrivals.iter().map(|a| a.at_ms).min()),
        last_s: since_t0(arrivals.iter().map(|a| a.at_ms).max()),
        cpu: sys
            .procs
            .iter()
            .zip(c0.iter().zip(&c1))
            .map(|(p, (a, b))| (p.name, b - a))
            .collect(),
        idle_cpu,
        firing_cpu,
    })
}

// ---------------------------------------------------------------------------------------
// the benchmark

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn columns(first: &str) -> Vec<String> {
    row(&[
        &first,
        &"alerts",
        &"POSTs",
        &"min ms",
        &"p50 ms",
        &"p99 ms",
        &"max ms",
        &"T0→first s",
        &"T0→last s",
        &"CPU s T0→last",
        &"of which",
        &"idle CPU s/s",
        &"firing CPU s/s",
    ])
}

/// A table row of one run, or of per-figure medians over runs (latencies: the medians of
/// the runs' min, p50, p99 and max).
fn cells(label: &str, runs: &[Run]) -> Vec<String> {
    let m = |f: &dyn Fn(&Run) -> f64| median(runs.iter().map(f).collect());
    let lat = |q: f64| m(&|r: &Run| percentile(&r.latency_ms, q));
    let procs = runs.first().map_or(0, |r| r.cpu.len());
    let by = if procs > 1 {
        (0..procs)
            .map(|i| format!("{} {:.2}", runs[0].cpu[i].0, m(&|r: &Run| r.cpu[i].1)))
            .collect::<Vec<_>>()
            .join(" + ")
    } else {
        "-".into()
    };
    row(&[
        &label,
        &format!("{:.0}", m(&|r: &Run| r.latency_ms.len() as f64)),
        &format!("{:.0}", m(&|r: &Run| r.posts as f64)),
        &format!("{:.0}", lat(0.0)),
        &format!("{:.0}", lat(0.5)),
        &format!("{:.0}", lat(0.99)),
        &format!("{:.0}", lat(1.0)),
        &format!("{:.2}", m(&|r: &Run| r.first_s)),
        &format!("{:.2}", m(&|r: &Run| r.last_s)),
        &format!("{:.2}", m(&|r: &Run| r.cpu_total())),
        &by,
        &format!("{:.3}", m(&|r: &Run| r.idle_cpu)),
        &format!("{:.3}", m(&|r: &Run| r.firing_cpu)),
    ])
}

pub struct Params {
    pub alerts: usize,
    pub groups: usize,
    pub runs: usize,
    pub timeout_s: u64,
    pub group_waits: Vec<String>,
}

const SIDES: [&str; 2] = ["argus", "prometheus 2.42 + alertmanager 0.25"];

/// `runs` runs of both systems, one after the other, with one `group_wait`.
fn run_all(
    p: &Params,
    argus: &Path,
    root: &Path,
    target: &Target,
    group_wait: &str,
) -> Result<[Vec<Run>; 2]> {
    let timeout = Duration::from_secs(p.timeout_s);
    let mut results: [Vec<Run>; 2] = Default::default();
    for n in 0..p.runs {
        for (side, name) in SIDES.iter().enumerate() {
            let hook = Webhook::start()?;
            let dir = root.join(format!(
                "group_wait-{group_wait}/run{}/{}",
                n + 1,
                ["argus", "peer"][side]
            ));
            let mut sys = if side == 0 {
                start_argus(argus, &dir, target.addr, hook.addr, group_wait)?
            } else {
                start_peer(&dir, target.addr, hook.addr, group_wait)?
            };
            let r = measure(&mut sys, target, &hook, p.alerts, timeout)
                .with_context(|| format!("group_wait {group_wait}, run {}, {name}", n + 1))?;
            drop(sys);
            if r.bad_bodies > 0 {
                println!(
                    "  note: {name}: {} webhook bodies not understood",
                    r.bad_bodies
                );
            }
            println!(
                "-- group_wait {group_wait}, run {}: {name}: {} alerts, p50 {:.0} ms, T0→last {:.2} s",
                n + 1,
                r.latency_ms.len(),
                percentile(&r.latency_ms, 0.5),
                r.last_s
            );
            results[side].push(r);
        }
    }
    Ok(results)
}

pub fn bench_notify(p: &Params, common: &Common) -> Result<()> {
    let argus = common.argus()?;
    header("notify");
    for bin in ["prometheus", "prometheus-alertmanager"] {
        std::process::Command::new(bin)
            .arg("--version")
            .output()
            .with_context(|| format!("{bin} not found: apt-get install {bin}"))?;
    }
    if p.groups == 0 || p.alerts < p.groups {
        bail!("--alerts must be at least --groups, and --groups at least 1");
    }
    let tmp = common.tempdir()?;
    let target = Target::start(p.alerts, p.groups)?;
    let mut all = Vec::new();
    for gw in &p.group_waits {
        all.push(run_all(p, &argus, tmp.path(), &target, gw)?);
    }

    println!();
    println!(
        "{} alerts in {} groups: the target's series flip 0 → 1 at T0; scrape and rule \
         evaluation every 1 s; route group_by [group], group_interval 1m; one webhook receiver; \
         each system alone, restarted on a fresh data dir per run",
        p.alerts, p.groups
    );
    println!(
        "latency = webhook arrival − the alert's startsAt (the evaluation that fired it), first \
         firing notification per alert; CPU: /proc/<pid>/stat (10 ms ticks), from T0 until the \
         last alert arrived; idle/firing CPU: over {} s before T0 / after the last delivery",
        STEADY.as_secs()
    );
    for (gw, results) in p.group_waits.iter().zip(&all) {
        println!();
        println!("group_wait {gw}:");
        let mut rows = vec![columns("run")];
        for n in 0..p.runs {
            for (name, runs) in SIDES.iter().zip(results) {
                rows.push(cells(&format!("{} {name}", n + 1), &runs[n..=n]));
            }
        }
        rows.push(columns(&format!("median of {} run(s)", p.runs)));
        for (name, runs) in SIDES.iter().zip(results) {
            rows.push(cells(name, runs));
        }
        table(&rows);
    }
    println!();
    println!(
        "reproduce: {} notify --alerts {} --groups {} --runs {} --timeout {} --group-wait {}{}",
        exe(),
        p.alerts,
        p.groups,
        p.runs,
        p.timeout_s,
        p.group_waits.join(","),
        common.args(&argus)
    );
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_rfc3339() {
        for (s, ms) in [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2000-01-01T00:00:00Z", Some(946_684_800_000)),
            ("2000-03-01T00:00:00.5Z", Some(951_868_800_500)),
            ("2026-11-27T03:41:57.441099123Z", Some(1_795_750_917_441)),
            ("2026-11-27T04:41:57.441+01:00", Some(1_795_750_917_441)),
            ("2026-11-27T02:11:57.441-01:30", Some(1_795_750_917_441)),
            ("2026-11-27 03:41:57", None),
            ("garbage", None),
        ] {
            assert_eq!(rfc3339_ms(s), ms, "{s}");
        }
    }

    #[test]
    fn exposition_spreads_alerts_over_groups() {
        let e = exposition(1000, 50, 1);
        assert_eq!(e.lines().count(), 1001);
        assert!(e.contains("bench_alert{group=\"g00\",i=\"0\"} 1\n"));
        assert!(e.contains("bench_alert{group=\"g49\",i=\"19\"} 1\n"));
        assert!(!e.contains("i=\"20\""));
    }
}

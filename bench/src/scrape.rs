//! Scrape cost of the collector's metrics endpoints on a generated node: a cgroup v2 tree
//! (systemd driver) with N pods of M containers, their kubelet log layout and containerd
//! bundles, and one tailed log file per pod; the node part reads this machine's real
//! procfs/sysfs, beside the real node_exporter scraped in the same run.

use anyhow::{bail, Result};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::http::{self, NullReceiver};
use crate::procs::{self, Proc};
use crate::{exe, header, loopback, row, table, Common};

fn write(path: &Path, body: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, body)?;
    Ok(())
}

fn hex64(n: usize) -> String {
    format!("{:064x}", 0x00c0_ffee_0000_usize + n)
}

/// The files of one v2 cgroup, with values varying by `n`.
fn cgroup_files(dir: &Path, n: usize, pid: u32) -> Result<()> {
    write(&dir.join("cpu.stat"), &format!("usage_usec {}\nuser_usec {}\nsystem_usec {}\nnr_periods {n}\nnr_throttled 1\nthrottled_usec 1000\nnr_bursts 0\nburst_usec 0\n", n * 1000 + 7, n * 600, n * 400))?;
    write(
        &dir.join("cpu.max"),
        if n.is_multiple_of(2) {
            "50000 100000\n"
        } else {
            "max 100000\n"
        },
    )?;
    write(&dir.join("cpu.weight"), "39\n")?;
    write(
        &dir.join("memory.current"),
        &format!("{}\n", 50_000_000 + n * 4096),
    )?;
    let mut stat = String::new();
    for (k, v) in [
        ("anon", 30_000_000 + n),
        ("file", 20_000_000),
        ("kernel", 100_000),
        ("kernel_stack", 16384),
        ("pagetables", 65536),
        ("sec_pagetables", 0),
        ("percpu", 1024),
        ("sock", 0),
        ("vmalloc", 0),
        ("shmem", 0),
        ("zswap", 0),
        ("zswapped", 0),
        ("file_mapped", 1_000_000),
        ("file_dirty", 0),
        ("file_writeback", 0),
        ("swapcached", 0),
        ("anon_thp", 0),
        ("file_thp", 0),
        ("shmem_thp", 0),
        ("inactive_anon", 29_000_000),
        ("active_anon", 1_000_000),
        ("inactive_file", 15_000_000),
        ("active_file", 5_000_000),
        ("unevictable", 0),
        ("slab_reclaimable", 50_000),
        ("slab_unreclaimable", 50_000),
        ("slab", 100_000),
        ("workingset_refault_anon", 0),
        ("workingset_refault_file", 0),
        ("workingset_activate_anon", 0),
        ("workingset_activate_file", 0),
        ("workingset_restore_anon", 0),
        ("workingset_restore_file", 0),
        ("workingset_nodereclaim", 0),
        ("pgscan", 0),
        ("pgsteal", 0),
        ("pgscan_kswapd", 0),
        ("pgscan_direct", 0),
        ("pgsteal_kswapd", 0),
        ("pgsteal_direct", 0),
        ("pgfault", 100_000 + n),
        ("pgmajfault", 12),
        ("pgrefill", 0),
        ("pgactivate", 0),
        ("pgdeactivate", 0),
        ("pglazyfree", 0),
        ("pglazyfreed", 0),
        ("thp_fault_alloc", 0),
        ("thp_collapse_alloc", 0),
    ] {
        let _ = writeln!(stat, "{k} {v}");
    }
    write(&dir.join("memory.stat"), &stat)?;
    write(&dir.join("memory.swap.current"), "0\n")?;
    write(&dir.join("memory.peak"), "60000000\n")?;
    write(
        &dir.join("memory.events"),
        "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    )?;
    write(
        &dir.join("memory.max"),
        if n.is_multiple_of(3) {
            "max\n"
        } else {
            "268435456\n"
        },
    )?;
    write(
        &dir.join("io.stat"),
        &format!(
            "8:0 rbytes={} wbytes={} rios={n} wios={n} dbytes=0 dios=0\n",
            n * 4096,
            n * 8192
        ),
    )?;
    write(&dir.join("pids.current"), "4\n")?;
    write(&dir.join("pids.max"), "max\n")?;
    write(&dir.join("cgroup.procs"), &format!("{pid}\n"))?;
    Ok(())
}

/// Generates the node under `root`; returns the number of log files.
fn generate(root: &Path, pods: usize, per_pod: usize) -> Result<usize> {
    let cg = root.join("cgroup");
    write(
        &cg.join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids rdma misc\n",
    )?;
    let me = std::process::id();
    cgroup_files(&cg, 0, 1)?;
    cgroup_files(&cg.join("kubepods.slice"), 1, 1)?;
    let mut files = 0;
    for p in 0..pods {
        let uid = format!("{:08x}-0000-4000-8000-{:012x}", p, p);
        let qos = ["burstable", "besteffort"][p % 2];
        let qdir = cg.join(format!("kubepods.slice/kubepods-{qos}.slice"));
        cgroup_files(&qdir, 2, 1)?;
        let pdir = qdir.join(format!("kubepods-{qos}-pod{}.slice", uid.replace('-', "_")));
        cgroup_files(&pdir, p, 1)?;
        let (ns, pod) = (format!("ns{}", p % 10), format!("pod-{p}"));
        for c in 0..per_pod {
            let id = hex64(p * 100 + c);
            cgroup_files(
                &pdir.join(format!("cri-containerd-{id}.scope")),
                p * 100 + c,
                me,
            )?;
            let sandbox = c == 0;
            let name = format!("c{c}");
            let bundle = format!(
                "{{\"ociVersion\":\"1.1.0\",\"process\":{{\"args\":[\"/app\"],\"env\":[\"PATH=/usr/bin\",\"HOSTNAME={pod}\"]}},\"annotations\":{{\"io.kubernetes.cri.container-type\":\"{}\",\"io.kubernetes.cri.container-name\":\"{name}\",\"io.kubernetes.cri.image-name\":\"registry.example/app-{c}:1.{p}\",\"io.kubernetes.cri.sandbox-id\":\"{}\",\"io.kubernetes.cri.sandbox-name\":\"{pod}\",\"io.kubernetes.cri.sandbox-namespace\":\"{ns}\",\"io.kubernetes.cri.sandbox-uid\":\"{uid}\"}}}}",
                if sandbox { "sandbox" } else { "container" },
                hex64(p * 100)
            );
            write(
                &root.join(format!(
                    "rootfs/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json"
                )),
                &bundle,
            )?;
            if sandbox {
                continue;
            }
            let log = root.join(format!("log/pods/{ns}_{pod}_{uid}/{name}/0.log"));
            // One tailed file per pod, empty logs for the other containers.
            let body = if c == 1 {
                files += 1;
                (0..1000).map(|i| format!("2026-11-27T10:00:00.{i:09}Z stdout F line {i} of {pod} GET /api/v1/items 200\n")).collect::<String>()
            } else {
                String::new()
            };
            write(&log, &body)?;
            std::fs::create_dir_all(root.join("log/containers"))?;
            std::os::unix::fs::symlink(
                &log,
                root.join(format!("log/containers/{pod}_{ns}_{name}-{id}.log")),
            )?;
        }
    }
    Ok(files)
}

struct Timing {
    p50: f64,
    p99: f64,
    cpu_ms: Option<f64>,
    series: usize,
    bytes: usize,
}

fn time_scrapes(
    addr: std::net::SocketAddr,
    path: &str,
    runs: usize,
    cpu_of: Option<&Proc>,
) -> Result<Timing> {
    let mut lat = Vec::with_capacity(runs);
    let mut body = String::new();
    for _ in 0..3 {
        http::get(addr, path, Duration::from_secs(10))?;
    }
    let cpu0 = cpu_of.map(|p| p.cpu_secs()).transpose()?;
    for _ in 0..runs {
        let t = Instant::now();
        let (status, b) = http::get(addr, path, Duration::from_secs(10))?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        if status != 200 {
            bail!("GET http://{addr}{path} answered {status}");
        }
        body = b;
        // Do not measure back-to-back scrapes only: leave the target idle in between.
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu_ms = match (cpu_of, cpu0) {
        (Some(p), Some(c0)) => Some((p.cpu_secs()? - c0) * 1e3 / runs as f64),
        _ => None,
    };
    lat.sort_by(f64::total_cmp);
    let pick = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    Ok(Timing {
        p50: pick(0.5),
        p99: pick(0.99),
        cpu_ms,
        series: body
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count(),
        bytes: body.len(),
    })
}

pub fn bench_scrape(pods: usize, per_pod: usize, runs: usize, common: &Common) -> Result<()> {
    let argus = common.argus()?;
    header("scrape");
    let tmp = common.tempdir()?;
    let root = tmp.path();
    let t = Instant::now();
    let files = generate(root, pods, per_pod)?;
    println!(
        "generated a node with {pods} pods / {} containers (cgroup v2, systemd driver) and {files} log files in {:.1}s",
        pods * per_pod,
        t.elapsed().as_secs_f64()
    );
    let sink = NullReceiver::start()?;
    let addr = loopback(http::free_port()?);
    let args: Vec<String> = [
        "collector",
        "--aggregator",
        &format!("http://{}", sink.addr),
        "--log-root",
        &root.join("log").display().to_string(),
        "--checkpoint-dir",
        &root.join("ck").display().to_string(),
        "--cgroupfs",
        &root.join("cgroup").display().to_string(),
        "--rootfs",
        &root.join("rootfs").display().to_string(),
        "--listen",
        &addr.to_string(),
        "--node-name",
        "n1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut col = Proc::spawn("collector", &argus, &args, &root.join("collector.log"))?;
    col.wait_ready(addr, Duration::from_secs(30))?;
    let t0 = Instant::now();
    loop {
        col.check_alive()?;
        let v = http::scrape(
            addr,
            &[
                "argus_collector_files_tailed",
                "argus_collector_checkpoint_lag_bytes",
            ],
        )?;
        if v[0] as usize >= files && v[1] == 0.0 && t0.elapsed() > Duration::from_secs(6) {
            break;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("collector did not pick up the {files} log files: {v:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let full = time_scrapes(addr, "/metrics", runs, Some(&col))?;
    let node = time_scrapes(addr, "/metrics/node", runs, Some(&col))?;
    let rss = col.peak_rss_mib()?;
    let exporter = node_exporter(runs)?;
    println!();
    println!("scrape of the collector ({runs} timed scrapes each, 20 ms apart; CPU from /proc/<pid>/stat)");
    let mut rows = vec![row(&[
        &"endpoint",
        &"series",
        &"KiB",
        &"p50 ms",
        &"p99 ms",
        &"CPU ms/scrape",
        &"% of a core at 15 s",
    ])];
    let mut add = |name: &str, t: &Timing| {
        rows.push(row(&[
            &name,
            &t.series,
            &format!("{:.0}", t.bytes as f64 / 1024.0),
            &format!("{:.2}", t.p50),
            &format!("{:.2}", t.p99),
            &t.cpu_ms.map_or("-".into(), |c| format!("{c:.2}")),
            &t.cpu_ms
                .map_or("-".into(), |c| format!("{:.3}", c / 15_000.0 * 100.0)),
        ]));
    };
    add("argus /metrics (containers + argus_*)", &full);
    add("argus /metrics/node", &node);
    match &exporter {
        Some(t) => add("node_exporter /metrics (real, same machine)", t),
        None => rows.push(row(&[
            &"node_exporter",
            &"not installed (apt-get install prometheus-node-exporter)",
        ])),
    }
    table(&rows);
    println!();
    println!(
        "collector peak RSS {rss:.1} MiB (tailing {files} files, {} cgroups)",
        pods * (per_pod + 1) + 4
    );
    println!("load average after: {}", procs::loadavg());
    println!();
    println!(
        "reproduce: {} scrape --pods {pods} --containers-per-pod {per_pod} --runs {runs}{}",
        exe(),
        common.args(&argus)
    );
    Ok(())
}

/// The real node_exporter's scrape latency (CPU from its /proc entry).
fn node_exporter(runs: usize) -> Result<Option<Timing>> {
    let bin = [
        "/usr/bin/prometheus-node-exporter",
        "/usr/bin/node_exporter",
    ]
    .into_iter()
    .find(|p| Path::new(p).is_file());
    let Some(bin) = bin else { return Ok(None) };
    let addr = loopback(http::free_port()?);
    let mut child = std::process::Command::new(bin)
        .arg(format!("--web.listen-address={addr}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let t0 = Instant::now();
    while http::get(addr, "/metrics", Duration::from_secs(2)).is_err() {
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            bail!("node_exporter did not start on {addr}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stat = format!("/proc/{}/stat", child.id());
    let c0 = procs::cpu_secs(&stat)?;
    let mut t = time_scrapes(addr, "/metrics", runs, None)?;
    t.cpu_ms = Some((procs::cpu_secs(&stat)? - c0) * 1e3 / (runs + 3) as f64);
    let _ = child.kill();
    let _ = child.wait();
    Ok(Some(t))
}

//! The collector as a Prometheus scrape target, tested as users run it: the release
//! binary on a loopback port, scraped by curl-like requests, checked by the real
//! `promtool check metrics`, scraped by a real Prometheus, and reading real cgroups
//! created here in kubelet's cgroupfs-driver layout.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A collector on a free port whose aggregator is absent (it only retries shipping).
fn collector(dir: &Path, log_root: &Path, extra: &[&str]) -> (Proc, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut args = vec![
        "collector",
        "--listen",
        &addr,
        "--aggregator",
        &dead,
        "--checkpoint-dir",
    ];
    let ck = dir.join("ck").display().to_string();
    let root = log_root.display().to_string();
    args.extend_from_slice(&[&ck, "--log-root", &root, "--node-name", "node-a"]);
    args.extend_from_slice(extra);
    let p = Proc::start("collector", &args, dir);
    wait_for(Duration::from_secs(20), "collector /healthz", || {
        get(&addr, "/healthz").filter(|r| r.status == 200)
    });
    (p, addr)
}

fn promtool_lints(body: &str) -> Vec<String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus) must be installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn families(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn scrape_formats_encodings_and_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("log");
    std::fs::create_dir_all(logs.join("pods/shop_web_u1/app")).unwrap();
    std::fs::write(
        logs.join("pods/shop_web_u1/app/0.log"),
        "2026-11-27T10:00:00.000000000Z stdout F GET /cart 200\n\
         2026-11-27T10:00:00.100000000Z stderr F ERROR payment timeout\n\
         2026-11-27T10:00:00.200000000Z stdout F GET /pay 500 ERROR\n",
    )
    .unwrap();
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(
        &cfg,
        "collector:\n  log_metrics:\n    - name: errors\n      regex: \"ERROR|panic\"\n    - name: shop-only\n      regex: \"GET\"\n      namespaces: [shop]\n",
    )
    .unwrap();
    let (p, addr) = collector(dir.path(), &logs, &["--config", cfg.to_str().unwrap()]);

    let m = wait_for(Duration::from_secs(20), "log series", || {
        get(&addr, "/metrics").filter(|r| r.text().contains("argus_log_lines_total{"))
    });
    assert_eq!(m.status, 200);
    assert!(
        m.headers.contains("text/plain; version=0.0.4"),
        "{}",
        m.headers
    );
    let body = m.text();
    for want in [
        "argus_log_lines_total{namespace=\"shop\",pod=\"web\",container=\"app\",stream=\"stdout\"} 2",
        "argus_log_lines_total{namespace=\"shop\",pod=\"web\",container=\"app\",stream=\"stderr\"} 1",
        "argus_log_bytes_total{namespace=\"shop\",pod=\"web\",container=\"app\",stream=\"stderr\"} 21",
        "argus_log_pattern_matches_total{pattern=\"errors\",namespace=\"shop\",pod=\"web\",container=\"app\"} 2",
        "argus_log_pattern_matches_total{pattern=\"shop-only\",namespace=\"shop\",pod=\"web\",container=\"app\"} 2",
        "argus_collector_files_tailed 1",
        "container_cpu_usage_seconds_total{container=\"\",id=\"/\",image=\"\",name=\"\",namespace=\"\",pod=\"\",cpu=\"total\"}",
    ] {
        assert!(body.contains(want), "missing {want:?} in /metrics:\n{body}");
    }
    assert!(
        !body.contains("node_cpu_seconds_total"),
        "node series only on /metrics/node by default"
    );
    let fams = families(&body);
    for f in [
        "container_memory_working_set_bytes",
        "argus_collector_scrape_duration_seconds",
    ] {
        assert!(fams.contains(f), "family {f} missing");
    }
    // Every sample belongs to a declared family with HELP.
    let helps: BTreeSet<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(helps.len(), fams.len());
    assert_eq!(
        promtool_lints(&body),
        Vec::<String>::new(),
        "promtool check metrics on /metrics"
    );

    let node = get(&addr, "/metrics/node").unwrap();
    assert_eq!(node.status, 200);
    let node_body = node.text();
    for f in [
        "node_cpu_seconds_total",
        "node_memory_MemTotal_bytes",
        "node_load1",
        "node_filesystem_size_bytes",
    ] {
        assert!(
            families(&node_body).contains(f),
            "{f} missing on /metrics/node"
        );
    }
    assert!(
        !node_body.contains("container_"),
        "no container series on /metrics/node"
    );

    // OpenMetrics when asked.
    let om = request(
        &addr,
        "GET",
        "/metrics",
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
        b"",
    )
    .unwrap();
    assert!(
        om.headers
            .contains("application/openmetrics-text; version=1.0.0"),
        "{}",
        om.headers
    );
    let om_body = om.text();
    assert!(om_body.ends_with("# EOF\n"));
    assert!(om_body.contains("# TYPE argus_log_lines counter\n"));
    assert!(om_body.contains("argus_log_lines_total{"));
    // gzip when accepted.
    let (_, unzipped) = get_gzipped(&addr, "/metrics/node");
    assert!(unzipped.contains("# TYPE node_cpu_seconds_total counter"));
    drop(p);
}

#[test]
fn all_in_one_serves_node_series_on_metrics_and_bad_patterns_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("argus.yaml");
    std::fs::write(
        &cfg,
        "collector:\n  log_metrics:\n    - name: bad\n      regex: \"(unclosed\"\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args([
            "collector",
            "--config",
            cfg.to_str().unwrap(),
            "--log-root",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("collector.log_metrics[0].regex") && err.contains("(unclosed"),
        "{err}"
    );

    let port = free_port();
    let api = format!("127.0.0.1:{port}");
    let mport = free_port();
    let maddr = format!("127.0.0.1:{mport}");
    std::fs::write(&cfg, format!("collector:\n  listen: \"{maddr}\"\n")).unwrap();
    let data = dir.path().join("data").display().to_string();
    let _p = Proc::start(
        "aio",
        &[
            "all-in-one",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            &data,
            "--listen",
            &api,
        ],
        dir.path(),
    );
    let m = wait_for(Duration::from_secs(30), "all-in-one /metrics", || {
        get(&maddr, "/metrics").filter(|r| r.status == 200)
    });
    let body = m.text();
    assert!(
        body.contains("node_cpu_seconds_total{"),
        "all-in-one: node series on /metrics"
    );
    assert!(body.contains("container_cpu_usage_seconds_total{"));
}

/// node_exporter for the lint comparison, on a free port.
fn node_exporter(dir: &Path) -> (std::process::Child, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(dir.join("node_exporter.log")).unwrap();
    let child = Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("prometheus-node-exporter (Debian package) must be installed");
    wait_for(Duration::from_secs(20), "node_exporter", || {
        get(&addr, "/metrics").filter(|r| r.status == 200)
    });
    (child, addr)
}

fn prom_query(addr: &str, q: &str) -> serde_json::Value {
    let r = get(addr, &format!("/api/v1/query?query={}", enc(q))).expect("prometheus reachable");
    let v = r.json();
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"].clone()
}

#[test]
fn real_prometheus_scrapes_both_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("log");
    std::fs::create_dir_all(&logs).unwrap();
    let (_c, addr) = collector(dir.path(), &logs, &[]);

    // promtool reports nothing on /metrics/node beyond what it reports for node_exporter.
    let (ne, ne_addr) = node_exporter(dir.path());
    let _ne = KillOnDrop(ne);
    let theirs: BTreeSet<String> = promtool_lints(&get(&ne_addr, "/metrics").unwrap().text())
        .into_iter()
        .collect();
    let ours = promtool_lints(&get(&addr, "/metrics/node").unwrap().text());
    let extra: Vec<&String> = ours.iter().filter(|l| !theirs.contains(*l)).collect();
    assert!(
        extra.is_empty(),
        "promtool lints argus' node output for more than node_exporter's: {extra:#?}"
    );

    let (_prom, prom_addr) = prometheus(
        dir.path(),
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n\
             - job_name: argus-cadvisor\n  honor_labels: true\n  static_configs:\n    - targets: ['{addr}']\n\
             - job_name: node-exporter\n  metrics_path: /metrics/node\n  static_configs:\n    - targets: ['{addr}']\n"
        ),
        &[],
    );
    let up = wait_for(Duration::from_secs(60), "both targets up", || {
        let r = prom_query(&prom_addr, "up == 1");
        (r.as_array()?.len() == 2).then_some(r)
    });
    let jobs: BTreeSet<String> = up
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metric"]["job"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        jobs,
        BTreeSet::from(["argus-cadvisor".to_string(), "node-exporter".to_string()])
    );
    // Rates are computable from both endpoints after a few scrapes.
    let rate = wait_for(Duration::from_secs(30), "rates", || {
        let r = prom_query(
            &prom_addr,
            "rate(container_cpu_usage_seconds_total{id=\"/\"}[5s])",
        );
        let n = prom_query(
            &prom_addr,
            "sum(rate(node_cpu_seconds_total{mode!=\"idle\"}[5s]))",
        );
        let v: f64 = r.get(0)?["value"][1].as_str()?.parse().ok()?;
        let nv: f64 = n.get(0)?["value"][1].as_str()?.parse().ok()?;
        (v > 0.0 && nv > 0.0).then_some((v, nv))
    });
    assert!(rate.0 < 64.0 && rate.1 < 64.0, "{rate:?}");
    // honor_labels keeps the series' own labels; the node job has the target's.
    let mem = prom_query(&prom_addr, "node_memory_MemTotal_bytes");
    assert_eq!(mem[0]["metric"]["job"], "node-exporter");
    let scrape = prom_query(&prom_addr, "scrape_samples_scraped{job=\"argus-cadvisor\"}");
    let samples: f64 = scrape[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(samples > 20.0, "{samples}");
}

/// A real cgroup of kubelet's cgroupfs driver (v1 controllers, as mounted on this
/// machine) holding a process that burns ~1 s of CPU and holds ~64 MiB.
struct LiveCgroup {
    dirs: Vec<PathBuf>,
}

impl Drop for LiveCgroup {
    fn drop(&mut self) {
        // Children first; a cgroup with processes cannot be removed, so move them out.
        for d in &self.dirs {
            if let Ok(procs) = std::fs::read_to_string(d.join("cgroup.procs")) {
                let root = d.ancestors().nth(4).unwrap().join("cgroup.procs");
                for pid in procs.lines() {
                    let _ = std::fs::write(&root, pid);
                }
            }
            let _ = std::fs::remove_dir(d);
            for up in 1..=3 {
                let _ = std::fs::remove_dir(d.ancestors().nth(up).unwrap());
            }
        }
    }
}

#[test]
fn live_cgroup_cpu_and_memory() {
    let cgroupfs = Path::new("/sys/fs/cgroup");
    let controllers = ["cpu", "cpuacct", "memory", "pids", "blkio"];
    assert!(
        cgroupfs.join("memory/cgroup.procs").is_file(),
        "this test needs root and the v1 memory controller at /sys/fs/cgroup/memory (CI has both)"
    );
    let uid = format!("5eed0000-0000-4000-8000-{:012x}", std::process::id());
    let id = format!("{:0>64}", format!("{:x}", std::process::id()));
    let rel = format!("kubepods/burstable/pod{uid}/{id}");
    let mut cg = LiveCgroup { dirs: Vec::new() };
    for c in controllers {
        let d = cgroupfs.join(c).join(&rel);
        if cgroupfs.join(c).is_dir() {
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
            cg.dirs.push(d);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("log");
    let live = logs.join(format!("pods/demo_burner_{uid}/burn/0.log"));
    std::fs::create_dir_all(live.parent().unwrap()).unwrap();
    std::fs::write(&live, "").unwrap();
    std::fs::create_dir_all(logs.join("containers")).unwrap();
    std::os::unix::fs::symlink(
        &live,
        logs.join(format!("containers/burner_demo_burn-{id}.log")),
    )
    .unwrap();

    // The process waits on stdin until it is in the cgroup, then allocates and burns.
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys,time\nsys.stdin.readline()\nb=bytearray(b'\\x01')*(64<<20)\nt=time.process_time()\nwhile time.process_time()-t<1.0: pass\nprint('ready',flush=True)\ntime.sleep(120)\n",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let (mut stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let pid = child.id();
    let _child = KillOnDrop(child);
    for d in &cg.dirs {
        std::fs::write(d.join("cgroup.procs"), pid.to_string())
            .unwrap_or_else(|e| panic!("join {}: {e}", d.display()));
    }
    stdin.write_all(b"go\n").unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");

    let (_c, addr) = collector(dir.path(), &logs, &["--cgroupfs", "/sys/fs/cgroup"]);
    let body = get(&addr, "/metrics").unwrap().text();
    let labels = format!(
        "container=\"burn\",id=\"/{rel}\",image=\"\",name=\"{id}\",namespace=\"demo\",pod=\"burner\""
    );
    let value = |name: &str, extra: &str| -> f64 {
        let key = if extra.is_empty() {
            format!("{name}{{{labels}}} ")
        } else {
            format!("{name}{{{labels},{extra}}} ")
        };
        let line = body
            .lines()
            .find(|l| l.starts_with(&key))
            .unwrap_or_else(|| {
                panic!(
                    "no {key} in:\n{}",
                    body.lines()
                        .filter(|l| l.contains(&id))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
        line[key.len()..].parse().unwrap()
    };
    let cpu = value("container_cpu_usage_seconds_total", "cpu=\"total\"");
    eprintln!("live cgroup: cpu {cpu} s");
    assert!((0.95..1.6).contains(&cpu), "cpu {cpu} s, want about 1 s");
    let ws = value("container_memory_working_set_bytes", "");
    let mib = ws / (1 << 20) as f64;
    eprintln!("live cgroup: working set {mib:.1} MiB");
    assert!(
        (64.0..110.0).contains(&mib),
        "working set {mib} MiB, want about 64 MiB"
    );
    assert_eq!(value("container_processes", ""), 1.0);
    // The pod cgroup is named from the pods/ directory.
    assert!(body.contains(&format!(
        "container_memory_working_set_bytes{{container=\"\",id=\"/kubepods/burstable/pod{uid}\",image=\"\",name=\"\",namespace=\"demo\",pod=\"burner\"}}"
    )));
}

/// A body of several chunks (a node with many containers) arrives whole, plain and gzip.
#[test]
fn large_bodies_stream_whole_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("cgroup");
    std::fs::create_dir_all(&cg).unwrap();
    std::fs::write(cg.join("cgroup.controllers"), "cpu memory\n").unwrap();
    for p in 0..50 {
        for c in 0..4 {
            let d = cg.join(format!(
                "kubepods/besteffort/pod{p:08x}-0000-4000-8000-000000000000/{:064x}",
                p * 10 + c
            ));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("cpu.stat"), format!("usage_usec {}\n", p * 1000 + c)).unwrap();
            std::fs::write(d.join("memory.current"), "1048576\n").unwrap();
            std::fs::write(d.join("memory.stat"), "anon 1\nfile 2\ninactive_file 3\n").unwrap();
        }
    }
    let logs = dir.path().join("log");
    std::fs::create_dir_all(&logs).unwrap();
    let (_c, addr) = collector(dir.path(), &logs, &["--cgroupfs", cg.to_str().unwrap()]);
    let series = |text: &str| -> BTreeSet<String> {
        text.lines()
            .filter(|l| {
                !l.starts_with('#')
                    && !l.starts_with("argus_")
                    && !l.starts_with("container_last_seen")
            })
            .map(str::to_string)
            .collect()
    };
    let plain = get(&addr, "/metrics").unwrap();
    assert!(
        plain.body.len() > 600 * 1024,
        "{} bytes: want several chunks",
        plain.body.len()
    );
    let (_, unzipped) = get_gzipped(&addr, "/metrics");
    let (a, b) = (series(&plain.text()), series(&unzipped));
    assert_eq!(a.len(), b.len());
    assert!(a == b, "plain and gzip bodies differ");
    assert_eq!(
        a.iter()
            .filter(|l| l.starts_with("container_cpu_usage_seconds_total{"))
            .count(),
        200,
        "one per container (only they have cpu.stat here)"
    );
    assert!(plain.text().ends_with('\n'));
}

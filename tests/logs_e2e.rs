//! End to end: kubelet-style log files → `argus collector` → `argus aggregator` → search,
//! through both rotation styles, partial lines, a docker json-file container, and `kill -9`
//! of the collector and of the aggregator mid-stream. Every line must be found exactly once
//! with the right namespace, pod, container and stream.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LINES: usize = 2500;

struct Writer {
    app: PathBuf,
    web: PathBuf,
}

fn now_rfc3339() -> String {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    rfc3339_nano(
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) as u32,
    )
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

impl Writer {
    /// Writes line `i` to both containers; returns nothing, the expectations are derived
    /// from `i` alone.
    fn write(&self, i: usize) {
        let ts = now_rfc3339();
        let stream = if i.is_multiple_of(5) {
            "stderr"
        } else {
            "stdout"
        };
        if i.is_multiple_of(7) {
            append(
                &self.app,
                &format!("{ts} {stream} P line-app-{i} first-half \n{ts} {stream} F second-half\n"),
            );
        } else {
            append(
                &self.app,
                &format!(
                    "{ts} {stream} F line-app-{i} payload {}\n",
                    "x".repeat(i % 40)
                ),
            );
        }
        if i.is_multiple_of(9) {
            append(
                &self.web,
                &format!(
                    "{{\"log\":\"line-web-{i} begins \",\"stream\":\"{stream}\",\"time\":\"{ts}\"}}\n{{\"log\":\"and ends\\n\",\"stream\":\"{stream}\",\"time\":\"{ts}\"}}\n"
                ),
            );
        } else {
            append(
                &self.web,
                &format!("{{\"log\":\"line-web-{i} GET /x \\\"q\\\"\\n\",\"stream\":\"{stream}\",\"time\":\"{ts}\"}}\n"),
            );
        }
    }

    /// kubelet: rename to a timestamped name, create a new live file.
    fn rename_rotate_app(&self, stamp: &str) {
        std::fs::rename(&self.app, self.app.with_file_name(format!("0.log.{stamp}"))).unwrap();
        std::fs::File::create(&self.app).unwrap();
    }

    /// logrotate copytruncate: shift numbered copies, copy the live file to .1, truncate it.
    fn copytruncate_web(&self) {
        let dir = self.web.parent().unwrap();
        for n in (1..5).rev() {
            let from = dir.join(format!("0.log.{n}"));
            if from.exists() {
                std::fs::rename(&from, dir.join(format!("0.log.{}", n + 1))).unwrap();
            }
        }
        std::fs::copy(&self.web, dir.join("0.log.1")).unwrap();
        OpenOptions::new()
            .write(true)
            .open(&self.web)
            .unwrap()
            .set_len(0)
            .unwrap();
    }
}

fn expected(i: usize, container: &str) -> String {
    match container {
        "app" if i.is_multiple_of(7) => format!("line-app-{i} first-half second-half"),
        "app" => format!("line-app-{i} payload {}", "x".repeat(i % 40)),
        _ if i.is_multiple_of(9) => format!("line-web-{i} begins and ends"),
        _ => format!("line-web-{i} GET /x \"q\""),
    }
}

fn collector(port: u16, root: &Path, logs: &Path) -> Proc {
    let agg = format!("http://127.0.0.1:{port}");
    Proc::start(
        "collector",
        &[
            "collector",
            "--aggregator",
            &agg,
            "--log-root",
            root.join("log").to_str().unwrap(),
            "--checkpoint-dir",
            root.join("ckpt").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--node-name",
            "node-e2e",
        ],
        logs,
    )
}

#[test]
fn every_line_exactly_once_through_rotations_and_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let app_dir =
        root.join("log/pods/e2e_app-7d9c8b6f5-x2k4p_11111111-2222-3333-4444-555555555555/app");
    let web_dir =
        root.join("log/pods/e2e_web-5f6d7c8b9-abcde_66666666-7777-8888-9999-000000000000/web");
    std::fs::create_dir_all(&app_dir).unwrap();
    std::fs::create_dir_all(&web_dir).unwrap();
    let w = Writer {
        app: app_dir.join("0.log"),
        web: web_dir.join("0.log"),
    };
    // Lines written before the collector starts are read too (read_from: beginning).
    for i in 0..100 {
        w.write(i);
    }
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let data = root.join("agg");
    let mut agg = aggregator(port, &data, root);
    let mut col = collector(port, root, root);
    for i in 100..LINES {
        w.write(i);
        match i {
            500 => w.rename_rotate_app("20261126-101500"),
            800 | 2000 => w.copytruncate_web(),
            1000 => col.kill9(),
            // Rotated while the collector is down: its unread rest must still be read.
            1100 => w.rename_rotate_app("20261126-111500"),
            1300 => col = collector(port, root, root),
            1600 => agg.kill9(),
            1700 => agg = aggregator(port, &data, root),
            2100 => w.rename_rotate_app("20261126-121500"),
            _ => {}
        }
        if i.is_multiple_of(50) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let want = 2 * LINES as u64;
    let total = wait_for(Duration::from_secs(90), "all lines searchable", || {
        let d = search(&addr, r#"{namespace="e2e"}"#, "&limit=0");
        let t = d["total"].as_u64().unwrap();
        (t >= want).then_some(t)
    });
    // Give stragglers (duplicates, if any) a moment to show up before counting exactly.
    std::thread::sleep(Duration::from_secs(3));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut cursor = String::new();
    let mut pages = 0;
    let mut totals = Vec::new();
    loop {
        let extra = format!(
            "&limit=1000&direction=forward{}",
            if cursor.is_empty() {
                String::new()
            } else {
                format!("&cursor={}", enc(&cursor))
            }
        );
        let d = search(&addr, r#"{namespace="e2e"}"#, &extra);
        totals.push(d["total"].as_u64().unwrap());
        for h in d["hits"].as_array().unwrap() {
            let msg = h["message"].as_str().unwrap().to_string();
            let id: Vec<&str> = msg.split_whitespace().next().unwrap().split('-').collect();
            let (container, i) = (id[1], id[2].parse::<usize>().unwrap());
            assert_eq!(
                msg,
                expected(i, container),
                "message of {container} line {i}"
            );
            assert_eq!(h["container"], container);
            assert_eq!(h["namespace"], "e2e");
            let pod = if container == "app" {
                "app-7d9c8b6f5-x2k4p"
            } else {
                "web-5f6d7c8b9-abcde"
            };
            assert_eq!(h["pod"], pod);
            assert_eq!(h["node"], "node-e2e");
            let stream = if i.is_multiple_of(5) {
                "stderr"
            } else {
                "stdout"
            };
            assert_eq!(h["stream"], stream, "stream of {msg}");
            *seen.entry(format!("{container}-{i}")).or_default() += 1;
        }
        pages += 1;
        match d["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
        assert!(pages < 20, "pagination does not end");
    }
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dups.is_empty(),
        "duplicates {dups:?}\ncollector log:\n{}\naggregator log:\n{}",
        col.output(),
        agg.output()
    );
    for container in ["app", "web"] {
        for i in 0..LINES {
            let n = seen.get(&format!("{container}-{i}")).copied().unwrap_or(0);
            assert_eq!(
                n,
                1,
                "{container} line {i} seen {n} times\ncollector log:\n{}",
                col.output()
            );
        }
    }
    assert!(
        totals.iter().all(|t| *t == want),
        "totals per page {totals:?}, want {want} (first wait saw {total})"
    );
    // Per-stream selectors agree with the files.
    let stderr = search(
        &addr,
        r#"{namespace="e2e", container="app", stream="stderr"}"#,
        "&limit=0",
    );
    assert_eq!(
        stderr["total"].as_u64().unwrap(),
        (0..LINES).filter(|i| i.is_multiple_of(5)).count() as u64
    );
    col.terminate();
    agg.terminate();
}

#[test]
fn all_in_one_demo_has_error_hits_within_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut p, addr) = serve(
        &["all-in-one", "--demo"],
        "collector:\n  listen: \"127.0.0.1:0\"\n",
        tmp.path(),
        &[],
    );
    let d = wait_for(Duration::from_secs(20), "demo error hits", || {
        let d = search(&addr, r#"{namespace="demo"} |= "error""#, "&limit=5");
        (d["total"].as_u64().unwrap() > 0).then_some(d)
    });
    for h in d["hits"].as_array().unwrap() {
        assert_eq!(h["namespace"], "demo");
        assert!(h["message"].as_str().unwrap().contains("error"), "{h}");
    }
    let hist: u64 = d["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hist, d["total"].as_u64().unwrap());
    // The crash-looping pod's restarts are separate files with their restart count.
    let crashy = search(&addr, r#"{namespace="demo"} |= "panic""#, "&limit=100");
    assert!(crashy["total"].as_u64().unwrap() > 0, "{crashy}");
    assert!(
        p.output().contains(&format!("http://{addr}/")),
        "prints the address"
    );
    // The web UI is served at the address printed.
    let ui = get(&addr, "/").unwrap();
    assert_eq!(ui.status, 200);
    let html = ui.text();
    for id in [
        "id=\"query\"",
        "id=\"results\"",
        "id=\"histogram\"",
        "/api/v1/logs/search",
    ] {
        assert!(html.contains(id), "UI page lacks {id}");
    }
    p.terminate();
    assert!(p.child.try_wait().unwrap().is_some());
}

fn metric(addr: &str, name: &str) -> Option<f64> {
    let body = get(addr, "/metrics")?.text();
    body.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn collector_stops_reading_while_the_aggregator_is_down_then_catches_up() {
    const N: usize = 300_000;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("log/pods/bp_big-pod_99999999-2222-3333-4444-555555555555/app");
    std::fs::create_dir_all(&dir).unwrap();
    let ts = now_rfc3339();
    let mut text = String::with_capacity(N * 120);
    for i in 0..N {
        text.push_str(&format!(
            "{ts} stdout F backpressure line {i} {}\n",
            "y".repeat(64)
        ));
    }
    std::fs::write(dir.join("0.log"), text).unwrap();
    let port = free_port();
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let agg_url = format!("http://127.0.0.1:{port}");
    let mut col = Proc::start(
        "collector-bp",
        &[
            "collector",
            "--aggregator",
            &agg_url,
            "--log-root",
            root.join("log").to_str().unwrap(),
            "--checkpoint-dir",
            root.join("ckpt").to_str().unwrap(),
            "--listen",
            &metrics,
        ],
        root,
    );
    wait_healthy(&metrics);
    // The aggregator is not there: sends fail and reading stops after a few batches.
    wait_for(Duration::from_secs(20), "failed sends", || {
        metric(&metrics, "argus_collector_batches_failed_total").filter(|v| *v >= 3.0)
    });
    let read = metric(&metrics, "argus_collector_lines_read_total").unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let read_later = metric(&metrics, "argus_collector_lines_read_total").unwrap();
    assert_eq!(
        read, read_later,
        "reading must pause while nothing is acknowledged"
    );
    assert!(
        read < (N / 4) as f64,
        "read {read} of {N} lines without any ack: not bounded"
    );
    let rss = rss_kib(col.child.id());
    assert!(
        rss < 64 * 1024,
        "collector RSS {rss} KiB while the aggregator is down"
    );
    // Once the aggregator is up, everything arrives, once.
    let addr = format!("127.0.0.1:{port}");
    let mut agg = aggregator(port, &root.join("agg"), root);
    let total = wait_for(
        Duration::from_secs(120),
        "all lines after catching up",
        || {
            let t = search(&addr, r#"{namespace="bp"}"#, "&limit=0")["total"]
                .as_u64()
                .unwrap();
            (t >= N as u64).then_some(t)
        },
    );
    assert_eq!(total, N as u64);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        search(&addr, r#"{namespace="bp"}"#, "&limit=0")["total"]
            .as_u64()
            .unwrap(),
        N as u64
    );
    col.terminate();
    agg.terminate();
}

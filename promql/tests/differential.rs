//! Differential test against a real Prometheus 2.42: the same generated data is imported
//! into Prometheus (`promtool tsdb create-blocks-from openmetrics`) and loaded into a
//! `MemSource`; every query of the corpus runs as instant queries at several times and as
//! range queries with several steps on both, and the results must agree.
//!
//! Needs `prometheus` and `promtool` on PATH (CI installs Debian's `prometheus` package);
//! fails with a clear message without them.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use argus_promql::{Engine, EngineOptions};
use support::compare::{compare, normalize, Norm};
use support::corpus::QUERIES;
use support::dataset::{generate, SPAN, T0, T1};

/// Instant evaluation times, seconds.
fn instant_times() -> Vec<i64> {
    vec![T0 + 1800, T0 + 3607, T0 + 7200, T0 + 9000, T0 + SPAN + 240]
}

/// Range queries (start, end, step), seconds.
fn ranges() -> Vec<(i64, i64, i64)> {
    vec![
        (T0, T0 + SPAN, 60),
        (T0 + 600, T0 + 4200, 37),
        (T0 + SPAN - 300, T0 + SPAN + 600, 15),
    ]
}

fn expand(q: &str) -> String {
    q.replace("{T0}", &T0.to_string())
        .replace("{T1}", &T1.to_string())
}

fn find_on_path(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(bin))
            .find(|p| p.is_file())
    })
}

/// Kills the Prometheus it started when dropped.
struct Prometheus {
    child: Child,
    port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_prometheus(bin: &Path, dir: &Path) -> Prometheus {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        "global:\n  scrape_interval: 15s\n  evaluation_interval: 1m\n",
    )
    .expect("write config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port();
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        .arg("--query.lookback-delta=5m")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    let p = Prometheus { child, port };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok((200, _)) = support::http::get(port, "/-/ready") {
            return p;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
            panic!("prometheus did not become ready within 90 s; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Prometheus' answer: `Ok(data)` or `Err(message)`.
fn query_prometheus(port: u16, path: &str) -> Result<serde_json::Value, String> {
    let (_, body) = support::http::get(port, path).map_err(|e| format!("http: {e}"))?;
    let j: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("json: {e}: {body}"))?;
    if j["status"] == "success" {
        Ok(j["data"].clone())
    } else {
        Err(format!("{}: {}", j["errorType"], j["error"]))
    }
}

#[test]
fn matches_prometheus_2_42() {
    let (Some(prometheus), Some(promtool)) = (find_on_path("prometheus"), find_on_path("promtool"))
    else {
        panic!(
            "the differential test needs `prometheus` and `promtool` (Prometheus 2.42) on PATH: \
             install Debian's `prometheus` package (apt-get install prometheus)"
        );
    };
    assert!(QUERIES.len() >= 200, "corpus has {} queries", QUERIES.len());

    let dir = tempfile::tempdir().expect("tempdir");
    let data = generate();
    let file = dir.path().join("data.om");
    std::fs::write(&file, &data).expect("write data");
    // ARGUS_DIFF_DATA=<path> keeps a copy of the data (for debugging by hand).
    if let Some(keep) = std::env::var_os("ARGUS_DIFF_DATA") {
        std::fs::write(keep, &data).expect("write a copy of the data");
    }
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(dir.path().join("tsdb"))
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let source = support::openmetrics::load(&data).expect("load data");
    let prom = start_prometheus(&prometheus, dir.path());
    let engine = Engine::new(EngineOptions::default());

    let (mut pass, mut mismatches, mut both_errors) = (0usize, Vec::new(), 0usize);
    let (mut ours_time, mut theirs_time) = (Duration::ZERO, Duration::ZERO);
    // ARGUS_DIFF_ONLY=<substring> runs only matching queries; ARGUS_DIFF_DUMP=1 prints
    // both results of a mismatch (for debugging).
    let only = std::env::var("ARGUS_DIFF_ONLY").ok();
    let dump = std::env::var_os("ARGUS_DIFF_DUMP").is_some();
    for q in QUERIES {
        let q = expand(q);
        if only.as_ref().is_some_and(|o| !q.contains(o.as_str())) {
            continue;
        }
        let ordered = q.starts_with("sort(") || q.starts_with("sort_desc(");
        let mut cases: Vec<(String, String, bool)> = Vec::new();
        for t in instant_times() {
            cases.push((
                format!("instant @{}", t - T0),
                format!("/api/v1/query?query={}&time={t}", support::http::encode(&q)),
                ordered,
            ));
        }
        for (start, end, step) in ranges() {
            cases.push((
                format!("range [{}, {}] step {step}", start - T0, end - T0),
                format!(
                    "/api/v1/query_range?query={}&start={start}&end={end}&step={step}",
                    support::http::encode(&q)
                ),
                false,
            ));
        }
        for (i, (label, path, ordered)) in cases.into_iter().enumerate() {
            let started = Instant::now();
            let ours = if i < instant_times().len() {
                engine.instant(&source, &q, instant_times()[i] * 1000)
            } else {
                let (s, e, st) = ranges()[i - instant_times().len()];
                engine.range(&source, &q, s * 1000, e * 1000, st * 1000)
            };
            ours_time += started.elapsed();
            let started = Instant::now();
            let theirs = query_prometheus(prom.port, &path);
            theirs_time += started.elapsed();
            let verdict = match (&ours, &theirs) {
                (Err(a), Err(b)) => {
                    both_errors += 1;
                    println!("both error: {q} [{label}]\n  argus: {a}\n  prometheus: {b}");
                    Ok(())
                }
                (Ok(a), Ok(b)) => {
                    let na: Result<Norm, String> = normalize(&a.to_api_json());
                    match (na, normalize(b)) {
                        (Ok(na), Ok(nb)) => compare(&na, &nb, ordered),
                        (Err(e), _) => Err(format!("argus json: {e}")),
                        (_, Err(e)) => Err(format!("prometheus json: {e}")),
                    }
                }
                (Ok(a), Err(b)) => Err(format!(
                    "argus returned {} but prometheus failed: {b}",
                    a.result_type()
                )),
                (Err(a), Ok(_)) => Err(format!("argus failed ({a}) but prometheus succeeded")),
            };
            match verdict {
                Ok(()) => pass += 1,
                Err(e) => {
                    if dump {
                        println!(
                            "MISMATCH {q} [{label}]\n  argus: {}\n  prometheus: {:?}",
                            ours.as_ref()
                                .map(|v| v.to_api_json().to_string())
                                .unwrap_or_default(),
                            theirs.as_ref().map(|v| v.to_string())
                        );
                    }
                    mismatches.push(format!("{q} [{label}]: {e}"))
                }
            }
        }
    }
    println!(
        "differential: {} queries, {} evaluations ({} errors on both sides); argus {:?}, prometheus {:?} (incl. HTTP)",
        QUERIES.len(),
        pass + mismatches.len(),
        both_errors,
        ours_time,
        theirs_time
    );
    println!("differential: {pass} passed, {} failed", mismatches.len());
    drop(prom);
    assert!(
        mismatches.is_empty(),
        "{} of {} evaluations differ from Prometheus:\n{}",
        mismatches.len(),
        pass + mismatches.len(),
        mismatches.join("\n")
    );
}

//! Helpers for end-to-end tests: start the real `argus` binary on loopback ports, talk HTTP
//! to it with a minimal std-only client, and wait for conditions.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_argus"))
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running argus process, killed (SIGKILL) on drop.
pub struct Proc {
    pub child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `argus <args>` with stderr and stdout in `<log_dir>/<name>.log` (appended).
    /// No Kubernetes cluster is found from the environment (`$KUBECONFIG` names a
    /// missing file, `KUBERNETES_SERVICE_HOST` is unset), so the aggregator and
    /// all-in-one do not run the watcher unless a test asks for it.
    pub fn start(name: &str, args: &[&str], log_dir: &Path) -> Proc {
        Proc::start_env(name, args, log_dir, &[])
    }

    /// [`Proc::start`] with more environment variables.
    pub fn start_env(name: &str, args: &[&str], log_dir: &Path, env: &[(&str, &str)]) -> Proc {
        let log = log_dir.join(format!("{name}.log"));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(bin())
            .args(args)
            .env("RUST_LOG", "info,argus_collector=debug,tantivy=warn")
            .env_remove("ARGUS_TOKEN")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("KUBECONFIG", "/nonexistent/argus-e2e/kubeconfig")
            .envs(env.iter().copied())
            .stdout(Stdio::from(f.try_clone().unwrap()))
            .stderr(Stdio::from(f))
            .spawn()
            .unwrap();
        Proc {
            child,
            name: name.to_string(),
            log,
        }
    }

    /// SIGKILL and wait.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait (graceful).
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
    }

    /// What the process wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Percent-encodes a query-string value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One HTTP/1.1 request (Connection: close); `None` when the connection fails.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Resp> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Some(Resp {
        status,
        headers: head,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let start = nl + 2;
        out.extend_from_slice(&b[start..(start + n).min(b.len())]);
        b = &b[(start + n + 2).min(b.len())..];
    }
    out
}

pub fn get(addr: &str, path: &str) -> Option<Resp> {
    request(addr, "GET", path, &[], b"")
}

/// GET with `Accept-Encoding: gzip`: the answer (which must say `Content-Encoding: gzip`)
/// and its body unzipped.
pub fn get_gzipped(addr: &str, path: &str) -> (Resp, String) {
    let z = request(addr, "GET", path, &[("Accept-Encoding", "gzip")], b"").unwrap();
    assert!(
        z.headers
            .to_ascii_lowercase()
            .contains("content-encoding: gzip"),
        "{path}: {}",
        z.headers
    );
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z.body[..]), &mut text)
        .expect("one valid gzip stream");
    (z, text)
}

/// Searches and returns `data`.
pub fn search(addr: &str, query: &str, extra: &str) -> serde_json::Value {
    let path = format!("/api/v1/logs/search?query={}{extra}", enc(query));
    let r = get(addr, &path).unwrap_or_else(|| panic!("no answer from {addr}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["data"].clone()
}

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `GET /healthz` answers 200.
pub fn wait_healthy(addr: &str) {
    wait_for(Duration::from_secs(30), &format!("{addr}/healthz"), || {
        get(addr, "/healthz").filter(|r| r.status == 200)
    });
}

/// Starts `argus ARGS… --config DIR/argus.yaml --listen <free port> --data-dir DIR/data`
/// with `config` written to that file and `env` set, logs in DIR; waits until healthy.
/// Returns the process and its address.
pub fn serve(args: &[&str], config: &str, dir: &Path, env: &[(&str, &str)]) -> (Proc, String) {
    let cfg = dir.join("argus.yaml");
    std::fs::write(&cfg, config).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let data = dir.join("data");
    let mut all = args.to_vec();
    all.extend_from_slice(&[
        "--config",
        cfg.to_str().unwrap(),
        "--listen",
        &addr,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let p = Proc::start_env(args[0], &all, dir, env);
    wait_healthy(&addr);
    (p, addr)
}

/// The instant vector of the PromQL `query` at `addr`.
pub fn query(addr: &str, q: &str) -> Vec<serde_json::Value> {
    api(addr, &format!("/api/v1/query?query={}", enc(q)))["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A fake Kubernetes API server on loopback, the runtime that serves it, and a kubeconfig
/// naming it.
pub struct FakeCluster {
    pub api: argus_kube_fake::FakeApiServer,
    pub kubeconfig: PathBuf,
    _rt: tokio::runtime::Runtime,
}

impl FakeCluster {
    /// Starts the fake and writes its kubeconfig to `dir/kubeconfig`.
    pub fn start(dir: &Path) -> FakeCluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let api = rt
            .block_on(argus_kube_fake::FakeApiServer::start(
                "127.0.0.1:0".parse().unwrap(),
            ))
            .unwrap();
        let kubeconfig = dir.join("kubeconfig");
        api.kubeconfig(&kubeconfig).unwrap();
        FakeCluster {
            api,
            kubeconfig,
            _rt: rt,
        }
    }

    /// `KUBECONFIG` naming this cluster, for [`serve`]'s `env`.
    pub fn env(&self) -> [(&str, &str); 1] {
        [("KUBECONFIG", self.kubeconfig.to_str().unwrap())]
    }
}

/// Starts an aggregator on `port` with data in `data`.
pub fn aggregator(port: u16, data: &Path, logs: &Path) -> Proc {
    aggregator_with(port, data, logs, &[])
}

/// Starts an aggregator on `port` with data in `data` and more flags; waits until healthy.
pub fn aggregator_with(port: u16, data: &Path, logs: &Path, extra: &[&str]) -> Proc {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "aggregator",
        "--listen",
        &listen,
        "--data-dir",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let p = Proc::start("aggregator", &args, logs);
    wait_healthy(&listen);
    p
}

/// The same OpenMetrics data loaded into the real Prometheus (blocks made by `promtool
/// tsdb create-blocks-from openmetrics`, kept 100 years) and into an argus aggregator
/// (`argus tsdb import`), each started with its own config: what the differential tests
/// query side by side. `argus_config` should keep the metrics that long too.
pub struct SameData {
    pub prom: KillOnDrop,
    pub prom_addr: String,
    pub argus: Proc,
    pub argus_addr: String,
}

pub fn same_data(
    dir: &Path,
    openmetrics: &str,
    prom_config: &str,
    argus_config: &str,
    argus_flags: &[&str],
) -> SameData {
    let file = dir.join("data.om");
    std::fs::write(&file, openmetrics).unwrap();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(dir.join("prom"))
        .output()
        .expect("promtool (Debian package prometheus) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prom_dir = dir.join("prom-run");
    std::fs::create_dir_all(&prom_dir).unwrap();
    std::fs::rename(dir.join("prom"), prom_dir.join("prom-tsdb")).unwrap();
    let (prom, prom_addr) = prometheus(
        &prom_dir,
        prom_config,
        &["--storage.tsdb.retention.time=100y"],
    );

    let data = dir.join("argus");
    let out = tsdb_import(&file, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = dir.join("argus.yaml");
    std::fs::write(&cfg, argus_config).unwrap();
    let port = free_port();
    let mut flags = vec!["--config", cfg.to_str().unwrap()];
    flags.extend_from_slice(argus_flags);
    let argus = aggregator_with(port, &data, dir, &flags);
    SameData {
        prom,
        prom_addr,
        argus,
        argus_addr: format!("127.0.0.1:{port}"),
    }
}

/// Runs `argus tsdb import FILE --data-dir DATA`.
pub fn tsdb_import(file: &Path, data: &Path) -> std::process::Output {
    Command::new(bin())
        .args(["tsdb", "import"])
        .arg(file)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

/// A scrape target on a free loopback port serving the body the test sets (None: 500).
pub fn fake_target(
    body: Option<&str>,
) -> (String, std::sync::Arc<std::sync::Mutex<Option<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let body = std::sync::Arc::new(std::sync::Mutex::new(body.map(str::to_string)));
    let b = body.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let resp = match b.lock().unwrap().clone() {
                Some(text) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                ),
                None => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            };
            let _ = c.write_all(resp.as_bytes());
        }
    });
    (addr, body)
}

/// Formatted by the tests themselves (Howard Hinnant's civil_from_days), not by argus' code.
/// RFC3339 with nanoseconds, trailing fractional zeros trimmed (Go's RFC3339Nano).
pub fn rfc3339_nano(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// `data` of a Prometheus-API answer, asserting `status: success`.
pub fn api(addr: &str, path: &str) -> serde_json::Value {
    let r = get(addr, path).unwrap_or_else(|| panic!("no answer from {addr}{path}"));
    let v = r.json();
    assert_eq!(v["status"], "success", "{path}: {v}");
    v["data"].clone()
}

/// A child process (not argus) killed and reaped when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the real Prometheus (Debian's `prometheus`) on a free loopback port with this
/// config and storage under `dir`; returns it once ready, with its address.
pub fn prometheus(dir: &Path, config: &str, extra: &[&str]) -> (KillOnDrop, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, config).unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom-tsdb").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .args(extra)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("prometheus (Debian package) must be installed");
    let p = KillOnDrop(child);
    wait_for(Duration::from_secs(90), "prometheus ready", || {
        get(&addr, "/-/ready").filter(|r| r.status == 200)
    });
    (p, addr)
}

/// One request a [`Sink`] received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lower-cased header names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: {}",
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// An HTTP receiver on a free loopback port that records every request and answers with
/// `reply(&request) -> (status, body)`; e.g. a webhook endpoint for notifications.
pub struct Sink {
    pub addr: String,
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Sink {
    pub fn start(reply: impl Fn(&Received) -> (u16, String) + Send + Sync + 'static) -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (g, reply) = (got.clone(), std::sync::Arc::new(reply));
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(c) = conn else { continue };
                let (g, reply) = (g.clone(), reply.clone());
                std::thread::spawn(move || serve_one(c, &g, &*reply));
            }
        });
        Sink { addr, got }
    }

    /// Answers 200 `ok` to everything.
    pub fn ok() -> Sink {
        Sink::start(|_| (200, "ok".into()))
    }

    pub fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn to(&self, prefix: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }
}

fn serve_one(
    mut c: TcpStream,
    got: &std::sync::Mutex<Vec<Received>>,
    reply: &(dyn Fn(&Received) -> (u16, String) + Send + Sync),
) {
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    while body.len() < len {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    let r = Received {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    };
    let (status, text) = reply(&r);
    got.lock().unwrap().push(r);
    let _ = c.write_all(
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        )
        .as_bytes(),
    );
}

/// Starts the real Alertmanager (Debian's `prometheus-alertmanager`, 0.25) on a free
/// loopback port with this config, clustering off; returns it once ready, with its address.
pub fn alertmanager(dir: &Path, config: &str) -> (KillOnDrop, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, config).unwrap();
    let log = std::fs::File::create(dir.join("alertmanager.log")).unwrap();
    let child = Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("prometheus-alertmanager (Debian package) must be installed");
    let p = KillOnDrop(child);
    wait_for(Duration::from_secs(60), "alertmanager ready", || {
        get(&addr, "/-/ready").filter(|r| r.status == 200)
    });
    (p, addr)
}

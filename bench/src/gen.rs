//! Generated kubelet-style CRI log files: nginx access lines, logfmt, JSON and plain
//! application lines of about 100-200 bytes, spread over namespaces and pods.
//!
//! Patterns the search benchmark relies on occur only in messages, never in the CRI
//! prefix or in paths: the substring `error`, the word `deadlock` (rare, always lowercase)
//! and `status=<3 digits>` (logfmt lines only).

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Namespaces of the generated pods, with the app running in each.
pub const NAMESPACES: [(&str, &str); 5] = [
    ("payments", "payments-api"),
    ("checkout", "checkout"),
    ("frontend", "web"),
    ("auth", "auth-server"),
    ("inventory", "inventory-svc"),
];

/// How much to generate.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Total bytes of all files (CRI prefix included).
    Bytes(u64),
    /// Total lines of all files.
    Lines(u64),
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct GenFile {
    pub path: PathBuf,
    pub namespace: String,
    pub lines: u64,
    pub bytes: u64,
}

/// The generated data set.
#[derive(Debug)]
pub struct Dataset {
    pub files: Vec<GenFile>,
    pub lines: u64,
    pub bytes: u64,
    /// Unix seconds before the first timestamp.
    pub start_s: i64,
    /// Unix seconds after the last timestamp.
    pub end_s: i64,
}

impl Dataset {
    pub fn mib(&self) -> f64 {
        self.bytes as f64 / (1024.0 * 1024.0)
    }

    /// The files of one namespace.
    pub fn files_of(&self, ns: &str) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter(|f| f.namespace == ns)
            .map(|f| f.path.clone())
            .collect()
    }

    pub fn all_paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }
}

/// xorshift64*: fast, deterministic, good enough for log text.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Per-second formatted time strings, recomputed when the second changes.
struct Clock {
    sec: i64,
    rfc: String,
    clf: String,
}

impl Clock {
    fn set(&mut self, sec: i64) {
        if sec == self.sec {
            return;
        }
        self.sec = sec;
        let (y, m, d) = civil(sec.div_euclid(86_400));
        let s = sec.rem_euclid(86_400);
        let (hh, mm, ss) = (s / 3600, s / 60 % 60, s % 60);
        self.rfc = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
        let mon = MONTHS[(m - 1) as usize];
        self.clf = format!("{d:02}/{mon}/{y:04}:{hh:02}:{mm:02}:{ss:02} +0000");
    }
}

const UAS: [&str; 6] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "kube-probe/1.30",
    "python-requests/2.32.3",
];
const METHODS: [&str; 5] = ["GET", "GET", "GET", "POST", "PUT"];
const LOGGERS: [&str; 4] = [
    "app.handlers.orders",
    "app.service.cart",
    "app.repo.users",
    "app.cache",
];

fn status(r: &mut Rng) -> u64 {
    match r.below(1000) {
        0..=899 => 200,
        900..=929 => 201,
        930..=949 => 304,
        950..=969 => 404,
        970..=984 => [400, 401, 403][r.below(3) as usize],
        _ => [500, 502, 503, 504][r.below(4) as usize],
    }
}

fn path(r: &mut Rng, out: &mut Vec<u8>) -> std::io::Result<()> {
    let n = r.below(1_000_000);
    match r.below(7) {
        0 => write!(out, "/api/v1/orders/{n}"),
        1 => write!(out, "/api/v1/users/{n}/profile"),
        2 => write!(out, "/healthz"),
        3 => write!(out, "/static/js/app.{:08x}.js", r.next() as u32),
        4 => write!(out, "/api/v2/cart/{n}/items"),
        5 => write!(out, "/metrics"),
        _ => write!(out, "/api/v1/search?q=shoes&page={}", n % 50),
    }
}

/// Appends one message; returns whether it goes to stderr.
fn message(r: &mut Rng, clock: &Clock, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let k = r.below(100);
    if k < 35 {
        // nginx combined + request time and id.
        let st = status(r);
        write!(
            out,
            "10.{}.{}.{} - - [{}] \"{} ",
            r.below(256),
            r.below(256),
            r.below(256),
            clock.clf,
            r.pick(&METHODS)
        )?;
        path(r, out)?;
        write!(
            out,
            " HTTP/1.1\" {st} {} \"-\" \"{}\" {}.{:03} {:016x}",
            r.below(60_000),
            r.pick(&UAS),
            r.below(2),
            r.below(1000),
            r.next()
        )?;
        Ok(false)
    } else if k < 70 {
        // logfmt application line.
        let st = status(r);
        let (level, msg) = if st >= 500 {
            (
                "error",
                r.pick(&[
                    "upstream request failed: connection reset by peer",
                    "internal error while processing request",
                    "database query error: timeout after 5000ms",
                ]),
            )
        } else if r.below(2000) == 0 {
            ("warn", "deadlock detected, retrying transaction")
        } else {
            match r.below(100) {
                0..=4 => ("debug", "cache lookup"),
                5..=9 => ("warn", "slow request"),
                _ => ("info", r.pick(&["request completed", "handled request"])),
            }
        };
        write!(
            out,
            "level={level} msg=\"{msg}\" method={} path=",
            r.pick(&METHODS)
        )?;
        path(r, out)?;
        write!(
            out,
            " status={st} duration_ms={} request_id={:016x}",
            r.below(900) + 1,
            r.next()
        )?;
        Ok(level == "error")
    } else if k < 90 {
        // JSON application line.
        let err = r.below(100) == 0;
        let (level, msg) = if err {
            ("error", "failed to publish event: broker unavailable")
        } else {
            (
                "info",
                r.pick(&["cache hit", "order created", "user loaded", "cart updated"]),
            )
        };
        write!(
            out,
            "{{\"level\":\"{level}\",\"logger\":\"{}\",\"msg\":\"{msg}\",\"user_id\":{},\"took_ms\":{},\"trace_id\":\"{:016x}{:016x}\"}}",
            r.pick(&LOGGERS),
            r.below(10_000_000),
            r.below(500),
            r.next(),
            r.next()
        )?;
        Ok(err)
    } else {
        // Java-style plain line.
        let th = r.below(16);
        if r.below(50) == 0 {
            write!(
                out,
                "ERROR [worker-{th}] c.e.payments.CardGateway - payment declined: gateway error code {}",
                r.below(1000)
            )?;
            Ok(true)
        } else {
            write!(
                out,
                "INFO  [worker-{th}] c.e.orders.OrderService - processed order {} for customer {} in {}ms",
                r.below(100_000_000),
                r.below(1_000_000),
                r.below(800)
            )?;
            Ok(false)
        }
    }
}

struct FilePlan {
    path: PathBuf,
    namespace: String,
    seed: u64,
    target: Target,
    est_lines: u64,
}

fn write_file(p: &FilePlan, base_ns: i64, span_ns: i64) -> Result<GenFile> {
    if let Some(dir) = p.path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let f = File::create(&p.path).with_context(|| format!("creating {}", p.path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut r = Rng::new(p.seed);
    let step = (span_ns / p.est_lines.max(1) as i64).max(1);
    let mut clock = Clock {
        sec: i64::MIN,
        rfc: String::new(),
        clf: String::new(),
    };
    let mut msg = Vec::with_capacity(512);
    let mut line = Vec::with_capacity(512);
    let (mut lines, mut bytes) = (0u64, 0u64);
    loop {
        let done = match p.target {
            Target::Bytes(b) => bytes >= b,
            Target::Lines(l) => lines >= l,
        };
        if done {
            break;
        }
        let ts = base_ns + lines as i64 * step + (r.below(step as u64)) as i64;
        clock.set(ts.div_euclid(1_000_000_000));
        msg.clear();
        let stderr = message(&mut r, &clock, &mut msg)?;
        line.clear();
        write!(
            line,
            "{}.{:09}Z {} F ",
            clock.rfc,
            ts.rem_euclid(1_000_000_000),
            if stderr { "stderr" } else { "stdout" }
        )?;
        line.extend_from_slice(&msg);
        line.push(b'\n');
        w.write_all(&line)?;
        lines += 1;
        bytes += line.len() as u64;
    }
    w.flush()?;
    Ok(GenFile {
        path: p.path.clone(),
        namespace: p.namespace.clone(),
        lines,
        bytes,
    })
}

/// Writes `files` files under `root/pods/` (kubelet layout) holding `target` in total.
pub fn generate(root: &Path, files: usize, target: Target) -> Result<Dataset> {
    let files = files.max(1);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    // Timestamps span 30 minutes ending 10 minutes ago: recent (inside retention and
    // the default partitions) and never in the future even if a file overruns its estimate.
    let base_ns = (now - 2400) * 1_000_000_000;
    let span_ns = 1800 * 1_000_000_000i64;
    let mut seed_rng = Rng::new(0xA11CE);
    let mut plans = Vec::with_capacity(files);
    for i in 0..files {
        let (ns, app) = NAMESPACES[i % NAMESPACES.len()];
        let pod = format!(
            "{app}-{:08x}-{:05x}",
            seed_rng.next() as u32,
            seed_rng.next() & 0xfffff
        );
        let a = seed_rng.next();
        let b = seed_rng.next();
        let uid = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a as u32,
            (a >> 32) as u16,
            (a >> 48) as u16,
            b as u16,
            b >> 16
        );
        let share =
            |total: u64| total / files as u64 + u64::from((i as u64) < total % files as u64);
        let (target, est_lines) = match target {
            Target::Bytes(t) => (Target::Bytes(share(t)), share(t) / 185),
            Target::Lines(l) => (Target::Lines(share(l)), share(l)),
        };
        plans.push(FilePlan {
            path: root
                .join("pods")
                .join(format!("{ns}_{pod}_{uid}"))
                .join(app)
                .join("0.log"),
            namespace: ns.to_string(),
            seed: seed_rng.next(),
            target,
            est_lines,
        });
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files);
    let results: Vec<Result<GenFile>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let plans = &plans;
                s.spawn(move || {
                    plans
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % threads == t)
                        .map(|(i, p)| (i, write_file(p, base_ns, span_ns)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Result<GenFile>)> = Vec::new();
        for h in handles {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(_) => all.push((usize::MAX, Err(anyhow::anyhow!("generator panicked")))),
            }
        }
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    let files: Vec<GenFile> = results.into_iter().collect::<Result<_>>()?;
    Ok(Dataset {
        lines: files.iter().map(|f| f.lines).sum(),
        bytes: files.iter().map(|f| f.bytes).sum(),
        files,
        start_s: now - 2400 - 60,
        end_s: now + 3600,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_418), (2025, 11, 26));
    }
}

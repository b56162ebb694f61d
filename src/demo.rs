//! The `--demo` workload simulator: lets `argus all-in-one --demo` show data within seconds
//! without a cluster.
//!
//! Instead of feeding records into argus directly, the simulator plays kubelet and containerd:
//! it writes container log files exactly where and how a node has them, and argus' own
//! collector tails them — so the demo exercises the real code path (discovery, CRI parsing,
//! partial-line joining, rotation and restart handling):
//!
//! - `<root>/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log`, lines in CRI format
//!   `<RFC3339Nano> <stdout|stderr> <P|F> <message>`; lines longer than 16 KiB are split into
//!   `P` pieces and a final `F` piece, as containerd does;
//! - `<root>/containers/<pod>_<namespace>_<container>-<64-hex-id>.log`, symlinks to the log
//!   file of each container instance;
//! - size-based rotation: `0.log` becomes `0.log.<YYYYMMDD-HHMMSS>` (UTC), a new `0.log` is
//!   started, and only the newest `keep_rotated` rotated files are kept.
//!
//! The workload (see `demo/workloads.rs`) has something for every screen: nginx access and
//! error logs, JSON API logs with a database outage (an error burst) in the first 5 seconds of
//! every minute, logfmt, plain text with over-long lines, a crash-looping Go program whose
//! restarts write `1.log`, `2.log`, …, shop business logs and CoreDNS query logs, in the
//! namespaces `demo`, `shop` and `kube-system`. Everything is derived from a seed, so the same
//! seed gives the same pods and lines.
//!
//! After each step, [`spawn`]'s thread brings two more simulations in line with the logs,
//! for the real watcher and collector to read: the cluster's objects and Events in a fake
//! API server (`demo/cluster.rs`) and the containers' cgroup v2 tree (`demo/cgroup.rs`),
//! with images and resources from `demo/profile.rs`.

mod cgroup;
mod cluster;
mod profile;
mod workloads;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argus_core::time::{format_rfc3339_nano, now_ns};

pub use cgroup::CgroupTree;
pub use cluster::{Cluster, NODE};
use workloads::{Gen, Kind, Line};

const NS_PER_SEC: i64 = 1_000_000_000;
/// How much history the first step writes, so search has data immediately.
const BACKFILL_NS: i64 = 120 * NS_PER_SEC;
/// The file in the log root that keeps the time the demo wrote through (not a `*.log`,
/// so the collector does not read it).
const CLOCK_FILE: &str = ".demo-clock";
/// Lines are planned per tick of at most this length.
const TICK_NS: i64 = NS_PER_SEC;
/// How often [`spawn`]'s thread steps the simulator.
const STEP_INTERVAL: Duration = Duration::from_millis(200);
/// containerd's maximum log line piece (`max_container_log_line_size`, 16 KiB).
const MAX_PIECE: usize = 16 * 1024;
/// Restart log files kept per container (older ones are deleted, as kubelet does).
const KEEP_RESTARTS: u32 = 5;

/// Where and how the simulator writes.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Stands for the node's `/var/log`: `pods/` and `containers/` are created below it.
    pub root: PathBuf,
    /// A log file larger than this is rotated (kubelet's `containerLogMaxSize`).
    pub rotate_bytes: u64,
    /// Rotated files kept per log file (kubelet's `containerLogMaxFiles` minus the live one).
    pub keep_rotated: usize,
    /// Seeds every pod name, uid, container id and line.
    pub seed: u64,
}

impl DemoConfig {
    /// A configuration with the defaults: 256 KiB rotation, 3 rotated files kept, a fixed seed.
    pub fn new(root: impl Into<PathBuf>) -> DemoConfig {
        DemoConfig {
            root: root.into(),
            rotate_bytes: 256 * 1024,
            keep_rotated: 3,
            seed: 0x5eed_da7a,
        }
    }
}

/// A simulated pod, for the caller to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPod {
    pub namespace: String,
    pub pod: String,
    pub uid: String,
    pub containers: Vec<String>,
}

/// What one [`Simulator::step`] wrote: CRI lines (each `P`/`F` piece counts) and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepStats {
    pub lines: u64,
    pub bytes: u64,
}

/// splitmix64: a tiny, good-enough deterministic PRNG.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo))
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// An independent stream derived from this one.
    fn fork(&mut self) -> Rng {
        Rng(self.next_u64())
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n + 16);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(n);
        s
    }

    /// A random (version 4) UUID, lowercase.
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        let variant = ["8", "9", "a", "b"][self.below(4) as usize];
        format!(
            "{}-{}-4{}-{variant}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    /// Kubernetes' random-name alphabet (no vowels, no confusable digits).
    fn kube_chars(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n).map(|_| char::from(*self.pick(ALPHABET))).collect()
    }
}

/// A simulated deployment: namespace, name, containers (name, program).
type PodSpec = (&'static str, &'static str, &'static [(&'static str, Kind)]);

/// The simulated pods, one per deployment.
const PODS: [PodSpec; 7] = [
    ("demo", "web", &[("nginx", Kind::Nginx)]),
    (
        "demo",
        "api",
        &[("api", Kind::Api), ("sidecar", Kind::Sidecar)],
    ),
    ("demo", "worker", &[("worker", Kind::Worker)]),
    ("demo", "crashy", &[("app", Kind::Crashy)]),
    ("shop", "cart", &[("cart", Kind::Cart)]),
    ("shop", "checkout", &[("checkout", Kind::Checkout)]),
    ("kube-system", "coredns", &[("coredns", Kind::CoreDns)]),
];

/// `YYYYMMDD-HHMMSS` in UTC, kubelet's rotated-file suffix.
fn rotation_stamp(ns: i64) -> String {
    let c = workloads::civil(ns);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Ok(())
}

/// Rotation limits, copied out of [`DemoConfig`].
#[derive(Clone, Copy)]
struct Limits {
    rotate_bytes: u64,
    keep_rotated: usize,
}

/// One container of a pod: its program, its current instance (restart, id) and log file.
struct Container {
    namespace: String,
    pod: String,
    /// The pod's uid (of its log directory).
    uid: String,
    name: String,
    /// `<root>/pods/<ns>_<pod>_<uid>/<container>`, absolute.
    dir: PathBuf,
    /// `<root>/containers`, absolute.
    links_dir: PathBuf,
    gen: Gen,
    restart: u32,
    /// The 64-hex container id of the current instance.
    id: String,
    file: Option<File>,
    /// Size of the live log file (as of the last flush).
    size: u64,
    /// Lines not yet written; flushed with one `write_all`.
    buf: Vec<u8>,
    buf_lines: u64,
    last_ts: i64,
    last_rotation_sec: i64,
    /// Fraction of a line carried to the next tick.
    carry: f64,
    /// Links to the instances whose logs still exist: (restart, link path).
    links: Vec<(u32, PathBuf)>,
    linked: bool,
    started: bool,
    running: bool,
    next_start: i64,
    crash_at: i64,
    /// When the current instance started (None: running since before the simulation).
    started_ns: Option<i64>,
    /// When the previous instance started.
    prev_started_ns: i64,
    /// Crashes so far, the first and the last.
    crashes: u32,
    first_crash_ns: i64,
    last_crash_ns: i64,
}

impl Container {
    fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.restart))
    }

    /// The next timestamp for this file: `t`, but strictly after the previous line.
    fn next_ts(&mut self, t: i64) -> i64 {
        let ts = t.max(self.last_ts.saturating_add(1));
        self.last_ts = ts;
        ts
    }

    /// Writes the buffered lines with one `write_all`, opening the file (and linking it) first.
    fn flush(&mut self, stats: &mut StepStats) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let lines = std::mem::take(&mut self.buf_lines);
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.log_path())?;
                self.size = f.metadata()?.len();
                self.file.insert(f)
            }
        };
        file.write_all(&buf)?;
        self.size += buf.len() as u64;
        stats.lines += lines;
        stats.bytes += buf.len() as u64;
        if !self.linked {
            self.link()?;
        }
        Ok(())
    }

    /// Creates `containers/<pod>_<ns>_<container>-<id>.log` → the current instance's log file.
    fn link(&mut self) -> io::Result<()> {
        let link = self.links_dir.join(format!(
            "{}_{}_{}-{}.log",
            self.pod, self.namespace, self.name, self.id
        ));
        if fs::symlink_metadata(&link).is_ok() {
            fs::remove_file(&link)?;
        }
        symlink(&self.log_path(), &link)?;
        self.links.push((self.restart, link));
        self.linked = true;
        Ok(())
    }

    /// Rotates the live file as kubelet does, unless a rotation already happened this second.
    fn rotate(&mut self, t: i64, keep: usize) -> io::Result<()> {
        let sec = t.div_euclid(NS_PER_SEC);
        if sec == self.last_rotation_sec {
            return Ok(());
        }
        let live = self.log_path();
        let rotated = self
            .dir
            .join(format!("{}.log.{}", self.restart, rotation_stamp(t)));
        if rotated.exists() || !live.exists() {
            return Ok(());
        }
        self.file = None;
        fs::rename(&live, &rotated)?;
        self.last_rotation_sec = sec;
        self.size = 0;
        let prefix = format!("{}.log.", self.restart);
        let mut old: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect();
        old.sort();
        let excess = old.len().saturating_sub(keep);
        for path in &old[..excess] {
            remove_if_exists(path)?;
        }
        tracing::debug!(file = %rotated.display(), "demo: rotated log file");
        Ok(())
    }

    /// Buffers `lines` at `t`, rotating first when the file is full; long lines become pieces.
    fn emit(
        &mut self,
        t: i64,
        lines: Vec<Line>,
        limits: Limits,
        stats: &mut StepStats,
    ) -> io::Result<()> {
        for line in lines {
            if limits.rotate_bytes > 0 && self.size + self.buf.len() as u64 >= limits.rotate_bytes {
                self.flush(stats)?;
                self.rotate(t, limits.keep_rotated)?;
            }
            let mut rest = line.text.as_str();
            loop {
                let (piece, tag) = if rest.len() > MAX_PIECE {
                    let mut cut = MAX_PIECE;
                    while !rest.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    (&rest[..cut], "P")
                } else {
                    (rest, "F")
                };
                let ts = format_rfc3339_nano(self.next_ts(t));
                for part in [&ts, " ", line.stream.as_str(), " ", tag, " ", piece, "\n"] {
                    self.buf.extend_from_slice(part.as_bytes());
                }
                self.buf_lines += 1;
                if tag == "F" {
                    break;
                }
                rest = &rest[piece.len()..];
            }
        }
        Ok(())
    }

    /// Plans and buffers the regular lines due in `[from, to)`, spread across the interval.
    fn regular(
        &mut self,
        from: i64,
        to: i64,
        limits: Limits,
        stats: &mut StepStats,
    ) -> io::Result<()> {
        let dt = to - from;
        if dt <= 0 {
            return Ok(());
        }
        let due = self.gen.rate(from) * dt as f64 / NS_PER_SEC as f64 + self.carry;
        let n = due.floor();
        self.carry = due - n;
        let n = n as u64;
        for i in 0..n {
            let at = (i as f64 + self.gen.rng.unit()) * dt as f64 / n as f64;
            let t = from + at as i64;
            let lines = self.gen.entry(t);
            self.emit(t, lines, limits, stats)?;
        }
        Ok(())
    }

    /// Starts an instance at `t`; after the first one this is a restart: next `<n>.log`, new id.
    fn start(&mut self, t: i64, limits: Limits, stats: &mut StepStats) -> io::Result<()> {
        if self.started {
            self.flush(stats)?;
            self.file = None;
            self.restart += 1;
            self.id = self.gen.rng.hex(64);
            self.linked = false;
            self.size = 0;
            self.last_rotation_sec = i64::MIN;
            if let Some(gone) = self.restart.checked_sub(KEEP_RESTARTS) {
                self.remove_instance_logs(gone)?;
            }
            tracing::debug!(pod = %self.pod, restart = self.restart, "demo: container restarted");
        }
        self.started = true;
        self.running = true;
        self.prev_started_ns = self.started_ns.unwrap_or(t);
        self.started_ns = Some(t);
        let run = self.gen.rng.range(15, 22) as i64 * NS_PER_SEC;
        self.crash_at = t + run + self.gen.rng.below(NS_PER_SEC as u64) as i64;
        let lines = self.gen.startup(t);
        self.emit(t, lines, limits, stats)
    }

    /// Deletes the log files and links of instance `restart` and of older ones.
    fn remove_instance_logs(&mut self, restart: u32) -> io::Result<()> {
        let live = format!("{restart}.log");
        let rotated = format!("{restart}.log.");
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == live || name.starts_with(&rotated) {
                remove_if_exists(&entry.path())?;
            }
        }
        let (gone, kept): (Vec<_>, Vec<_>) = self.links.drain(..).partition(|l| l.0 <= restart);
        self.links = kept;
        for (_, link) in gone {
            remove_if_exists(&link)?;
        }
        Ok(())
    }

    /// Simulates `[from, to)`: crash-looping containers start, run and crash within it.
    fn tick(
        &mut self,
        from: i64,
        to: i64,
        limits: Limits,
        stats: &mut StepStats,
    ) -> io::Result<()> {
        let mut cur = from;
        while cur < to {
            if !self.running {
                if self.next_start >= to {
                    return Ok(());
                }
                cur = self.next_start.max(cur);
                self.start(cur, limits, stats)?;
            }
            let end = self.crash_at.min(to);
            self.regular(cur, end, limits, stats)?;
            if self.crash_at < to {
                let at = self.crash_at.max(cur);
                let lines = self.gen.crash();
                self.emit(at, lines, limits, stats)?;
                self.running = false;
                self.crash_at = i64::MAX;
                if self.crashes == 0 {
                    self.first_crash_ns = at;
                }
                self.crashes += 1;
                self.last_crash_ns = at;
                // CrashLoopBackOff, kept short so the demo shows several restarts.
                self.next_start = at + self.gen.rng.range(4, 8) as i64 * NS_PER_SEC;
                cur = at;
            } else {
                cur = to;
            }
        }
        Ok(())
    }
}

/// Writes the simulated workload's container logs; see the module documentation.
pub struct Simulator {
    pods: Vec<DemoPod>,
    containers: Vec<Container>,
    limits: Limits,
    last_ns: Option<i64>,
    /// Where the simulation began: the first step's time minus the backfill.
    start_ns: Option<i64>,
    /// `<root>/.demo-clock`: the time written through, kept after every step so that a
    /// restarted demo goes on from there instead of writing the last 2 minutes again.
    clock: PathBuf,
    /// The time the previous run wrote through, read from [`Simulator::clock`].
    resume_ns: Option<i64>,
}

impl Simulator {
    /// Names the pods from the seed and creates `pods/…/<container>/` and `containers/`.
    pub fn new(cfg: DemoConfig) -> io::Result<Simulator> {
        let root = std::path::absolute(&cfg.root)?;
        let links_dir = root.join("containers");
        fs::create_dir_all(&links_dir)?;
        let clock = root.join(CLOCK_FILE);
        let resume_ns = fs::read_to_string(&clock)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok());
        let mut rng = Rng(cfg.seed);
        let mut pods = Vec::new();
        let mut containers = Vec::new();
        for (namespace, deployment, specs) in PODS {
            let pod = format!("{deployment}-{}-{}", rng.kube_chars(10), rng.kube_chars(5));
            let uid = rng.uuid();
            let pod_dir = root.join("pods").join(format!("{namespace}_{pod}_{uid}"));
            for &(name, kind) in specs {
                let dir = pod_dir.join(name);
                fs::create_dir_all(&dir)?;
                let crashy = kind == Kind::Crashy;
                containers.push(Container {
                    namespace: namespace.to_string(),
                    pod: pod.clone(),
                    uid: uid.clone(),
                    name: name.to_string(),
                    dir,
                    links_dir: links_dir.clone(),
                    id: rng.hex(64),
                    gen: Gen::new(kind, rng.fork()),
                    restart: 0,
                    file: None,
                    size: 0,
                    buf: Vec::new(),
                    buf_lines: 0,
                    last_ts: i64::MIN,
                    last_rotation_sec: i64::MIN,
                    carry: 0.0,
                    links: Vec::new(),
                    linked: false,
                    started: !crashy,
                    running: !crashy,
                    next_start: i64::MIN,
                    crash_at: i64::MAX,
                    started_ns: None,
                    prev_started_ns: 0,
                    crashes: 0,
                    first_crash_ns: 0,
                    last_crash_ns: 0,
                });
            }
            pods.push(DemoPod {
                namespace: namespace.to_string(),
                pod,
                uid,
                containers: specs.iter().map(|s| s.0.to_string()).collect(),
            });
        }
        Ok(Simulator {
            pods,
            containers,
            limits: Limits {
                rotate_bytes: cfg.rotate_bytes,
                keep_rotated: cfg.keep_rotated,
            },
            last_ns: None,
            start_ns: None,
            clock,
            resume_ns,
        })
    }

    /// Writes the lines due up to `now_ns` (simulated workload time); call it every ~200 ms.
    /// The first call backfills the last 2 minutes, or from where a previous run on the
    /// same root stopped if that is more recent; a time not after the previous call writes
    /// nothing; gaps longer than 2 minutes are shortened to 2 minutes.
    pub fn step(&mut self, now_ns: i64) -> io::Result<StepStats> {
        let mut stats = StepStats::default();
        let from = match self.last_ns {
            Some(last) if now_ns <= last => return Ok(stats),
            Some(last) => last.max(now_ns - BACKFILL_NS),
            None => match self.resume_ns.take() {
                // A clock from the future (the system clock was set back) is ignored.
                Some(r) if r < now_ns => r.max(now_ns - BACKFILL_NS),
                _ => now_ns - BACKFILL_NS,
            },
        };
        // Time moves on even if a write fails: a retry would duplicate what was written.
        self.last_ns = Some(now_ns);
        self.start_ns.get_or_insert(from);
        let mut first_err = None;
        for c in &mut self.containers {
            let mut t = from;
            let mut result = Ok(());
            while t < now_ns && result.is_ok() {
                let to = (t + TICK_NS).min(now_ns);
                result = c.tick(t, to, self.limits, &mut stats);
                t = to;
            }
            if let Err(e) = result.and_then(|()| c.flush(&mut stats)) {
                c.buf.clear();
                c.buf_lines = 0;
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = fs::write(&self.clock, now_ns.to_string()) {
            first_err.get_or_insert(e);
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    /// The simulated pods, for the caller to print.
    pub fn pods(&self) -> Vec<DemoPod> {
        self.pods.clone()
    }
}

/// What the demo simulates besides the log files.
#[derive(Default)]
pub struct Extras {
    /// The cluster's objects and Events, kept in step with the logs.
    pub cluster: Option<Cluster>,
    /// The cgroup tree of the simulated containers.
    pub cgroups: Option<CgroupTree>,
}

/// Steps of [`STEP_INTERVAL`] between writes of the cgroup tree (2 s; scrapes are 15 s
/// apart by default).
const CGROUP_EVERY: u64 = 10;

/// Runs the simulator on a dedicated std thread until `stop` is set, stepping every 200 ms
/// with the wall clock, and after each step brings the simulated cluster and cgroup tree
/// in `extras` up to date; errors are logged with `tracing::warn` and the loop continues.
pub fn spawn(
    cfg: DemoConfig,
    stop: Arc<AtomicBool>,
    mut extras: Extras,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let root = cfg.root.display().to_string();
        let mut sim = match Simulator::new(cfg) {
            Ok(sim) => sim,
            Err(e) => {
                tracing::warn!(root = %root, error = %e, "demo: cannot set up the workload simulator");
                return;
            }
        };
        for p in sim.pods() {
            tracing::debug!(namespace = %p.namespace, pod = %p.pod, uid = %p.uid, containers = ?p.containers, "demo: simulated pod");
        }
        tracing::info!(root = %root, pods = sim.pods.len(), "demo: workload simulator writing container logs");
        let mut total = StepStats::default();
        let mut failures = 0u64;
        let mut steps = 0u64;
        let (mut cluster_failures, mut cgroup_failures) = (0u64, 0u64);
        while !stop.load(Ordering::Relaxed) {
            let now = now_ns();
            let stepped = sim.step(now);
            if let Some(cluster) = extras.cluster.as_mut() {
                match cluster.sync(&sim, now) {
                    Ok(()) => cluster_failures = 0,
                    Err(e) => {
                        cluster_failures += 1;
                        if cluster_failures % 50 == 1 {
                            tracing::warn!(error = %e, "demo: updating the simulated cluster failed");
                        }
                    }
                }
            }
            if let Some(cgroups) = extras
                .cgroups
                .as_mut()
                .filter(|_| steps.is_multiple_of(CGROUP_EVERY))
            {
                match cgroups.sync(&sim, now) {
                    Ok(()) => cgroup_failures = 0,
                    Err(e) => {
                        cgroup_failures += 1;
                        if cgroup_failures % 5 == 1 {
                            tracing::warn!(error = %e, "demo: writing the simulated cgroup tree failed");
                        }
                    }
                }
            }
            steps += 1;
            match stepped {
                Ok(s) => {
                    total.lines += s.lines;
                    total.bytes += s.bytes;
                    failures = 0;
                }
                Err(e) => {
                    failures += 1;
                    // Once per failure streak, then every ~10 s of it.
                    if failures % 50 == 1 {
                        tracing::warn!(root = %root, error = %e, "demo: writing simulated logs failed");
                    }
                }
            }
            std::thread::sleep(STEP_INTERVAL);
        }
        tracing::info!(
            lines = total.lines,
            bytes = total.bytes,
            "demo: workload simulator stopped"
        );
    })
}

#[cfg(test)]
mod tests;

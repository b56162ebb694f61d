//! Reading one cgroup's stats from the v2 files or the v1 controller files, with the
//! same derivations as cAdvisor (libcontainer): working set = usage − inactive file
//! (never below 0), CPU in seconds, unlimited limits as 0, CFS series only with a quota.

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use std::io::Read;
use std::path::Path;

use super::layout::Layout;

/// Stats of one cgroup; None where the file is missing or unreadable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub cpu_usage_seconds: Option<f64>,
    pub cpu_user_seconds: Option<f64>,
    pub cpu_system_seconds: Option<f64>,
    /// Only when a CPU quota is set.
    pub cfs: Option<Cfs>,
    pub memory: Option<Memory>,
    pub oom_kills: Option<u64>,
    pub io: Vec<IoDevice>,
    /// `container_spec_memory_limit_bytes` (0 = unlimited).
    pub memory_limit: Option<u64>,
    /// µs per period; None when unlimited.
    pub cpu_quota: Option<u64>,
    pub cpu_period: Option<u64>,
    pub cpu_shares: Option<u64>,
    pub processes: Option<u64>,
    pub threads: Option<u64>,
    pub threads_max: Option<u64>,
    /// Unix seconds: the cgroup directory's modification time.
    pub start_time: Option<f64>,
    /// A process in the cgroup (for its network namespace).
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cfs {
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_seconds: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub usage: u64,
    pub working_set: u64,
    pub rss: u64,
    pub cache: u64,
    pub swap: u64,
    pub mapped_file: u64,
    pub max_usage: u64,
    /// (container scope, hierarchy scope)
    pub pgfault: (u64, u64),
    pub pgmajfault: (u64, u64),
}

/// Block IO of one device, by `major:minor`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoDevice {
    pub major: u32,
    pub minor: u32,
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub reads: u64,
    pub writes: u64,
}

/// Reads cgroup files into one reused buffer.
#[derive(Debug, Default)]
pub struct Reader {
    buf: String,
}

/// A cgroup directory opened once; its files are opened relative to it (no path walk
/// per file, which dominated the cost of a scrape).
pub struct Dir(Option<OwnedFd>);

impl Dir {
    pub fn open(path: &Path) -> Dir {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Dir(rustix::fs::open(path, flags, Mode::empty()).ok())
    }
}

impl Reader {
    fn read(&mut self, dir: &Dir, name: &str) -> Option<&str> {
        self.buf.clear();
        let fd = rustix::fs::openat(
            dir.0.as_ref()?,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        std::fs::File::from(fd).read_to_string(&mut self.buf).ok()?;
        Some(&self.buf)
    }

    fn read_u64(&mut self, dir: &Dir, name: &str) -> Option<u64> {
        self.read(dir, name)?.trim().parse().ok()
    }

    /// Reads the stats of the cgroup at `rel` (`/` or `/kubepods/...`).
    pub fn stats(&mut self, layout: &Layout, rel: &str) -> Stats {
        let rel = rel.trim_start_matches('/');
        match layout {
            Layout::V2 { root } => self.v2(&root.join(rel)),
            Layout::V1 {
                cpu,
                cpuacct,
                memory,
                blkio,
                pids,
                ..
            } => {
                let at = |c: &Option<std::path::PathBuf>| c.as_ref().map(|p| p.join(rel));
                self.v1(
                    at(cpu).as_deref(),
                    at(cpuacct).as_deref(),
                    at(memory).as_deref(),
                    at(blkio).as_deref(),
                    at(pids).as_deref(),
                )
            }
        }
    }

    fn v2(&mut self, dir: &Path) -> Stats {
        let dir = &Dir::open(dir);
        let mut s = Stats::default();
        if let Some(text) = self.read(dir, "cpu.stat") {
            let kv = KeyValues(text);
            s.cpu_usage_seconds = kv.get("usage_usec").map(|v| v as f64 / 1e6);
            s.cpu_user_seconds = kv.get("user_usec").map(|v| v as f64 / 1e6);
            s.cpu_system_seconds = kv.get("system_usec").map(|v| v as f64 / 1e6);
            s.cfs = kv.get("nr_periods").map(|periods| Cfs {
                periods,
                throttled_periods: kv.get("nr_throttled").unwrap_or(0),
                throttled_seconds: kv.get("throttled_usec").unwrap_or(0) as f64 / 1e6,
            });
        }
        if let Some(text) = self.read(dir, "cpu.max") {
            let mut f = text.split_whitespace();
            s.cpu_quota = f.next().and_then(|q| q.parse().ok());
            s.cpu_period = f.next().and_then(|p| p.parse().ok());
        }
        if s.cpu_quota.is_none() {
            s.cfs = None;
        }
        // cpu.weight 1..10000 back to v1 shares, as cAdvisor converts it.
        s.cpu_shares = self
            .read_u64(dir, "cpu.weight")
            .filter(|w| (1..=10_000).contains(w))
            .map(|w| 2 + (w - 1) * 262_142 / 9_999);
        let current = self.read_u64(dir, "memory.current");
        if let Some(text) = self.read(dir, "memory.stat") {
            let kv = KeyValues(text);
            let anon = kv.get("anon").unwrap_or(0);
            let file = kv.get("file").unwrap_or(0);
            // The root cgroup has no memory.current: anon + file, as libcontainer does.
            let usage = current.unwrap_or(anon + file);
            let pgfault = kv.get("pgfault").unwrap_or(0);
            let pgmajfault = kv.get("pgmajfault").unwrap_or(0);
            s.memory = Some(Memory {
                usage,
                working_set: usage.saturating_sub(kv.get("inactive_file").unwrap_or(0)),
                rss: anon,
                cache: file,
                swap: 0,
                mapped_file: kv.get("file_mapped").unwrap_or(0),
                max_usage: 0,
                pgfault: (pgfault, pgfault),
                pgmajfault: (pgmajfault, pgmajfault),
            });
        }
        if let Some(m) = s.memory.as_mut() {
            m.swap = self.read_u64(dir, "memory.swap.current").unwrap_or(0);
            m.max_usage = self.read_u64(dir, "memory.peak").unwrap_or(0);
        }
        if let Some(text) = self.read(dir, "memory.events") {
            s.oom_kills = KeyValues(text).get("oom_kill");
        }
        s.memory_limit = self.read(dir, "memory.max").map(|t| limit(t.trim()));
        if let Some(text) = self.read(dir, "io.stat") {
            s.io = parse_io_stat(text);
        }
        s.threads = self.read_u64(dir, "pids.current");
        s.threads_max = self.read(dir, "pids.max").map(|t| limit(t.trim()));
        self.procs(dir, &mut s);
        s.start_time = start_time(dir);
        s
    }

    fn v1(
        &mut self,
        cpu: Option<&Path>,
        cpuacct: Option<&Path>,
        memory: Option<&Path>,
        blkio: Option<&Path>,
        pids: Option<&Path>,
    ) -> Stats {
        let mut s = Stats::default();
        if let Some(dir) = cpuacct {
            let dir = &Dir::open(dir);
            s.cpu_usage_seconds = self
                .read_u64(dir, "cpuacct.usage")
                .map(|ns| ns as f64 / 1e9);
            if let Some(text) = self.read(dir, "cpuacct.stat") {
                // In USER_HZ ticks (100 per second), as libcontainer assumes.
                let kv = KeyValues(text);
                s.cpu_user_seconds = kv.get("user").map(|t| t as f64 / 100.0);
                s.cpu_system_seconds = kv.get("system").map(|t| t as f64 / 100.0);
            }
        }
        if let Some(dir) = cpu {
            let dir = &Dir::open(dir);
            s.cpu_quota = self
                .read(dir, "cpu.cfs_quota_us")
                .and_then(|t| t.trim().parse::<i64>().ok())
                .filter(|q| *q > 0)
                .map(|q| q as u64);
            s.cpu_period = self.read_u64(dir, "cpu.cfs_period_us");
            s.cpu_shares = self.read_u64(dir, "cpu.shares");
            if s.cpu_quota.is_some() {
                if let Some(text) = self.read(dir, "cpu.stat") {
                    let kv = KeyValues(text);
                    s.cfs = Some(Cfs {
                        periods: kv.get("nr_periods").unwrap_or(0),
                        throttled_periods: kv.get("nr_throttled").unwrap_or(0),
                        throttled_seconds: kv.get("throttled_time").unwrap_or(0) as f64 / 1e9,
                    });
                }
            }
        }
        if let Some(dir) = memory {
            let dir = &Dir::open(dir);
            let usage = self.read_u64(dir, "memory.usage_in_bytes");
            if let (Some(usage), Some(text)) = (usage, self.read(dir, "memory.stat")) {
                let kv = KeyValues(text);
                let hier = |k: &str| kv.get(&format!("total_{k}")).or_else(|| kv.get(k));
                s.memory = Some(Memory {
                    usage,
                    working_set: usage.saturating_sub(hier("inactive_file").unwrap_or(0)),
                    rss: hier("rss").unwrap_or(0),
                    cache: hier("cache").unwrap_or(0),
                    swap: hier("swap").unwrap_or(0),
                    mapped_file: hier("mapped_file").unwrap_or(0),
                    max_usage: 0,
                    pgfault: (kv.get("pgfault").unwrap_or(0), hier("pgfault").unwrap_or(0)),
                    pgmajfault: (
                        kv.get("pgmajfault").unwrap_or(0),
                        hier("pgmajfault").unwrap_or(0),
                    ),
                });
            }
            if let Some(m) = s.memory.as_mut() {
                m.max_usage = self.read_u64(dir, "memory.max_usage_in_bytes").unwrap_or(0);
            }
            if let Some(text) = self.read(dir, "memory.oom_control") {
                s.oom_kills = KeyValues(text).get("oom_kill");
            }
            s.memory_limit = self
                .read(dir, "memory.limit_in_bytes")
                .map(|t| limit(t.trim()));
            self.procs(dir, &mut s);
            s.start_time = start_time(dir);
        }
        if let Some(dir) = blkio {
            let dir = &Dir::open(dir);
            let mut io = Vec::new();
            for (bytes, ops) in [
                (
                    "blkio.throttle.io_service_bytes_recursive",
                    "blkio.throttle.io_serviced_recursive",
                ),
                (
                    "blkio.bfq.io_service_bytes_recursive",
                    "blkio.bfq.io_serviced_recursive",
                ),
                (
                    "blkio.io_service_bytes_recursive",
                    "blkio.io_serviced_recursive",
                ),
            ] {
                if let Some(text) = self.read(dir, bytes) {
                    parse_blkio(text, &mut io, true);
                }
                if let Some(text) = self.read(dir, ops) {
                    parse_blkio(text, &mut io, false);
                }
                if !io.is_empty() {
                    break;
                }
            }
            s.io = io;
        }
        if let Some(dir) = pids {
            let dir = &Dir::open(dir);
            s.threads = self.read_u64(dir, "pids.current");
            s.threads_max = self.read(dir, "pids.max").map(|t| limit(t.trim()));
        }
        if s.processes.is_none() {
            if let Some(dir) = cpu.or(cpuacct) {
                let dir = &Dir::open(dir);
                self.procs(dir, &mut s);
                s.start_time = s.start_time.or_else(|| start_time(dir));
            }
        }
        s
    }

    fn procs(&mut self, dir: &Dir, s: &mut Stats) {
        if let Some(text) = self.read(dir, "cgroup.procs") {
            let mut n = 0;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                if s.pid.is_none() {
                    s.pid = line.trim().parse().ok();
                }
                n += 1;
            }
            s.processes = Some(n);
        }
    }
}

/// `key value` lines.
struct KeyValues<'a>(&'a str);

impl KeyValues<'_> {
    fn get(&self, key: &str) -> Option<u64> {
        self.0.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok())?
        })
    }
}

/// `max` or a huge value (v1's "unlimited") is exported as 0, as cAdvisor does.
fn limit(text: &str) -> u64 {
    match text.parse::<u64>() {
        Ok(v) if v <= 1 << 62 => v,
        _ => 0,
    }
}

fn start_time(dir: &Dir) -> Option<f64> {
    let st = rustix::fs::fstat(dir.0.as_ref()?).ok()?;
    Some(st.st_mtime as f64)
}

fn device_mut(io: &mut Vec<IoDevice>, major: u32, minor: u32) -> &mut IoDevice {
    let at = match io.iter().position(|d| d.major == major && d.minor == minor) {
        Some(i) => i,
        None => {
            io.push(IoDevice {
                major,
                minor,
                ..IoDevice::default()
            });
            io.len() - 1
        }
    };
    &mut io[at]
}

fn major_minor(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// v2 `io.stat`: `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`.
fn parse_io_stat(text: &str) -> Vec<IoDevice> {
    let mut io = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(major_minor) else {
            continue;
        };
        let d = device_mut(&mut io, major, minor);
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let v = v.parse().unwrap_or(0);
            match k {
                "rbytes" => d.read_bytes = v,
                "wbytes" => d.write_bytes = v,
                "rios" => d.reads = v,
                "wios" => d.writes = v,
                _ => {}
            }
        }
    }
    io
}

/// v1 blkio: `8:0 Read 123` lines (plus `Write`, `Sync`, `Async`, `Total`).
fn parse_blkio(text: &str, io: &mut Vec<IoDevice>, bytes: bool) {
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(dev), Some(op), Some(v)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (Some((major, minor)), Ok(v)) = (major_minor(dev), v.parse::<u64>()) else {
            continue;
        };
        let d = device_mut(io, major, minor);
        match (op, bytes) {
            ("Read", true) => d.read_bytes = v,
            ("Write", true) => d.write_bytes = v,
            ("Read", false) => d.reads = v,
            ("Write", false) => d.writes = v,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_io_files() {
        let io = parse_io_stat(
            "8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=5\nbad line\n",
        );
        assert_eq!(io.len(), 2);
        assert_eq!(
            io[0],
            IoDevice {
                major: 8,
                minor: 0,
                read_bytes: 100,
                write_bytes: 200,
                reads: 3,
                writes: 4
            }
        );
        let mut v1 = Vec::new();
        parse_blkio(
            "8:16 Read 10\n8:16 Write 20\n8:16 Total 30\nTotal 30\n",
            &mut v1,
            true,
        );
        parse_blkio("8:16 Read 1\n8:16 Write 2\n", &mut v1, false);
        assert_eq!(
            v1,
            [IoDevice {
                major: 8,
                minor: 16,
                read_bytes: 10,
                write_bytes: 20,
                reads: 1,
                writes: 2
            }]
        );
    }

    #[test]
    fn limits() {
        assert_eq!(limit("max"), 0);
        assert_eq!(limit("9223372036854771712"), 0);
        assert_eq!(limit("268435456"), 268_435_456);
        assert_eq!(limit("garbage"), 0);
    }
}

#[cfg(test)]
mod never_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_take_any_text(text in "(?s).{0,400}") {
            let _ = parse_io_stat(&text);
            let mut io = Vec::new();
            parse_blkio(&text, &mut io, true);
            let _ = KeyValues(&text).get("anon");
            let _ = limit(&text);
            let _ = super::super::net::parse(&text);
            let _ = super::super::k8s::classify(&text);
        }

        #[test]
        fn parsers_take_near_valid_lines(
            dev in "[0-9:]{0,8}",
            k in "(rbytes|wbytes|rios|Read|Write|Total|x)",
            v in "[0-9a-z=-]{0,22}",
        ) {
            let line = format!("{dev} {k}={v} {k} {v}\n");
            let _ = parse_io_stat(&line);
            let mut io = Vec::new();
            parse_blkio(&line, &mut io, false);
        }
    }
}

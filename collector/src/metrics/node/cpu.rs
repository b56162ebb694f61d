//! `/proc/stat` and `/sys/devices/system/cpu`: node_exporter's `cpu` collector
//! (`node_cpu_seconds_total{cpu,mode}`, `node_cpu_guest_seconds_total`, `node_cpu_isolated`,
//! thermal throttle counters) and its `stat` collector (`node_intr_total`,
//! `node_context_switches_total`, `node_forks_total`, `node_boot_time_seconds`,
//! `node_procs_running`, `node_procs_blocked`).

use std::collections::btree_map::{BTreeMap, Entry};

use super::read::{parse_f64, read_into, read_trimmed, read_u64, text};
use super::{Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// `USER_HZ`; procfs (and so node_exporter) assumes 100 on every architecture.
const USER_HZ: f64 = 100.0;
/// Upper bound for CPU numbers taken from files, so a corrupt line cannot make us allocate
/// gigabytes.
const MAX_CPUS: usize = 1 << 16;

/// One CPU's times in seconds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct CpuTimes {
    pub user: f64,
    pub nice: f64,
    pub system: f64,
    pub idle: f64,
    pub iowait: f64,
    pub irq: f64,
    pub softirq: f64,
    pub steal: f64,
    pub guest: f64,
    pub guest_nice: f64,
}

impl CpuTimes {
    fn fields_mut(&mut self) -> [&mut f64; 10] {
        [
            &mut self.user,
            &mut self.nice,
            &mut self.system,
            &mut self.idle,
            &mut self.iowait,
            &mut self.irq,
            &mut self.softirq,
            &mut self.steal,
            &mut self.guest,
            &mut self.guest_nice,
        ]
    }
}

/// The parts of `/proc/stat` node_exporter reports.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ProcStat {
    /// Indexed by the kernel's CPU number. A CPU missing from the file (offline) stays at
    /// zero, as in the procfs version node_exporter 1.5 is built with.
    pub cpus: Vec<CpuTimes>,
    pub intr: f64,
    pub ctxt: f64,
    pub btime: f64,
    pub processes: f64,
    pub procs_running: f64,
    pub procs_blocked: f64,
}

/// Parses `/proc/stat`. Malformed lines are skipped; a file without any `cpuN` line is an
/// error.
pub(super) fn parse_stat(text: &str) -> Result<ProcStat, String> {
    let mut stat = ProcStat::default();
    let mut any_cpu = false;
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        let first = || line.split_ascii_whitespace().nth(1).and_then(parse_f64);
        match key {
            "cpu" => {}
            "intr" => stat.intr = first().unwrap_or(0.0),
            "ctxt" => stat.ctxt = first().unwrap_or(0.0),
            "btime" => stat.btime = first().unwrap_or(0.0),
            "processes" => stat.processes = first().unwrap_or(0.0),
            "procs_running" => stat.procs_running = first().unwrap_or(0.0),
            "procs_blocked" => stat.procs_blocked = first().unwrap_or(0.0),
            _ => {
                let Some(id) = key
                    .strip_prefix("cpu")
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                if id >= MAX_CPUS {
                    continue;
                }
                let mut times = CpuTimes::default();
                let mut ok = true;
                for (slot, field) in times.fields_mut().into_iter().zip(fields) {
                    match parse_f64(field) {
                        Some(v) => *slot = v / USER_HZ,
                        None => ok = false,
                    }
                }
                if !ok {
                    continue;
                }
                if stat.cpus.len() <= id {
                    stat.cpus.resize(id + 1, CpuTimes::default());
                }
                if let Some(slot) = stat.cpus.get_mut(id) {
                    *slot = times;
                    any_cpu = true;
                }
            }
        }
    }
    if any_cpu {
        Ok(stat)
    } else {
        Err("no cpuN lines".to_string())
    }
}

/// The last reported CPU times. node_exporter never reports a CPU counter lower than the
/// previous scrape's (iowait in particular can go backwards); it keeps the old value.
#[derive(Debug, Default)]
pub(super) struct CpuCache {
    cpus: Vec<CpuTimes>,
}

impl CpuCache {
    /// Merges a new reading and returns what to report.
    pub fn update(&mut self, new: &[CpuTimes]) -> &[CpuTimes] {
        if self.cpus.len() != new.len() {
            self.cpus = vec![CpuTimes::default(); new.len()];
        }
        for (old, new) in self.cpus.iter_mut().zip(new) {
            let mut new = *new;
            for (o, n) in old.fields_mut().into_iter().zip(new.fields_mut()) {
                if *n >= *o {
                    *o = *n;
                }
            }
        }
        &self.cpus
    }
}

/// Reads and parses `<procfs>/stat`.
pub(super) fn read_stat(paths: &HostPaths, buf: &mut Vec<u8>) -> Result<ProcStat, Error> {
    let path = paths.procfs.join("stat");
    read_into(&path, buf)?;
    parse_stat(&text(buf)).map_err(|m| Error::parse(&path, m))
}

/// Writes the `cpu` collector's families.
pub(super) fn write_cpu(
    paths: &HostPaths,
    stat: &ProcStat,
    cache: &mut CpuCache,
    isolated: &[u32],
    small: &mut Vec<u8>,
    out: &mut Exposition,
) {
    let cpus = cache.update(&stat.cpus);
    let ids: Vec<String> = (0..cpus.len()).map(|i| i.to_string()).collect();
    if !cpus.is_empty() {
        let name = "node_cpu_seconds_total";
        out.family(name, Kind::Counter, "Seconds the CPUs spent in each mode.");
        for (id, t) in ids.iter().zip(cpus) {
            for (mode, v) in [
                ("user", t.user),
                ("nice", t.nice),
                ("system", t.system),
                ("idle", t.idle),
                ("iowait", t.iowait),
                ("irq", t.irq),
                ("softirq", t.softirq),
                ("steal", t.steal),
            ] {
                out.sample(name, &[("cpu", id), ("mode", mode)], v);
            }
        }
        let name = "node_cpu_guest_seconds_total";
        out.family(
            name,
            Kind::Counter,
            "Seconds the CPUs spent in guests (VMs) for each mode.",
        );
        for (id, t) in ids.iter().zip(cpus) {
            out.sample(name, &[("cpu", id), ("mode", "user")], t.guest);
            out.sample(name, &[("cpu", id), ("mode", "nice")], t.guest_nice);
        }
    }
    if !isolated.is_empty() {
        let name = "node_cpu_isolated";
        out.family(
            name,
            Kind::Gauge,
            "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
        );
        for cpu in isolated {
            out.sample(name, &[("cpu", &cpu.to_string())], 1.0);
        }
    }
    write_throttles(paths, small, out);
}

/// Writes the `stat` collector's families.
pub(super) fn write_stat(stat: &ProcStat, out: &mut Exposition) {
    out.single(
        "node_intr_total",
        Kind::Counter,
        "Total number of interrupts serviced.",
        stat.intr,
    );
    out.single(
        "node_context_switches_total",
        Kind::Counter,
        "Total number of context switches.",
        stat.ctxt,
    );
    out.single(
        "node_forks_total",
        Kind::Counter,
        "Total number of forks.",
        stat.processes,
    );
    out.single(
        "node_boot_time_seconds",
        Kind::Gauge,
        "Node boot time, in unixtime.",
        stat.btime,
    );
    out.single(
        "node_procs_running",
        Kind::Gauge,
        "Number of processes in runnable state.",
        stat.procs_running,
    );
    out.single(
        "node_procs_blocked",
        Kind::Gauge,
        "Number of processes blocked waiting for I/O to complete.",
        stat.procs_blocked,
    );
}

/// `/sys/devices/system/cpu/isolated`, read once at start like node_exporter. Missing or
/// malformed means none.
pub(super) fn read_isolated(paths: &HostPaths) -> Vec<u32> {
    let path = paths.sysfs.join("devices/system/cpu/isolated");
    let mut buf = Vec::new();
    match read_trimmed(&path, &mut buf) {
        Ok(s) => parse_cpu_list(s).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// Parses a kernel CPU list such as `0-2,5`.
pub(super) fn parse_cpu_list(s: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in s.trim_end_matches('\n').split(',') {
        if part.is_empty() {
            continue;
        }
        if let Some((a, b)) = part.split_once('-') {
            let a: u32 = a.parse().ok()?;
            let b: u32 = b.parse().ok()?;
            if b.saturating_sub(a) as usize >= MAX_CPUS {
                return None;
            }
            cpus.extend(a..=b);
        } else {
            cpus.push(part.parse().ok()?);
        }
    }
    Some(cpus)
}

/// `node_cpu_core_throttles_total{package,core}` and `node_cpu_package_throttles_total{package}`
/// from `cpuN/thermal_throttle` (present on bare-metal x86 only). For each package and core
/// the first CPU (in name order) that has a count provides it, as in node_exporter.
fn write_throttles(paths: &HostPaths, small: &mut Vec<u8>, out: &mut Exposition) {
    let dir = paths.sysfs.join("devices/system/cpu");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut cpu_dirs: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    cpu_dirs.sort();
    let mut packages: BTreeMap<u64, u64> = BTreeMap::new();
    let mut cores: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for name in &cpu_dirs {
        let cpu = dir.join(name);
        let throttle = cpu.join("thermal_throttle");
        // Without this directory neither count exists; skip the topology reads.
        if !throttle.is_dir() {
            continue;
        }
        let Ok(package) = read_u64(&cpu.join("topology/physical_package_id"), small) else {
            continue;
        };
        let Ok(core) = read_u64(&cpu.join("topology/core_id"), small) else {
            continue;
        };
        if let Entry::Vacant(slot) = cores.entry((package, core)) {
            if let Ok(n) = read_u64(&throttle.join("core_throttle_count"), small) {
                slot.insert(n);
            }
        }
        if let Entry::Vacant(slot) = packages.entry(package) {
            if let Ok(n) = read_u64(&throttle.join("package_throttle_count"), small) {
                slot.insert(n);
            }
        }
    }
    if !packages.is_empty() {
        let name = "node_cpu_package_throttles_total";
        out.family(
            name,
            Kind::Counter,
            "Number of times this CPU package has been throttled.",
        );
        for (package, n) in &packages {
            out.sample(name, &[("package", &package.to_string())], *n as f64);
        }
    }
    if !cores.is_empty() {
        let name = "node_cpu_core_throttles_total";
        out.family(
            name,
            Kind::Counter,
            "Number of times this CPU core has been throttled.",
        );
        for ((package, core), n) in &cores {
            let (p, c) = (package.to_string(), core.to_string());
            out.sample(name, &[("core", &c), ("package", &p)], *n as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::expo::Format;

    const STAT: &str = "cpu  902432 9 80637 610695 11695 0 2453 391 0 0\n\
        cpu0 437690 7 36893 324896 3932 0 407 194 5 1\n\
        cpu2 464742 2 43744 285798 7763 0 2046 196\n\
        intr 1000 0 0 5\n\
        ctxt 2000\n\
        btime 1795732150\n\
        processes 88430\n\
        procs_running 3\n\
        procs_blocked 1\n\
        softirq 1 2 3\n";

    #[test]
    fn parses_proc_stat() {
        let s = parse_stat(STAT).expect("parse");
        assert_eq!(s.cpus.len(), 3);
        assert_eq!(
            s.cpus[0],
            CpuTimes {
                user: 4376.9,
                nice: 0.07,
                system: 368.93,
                idle: 3248.96,
                iowait: 39.32,
                irq: 0.0,
                softirq: 4.07,
                steal: 1.94,
                guest: 0.05,
                guest_nice: 0.01,
            }
        );
        // An offline CPU between online ones is reported as zeros (procfs v0.8).
        assert_eq!(s.cpus[1], CpuTimes::default());
        assert_eq!(s.cpus[2].user, 4647.42);
        assert_eq!(s.cpus[2].guest, 0.0);
        assert_eq!(
            (
                s.intr,
                s.ctxt,
                s.btime,
                s.processes,
                s.procs_running,
                s.procs_blocked
            ),
            (1000.0, 2000.0, 1795732150.0, 88430.0, 3.0, 1.0)
        );
    }

    #[test]
    fn rejects_garbage_and_skips_bad_lines() {
        assert!(parse_stat("").is_err());
        assert!(parse_stat("cpu 1 2 3\nintr x\n").is_err());
        let s = parse_stat("cpu0 1 x 3\ncpu1 100\ncpu99999999 1\ncpux 1\n").expect("parse");
        assert_eq!(s.cpus.len(), 2);
        assert_eq!(s.cpus[0], CpuTimes::default());
        assert_eq!(s.cpus[1].user, 1.0);
    }

    #[test]
    fn counters_never_go_backwards() {
        let mut cache = CpuCache::default();
        let a = CpuTimes {
            idle: 10.0,
            iowait: 5.0,
            ..Default::default()
        };
        let b = CpuTimes {
            idle: 11.0,
            iowait: 4.0,
            ..Default::default()
        };
        cache.update(&[a]);
        let got = cache.update(&[b])[0];
        assert_eq!((got.idle, got.iowait), (11.0, 5.0));
        // A different CPU count resets the cache.
        let got = cache.update(&[b, b]);
        assert_eq!(got[0].iowait, 4.0);
    }

    #[test]
    fn parses_cpu_lists() {
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("0-2,5\n"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_cpu_list("1-x"), None);
        assert_eq!(parse_cpu_list("0-4000000000"), None);
    }

    #[test]
    fn writes_families() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sys = dir.path().join("sys");
        for cpu in ["cpu0", "cpu1"] {
            let d = sys.join("devices/system/cpu").join(cpu);
            std::fs::create_dir_all(d.join("topology")).expect("mkdir");
            std::fs::create_dir_all(d.join("thermal_throttle")).expect("mkdir");
            std::fs::write(d.join("topology/physical_package_id"), "0\n").expect("w");
            std::fs::write(d.join("topology/core_id"), &cpu[3..]).expect("w");
            std::fs::write(d.join("thermal_throttle/core_throttle_count"), "7\n").expect("w");
            std::fs::write(d.join("thermal_throttle/package_throttle_count"), "9\n").expect("w");
        }
        let paths = HostPaths {
            procfs: dir.path().join("proc"),
            sysfs: sys,
            cgroupfs: dir.path().join("cg"),
            rootfs: dir.path().to_path_buf(),
        };
        let stat = parse_stat("cpu0 100 0 0 200 0 0 0 0 0 0\n").expect("parse");
        let mut e = Exposition::new(Format::Text);
        write_cpu(
            &paths,
            &stat,
            &mut CpuCache::default(),
            &[3],
            &mut Vec::new(),
            &mut e,
        );
        write_stat(&stat, &mut e);
        let body = e.finish();
        for line in [
            "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 1\n",
            "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 2\n",
            "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"} 0\n",
            "node_cpu_isolated{cpu=\"3\"} 1\n",
            "node_cpu_package_throttles_total{package=\"0\"} 9\n",
            "node_cpu_core_throttles_total{core=\"0\",package=\"0\"} 7\n",
            "node_cpu_core_throttles_total{core=\"1\",package=\"0\"} 7\n",
            "node_boot_time_seconds 0\n",
        ] {
            assert!(body.contains(line), "missing {line:?} in\n{body}");
        }
    }
}

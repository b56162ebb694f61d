//! node_exporter-compatible `node_*` series, read from procfs, sysfs and the mounted
//! filesystems at scrape time.
//!
//! The contract is node_exporter 1.5 with its upstream default flags (not a distribution's
//! patched defaults): the same metric names, types, label names and label values, so that
//! node-mixin, kubernetes-mixin and kube-prometheus rules work unchanged. Each module mirrors
//! one or two node_exporter collectors and is named after the data source it reads:
//!
//! | module | node_exporter collector(s) | source |
//! | --- | --- | --- |
//! | `cpu` | `cpu`, `stat` | `/proc/stat`, `/sys/devices/system/cpu` |
//! | `meminfo` | `meminfo` | `/proc/meminfo` |
//! | `load` | `loadavg` | `/proc/loadavg` |
//! | `vmstat` | `vmstat` | `/proc/vmstat` |
//! | `filesystem`, `statfs` | `filesystem` | `/proc/1/mountinfo` + `statfs(2)` |
//! | `netdev` | `netdev`, `netclass` | `/proc/net/dev`, `/sys/class/net` |
//! | `diskstats` | `diskstats` | `/proc/diskstats`, udev's `/run/udev/data` |
//! | `netstat` | `netstat` | `/proc/net/{netstat,snmp,snmp6}` |
//! | `misc` | `filefd`, `conntrack`, `uname`, `time`, `pressure` | small files and `uname(2)` |
//! | `timex` | `timex` | `adjtimex(2)` |
//!
//! Like node_exporter, every scrape also reports `node_scrape_collector_duration_seconds` and
//! `node_scrape_collector_success` per collector. A source that cannot be read or parsed is
//! skipped (success 0, logged at debug level); the other collectors are unaffected.
//! `collector/tests/node_vs_exporter.rs` compares the output with the real node_exporter.
//!
//! Where argus deliberately differs:
//!
//! - `netclass` writes only `node_network_up`, not the ~20 other per-interface attribute
//!   families (`node_network_info`, `_mtu_bytes`, `_speed_bytes`, …): they cost one sysfs
//!   read each per interface and scrape, and no mixin rule uses them.
//! - `time` does not write `node_time_zone_offset_seconds` (it needs the zone database).
//! - The mount table is `mountinfo` rather than `/proc/1/mounts`; device, mount point,
//!   type and read-only state are the same. A `statfs` that times out is reported as
//!   `device_error 1` in that scrape already (node_exporter 1.5 waits for it once).
//! - `node_network_receive_nohandler_total` comes from sysfs, not rtnetlink (same counter).
//! - A malformed line is skipped instead of failing the whole collector.

mod cpu;
mod diskstats;
mod filesystem;
mod load;
mod meminfo;
mod misc;
mod netdev;
mod netstat;
mod read;
mod statfs;
mod timex;
mod vmstat;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::metrics::expo::{Exposition, Kind};
use crate::metrics::HostPaths;
/// Names built from file contents are checked before they are written.
use argus_core::series::valid_metric_name;
/// `/proc/net/dev` is also read per pod for the container network series.
pub(crate) use netdev::{parse_net_dev, NetDev};

/// How long one `statfs(2)` may take before its mount point is reported as
/// `node_filesystem_device_error 1` and skipped until the call returns; node_exporter's
/// `--collector.filesystem.mount-timeout` default.
pub const DEFAULT_MOUNT_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads the host's procfs and sysfs and writes node_exporter's `node_*` families.
///
/// One instance is meant to live for the whole process: it keeps the previous CPU counters
/// (node_exporter never lets `node_cpu_seconds_total` go backwards), read buffers, and the
/// thread that runs `statfs(2)` under a timeout. `collect` may be called from several
/// threads; concurrent scrapes are serialized.
#[derive(Debug)]
pub struct NodeCollector {
    paths: HostPaths,
    /// `/sys/devices/system/cpu/isolated`, read once like node_exporter does.
    isolated_cpus: Vec<u32>,
    state: Mutex<State>,
}

/// What one scrape leaves for the next.
#[derive(Debug)]
struct State {
    /// Scratch buffer for whole-file reads.
    buf: Vec<u8>,
    /// Scratch buffer for small sysfs attribute reads.
    small: Vec<u8>,
    cpu: cpu::CpuCache,
    statfs: statfs::StatfsRunner,
}

impl NodeCollector {
    /// A collector reading below `paths`.
    pub fn new(paths: HostPaths) -> NodeCollector {
        let isolated_cpus = cpu::read_isolated(&paths);
        NodeCollector {
            paths,
            isolated_cpus,
            state: Mutex::new(State {
                buf: Vec::with_capacity(64 * 1024),
                small: Vec::with_capacity(256),
                cpu: cpu::CpuCache::default(),
                statfs: statfs::StatfsRunner::new(DEFAULT_MOUNT_TIMEOUT),
            }),
        }
    }

    /// Replaces the `statfs(2)` timeout (default [`DEFAULT_MOUNT_TIMEOUT`]).
    pub fn with_mount_timeout(self, timeout: Duration) -> NodeCollector {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .statfs = statfs::StatfsRunner::new(timeout);
        self
    }

    /// Reads every source and writes the node_* families. Never panics on odd input; a
    /// source that cannot be read is skipped (node_scrape_collector_success 0) and logged
    /// with tracing::debug.
    pub fn collect(&self, out: &mut Exposition) {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let st = &mut *guard;
        let p = &self.paths;
        let mut runs: Vec<Run> = Vec::with_capacity(16);

        // /proc/stat feeds two node_exporter collectors; it is read once.
        let start = Instant::now();
        let stat = cpu::read_stat(p, &mut st.buf);
        let cpu_result = match &stat {
            Ok(stat) => {
                cpu::write_cpu(
                    p,
                    stat,
                    &mut st.cpu,
                    &self.isolated_cpus,
                    &mut st.small,
                    out,
                );
                Ok(())
            }
            Err(e) => Err(e.clone()),
        };
        runs.push(Run::new("cpu", start, cpu_result));
        let start = Instant::now();
        let stat_result = stat.map(|stat| cpu::write_stat(&stat, out));
        runs.push(Run::new("stat", start, stat_result));

        time(&mut runs, "meminfo", || {
            meminfo::collect(p, &mut st.buf, out)
        });
        time(&mut runs, "loadavg", || load::collect(p, &mut st.buf, out));
        time(&mut runs, "vmstat", || vmstat::collect(p, &mut st.buf, out));
        time(&mut runs, "filesystem", || {
            filesystem::collect(p, &mut st.buf, &mut st.statfs, out)
        });
        time(&mut runs, "netdev", || {
            netdev::collect_netdev(p, &mut st.buf, &mut st.small, out)
        });
        time(&mut runs, "netclass", || {
            netdev::collect_netclass(p, &mut st.small, out)
        });
        time(&mut runs, "diskstats", || {
            diskstats::collect(p, &mut st.buf, &mut st.small, out)
        });
        time(&mut runs, "filefd", || {
            misc::collect_filefd(p, &mut st.small, out)
        });
        time(&mut runs, "conntrack", || {
            misc::collect_conntrack(p, &mut st.buf, out)
        });
        time(&mut runs, "netstat", || {
            netstat::collect(p, &mut st.buf, out)
        });
        time(&mut runs, "uname", || misc::collect_uname(out));
        time(&mut runs, "time", || {
            misc::collect_time(p, &mut st.small, out)
        });
        time(&mut runs, "timex", || timex::collect(out));
        time(&mut runs, "pressure", || {
            misc::collect_pressure(p, &mut st.buf, out)
        });
        drop(guard);

        out.family(
            "node_scrape_collector_duration_seconds",
            Kind::Gauge,
            "node_exporter: Duration of a collector scrape.",
        );
        for r in &runs {
            out.sample(
                "node_scrape_collector_duration_seconds",
                &[("collector", r.name)],
                r.seconds,
            );
        }
        out.family(
            "node_scrape_collector_success",
            Kind::Gauge,
            "node_exporter: Whether a collector succeeded.",
        );
        for r in &runs {
            out.sample(
                "node_scrape_collector_success",
                &[("collector", r.name)],
                if r.ok { 1.0 } else { 0.0 },
            );
        }
    }
}

/// Outcome of one sub-collector.
struct Run {
    name: &'static str,
    seconds: f64,
    ok: bool,
}

impl Run {
    fn new(name: &'static str, start: Instant, result: Result<(), Error>) -> Run {
        let seconds = start.elapsed().as_secs_f64();
        if let Err(e) = &result {
            tracing::debug!(collector = name, error = %e, "node collector failed");
        }
        Run {
            name,
            seconds,
            ok: result.is_ok(),
        }
    }
}

fn time(runs: &mut Vec<Run>, name: &'static str, f: impl FnOnce() -> Result<(), Error>) {
    let start = Instant::now();
    let result = f();
    runs.push(Run::new(name, start, result));
}

/// Why a sub-collector produced nothing (or only part of its families).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Error {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{call}: {message}")]
    Syscall { call: &'static str, message: String },
}

impl Error {
    fn parse(path: &std::path::Path, message: impl Into<String>) -> Error {
        Error::Parse {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::expo::Format;

    proptest::proptest! {
        /// No parser panics, whatever the file holds.
        #[test]
        fn parsers_never_panic(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::string::string_regex("[a-z0-9()_:-]{0,12}").expect("regex"),
                        proptest::string::string_regex("[0-9a-f]{0,20}").expect("regex"),
                        proptest::string::string_regex("\\PC{0,6}").expect("regex"),
                        proptest::strategy::Just("-".to_string()),
                        proptest::strategy::Just("cpu99".to_string()),
                        proptest::strategy::Just("total=".to_string()),
                    ],
                    0..20,
                ),
                0..12,
            ),
            sep in proptest::prop_oneof![proptest::strategy::Just(" "), proptest::strategy::Just("\t"), proptest::strategy::Just(": ")],
        ) {
            let text = lines.iter().map(|l| l.join(sep)).collect::<Vec<_>>().join("\n");
            let _ = cpu::parse_stat(&text);
            let _ = cpu::parse_cpu_list(&text);
            let _ = meminfo::parse(&text);
            let _ = load::parse(&text);
            let _ = vmstat::parse(&text);
            let _ = filesystem::parse_mountinfo(&text);
            let _ = filesystem::strip_rootfs(&text, "/host");
            let _ = filesystem::excluded_mount_point(&text);
            let _ = netdev::parse_net_dev(&text);
            let _ = diskstats::parse(&text);
            let _ = diskstats::excluded_device(&text);
            let _ = diskstats::parse_udev(&text);
            let _ = netstat::parse_pairs(&text);
            let _ = netstat::parse_snmp6(&text);
            let _ = netstat::default_field(&text);
            let _ = misc::parse_file_nr(&text);
            let _ = misc::parse_conntrack_stat(&text);
            let _ = misc::parse_psi(&text);
        }
    }

    #[test]
    fn missing_sources_fail_their_collectors_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let paths = HostPaths {
            procfs: root.join("proc"),
            sysfs: root.join("sys"),
            cgroupfs: root.join("cgroup"),
            rootfs: root.join("root"),
        };
        let c = NodeCollector::new(paths);
        let mut e = Exposition::new(Format::Text);
        c.collect(&mut e);
        let body = e.finish();
        for name in [
            "cpu",
            "meminfo",
            "filesystem",
            "netdev",
            "diskstats",
            "pressure",
        ] {
            let line = format!("node_scrape_collector_success{{collector=\"{name}\"}} 0\n");
            assert!(body.contains(&line), "{name} should fail:\n{body}");
        }
        // Sources that are not below the paths still work.
        assert!(body.contains("node_scrape_collector_success{collector=\"uname\"} 1\n"));
        assert!(body.contains("node_uname_info{"));
        // Each family once.
        let mut seen = std::collections::HashSet::new();
        for line in body.lines().filter(|l| l.starts_with("# TYPE ")) {
            assert!(seen.insert(line.to_string()), "repeated family {line}");
        }
    }
}

//! cAdvisor-compatible `container_*` series for the machine (`/`), the kubepods root, the
//! QoS cgroups, every pod cgroup and every container cgroup, read from the cgroup files at
//! scrape time (no sample timestamps). Labels are kubelet's: `container, id, image, name,
//! namespace, pod` plus the series' own. A container restart is a new cgroup, hence a new
//! `id`: counters never go backwards within a series, and vanished cgroups simply stop
//! appearing.

pub mod k8s;
pub mod layout;
pub mod names;
pub mod net;
pub mod stats;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::expo::{self, Exposition, Kind};
use super::HostPaths;
use k8s::Role;
use layout::Layout;
use names::Names;
use stats::{Reader, Stats};

/// One reported cgroup.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub id: String,
    pub name: String,
    pub image: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub stats: Stats,
    pub network: Vec<net::Interface>,
    /// The six labels above, written once (see [`expo::write_labels`]).
    pub labels: String,
}

/// Reads the cgroup tree on each scrape; remembers only names and device numbers.
pub struct CgroupCollector {
    paths: HostPaths,
    state: Mutex<State>,
}

struct State {
    layout: Option<Layout>,
    names: Names,
    devices: HashMap<(u32, u32), String>,
}

impl CgroupCollector {
    pub fn new(paths: HostPaths, log_root: &Path) -> CgroupCollector {
        let names = Names::new(log_root, &paths.rootfs);
        CgroupCollector {
            paths,
            state: Mutex::new(State {
                layout: None,
                names,
                devices: HashMap::new(),
            }),
        }
    }

    /// The detected layout (`v1`, `v2`, `hybrid`), None when no cgroup tree is mounted.
    pub fn layout_name(&self) -> Option<&'static str> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.layout.as_ref().map(Layout::name)
    }

    /// Reads every reported cgroup.
    pub fn entries(&self) -> Vec<Entry> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut *st;
        if st.layout.is_none() {
            st.layout = Layout::detect(&self.paths.cgroupfs);
            if let Some(l) = &st.layout {
                tracing::info!(layout = l.name(), cgroupfs = %self.paths.cgroupfs.display(), "cgroup hierarchy detected");
            }
        }
        let Some(layout) = st.layout.as_ref() else {
            return Vec::new();
        };
        let Some(primary) = layout.primary() else {
            return Vec::new();
        };
        st.names.refresh();
        let mut found: Vec<(String, Role)> = vec![("/".to_string(), Role::Machine)];
        for root in ["kubepods", "kubepods.slice"] {
            walk(primary, &format!("/{root}"), &mut found);
        }
        let mut stats = read_all(layout, &found).into_iter();
        let mut entries = Vec::with_capacity(found.len());
        let mut live: HashSet<&str> = HashSet::new();
        // Sandbox (or first) entry index and pid per pod uid, for network.
        let mut pod_entry: HashMap<String, usize> = HashMap::new();
        let mut net_pid: HashMap<String, (bool, u32)> = HashMap::new();
        for (rel, role) in &found {
            let mut e = Entry {
                id: rel.clone(),
                stats: stats.next().unwrap_or_default(),
                ..Entry::default()
            };
            match role {
                Role::Machine | Role::Kubepods | Role::Qos => {}
                Role::Pod { uid } => {
                    if let Some((ns, pod)) = st.names.pod(uid) {
                        e.namespace = ns.clone();
                        e.pod = pod.clone();
                    }
                    pod_entry.insert(uid.clone(), entries.len());
                }
                Role::Container { pod_uid, id } => {
                    live.insert(id);
                    e.name = id.clone();
                    if let Some((ns, pod)) = st.names.pod(pod_uid) {
                        e.namespace = ns.clone();
                        e.pod = pod.clone();
                    }
                    if let Some(l) = st.names.link(id) {
                        e.namespace = l.namespace.clone();
                        e.pod = l.pod.clone();
                        e.container = l.container.clone();
                    }
                    let mut sandbox = false;
                    if let Some(b) = st.names.bundle(id) {
                        sandbox = b.sandbox;
                        e.image = b.image.clone();
                        if !b.name.is_empty() {
                            e.name = b.name.clone();
                        }
                        if let Some(c) = &b.container {
                            e.container = c.clone();
                        }
                        if e.pod.is_empty() {
                            e.namespace = b.namespace.clone().unwrap_or_default();
                            e.pod = b.pod.clone().unwrap_or_default();
                        }
                    }
                    if let Some(pid) = e.stats.pid {
                        let slot = net_pid.entry(pod_uid.clone()).or_insert((sandbox, pid));
                        if sandbox && !slot.0 {
                            *slot = (true, pid);
                        }
                    }
                    if sandbox {
                        pod_entry.insert(pod_uid.clone(), entries.len());
                    }
                }
            }
            entries.push(e);
        }
        // Network once per pod: on the sandbox cgroup when known, else the pod cgroup.
        for (uid, (_, pid)) in net_pid {
            let Some(&at) = pod_entry.get(&uid) else {
                continue;
            };
            if let Some(ifaces) = net::read(&self.paths.procfs, pid) {
                entries[at].network = ifaces;
            }
        }
        st.names.retain_bundles(&live);
        for e in &entries {
            for d in &e.stats.io {
                st.devices
                    .entry((d.major, d.minor))
                    .or_insert_with(|| device_name(&self.paths.sysfs, d.major, d.minor));
            }
        }
        let devices = &st.devices;
        for e in &mut entries {
            // Keep only devices with a name, as cAdvisor does.
            e.stats.io.retain(|d| {
                devices
                    .get(&(d.major, d.minor))
                    .is_some_and(|n| !n.is_empty())
            });
            e.labels = expo::write_labels(&[
                ("container", &e.container),
                ("id", &e.id),
                ("image", &e.image),
                ("name", &e.name),
                ("namespace", &e.namespace),
                ("pod", &e.pod),
            ]);
        }
        entries
    }

    /// Writes all `container_*` families; returns the number of cgroups reported.
    pub fn collect(&self, out: &mut Exposition) -> usize {
        let entries = self.entries();
        let devices = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.devices.clone()
        };
        render(&entries, &devices, out);
        entries.len()
    }
}

/// Reads the stats of every cgroup found, on up to 4 threads for large nodes (file
/// opens dominate; they run in parallel in the kernel).
fn read_all(layout: &Layout, found: &[(String, Role)]) -> Vec<Stats> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    if threads == 1 || found.len() < 64 {
        let mut r = Reader::default();
        return found.iter().map(|(rel, _)| r.stats(layout, rel)).collect();
    }
    let per = found.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = found
            .chunks(per)
            .map(|part| {
                let h = scope.spawn(move || {
                    let mut r = Reader::default();
                    part.iter()
                        .map(|(rel, _)| r.stats(layout, rel))
                        .collect::<Vec<Stats>>()
                });
                (part.len(), h)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![Stats::default(); n]))
            .collect()
    })
}

/// Depth-first walk of the kubepods subtree (root, QoS, pod, container: 4 levels).
fn walk(primary: &Path, rel: &str, found: &mut Vec<(String, Role)>) {
    let Some(role) = k8s::classify(rel) else {
        return;
    };
    let is_container = matches!(role, Role::Container { .. });
    let dir: PathBuf = primary.join(rel.trim_start_matches('/'));
    if matches!(role, Role::Kubepods) && !dir.is_dir() {
        return;
    }
    found.push((rel.to_string(), role));
    if is_container {
        return;
    }
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut children: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    children.sort();
    for c in children {
        walk(primary, &format!("{rel}/{c}"), found);
    }
}

/// `/dev/<kernel name>` of a block device, from sysfs.
fn device_name(sysfs: &Path, major: u32, minor: u32) -> String {
    std::fs::read_link(sysfs.join(format!("dev/block/{major}:{minor}")))
        .ok()
        .and_then(|t| {
            t.file_name()
                .and_then(|n| n.to_str())
                .map(|n| format!("/dev/{n}"))
        })
        .unwrap_or_default()
}

fn family(
    out: &mut Exposition,
    entries: &[Entry],
    name: &str,
    kind: Kind,
    help: &str,
    value: impl Fn(&Stats) -> Option<f64>,
) {
    let mut started = false;
    for e in entries {
        if let Some(v) = value(&e.stats) {
            if !started {
                out.family(name, kind, help);
                started = true;
            }
            out.sample_pre(name, &e.labels, &[], v);
        }
    }
}

/// Writes the families for these entries (`devices` names block devices).
pub fn render(entries: &[Entry], devices: &HashMap<(u32, u32), String>, out: &mut Exposition) {
    use Kind::{Counter, Gauge};
    let name = "container_cpu_usage_seconds_total";
    let mut started = false;
    for e in entries {
        if let Some(v) = e.stats.cpu_usage_seconds {
            if !started {
                out.family(name, Counter, "Cumulative cpu time consumed in seconds.");
                started = true;
            }
            out.sample_pre(name, &e.labels, &[("cpu", "total")], v);
        }
    }
    family(
        out,
        entries,
        "container_cpu_user_seconds_total",
        Counter,
        "Cumulative user cpu time consumed in seconds.",
        |s| s.cpu_user_seconds,
    );
    family(
        out,
        entries,
        "container_cpu_system_seconds_total",
        Counter,
        "Cumulative system cpu time consumed in seconds.",
        |s| s.cpu_system_seconds,
    );
    family(
        out,
        entries,
        "container_cpu_cfs_periods_total",
        Counter,
        "Number of elapsed enforcement period intervals.",
        |s| s.cfs.map(|c| c.periods as f64),
    );
    family(
        out,
        entries,
        "container_cpu_cfs_throttled_periods_total",
        Counter,
        "Number of throttled period intervals.",
        |s| s.cfs.map(|c| c.throttled_periods as f64),
    );
    family(
        out,
        entries,
        "container_cpu_cfs_throttled_seconds_total",
        Counter,
        "Total time duration the container has been throttled.",
        |s| s.cfs.map(|c| c.throttled_seconds),
    );
    family(
        out,
        entries,
        "container_memory_usage_bytes",
        Gauge,
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
        |s| s.memory.map(|m| m.usage as f64),
    );
    family(
        out,
        entries,
        "container_memory_working_set_bytes",
        Gauge,
        "Current working set in bytes.",
        |s| s.memory.map(|m| m.working_set as f64),
    );
    family(
        out,
        entries,
        "container_memory_rss",
        Gauge,
        "Size of RSS in bytes.",
        |s| s.memory.map(|m| m.rss as f64),
    );
    family(
        out,
        entries,
        "container_memory_cache",
        Gauge,
        "Number of bytes of page cache memory.",
        |s| s.memory.map(|m| m.cache as f64),
    );
    family(
        out,
        entries,
        "container_memory_swap",
        Gauge,
        "Container swap usage in bytes.",
        |s| s.memory.map(|m| m.swap as f64),
    );
    family(
        out,
        entries,
        "container_memory_mapped_file",
        Gauge,
        "Size of memory mapped files in bytes.",
        |s| s.memory.map(|m| m.mapped_file as f64),
    );
    family(
        out,
        entries,
        "container_memory_max_usage_bytes",
        Gauge,
        "Maximum memory usage recorded in bytes",
        |s| s.memory.map(|m| m.max_usage as f64),
    );
    let name = "container_memory_failures_total";
    let mut started = false;
    for e in entries {
        let Some(m) = e.stats.memory else { continue };
        if !started {
            out.family(
                name,
                Counter,
                "Cumulative count of memory allocation failures.",
            );
            started = true;
        }
        for (ft, (c, h)) in [("pgfault", m.pgfault), ("pgmajfault", m.pgmajfault)] {
            out.sample_pre(
                name,
                &e.labels,
                &[("failure_type", ft), ("scope", "container")],
                c as f64,
            );
            out.sample_pre(
                name,
                &e.labels,
                &[("failure_type", ft), ("scope", "hierarchy")],
                h as f64,
            );
        }
    }
    family(
        out,
        entries,
        "container_oom_events_total",
        Counter,
        "Count of out of memory events observed for the container",
        |s| s.oom_kills.map(|v| v as f64),
    );
    for (name, help, get) in [
        (
            "container_fs_reads_bytes_total",
            "Cumulative count of bytes read",
            (|d: &stats::IoDevice| d.read_bytes) as fn(&stats::IoDevice) -> u64,
        ),
        (
            "container_fs_writes_bytes_total",
            "Cumulative count of bytes written",
            |d| d.write_bytes,
        ),
        (
            "container_fs_reads_total",
            "Cumulative count of reads completed",
            |d| d.reads,
        ),
        (
            "container_fs_writes_total",
            "Cumulative count of writes completed",
            |d| d.writes,
        ),
    ] {
        let mut started = false;
        for e in entries {
            for d in &e.stats.io {
                let Some(dev) = devices.get(&(d.major, d.minor)) else {
                    continue;
                };
                if !started {
                    out.family(name, Counter, help);
                    started = true;
                }
                out.sample_pre(name, &e.labels, &[("device", dev.as_str())], get(d) as f64);
            }
        }
    }
    for (name, help, get) in [
        (
            "container_network_receive_bytes_total",
            "Cumulative count of bytes received",
            (|i: &net::Interface| i.rx_bytes) as fn(&net::Interface) -> u64,
        ),
        (
            "container_network_receive_packets_total",
            "Cumulative count of packets received",
            |i| i.rx_packets,
        ),
        (
            "container_network_receive_packets_dropped_total",
            "Cumulative count of packets dropped while receiving",
            |i| i.rx_dropped,
        ),
        (
            "container_network_receive_errors_total",
            "Cumulative count of errors encountered while receiving",
            |i| i.rx_errors,
        ),
        (
            "container_network_transmit_bytes_total",
            "Cumulative count of bytes transmitted",
            |i| i.tx_bytes,
        ),
        (
            "container_network_transmit_packets_total",
            "Cumulative count of packets transmitted",
            |i| i.tx_packets,
        ),
        (
            "container_network_transmit_packets_dropped_total",
            "Cumulative count of packets dropped while transmitting",
            |i| i.tx_dropped,
        ),
        (
            "container_network_transmit_errors_total",
            "Cumulative count of errors encountered while transmitting",
            |i| i.tx_errors,
        ),
    ] {
        let mut started = false;
        for e in entries {
            for i in &e.network {
                if !started {
                    out.family(name, Counter, help);
                    started = true;
                }
                out.sample_pre(
                    name,
                    &e.labels,
                    &[("interface", i.name.as_str())],
                    get(i) as f64,
                );
            }
        }
    }
    family(
        out,
        entries,
        "container_spec_memory_limit_bytes",
        Gauge,
        "Memory limit for the container.",
        |s| s.memory_limit.map(|v| v as f64),
    );
    family(
        out,
        entries,
        "container_spec_cpu_quota",
        Gauge,
        "CPU quota of the container.",
        |s| s.cpu_quota.map(|v| v as f64),
    );
    family(
        out,
        entries,
        "container_spec_cpu_period",
        Gauge,
        "CPU period of the container.",
        |s| s.cpu_period.map(|v| v as f64),
    );
    family(
        out,
        entries,
        "container_spec_cpu_shares",
        Gauge,
        "CPU share of the container.",
        |s| s.cpu_shares.map(|v| v as f64),
    );
    family(
        out,
        entries,
        "container_start_time_seconds",
        Gauge,
        "Start time of the container since unix epoch in seconds.",
        |s| s.start_time,
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as f64;
    family(
        out,
        entries,
        "container_last_seen",
        Gauge,
        "Last time a container was seen by the exporter",
        |_| Some(now),
    );
    family(
        out,
        entries,
        "container_processes",
        Gauge,
        "Number of processes running inside the container.",
        |s| s.processes.map(|v| v as f64),
    );
    family(
        out,
        entries,
        "container_threads",
        Gauge,
        "Number of threads running inside the container",
        |s| s.threads.map(|v| v as f64),
    );
    family(
        out,
        entries,
        "container_threads_max",
        Gauge,
        "Maximum number of threads allowed inside the container, infinity if value is zero",
        |s| s.threads_max.map(|v| v as f64),
    );
}

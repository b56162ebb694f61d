//! The demo's simulated cgroup v2 tree: what `/sys/fs/cgroup` holds on a node whose
//! kubelet uses the systemd driver and containerd, for the simulated pods. The demo's
//! collector reads it through `--cgroupfs`, unchanged, so `container_*` series exist for
//! the same pods, containers and container ids as the log files (names resolve through
//! the simulator's `containers/` links; images through the containerd bundles written
//! under the demo's `--rootfs`).
//!
//! ```text
//! <root>/cgroup.controllers
//! <root>/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/
//!     cri-containerd-<id>.scope/{cpu.stat,cpu.max,cpu.weight,memory.*,io.stat,pids.*}
//! <rootfs>/run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json
//! ```
//!
//! Values follow the profiles (`profile.rs`): CPU counters grow at about each program's
//! rate, memory fluctuates (the crash-looping program leaks until it dies), the worker
//! runs into its CPU quota and is throttled. A container's scope exists while it runs: a
//! crash removes it and a restart creates one with the new id.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::profile::profile;
use super::workloads::Kind;
use super::{Container, Simulator, NS_PER_SEC};

const MI: f64 = 1024.0 * 1024.0;
const QOS: &str = "kubepods.slice/kubepods-burstable.slice";

/// Counters and gauges of one cgroup.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    cpu_usec: f64,
    periods: u64,
    throttled: u64,
    throttled_usec: f64,
    memory: f64,
    pgfault: f64,
    pgmajfault: f64,
    read_bytes: f64,
    write_bytes: f64,
    threads: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.cpu_usec += o.cpu_usec;
        self.periods += o.periods;
        self.throttled += o.throttled;
        self.throttled_usec += o.throttled_usec;
        self.memory += o.memory;
        self.pgfault += o.pgfault;
        self.pgmajfault += o.pgmajfault;
        self.read_bytes += o.read_bytes;
        self.write_bytes += o.write_bytes;
        self.threads += o.threads;
    }
}

/// A phase in `[0, 2π)` from a container id, so the containers do not move in step.
fn phase(id: &str) -> f64 {
    let h = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    f64::from(h % 6283) / 1000.0
}

/// The usage of a container instance that started at `since`, at `now`.
fn usage(c: &Container, since: i64, now: i64) -> Usage {
    let p = profile(c.gen.kind);
    let el = (now - since).max(0) as f64 / NS_PER_SEC as f64;
    let ph = phase(&c.id);
    // The integral of cores·(1 + 0.3·sin(ωt + φ)): always increasing.
    let w = std::f64::consts::TAU / 90.0;
    let cpu_s = p.cpu_cores * (el + 0.3 / w * (ph.cos() - (w * el + ph).cos()));
    let (periods, throttled, throttled_usec) = match p.cpu_limit_milli {
        Some(limit) => {
            let periods = (el * 10.0) as u64;
            let near = p.cpu_cores * 1000.0 / limit as f64;
            let share = ((near - 0.6) / 0.4).clamp(0.0, 1.0) * 0.5;
            let throttled = (periods as f64 * share) as u64;
            (periods, throttled, throttled as f64 * 18_000.0)
        }
        None => (0, 0, 0.0),
    };
    let now_s = now as f64 / NS_PER_SEC as f64;
    let memory = if c.gen.kind == Kind::Crashy {
        (p.memory as f64 + el * 8.0 * MI).min(p.memory_limit as f64 * 0.95)
    } else {
        p.memory as f64 * (1.0 + 0.08 * (std::f64::consts::TAU / 300.0 * now_s + ph).sin())
    };
    let writes = match c.gen.kind {
        Kind::Api | Kind::Worker | Kind::Cart | Kind::Checkout => 24.0 * 1024.0,
        _ => 1024.0,
    };
    Usage {
        cpu_usec: cpu_s * 1e6,
        periods,
        throttled,
        throttled_usec,
        memory,
        pgfault: el * 180.0 + memory / 4096.0,
        pgmajfault: el * 0.2,
        read_bytes: 2.0 * MI + el * 512.0,
        write_bytes: el * writes,
        threads: p.threads,
    }
}

/// The simulated cgroup tree and containerd bundles.
pub struct CgroupTree {
    root: PathBuf,
    bundles: PathBuf,
    /// `major:minor` of a block device the host has (io.stat lines name one).
    device: Option<String>,
    /// Scopes written: container id → (pod uid, scope dir, last usage).
    scopes: HashMap<String, (String, PathBuf, Usage)>,
    /// Usage of exited instances, by pod uid: a pod cgroup keeps counting it.
    exited: HashMap<String, Usage>,
}

fn write(dir: &Path, name: &str, text: &str) -> io::Result<()> {
    fs::write(dir.join(name), text)
}

fn remove_dir(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A block device of the host from `<sysfs>/dev/block`, preferring disks over loop
/// devices, so that the collector (which names devices through sysfs) keeps its lines.
fn block_device(sysfs: &Path) -> Option<String> {
    let mut devices: Vec<String> = fs::read_dir(sysfs.join("dev/block"))
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.contains(':'))
        .collect();
    devices.sort_by_key(|d| (d.starts_with("7:"), !d.ends_with(":0"), d.clone()));
    devices.into_iter().next()
}

impl CgroupTree {
    /// Creates the tree's root (`cgroup.controllers`, the kubepods and QoS slices) under
    /// `root` and the bundle directory under `rootfs`; `sysfs` is the host's.
    pub fn new(root: &Path, rootfs: &Path, sysfs: &Path) -> io::Result<CgroupTree> {
        let root = std::path::absolute(root)?;
        // Scopes of a previous run's containers are gone, as after a reboot.
        remove_dir(&root.join("kubepods.slice"))?;
        fs::create_dir_all(root.join(QOS))?;
        write(
            &root,
            "cgroup.controllers",
            "cpuset cpu io memory hugetlb pids rdma misc\n",
        )?;
        let bundles = std::path::absolute(rootfs)?
            .join("run/containerd/io.containerd.runtime.v2.task/k8s.io");
        remove_dir(&bundles)?;
        fs::create_dir_all(&bundles)?;
        Ok(CgroupTree {
            root,
            bundles,
            device: block_device(sysfs),
            scopes: HashMap::new(),
            exited: HashMap::new(),
        })
    }

    fn pod_dir(&self, uid: &str) -> PathBuf {
        self.root.join(QOS).join(format!(
            "kubepods-burstable-pod{}.slice",
            uid.replace('-', "_")
        ))
    }

    /// Writes the files of every running container at `now`, and of their parents.
    pub fn sync(&mut self, sim: &Simulator, now: i64) -> io::Result<()> {
        let Some(start) = sim.start_ns else {
            return Ok(());
        };
        let running: HashSet<&str> = sim
            .containers
            .iter()
            .filter(|c| c.running)
            .map(|c| c.id.as_str())
            .collect();
        // Exited instances: their scope and bundle go, their CPU stays in the pod's.
        let gone: Vec<String> = self
            .scopes
            .keys()
            .filter(|id| !running.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            if let Some((uid, dir, last)) = self.scopes.remove(&id) {
                remove_dir(&dir)?;
                remove_dir(&self.bundles.join(&id))?;
                let e = self.exited.entry(uid).or_default();
                e.cpu_usec += last.cpu_usec;
                e.periods += last.periods;
                e.throttled += last.throttled;
                e.throttled_usec += last.throttled_usec;
                e.pgfault += last.pgfault;
                e.pgmajfault += last.pgmajfault;
                e.read_bytes += last.read_bytes;
                e.write_bytes += last.write_bytes;
            }
        }
        let mut machine = Usage::default();
        for pod in &sim.pods {
            let pod_dir = self.pod_dir(&pod.uid);
            fs::create_dir_all(&pod_dir)?;
            let mut total = self.exited.get(&pod.uid).copied().unwrap_or_default();
            let (mut cpu_limit, mut mem_limit, mut cpu_req) = (Some(0u64), 0u64, 0u64);
            for c in sim.containers.iter().filter(|c| c.uid == pod.uid) {
                let p = profile(c.gen.kind);
                cpu_limit = cpu_limit.zip(p.cpu_limit_milli).map(|(a, b)| a + b);
                mem_limit += p.memory_limit;
                cpu_req += p.cpu_request_milli;
                if !c.running {
                    continue;
                }
                let u = usage(c, c.started_ns.unwrap_or(start), now);
                total.add(&u);
                let dir = pod_dir.join(format!("cri-containerd-{}.scope", c.id));
                if !self.scopes.contains_key(&c.id) {
                    // The bundle first: the collector reads it once, when it first sees
                    // the scope.
                    self.write_bundle(c, p.image)?;
                    fs::create_dir_all(&dir)?;
                    write(&dir, "cgroup.procs", "")?;
                }
                let limits = (p.cpu_limit_milli, p.cpu_request_milli, Some(p.memory_limit));
                self.write_files(&dir, &u, limits)?;
                self.scopes.insert(c.id.clone(), (pod.uid.clone(), dir, u));
            }
            self.write_files(&pod_dir, &total, (cpu_limit, cpu_req, Some(mem_limit)))?;
            machine.add(&total);
        }
        let qos = self.root.join(QOS);
        self.write_files(&qos, &machine, (None, 0, None))?;
        let kubepods = self.root.join("kubepods.slice");
        self.write_files(&kubepods, &machine, (None, 0, None))?;
        // The root: a bit more than the pods (system services).
        let mut host = machine;
        host.cpu_usec *= 1.25;
        host.memory += 900.0 * MI;
        self.write_files(&self.root, &host, (None, 0, None))
    }

    fn write_bundle(&self, c: &Container, image: &str) -> io::Result<()> {
        let dir = self.bundles.join(&c.id);
        fs::create_dir_all(&dir)?;
        let annotations = serde_json::json!({
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.container-name": c.name,
            "io.kubernetes.cri.image-name": image,
            "io.kubernetes.cri.sandbox-namespace": c.namespace,
            "io.kubernetes.cri.sandbox-name": c.pod,
            "io.kubernetes.cri.sandbox-uid": c.uid,
        });
        let config = serde_json::json!({ "ociVersion": "1.2.0", "annotations": annotations });
        write(&dir, "config.json", &config.to_string())
    }

    /// Writes a cgroup's files; `limits`: CPU limit and request (millicores), memory
    /// limit. The root cgroup gets no `memory.current`, as the kernel's.
    fn write_files(
        &self,
        dir: &Path,
        u: &Usage,
        limits: (Option<u64>, u64, Option<u64>),
    ) -> io::Result<()> {
        let (cpu_limit_milli, cpu_request_milli, memory_limit) = limits;
        let mut s = String::new();
        let usage = u.cpu_usec as u64;
        let _ = write!(
            s,
            "usage_usec {usage}\nuser_usec {}\nsystem_usec {}\nnr_periods {}\nnr_throttled {}\nthrottled_usec {}\n",
            usage * 7 / 10,
            usage - usage * 7 / 10,
            u.periods,
            u.throttled,
            u.throttled_usec as u64
        );
        write(dir, "cpu.stat", &s)?;
        let max = match cpu_limit_milli {
            Some(m) if m > 0 => format!("{} 100000\n", m * 100),
            _ => "max 100000\n".to_string(),
        };
        write(dir, "cpu.max", &max)?;
        if cpu_request_milli > 0 {
            let shares = (cpu_request_milli * 1024 / 1000).max(2);
            write(
                dir,
                "cpu.weight",
                &format!("{}\n", 1 + (shares - 2) * 9999 / 262_142),
            )?;
        }
        let memory = u.memory as u64;
        let anon = memory * 4 / 5;
        let file = memory - anon;
        s.clear();
        let _ = write!(
            s,
            "anon {anon}\nfile {file}\nkernel {}\nsock 0\nshmem 0\nfile_mapped {}\nfile_dirty 0\nfile_writeback 0\nactive_anon {}\ninactive_anon {}\nactive_file {}\ninactive_file {}\nunevictable 0\npgfault {}\npgmajfault {}\n",
            memory / 64,
            file / 4,
            anon / 2,
            anon - anon / 2,
            file / 2,
            file - file / 2,
            u.pgfault as u64,
            u.pgmajfault as u64
        );
        write(dir, "memory.stat", &s)?;
        if dir != self.root {
            write(dir, "memory.current", &format!("{memory}\n"))?;
        }
        write(dir, "memory.peak", &format!("{}\n", memory + memory / 20))?;
        write(dir, "memory.swap.current", "0\n")?;
        write(
            dir,
            "memory.events",
            "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
        )?;
        let mem_max = memory_limit.map_or("max".to_string(), |m| m.to_string());
        write(dir, "memory.max", &format!("{mem_max}\n"))?;
        if let Some(dev) = &self.device {
            let (r, w) = (u.read_bytes as u64, u.write_bytes as u64);
            write(
                dir,
                "io.stat",
                &format!(
                    "{dev} rbytes={r} wbytes={w} rios={} wios={} dbytes=0 dios=0\n",
                    r / 4096,
                    w / 4096
                ),
            )?;
        }
        write(dir, "pids.current", &format!("{}\n", u.threads))?;
        write(
            dir,
            "pids.max",
            if memory_limit.is_some() {
                "4096\n"
            } else {
                "max\n"
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_differ_and_stay_in_range() {
        let a = phase(&"a".repeat(64));
        let b = phase(&"b".repeat(64));
        assert!(a != b && (0.0..std::f64::consts::TAU).contains(&a));
    }
}

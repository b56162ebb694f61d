//! cgroup trees generated here (v2 with the systemd driver, v1 with the cgroupfs driver;
//! Guaranteed, Burstable and BestEffort pods) with known file contents → the exact
//! `container_*` series and values a kubelet's cAdvisor would give.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use argus_collector::metrics::cgroup::CgroupCollector;
use argus_collector::metrics::expo::{Exposition, Format};
use argus_collector::metrics::HostPaths;

const UID_A: &str = "3426a9c5-53d6-4e2b-9d3c-0123456789ab";
const UID_B: &str = "77aa0000-1111-2222-3333-444455556666";
const UID_G: &str = "0badcafe-0000-4000-8000-000000000001";
const APP: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const SIDECAR: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const SANDBOX: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
const WORKER: &str = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";

struct Fixture {
    _dir: tempfile::TempDir,
    paths: HostPaths,
    log_root: PathBuf,
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, body).expect("write");
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let paths = HostPaths {
            procfs: root.join("proc"),
            sysfs: root.join("sys"),
            cgroupfs: root.join("cgroup"),
            rootfs: root.join("rootfs"),
        };
        let log_root = root.join("log");
        // Block device 8:0 is sda.
        std::fs::create_dir_all(paths.sysfs.join("dev/block")).expect("mkdir");
        std::os::unix::fs::symlink(
            "../../devices/pci0000:00/0000:00:10.0/block/sda",
            paths.sysfs.join("dev/block/8:0"),
        )
        .expect("symlink");
        // Host netns, and a pod process in its own netns.
        std::fs::create_dir_all(paths.procfs.join("1/ns")).expect("mkdir");
        std::os::unix::fs::symlink("net:[4026531840]", paths.procfs.join("1/ns/net")).expect("ln");
        for (pid, ns) in [
            (4242, "net:[4026532001]"),
            (5151, "net:[4026532002]"),
            (6161, "net:[4026531840]"),
        ] {
            std::fs::create_dir_all(paths.procfs.join(format!("{pid}/ns"))).expect("mkdir");
            std::os::unix::fs::symlink(ns, paths.procfs.join(format!("{pid}/ns/net"))).expect("ln");
            write(
                &paths.procfs.join(format!("{pid}/net/dev")),
                &format!("Inter-| Receive | Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n  eth0: {pid}000 10 1 2 0 0 0 0 {pid}00 20 3 4 0 0 0 0\n"),
            );
        }
        // Kubelet's log layout names pods and containers.
        for (ns, pod, uid, ctrs) in [
            (
                "shop",
                "web",
                UID_A,
                &[("app", APP), ("sidecar", SIDECAR)][..],
            ),
            ("batch", "job-x", UID_B, &[("worker", WORKER)][..]),
            ("kube-system", "etcd", UID_G, &[][..]),
        ] {
            for (c, id) in ctrs {
                let file = log_root.join(format!("pods/{ns}_{pod}_{uid}/{c}/0.log"));
                write(&file, "");
                std::fs::create_dir_all(log_root.join("containers")).expect("mkdir");
                std::os::unix::fs::symlink(
                    &file,
                    log_root.join(format!("containers/{pod}_{ns}_{c}-{id}.log")),
                )
                .expect("link");
            }
            std::fs::create_dir_all(log_root.join(format!("pods/{ns}_{pod}_{uid}")))
                .expect("mkdir");
        }
        // containerd bundles: an image for the app, and the sandbox of pod B.
        write(
            &paths.rootfs.join(format!(
                "run/containerd/io.containerd.runtime.v2.task/k8s.io/{APP}/config.json"
            )),
            r#"{"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"app","io.kubernetes.cri.image-name":"docker.io/library/nginx:1.27"}}"#,
        );
        write(
            &paths.rootfs.join(format!(
                "run/containerd/io.containerd.runtime.v2.task/k8s.io/{SANDBOX}/config.json"
            )),
            r#"{"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.image-name":"registry.k8s.io/pause:3.10"}}"#,
        );
        Fixture {
            _dir: dir,
            paths,
            log_root,
        }
    }

    fn scrape(&self) -> BTreeMap<String, f64> {
        let c = CgroupCollector::new(self.paths.clone(), &self.log_root);
        let mut out = Exposition::new(Format::Text);
        c.collect(&mut out);
        parse(&out.finish())
    }
}

/// `name{labels} value` lines → map keyed by the series with its labels sorted (the
/// order in the text does not matter to Prometheus).
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let (name, labels) = series.split_once('{').expect("labels");
        let labels = labels.strip_suffix("\"}").expect("closing quote and brace");
        // Values here hold no `",` sequence, so this split is exact for these fixtures.
        let mut pairs: Vec<&str> = labels.split("\",").collect();
        pairs.sort();
        let key = format!("{name}{{{}\"}}", pairs.join("\","));
        let prev = m.insert(key, value.parse::<f64>().expect("value"));
        assert!(prev.is_none(), "duplicate series {series}");
    }
    m
}

fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let mut l = labels.to_vec();
    l.sort();
    let body: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", body.join(","))
}

/// The kubelet label set for a cgroup.
fn base<'a>(
    id: &'a str,
    name: &'a str,
    image: &'a str,
    ns: &'a str,
    pod: &'a str,
    c: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("id", id),
        ("name", name),
        ("image", image),
        ("namespace", ns),
        ("pod", pod),
        ("container", c),
    ]
}

fn get(m: &BTreeMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let s = series(name, labels);
    *m.get(&s).unwrap_or_else(|| {
        let near: Vec<&String> = m.keys().filter(|k| k.starts_with(name)).take(20).collect();
        panic!("missing {s}\nsome series of that name:\n{near:#?}")
    })
}

fn with<'a>(
    mut l: Vec<(&'a str, &'a str)>,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    l.extend_from_slice(extra);
    l
}

fn ids(m: &BTreeMap<String, f64>) -> Vec<String> {
    let mut v: Vec<String> = m
        .keys()
        .filter_map(|k| {
            k.split("id=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// v2 files of one cgroup.
fn v2_cgroup(dir: &Path, usage_usec: u64, memory_current: Option<u64>, quota: &str, pids: &str) {
    write(&dir.join("cpu.stat"), &format!("usage_usec {usage_usec}\nuser_usec {}\nsystem_usec {}\nnr_periods 10\nnr_throttled 3\nthrottled_usec 250000\n", usage_usec / 2, usage_usec / 4));
    write(&dir.join("cpu.max"), &format!("{quota} 100000\n"));
    write(&dir.join("cpu.weight"), "39\n");
    if let Some(c) = memory_current {
        write(&dir.join("memory.current"), &format!("{c}\n"));
    }
    write(&dir.join("memory.stat"), "anon 1000000\nfile 2000000\nfile_mapped 300000\ninactive_file 500000\npgfault 77\npgmajfault 5\n");
    write(&dir.join("memory.swap.current"), "4096\n");
    write(
        &dir.join("memory.events"),
        "low 0\nhigh 0\nmax 1\noom 1\noom_kill 2\n",
    );
    write(&dir.join("memory.max"), "268435456\n");
    write(&dir.join("io.stat"), "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n7:3 rbytes=1 wbytes=1 rios=1 wios=1\n");
    write(&dir.join("pids.current"), "5\n");
    write(&dir.join("pids.max"), "max\n");
    write(&dir.join("cgroup.procs"), pids);
}

#[test]
fn cgroup_v2_systemd_driver() {
    let f = Fixture::new();
    let cg = &f.paths.cgroupfs;
    write(&cg.join("cgroup.controllers"), "cpu io memory pids\n");
    v2_cgroup(cg, 9_000_000, None, "max", "1\n");
    let a = UID_A.replace('-', "_");
    let b = UID_B.replace('-', "_");
    let g = UID_G.replace('-', "_");
    let kp = "kubepods.slice";
    let burst = format!("{kp}/kubepods-burstable.slice");
    let pod_a = format!("{burst}/kubepods-burstable-pod{a}.slice");
    let pod_b = format!("{kp}/kubepods-besteffort.slice/kubepods-besteffort-pod{b}.slice");
    let pod_g = format!("{kp}/kubepods-pod{g}.slice");
    for (rel, usage, mem, quota, pids) in [
        (kp.to_string(), 8_000_000, Some(50_000_000), "max", ""),
        (burst.clone(), 7_000_000, Some(40_000_000), "max", ""),
        (
            format!("{kp}/kubepods-besteffort.slice"),
            1_000_000,
            Some(4_000_000),
            "max",
            "",
        ),
        (pod_a.clone(), 3_000_000, Some(30_000_000), "max", ""),
        (
            format!("{pod_a}/cri-containerd-{APP}.scope"),
            1_500_000,
            Some(104_857_600),
            "50000",
            "4242\n4243\n",
        ),
        (
            format!("{pod_a}/cri-containerd-{SIDECAR}.scope"),
            500_000,
            Some(1_000_000),
            "max",
            "4250\n",
        ),
        // A crun sub-cgroup and conmon are not reported.
        (
            format!("{pod_a}/cri-containerd-{APP}.scope/container"),
            1,
            Some(1),
            "max",
            "",
        ),
        (
            format!("{pod_a}/crio-conmon-{APP}.scope"),
            1,
            Some(1),
            "max",
            "",
        ),
        (pod_b.clone(), 1_000_000, Some(4_000_000), "max", ""),
        (
            format!("{pod_b}/cri-containerd-{SANDBOX}.scope"),
            10_000,
            Some(400_000),
            "max",
            "5151\n",
        ),
        (
            format!("{pod_b}/cri-containerd-{WORKER}.scope"),
            990_000,
            Some(3_600_000),
            "max",
            "5152\n",
        ),
        (pod_g.clone(), 2_000_000, Some(10_000_000), "200000", ""),
        (
            "system.slice/kubelet.service".to_string(),
            1,
            Some(1),
            "max",
            "",
        ),
    ] {
        v2_cgroup(&cg.join(&rel), usage, mem, quota, pids);
    }
    let m = f.scrape();

    let slash = |p: &str| format!("/{p}");
    let app_id = slash(&format!("{pod_a}/cri-containerd-{APP}.scope"));
    let side_id = slash(&format!("{pod_a}/cri-containerd-{SIDECAR}.scope"));
    let sb_id = slash(&format!("{pod_b}/cri-containerd-{SANDBOX}.scope"));
    let wk_id = slash(&format!("{pod_b}/cri-containerd-{WORKER}.scope"));
    let mut want_ids = vec![
        "/".to_string(),
        slash(kp),
        slash(&burst),
        slash(&format!("{kp}/kubepods-besteffort.slice")),
        slash(&pod_a),
        app_id.clone(),
        side_id.clone(),
        slash(&pod_b),
        sb_id.clone(),
        wk_id.clone(),
        slash(&pod_g),
    ];
    want_ids.sort();
    assert_eq!(ids(&m), want_ids);

    let app = base(
        &app_id,
        APP,
        "docker.io/library/nginx:1.27",
        "shop",
        "web",
        "app",
    );
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(app.clone(), &[("cpu", "total")])
        ),
        1.5
    );
    assert_eq!(get(&m, "container_cpu_user_seconds_total", &app), 0.75);
    assert_eq!(get(&m, "container_cpu_system_seconds_total", &app), 0.375);
    assert_eq!(get(&m, "container_cpu_cfs_periods_total", &app), 10.0);
    assert_eq!(
        get(&m, "container_cpu_cfs_throttled_periods_total", &app),
        3.0
    );
    assert_eq!(
        get(&m, "container_cpu_cfs_throttled_seconds_total", &app),
        0.25
    );
    assert_eq!(get(&m, "container_spec_cpu_quota", &app), 50_000.0);
    assert_eq!(get(&m, "container_spec_cpu_period", &app), 100_000.0);
    assert_eq!(get(&m, "container_spec_cpu_shares", &app), 998.0);
    assert_eq!(get(&m, "container_memory_usage_bytes", &app), 104_857_600.0);
    assert_eq!(
        get(&m, "container_memory_working_set_bytes", &app),
        104_357_600.0
    );
    assert_eq!(get(&m, "container_memory_rss", &app), 1_000_000.0);
    assert_eq!(get(&m, "container_memory_cache", &app), 2_000_000.0);
    assert_eq!(get(&m, "container_memory_mapped_file", &app), 300_000.0);
    assert_eq!(get(&m, "container_memory_swap", &app), 4096.0);
    assert_eq!(
        get(&m, "container_spec_memory_limit_bytes", &app),
        268_435_456.0
    );
    assert_eq!(get(&m, "container_oom_events_total", &app), 2.0);
    assert_eq!(
        get(
            &m,
            "container_memory_failures_total",
            &with(
                app.clone(),
                &[("failure_type", "pgmajfault"), ("scope", "container")]
            )
        ),
        5.0
    );
    assert_eq!(
        get(
            &m,
            "container_fs_reads_bytes_total",
            &with(app.clone(), &[("device", "/dev/sda")])
        ),
        4096.0
    );
    assert_eq!(
        get(
            &m,
            "container_fs_writes_bytes_total",
            &with(app.clone(), &[("device", "/dev/sda")])
        ),
        8192.0
    );
    assert_eq!(
        get(
            &m,
            "container_fs_reads_total",
            &with(app.clone(), &[("device", "/dev/sda")])
        ),
        1.0
    );
    assert_eq!(
        get(
            &m,
            "container_fs_writes_total",
            &with(app.clone(), &[("device", "/dev/sda")])
        ),
        2.0
    );
    assert!(
        !m.keys()
            .any(|k| k.contains("device=\"\"") || k.contains("7:3")),
        "unnamed devices are dropped"
    );
    assert_eq!(get(&m, "container_processes", &app), 2.0);
    assert_eq!(get(&m, "container_threads", &app), 5.0);
    assert_eq!(get(&m, "container_threads_max", &app), 0.0);
    assert!(get(&m, "container_start_time_seconds", &app) > 1.7e9);
    // Sidecar: no quota → no CFS series, no quota series.
    let side = base(&side_id, SIDECAR, "", "shop", "web", "sidecar");
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(side.clone(), &[("cpu", "total")])
        ),
        0.5
    );
    for absent in [
        "container_cpu_cfs_periods_total",
        "container_spec_cpu_quota",
    ] {
        assert!(
            !m.contains_key(&series(absent, &side)),
            "{absent} without a quota"
        );
    }
    // Pod cgroup: names from the pods/ directory, empty container and image.
    let pa = slash(&pod_a);
    let pod = base(&pa, "", "", "shop", "web", "");
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(pod.clone(), &[("cpu", "total")])
        ),
        3.0
    );
    // Pod A has no known sandbox: its network (from a container's process) is on the pod cgroup.
    assert_eq!(
        get(
            &m,
            "container_network_receive_bytes_total",
            &with(pod.clone(), &[("interface", "eth0")])
        ),
        4_242_000.0
    );
    assert_eq!(
        get(
            &m,
            "container_network_transmit_packets_dropped_total",
            &with(pod.clone(), &[("interface", "eth0")])
        ),
        4.0
    );
    assert!(!m.keys().any(|k| k.contains("interface=\"lo\"")));
    // Pod B: the sandbox (from its containerd bundle) carries the network, container="".
    let sb = base(
        &sb_id,
        SANDBOX,
        "registry.k8s.io/pause:3.10",
        "batch",
        "job-x",
        "",
    );
    assert_eq!(
        get(
            &m,
            "container_network_receive_bytes_total",
            &with(sb, &[("interface", "eth0")])
        ),
        5_151_000.0
    );
    let net_series = m
        .keys()
        .filter(|k| k.starts_with("container_network_receive_bytes_total"))
        .count();
    assert_eq!(net_series, 2, "one interface per pod with its own netns");
    let wk = base(&wk_id, WORKER, "", "batch", "job-x", "worker");
    assert_eq!(
        get(&m, "container_memory_working_set_bytes", &wk),
        3_100_000.0
    );
    // Guaranteed pod directly under kubepods.slice, named from pods/ alone.
    let pg = slash(&pod_g);
    let gp = base(&pg, "", "", "kube-system", "etcd", "");
    assert_eq!(get(&m, "container_spec_cpu_quota", &gp), 200_000.0);
    // Root: no memory.current → anon + file; QoS cgroups carry no names.
    let root = base("/", "", "", "", "", "");
    assert_eq!(get(&m, "container_memory_usage_bytes", &root), 3_000_000.0);
    assert_eq!(
        get(&m, "container_memory_working_set_bytes", &root),
        2_500_000.0
    );
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(root, &[("cpu", "total")])
        ),
        9.0
    );
    let qos = base(
        "/kubepods.slice/kubepods-burstable.slice",
        "",
        "",
        "",
        "",
        "",
    );
    assert_eq!(get(&m, "container_memory_usage_bytes", &qos), 40_000_000.0);
}

/// v1 files of one cgroup in every controller.
fn v1_cgroup(cg: &Path, rel: &str, usage_ns: u64, quota: i64, mem: u64, pids: &str) {
    let d = |c: &str| cg.join(c).join(rel);
    write(&d("cpu").join("cgroup.procs"), pids);
    write(&d("cpu").join("cpu.cfs_quota_us"), &format!("{quota}\n"));
    write(&d("cpu").join("cpu.cfs_period_us"), "100000\n");
    write(&d("cpu").join("cpu.shares"), "512\n");
    write(
        &d("cpu").join("cpu.stat"),
        "nr_periods 40\nnr_throttled 8\nthrottled_time 2000000000\n",
    );
    write(&d("cpuacct").join("cgroup.procs"), pids);
    write(
        &d("cpuacct").join("cpuacct.usage"),
        &format!("{usage_ns}\n"),
    );
    write(&d("cpuacct").join("cpuacct.stat"), "user 150\nsystem 50\n");
    write(&d("memory").join("cgroup.procs"), pids);
    write(
        &d("memory").join("memory.usage_in_bytes"),
        &format!("{mem}\n"),
    );
    write(
        &d("memory").join("memory.max_usage_in_bytes"),
        &format!("{}\n", mem * 2),
    );
    write(
        &d("memory").join("memory.limit_in_bytes"),
        "9223372036854771712\n",
    );
    write(
        &d("memory").join("memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    );
    write(&d("memory").join("memory.stat"), "cache 10\nrss 20\npgfault 3\npgmajfault 1\ntotal_cache 1000\ntotal_rss 2000\ntotal_swap 0\ntotal_mapped_file 100\ntotal_inactive_file 400\ntotal_pgfault 30\ntotal_pgmajfault 2\n");
    write(&d("blkio").join("cgroup.procs"), pids);
    write(
        &d("blkio").join("blkio.throttle.io_service_bytes_recursive"),
        "8:0 Read 512\n8:0 Write 1024\n8:0 Sync 0\n8:0 Async 0\n8:0 Total 1536\nTotal 1536\n",
    );
    write(
        &d("blkio").join("blkio.throttle.io_serviced_recursive"),
        "8:0 Read 7\n8:0 Write 9\nTotal 16\n",
    );
    write(&d("pids").join("cgroup.procs"), pids);
    write(&d("pids").join("pids.current"), "3\n");
    write(&d("pids").join("pids.max"), "1024\n");
}

#[test]
fn cgroup_v1_cgroupfs_driver_hybrid() {
    let f = Fixture::new();
    let cg = &f.paths.cgroupfs;
    write(&cg.join("unified/cgroup.controllers"), "");
    v1_cgroup(cg, "", 50_000_000_000, -1, 8_000_000_000, "1\n");
    let pod_a = format!("kubepods/burstable/pod{UID_A}");
    let pod_b = format!("kubepods/besteffort/pod{UID_B}");
    for (rel, usage, quota, mem, pids) in [
        ("kubepods".to_string(), 20_000_000_000, -1, 900_000_000, ""),
        (
            "kubepods/burstable".to_string(),
            10_000_000_000,
            -1,
            600_000_000,
            "",
        ),
        (
            "kubepods/besteffort".to_string(),
            1_000_000_000,
            -1,
            100_000_000,
            "",
        ),
        (pod_a.clone(), 3_000_000_000, 100_000, 300_000_000, ""),
        (
            format!("{pod_a}/{APP}"),
            1_250_000_000,
            50_000,
            200_000_000,
            "4242\n",
        ),
        (pod_b.clone(), 2_000_000_000, -1, 1_000_000, ""),
        (
            format!("{pod_b}/{WORKER}"),
            2_000_000_000,
            -1,
            1_000_000,
            "6161\n",
        ),
    ] {
        v1_cgroup(cg, &rel, usage, quota, mem, pids);
    }
    let c = CgroupCollector::new(f.paths.clone(), &f.log_root);
    let m = f.scrape();
    let _ = c.entries();
    assert_eq!(c.layout_name(), Some("hybrid"));

    let app_id = format!("/{pod_a}/{APP}");
    let app = base(
        &app_id,
        APP,
        "docker.io/library/nginx:1.27",
        "shop",
        "web",
        "app",
    );
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(app.clone(), &[("cpu", "total")])
        ),
        1.25
    );
    assert_eq!(get(&m, "container_cpu_user_seconds_total", &app), 1.5);
    assert_eq!(get(&m, "container_cpu_system_seconds_total", &app), 0.5);
    assert_eq!(get(&m, "container_cpu_cfs_periods_total", &app), 40.0);
    assert_eq!(
        get(&m, "container_cpu_cfs_throttled_periods_total", &app),
        8.0
    );
    assert_eq!(
        get(&m, "container_cpu_cfs_throttled_seconds_total", &app),
        2.0
    );
    assert_eq!(get(&m, "container_spec_cpu_quota", &app), 50_000.0);
    assert_eq!(get(&m, "container_spec_cpu_shares", &app), 512.0);
    assert_eq!(get(&m, "container_memory_usage_bytes", &app), 200_000_000.0);
    assert_eq!(
        get(&m, "container_memory_working_set_bytes", &app),
        199_999_600.0
    );
    assert_eq!(get(&m, "container_memory_rss", &app), 2000.0);
    assert_eq!(get(&m, "container_memory_cache", &app), 1000.0);
    assert_eq!(get(&m, "container_memory_mapped_file", &app), 100.0);
    assert_eq!(
        get(&m, "container_memory_max_usage_bytes", &app),
        400_000_000.0
    );
    assert_eq!(get(&m, "container_spec_memory_limit_bytes", &app), 0.0);
    assert_eq!(get(&m, "container_oom_events_total", &app), 1.0);
    assert_eq!(
        get(
            &m,
            "container_memory_failures_total",
            &with(
                app.clone(),
                &[("failure_type", "pgfault"), ("scope", "container")]
            )
        ),
        3.0
    );
    assert_eq!(
        get(
            &m,
            "container_memory_failures_total",
            &with(
                app.clone(),
                &[("failure_type", "pgfault"), ("scope", "hierarchy")]
            )
        ),
        30.0
    );
    assert_eq!(
        get(
            &m,
            "container_fs_reads_bytes_total",
            &with(app.clone(), &[("device", "/dev/sda")])
        ),
        512.0
    );
    assert_eq!(
        get(
            &m,
            "container_fs_writes_total",
            &with(app.clone(), &[("device", "/dev/sda")])
        ),
        9.0
    );
    assert_eq!(get(&m, "container_threads", &app), 3.0);
    assert_eq!(get(&m, "container_threads_max", &app), 1024.0);
    assert_eq!(get(&m, "container_processes", &app), 1.0);
    // Pod A's network is on its pod cgroup; pod B's only process is on the host network.
    let pod_a_id = format!("/{pod_a}");
    let pod = base(&pod_a_id, "", "", "shop", "web", "");
    assert_eq!(
        get(
            &m,
            "container_network_transmit_bytes_total",
            &with(pod, &[("interface", "eth0")])
        ),
        424_200.0
    );
    assert_eq!(
        m.keys()
            .filter(|k| k.starts_with("container_network_transmit_bytes_total"))
            .count(),
        1
    );
    let wk_id = format!("/{pod_b}/{WORKER}");
    let wk = base(&wk_id, WORKER, "", "batch", "job-x", "worker");
    assert!(!m.contains_key(&series("container_cpu_cfs_periods_total", &wk)));
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(wk, &[("cpu", "total")])
        ),
        2.0
    );
    let root = base("/", "", "", "", "", "");
    assert_eq!(
        get(&m, "container_memory_working_set_bytes", &root),
        7_999_999_600.0
    );
    assert_eq!(ids(&m).len(), 8);
}

#[test]
fn vanished_containers_disappear_and_nothing_mounted_gives_nothing() {
    let f = Fixture::new();
    let c = CgroupCollector::new(f.paths.clone(), &f.log_root);
    let mut out = Exposition::new(Format::Text);
    c.collect(&mut out);
    assert_eq!(out.finish(), "", "no cgroup tree: no series, no error");

    let cg = &f.paths.cgroupfs;
    write(&cg.join("cgroup.controllers"), "");
    let ctr = cg.join(format!("kubepods/pod{UID_G}/{WORKER}"));
    v2_cgroup(&ctr, 1_000_000, Some(1), "max", "");
    let c = CgroupCollector::new(f.paths.clone(), &f.log_root);
    let mut out = Exposition::new(Format::Text);
    c.collect(&mut out);
    assert!(out.finish().contains(WORKER));
    std::fs::remove_dir_all(&ctr).expect("rm");
    let mut out = Exposition::new(Format::Text);
    c.collect(&mut out);
    assert!(!out.finish().contains(WORKER));
}

/// The two other driver/version pairs: v1 with the systemd driver (CRI-O scopes, conmon
/// skipped, a combined `cpu,cpuacct` mount) and v2 with the cgroupfs driver.
#[test]
fn cgroup_v1_systemd_and_v2_cgroupfs() {
    let f = Fixture::new();
    let cg = &f.paths.cgroupfs;
    // v1, systemd driver, cpu and cpuacct co-mounted.
    let a = UID_A.replace('-', "_");
    let pod = format!("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{a}.slice");
    let ctr = format!("{pod}/crio-{APP}.scope");
    let conmon = format!("{pod}/crio-conmon-{APP}.scope");
    for rel in [
        "",
        "kubepods.slice",
        pod.as_str(),
        ctr.as_str(),
        conmon.as_str(),
    ] {
        let usage = if rel == ctr {
            3_500_000_000
        } else {
            1_000_000_000
        };
        v1_cgroup(cg, rel, usage, -1, 5_000_000, "4242\n");
    }
    // Move cpu and cpuacct into one `cpu,cpuacct` mount, as most distributions do.
    let combined = cg.join("cpu,cpuacct");
    std::fs::rename(cg.join("cpu"), &combined).expect("rename");
    for rel in [
        "",
        "kubepods.slice",
        pod.as_str(),
        ctr.as_str(),
        conmon.as_str(),
    ] {
        let from = cg.join("cpuacct").join(rel);
        for file in ["cpuacct.usage", "cpuacct.stat"] {
            std::fs::copy(from.join(file), combined.join(rel).join(file)).expect("copy");
        }
    }
    std::fs::remove_dir_all(cg.join("cpuacct")).expect("rm");
    let c = CgroupCollector::new(f.paths.clone(), &f.log_root);
    let m = f.scrape();
    let _ = c.entries();
    assert_eq!(c.layout_name(), Some("v1"));
    let ctr_id = format!("/{ctr}");
    let app = base(
        &ctr_id,
        APP,
        "docker.io/library/nginx:1.27",
        "shop",
        "web",
        "app",
    );
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(app.clone(), &[("cpu", "total")])
        ),
        3.5
    );
    assert_eq!(
        get(&m, "container_memory_working_set_bytes", &app),
        4_999_600.0
    );
    assert!(
        !m.keys().any(|k| k.contains("crio-conmon")),
        "conmon is not a container"
    );

    // v2, cgroupfs driver, BestEffort and Guaranteed pods.
    let f = Fixture::new();
    let cg = &f.paths.cgroupfs;
    write(&cg.join("cgroup.controllers"), "cpu memory io pids\n");
    let pod_b = format!("kubepods/besteffort/pod{UID_B}");
    let pod_g = format!("kubepods/pod{UID_G}");
    for (rel, usage) in [
        ("kubepods".to_string(), 9_000_000),
        ("kubepods/besteffort".to_string(), 2_000_000),
        (pod_b.clone(), 2_000_000),
        (format!("{pod_b}/{WORKER}"), 1_750_000),
        (pod_g.clone(), 7_000_000),
    ] {
        v2_cgroup(&cg.join(&rel), usage, Some(1_000_000), "max", "");
    }
    let m = f.scrape();
    let wk_id = format!("/{pod_b}/{WORKER}");
    let wk = base(&wk_id, WORKER, "", "batch", "job-x", "worker");
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(wk, &[("cpu", "total")])
        ),
        1.75
    );
    let g_id = format!("/{pod_g}");
    let g = base(&g_id, "", "", "kube-system", "etcd", "");
    assert_eq!(
        get(
            &m,
            "container_cpu_usage_seconds_total",
            &with(g, &[("cpu", "total")])
        ),
        7.0
    );
    assert_eq!(
        ids(&m).len(),
        6,
        "machine (last_seen only: no files there), kubepods, QoS, two pods, one container"
    );
}

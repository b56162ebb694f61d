use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use argus_core::time::parse_rfc3339;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t0() -> i64 {
    parse_rfc3339("2026-11-26T10:15:00Z").expect("valid time")
}

/// All files below `dir`, recursively (symlinks not followed).
fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.extend(files(&entry.path())?);
        } else {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Parses one CRI line into (timestamp, stream, tag, message).
fn parse_cri(line: &str) -> Option<(i64, &str, &str, &str)> {
    let mut parts = line.splitn(4, ' ');
    let ts = parse_rfc3339(parts.next()?)?;
    let stream = parts.next()?;
    let tag = parts.next()?;
    let msg = parts.next()?;
    (matches!(stream, "stdout" | "stderr") && matches!(tag, "P" | "F"))
        .then_some((ts, stream, tag, msg))
}

fn is_hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(&n, p)| is_hex(p, n))
}

fn is_rotated_name(name: &str) -> bool {
    let Some((_, stamp)) = name.split_once(".log.") else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 15
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
}

#[test]
fn writes_kubelet_layout_cri_lines_rotation_restarts_and_links() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("var-log");
    let mut cfg = DemoConfig::new(&root);
    cfg.rotate_bytes = 32 * 1024;
    cfg.seed = 42;
    let mut sim = Simulator::new(cfg)?;
    let pods = sim.pods();
    assert_eq!(pods.len(), 7);

    // Backfill, then ~70 s in steps of 200 ms and 1 s, then a step that goes backwards.
    let first = sim.step(t0())?;
    assert!(first.lines > 5_000, "backfill wrote only {first:?}");
    let mut now = t0();
    for i in 0..120 {
        now += if i % 2 == 0 {
            200_000_000
        } else {
            1_000_000_000
        };
        sim.step(now)?;
    }
    assert!(now - t0() >= 70 * NS_PER_SEC);
    assert_eq!(sim.step(now - 1)?, StepStats::default());

    // pods/<ns>_<pod>_<uid>/<container>/ with a live log for every container.
    let pods_dir = root.join("pods");
    let mut dirs: Vec<String> = fs::read_dir(&pods_dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<_>>()?;
    dirs.sort();
    let mut want: Vec<String> = pods
        .iter()
        .map(|p| format!("{}_{}_{}", p.namespace, p.pod, p.uid))
        .collect();
    want.sort();
    assert_eq!(dirs, want);
    for p in &pods {
        assert!(is_uuid(&p.uid), "uid {}", p.uid);
        let parts: Vec<&str> = p.pod.rsplitn(3, '-').collect();
        assert_eq!((parts[0].len(), parts[1].len()), (5, 10), "pod {}", p.pod);
        for c in &p.containers {
            let dir = pods_dir
                .join(format!("{}_{}_{}", p.namespace, p.pod, p.uid))
                .join(c);
            let live = fs::read_dir(&dir)?
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".log"));
            assert!(live, "no live log in {}", dir.display());
            if c != "app" {
                assert!(dir.join("0.log").is_file(), "{}", dir.display());
            }
        }
    }
    assert!(pods.iter().any(|p| p.namespace == "shop"));
    assert!(pods.iter().any(|p| p.namespace == "kube-system"));

    // Every line of every file is CRI; per file, timestamps increase and P pieces end in F.
    let mut demo_errors = 0;
    let mut partials = 0;
    let mut rotated = 0;
    let mut restart_files = 0;
    let mut rotated_per_file: BTreeMap<String, usize> = BTreeMap::new();
    for path in files(&pods_dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rel = path.strip_prefix(&pods_dir)?.to_string_lossy().into_owned();
        if is_rotated_name(&name) {
            rotated += 1;
            let live = rel.split(".log.").next().unwrap_or_default().to_string();
            *rotated_per_file.entry(live).or_default() += 1;
        } else {
            assert!(name.ends_with(".log"), "unexpected file {rel}");
            let restart: u32 = name.trim_end_matches(".log").parse()?;
            if restart > 0 {
                restart_files += 1;
            }
        }
        let text = fs::read_to_string(&path)?;
        assert!(text.ends_with('\n'), "{rel} does not end in a newline");
        let mut last = i64::MIN;
        let mut open_partial = false;
        for line in text.lines() {
            let Some((ts, _stream, tag, msg)) = parse_cri(line) else {
                panic!("{rel}: not a CRI line: {line:.200}");
            };
            assert!(ts > last, "{rel}: timestamps not increasing at {line:.100}");
            last = ts;
            assert!(msg.len() <= MAX_PIECE, "{rel}: piece too long");
            if tag == "P" {
                partials += 1;
                assert_eq!(msg.len(), MAX_PIECE);
            }
            open_partial = tag == "P";
            if rel.starts_with("demo_") && msg.contains("error") {
                demo_errors += 1;
            }
        }
        assert!(!open_partial, "{rel} ends in a P piece");
    }
    assert!(demo_errors > 50, "only {demo_errors} error lines in demo");
    assert!(partials > 0, "no long line was split into P pieces");
    assert!(rotated > 0, "nothing was rotated");
    for (file, n) in &rotated_per_file {
        assert!(*n <= 3, "{file} keeps {n} rotated files");
    }

    // The crash-looping pod restarted: <n>.log files with a panic, at most 5 of them kept.
    assert!(restart_files > 0, "crashy pod never restarted");
    let crashy = pods
        .iter()
        .find(|p| p.pod.starts_with("crashy-"))
        .ok_or("no crashy pod")?;
    let app_dir = pods_dir
        .join(format!(
            "{}_{}_{}",
            crashy.namespace, crashy.pod, crashy.uid
        ))
        .join("app");
    let logs: Vec<String> = fs::read_dir(&app_dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<_>>()?;
    let live: Vec<&String> = logs.iter().filter(|n| n.ends_with(".log")).collect();
    assert!(
        live.len() > 1 && live.len() <= KEEP_RESTARTS as usize,
        "{logs:?}"
    );
    assert!(live.iter().any(|n| n.as_str() != "0.log"));
    let mut panics = 0;
    for name in &live {
        let text = fs::read_to_string(app_dir.join(name))?;
        panics += text
            .matches("stderr F panic: runtime error: invalid memory address")
            .count();
        assert!(text.contains("starting payments-sync"));
    }
    assert!(panics >= live.len() - 1, "{panics} panics in {live:?}");

    // containers/<pod>_<ns>_<container>-<id>.log links resolve; every container has one.
    let mut linked = Vec::new();
    for entry in fs::read_dir(root.join("containers"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(entry.file_type()?.is_symlink(), "{name} is not a symlink");
        let target = fs::read_link(entry.path())?;
        assert!(target.is_absolute());
        assert!(fs::metadata(entry.path())?.is_file(), "{name} dangles");
        let stem = name.strip_suffix(".log").ok_or("no .log")?;
        let (prefix, id) = stem.rsplit_once('-').ok_or("no id")?;
        assert!(is_hex(id, 64), "{name}");
        linked.push(prefix.to_string());
    }
    for p in &pods {
        for c in &p.containers {
            let prefix = format!("{}_{}_{}", p.pod, p.namespace, c);
            assert!(linked.contains(&prefix), "no link for {prefix}");
        }
    }
    let crashy_links = linked.iter().filter(|l| l.starts_with(&crashy.pod)).count();
    assert_eq!(crashy_links, live.len());
    Ok(())
}

#[test]
fn same_seed_same_pods() -> TestResult {
    let a = tempfile::tempdir()?;
    let b = tempfile::tempdir()?;
    let mk = |dir: &Path, seed: u64| {
        let mut cfg = DemoConfig::new(dir);
        cfg.seed = seed;
        Simulator::new(cfg).map(|s| s.pods())
    };
    let one = mk(a.path(), 7)?;
    assert_eq!(one, mk(b.path(), 7)?);
    let other = mk(b.path(), 8)?;
    assert_ne!(
        one.iter().map(|p| &p.pod).collect::<Vec<_>>(),
        other.iter().map(|p| &p.pod).collect::<Vec<_>>()
    );
    Ok(())
}

#[test]
fn same_seed_same_lines() -> TestResult {
    let mut texts = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir()?;
        let mut cfg = DemoConfig::new(dir.path());
        cfg.seed = 3;
        let mut sim = Simulator::new(cfg)?;
        sim.step(t0())?;
        sim.step(t0() + 200_000_000)?;
        let mut all = String::new();
        for path in files(&dir.path().join("pods"))? {
            all.push_str(&fs::read_to_string(path)?);
        }
        texts.push(all);
    }
    assert!(!texts[0].is_empty());
    assert_eq!(texts[0], texts[1]);
    Ok(())
}

#[test]
fn api_error_burst_every_minute() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut sim = Simulator::new(DemoConfig::new(dir.path()))?;
    sim.step(t0())?;
    let mut text = String::new();
    for path in files(&dir.path().join("pods"))? {
        if path.parent().is_some_and(|d| d.ends_with("api")) {
            text.push_str(&fs::read_to_string(path)?);
        }
    }
    let mut per_minute_second = [0u32; 60];
    for line in text.lines() {
        let (ts, stream, _, msg) = parse_cri(line).ok_or("not CRI")?;
        if msg.contains("\"level\":\"error\"") {
            assert_eq!(stream, "stderr");
            per_minute_second[(ts / NS_PER_SEC).rem_euclid(60) as usize] += 1;
        }
    }
    let burst: u32 = per_minute_second[..5].iter().sum();
    let rest: u32 = per_minute_second[5..].iter().sum();
    assert!(burst > 200, "burst {burst}");
    assert_eq!(rest, 0);
    Ok(())
}

#[test]
fn rotation_stamp_and_civil_time() {
    assert_eq!(rotation_stamp(t0() + 123), "20261126-101500");
    assert_eq!(rotation_stamp(0), "19700101-000000");
    let leap = parse_rfc3339("2024-02-29T23:59:59.999Z").expect("valid time");
    assert_eq!(rotation_stamp(leap), "20240229-235959");
    assert!(is_rotated_name("0.log.20261126-101500"));
    assert!(!is_rotated_name("0.log"));
}

/// The simulated cluster and cgroup tree follow the log files: the same pods and uids,
/// the crash-looping container's restarts as `restartCount` and as its `BackOff` Event's
/// count, and a cgroup scope (with a containerd bundle) for each running instance.
#[test]
fn cluster_and_cgroups_follow_the_logs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let api = Arc::new(rt.block_on(argus_kube_fake::FakeApiServer::start(
        "127.0.0.1:0".parse()?,
    ))?);
    let mut sim = Simulator::new(DemoConfig::new(dir.path().join("log")))?;
    let mut cluster = Cluster::new(api.clone());
    let mut cgroups = CgroupTree::new(
        &dir.path().join("cgroup"),
        &dir.path().join("rootfs"),
        &dir.path().join("sys"),
    )?;
    let mut now = t0();
    let mut backoff_counts = Vec::new();
    for _ in 0..4 {
        sim.step(now)?;
        cluster.sync(&sim, now)?;
        cgroups.sync(&sim, now)?;
        let crashy = sim
            .containers
            .iter()
            .find(|c| c.gen.kind == Kind::Crashy)
            .ok_or("no crashy container")?;
        let pod = api
            .get("pods", Some("demo"), &crashy.pod)?
            .ok_or("no crashy pod")?;
        assert_eq!(pod["metadata"]["uid"].as_str(), Some(crashy.uid.as_str()));
        let status = &pod["status"]["containerStatuses"][0];
        assert_eq!(status["restartCount"], u64::from(crashy.restart));
        assert_eq!(
            status["containerID"].as_str(),
            Some(format!("containerd://{}", crashy.id).as_str())
        );
        let waiting = status["state"]["waiting"]["reason"].as_str();
        assert_eq!(
            waiting == Some("CrashLoopBackOff"),
            !crashy.running,
            "{status}"
        );
        if crashy.crashes > 0 {
            assert_eq!(status["lastState"]["terminated"]["reason"], "Error");
        }
        let backoff: Vec<serde_json::Value> = api
            .objects("events", Some("demo"))?
            .into_iter()
            .filter(|e| e["reason"] == "BackOff")
            .collect();
        assert_eq!(backoff.len(), 1, "one BackOff Event, updated in place");
        assert_eq!(
            backoff[0]["involvedObject"]["name"].as_str(),
            Some(crashy.pod.as_str())
        );
        assert_eq!(backoff[0]["count"], u64::from(crashy.crashes));
        backoff_counts.push(crashy.crashes);
        // A scope per running container, none for one waiting to restart.
        for c in &sim.containers {
            let scope = dir
                .path()
                .join("cgroup/kubepods.slice/kubepods-burstable.slice")
                .join(format!(
                    "kubepods-burstable-pod{}.slice",
                    c.uid.replace('-', "_")
                ))
                .join(format!("cri-containerd-{}.scope", c.id));
            assert_eq!(scope.join("cpu.stat").is_file(), c.running, "{}", c.name);
            let bundle = dir.path().join(format!(
                "rootfs/run/containerd/io.containerd.runtime.v2.task/k8s.io/{}/config.json",
                c.id
            ));
            assert_eq!(bundle.is_file(), c.running, "{}", c.name);
        }
        now += 40 * NS_PER_SEC;
    }
    assert!(
        backoff_counts.windows(2).all(|w| w[0] <= w[1]) && backoff_counts[3] > backoff_counts[0],
        "{backoff_counts:?}"
    );
    // Every simulated pod is in the API with its log directory's uid, on the Ready node.
    for p in sim.pods() {
        let pod = api
            .get("pods", Some(&p.namespace), &p.pod)?
            .ok_or("pod missing")?;
        assert_eq!(pod["metadata"]["uid"].as_str(), Some(p.uid.as_str()));
        assert_eq!(pod["spec"]["nodeName"], NODE);
        assert!(dir
            .path()
            .join("log/pods")
            .join(format!("{}_{}_{}", p.namespace, p.pod, p.uid))
            .is_dir());
    }
    let nodes = api.objects("nodes", None)?;
    let not_ready = nodes
        .iter()
        .find(|n| n["spec"]["unschedulable"] == true)
        .ok_or("no cordoned node")?;
    let ready = not_ready["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .ok_or("no Ready condition")?;
    assert_eq!(ready["status"], "False");
    // CPU counters only grow.
    let usage = |path: &Path| -> Result<u64, Box<dyn std::error::Error>> {
        let text = fs::read_to_string(path.join("cpu.stat"))?;
        Ok(text
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .ok_or("no usage_usec")?
            .parse()?)
    };
    let kubepods = dir.path().join("cgroup/kubepods.slice");
    let before = usage(&kubepods)?;
    sim.step(now)?;
    cgroups.sync(&sim, now)?;
    assert!(usage(&kubepods)? > before);
    Ok(())
}

#[test]
fn a_restarted_demo_goes_on_where_it_stopped_instead_of_backfilling_again() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("var-log");
    let backfill = Simulator::new(DemoConfig::new(&root))?.step(t0())?;
    assert!(backfill.lines > 5_000, "{backfill:?}");
    // Restarted 1 s later: only that second is written.
    let second = Simulator::new(DemoConfig::new(&root))?.step(t0() + NS_PER_SEC)?;
    assert!(
        second.lines > 0 && second.lines * 30 < backfill.lines,
        "after a restart 1 s later: {second:?}, the backfill was {backfill:?}"
    );
    // Restarted after 10 minutes: at most 2 minutes are written, as on a first start.
    let late = Simulator::new(DemoConfig::new(&root))?.step(t0() + 600 * NS_PER_SEC)?;
    assert!(late.lines * 2 > backfill.lines, "{late:?}");
    // A clock from the future (the system clock set back) does not silence the demo.
    let back = Simulator::new(DemoConfig::new(&root))?.step(t0() - 3600 * NS_PER_SEC)?;
    assert!(back.lines * 2 > backfill.lines, "{back:?}");
    Ok(())
}

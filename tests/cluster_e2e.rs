//! The cluster watcher in the aggregator's process, end to end with the real binary:
//!
//! - `argus all-in-one --demo` from a clean data dir: the simulated cluster's Events
//!   (the crash-looping pod's `BackOff`, its count rising), the `kube_*` series, and the
//!   `container_*` series of the simulated cgroup tree, for the pods of the log files;
//! - `argus aggregator` with `$KUBECONFIG` naming a (fake) cluster's kubeconfig: Events
//!   recorded, `/metrics/cluster` served and scraped as job `kube-state-metrics`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Event hits of `query`.
fn events(addr: &str, query: &str) -> Vec<Value> {
    let path = format!("/api/v1/events/search?query={}&limit=100", enc(query));
    get(addr, &path)
        .filter(|r| r.status == 200)
        .map(|r| {
            r.json()["data"]["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// (count, pod) of the crash-looping pod's BackOff Event.
fn backoff(addr: &str) -> Option<(u64, String)> {
    events(addr, r#"{reason="BackOff"}"#).iter().find_map(|h| {
        let pod = h["name"].as_str()?;
        (pod.starts_with("crashy-") && h["namespace"] == "demo")
            .then(|| (h["count"].as_u64().unwrap_or(0), pod.to_string()))
    })
}

#[test]
fn all_in_one_demo_simulates_a_cluster_and_its_cgroups() {
    let tmp = tempfile::tempdir().unwrap();
    let collector = format!("127.0.0.1:{}", free_port());
    let (mut p, addr) = serve(
        &["all-in-one", "--demo"],
        &format!("collector:\n  listen: \"{collector}\"\naggregator:\n  metrics:\n    scrape_interval: 2s\n"),
        tmp.path(),
        &[],
    );
    let data = tmp.path().join("data");
    // The pods of the log files: <log-root>/pods/<namespace>_<pod>_<uid>.
    let log_pods: BTreeSet<(String, String)> = std::fs::read_dir(data.join("demo/log/pods"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let mut parts = name.splitn(3, '_');
            (
                parts.next().unwrap().to_string(),
                parts.next().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(log_pods.len(), 7, "{log_pods:?}");

    // The crash-looping pod's BackOff Event, restarts already counted from the backfill.
    let (first, pod) = wait_for(Duration::from_secs(30), "a BackOff event", || {
        backoff(&addr).filter(|(count, _)| *count >= 2)
    });
    assert!(
        log_pods.contains(&("demo".to_string(), pod.clone())),
        "{pod} has no log directory"
    );
    let hit = events(&addr, r#"{reason="BackOff"}"#).remove(0);
    assert_eq!(hit["kind"], "Pod");
    assert_eq!(hit["type"], "Warning");
    assert!(
        hit["message"]
            .as_str()
            .unwrap()
            .starts_with("Back-off restarting failed container app"),
        "{hit}"
    );
    // Other Events of the simulated cluster.
    for (q, what) in [
        (r#"{reason="NodeNotReady"}"#, "NodeNotReady"),
        (r#"{reason="Started", name=~"crashy-.*"}"#, "Started"),
    ] {
        wait_for(Duration::from_secs(20), what, || {
            (!events(&addr, q).is_empty()).then_some(())
        });
    }

    // /metrics/cluster answers with the kube_* series and the Event counters, and the
    // scraper stores them as job kube-state-metrics.
    let cluster = get(&addr, "/metrics/cluster").unwrap();
    assert_eq!(cluster.status, 200);
    let text = cluster.text();
    assert!(text.contains("argus_kube_events_total{"), "{text}");
    assert!(
        text.contains("kube_pod_container_status_restarts_total{"),
        "{text}"
    );
    let restarts = wait_for(
        Duration::from_secs(30),
        "kube_pod_container_status_restarts_total",
        || {
            let r = query(
                &addr,
                &format!(
                    r#"kube_pod_container_status_restarts_total{{namespace="demo",pod="{pod}"}}"#
                ),
            );
            r.first()
                .filter(|s| s["value"][1].as_str().unwrap().parse::<f64>().unwrap() >= 1.0)
                .cloned()
        },
    );
    assert_eq!(
        restarts["metric"]["job"], "kube-state-metrics",
        "{restarts}"
    );
    assert_eq!(restarts["metric"]["container"], "app", "{restarts}");
    wait_for(Duration::from_secs(30), "argus_kube_events_total", || {
        (!query(&addr, r#"argus_kube_events_total{reason="BackOff"}"#).is_empty()).then_some(())
    });
    // The watcher's health series on the aggregator's /metrics.
    let m = get(&addr, "/metrics").unwrap().text();
    assert!(m.contains("argus_watcher_events_sent_total "), "{m}");

    // container_* from the simulated cgroup tree, named after the log files' pods.
    let series = wait_for(
        Duration::from_secs(30),
        "container_cpu_usage_seconds_total",
        || {
            let r = query(
                &addr,
                r#"container_cpu_usage_seconds_total{namespace="demo",container!=""}"#,
            );
            (r.len() >= 4).then_some(r)
        },
    );
    let mut containers = BTreeSet::new();
    for s in &series {
        let m = &s["metric"];
        let pod = m["pod"].as_str().unwrap().to_string();
        assert!(
            log_pods.contains(&("demo".to_string(), pod.clone())),
            "{pod} of {s} has no log directory"
        );
        assert!(!m["image"].as_str().unwrap().is_empty(), "no image: {s}");
        assert!(m["id"].as_str().unwrap().contains("cri-containerd-"), "{s}");
        containers.insert(m["container"].as_str().unwrap().to_string());
    }
    for c in ["nginx", "api", "sidecar", "worker"] {
        assert!(containers.contains(c), "no {c} in {containers:?}");
    }
    // The counters grow.
    let cpu = |addr: &str| -> f64 {
        query(
            addr,
            r#"sum(container_cpu_usage_seconds_total{namespace="demo",container="worker"})"#,
        )
        .first()
        .map(|s| s["value"][1].as_str().unwrap().parse().unwrap())
        .unwrap_or(0.0)
    };
    let before = cpu(&addr);
    wait_for(Duration::from_secs(20), "worker CPU to grow", || {
        (cpu(&addr) > before).then_some(())
    });

    // The next crash bumps the same Event's count.
    let (later, same) = wait_for(Duration::from_secs(45), "a higher BackOff count", || {
        backoff(&addr).filter(|(count, _)| *count > first)
    });
    assert_eq!(same, pod);
    assert!(later > first);
    assert_eq!(events(&addr, r#"{reason="BackOff"}"#).len(), 1);
    p.terminate();
    assert!(p.child.try_wait().unwrap().is_some());
}

#[test]
fn aggregator_runs_the_watcher_in_process_when_a_kubeconfig_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = FakeCluster::start(tmp.path());
    let api = &cluster.api;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    api.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "nginx:1.27"}]},
        "status": {"phase": "Running"},
    }))
    .unwrap();
    api.apply(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-1.1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
        "reason": "BackOff", "message": "Back-off restarting failed container web", "type": "Warning",
        "count": 3,
        "firstTimestamp": rfc3339_nano(now - 60, 0), "lastTimestamp": rfc3339_nano(now - 1, 0),
        "source": {"component": "kubelet", "host": "node-a"},
    }))
    .unwrap();
    let (_agg, addr) = serve(
        &["aggregator"],
        "aggregator:\n  metrics:\n    scrape_interval: 1s\n",
        tmp.path(),
        &cluster.env(),
    );
    let hit = wait_for(Duration::from_secs(30), "the Event", || {
        events(&addr, r#"{namespace="shop", reason="BackOff"}"#)
            .first()
            .cloned()
    });
    assert_eq!(hit["count"], 3);
    let text = get(&addr, "/metrics/cluster").unwrap().text();
    assert!(
        text.contains("argus_kube_events_total{namespace=\"shop\""),
        "{text}"
    );
    let info = wait_for(Duration::from_secs(30), "kube_pod_info", || {
        query(&addr, r#"kube_pod_info{namespace="shop",pod="web-1"}"#)
            .first()
            .cloned()
    });
    assert_eq!(info["metric"]["job"], "kube-state-metrics", "{info}");
    assert!(tmp.path().join("data/watcher").is_dir());
    drop(cluster);
}

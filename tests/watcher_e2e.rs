//! End to end, issue #6's scenario: the real `argus watcher` against the fake API server
//! (in this process), delivering to the real `argus aggregator`. Events are created and
//! their counts raised, watches dropped, the history expired (forcing a relist), the
//! watcher restarted gracefully and with `kill -9` while counts rise — afterwards
//! `/api/v1/events/search` finds every Event once with its final count, the occurrences
//! the watcher processes counted add up to the sum of the counts, and a pod's kube_*
//! series follow it.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Events of the fake cluster: uid → count.
struct Cluster {
    k8s: FakeCluster,
    counts: BTreeMap<String, u64>,
    start: i64,
    tick: i64,
}

impl Cluster {
    fn set(&mut self, name: &str, reason: &str, count: u64) {
        self.tick += 1;
        let last = rfc3339_nano(self.start + self.tick, 0);
        let stored = self
            .k8s
            .api
            .apply(json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("{name}.1"), "namespace": "shop"},
                "involvedObject": {"kind": "Pod", "name": name, "namespace": "shop"},
                "reason": reason, "message": format!("{reason} on {name}"), "type": "Warning",
                "count": count,
                "firstTimestamp": rfc3339_nano(self.start, 0), "lastTimestamp": last,
                "source": {"component": "kubelet", "host": "node-a"},
            }))
            .unwrap();
        let uid = stored["metadata"]["uid"].as_str().unwrap().to_string();
        self.counts.insert(uid, count);
    }
}

/// uid → count of every hit, and how many hits each uid has.
fn found(agg: &str) -> (BTreeMap<String, u64>, BTreeMap<String, usize>) {
    let path = format!(
        "/api/v1/events/search?query={}&start=2015-01-01T00:00:00Z&limit=1000",
        enc(r#"{namespace="shop"}"#)
    );
    let mut counts = BTreeMap::new();
    let mut hits = BTreeMap::new();
    let Some(r) = get(agg, &path).filter(|r| r.status == 200) else {
        return (counts, hits);
    };
    for h in r.json()["data"]["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let uid = h["uid"].as_str().unwrap_or_default().to_string();
        counts.insert(uid.clone(), h["count"].as_u64().unwrap_or(0));
        *hits.entry(uid).or_insert(0) += 1;
    }
    (counts, hits)
}

/// The occurrences this watcher process counted (all `argus_kube_events_total` series).
fn occurrences(listen: &str) -> u64 {
    get(listen, "/metrics/cluster")
        .unwrap()
        .text()
        .lines()
        .filter(|l| l.starts_with("argus_kube_events_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// The value of a `/metrics/cluster` series given as `name{labels}`, if present.
fn cluster_value(listen: &str, series: &str) -> Option<String> {
    let text = get(listen, "/metrics/cluster")?.text();
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')
            .map(str::to_string)
    })
}

fn crashing_pod(c: &Cluster, restarts: u64) {
    c.k8s
        .api
        .apply(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "pod-web-1"},
            "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "shop/web:1"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "app", "image": "shop/web:1", "imageID": "", "ready": false,
                "restartCount": restarts,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}
            }]}
        }))
        .unwrap();
}

fn wait_delivered(agg: &str, want: &BTreeMap<String, u64>, what: &str) {
    wait_for(Duration::from_secs(30), what, || {
        (found(agg).0 == *want).then_some(())
    });
}

fn watcher(kubeconfig: &Path, agg: &str, listen: &str, data: &Path, logs: &Path) -> Proc {
    let p = Proc::start(
        "watcher",
        &[
            "watcher",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--aggregator",
            &format!("http://{agg}"),
            "--listen",
            listen,
            "--data-dir",
            data.to_str().unwrap(),
        ],
        logs,
    );
    wait_healthy(listen);
    p
}

#[test]
fn watcher_records_events_once_through_restarts_and_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let k8s = FakeCluster::start(tmp.path());
    let kubeconfig = k8s.kubeconfig.clone();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut c = Cluster {
        k8s,
        counts: BTreeMap::new(),
        start: now - 600,
        tick: 0,
    };
    let agg_port = free_port();
    let agg = format!("127.0.0.1:{agg_port}");
    let _agg = aggregator(agg_port, &tmp.path().join("agg"), tmp.path());
    let listen = format!("127.0.0.1:{}", free_port());
    let data = tmp.path().join("watcher-data");

    c.set("web-1", "BackOff", 1);
    c.set("web-2", "Unhealthy", 3);
    crashing_pod(&c, 3);
    let mut w = watcher(&kubeconfig, &agg, &listen, &data, tmp.path());
    wait_delivered(&agg, &c.counts, "the first list");
    c.set("web-1", "BackOff", 4);
    c.set("web-3", "FailedMount", 1);
    wait_delivered(&agg, &c.counts, "count updates");
    let restarts = r#"kube_pod_container_status_restarts_total{namespace="shop",pod="web-1",uid="pod-web-1",container="app"}"#;
    let waiting = r#"kube_pod_container_status_waiting_reason{namespace="shop",pod="web-1",uid="pod-web-1",container="app",reason="CrashLoopBackOff"}"#;
    let oom = r#"kube_pod_container_status_last_terminated_reason{namespace="shop",pod="web-1",uid="pod-web-1",container="app",reason="OOMKilled"}"#;
    wait_for(Duration::from_secs(30), "kube_* of the pod", || {
        (cluster_value(&listen, restarts)? == "3").then_some(())
    });
    assert_eq!(cluster_value(&listen, waiting).as_deref(), Some("1"));
    assert_eq!(cluster_value(&listen, oom).as_deref(), Some("1"));
    // A scraper that accepts gzip (Prometheus does) gets the same text compressed.
    let (_, text) = get_gzipped(&listen, "/metrics/cluster");
    assert!(text.contains(&format!("{restarts} 3\n")), "{text}");

    // Watches dropped mid-stream, then the history expired: the watcher resumes, then
    // has to relist; nothing is lost or recorded twice.
    c.k8s.api.drop_watches();
    c.set("web-1", "BackOff", 6);
    wait_delivered(&agg, &c.counts, "after dropped watches");
    c.k8s.api.expire_history();
    c.k8s.api.drop_watches();
    c.set("web-5", "BackOff", 2);
    c.set("web-3", "FailedMount", 3);
    crashing_pod(&c, 5);
    wait_delivered(&agg, &c.counts, "after a relist");
    wait_for(Duration::from_secs(30), "kube_* after the relist", || {
        (cluster_value(&listen, restarts)? == "5").then_some(())
    });
    let mut counted = occurrences(&listen);

    // Graceful restart while counts rise.
    w.terminate();
    c.set("web-2", "Unhealthy", 7);
    c.set("web-4", "OOMKilled", 2);
    let mut w = watcher(&kubeconfig, &agg, &listen, &data, tmp.path());
    wait_delivered(&agg, &c.counts, "after a restart");
    let cluster = get(&listen, "/metrics/cluster").unwrap().text();
    assert!(
        cluster.contains(
            "argus_kube_events_total{namespace=\"shop\",kind=\"Pod\",reason=\"Unhealthy\",type=\"Warning\"} 4\n"
        ),
        "the 4 occurrences since the last record: {cluster}"
    );

    counted += occurrences(&listen);

    // kill -9 and back.
    w.kill9();
    c.set("web-3", "FailedMount", 5);
    let mut w = watcher(&kubeconfig, &agg, &listen, &data, tmp.path());
    wait_delivered(&agg, &c.counts, "after kill -9");
    assert_eq!(get(&listen, "/readyz").map(|r| r.status), Some(200));

    counted += occurrences(&listen);

    let (_, hits) = found(&agg);
    assert!(
        hits.values().all(|n| *n == 1),
        "one hit per Event: {hits:?}"
    );
    // Every occurrence counted once across the three watcher processes.
    assert_eq!(counted, c.counts.values().sum::<u64>(), "{:?}", c.counts);
    assert_eq!(cluster_value(&listen, restarts).as_deref(), Some("5"));
    w.terminate();
    assert!(
        !w.output().contains("ERROR"),
        "watcher log has errors:\n{}",
        w.output()
    );
}

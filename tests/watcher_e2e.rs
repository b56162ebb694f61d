//! End to end: the real `argus watcher` against the fake API server (in this process),
//! delivering to the real `argus aggregator`; `/api/v1/events/search` then finds every
//! Event once with its final count, through count updates, a graceful restart of the
//! watcher while counts rise and a `kill -9` of it.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argus_watcher::fake::FakeApiServer;

/// The Events of the fake cluster: uid → count.
struct Cluster {
    api: FakeApiServer,
    counts: BTreeMap<String, u64>,
    start: i64,
    tick: i64,
}

impl Cluster {
    fn set(&mut self, name: &str, reason: &str, count: u64) {
        self.tick += 1;
        let last = rfc3339_nano(self.start + self.tick, 0);
        let stored = self
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let api = rt
        .block_on(FakeApiServer::start("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    api.kubeconfig(&kubeconfig).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut c = Cluster {
        api,
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
    let mut w = watcher(&kubeconfig, &agg, &listen, &data, tmp.path());
    wait_delivered(&agg, &c.counts, "the first list");
    c.set("web-1", "BackOff", 4);
    c.set("web-3", "FailedMount", 1);
    wait_delivered(&agg, &c.counts, "count updates");

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

    // kill -9 and back.
    w.kill9();
    c.set("web-3", "FailedMount", 5);
    let mut w = watcher(&kubeconfig, &agg, &listen, &data, tmp.path());
    wait_delivered(&agg, &c.counts, "after kill -9");
    assert_eq!(get(&listen, "/readyz").map(|r| r.status), Some(200));

    let (_, hits) = found(&agg);
    assert!(
        hits.values().all(|n| *n == 1),
        "one hit per Event: {hits:?}"
    );
    w.terminate();
    assert!(
        !w.output().contains("ERROR"),
        "watcher log has errors:\n{}",
        w.output()
    );
}

//! The collector's pod watch against the fake API server: only this node's pods
//! (`fieldSelector=spec.nodeName=…`), their labels by uid and by namespace/name, and
//! label changes, additions and deletions as they happen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_collector::metrics::expo::{Exposition, Format};
use argus_collector::metrics::CollectorMetrics;
use argus_collector::pods::{self, ApiSource, PodLabels};
use argus_kube_fake::FakeApiServer;
use serde_json::{json, Value};

fn pod(name: &str, uid: &str, node: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": uid, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running"},
    })
}

async fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of the health series `name` as `/metrics` renders it.
fn health(m: &CollectorMetrics, name: &str) -> Option<f64> {
    let mut out = Exposition::new(Format::Text);
    m.collect(&mut out);
    let text = out.finish();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.parse().ok())
}

fn app(p: &PodLabels, uid: &str, name: &str) -> Option<String> {
    p.get(uid, "shop", name)?.get("app").cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_watch_holds_only_this_nodes_pods() {
    let api = FakeApiServer::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    api.apply(pod("cart-1", "u-cart", "n1", json!({"app": "cart"})))
        .unwrap();
    api.apply(pod("bare-1", "u-bare", "n1", json!({}))).unwrap();
    api.apply(pod("web-1", "u-web", "n2", json!({"app": "web"})))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    api.kubeconfig(&kubeconfig).unwrap();

    let client = ApiSource::Kubeconfig(kubeconfig).client().await.unwrap();
    let m = Arc::new(CollectorMetrics::default());
    assert_eq!(
        health(&m, "argus_collector_pod_watch_synced"),
        None,
        "no watch yet"
    );
    let (watch, task) = pods::spawn(client, "n1", m.clone());
    let labels = watch.labels.clone();
    assert!(watch.wait_synced(Duration::from_secs(15)).await);
    assert_eq!(labels.len(), 2);
    assert_eq!(health(&m, "argus_collector_pod_watch_synced"), Some(1.0));
    assert_eq!(health(&m, "argus_collector_pod_watch_pods"), Some(2.0));
    assert_eq!(
        health(&m, "argus_collector_pod_watch_failures_total"),
        Some(0.0)
    );
    // The server filtered: the reflector never saw n2's pod.
    let mut names: Vec<String> = watch
        .store
        .state()
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["bare-1", "cart-1"]);
    assert_eq!(app(&labels, "u-cart", "").as_deref(), Some("cart"));
    assert_eq!(
        app(&labels, "", "cart-1").as_deref(),
        Some("cart"),
        "by name"
    );
    assert!(
        labels.get("u-bare", "shop", "bare-1").is_none(),
        "no labels"
    );
    assert!(labels.get("u-web", "shop", "web-1").is_none(), "other node");
    let first = labels.get("u-cart", "", "").unwrap();

    // A label change: new lookups get the new labels.
    api.apply(pod(
        "cart-1",
        "u-cart",
        "n1",
        json!({"app": "cart", "tier": "api"}),
    ))
    .unwrap();
    wait("the new label", || {
        labels
            .get("u-cart", "", "")
            .is_some_and(|l| l.get("tier").is_some())
    })
    .await;
    assert_eq!(
        first.get("tier"),
        None,
        "records already labelled keep theirs"
    );

    // A pod scheduled here later, and one deleted.
    api.apply(pod("cart-2", "u-cart2", "n1", json!({"app": "cart"})))
        .unwrap();
    wait("the new pod", || app(&labels, "u-cart2", "").is_some()).await;
    api.delete("pods", Some("shop"), "cart-1").unwrap();
    wait("the deletion", || {
        labels.get("u-cart", "shop", "cart-1").is_none()
    })
    .await;
    assert_eq!(health(&m, "argus_collector_pod_watch_pods"), Some(2.0));
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_server_leaves_records_unlabelled() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let Err(e) = ApiSource::Kubeconfig(missing).client().await else {
        panic!("a missing kubeconfig gives no client");
    };
    assert!(e.contains("collector.kubeconfig"), "{e}");

    // A kubeconfig whose server is down: the watch retries quietly, nothing is known.
    let api = FakeApiServer::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    api.kubeconfig(&kubeconfig).unwrap();
    api.shutdown();
    let client = ApiSource::Kubeconfig(kubeconfig).client().await.unwrap();
    let m = Arc::new(CollectorMetrics::default());
    let (watch, task) = pods::spawn(client, "n1", m.clone());
    assert!(!watch.wait_synced(Duration::from_millis(300)).await);
    wait("a counted failure", || {
        health(&m, "argus_collector_pod_watch_failures_total").is_some_and(|v| v >= 1.0)
    })
    .await;
    assert_eq!(health(&m, "argus_collector_pod_watch_synced"), Some(0.0));
    assert!(watch.labels.is_empty());
    assert!(watch.labels.get("u", "shop", "cart-1").is_none());
    task.abort();
}

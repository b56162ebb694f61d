//! Pod labels on log records, end to end with the real binary: the collector of
//! `argus all-in-one` watches its node's pods on a (fake) API server named by
//! `collector.kubeconfig`, and `{app="cart"}` finds the lines of the pod labelled so;
//! `argus all-in-one --demo` labels the simulated cluster's pods the same way.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const CART_UID: &str = "6f1c2a9e-0b5d-4c47-9a1e-3d2f8b7c6a51";
const PLAIN_UID: &str = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f60";

fn pod(name: &str, uid: &str, node: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": uid, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running"},
    })
}

fn append(path: &Path, messages: &[&str]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let ts = rfc3339_nano(
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) as u32,
    );
    for m in messages {
        writeln!(f, "{ts} stdout F {m}").unwrap();
    }
}

fn messages(addr: &str, query: &str) -> Vec<String> {
    let mut m: Vec<String> = search(addr, query, "&limit=100")["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|h| h["message"].as_str().map(str::to_string))
        .collect();
    m.sort();
    m
}

fn wait_messages(addr: &str, query: &str, n: usize) -> Vec<String> {
    wait_for(Duration::from_secs(30), query, || {
        let m = messages(addr, query);
        (m.len() >= n).then_some(m)
    })
}

#[test]
fn log_records_carry_the_labels_of_their_pod() {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = FakeCluster::start(tmp.path());
    let api = &cluster.api;
    api.apply(pod("cart-1", CART_UID, "n1", json!({"app": "cart"})))
        .unwrap();
    api.apply(pod("plain-1", PLAIN_UID, "n1", json!({})))
        .unwrap();

    let log = tmp.path().join("log");
    let cart = log.join(format!("pods/shop_cart-1_{CART_UID}/cart/0.log"));
    let plain = log.join(format!("pods/shop_plain-1_{PLAIN_UID}/main/0.log"));
    append(&cart, &["cart line 1", "cart line 2"]);
    append(&plain, &["plain line 1"]);
    let (_p, addr) = serve(
        &["all-in-one"],
        &format!(
            "collector:\n  listen: \"\"\n  node_name: n1\n  log_root: {}\n  kubeconfig: {}\n",
            log.display(),
            cluster.kubeconfig.display()
        ),
        tmp.path(),
        &[],
    );
    assert_eq!(
        wait_messages(&addr, r#"{app="cart"}"#, 2),
        ["cart line 1", "cart line 2"]
    );
    // A pod without labels is still found by its namespace and pod.
    let all = wait_messages(&addr, r#"{namespace="shop"}"#, 3);
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(messages(&addr, r#"{pod="plain-1"}"#), ["plain line 1"]);
    let hit = search(&addr, r#"{app="cart"}"#, "&limit=1")["hits"][0].clone();
    assert_eq!(hit["labels"]["app"], "cart", "{hit}");

    // New labels apply to the lines read after the change.
    api.apply(pod("cart-1", CART_UID, "n1", json!({"app": "cart-v2"})))
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    append(&cart, &["cart line 3"]);
    assert_eq!(
        wait_messages(&addr, r#"{app="cart-v2"}"#, 1),
        ["cart line 3"]
    );
    assert_eq!(messages(&addr, r#"{app="cart"}"#).len(), 2);
    drop(cluster);
}

#[test]
fn all_in_one_demo_labels_the_simulated_pods() {
    let tmp = tempfile::tempdir().unwrap();
    let (_p, addr) = serve(
        &["all-in-one", "--demo"],
        "collector:\n  listen: \"\"\n",
        tmp.path(),
        &[],
    );
    // The demo's `cart` Deployment in `shop`: its pods are labelled app=cart.
    let hits = wait_for(Duration::from_secs(60), r#"{app="cart"}"#, || {
        let d = search(&addr, r#"{app="cart"}"#, "&limit=10");
        d["hits"].as_array().filter(|h| !h.is_empty()).cloned()
    });
    for h in &hits {
        assert_eq!(h["namespace"], "shop", "{h}");
        assert!(h["pod"].as_str().unwrap().starts_with("cart-"), "{h}");
    }
}

//! Collector discovery end to end with the real binary: `argus aggregator` with
//! `$KUBECONFIG` naming a fake cluster finds the collector pods (by label) and scrapes
//! each on `<podIP>:<port>` as jobs `cadvisor` and `node-exporter`, `instance` = node;
//! a deleted pod's target goes, and its series go stale at once.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// Serves `body` on every path of `l`.
fn serve_body(l: TcpListener, body: &'static str) {
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = c.write_all(resp.as_bytes());
        }
    });
}

/// (job, instance, scrapeUrl, health) of every active target.
fn targets(addr: &str) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = api(addr, "/api/v1/targets")["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                s(&t["scrapePool"]),
                s(&t["labels"]["instance"]),
                s(&t["scrapeUrl"]),
                s(&t["health"]),
            )
        })
        .collect();
    out.sort();
    out
}

fn collector_pod(name: &str, node: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "argus",
            "labels": {"app.kubernetes.io/name": "argus-collector"},
        },
        "spec": {"nodeName": node, "containers": [{"name": "collector", "image": "argus"}]},
        "status": {"phase": "Running", "podIP": ip},
    })
}

#[test]
fn aggregator_discovers_and_scrapes_collector_pods() {
    let tmp = tempfile::tempdir().unwrap();
    // Two collectors on the same port of two loopback addresses.
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = a.local_addr().unwrap().port();
    let b = TcpListener::bind(("127.0.0.2", port)).unwrap();
    let body = "# TYPE node_load1 gauge\nnode_load1 0.5\n";
    serve_body(a, body);
    serve_body(b, body);

    let cluster = FakeCluster::start(tmp.path());
    let api_server = &cluster.api;
    api_server
        .apply(collector_pod("collector-a", "node-a", "127.0.0.1"))
        .unwrap();
    api_server
        .apply(collector_pod("collector-b", "node-b", "127.0.0.2"))
        .unwrap();
    // Not a collector: not scraped.
    let mut other = collector_pod("web-1", "node-a", "127.0.0.3");
    other["metadata"]["labels"] = json!({"app": "web"});
    api_server.apply(other).unwrap();

    let (_agg, addr) = serve(
        &["aggregator"],
        &format!(
            "aggregator:\n  metrics:\n    scrape_interval: 1s\n    collector_discovery:\n      port: {port}\n      refresh_interval: 1s\n"
        ),
        tmp.path(),
        &cluster.env(),
    );

    let url = |ip: &str, path: &str| format!("http://{ip}:{port}{path}");
    let want = |health: &str| {
        let mut w = vec![
            ("cadvisor", "node-a", url("127.0.0.1", "/metrics")),
            ("cadvisor", "node-b", url("127.0.0.2", "/metrics")),
            ("node-exporter", "node-a", url("127.0.0.1", "/metrics/node")),
            ("node-exporter", "node-b", url("127.0.0.2", "/metrics/node")),
        ]
        .into_iter()
        .map(|(j, i, u)| (j.to_string(), i.to_string(), u, health.to_string()))
        .collect::<Vec<_>>();
        w.sort();
        w
    };
    wait_for(
        Duration::from_secs(30),
        "the four collector targets up",
        || {
            let got: Vec<_> = targets(&addr)
                .into_iter()
                .filter(|t| t.0 != "kube-state-metrics")
                .collect();
            (got == want("up")).then_some(())
        },
    );
    let up = wait_for(Duration::from_secs(10), "up of both node-exporters", || {
        let v = query(&addr, r#"up{job="node-exporter"}"#);
        (v.len() == 2).then_some(v)
    });
    for s in &up {
        assert_eq!(s["value"][1], "1", "{s}");
    }
    let load = query(&addr, r#"node_load1{instance="node-b"}"#);
    assert_eq!(load.len(), 1, "{load:?}");
    assert_eq!(load[0]["metric"]["job"], "node-exporter");
    // cadvisor drops the node series.
    assert!(query(&addr, r#"node_load1{job="cadvisor"}"#).is_empty());

    // The pod goes: its targets go, its series end at once.
    api_server
        .delete("pods", Some("argus"), "collector-b")
        .unwrap();
    wait_for(Duration::from_secs(30), "node-b's targets gone", || {
        targets(&addr).iter().all(|t| t.1 != "node-b").then_some(())
    });
    // Staleness markers, not the 5m lookback: gone within a few seconds.
    for q in [
        r#"up{instance="node-b"}"#,
        r#"node_load1{instance="node-b"}"#,
        r#"scrape_duration_seconds{instance="node-b"}"#,
    ] {
        wait_for(Duration::from_secs(3), q, || {
            query(&addr, q).is_empty().then_some(())
        });
    }
    assert_eq!(query(&addr, r#"up{job="node-exporter"}"#).len(), 1);
    drop(cluster);
}

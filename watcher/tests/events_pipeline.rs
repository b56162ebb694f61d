//! The events pipeline end to end: the fake API server, the real `Watcher`, and a fake
//! aggregator ingest endpoint that records what it acknowledges and can be down.
//!
//! Counts rise (MODIFIED), watches are cut (resume by resourceVersion), the history is
//! expired (410 → relist), the watcher is restarted twice on the same data dir while
//! counts rise and Events are created, and the aggregator is down for a while, once
//! across a restart. Afterwards every uid was delivered with its final count, no state was
//! acknowledged twice, and the occurrence counters of the three processes add up to the
//! sum of the final counts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argus_core::event::KubeEvent;
use argus_kube_fake::{FakeApiServer, Verb};
use argus_watcher::{EventsConfig, Watcher, WatcherConfig, WatcherMetrics};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The fake aggregator: acknowledged states in order; 503 while `down`.
#[derive(Default)]
struct Ingest {
    down: AtomicBool,
    acked: Mutex<Vec<KubeEvent>>,
}

#[derive(serde::Deserialize)]
struct Body {
    events: Vec<KubeEvent>,
}

async fn ingest(State(st): State<Arc<Ingest>>, Json(body): Json<Body>) -> StatusCode {
    if st.down.load(Relaxed) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    st.acked.lock().expect("lock").extend(body.events);
    StatusCode::OK
}

async fn start_ingest() -> (String, Arc<Ingest>) {
    let st = Arc::new(Ingest::default());
    let app = Router::new()
        .route("/api/v1/events", post(ingest))
        .with_state(st.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind ingest");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, st)
}

impl Ingest {
    /// The last acknowledged count per uid.
    fn last(&self) -> HashMap<String, u64> {
        let mut out = HashMap::new();
        for e in self.acked.lock().expect("lock").iter() {
            out.insert(e.uid.clone(), e.count);
        }
        out
    }
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<argus_watcher::Result<()>>,
    metrics: Arc<WatcherMetrics>,
    addr: SocketAddr,
}

async fn start_watcher(data: &Path, kubeconfig: &Path, aggregator: &str) -> Running {
    let cfg = WatcherConfig {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        aggregator: aggregator.to_string(),
        data_dir: data.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        events: EventsConfig {
            flush_timeout: Duration::from_secs(1),
            ..EventsConfig::default()
        },
        ..WatcherConfig::default()
    };
    let w = Watcher::new(cfg).expect("watcher");
    let metrics = w.metrics();
    let listener = w.bind().await.expect("bind").expect("a listener");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(w.serve(Some(listener), async move {
        let _ = stopped.await;
    }));
    Running {
        stop,
        task,
        metrics,
        addr,
    }
}

impl Running {
    /// Stops gracefully; returns the process' occurrence count.
    async fn stop(self) -> (u64, Arc<WatcherMetrics>) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the watcher stops within 10s")
            .expect("watcher task")
            .expect("watcher result");
        (self.metrics.occurrences_total(), self.metrics)
    }

    async fn get(&self, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let req = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    }
}

/// The cluster: each Event by name with its uid and current count.
struct Cluster {
    api: FakeApiServer,
    uids: HashMap<String, String>,
    counts: HashMap<String, u64>,
    second: u32,
}

impl Cluster {
    /// Creates or updates Event `name` with `count` occurrences, the last one now.
    fn set(&mut self, name: &str, reason: &str, count: u64) {
        self.second += 1;
        let last = format!(
            "2025-06-01T10:{:02}:{:02}Z",
            self.second / 60,
            self.second % 60
        );
        let (ns, kind, type_) = match reason {
            "OOMKilling" => ("default", "Node", "Warning"),
            "Pulled" => ("shop", "Pod", "Normal"),
            _ => ("shop", "Pod", "Warning"),
        };
        let obj = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{name}.17a3c80ba0453aee"), "namespace": ns},
            "involvedObject": {"kind": kind, "name": name, "namespace": if kind == "Node" { "" } else { ns }},
            "reason": reason, "message": format!("{reason} on {name}"), "type": type_,
            "count": count,
            "firstTimestamp": "2025-06-01T10:00:00Z", "lastTimestamp": last,
            "source": {"component": "kubelet", "host": "node-a"},
        });
        let stored = self.api.apply(obj).expect("apply");
        let uid = stored
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .expect("a uid")
            .to_string();
        if let Some(old) = self.uids.insert(name.to_string(), uid.clone()) {
            assert_eq!(old, uid, "an update keeps the uid");
        }
        self.counts.insert(uid, count);
    }

    /// A series-style Event (as written through events.k8s.io/v1): no count, a series.
    fn set_series(&mut self, name: &str, count: u64) {
        self.second += 1;
        let last = format!(
            "2025-06-01T10:{:02}:{:02}.000000Z",
            self.second / 60,
            self.second % 60
        );
        let obj = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{name}.series"), "namespace": "batch"},
            "involvedObject": {"kind": "Job", "name": name, "namespace": "batch"},
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
            "type": "Warning",
            "eventTime": "2025-06-01T10:00:00.000000Z",
            "series": {"count": count, "lastObservedTime": last},
            "reportingComponent": "job-controller", "reportingInstance": "kcm-1",
        });
        let stored = self.api.apply(obj).expect("apply");
        let uid = stored
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .expect("a uid")
            .to_string();
        self.uids.insert(name.to_string(), uid.clone());
        self.counts.insert(uid, count);
    }
}

/// Waits until the ingest's last count of every uid is the cluster's.
async fn delivered(ingest: &Ingest, want: &HashMap<String, u64>, what: &str) {
    for _ in 0..1200 {
        let last = ingest.last();
        if want.iter().all(|(uid, c)| last.get(uid) == Some(c)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let last = ingest.last();
    let missing: Vec<_> = want
        .iter()
        .filter(|(uid, c)| last.get(*uid) != Some(c))
        .map(|(uid, c)| (uid, c, last.get(uid)))
        .collect();
    panic!("{what}: not delivered within 30s (uid, want, got): {missing:?}");
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not within 30s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_occurrence_is_recorded_once_across_relists_restarts_and_outages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = dir.path().join("data");
    let kubeconfig = dir.path().join("kubeconfig");
    let api = FakeApiServer::start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("fake api server");
    api.kubeconfig(&kubeconfig).expect("kubeconfig");
    let (url, ingest) = start_ingest().await;
    let mut c = Cluster {
        api,
        uids: HashMap::new(),
        counts: HashMap::new(),
        second: 0,
    };
    let mut occurrences = 0;

    // Events from before the watcher's first start are recorded with their counts.
    c.set("web-1", "BackOff", 1);
    c.set("web-2", "Unhealthy", 4);
    c.set("node-a", "OOMKilling", 1);
    c.set("web-3", "Pulled", 1);
    c.set_series("nightly", 2);
    let w = start_watcher(&data, &kubeconfig, &url).await;
    delivered(&ingest, &c.counts, "the first list").await;
    assert!(w.get("/readyz").await.starts_with("HTTP/1.0 200"));

    // Counts rise: MODIFIED frames.
    c.set("web-1", "BackOff", 3);
    c.set("web-2", "Unhealthy", 5);
    c.set_series("nightly", 3);
    delivered(&ingest, &c.counts, "count updates").await;

    // A cut watch resumes from its resourceVersion.
    assert!(c.api.wait_for_watches(1, Duration::from_secs(10)).await);
    c.api.drop_watches();
    c.set("node-a", "OOMKilling", 2);
    c.set("web-4", "FailedMount", 1);
    delivered(&ingest, &c.counts, "after a cut watch").await;
    assert_eq!(w.metrics.lists("events"), 1, "a resume is not a relist");

    // Changes the watcher cannot see before the history is gone: 410 → relist.
    c.api.fail_next_of(Verb::Watch, 2);
    c.api.drop_watches();
    c.set("web-1", "BackOff", 4);
    c.set("web-5", "FailedScheduling", 2);
    c.api.expire_history();
    delivered(&ingest, &c.counts, "after a relist").await;
    wait_for("a relist", || w.metrics.lists("events") >= 2).await;
    let health = w.get("/metrics").await;
    assert!(
        health.contains("argus_watcher_errors_total{resource=\"events\",error=\"watch_error\"}"),
        "the 410 ERROR frame is counted: {health}"
    );
    let (n, m) = w.stop().await;
    occurrences += n;
    assert!(
        m.events_repeated.load(Relaxed) >= 5,
        "the relist repeated known states"
    );

    // Down: counts rise, an Event is created, one is deleted (its record stays).
    c.set("web-2", "Unhealthy", 8);
    c.set("web-6", "BackOff", 3);
    c.api
        .delete("events", Some("shop"), "web-3.17a3c80ba0453aee")
        .expect("delete");
    let w = start_watcher(&data, &kubeconfig, &url).await;
    delivered(&ingest, &c.counts, "after a restart").await;

    // The aggregator is down for a while; the watcher retries.
    ingest.down.store(true, Relaxed);
    c.set("web-4", "FailedMount", 2);
    c.set("web-7", "Evicted", 1);
    wait_for("a failed send", || {
        w.metrics.send_failures.load(Relaxed) >= 2
    })
    .await;
    ingest.down.store(false, Relaxed);
    delivered(&ingest, &c.counts, "after an outage").await;

    // Down across a restart: what was not acknowledged is not recorded, and the next
    // process sends it.
    ingest.down.store(true, Relaxed);
    c.set("web-6", "BackOff", 5);
    c.set("web-8", "Killing", 1);
    wait_for("a failed send", || {
        w.metrics.send_failures.load(Relaxed) >= 4
    })
    .await;
    let (n, _) = w.stop().await;
    occurrences += n;
    ingest.down.store(false, Relaxed);
    c.set_series("nightly", 6);
    let w = start_watcher(&data, &kubeconfig, &url).await;
    delivered(&ingest, &c.counts, "after a restart across an outage").await;
    let cluster = w.get("/metrics/cluster").await;
    assert!(
        cluster.contains(
            "argus_kube_events_total{namespace=\"shop\",kind=\"Pod\",reason=\"BackOff\",type=\"Warning\"} 2\n"
        ),
        "{cluster}"
    );
    let health = w.get("/metrics").await;
    assert!(
        health.contains("argus_watcher_list_total{resource=\"events\"} 1\n"),
        "{health}"
    );
    let (n, _) = w.stop().await;
    occurrences += n;

    // Every uid has its final count, and nothing was acknowledged twice.
    let acked = ingest.acked.lock().expect("lock").clone();
    let last = ingest.last();
    assert_eq!(last, c.counts);
    let mut times: HashMap<(String, u64, String), u32> = HashMap::new();
    for e in &acked {
        *times
            .entry((e.uid.clone(), e.count, e.resource_version.clone()))
            .or_default() += 1;
    }
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "acknowledged more than once: {twice:?}");
    // The counters of the three processes add up to every occurrence, once.
    assert_eq!(occurrences, c.counts.values().sum::<u64>());
    // The converted shape: a Node's Event in its own namespace, a series Event's source.
    let oom = acked
        .iter()
        .find(|e| e.reason == "OOMKilling")
        .expect("OOM");
    assert_eq!(
        (oom.kind.as_str(), oom.namespace.as_str()),
        ("Node", "default")
    );
    let series = acked
        .iter()
        .rev()
        .find(|e| e.kind == "Job")
        .expect("series");
    assert_eq!(
        (series.count, series.source.as_str()),
        (6, "job-controller, kcm-1")
    );
}

//! The pipeline without an API server: states are fed to `observe` as the watch loop
//! would, and delivered to a fake ingest endpoint that can fail, refuse or recover.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argus_core::event::KubeEvent;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use tokio::sync::watch;

use super::*;

#[derive(Default)]
struct IngestState {
    /// Answer 500 to this many requests.
    fail: u32,
    /// Keep requests waiting while set.
    hold: bool,
    /// Answer 422 to batches holding this uid.
    refuse_uid: Option<String>,
    /// Acknowledged batches.
    acked: Vec<Vec<KubeEvent>>,
    requests: u32,
}

#[derive(serde::Deserialize)]
struct Body {
    events: Vec<KubeEvent>,
}

async fn ingest_handler(
    AxState(st): AxState<Arc<Mutex<IngestState>>>,
    Json(body): Json<Body>,
) -> StatusCode {
    while st.lock().expect("lock").hold {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut st = st.lock().expect("lock");
    st.requests += 1;
    if st.fail > 0 {
        st.fail -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if let Some(bad) = &st.refuse_uid {
        if body.events.iter().any(|e| &e.uid == bad) {
            return StatusCode::UNPROCESSABLE_ENTITY;
        }
    }
    st.acked.push(body.events);
    StatusCode::OK
}

async fn fake_ingest() -> (String, Arc<Mutex<IngestState>>) {
    let st = Arc::new(Mutex::new(IngestState::default()));
    let app = Router::new()
        .route("/api/v1/events", post(ingest_handler))
        .with_state(st.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, st)
}

fn ev(uid: &str, count: u64, rv: u64) -> KubeEvent {
    KubeEvent {
        uid: uid.into(),
        count,
        resource_version: rv.to_string(),
        timestamp: argus_core::time::now_ns() + rv as i64,
        namespace: "shop".into(),
        kind: "Pod".into(),
        name: format!("pod-{uid}"),
        reason: "BackOff".into(),
        type_: "Warning".into(),
        ..KubeEvent::default()
    }
}

struct Running {
    shared: Arc<Shared>,
    stop_tx: watch::Sender<bool>,
    stop: watch::Receiver<bool>,
    sender: tokio::task::JoinHandle<Result<()>>,
}

fn start(dir: &std::path::Path, url: &str, cfg: EventsConfig) -> Running {
    let metrics = Arc::new(WatcherMetrics::default());
    let events = Events::open(cfg, dir.join("events-seen.json"), metrics).expect("open the record");
    let (stop_tx, stop) = watch::channel(false);
    let sender = tokio::spawn(deliver::deliver(
        events.shared.clone(),
        events.seen,
        Ingest::new(url, ""),
        stop.clone(),
    ));
    Running {
        shared: events.shared,
        stop_tx,
        stop,
        sender,
    }
}

impl Running {
    async fn observe(&mut self, e: KubeEvent) {
        assert!(self.shared.observe(e, &mut self.stop).await);
    }

    async fn stop(self) -> Arc<WatcherMetrics> {
        let _ = self.stop_tx.send(true);
        self.sender
            .await
            .expect("sender task")
            .expect("sender result");
        self.shared.metrics.clone()
    }

    async fn drained(&self) {
        wait_for(|| {
            self.shared.lock().pending.is_empty()
                && self.shared.metrics.events_pending.load(Relaxed) == 0
        })
        .await;
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("condition not met within 10s");
}

/// Final delivered count per uid, and how often each (uid, count, rv) was acknowledged.
type Delivered = (HashMap<String, u64>, HashMap<(String, u64, String), u32>);

fn delivered(st: &IngestState) -> Delivered {
    let mut last = HashMap::new();
    let mut times = HashMap::new();
    for e in st.acked.iter().flatten() {
        let c = last.entry(e.uid.clone()).or_insert(0);
        assert!(
            e.count >= *c,
            "uid {} went back from {c} to {}",
            e.uid,
            e.count
        );
        *c = e.count;
        *times
            .entry((e.uid.clone(), e.count, e.resource_version.clone()))
            .or_insert(0) += 1;
    }
    (last, times)
}

#[tokio::test]
async fn counts_rise_survive_failures_and_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, ingest) = fake_ingest().await;
    ingest.lock().expect("lock").fail = 3;
    let mut w = start(dir.path(), &url, EventsConfig::default());
    w.observe(ev("a", 1, 10)).await;
    w.observe(ev("b", 4, 11)).await;
    w.observe(ev("a", 2, 12)).await;
    w.observe(ev("a", 3, 13)).await;
    w.drained().await;
    wait_for(|| w.shared.metrics.events_sent.load(Relaxed) >= 2).await;
    // A relist: the same states again, nothing new.
    w.observe(ev("a", 3, 13)).await;
    w.observe(ev("b", 4, 11)).await;
    let m = w.stop().await;
    assert_eq!(m.occurrences_total(), 7, "3 of a, 4 of b");
    assert!(m.send_failures.load(Relaxed) >= 3);
    assert_eq!(m.events_repeated.load(Relaxed), 2);

    // Restart: the record says a=3, b=4. b rose to 6 while down, c is new, a is unchanged.
    let mut w = start(dir.path(), &url, EventsConfig::default());
    w.observe(ev("a", 3, 13)).await;
    w.observe(ev("b", 6, 20)).await;
    w.observe(ev("c", 2, 21)).await;
    w.drained().await;
    let m = w.stop().await;
    assert_eq!(m.occurrences_total(), 2 + 2, "b's 2 new, c's 2");
    assert_eq!(m.events_repeated.load(Relaxed), 1);

    let st = ingest.lock().expect("lock");
    let (last, times) = delivered(&st);
    assert_eq!(last["a"], 3);
    assert_eq!(last["b"], 6);
    assert_eq!(last["c"], 2);
    for (k, n) in times {
        assert_eq!(n, 1, "{k:?} acknowledged {n} times");
    }
}

#[tokio::test]
async fn same_count_updates_are_sent_without_occurrences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, ingest) = fake_ingest().await;
    let mut w = start(dir.path(), &url, EventsConfig::default());
    let first = ev("s", 5, 1);
    w.observe(first.clone()).await;
    w.drained().await;
    wait_for(|| w.shared.metrics.events_sent.load(Relaxed) == 1).await;
    let mut moved = first.clone();
    moved.resource_version = "2".into();
    moved.timestamp += 1_000_000_000;
    w.observe(moved).await;
    let mut relabelled = first.clone();
    relabelled.resource_version = "3".into();
    relabelled.timestamp += 1_000_000_000;
    w.observe(relabelled).await; // same time as rv 2: nothing new
    w.drained().await;
    let m = w.stop().await;
    assert_eq!(m.events_sent.load(Relaxed), 2);
    assert_eq!(m.occurrences_total(), 5);
    let st = ingest.lock().expect("lock");
    let rvs: Vec<&str> = st
        .acked
        .iter()
        .flatten()
        .map(|e| e.resource_version.as_str())
        .collect();
    assert_eq!(rvs, ["1", "2"]);
}

#[tokio::test]
async fn a_full_queue_holds_the_watch_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, ingest) = fake_ingest().await;
    ingest.lock().expect("lock").hold = true;
    let cfg = EventsConfig {
        max_pending: 2,
        batch_max: 1,
        ..EventsConfig::default()
    };
    let mut w = start(dir.path(), &url, cfg);
    w.observe(ev("p", 1, 1)).await;
    wait_for(|| ingest.lock().expect("lock").requests == 0 && w.shared.lock().pending.is_empty())
        .await; // p is in flight, held
    for uid in ["q", "r"] {
        w.observe(ev(uid, 1, 1)).await;
    }
    // A fourth uid waits for room; a newer state of a queued uid does not.
    let shared = w.shared.clone();
    let mut stop = w.stop.clone();
    let fourth = tokio::spawn(async move { shared.observe(ev("s", 1, 1), &mut stop).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fourth.is_finished(), "the queue is bounded");
    w.observe(ev("q", 2, 2)).await;
    ingest.lock().expect("lock").hold = false;
    assert!(fourth.await.expect("task"));
    w.drained().await;
    wait_for(|| w.shared.metrics.events_sent.load(Relaxed) == 4).await;
    let m = w.stop().await;
    assert_eq!(m.occurrences_total(), 5);
}

#[tokio::test]
async fn a_refused_state_is_isolated_and_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, ingest) = fake_ingest().await;
    {
        let mut st = ingest.lock().expect("lock");
        st.refuse_uid = Some("bad".into());
        st.fail = 1; // so that all five are queued before the first batch goes out
    }
    let mut w = start(dir.path(), &url, EventsConfig::default());
    for uid in ["a", "b", "bad", "c", "d"] {
        w.observe(ev(uid, 1, 1)).await;
    }
    w.drained().await;
    wait_for(|| w.shared.metrics.events_rejected.load(Relaxed) == 1).await;
    wait_for(|| w.shared.metrics.events_sent.load(Relaxed) == 4).await;
    let m = w.stop().await;
    assert_eq!(m.occurrences_total(), 4);
    let st = ingest.lock().expect("lock");
    let (last, _) = delivered(&st);
    assert!(!last.contains_key("bad") && last.len() == 4);
}

#[tokio::test]
async fn shutdown_gives_up_after_the_flush_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, ingest) = fake_ingest().await;
    ingest.lock().expect("lock").fail = u32::MAX;
    let cfg = EventsConfig {
        flush_timeout: Duration::from_millis(300),
        ..EventsConfig::default()
    };
    let mut w = start(dir.path(), &url, cfg.clone());
    w.observe(ev("x", 2, 1)).await;
    let t = std::time::Instant::now();
    let m = w.stop().await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(
        m.occurrences_total(),
        0,
        "nothing acknowledged, nothing counted"
    );
    // The next start still has it to send: nothing was recorded.
    ingest.lock().expect("lock").fail = 0;
    let mut w = start(dir.path(), &url, cfg);
    w.observe(ev("x", 2, 1)).await;
    w.drained().await;
    wait_for(|| w.shared.metrics.events_sent.load(Relaxed) == 1).await;
    assert_eq!(w.stop().await.occurrences_total(), 2);
}

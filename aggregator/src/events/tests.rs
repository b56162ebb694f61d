//! Event store tests: upserts are exact whatever the batch order, resends and crashes, and
//! a search returns what a brute-force scan of the final states does.

use super::*;
use crate::store::Direction;
use std::collections::BTreeMap;
use std::path::Path;

const MIN: i64 = 60_000_000_000;

fn store(dir: &Path, commit_interval: Duration) -> EventStore {
    EventStore::open(EventStoreConfig {
        dir: dir.to_path_buf(),
        retention: Duration::from_secs(7 * 86_400),
        commit_interval,
    })
    .expect("open event store")
}

fn ev(uid: &str, count: u64, ts: i64) -> KubeEvent {
    KubeEvent {
        timestamp: ts,
        first_timestamp: ts - count as i64 * MIN,
        last_timestamp: ts,
        count,
        namespace: "my-app".into(),
        kind: "Pod".into(),
        name: format!("pod-{uid}"),
        reason: "BackOff".into(),
        type_: "Warning".into(),
        message: format!("Back-off restarting failed container {uid}"),
        source: "kubelet, node-a".into(),
        uid: uid.into(),
        resource_version: (1000 + count).to_string(),
    }
}

fn req(q: &str, start_ns: i64, end_ns: i64, limit: usize) -> SearchRequest {
    SearchRequest {
        query: argus_core::query::parse(q).expect("query"),
        start_ns,
        end_ns,
        limit,
        direction: Direction::Backward,
        cursor: None,
        step_ns: MIN,
    }
}

fn all(s: &EventStore) -> Vec<KubeEvent> {
    let now = argus_core::time::now_ns();
    let r = s
        .search(&req(
            "",
            now - 30 * 86_400 * 1_000_000_000,
            now + 86_400 * 1_000_000_000,
            5000,
        ))
        .expect("search");
    assert_eq!(r.total as usize, r.hits.len());
    r.hits.into_iter().map(|h| h.event).collect()
}

/// uid → count of what a search finds; panics on a uid found twice.
fn counts(s: &EventStore) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in all(s) {
        assert!(
            out.insert(e.uid.clone(), e.count).is_none(),
            "{} twice",
            e.uid
        );
    }
    out
}

#[test]
fn many_updates_of_one_uid_leave_exactly_one_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path(), Duration::from_millis(20));
    let t0 = argus_core::time::now_ns() - 60 * MIN;
    for c in 1..=60u64 {
        // Some updates in the same batch, some across commits.
        let batch = vec![ev("a", c, t0 + c as i64 * MIN), ev("b", 1, t0)];
        let got = s.append(batch).expect("append");
        assert_eq!(got.accepted, 1 + usize::from(c == 1), "count {c}");
        if c % 7 == 0 {
            s.flush().expect("flush");
        }
    }
    s.flush().expect("flush");
    assert_eq!(
        counts(&s),
        BTreeMap::from([("a".into(), 60), ("b".into(), 1)])
    );
    assert_eq!(s.sizes().0, 2);
    let hit = all(&s).into_iter().find(|e| e.uid == "a").expect("a");
    assert_eq!(hit, ev("a", 60, t0 + 60 * MIN));
    assert_eq!(s.stats.ingested.load(Relaxed), 61);
    assert_eq!(s.stats.updated.load(Relaxed), 59);
    assert_eq!(s.stats.ignored.load(Relaxed), 59);
}

#[test]
fn out_of_order_and_duplicate_batches_never_roll_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path(), Duration::from_millis(20));
    let t0 = argus_core::time::now_ns() - 100 * MIN;
    // Each uid's states 1..=5, sent in a scrambled order, every batch twice.
    let mut batches: Vec<Vec<KubeEvent>> = (1..=5u64)
        .map(|c| {
            (0..20)
                .map(|u| ev(&format!("u{u}"), c, t0 + c as i64 * MIN))
                .collect()
        })
        .collect();
    batches.swap(0, 4);
    batches.swap(1, 3);
    let mut sent = 0;
    for b in batches.iter().chain(batches.iter().rev()) {
        let got = s.append(b.clone()).expect("append");
        assert_eq!(got.accepted + got.ignored, b.len());
        sent += got.accepted;
        if sent % 3 == 0 {
            s.flush().expect("flush");
        }
    }
    s.flush().expect("flush");
    let want: BTreeMap<String, u64> = (0..20).map(|u| (format!("u{u}"), 5)).collect();
    assert_eq!(counts(&s), want);
    // Same count, later timestamp: an update; same count and timestamp, higher
    // resourceVersion: an update; the old one again: ignored.
    let mut later = ev("u0", 5, t0 + 6 * MIN);
    assert_eq!(s.append(vec![later.clone()]).expect("append").updated, 1);
    later.resource_version = "99999".into();
    later.message = "edited".into();
    assert_eq!(s.append(vec![later.clone()]).expect("append").updated, 1);
    let back = s.append(vec![ev("u0", 5, t0 + 5 * MIN)]).expect("append");
    assert_eq!((back.accepted, back.ignored), (0, 1));
    s.flush().expect("flush");
    let u0 = all(&s).into_iter().find(|e| e.uid == "u0").expect("u0");
    assert_eq!(u0, later);
}

#[test]
fn a_crash_before_the_commit_replays_the_wal_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = argus_core::time::now_ns() - 100 * MIN;
    {
        let s = store(dir.path(), Duration::from_millis(20));
        s.append(vec![ev("a", 1, t0), ev("b", 1, t0)])
            .expect("append");
        s.flush().expect("flush");
        s.close();
    }
    {
        // A long commit interval: these stay in the WAL only, then the process "dies".
        let s = store(dir.path(), Duration::from_secs(600));
        s.append(vec![ev("a", 2, t0 + MIN), ev("c", 1, t0)])
            .expect("append");
        s.append(vec![ev("a", 3, t0 + 2 * MIN)]).expect("append");
        s.crash();
    }
    let s = store(dir.path(), Duration::from_millis(20));
    // The versions came back too: re-sent states are ignored, newer ones accepted.
    let again = s
        .append(vec![
            ev("a", 3, t0 + 2 * MIN),
            ev("b", 1, t0),
            ev("c", 2, t0 + MIN),
        ])
        .expect("append");
    assert_eq!((again.accepted, again.updated, again.ignored), (1, 1, 2));
    s.flush().expect("flush");
    assert_eq!(
        counts(&s),
        BTreeMap::from([("a".into(), 3), ("b".into(), 1), ("c".into(), 2)])
    );
    s.close();
    drop(s);
    // And once more after a clean close (versions from the index alone).
    let s = store(dir.path(), Duration::from_millis(20));
    let again = s.append(vec![ev("a", 2, t0 + MIN)]).expect("append");
    assert_eq!(again.ignored, 1);
    assert_eq!(counts(&s).len(), 3);
}

#[test]
fn retention_deletes_old_states_and_refuses_expired_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path(), Duration::from_millis(20));
    let now = argus_core::time::now_ns();
    let day = 24 * 60 * MIN;
    let got = s
        .append(vec![
            ev("old", 1, now - 3 * day),
            ev("new", 1, now - MIN),
            ev("expired", 1, now - 8 * day),
        ])
        .expect("append");
    assert_eq!((got.accepted, got.ignored), (2, 1));
    s.flush().expect("flush");
    assert_eq!(s.apply_retention().expect("retention"), 0);
    assert_eq!(s.apply_retention_at(now - 2 * day).expect("retention"), 1);
    assert_eq!(counts(&s), BTreeMap::from([("new".into(), 1)]));
    assert!(!lock(&s.ingest).versions.contains_key("old"));
    s.close();
    drop(s);
    let s = store(dir.path(), Duration::from_millis(20));
    assert_eq!(counts(&s), BTreeMap::from([("new".into(), 1)]));
}

#[test]
fn search_matches_a_brute_force_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path(), Duration::from_millis(20));
    let t0 = argus_core::time::now_ns() - 200 * MIN;
    let shapes = [
        ("my-app", "Pod", "BackOff", "Warning", "Back-off restarting failed container", "kubelet, node-a"),
        ("prod", "Pod", "Unhealthy", "Warning", "Readiness probe failed: Get http://10.41.180.10:8080/health: dial tcp 10.41.180.10:8080: connect: connection refused", "kubelet, cn-hangzhou.10.41.129.225"),
        ("default", "Pod", "FailedScheduling", "Warning", "0/1 nodes are available: 1 Insufficient cpu.", "default-scheduler, default-scheduler-minikube"),
        ("default", "Node", "NodeNotReady", "Normal", "Node node-b status is now: NodeNotReady", "node-controller"),
        ("kube-system", "Pod", "Killing", "Normal", "Stopping container kube-eventrouter", "kubelet, 192.168.81.105"),
        ("my-app", "Deployment", "ScalingReplicaSet", "Normal", "Scaled up replica set my-app-5fc464b465 to 3", "deployment-controller"),
    ];
    let mut finals = Vec::new();
    for i in 0..60usize {
        let (ns, kind, reason, type_, msg, source) = shapes[i % shapes.len()];
        let mut e = ev(&format!("uid-{i}"), 1, t0 + i as i64 * MIN);
        e.namespace = ns.into();
        e.kind = kind.into();
        e.reason = reason.into();
        e.type_ = type_.into();
        e.message = format!("{msg} #{i}");
        e.source = source.into();
        e.name = format!("obj-{}", i % 4);
        s.append(vec![e.clone()]).expect("append");
        // A third of them get updated: a later timestamp and count.
        if i % 3 == 0 {
            e.count = 4;
            e.timestamp += 90 * MIN;
            e.resource_version = "2000".into();
            s.append(vec![e.clone()]).expect("append");
        }
        finals.push(e);
    }
    s.flush().expect("flush");
    let queries = [
        "",
        "{}",
        r#"{namespace="my-app", reason="BackOff"}"#,
        r#"{type="Warning"} |= "probe""#,
        r#"{type="Warning"} |= "probe failed""#,
        r#"{kind!="Pod"}"#,
        r#"{reason=~"Fail.*|Back.*"}"#,
        r#"{reason!~"Fail.*"} != "container""#,
        r#"{source=~"kubelet.*"} |~ "10\\.41\\.\\d+""#,
        r#"{name="obj-1", type="Normal"}"#,
        r#"{type=""}"#,
        r#"{pod="x"}"#,
        r#"{pod=""} |= "NodeNotReady""#,
        "readiness refused",
        "\"connection refused\"",
        "container -killing",
        "nodes available insufficient",
        "#7",
    ];
    let ranges = [
        (t0 - MIN, t0 + 400 * MIN),
        (t0 + 10 * MIN, t0 + 40 * MIN),
        (t0 + 100 * MIN, t0 + 100 * MIN),
    ];
    for q in queries {
        let parsed = argus_core::query::parse(q).expect("query");
        for &(start, end) in &ranges {
            let mut want: Vec<&KubeEvent> = finals
                .iter()
                .filter(|e| e.timestamp >= start && e.timestamp <= end)
                .filter(|e| parsed.matches(|n| e.label(n), &e.message))
                .collect();
            want.sort_by_key(|e| std::cmp::Reverse(e.timestamp));
            let r = s.search(&req(q, start, end, 1000)).expect("search");
            assert_eq!(r.total as usize, want.len(), "{q} [{start}, {end}]");
            assert_eq!(r.histogram.iter().sum::<u64>(), r.total, "{q}");
            let got: Vec<&str> = r.hits.iter().map(|h| h.event.uid.as_str()).collect();
            let want: Vec<&str> = want.iter().map(|e| e.uid.as_str()).collect();
            assert_eq!(got, want, "{q} [{start}, {end}]");
        }
    }
    // Pages: limit, direction and cursor walk every hit once, in order.
    for direction in [Direction::Backward, Direction::Forward] {
        let mut seen = Vec::new();
        let mut r = req("{}", t0 - MIN, t0 + 400 * MIN, 7);
        r.direction = direction;
        loop {
            let page = s.search(&r).expect("search");
            assert!(page.hits.len() <= 7);
            seen.extend(page.hits.iter().map(|h| h.event.timestamp));
            match page.next_cursor {
                Some(c) => r.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), finals.len(), "{direction:?}");
        let mut sorted = seen.clone();
        sorted.sort();
        if direction == Direction::Backward {
            sorted.reverse();
        }
        assert_eq!(seen, sorted, "{direction:?}");
    }
    let r = s
        .search(&req("{}", t0 - MIN, t0 + 400 * MIN, 0))
        .expect("search");
    assert!(r.hits.is_empty());
    assert_eq!(r.total, 60);
}

//! Store-level tests: what a search returns must equal a brute-force scan of the records,
//! whichever index path (word or hex dictionary, exact or verified) the plan takes.

use super::*;
use argus_core::{Level, LogRecord, Stream};
use std::time::Duration;

fn store(dir: &Path) -> TantivyStore {
    TantivyStore::open(StoreConfig {
        dir: dir.to_path_buf(),
        partition: Duration::from_secs(3600),
        retention: Duration::from_secs(86_400 * 7),
        commit_interval: Duration::from_millis(50),
        writer_threads: 1,
        writer_memory_bytes: 20 << 20,
    })
    .expect("open store")
}

fn rec(i: usize, ns: &str, msg: &str) -> LogRecord {
    LogRecord {
        timestamp_ns: argus_core::time::now_ns() - 60_000_000_000 + i as i64,
        stream: if i.is_multiple_of(2) {
            Stream::Stdout
        } else {
            Stream::Stderr
        },
        level: [Level::Info, Level::Error, Level::Unknown, Level::Warn][i % 4],
        message: msg.to_string(),
        namespace: ns.into(),
        pod: format!("pod-{}", i % 3).into(),
        container: "c".into(),
        node: if i.is_multiple_of(3) {
            "".into()
        } else {
            format!("node-{}", i % 2).into()
        },
        ..LogRecord::default()
    }
}

const MESSAGES: [&str; 12] = [
    "deadline exceeded",
    "id=deadbeef user=42",
    "GET /x status=503 took 12ms",
    "GET /y status=200 took 5ms",
    "status=504 upstream timeout",
    "connection refused by 10.0.0.1",
    "Error: Connection REFUSED",
    "x4041 and 404 not found",
    "plain words only",
    "café crème brûlée",
    "ERROR job 99 failed",
    "error_code=E42 retry",
];

#[test]
fn search_matches_a_brute_force_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let recs: Vec<LogRecord> = MESSAGES
        .iter()
        .enumerate()
        .map(|(i, m)| rec(i, if i.is_multiple_of(2) { "a" } else { "b" }, m))
        .collect();
    s.append(recs.clone()).expect("append");
    s.flush().expect("flush");
    let queries = [
        r#"{namespace="a"}"#,
        r#"{} |= "dead""#,
        r#"{} |= "line""#,
        r#"{} |= "404""#,
        r#"{} |= "40""#,
        r#"{} |= "beef user""#,
        r#"{} |= "onnection ref""#,
        r#"{} != "dead""#,
        r#"{} |~ "status=5\\d\\d""#,
        r#"{} |~ "(?i)connection refused""#,
        r#"{} !~ "status=\\d+""#,
        r#"{} |~ "took \\d+ms""#,
        r#"{} |~ "id=dead[a-f]+ user""#,
        r#"{} |~ "^GET /(x|y)""#,
        r#"{} |~ "4\\d4""#,
        r#"{} |~ "cr[èe]me""#,
        r#"{} |= "5""#,
        r#"{} |= "12""#,
        r#"{} != "42""#,
        r#"{} |= "10.0.0.1""#,
        r#"{} |= "0.0""#,
        r#"{} |~ "5\\d""#,
        r#"{} |~ "status=50""#,
        r#"{} |~ "job \\d+ failed""#,
        "99",
        "job 99",
        "-42",
        r#"{namespace=~"a|b", pod!="pod-1"} |= "e""#,
        r#"{stream="stderr"} |= "error""#,
        r#"{level="error"}"#,
        r#"{namespace=~"a|"} |= "e""#,
        r#"{app="", pod=~"pod-[01]|"}"#,
        r#"{namespace!~"b|"}"#,
        r#"{level!~"info|warn", stream="stdout"}"#,
        r#"{node="node-1"}"#,
        r#"{node=""}"#,
        r#"{node!="", level=~"e.*|u.*"} |~ "\\d""#,
        r#"{node=~"node-.*", pod!="pod-2"}"#,
        "error",
        "connection refused",
        "\"connection refused\" -ERROR",
        "crème",
        "E42",
        "-deadbeef",
    ];
    for q in queries {
        let query = argus_core::query::parse(q).expect("valid query");
        let want: Vec<&str> = recs
            .iter()
            .filter(|r| query.matches_record(r))
            .map(|r| r.message.as_str())
            .collect();
        let res = s
            .search(&SearchRequest {
                query,
                start_ns: 0,
                end_ns: argus_core::time::now_ns(),
                limit: 100,
                direction: Direction::Forward,
                cursor: None,
                step_ns: 3_600_000_000_000,
            })
            .expect("search");
        let got: Vec<&str> = res.hits.iter().map(|h| h.record.message.as_str()).collect();
        assert_eq!(got, want, "query {q}");
        assert_eq!(res.total as usize, want.len(), "total of {q}");
    }
}

#[test]
fn retention_drops_whole_partitions_and_refuses_expired_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = TantivyStore::open(StoreConfig {
        dir: dir.path().to_path_buf(),
        partition: Duration::from_secs(1),
        retention: Duration::from_secs(3),
        commit_interval: Duration::from_millis(50),
        writer_threads: 1,
        writer_memory_bytes: 20 << 20,
    })
    .expect("open store");
    let now = argus_core::time::now_ns();
    let mut old = rec(0, "a", "soon expired");
    old.timestamp_ns = now - 2_000_000_000;
    let mut expired = rec(1, "a", "already expired");
    expired.timestamp_ns = now - 10_000_000_000;
    let got = s.append(vec![old, expired]).expect("append");
    assert_eq!((got.accepted, got.expired), (1, 1));
    s.flush().expect("flush");
    let all = |s: &TantivyStore| {
        s.search(&SearchRequest {
            query: argus_core::query::parse("").expect("query"),
            start_ns: 0,
            end_ns: argus_core::time::now_ns(),
            limit: 10,
            direction: Direction::Backward,
            cursor: None,
            step_ns: 3_600_000_000_000,
        })
        .expect("search")
    };
    assert_eq!(all(&s).total, 1);
    let (parts, _, _) = s.sizes();
    assert_eq!(parts, 1);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(s.apply_retention(), 1);
    assert_eq!(all(&s).total, 0);
    assert_eq!(s.sizes().0, 0);
    assert_eq!(
        std::fs::read_dir(dir.path().join("index"))
            .expect("index dir")
            .count(),
        0
    );
}

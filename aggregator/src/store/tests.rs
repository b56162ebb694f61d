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

/// Deterministic logfmt-ish messages with the traps of pair narrowing: keys ending in
/// `status`, other case, non-ASCII, hex values starting like `5\d\d`, `a=b=c`, empty sides,
/// over-long keys and values, and separators that do and do not end a token.
fn logfmt_messages(n: usize, seed: u64) -> Vec<String> {
    let long = "v".repeat(schema::MAX_TOKEN_BYTES + 3);
    let keys = [
        "status",
        "status",
        "http_status",
        "STATUS",
        "code",
        "a",
        "b",
        "é",
        "x_1",
        &long,
        "request_id",
    ];
    let values = [
        "503",
        "500",
        "200",
        "200",
        "404",
        "5٠٣",
        "5031",
        "50",
        "b",
        "c",
        "5a3f",
        "error",
        "ü",
        "",
        &long,
        "5031234567890",
        "50312345678",
        "5٠٣٣٣٣٣",
        "5a3f5a3f5a3f5a3f",
    ];
    let joins = ["=", "=", "=", "=", "==", " = ", ":", "=-"];
    let seps = [" ", " ", " ", "=", ".", "-", "\"", ""];
    let mut x = seed | 1;
    let mut next = |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    (0..n)
        .map(|_| {
            let mut m = String::new();
            for _ in 0..1 + next(5) {
                m.push_str(keys[next(keys.len())]);
                m.push_str(joins[next(joins.len())]);
                m.push_str(values[next(values.len())]);
                m.push_str(seps[next(seps.len())]);
            }
            m
        })
        .collect()
}

const PAIR_QUERIES: [&str; 37] = [
    // Single tokens, answered by the index alone: pair terms share the hex dictionary.
    r#"{} |= "503""#,
    r#"{} |= "5a3f""#,
    r#"{} != "503""#,
    r#"{} |= "tatus""#,
    r#"{} |~ "5\\d\\d""#,
    "503",
    "-status",
    r#"{} |= "=""#,
    r#"{} |~ "status=5\\d+ ""#,
    r#"{} |~ "status=\\d{12}""#,
    r#"{} |~ "request_id=5[0-9a-f]{15}""#,
    r#"{} |= "status=5031234567890""#,
    r#"{} |= " status=50312345678 ""#,
    r#"{} |~ "status=5\\d\\d""#,
    r#"{} |~ "(?i)status=5\\d\\d""#,
    r#"{} |~ " status=5\\d\\d""#,
    r#"{} |~ "status=5\\d\\d ""#,
    r#"{} |~ "^status=5""#,
    r#"{} |~ "a=b=c""#,
    r#"{} |~ "b=c""#,
    r#"{} |~ "status=\\d*""#,
    r#"{} |~ "status=\\d+ code""#,
    r#"{} |~ "é=ü""#,
    r#"{} |~ "(?i)É=Ü""#,
    r#"{} |~ "x_1=[a-z]+""#,
    r#"{} |~ "request_id=5[0-9a-f]+""#,
    r#"{} |~ "v=v""#,
    r#"{} |~ "tatus=50""#,
    r#"{} |= "status=503""#,
    r#"{} |= "status=50""#,
    r#"{} |= " status=5""#,
    r#"{} |= "a=b""#,
    r#"{} |= "=b""#,
    r#"{} |= "b=c=""#,
    r#"{} |= "v=5""#,
    r#"{} |= "status=200 ""#,
    r#"{namespace="a"} |~ "code=5\\d\\d" != "x_1""#,
];

fn search_range(s: &TantivyStore, q: &str, start_ns: i64, end_ns: i64) -> SearchResult {
    s.search(&SearchRequest {
        query: argus_core::query::parse(q).expect("valid query"),
        start_ns,
        end_ns,
        limit: 10_000,
        direction: Direction::Forward,
        cursor: None,
        step_ns: 3_600_000_000_000,
    })
    .expect("search")
}

fn assert_brute_force(s: &TantivyStore, recs: &[LogRecord], q: &str, start_ns: i64, end_ns: i64) {
    let query = argus_core::query::parse(q).expect("valid query");
    let want: Vec<&str> = recs
        .iter()
        .filter(|r| r.timestamp_ns >= start_ns && r.timestamp_ns <= end_ns)
        .filter(|r| query.matches_record(r))
        .map(|r| r.message.as_str())
        .collect();
    let res = search_range(s, q, start_ns, end_ns);
    let got: Vec<&str> = res.hits.iter().map(|h| h.record.message.as_str()).collect();
    assert_eq!(got, want, "query {q}");
    assert_eq!(res.total as usize, want.len(), "total of {q}");
}

/// Records of `messages`, one nanosecond apart from `start_ns`.
fn records_at(start_ns: i64, messages: &[String]) -> Vec<LogRecord> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut r = rec(i, if i % 3 == 0 { "b" } else { "a" }, m);
            r.timestamp_ns = start_ns + i as i64;
            r
        })
        .collect()
}

#[test]
fn pair_terms_narrow_regex_and_substring_filters_without_dropping_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(dir.path());
    let now = argus_core::time::now_ns();
    let recs = records_at(now - 30_000_000_000, &logfmt_messages(600, 7));
    s.append(recs.clone()).expect("append");
    s.flush().expect("flush");
    for q in PAIR_QUERIES {
        assert_brute_force(&s, &recs, q, 0, now);
    }
    // The pair clause answers `status=5\d\d` exactly: only the lines it cannot decide are
    // verified, those with a `…status=<value over 12 bytes>` pair or an over-long token.
    let undecided = |r: &&LogRecord| {
        let mut a = schema::hex_pair_analyzer();
        let mut s = a.token_stream(&r.message);
        let mut mark = false;
        while tantivy::tokenizer::TokenStream::advance(&mut s) {
            let t = &tantivy::tokenizer::TokenStream::token(&s).text;
            mark |= t.ends_with("status=\u{1}");
        }
        mark || argus_core::text::tokens(&r.message).any(|t| t.1.len() > schema::MAX_TOKEN_BYTES)
    };
    let res = search_range(&s, r#"{} |~ "status=5\\d\\d""#, 0, now);
    let undecided = recs.iter().filter(undecided).count() as u64;
    assert!(res.total > 20, "the data has matches: {}", res.total);
    assert!(
        res.verified <= undecided,
        "verified {} for {} matches ({} lines the index cannot decide)",
        res.verified,
        res.total,
        undecided
    );
}

/// Writes `recs` (all in one hour) as a partition of the schema before pair terms (v1),
/// the way an older argus left it on disk.
fn write_v1_partition(data_dir: &Path, recs: &[LogRecord]) {
    let span = 3_600_000_000_000i64;
    let start = recs[0].timestamp_ns.div_euclid(span) * span;
    let pdir = data_dir
        .join("index")
        .join(partition::Partition::dir_name(start));
    std::fs::create_dir_all(&pdir).expect("partition dir");
    let (schema, fields) = schema::build_v1();
    assert!(fields.pairs.is_none());
    let index = tantivy::Index::create_in_dir(&pdir, schema).expect("create v1 index");
    schema::register_tokenizers(&index);
    let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 20 << 20).expect("writer");
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.timestamp_ns.div_euclid(span) * span, start);
        w.add_document(partition::document(&fields, r, i as u64))
            .expect("add");
    }
    w.commit().expect("commit");
}

#[test]
fn partitions_without_pair_terms_still_search_correctly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = argus_core::time::now_ns();
    let span = 3_600_000_000_000i64;
    // Two hours back, at the start of an hour: one whole v1 partition.
    let old_start = (now - 2 * span).div_euclid(span) * span;
    let messages = logfmt_messages(400, 11);
    let (first, later) = messages.split_at(300);
    let old = records_at(old_start, first);
    write_v1_partition(dir.path(), &old);

    let s = store(dir.path());
    // More records into the v1 partition (written without pair terms, as its schema says)
    // and the same lines into a new partition (with them).
    let old_more = records_at(old_start + 1_000_000, later);
    let new = records_at(now - 30_000_000_000, &messages);
    s.append(old_more.clone()).expect("append old");
    s.append(new.clone()).expect("append new");
    s.flush().expect("flush");
    assert_eq!(s.stats.index_errors.load(Relaxed), 0);
    assert_eq!(s.sizes().1, (old.len() + old_more.len() + new.len()) as u64);

    let all: Vec<LogRecord> = [old.clone(), old_more.clone(), new.clone()].concat();
    for q in PAIR_QUERIES {
        assert_brute_force(&s, &all, q, 0, now);
        assert_brute_force(&s, &all, q, old_start, old_start + span - 1);
    }
    // The same lines: the v1 partition verifies every `…status` + `5\d\d…` line, the new one
    // only the `…status=5\d\d…` ones.
    let q = r#"{} |~ "status=5\\d\\d""#;
    let v1 = search_range(&s, q, old_start, old_start + span - 1);
    let v2 = search_range(&s, q, now - 60_000_000_000, now);
    assert_eq!(v1.total, v2.total);
    assert!(
        v2.verified < v1.verified,
        "pair terms verify fewer: {} vs {} (v1)",
        v2.verified,
        v1.verified
    );
    assert!(v1.verified > v1.total);
}

#[test]
fn a_write_ahead_log_of_the_older_record_format_replays_and_later_appends_survive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = argus_core::time::now_ns();
    let old = records_at(now - 50_000_000_000, &logfmt_messages(50, 3));
    {
        // What an older build left behind: acknowledged, never indexed (kill -9).
        let mut w =
            Wal::open(&dir.path().join("wal"), 0, 1, |_, _, _| panic!("empty")).expect("v1 wal");
        let mut payload = Vec::new();
        for r in &old {
            codec::encode_v1(r, &mut payload);
        }
        w.append(&payload).expect("append v1");
    }
    let new = records_at(now - 40_000_000_000, &logfmt_messages(30, 4));
    {
        let s = store(dir.path());
        s.append(new.clone()).expect("append");
        s.flush().expect("flush");
        assert_eq!(s.sizes().1, (old.len() + new.len()) as u64);
    }
    // Without the index, the next open has only the (now mixed v1/v2) log to rebuild from.
    std::fs::remove_dir_all(dir.path().join("index")).expect("drop the index");
    std::fs::remove_file(dir.path().join("indexed_seq")).expect("forget the indexed seq");
    let s = store(dir.path());
    s.flush().expect("flush");
    let all: Vec<LogRecord> = [old, new].concat();
    assert_brute_force(&s, &all, "{}", 0, now);
    assert_brute_force(&s, &all, r#"{namespace="a"} |= "status=5""#, 0, now);
}

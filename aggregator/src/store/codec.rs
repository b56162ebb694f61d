//! Binary encoding of log records in the write-ahead log. The format is the WAL segment's
//! version ([`VERSION`] is what this build writes; [`decode_all`] reads every version);
//! decoding checks every length so a torn or corrupt entry is an error, not a panic.
//!
//! Version 2 writes the metadata of a record (namespace, pod, uid, container, node, file,
//! labels, file fingerprint) only where it differs from the record before it in the same
//! payload: a batch holds runs of lines of one file, and the metadata was most of each
//! version 1 entry (a 178-byte CRI line took ~400 bytes of log). Timestamps and file
//! offsets are varint deltas from the record before.
//!
//! A version 2 record: `flags: u8` (bit 0 stderr, bit 1 metadata follows), `level: u8`,
//! timestamp delta (zigzag varint), restart count (varint), the metadata if flagged
//! (six strings, label count and `name, value` strings, then `0` or `1` + fingerprint as
//! u64 LE), the offset delta (zigzag varint) if the metadata has a fingerprint, the
//! message. A string is a varint length and UTF-8 bytes. The first record of a payload
//! always carries its metadata.

use argus_core::{varint, Level, LogRecord, SourcePos, Stream};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The payload format this build writes (the WAL segment version).
pub const VERSION: u32 = 2;

/// A decoding failure: the entry is torn or corrupt.
#[derive(Debug, thiserror::Error)]
#[error("corrupt record encoding at byte {at}: {what}")]
pub struct DecodeError {
    pub at: usize,
    pub what: &'static str,
}

fn level_code(l: Level) -> u8 {
    match l {
        Level::Unknown => 0,
        Level::Trace => 1,
        Level::Debug => 2,
        Level::Info => 3,
        Level::Warn => 4,
        Level::Error => 5,
        Level::Fatal => 6,
    }
}

fn level_of(c: u8) -> Level {
    match c {
        1 => Level::Trace,
        2 => Level::Debug,
        3 => Level::Info,
        4 => Level::Warn,
        5 => Level::Error,
        6 => Level::Fatal,
        _ => Level::Unknown,
    }
}

const FLAG_STDERR: u8 = 1;
const FLAG_META: u8 = 2;

/// A length or count: a varint (version 2), or u32 LE (version 1, `wide`).
fn put_len(out: &mut Vec<u8>, n: usize, wide: bool) {
    if wide {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    } else {
        varint::put(out, n as u64);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str, wide: bool) {
    put_len(out, s.len(), wide);
    out.extend_from_slice(s.as_bytes());
}

/// The Kubernetes metadata and labels of a record, in the order both versions write them
/// (what [`Reader::metadata`] reads).
fn put_metadata(out: &mut Vec<u8>, r: &LogRecord, wide: bool) {
    for s in [
        &r.namespace,
        &r.pod,
        &r.pod_uid,
        &r.container,
        &r.node,
        &r.file_path,
    ] {
        put_str(out, s, wide);
    }
    put_len(out, r.labels.len(), wide);
    for (k, v) in r.labels.iter() {
        put_str(out, k, wide);
        put_str(out, v, wide);
    }
}

fn same_arc(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Whether two records share the metadata version 2 writes once per run.
fn same_meta(a: &LogRecord, b: &LogRecord) -> bool {
    a.source.map(|s| s.fingerprint) == b.source.map(|s| s.fingerprint)
        && same_arc(&a.file_path, &b.file_path)
        && same_arc(&a.pod_uid, &b.pod_uid)
        && same_arc(&a.container, &b.container)
        && same_arc(&a.pod, &b.pod)
        && same_arc(&a.namespace, &b.namespace)
        && same_arc(&a.node, &b.node)
        && (Arc::ptr_eq(&a.labels, &b.labels) || a.labels == b.labels)
}

/// Encodes a payload of records in [`VERSION`].
pub fn encode_all(records: &[LogRecord], out: &mut Vec<u8>) {
    let mut prev: Option<&LogRecord> = None;
    for r in records {
        let meta = prev.is_none_or(|p| !same_meta(p, r));
        let mut flags = 0;
        if r.stream == Stream::Stderr {
            flags |= FLAG_STDERR;
        }
        if meta {
            flags |= FLAG_META;
        }
        out.push(flags);
        out.push(level_code(r.level));
        let prev_ts = prev.map_or(0, |p| p.timestamp_ns);
        varint::put_signed(out, r.timestamp_ns.wrapping_sub(prev_ts));
        varint::put(out, u64::from(r.restart_count));
        if meta {
            put_metadata(out, r, false);
            match r.source {
                Some(s) => {
                    out.push(1);
                    out.extend_from_slice(&s.fingerprint.to_le_bytes());
                }
                None => out.push(0),
            }
        }
        if let Some(s) = r.source {
            // Same metadata means same file: the previous record has a position.
            let prev_off = prev
                .filter(|_| !meta)
                .and_then(|p| p.source)
                .map_or(0, |p| p.offset);
            varint::put_signed(out, s.offset.wrapping_sub(prev_off) as i64);
        }
        put_str(out, &r.message, false);
        prev = Some(r);
    }
}

/// Decodes all records of a payload written in format `version`.
pub fn decode_all(version: u32, b: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    match version {
        1 => decode_v1(b),
        2 => decode_v2(b),
        _ => Err(DecodeError {
            at: 0,
            what: "unknown record format version",
        }),
    }
}

/// Version 1 (argus 0.1 before the metadata runs): every record in full. Kept so a WAL
/// written by an older build replays.
#[cfg(test)]
pub fn encode_v1(r: &LogRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(&r.timestamp_ns.to_le_bytes());
    out.push(match r.stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    });
    out.push(level_code(r.level));
    out.extend_from_slice(&r.restart_count.to_le_bytes());
    match r.source {
        Some(s) => {
            out.push(1);
            out.extend_from_slice(&s.fingerprint.to_le_bytes());
            out.extend_from_slice(&s.offset.to_le_bytes());
        }
        None => out.push(0),
    }
    put_str(out, &r.message, true);
    put_metadata(out, r, true);
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    /// Version 1's fixed-width lengths.
    v1: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let Some(end) = end else {
            return Err(DecodeError { at: self.at, what });
        };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(a))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(a))
    }
    fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        varint::read(self.b, &mut self.at).ok_or(DecodeError { at: self.at, what })
    }
    /// A length or count: u32 LE in version 1, a varint since.
    fn len(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let n = if self.v1 {
            u64::from(self.u32(what)?)
        } else {
            self.varint(what)?
        };
        usize::try_from(n).map_err(|_| DecodeError { at: self.at, what })
    }
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let n = self.len(what)?;
        let at = self.at;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec()).map_err(|_| DecodeError { at, what })
    }
    /// The Kubernetes metadata and labels of a record, in the order both versions write
    /// them; the rest of the record is left at its default.
    fn metadata(&mut self) -> Result<LogRecord, DecodeError> {
        let namespace = self.string("namespace")?;
        let pod = self.string("pod")?;
        let pod_uid = self.string("pod uid")?;
        let container = self.string("container")?;
        let node = self.string("node")?;
        let file_path = self.string("file path")?;
        let n = self.len("label count")?;
        let mut labels = BTreeMap::new();
        for _ in 0..n {
            let k = self.string("label name")?;
            let v = self.string("label value")?;
            labels.insert(k, v);
        }
        Ok(LogRecord {
            namespace: namespace.into(),
            pod: pod.into(),
            pod_uid: pod_uid.into(),
            container: container.into(),
            node: node.into(),
            file_path: file_path.into(),
            labels: labels.into(),
            ..LogRecord::default()
        })
    }
}

fn decode_v2(b: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let mut r = Reader {
        b,
        at: 0,
        v1: false,
    };
    let mut out: Vec<LogRecord> = Vec::new();
    while r.at < b.len() {
        let flags_at = r.at;
        let flags = r.u8("flags")?;
        let level = level_of(r.u8("level")?);
        let prev_ts = out.last().map_or(0, |p| p.timestamp_ns);
        let timestamp_ns = prev_ts.wrapping_add(varint::unzigzag(r.varint("timestamp")?));
        let restart_count = u32::try_from(r.varint("restart count")?).map_err(|_| DecodeError {
            at: r.at,
            what: "restart count",
        })?;
        let mut rec = if flags & FLAG_META != 0 {
            let mut rec = r.metadata()?;
            rec.source = match r.u8("source flag")? {
                0 => None,
                _ => Some(SourcePos {
                    fingerprint: r.u64("fingerprint")?,
                    offset: 0,
                }),
            };
            rec
        } else {
            let Some(p) = out.last() else {
                return Err(DecodeError {
                    at: flags_at,
                    what: "first record without metadata",
                });
            };
            LogRecord {
                namespace: p.namespace.clone(),
                pod: p.pod.clone(),
                pod_uid: p.pod_uid.clone(),
                container: p.container.clone(),
                node: p.node.clone(),
                file_path: p.file_path.clone(),
                labels: p.labels.clone(),
                source: p.source,
                ..LogRecord::default()
            }
        };
        if let Some(s) = &mut rec.source {
            let prev_off = if flags & FLAG_META != 0 { 0 } else { s.offset };
            let delta = varint::unzigzag(r.varint("offset")?);
            s.offset = prev_off.wrapping_add(delta as u64);
        }
        rec.message = r.string("message")?;
        rec.timestamp_ns = timestamp_ns;
        rec.level = level;
        rec.restart_count = restart_count;
        rec.stream = if flags & FLAG_STDERR != 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        out.push(rec);
    }
    Ok(out)
}

fn decode_v1(b: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let mut r = Reader { b, at: 0, v1: true };
    let mut out = Vec::new();
    while r.at < b.len() {
        let timestamp_ns = r.u64("timestamp")? as i64;
        let stream = if r.u8("stream")? == 1 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        let level = level_of(r.u8("level")?);
        let restart_count = r.u32("restart count")?;
        let source = match r.u8("source flag")? {
            0 => None,
            _ => Some(SourcePos {
                fingerprint: r.u64("fingerprint")?,
                offset: r.u64("offset")?,
            }),
        };
        let message = r.string("message")?;
        out.push(LogRecord {
            timestamp_ns,
            stream,
            level,
            message,
            restart_count,
            source,
            ..r.metadata()?
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn meta(i: usize) -> LogRecord {
        let mut labels = BTreeMap::new();
        if i.is_multiple_of(2) {
            labels.insert("app".to_string(), format!("app-{i}"));
        }
        LogRecord {
            namespace: format!("ns-{}", i % 2).into(),
            pod: format!("pod-{i}").into(),
            pod_uid: format!("uid-{i}").into(),
            container: "c".into(),
            node: "n".into(),
            file_path: format!("/var/log/pods/{i}/c/0.log").into(),
            labels: labels.into(),
            source: (i != 3).then_some(SourcePos {
                fingerprint: (i as u64) % 3,
                offset: 0,
            }),
            ..LogRecord::default()
        }
    }

    fn records() -> impl Strategy<Value = Vec<LogRecord>> {
        proptest::collection::vec(
            (
                0usize..5,
                any::<i64>(),
                any::<u64>(),
                any::<u32>(),
                any::<bool>(),
                0u8..7,
                ".{0,20}",
            ),
            0..40,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .map(|(m, ts, off, restart, stderr, level, message)| {
                    let mut r = meta(m);
                    if let Some(s) = &mut r.source {
                        s.offset = off;
                    }
                    r.timestamp_ns = ts;
                    r.restart_count = restart;
                    r.stream = if stderr {
                        Stream::Stderr
                    } else {
                        Stream::Stdout
                    };
                    r.level = level_of(level);
                    r.message = message;
                    r
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn decoding_garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_all(1, &b);
            let _ = decode_all(2, &b);
        }

        #[test]
        fn version_2_round_trips_any_records(recs in records()) {
            let mut buf = Vec::new();
            encode_all(&recs, &mut buf);
            prop_assert_eq!(decode_all(VERSION, &buf).expect("decode"), recs);
        }
    }

    #[test]
    fn torn_input_is_an_error_in_both_versions() {
        let recs = vec![
            LogRecord {
                timestamp_ns: 123,
                stream: Stream::Stderr,
                level: Level::Error,
                message: "héllo".into(),
                source: Some(SourcePos {
                    fingerprint: 7,
                    offset: 99,
                }),
                ..meta(0)
            },
            LogRecord {
                timestamp_ns: 120,
                message: "same file, earlier".into(),
                source: Some(SourcePos {
                    fingerprint: 7,
                    offset: 140,
                }),
                ..meta(0)
            },
            LogRecord::default(),
        ];
        let mut v1 = Vec::new();
        let mut v1_ends = Vec::new();
        let mut v2 = Vec::new();
        let mut v2_ends = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            encode_v1(r, &mut v1);
            v1_ends.push(v1.len());
            v2.clear();
            encode_all(&recs[..=i], &mut v2);
            v2_ends.push(v2.len());
        }
        assert_eq!(decode_all(1, &v1).expect("v1"), recs);
        assert_eq!(decode_all(2, &v2).expect("v2"), recs);
        for (version, buf, ends) in [(1, &v1, &v1_ends), (2, &v2, &v2_ends)] {
            for cut in 1..buf.len() {
                if !ends.contains(&cut) {
                    assert!(
                        decode_all(version, &buf[..cut]).is_err(),
                        "v{version} cut at {cut}"
                    );
                }
            }
        }
        assert!(decode_all(3, &v2).is_err());
        // A payload cannot start by reusing metadata it has not given.
        let mut no_meta = v2.clone();
        no_meta[0] &= !FLAG_META;
        let err = decode_all(2, &no_meta).expect_err("no metadata");
        assert_eq!(err.what, "first record without metadata");
    }

    #[test]
    fn version_2_writes_the_metadata_of_a_run_once() {
        // 100 lines of one file, as a collector batch has them.
        let recs: Vec<LogRecord> = (0..100)
            .map(|i| LogRecord {
                timestamp_ns: 1_795_766_400_000_000_000 + i * 1_000_000,
                message: format!("GET /api/v1/items/{i} 200 12ms"),
                source: Some(SourcePos {
                    fingerprint: 0xfeed,
                    offset: i as u64 * 90,
                }),
                ..meta(0)
            })
            .collect();
        let mut v1 = Vec::new();
        for r in &recs {
            encode_v1(r, &mut v1);
        }
        let mut v2 = Vec::new();
        encode_all(&recs, &mut v2);
        let messages: usize = recs.iter().map(|r| r.message.len()).sum();
        assert!(
            v2.len() < messages + 100 * 10 + 100,
            "v2 {} bytes for {messages} bytes of messages",
            v2.len()
        );
        assert!(
            v2.len() * 2 < v1.len(),
            "v2 {} vs v1 {}",
            v2.len(),
            v1.len()
        );
        let back = decode_all(2, &v2).expect("decode");
        assert_eq!(back, recs);
        // The run shares one copy of its metadata after replay, too.
        assert!(Arc::ptr_eq(&back[0].pod, &back[99].pod));
    }
}

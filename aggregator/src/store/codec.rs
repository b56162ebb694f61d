//! Binary encoding of log records in the write-ahead log. Versioned by the WAL's segment
//! header; decoding checks every length so a torn or corrupt entry is an error, not a panic.

use argus_core::{Level, LogRecord, SourcePos, Stream};
use std::collections::BTreeMap;

/// A decoding failure: the entry is torn or corrupt.
#[derive(Debug, thiserror::Error)]
#[error("corrupt record encoding at byte {at}: {what}")]
pub struct DecodeError {
    pub at: usize,
    pub what: &'static str,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
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

/// Appends one record.
pub fn encode(r: &LogRecord, out: &mut Vec<u8>) {
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
    for s in [
        r.message.as_str(),
        &r.namespace,
        &r.pod,
        &r.pod_uid,
        &r.container,
        &r.node,
        &r.file_path,
    ] {
        put_str(out, s);
    }
    out.extend_from_slice(&(r.labels.len() as u32).to_le_bytes());
    for (k, v) in r.labels.iter() {
        put_str(out, k);
        put_str(out, v);
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
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
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let n = self.u32(what)? as usize;
        let at = self.at;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec()).map_err(|_| DecodeError { at, what })
    }
}

/// Decodes all records of a payload.
pub fn decode_all(b: &[u8]) -> Result<Vec<LogRecord>, DecodeError> {
    let mut r = Reader { b, at: 0 };
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
        let namespace = r.string("namespace")?;
        let pod = r.string("pod")?;
        let pod_uid = r.string("pod uid")?;
        let container = r.string("container")?;
        let node = r.string("node")?;
        let file_path = r.string("file path")?;
        let n = r.u32("label count")?;
        let mut labels = BTreeMap::new();
        for _ in 0..n {
            let k = r.string("label name")?;
            let v = r.string("label value")?;
            labels.insert(k, v);
        }
        out.push(LogRecord {
            timestamp_ns,
            stream,
            level,
            message,
            namespace: namespace.into(),
            pod: pod.into(),
            pod_uid: pod_uid.into(),
            container: container.into(),
            restart_count,
            node: node.into(),
            file_path: file_path.into(),
            labels: labels.into(),
            source,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn decoding_garbage_never_panics(b in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = decode_all(&b);
        }
    }

    #[test]
    fn round_trips_and_rejects_torn_input() {
        let mut labels = BTreeMap::new();
        labels.insert("app".to_string(), "cart".to_string());
        let recs = vec![
            LogRecord {
                timestamp_ns: 123,
                stream: Stream::Stderr,
                level: Level::Error,
                message: "héllo".into(),
                namespace: "ns".into(),
                pod: "p".into(),
                container: "c".into(),
                node: "n".into(),
                labels: labels.into(),
                source: Some(SourcePos {
                    fingerprint: 7,
                    offset: 99,
                }),
                ..LogRecord::default()
            },
            LogRecord::default(),
        ];
        let mut buf = Vec::new();
        encode(&recs[0], &mut buf);
        let boundary = buf.len();
        encode(&recs[1], &mut buf);
        assert_eq!(decode_all(&buf).expect("decode"), recs);
        for cut in 1..buf.len() {
            if cut != boundary {
                assert!(decode_all(&buf[..cut]).is_err(), "cut at {cut}");
            }
        }
    }
}

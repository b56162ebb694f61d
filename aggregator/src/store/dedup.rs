//! Idempotent ingest. Collector records carry (node, file fingerprint, offset): a record
//! whose offset is not above the highest offset already accepted for its file is a resend.
//! Records from other clients are keyed by a hash of their content, remembered for the
//! last [`HASH_CAPACITY`] records. The state is snapshotted to disk and rebuilt by replaying
//! the write-ahead log past the snapshot.

use argus_core::LogRecord;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

/// How many content hashes are remembered.
pub const HASH_CAPACITY: usize = 1 << 20;
const SNAPSHOT_VERSION: u32 = 1;

/// The dedup state.
#[derive(Default, Clone)]
pub struct Dedup {
    /// node → fingerprint → highest accepted offset.
    hwm: HashMap<String, HashMap<u64, u64>>,
    hashes: HashSet<u64>,
    order: VecDeque<u64>,
}

/// Changes that [`Dedup::filter`] found and [`Dedup::apply`] makes once the batch is durable.
#[derive(Default)]
pub struct Pending {
    hwm: HashMap<String, HashMap<u64, u64>>,
    hashes: Vec<u64>,
}

fn content_hash(r: &LogRecord) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&r.timestamp_ns.to_le_bytes());
    for s in [
        &*r.namespace,
        &*r.pod,
        &*r.container,
        &*r.node,
        r.message.as_str(),
    ] {
        h.update(&(s.len() as u32).to_le_bytes());
        h.update(s.as_bytes());
    }
    h.update(r.stream.as_str().as_bytes());
    for (k, v) in r.labels.iter() {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b",");
    }
    h.digest()
}

impl Dedup {
    /// Keeps the records not seen before (also within the batch); returns the state
    /// changes to apply once they are durable.
    pub fn filter(&self, records: Vec<LogRecord>) -> (Vec<LogRecord>, Pending) {
        let mut pending = Pending::default();
        let mut batch_hwm: HashMap<String, HashMap<u64, u64>> = HashMap::new();
        let mut batch_hashes: HashSet<u64> = HashSet::new();
        let mut kept = Vec::with_capacity(records.len());
        for r in records {
            match r.source {
                Some(src) => {
                    let committed = self
                        .hwm
                        .get(&*r.node)
                        .and_then(|m| m.get(&src.fingerprint))
                        .copied()
                        .unwrap_or(0);
                    let node = match batch_hwm.get_mut(&*r.node) {
                        Some(m) => m,
                        None => batch_hwm.entry(r.node.to_string()).or_default(),
                    };
                    let seen = node.get(&src.fingerprint).copied().unwrap_or(committed);
                    if src.offset <= seen {
                        continue;
                    }
                    node.insert(src.fingerprint, src.offset);
                }
                None => {
                    let h = content_hash(&r);
                    if self.hashes.contains(&h) || !batch_hashes.insert(h) {
                        continue;
                    }
                    pending.hashes.push(h);
                }
            }
            kept.push(r);
        }
        pending.hwm = batch_hwm;
        (kept, pending)
    }

    /// Records accepted changes.
    pub fn apply(&mut self, p: Pending) {
        for (node, files) in p.hwm {
            let m = self.hwm.entry(node).or_default();
            for (fp, off) in files {
                let e = m.entry(fp).or_insert(0);
                *e = (*e).max(off);
            }
        }
        for h in p.hashes {
            if self.hashes.insert(h) {
                self.order.push_back(h);
            }
            while self.order.len() > HASH_CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.hashes.remove(&old);
                }
            }
        }
    }

    /// Re-applies a replayed batch.
    pub fn replay(&mut self, records: &[LogRecord]) {
        let (_, p) = self.filter(records.to_vec());
        self.apply(p);
    }

    /// Serializes the state (for a snapshot taken at `seq`).
    pub fn encode(&self, seq: u64) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&seq.to_le_bytes());
        let n: usize = self.hwm.values().map(HashMap::len).sum();
        out.extend_from_slice(&(n as u64).to_le_bytes());
        for (node, fp, off) in self
            .hwm
            .iter()
            .flat_map(|(n, m)| m.iter().map(move |(fp, off)| (n, fp, off)))
        {
            out.extend_from_slice(&(node.len() as u32).to_le_bytes());
            out.extend_from_slice(node.as_bytes());
            out.extend_from_slice(&fp.to_le_bytes());
            out.extend_from_slice(&off.to_le_bytes());
        }
        out.extend_from_slice(&(self.order.len() as u64).to_le_bytes());
        for h in &self.order {
            out.extend_from_slice(&h.to_le_bytes());
        }
        out
    }

    /// Loads a snapshot; returns the state and the seq it covers.
    pub fn load(path: &Path) -> Result<(Dedup, u64), String> {
        let b = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Dedup::default(), 0)),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let bad = || format!("{}: corrupt dedup snapshot", path.display());
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], String> {
            let s = b.get(at..at + n).ok_or_else(bad)?;
            at += n;
            Ok(s)
        };
        let u32_of = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let u64_of = |s: &[u8]| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        };
        if u32_of(take(4)?) != SNAPSHOT_VERSION {
            return Err(format!(
                "{}: unsupported dedup snapshot version",
                path.display()
            ));
        }
        let seq = u64_of(take(8)?);
        let mut d = Dedup::default();
        let n = u64_of(take(8)?);
        for _ in 0..n {
            let len = u32_of(take(4)?) as usize;
            let node = String::from_utf8(take(len)?.to_vec()).map_err(|_| bad())?;
            let fp = u64_of(take(8)?);
            let off = u64_of(take(8)?);
            d.hwm.entry(node).or_default().insert(fp, off);
        }
        let n = u64_of(take(8)?);
        for _ in 0..n {
            let h = u64_of(take(8)?);
            d.hashes.insert(h);
            d.order.push_back(h);
        }
        Ok((d, seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::SourcePos;

    fn rec(node: &str, fp: u64, off: u64) -> LogRecord {
        LogRecord {
            node: node.into(),
            message: format!("m{off}"),
            source: Some(SourcePos {
                fingerprint: fp,
                offset: off,
            }),
            ..LogRecord::default()
        }
    }

    #[test]
    fn drops_resent_collector_records_and_repeated_content() {
        let mut d = Dedup::default();
        let (kept, p) = d.filter(vec![rec("n", 1, 10), rec("n", 1, 20), rec("m", 1, 10)]);
        assert_eq!(kept.len(), 3);
        d.apply(p);
        let (kept, p) = d.filter(vec![rec("n", 1, 20), rec("n", 1, 30), rec("n", 2, 5)]);
        assert_eq!(
            kept.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(),
            ["m30", "m5"]
        );
        d.apply(p);
        let plain = LogRecord {
            message: "x".into(),
            ..LogRecord::default()
        };
        let (kept, p) = d.filter(vec![plain.clone(), plain.clone()]);
        assert_eq!(kept.len(), 1);
        d.apply(p);
        assert!(d.filter(vec![plain]).0.is_empty());

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dedup");
        std::fs::write(&path, d.encode(7)).expect("write");
        let (d2, seq) = Dedup::load(&path).expect("load");
        assert_eq!(seq, 7);
        assert!(d2.filter(vec![rec("n", 1, 30)]).0.is_empty());
        assert_eq!(d2.filter(vec![rec("n", 1, 31)]).0.len(), 1);
    }
}

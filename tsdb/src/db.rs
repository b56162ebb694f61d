//! The metrics store: the in-memory head behind a lock, its write-ahead log, periodic
//! snapshots (after which older WAL segments are deleted) and retention. A restart loads
//! the snapshot and replays the WAL after it: nothing appended is lost.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use argus_core::series::{Label, Labels, Matcher, SeriesData, SeriesSource};

use crate::chunk::Chunk;
use crate::head::{Head, HeadStats, Rejected, SeriesId};
use crate::wal::{self, Record, Wal};
use crate::{io_err, Error, Result};

/// Store options (`aggregator.metrics` in the config).
#[derive(Debug, Clone)]
pub struct Options {
    /// Samples older than this are dropped.
    pub retention: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    pub samples: usize,
    pub new_series: usize,
    pub out_of_order: usize,
    pub duplicate: usize,
}

/// The metrics store.
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    opts: Options,
    head: RwLock<Head>,
    wal: Option<Mutex<Wal>>,
}

const SNAPSHOT: &str = "snapshot";
const MAGIC: &[u8; 8] = b"ARGUSTS1";

impl Db {
    /// Opens (or creates) the store in `dir`: loads the snapshot, replays the WAL.
    pub fn open(dir: &Path, opts: Options) -> Result<Db> {
        Db::open_inner(dir, opts, true)
    }

    /// Opens without a WAL, for bulk imports that end with [`Db::snapshot`].
    pub fn open_for_import(dir: &Path, opts: Options) -> Result<Db> {
        Db::open_inner(dir, opts, false)
    }

    fn open_inner(dir: &Path, opts: Options, with_wal: bool) -> Result<Db> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut head = Head::default();
        let from = load_snapshot(&dir.join(SNAPSHOT), &mut head)?;
        let wal_dir = dir.join("wal");
        let mut records = 0;
        if wal_dir.is_dir() {
            records = wal::replay(&wal_dir, from, |r| match r {
                Record::Series(id, labels) => head.insert(id, labels),
                Record::Samples(v) => {
                    for (id, t, val) in v {
                        let _ = head.append(id, t, val);
                    }
                }
            })?;
        }
        let st = head.stats();
        tracing::info!(dir = %dir.display(), series = st.series, samples = st.samples, wal_records = records, "metrics store opened");
        let wal = if with_wal {
            Some(Mutex::new(Wal::open(&wal_dir)?))
        } else {
            None
        };
        Ok(Db {
            dir: dir.to_path_buf(),
            opts,
            head: RwLock::new(head),
            wal,
        })
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Appends samples (any order of series; each series' samples in time order) and
    /// hands the WAL records to the OS.
    pub fn append(&self, batch: &[(Labels, i64, f64)]) -> Result<Appended> {
        self.append_inner(batch, true)
    }

    /// As [`Db::append`], but the WAL records stay buffered until [`Db::flush_wal`] (or
    /// the next flushing append): for many small appends in a row, such as rule results
    /// written sample by sample. Queries see the samples at once.
    pub fn append_buffered(&self, batch: &[(Labels, i64, f64)]) -> Result<Appended> {
        self.append_inner(batch, false)
    }

    /// Hands buffered WAL records to the OS.
    pub fn flush_wal(&self) -> Result<()> {
        match &self.wal {
            Some(w) => w.lock().unwrap_or_else(|e| e.into_inner()).flush(),
            None => Ok(()),
        }
    }

    fn append_inner(&self, batch: &[(Labels, i64, f64)], flush: bool) -> Result<Appended> {
        let mut res = Appended::default();
        let mut head = self.head.write().unwrap_or_else(|e| e.into_inner());
        let mut wal = self
            .wal
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()));
        let mut logged: Vec<(SeriesId, i64, f64)> = Vec::with_capacity(batch.len());
        for (labels, t, v) in batch {
            let (id, new) = head.get_or_create(labels);
            if new {
                res.new_series += 1;
                if let Some(w) = wal.as_mut() {
                    w.log_series(id, labels)?;
                }
            }
            match head.append(id, *t, *v) {
                Ok(()) => {
                    res.samples += 1;
                    logged.push((id, *t, *v));
                }
                Err(Rejected::OutOfOrder) => res.out_of_order += 1,
                Err(Rejected::Duplicate) => res.duplicate += 1,
            }
        }
        if let Some(w) = wal.as_mut() {
            w.log_samples(&logged)?;
            if flush {
                w.flush()?;
            }
        }
        Ok(res)
    }

    /// Writes a snapshot of everything and deletes the WAL segments it covers.
    pub fn snapshot(&self) -> Result<()> {
        // Appends wait while the snapshot is written (queries do not).
        let head = self.head.read().unwrap_or_else(|e| e.into_inner());
        let mut wal = self
            .wal
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()));
        let next = match wal.as_mut() {
            Some(w) => w.cut()?,
            None => wal::segments(&self.dir.join("wal"))
                .last()
                .map_or(0, |n| n + 1),
        };
        let path = self.dir.join(SNAPSHOT);
        let tmp = self.dir.join("snapshot.tmp");
        write_snapshot(&tmp, next, &head)?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        if let Some(w) = wal.as_ref() {
            w.remove_before(next);
        }
        Ok(())
    }

    /// Drops data older than the retention, relative to `now_ms`; returns series removed.
    pub fn apply_retention(&self, now_ms: i64) -> usize {
        let keep = i64::try_from(self.opts.retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_ms.saturating_sub(keep);
        self.head
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .truncate(cutoff)
    }

    pub fn stats(&self) -> HeadStats {
        self.head.read().unwrap_or_else(|e| e.into_inner()).stats()
    }

    /// The head's cardinality, each list the `limit` largest (`/api/v1/status/tsdb`).
    pub fn cardinality(&self, limit: usize) -> crate::head::Cardinality {
        self.head
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .cardinality(limit)
    }

    /// Label sets of the series matching `matchers` with samples in the range.
    pub fn series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let head = self.head.read().unwrap_or_else(|e| e.into_inner());
        head.select_ids(matchers)
            .into_iter()
            .filter(|id| head.has_samples(*id, mint, maxt))
            .filter_map(|id| head.labels(id).cloned())
            .collect()
    }
}

impl SeriesSource for Db {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        self.head
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .select(matchers, mint, maxt)
    }

    fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mut names: Vec<String> = self
            .series(matchers, mint, maxt)
            .into_iter()
            .flat_map(|l| l.into_vec().into_iter().map(|x| x.name))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mut vals: Vec<String> = self
            .series(matchers, mint, maxt)
            .into_iter()
            .filter_map(|l| l.get(name).map(str::to_string))
            .collect();
        vals.sort();
        vals.dedup();
        vals
    }
}

fn put_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    w.write_all(&(s.len() as u32).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

/// Writes the hash of everything written through it at the end.
struct Hashing<W: Write> {
    inner: W,
    h: xxhash_rust::xxh3::Xxh3,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.h.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_snapshot(path: &Path, next_segment: u64, head: &Head) -> Result<()> {
    let f = std::fs::File::create(path).map_err(io_err(path))?;
    let mut w = Hashing {
        inner: BufWriter::with_capacity(1 << 20, f),
        h: xxhash_rust::xxh3::Xxh3::new(),
    };
    let res = (|| -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&next_segment.to_le_bytes())?;
        let all: Vec<_> = head.all().collect();
        w.write_all(&(all.len() as u64).to_le_bytes())?;
        for (id, s) in all {
            w.write_all(&id.to_le_bytes())?;
            w.write_all(&(s.labels.len() as u32).to_le_bytes())?;
            for l in &s.labels {
                put_str(&mut w, &l.name)?;
                put_str(&mut w, &l.value)?;
            }
            w.write_all(&(s.chunks.len() as u32).to_le_bytes())?;
            for c in &s.chunks {
                w.write_all(&c.len().to_le_bytes())?;
                w.write_all(&(c.bytes().len() as u32).to_le_bytes())?;
                w.write_all(c.bytes())?;
            }
        }
        let sum = w.h.digest();
        w.inner.write_all(&sum.to_le_bytes())?;
        w.inner.flush()?;
        w.inner.get_ref().sync_all()
    })();
    res.map_err(io_err(path))
}

/// Loads a snapshot into `head`; returns the first WAL segment to replay after it.
fn load_snapshot(path: &Path, head: &mut Head) -> Result<u64> {
    let mut bytes = Vec::new();
    match std::fs::File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(io_err(path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(path)(e)),
    }
    let corrupt = |m: &str| Error::Snapshot {
        path: path.display().to_string(),
        message: m.to_string(),
    };
    if bytes.len() < 8 + 8 + 8 + 8 || &bytes[..8] != MAGIC {
        return Err(corrupt("not an argus metrics snapshot (bad magic)"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let sum = u64::from_le_bytes(sum.try_into().map_err(|_| corrupt("short"))?);
    if xxhash_rust::xxh3::xxh3_64(body) != sum {
        return Err(corrupt("checksum mismatch"));
    }
    let mut c = body;
    let mut take = |n: usize| -> Result<&[u8]> {
        if c.len() < n {
            return Err(corrupt("truncated"));
        }
        let (a, b) = c.split_at(n);
        c = b;
        Ok(a)
    };
    take(8)?;
    let next = u64::from_le_bytes(take(8)?.try_into().map_err(|_| corrupt("short"))?);
    let n = u64::from_le_bytes(take(8)?.try_into().map_err(|_| corrupt("short"))?);
    for _ in 0..n {
        let id = u32::from_le_bytes(take(4)?.try_into().map_err(|_| corrupt("short"))?);
        let nl = u32::from_le_bytes(take(4)?.try_into().map_err(|_| corrupt("short"))?);
        let mut labels = Vec::new();
        for _ in 0..nl {
            let mut s = || -> Result<String> {
                let len = u32::from_le_bytes(take(4)?.try_into().map_err(|_| corrupt("short"))?);
                String::from_utf8(take(len as usize)?.to_vec())
                    .map_err(|_| corrupt("label is not UTF-8"))
            };
            let name = s()?;
            let value = s()?;
            labels.push(Label { name, value });
        }
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        head.insert(id, Labels::from_sorted(labels));
        let nc = u32::from_le_bytes(take(4)?.try_into().map_err(|_| corrupt("short"))?);
        for _ in 0..nc {
            let count = u16::from_le_bytes(take(2)?.try_into().map_err(|_| corrupt("short"))?);
            let len = u32::from_le_bytes(take(4)?.try_into().map_err(|_| corrupt("short"))?);
            let data = take(len as usize)?.to_vec();
            let chunk =
                Chunk::from_bytes(data, count).ok_or_else(|| corrupt("chunk does not decode"))?;
            head.push_chunk(id, chunk);
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(i: usize) -> Labels {
        Labels::new([
            ("__name__", "up".to_string()),
            ("instance", format!("h{i}")),
        ])
    }

    #[test]
    fn restart_loses_nothing_with_or_without_a_snapshot() {
        let d = tempfile::tempdir().expect("tempdir");
        let all = [Matcher::equal("__name__", "up")];
        {
            let db = Db::open(d.path(), Options::default()).expect("open");
            for t in 0..200 {
                let batch: Vec<_> = (0..3).map(|i| (up(i), t * 15_000, t as f64)).collect();
                let r = db.append(&batch).expect("append");
                assert_eq!(r.samples, 3);
            }
            db.snapshot().expect("snapshot");
            // After the snapshot: only in the WAL.
            db.append(&[(up(0), 200 * 15_000, 200.0), (up(9), 5, 1.0)])
                .expect("append");
        }
        let db = Db::open(d.path(), Options::default()).expect("reopen");
        let got = db.select(&all, i64::MIN, i64::MAX);
        assert_eq!(got.len(), 4);
        let h0 = got.iter().find(|s| s.labels == up(0)).expect("h0");
        assert_eq!(h0.samples.len(), 201);
        assert_eq!(h0.samples[200].v, 200.0);
        // Appending continues after a reload from the snapshot's open chunk.
        assert_eq!(
            db.append(&[(up(1), 300 * 15_000, 3.0)])
                .expect("append")
                .samples,
            1
        );
        assert_eq!(
            db.append(&[(up(1), 10, 3.0)]).expect("append").out_of_order,
            1
        );
        assert_eq!(
            db.label_values("instance", &all, 0, i64::MAX),
            ["h0", "h1", "h2", "h9"]
        );
        // Retention drops old chunks.
        assert!(db.apply_retention(24 * 3600 * 1000 + 3_000_000) >= 1);
    }

    #[test]
    fn buffered_appends_are_visible_at_once_and_durable_after_flush() {
        let d = tempfile::tempdir().expect("tempdir");
        let h7 = [Matcher::equal("instance", "h7")];
        {
            let db = Db::open(d.path(), Options::default()).expect("open");
            for t in 0..50 {
                db.append_buffered(&[(up(7), t * 1000, t as f64)])
                    .expect("append");
            }
            assert_eq!(db.select(&h7, 0, i64::MAX)[0].samples.len(), 50);
            db.flush_wal().expect("flush");
        }
        let db = Db::open(d.path(), Options::default()).expect("reopen");
        assert_eq!(db.select(&h7, 0, i64::MAX)[0].samples.len(), 50);
    }

    #[test]
    fn a_corrupt_snapshot_is_an_error_naming_the_file() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            d.path().join(SNAPSHOT),
            b"ARGUSTS1garbage-garbage-garbage-garbage",
        )
        .expect("write");
        let e = Db::open(d.path(), Options::default())
            .expect_err("corrupt")
            .to_string();
        assert!(e.contains("snapshot") && e.contains("checksum"), "{e}");
    }
}

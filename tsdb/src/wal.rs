//! The write-ahead log of the metrics store: numbered segment files under `<dir>/wal/`,
//! records framed as `len u32 | xxh3-32 u32 | payload`. A record is a new series (id and
//! labels) or a batch of samples. A torn or corrupt tail is cut on replay; everything
//! before it is kept.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use argus_core::series::{Label, Labels};

use crate::head::SeriesId;
use crate::{io_err, Result};

/// Segments are cut at this size.
const SEGMENT_BYTES: u64 = 64 << 20;

const SERIES: u8 = 1;
const SAMPLES: u8 = 2;

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Series(SeriesId, Labels),
    Samples(Vec<(SeriesId, i64, f64)>),
}

/// The open log.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    segment: u64,
    out: BufWriter<File>,
    written: u64,
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// The segment numbers present, ascending.
pub fn segments(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable();
    v
}

impl Wal {
    /// Opens a new segment after the existing ones.
    pub fn open(dir: &Path) -> Result<Wal> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let next = segments(dir).last().map_or(0, |n| n + 1);
        let path = segment_path(dir, next);
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            segment: next,
            out: BufWriter::with_capacity(256 * 1024, f),
            written: 0,
        })
    }

    pub fn segment(&self) -> u64 {
        self.segment
    }

    fn frame(&mut self, payload: &[u8]) -> Result<()> {
        let crc = xxhash_rust::xxh3::xxh3_64(payload) as u32;
        let path = segment_path(&self.dir, self.segment);
        self.out
            .write_all(&(payload.len() as u32).to_le_bytes())
            .and_then(|_| self.out.write_all(&crc.to_le_bytes()))
            .and_then(|_| self.out.write_all(payload))
            .map_err(io_err(&path))?;
        self.written += 8 + payload.len() as u64;
        Ok(())
    }

    pub fn log_series(&mut self, id: SeriesId, labels: &Labels) -> Result<()> {
        let mut p = vec![SERIES];
        p.extend_from_slice(&id.to_le_bytes());
        p.extend_from_slice(&(labels.len() as u32).to_le_bytes());
        for l in labels {
            put_str(&mut p, &l.name);
            put_str(&mut p, &l.value);
        }
        self.frame(&p)
    }

    pub fn log_samples(&mut self, samples: &[(SeriesId, i64, f64)]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let mut p = Vec::with_capacity(1 + 4 + samples.len() * 20);
        p.push(SAMPLES);
        p.extend_from_slice(&(samples.len() as u32).to_le_bytes());
        for (id, t, v) in samples {
            p.extend_from_slice(&id.to_le_bytes());
            p.extend_from_slice(&t.to_le_bytes());
            p.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        self.frame(&p)
    }

    /// Hands buffered records to the OS (they survive the process being killed), and cuts
    /// a new segment when this one is full.
    pub fn flush(&mut self) -> Result<()> {
        let path = segment_path(&self.dir, self.segment);
        self.out.flush().map_err(io_err(&path))?;
        if self.written >= SEGMENT_BYTES {
            self.cut()?;
        }
        Ok(())
    }

    /// Starts a new segment; returns its number (everything logged so far is before it).
    pub fn cut(&mut self) -> Result<u64> {
        let path = segment_path(&self.dir, self.segment);
        self.out.flush().map_err(io_err(&path))?;
        self.out.get_ref().sync_data().map_err(io_err(&path))?;
        self.segment += 1;
        let next = segment_path(&self.dir, self.segment);
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&next)
            .map_err(io_err(&next))?;
        self.out = BufWriter::with_capacity(256 * 1024, f);
        self.written = 0;
        Ok(self.segment)
    }

    /// Deletes the segments before `n`.
    pub fn remove_before(&self, n: u64) {
        for s in segments(&self.dir).into_iter().filter(|s| *s < n) {
            let _ = std::fs::remove_file(segment_path(&self.dir, s));
        }
    }
}

fn put_str(p: &mut Vec<u8>, s: &str) {
    p.extend_from_slice(&(s.len() as u32).to_le_bytes());
    p.extend_from_slice(s.as_bytes());
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

fn decode(p: &[u8]) -> Option<Record> {
    let mut c = Cursor(p);
    match c.u8()? {
        SERIES => {
            let id = c.u32()?;
            let n = c.u32()? as usize;
            let mut labels = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let name = c.str()?;
                let value = c.str()?;
                labels.push(Label { name, value });
            }
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            labels.dedup_by(|a, b| a.name == b.name);
            Some(Record::Series(id, Labels::from_sorted(labels)))
        }
        SAMPLES => {
            let n = c.u32()? as usize;
            let mut v = Vec::with_capacity(n.min(1 << 20));
            for _ in 0..n {
                let id = c.u32()?;
                let t = c.u64()? as i64;
                let bits = c.u64()?;
                v.push((id, t, f64::from_bits(bits)));
            }
            Some(Record::Samples(v))
        }
        _ => None,
    }
}

/// Reads the records of segments `from..`, calling `f` for each; stops a segment at its
/// first torn or corrupt record (logged) and truncates the file there.
pub fn replay(dir: &Path, from: u64, mut f: impl FnMut(Record)) -> Result<u64> {
    let mut n = 0;
    for seg in segments(dir).into_iter().filter(|s| *s >= from) {
        let path = segment_path(dir, seg);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut fh| fh.read_to_end(&mut bytes))
            .map_err(io_err(&path))?;
        let mut at = 0usize;
        while let Some(head) = bytes.get(at..at + 8) {
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let Some(p) = bytes.get(at + 8..at + 8 + len) else {
                break;
            };
            if xxhash_rust::xxh3::xxh3_64(p) as u32 != crc {
                break;
            }
            match decode(p) {
                Some(r) => f(r),
                None => break,
            }
            n += 1;
            at += 8 + len;
        }
        if at < bytes.len() {
            tracing::warn!(segment = %path.display(), offset = at, dropped_bytes = bytes.len() - at, "metrics WAL: torn or corrupt tail cut");
            let fh = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            fh.set_len(at as u64).map_err(io_err(&path))?;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_what_was_logged_and_cuts_a_torn_tail() {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path().join("wal");
        let l = Labels::new([("__name__", "up"), ("job", "x")]);
        {
            let mut w = Wal::open(&dir).expect("open");
            w.log_series(7, &l).expect("series");
            w.log_samples(&[(7, 1000, 1.0), (7, 2000, f64::NAN)])
                .expect("samples");
            w.flush().expect("flush");
        }
        // A torn record at the end of the segment.
        let seg = dir.join("00000000");
        let mut f = OpenOptions::new().append(true).open(&seg).expect("open");
        f.write_all(&[200, 0, 0, 0, 1, 2]).expect("write");
        drop(f);
        let mut got = Vec::new();
        assert_eq!(replay(&dir, 0, |r| got.push(r)).expect("replay"), 2);
        assert_eq!(got[0], Record::Series(7, l));
        match &got[1] {
            Record::Samples(s) => {
                assert_eq!(s.len(), 2);
                assert!(s[1].2.is_nan());
            }
            other => panic!("{other:?}"),
        }
        let mut again = 0;
        replay(&dir, 0, |_| again += 1).expect("replay");
        assert_eq!(again, 2, "the tail was cut; nothing else lost");
        let w = Wal::open(&dir).expect("reopen");
        assert_eq!(w.segment(), 1);
    }
}

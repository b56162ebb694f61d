//! The write-ahead log: a batch is acknowledged once its entry is written and fsynced, so
//! an accepted batch survives `kill -9`; the indexer replays what tantivy had not committed.
//!
//! Segments `<first-seq>.wal` start with the header `ARGUSWAL` + version (u32 LE); each
//! entry is `len: u32 LE, seq: u64 LE, xxh3(payload): u64 LE, payload`. A torn entry at the
//! end of the last segment (a crash mid-write) is cut off when the log is opened.
//!
//! The version is the format of the payloads, chosen by the log's user: replay hands each
//! payload over with its segment's version, so a newer build reads what an older one
//! wrote, and appends go to a segment of the current version (a new one if the last
//! segment is older).

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"ARGUSWAL";
const HEADER: u64 = 12;
const ENTRY_HEAD: usize = 20;
/// A segment is rolled over past this size.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// WAL errors name the segment.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("wal {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("wal {path}: {message}")]
    Corrupt { path: String, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// An open write-ahead log.
pub struct Wal {
    dir: PathBuf,
    /// (first seq, path) of every segment, oldest first.
    segments: Vec<(u64, PathBuf)>,
    current: File,
    current_size: u64,
    next_seq: u64,
    /// The payload format new segments are written in.
    version: u32,
}

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}.wal"))
}

impl Wal {
    /// Opens the log in `dir`, cutting a torn tail, and calls `replay(seq, version,
    /// payload)` for every entry with a seq above `from_seq`, oldest first. `version` (≥ 1)
    /// is the payload format this build writes; segments of versions 1 through it are read,
    /// a newer one is an error naming the segment.
    pub fn open(
        dir: &Path,
        from_seq: u64,
        version: u32,
        mut replay: impl FnMut(u64, u32, &[u8]),
    ) -> Result<Wal, WalError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut segments: Vec<(u64, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
            let p = e.path();
            let first = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".wal"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(first) = first {
                segments.push((first, p));
            }
        }
        segments.sort();
        let mut next_seq = from_seq + 1;
        let n = segments.len();
        let mut last_version = version;
        for (i, (_, path)) in segments.iter().enumerate() {
            let last = i + 1 == n;
            let (seg_version, max_seq, good_len) =
                read_segment(path, from_seq, version, last, &mut replay)?;
            last_version = seg_version;
            next_seq = next_seq.max(max_seq + 1);
            if last {
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(io(path))?;
                if f.metadata().map_err(io(path))?.len() != good_len {
                    tracing::warn!(wal = %path.display(), good_len, "cutting a torn entry off the write-ahead log");
                    f.set_len(good_len).map_err(io(path))?;
                    f.sync_all().map_err(io(path))?;
                }
            }
        }
        let (current, current_size) = match segments.last() {
            Some((_, p)) if last_version == version => {
                let mut f = OpenOptions::new().append(true).open(p).map_err(io(p))?;
                let size = f.seek(SeekFrom::End(0)).map_err(io(p))?;
                (f, size)
            }
            _ => {
                let p = segment_path(dir, next_seq);
                let f = new_segment(&p, version)?;
                segments.push((next_seq, p));
                (f, HEADER)
            }
        };
        Ok(Wal {
            dir: dir.to_path_buf(),
            segments,
            current,
            current_size,
            next_seq,
            version,
        })
    }

    /// The seq the next entry gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends one entry and fsyncs it; returns its seq.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, WalError> {
        if self.current_size >= SEGMENT_BYTES {
            let p = segment_path(&self.dir, self.next_seq);
            self.current = new_segment(&p, self.version)?;
            self.current_size = HEADER;
            self.segments.push((self.next_seq, p));
        }
        let seq = self.next_seq;
        let path = self
            .segments
            .last()
            .map(|s| s.1.clone())
            .unwrap_or_default();
        let mut head = [0u8; ENTRY_HEAD];
        head[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        head[4..12].copy_from_slice(&seq.to_le_bytes());
        head[12..].copy_from_slice(&xxhash_rust::xxh3::xxh3_64(payload).to_le_bytes());
        write_all_pair(&mut self.current, &head, payload).map_err(io(&path))?;
        self.current.sync_data().map_err(io(&path))?;
        self.current_size += (ENTRY_HEAD + payload.len()) as u64;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Deletes segments whose entries all have a seq ≤ `seq`.
    pub fn remove_through(&mut self, seq: u64) {
        while self.segments.len() > 1 && self.segments[1].0 <= seq + 1 {
            let (_, p) = self.segments.remove(0);
            if let Err(e) = std::fs::remove_file(&p) {
                tracing::warn!(wal = %p.display(), error = %e, "cannot delete write-ahead log segment");
            }
        }
    }

    /// Total size of the segments on disk.
    pub fn size_bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter_map(|(_, p)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

/// Writes `a` then `b` with as few system calls as the kernel allows, without copying
/// the (large) payload behind its header.
fn write_all_pair(f: &mut File, a: &[u8], b: &[u8]) -> std::io::Result<()> {
    let total = a.len() + b.len();
    let mut done = 0;
    while done < total {
        let n = if done < a.len() {
            f.write_vectored(&[IoSlice::new(&a[done..]), IoSlice::new(b)])
        } else {
            f.write(&b[done - a.len()..])
        };
        match n {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn new_segment(p: &Path, version: u32) -> Result<File, WalError> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .map_err(io(p))?;
    let mut h = Vec::with_capacity(HEADER as usize);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&version.to_le_bytes());
    f.write_all(&h).map_err(io(p))?;
    f.sync_all().map_err(io(p))?;
    if let Some(dir) = p.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(f)
}

/// Reads a segment; returns (its version, max seq seen, length of the well-formed
/// prefix).
fn read_segment(
    path: &Path,
    from_seq: u64,
    version: u32,
    last: bool,
    replay: &mut impl FnMut(u64, u32, &[u8]),
) -> Result<(u32, u64, u64), WalError> {
    let mut data = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(io(path))?;
    let corrupt = |message: String| WalError::Corrupt {
        path: path.display().to_string(),
        message,
    };
    if data.len() < HEADER as usize || &data[..8] != MAGIC {
        if last && data.len() < HEADER as usize {
            // Created but the header never reached the disk.
            let mut f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io(path))?;
            f.set_len(0).map_err(io(path))?;
            f.write_all(MAGIC).map_err(io(path))?;
            f.write_all(&version.to_le_bytes()).map_err(io(path))?;
            f.sync_all().map_err(io(path))?;
            return Ok((version, 0, HEADER));
        }
        return Err(corrupt("not an argus write-ahead log segment".into()));
    }
    let seg_version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    if seg_version == 0 || seg_version > version {
        return Err(corrupt(format!(
            "unsupported version {seg_version} (this build reads 1 to {version})"
        )));
    }
    let mut at = HEADER as usize;
    let mut max_seq = 0;
    while at < data.len() {
        let torn = |what: &str| {
            if last {
                Ok(())
            } else {
                Err(corrupt(format!("{what} at byte {at}")))
            }
        };
        if data.len() - at < ENTRY_HEAD {
            torn("truncated entry header")?;
            break;
        }
        let len = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        let mut s = [0u8; 8];
        s.copy_from_slice(&data[at + 4..at + 12]);
        let seq = u64::from_le_bytes(s);
        s.copy_from_slice(&data[at + 12..at + 20]);
        let sum = u64::from_le_bytes(s);
        let body_at = at + ENTRY_HEAD;
        if data.len() - body_at < len {
            torn("truncated entry")?;
            break;
        }
        let payload = &data[body_at..body_at + len];
        if xxhash_rust::xxh3::xxh3_64(payload) != sum {
            torn("checksum mismatch")?;
            break;
        }
        if seq > from_seq {
            replay(seq, seg_version, payload);
        }
        max_seq = max_seq.max(seq);
        at = body_at + len;
    }
    Ok((seg_version, max_seq, at as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_replays_and_cuts_torn_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut w = Wal::open(dir.path(), 0, 1, |_, _, _| panic!("empty")).expect("open");
            assert_eq!(w.append(b"one").expect("append"), 1);
            assert_eq!(w.append(b"two").expect("append"), 2);
        }
        // A torn third entry.
        let seg = segment_path(dir.path(), 1);
        let mut f = OpenOptions::new().append(true).open(&seg).expect("open");
        f.write_all(&[9, 0, 0, 0, 3, 0]).expect("write");
        drop(f);
        let mut seen = Vec::new();
        let mut w =
            Wal::open(dir.path(), 1, 1, |seq, _, p| seen.push((seq, p.to_vec()))).expect("reopen");
        assert_eq!(seen, vec![(2, b"two".to_vec())]);
        assert_eq!(w.append(b"three").expect("append"), 3);
        let mut all = Vec::new();
        Wal::open(dir.path(), 0, 1, |seq, _, _| all.push(seq)).expect("reopen");
        assert_eq!(all, [1, 2, 3]);
    }

    #[test]
    fn a_newer_build_reads_older_segments_and_appends_in_its_own_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut w = Wal::open(dir.path(), 0, 1, |_, _, _| panic!("empty")).expect("open");
            w.append(b"old").expect("append");
        }
        {
            let mut seen = Vec::new();
            let mut w = Wal::open(dir.path(), 0, 2, |seq, v, p| {
                seen.push((seq, v, p.to_vec()))
            })
            .expect("open as v2");
            assert_eq!(seen, [(1, 1, b"old".to_vec())]);
            assert_eq!(w.append(b"new").expect("append"), 2);
            assert_eq!(
                w.segments.len(),
                2,
                "v2 entries go to a segment of their own"
            );
        }
        let mut seen = Vec::new();
        Wal::open(dir.path(), 0, 2, |seq, v, p| {
            seen.push((seq, v, p.to_vec()))
        })
        .expect("reopen");
        assert_eq!(seen, [(1, 1, b"old".to_vec()), (2, 2, b"new".to_vec())]);
        // An older build refuses the newer segment, naming it.
        let err = Wal::open(dir.path(), 0, 1, |_, _, _| {})
            .err()
            .expect("v1 cannot read v2")
            .to_string();
        assert!(
            err.contains("00000000000000000002.wal") && err.contains("unsupported version 2"),
            "{err}"
        );
    }
}

//! Per-file checkpoints: how far each file has been acknowledged by the aggregator. Kept in
//! `<checkpoint_dir>/checkpoints.json`, written atomically (write, fsync, rename, fsync of
//! the directory). The tailer records where files are; the shipper advances offsets after
//! acks; a flusher persists when something changed.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::fingerprint::Location;
use crate::{io_err, Error, Result};

const FILE_NAME: &str = "checkpoints.json";
const VERSION: u32 = 1;

/// One file's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: u64,
    pub dev: u64,
    pub ino: u64,
    pub head: u64,
    /// Last path the file was seen at (informational).
    pub path: String,
    /// Bytes of the file acknowledged by the aggregator.
    pub offset: u64,
    /// Hash of the bytes just before `offset` (detects an in-place rewrite across restarts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<u64>,
    /// Furthest offset handed to the shipper (acknowledged or not) and the hash of the
    /// bytes before it: a resend after a restart must find the same bytes there, or the
    /// file was rewritten in place and is a new file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<(u64, u64)>,
}

impl Entry {
    pub fn location(&self) -> Location {
        Location {
            dev: self.dev,
            ino: self.ino,
            head: self.head,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    files: Vec<Entry>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<u64, Entry>,
    dirty: bool,
}

/// The checkpoints of one collector, shared by tailer, shipper and flusher.
pub struct CheckpointStore {
    path: PathBuf,
    inner: Mutex<Inner>,
}

impl CheckpointStore {
    /// Opens (creating the directory) and loads the checkpoints in `dir`.
    pub fn open(dir: &Path) -> Result<CheckpointStore> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(FILE_NAME);
        let mut entries = HashMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let disk: OnDisk =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                if disk.version != VERSION {
                    return Err(Error::Checkpoint {
                        path: path.display().to_string(),
                        message: format!("unknown version {}", disk.version),
                    });
                }
                for e in disk.files {
                    entries.insert(e.fingerprint, e);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        Ok(CheckpointStore {
            path,
            inner: Mutex::new(Inner {
                entries,
                dirty: false,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// All entries (for the tailer at start-up).
    pub fn entries(&self) -> Vec<Entry> {
        self.lock().entries.values().cloned().collect()
    }

    /// Records where a file is now (new file, rename, or a copytruncate copy).
    pub fn track(&self, fingerprint: u64, loc: Location, path: &str, initial_offset: u64) {
        let mut g = self.lock();
        let e = g.entries.entry(fingerprint).or_insert_with(|| Entry {
            fingerprint,
            dev: loc.dev,
            ino: loc.ino,
            head: loc.head,
            path: path.to_string(),
            offset: initial_offset,
            tail: None,
            sent: None,
        });
        let changed = e.location() != loc || e.path != path;
        if changed {
            e.dev = loc.dev;
            e.ino = loc.ino;
            e.head = loc.head;
            e.path = path.to_string();
        }
        g.dirty = true;
    }

    /// Advances a file's acknowledged offset (never backwards); `tail` is the hash of the
    /// bytes before it.
    pub fn advance(&self, fingerprint: u64, offset: u64, tail: Option<u64>) {
        let mut g = self.lock();
        if let Some(e) = g.entries.get_mut(&fingerprint) {
            if offset > e.offset {
                e.offset = offset;
                e.tail = tail;
                g.dirty = true;
            }
        }
    }

    /// Records how far a file was read and handed to the shipper.
    pub fn sent(&self, fingerprint: u64, offset: u64, tail: u64) {
        let mut g = self.lock();
        if let Some(e) = g.entries.get_mut(&fingerprint) {
            if e.sent.is_none_or(|(o, _)| offset > o) {
                e.sent = Some((offset, tail));
                g.dirty = true;
            }
        }
    }

    /// Drops a file that is gone.
    pub fn forget(&self, fingerprint: u64) {
        let mut g = self.lock();
        if g.entries.remove(&fingerprint).is_some() {
            g.dirty = true;
        }
    }

    /// The acknowledged offset of a file.
    pub fn offset(&self, fingerprint: u64) -> Option<u64> {
        self.lock().entries.get(&fingerprint).map(|e| e.offset)
    }

    /// Writes the checkpoints if anything changed since the last write.
    pub fn persist(&self) -> Result<()> {
        let bytes = {
            let mut g = self.lock();
            if !g.dirty {
                return Ok(());
            }
            g.dirty = false;
            let mut files: Vec<Entry> = g.entries.values().cloned().collect();
            files.sort_by_key(|e| e.fingerprint);
            serde_json::to_vec(&OnDisk {
                version: VERSION,
                files,
            })
            .map_err(|e| Error::Checkpoint {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })?
        };
        let res = write_atomic(&self.path, &bytes);
        if res.is_err() {
            self.lock().dirty = true;
        }
        res
    }
}

/// write + fsync + rename + fsync(dir).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_and_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loc = Location {
            dev: 1,
            ino: 2,
            head: 3,
        };
        {
            let s = CheckpointStore::open(dir.path()).expect("open");
            s.track(42, loc, "/p/0.log", 0);
            s.advance(42, 100, Some(9));
            s.advance(42, 50, None);
            s.persist().expect("persist");
        }
        let s = CheckpointStore::open(dir.path()).expect("reopen");
        assert_eq!(s.offset(42), Some(100));
        assert_eq!(s.entries()[0].location(), loc);
    }

    #[test]
    fn corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE_NAME), "{not json").expect("write");
        let err = CheckpointStore::open(dir.path()).err().expect("error");
        assert!(err.to_string().contains("checkpoints.json"), "{err}");
    }
}

//! The tailer: keeps every discovered file's identity and read position, reads new bytes in
//! bulk, and fills [`Batch`]es. Files of one group (a container's `0.log` and its rotations)
//! are read oldest first, so the unread rest of a rotated file comes before its successor.
//!
//! Identity across rotations ([`rescan`](Tailer::rescan)):
//! - same device, inode and head → the same file (a kubelet rename keeps all three);
//! - a new path whose head equals that of a known file whose inode no longer carries it →
//!   a copytruncate copy: it continues the known file from its offset;
//! - while the original still carries the head (copy not yet truncated), a rotated copy is
//!   deferred (up to 10 s) rather than read twice;
//! - anything else is a new file, read from its beginning.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::assemble::{Assembler, Emitted};
use super::checkpoint::CheckpointStore;
use super::discover::{self, Candidate, Order};
use super::fingerprint::{self, Location};
use super::path::{self, ContainerIds, FileMeta};
use crate::ReadFrom;

/// How long a copy that still has a live twin waits before it counts as a new file.
const DEFER_FOR: Duration = Duration::from_secs(10);

/// What the tailer needs of the collector's config.
#[derive(Debug, Clone)]
pub struct TailerConfig {
    pub globs: Vec<String>,
    pub log_root: PathBuf,
    pub max_line: usize,
    pub read_from: ReadFrom,
    pub partial_timeout: Duration,
}

/// The records of one file within a batch.
#[derive(Debug)]
pub struct FileChunk {
    pub fingerprint: u64,
    pub meta: Arc<FileMeta>,
    /// The pod's labels (from [`crate::pods`]), set just before the batch is encoded.
    pub labels: Option<crate::pods::Labels>,
    pub records: Vec<Emitted>,
}

/// Records to ship together, with the checkpoints they advance once acknowledged.
#[derive(Debug, Default)]
pub struct Batch {
    pub chunks: Vec<FileChunk>,
    /// Message bytes in the batch.
    pub bytes: usize,
    pub records: usize,
    /// (fingerprint, offset, hash of the bytes before it) to store after the ack.
    pub checkpoints: Vec<(u64, u64, Option<u64>)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.records == 0 && self.checkpoints.is_empty()
    }

    fn push(&mut self, fp: u64, meta: &Arc<FileMeta>, recs: &mut Vec<Emitted>) {
        if recs.is_empty() {
            return;
        }
        self.records += recs.len();
        self.bytes += recs.iter().map(|r| r.message.len() + 32).sum::<usize>();
        match self.chunks.last_mut() {
            Some(c) if c.fingerprint == fp => c.records.append(recs),
            _ => self.chunks.push(FileChunk {
                fingerprint: fp,
                meta: meta.clone(),
                labels: None,
                records: std::mem::take(recs),
            }),
        }
    }

    fn checkpoint(&mut self, fp: u64, offset: u64, tail: Option<u64>) {
        match self.checkpoints.iter_mut().find(|c| c.0 == fp) {
            Some(c) if offset > c.1 => *c = (fp, offset, tail),
            Some(_) => {}
            None => self.checkpoints.push((fp, offset, tail)),
        }
    }
}

struct Tracked {
    loc: Location,
    path: PathBuf,
    group: (PathBuf, String),
    order: Order,
    mtime_ns: i128,
    meta: Arc<FileMeta>,
    file: Option<File>,
    read_offset: u64,
    /// Highest checkpoint offset handed out in a batch.
    checkpointed: u64,
    asm: Assembler,
    /// Head of an over-long line being skipped up to its `\n`, and where it started.
    skipping: Option<(Vec<u8>, u64)>,
    present: bool,
    /// An offset and the hash of the bytes just before it (the furthest point read, also
    /// across restarts): if they change, the file was truncated and rewritten in place
    /// (copytruncate) even when its size grew back.
    tail: Option<(u64, u64)>,
}

/// A directory and a live file name.
type Group = (PathBuf, String);
/// See [`discover::age_key`].
type AgeKey = (bool, i128, Order);

/// How many bytes before the read offset are checked for an in-place rewrite.
const TAIL_CHECK: u64 = 64;

fn tail_hash(file: &File, offset: u64) -> Option<u64> {
    let n = offset.min(TAIL_CHECK) as usize;
    let mut buf = [0u8; TAIL_CHECK as usize];
    match file.read_at(&mut buf[..n], offset - n as u64) {
        Ok(got) if got == n => Some(xxhash_rust::xxh3::xxh3_64(&buf[..n])),
        _ => None,
    }
}

impl Tracked {
    /// Whether the bytes before the read offset are still the ones read.
    fn unchanged(&self, file: &File) -> bool {
        match self.tail {
            Some((off, h)) => tail_hash(file, off) == Some(h),
            None => true,
        }
    }

    /// Whether `file` (of `size` bytes, with this file's head) holds what was read of this
    /// file: a copy, not merely a file with the same first line.
    fn copied_to(&self, file: &File, size: u64) -> bool {
        size >= self.read_extent() && self.unchanged(file)
    }

    /// How far the file is known to have been read (also before a restart).
    fn read_extent(&self) -> u64 {
        self.tail
            .map_or(self.read_offset, |(off, _)| off.max(self.read_offset))
    }
}

/// Reads files in order and fills batches; see the module doc.
pub struct Tailer {
    cfg: TailerConfig,
    store: Arc<CheckpointStore>,
    files: HashMap<u64, Tracked>,
    ids: ContainerIds,
    deferred: HashMap<PathBuf, Instant>,
    scanned_once: bool,
    rescan_needed: bool,
    buf: Vec<u8>,
    out: Vec<Emitted>,
    cursor: usize,
}

impl Tailer {
    /// A tailer that resumes from the checkpoints in `store`.
    pub fn new(cfg: TailerConfig, store: Arc<CheckpointStore>) -> Tailer {
        let mut files = HashMap::new();
        for e in store.entries() {
            let path = PathBuf::from(&e.path);
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let (base, suffix) = path::split_rotation(name);
            let group = (
                path.parent().map(|p| p.to_path_buf()).unwrap_or_default(),
                base.to_string(),
            );
            let order = if suffix.is_some() {
                Order::Named(suffix.unwrap_or_default().to_string())
            } else {
                Order::Live
            };
            files.insert(
                e.fingerprint,
                Tracked {
                    loc: e.location(),
                    meta: Arc::new(path::parse(&path)),
                    path,
                    group,
                    order,
                    mtime_ns: 0,
                    file: None,
                    read_offset: e.offset,
                    checkpointed: e.offset,
                    tail: e.sent.or(e.tail.map(|h| (e.offset, h))),
                    asm: Assembler::new(cfg.max_line),
                    skipping: None,
                    present: false,
                },
            );
        }
        let chunk = (cfg.max_line + 1).max(256 * 1024);
        Tailer {
            cfg,
            store,
            files,
            ids: ContainerIds::default(),
            deferred: HashMap::new(),
            scanned_once: false,
            rescan_needed: true,
            buf: vec![0; chunk],
            out: Vec::new(),
            cursor: 0,
        }
    }

    /// Whether a read found a file truncated in place, or nothing was scanned yet.
    pub fn rescan_needed(&self) -> bool {
        self.rescan_needed
    }

    /// Number of files being tailed.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The (namespace, pod, container) of every file being tailed.
    pub fn containers(&self) -> std::collections::HashSet<(String, String, String)> {
        self.files
            .values()
            .map(|t| {
                (
                    t.meta.namespace.clone(),
                    t.meta.pod.clone(),
                    t.meta.container.clone(),
                )
            })
            .collect()
    }

    /// Bytes not yet read of the files being tailed.
    pub fn lag_bytes(&self) -> u64 {
        self.files
            .values()
            .filter_map(|t| {
                let len = t.file.as_ref()?.metadata().ok()?.len();
                Some(len.saturating_sub(t.read_offset))
            })
            .sum()
    }

    /// Discovers files and matches them to known identities (see the module doc).
    ///
    /// Returns whether a file was first seen, moved or was found to be a copy: the caller
    /// must persist the checkpoints before shipping anything read afterwards, so that after
    /// a crash the same bytes are recognised as the same file (and resends de-duplicated).
    pub fn rescan(&mut self) -> bool {
        let mut changed = false;
        self.rescan_needed = false;
        self.ids = ContainerIds::load(&self.cfg.log_root);
        let mut located: Vec<(Candidate, Location, u64, File)> = Vec::new();
        for c in discover::scan(&self.cfg.globs) {
            let Ok(f) = File::open(&c.path) else { continue };
            if let Ok(Some((loc, size))) = fingerprint::locate(&f) {
                located.push((c, loc, size, f));
            }
        }
        let by_loc: HashMap<Location, u64> =
            self.files.iter().map(|(fp, t)| (t.loc, *fp)).collect();
        let mut assigned: Vec<Option<u64>> = vec![None; located.len()];
        let mut rewritten: Vec<bool> = vec![false; located.len()];
        let mut matched: HashSet<u64> = HashSet::new();
        // 1. Same device, inode and head; shorter than what was read means rewritten.
        for (i, (_, loc, size, file)) in located.iter().enumerate() {
            if let Some(fp) = by_loc.get(loc) {
                let t = &self.files[fp];
                if *size < t.read_offset || !t.unchanged(file) {
                    rewritten[i] = true;
                    tracing::debug!(path = %located[i].0.path.display(), "file rewritten in place: new identity");
                } else if matched.insert(*fp) {
                    assigned[i] = Some(*fp);
                }
            }
        }
        // 2. Copies of files whose inode lost its head (copytruncate), oldest first.
        for (i, (c, loc, size, file)) in located.iter().enumerate() {
            if assigned[i].is_some() || rewritten[i] {
                continue;
            }
            let orphan = self
                .files
                .iter()
                .filter(|(fp, t)| {
                    t.loc.head == loc.head && !matched.contains(*fp) && t.copied_to(file, *size)
                })
                .map(|(fp, _)| *fp)
                .next();
            // A rotated file whose bytes are a prefix of the live file of its group may be
            // logrotate's copy still being written (it copies, then truncates): wait.
            let copy_in_progress = || {
                located.iter().any(|(lc, lloc, lsize, lfile)| {
                    lc.order == Order::Live
                        && lc.group == c.group
                        && lloc.head == loc.head
                        && *lsize >= *size
                        && tail_hash(file, *size) == tail_hash(lfile, *size)
                })
            };
            if let Some(fp) = orphan {
                matched.insert(fp);
                assigned[i] = Some(fp);
                tracing::debug!(path = %c.path.display(), fp, "copy of a known file: continues it");
            } else if c.order != Order::Live && copy_in_progress() {
                let since = *self
                    .deferred
                    .entry(c.path.clone())
                    .or_insert_with(Instant::now);
                if since.elapsed() < DEFER_FOR {
                    assigned[i] = Some(0); // skip this scan
                    tracing::debug!(path = %c.path.display(), "possible copy in progress: waiting");
                }
            }
        }
        // 3. New files; then update every matched identity.
        let first = !self.scanned_once;
        self.scanned_once = true;
        let mut seen = HashSet::new();
        for ((c, loc, size, file), a) in located.into_iter().zip(assigned) {
            let fp = match a {
                Some(0) => continue,
                Some(fp) => fp,
                None => {
                    tracing::debug!(path = %c.path.display(), size, "new file");
                    let mut fp = loc.fingerprint();
                    while fp == 0 || self.files.contains_key(&fp) {
                        fp = fp.wrapping_add(1);
                    }
                    let start = if first && self.cfg.read_from == ReadFrom::End {
                        size
                    } else {
                        0
                    };
                    self.files.insert(
                        fp,
                        Tracked {
                            loc,
                            path: c.path.clone(),
                            group: c.group.clone(),
                            order: c.order.clone(),
                            mtime_ns: c.mtime_ns,
                            meta: Arc::new(FileMeta::default()),
                            file: None,
                            read_offset: start,
                            checkpointed: start,
                            asm: Assembler::new(self.cfg.max_line),
                            skipping: None,
                            present: true,
                            tail: None,
                        },
                    );
                    self.store.track(fp, loc, &c.path.to_string_lossy(), start);
                    fp
                }
            };
            self.deferred.remove(&c.path);
            seen.insert(fp);
            let Some(t) = self.files.get_mut(&fp) else {
                continue;
            };
            if t.loc != loc || t.path != c.path || t.meta.path.is_empty() {
                let mut meta = path::parse(&c.path);
                meta.container_id = self.ids.lookup(&c.path).unwrap_or_default().to_string();
                t.meta = Arc::new(meta);
                self.store
                    .track(fp, loc, &c.path.to_string_lossy(), t.read_offset);
                changed = true;
            }
            t.loc = loc;
            t.path = c.path;
            t.group = c.group;
            t.order = c.order;
            t.mtime_ns = c.mtime_ns;
            t.file = Some(file);
            t.present = true;
        }
        // Files not found: read what their open handle still holds, then forget them.
        let gone: Vec<u64> = self
            .files
            .iter_mut()
            .filter(|(fp, _)| !seen.contains(*fp))
            .filter_map(|(fp, t)| {
                t.present = false;
                t.file.is_none().then_some(*fp)
            })
            .collect();
        for fp in gone {
            self.files.remove(&fp);
            self.store.forget(fp);
        }
        self.deferred.retain(|p, _| p.exists());
        changed
    }

    /// Reads new data into `batch` until it holds `max_bytes` or every file is at its end.
    /// Returns true when it stopped because the batch is full.
    pub fn read(&mut self, batch: &mut Batch, max_bytes: usize) -> bool {
        let mut order: Vec<(&Group, AgeKey, u64)> = self
            .files
            .iter()
            .map(|(fp, t)| (&t.group, discover::age_key(&t.order, t.mtime_ns), *fp))
            .collect();
        order.sort();
        let mut groups: Vec<Vec<u64>> = Vec::new();
        let mut last: Option<&Group> = None;
        for (g, _, fp) in &order {
            if last != Some(*g) {
                groups.push(Vec::new());
                last = Some(*g);
            }
            if let Some(v) = groups.last_mut() {
                v.push(*fp);
            }
        }
        drop(order);
        let n = groups.len();
        if n == 0 {
            return false;
        }
        let start = self.cursor % n;
        let now = Instant::now();
        let mut finished = Vec::new();
        for k in 0..n {
            let group = &groups[(start + k) % n];
            for &fp in group {
                let at_end = self.read_file(fp, batch, max_bytes, now);
                if !at_end {
                    self.cursor = (start + k) % n;
                    return true;
                }
                if let Some(t) = self.files.get(&fp) {
                    if !t.present
                        && t.read_offset
                            >= t.file
                                .as_ref()
                                .and_then(|f| f.metadata().ok())
                                .map_or(0, |m| m.len())
                    {
                        finished.push(fp);
                    }
                }
            }
        }
        self.cursor = start + 1;
        for fp in finished {
            if let Some(t) = self.files.remove(&fp) {
                let mut out = Vec::new();
                let mut asm = t.asm;
                asm.flush_stale(now, Duration::ZERO, t.read_offset, &mut out);
                batch.push(fp, &t.meta, &mut out);
                let tail = t.file.as_ref().and_then(|f| tail_hash(f, t.read_offset));
                batch.checkpoint(fp, t.read_offset, tail);
            }
            self.store.forget(fp);
        }
        false
    }

    /// Reads one file; true when it reached the end of what is there.
    fn read_file(&mut self, fp: u64, batch: &mut Batch, max_bytes: usize, now: Instant) -> bool {
        let Some(t) = self.files.get_mut(&fp) else {
            return true;
        };
        let Some(file) = &t.file else { return true };
        let size = match file.metadata() {
            Ok(m) => m.len(),
            Err(_) => return true,
        };
        if size < t.read_offset || !t.unchanged(file) {
            // Truncated in place (copytruncate): identities are sorted out by a rescan.
            self.rescan_needed = true;
            return true;
        }
        let max_line = self.cfg.max_line;
        while t.read_offset < size {
            if batch.bytes >= max_bytes {
                return false;
            }
            let want = (size - t.read_offset).min(self.buf.len() as u64) as usize;
            let n = match file.read_at(&mut self.buf[..want], t.read_offset) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let data = &self.buf[..n];
            let base = t.read_offset;
            let mut pos = 0usize;
            while let Some(nl) = memchr::memchr(b'\n', &data[pos..]) {
                let end = base + (pos + nl + 1) as u64;
                match t.skipping.take() {
                    Some((head, hstart)) => {
                        t.asm.line(&head, hstart, end, true, now, &mut self.out)
                    }
                    None => {
                        let line = &data[pos..pos + nl];
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        t.asm
                            .line(line, base + pos as u64, end, false, now, &mut self.out)
                    }
                }
                pos += nl + 1;
            }
            if pos == 0 {
                if t.skipping.is_some() {
                    pos = n;
                } else if n > max_line {
                    t.skipping = Some((data[..max_line].to_vec(), base));
                    pos = n;
                } else {
                    break; // an unfinished last line: wait for the rest
                }
            }
            t.read_offset += pos as u64;
            batch.push(fp, &t.meta, &mut self.out);
            if pos < n && t.read_offset + (n - pos) as u64 >= size {
                break; // only an unfinished line is left
            }
        }
        // Remember the bytes before the read offset (never moving the check backwards).
        if let Some(h) = tail_hash(file, t.read_offset) {
            if t.tail.is_none_or(|(off, _)| t.read_offset >= off) {
                t.tail = Some((t.read_offset, h));
            }
            if t.read_offset > 0 {
                self.store.sent(fp, t.read_offset, h);
            }
        }
        t.asm
            .flush_stale(now, self.cfg.partial_timeout, t.read_offset, &mut self.out);
        batch.push(fp, &t.meta, &mut self.out);
        let mut safe = t.asm.safe_offset(t.read_offset);
        if let Some((_, s)) = &t.skipping {
            safe = safe.min(*s);
        }
        if safe > t.checkpointed {
            t.checkpointed = safe;
            batch.checkpoint(fp, safe, tail_hash(file, safe));
        }
        true
    }
}

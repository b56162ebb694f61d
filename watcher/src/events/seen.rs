//! The persisted record of what the aggregator acknowledged: per Event uid the count,
//! resourceVersion and time of the last state it stored. It is what makes a relist or a
//! restart deliver nothing twice, and what makes `argus_kube_events_total` count each
//! occurrence once: after a restart, an Event whose count rose from 3 to 5 while the
//! watcher was down adds 2.
//!
//! Files: a snapshot, `<data-dir>/watcher/events-seen.json`, version 1:
//! `{"version":1,"events":[{"uid":"…","count":3,"rv":"114058053","ts":<ns>,"at":<ns>}]}`
//! where `ts` is the Event's time and `at` when the state was recorded, written atomically
//! (tmp file, fsync, rename, fsync of the directory); and a journal beside it,
//! `events-seen.journal`, one such event object per line, to which each save appends only
//! the states recorded since the last one (and fsyncs). Once the journal outgrows twice the
//! snapshot (at least 1 MiB), a save writes a new snapshot and empties the journal, so a
//! save costs what changed, not the whole record. Loading replays the journal over the
//! snapshot with the rule of [`Seen::record`] (a state never replaces a newer one), so a
//! crash between the two steps of a compaction loses nothing; a torn last line (a crash
//! mid-append) is cut off.
//!
//! Bounded: a uid whose Event time and recording time are both older than the retention
//! (2 h by default) is dropped — Kubernetes deletes an Event one `--event-ttl` (1 h by
//! default) after its last update, and every update moves the Event's time, so the API
//! server cannot serve it again; a cluster with a longer `--event-ttl` needs a longer
//! retention. Beyond a cap, the least recent uids are dropped too.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use argus_core::event::KubeEvent;
use serde::{Deserialize, Serialize};

use crate::{io_err, Error, Result};

/// The current file format version.
const VERSION: u32 = 1;

/// The journal is folded into a new snapshot once it is larger than twice the snapshot
/// and than this.
const JOURNAL_MIN_BYTES: u64 = 1 << 20;

/// One recorded state of an Event: what decides whether a later state is news.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mark {
    /// Occurrences (the Event's count).
    pub count: u64,
    /// The Event object's resourceVersion.
    pub resource_version: String,
    /// The Event's time (ns), see [`KubeEvent::timestamp`].
    pub timestamp: i64,
}

impl Mark {
    /// The mark of a converted Event.
    pub fn of(ev: &KubeEvent) -> Mark {
        Mark {
            count: ev.count,
            resource_version: ev.resource_version.clone(),
            timestamp: ev.timestamp,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    mark: Mark,
    /// When the state was recorded (ns, wall clock).
    recorded_at: i64,
}

impl Entry {
    fn last_active(&self) -> i64 {
        self.mark.timestamp.max(self.recorded_at)
    }
}

/// The record, in memory; [`Seen::save`] persists it.
#[derive(Debug)]
pub struct Seen {
    path: PathBuf,
    entries: HashMap<String, Entry>,
    retention_ns: i64,
    max_entries: usize,
    /// Uids recorded since the last save.
    changed: HashSet<String>,
    /// The next save writes a snapshot (a compaction failed half-way).
    compact: bool,
    snapshot_bytes: u64,
    journal_bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    events: Vec<Row>,
}

#[derive(Serialize, Deserialize)]
struct Row {
    uid: String,
    count: u64,
    #[serde(default)]
    rv: String,
    #[serde(default)]
    ts: i64,
    #[serde(default)]
    at: i64,
}

impl Seen {
    /// An empty record that will be saved at `path`.
    pub fn new(path: PathBuf, retention: Duration, max_entries: usize) -> Seen {
        Seen {
            path,
            entries: HashMap::new(),
            retention_ns: i64::try_from(retention.as_nanos()).unwrap_or(i64::MAX),
            max_entries: max_entries.max(1),
            changed: HashSet::new(),
            compact: false,
            snapshot_bytes: 0,
            journal_bytes: 0,
        }
    }

    /// The journal beside the snapshot.
    pub fn journal_path(&self) -> PathBuf {
        self.path.with_extension("journal")
    }

    /// Loads `path`; a missing file is an empty record, an unreadable one an error naming it.
    pub fn load(path: PathBuf, retention: Duration, max_entries: usize) -> Result<Seen> {
        let mut seen = Seen::new(path, retention, max_entries);
        let bytes = match std::fs::read(&seen.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&seen.path)(e)),
        };
        if !bytes.is_empty() {
            seen.load_snapshot(&bytes)?;
        }
        seen.snapshot_bytes = bytes.len() as u64;
        seen.replay_journal()?;
        Ok(seen)
    }

    fn load_snapshot(&mut self, bytes: &[u8]) -> Result<()> {
        let seen = self;
        let corrupt = |message: String| Error::Seen {
            path: seen.path.display().to_string(),
            message,
        };
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        if v.version != VERSION {
            return Err(corrupt(format!(
                "version {} is not known to this argus (it writes version {VERSION})",
                v.version
            )));
        }
        let file: FileV1 = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        for row in file.events {
            seen.apply(row);
        }
        Ok(())
    }

    /// Replays the journal over the snapshot; cuts a torn last line off the file.
    fn replay_journal(&mut self) -> Result<()> {
        let path = self.journal_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mut good = 0usize;
        let mut lines = bytes
            .split_inclusive(|b| *b == b'\n')
            .enumerate()
            .peekable();
        while let Some((i, line)) = lines.next() {
            let last = lines.peek().is_none();
            let complete = line.ends_with(b"\n");
            match serde_json::from_slice::<Row>(line.strip_suffix(b"\n").unwrap_or(line)) {
                Ok(row) if complete => {
                    self.apply(row);
                    good += line.len();
                }
                Err(e) if !last => {
                    return Err(Error::Seen {
                        path: path.display().to_string(),
                        message: format!("line {}: {e}", i + 1),
                    })
                }
                // A crash mid-append leaves a partial last line: what it held was not saved.
                _ => break,
            }
        }
        if good < bytes.len() {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            f.set_len(good as u64).map_err(io_err(&path))?;
            f.sync_all().map_err(io_err(&path))?;
        }
        self.journal_bytes = good as u64;
        Ok(())
    }

    /// A saved state, unless the record holds a newer one (see [`Seen::record`]).
    fn apply(&mut self, row: Row) {
        let mark = Mark {
            count: row.count,
            resource_version: row.rv,
            timestamp: row.ts,
        };
        match self.entries.get_mut(&row.uid) {
            Some(e) if mark.count < e.mark.count => {}
            Some(e) => {
                e.mark = mark;
                e.recorded_at = row.at;
            }
            None => {
                self.entries.insert(
                    row.uid,
                    Entry {
                        mark,
                        recorded_at: row.at,
                    },
                );
            }
        }
    }

    /// Where the record is saved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded state of `uid`.
    pub fn get(&self, uid: &str) -> Option<&Mark> {
        self.entries.get(uid).map(|e| &e.mark)
    }

    /// Every recorded uid with its state and when it was recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Mark, i64)> {
        self.entries
            .iter()
            .map(|(uid, e)| (uid.as_str(), &e.mark, e.recorded_at))
    }

    /// Number of uids recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether something changed since the last [`Seen::save`].
    pub fn is_dirty(&self) -> bool {
        !self.changed.is_empty() || self.compact
    }

    /// Records an acknowledged state and returns its new occurrences: the count minus the
    /// previously recorded count (the whole count for a uid not recorded before). A state
    /// older than the recorded one changes nothing and adds 0.
    pub fn record(&mut self, uid: &str, mark: Mark, now: i64) -> u64 {
        if !self.changed.contains(uid) {
            self.changed.insert(uid.to_string());
        }
        match self.entries.get_mut(uid) {
            None => {
                let delta = mark.count;
                self.entries.insert(
                    uid.to_string(),
                    Entry {
                        mark,
                        recorded_at: now,
                    },
                );
                delta
            }
            Some(e) => {
                if mark.count < e.mark.count {
                    return 0;
                }
                let delta = mark.count - e.mark.count;
                e.mark = mark;
                e.recorded_at = now;
                delta
            }
        }
    }

    /// Drops uids whose Event time and recording time are both older than the retention,
    /// then the least recent beyond the cap. Returns how many were dropped.
    pub fn prune(&mut self, now: i64) -> usize {
        let before = self.entries.len();
        let cutoff = now.saturating_sub(self.retention_ns);
        self.entries.retain(|_, e| e.last_active() >= cutoff);
        if self.entries.len() > self.max_entries {
            let mut ages: Vec<i64> = self.entries.values().map(Entry::last_active).collect();
            let excess = self.entries.len() - self.max_entries;
            ages.select_nth_unstable(excess - 1);
            let oldest_kept = ages[excess - 1];
            // Ties at the boundary may drop a few more than the excess; that only costs a
            // re-delivery the aggregator ignores.
            self.entries.retain(|_, e| e.last_active() > oldest_kept);
        }
        let dropped = before - self.entries.len();
        if dropped > 0 {
            let entries = &self.entries;
            self.changed.retain(|uid| entries.contains_key(uid));
        }
        dropped
    }

    /// Prunes, then persists what changed since the last save: appended to the journal,
    /// or a new snapshot once the journal has grown (see the module docs). On an error
    /// nothing is forgotten: the next save writes it.
    pub fn save(&mut self, now: i64) -> Result<()> {
        self.prune(now);
        if !self.is_dirty() {
            return Ok(());
        }
        let journal = self.journal_path();
        if self.compact || self.journal_bytes > (2 * self.snapshot_bytes).max(JOURNAL_MIN_BYTES) {
            let bytes = self.encode();
            write_atomic(&self.path, &bytes)?;
            // The snapshot holds everything now; a crash before the journal is emptied
            // replays states the snapshot already has, which changes nothing.
            self.compact = true;
            self.changed.clear();
            match std::fs::OpenOptions::new().write(true).open(&journal) {
                Ok(f) => {
                    f.set_len(0).map_err(io_err(&journal))?;
                    f.sync_all().map_err(io_err(&journal))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&journal)(e)),
            }
            self.compact = false;
            self.snapshot_bytes = bytes.len() as u64;
            self.journal_bytes = 0;
            return Ok(());
        }
        let mut buf = Vec::with_capacity(self.changed.len() * 100);
        for uid in &self.changed {
            if let Some(e) = self.entries.get(uid) {
                let row = Row {
                    uid: uid.clone(),
                    count: e.mark.count,
                    rv: e.mark.resource_version.clone(),
                    ts: e.mark.timestamp,
                    at: e.recorded_at,
                };
                if serde_json::to_writer(&mut buf, &row).is_ok() {
                    buf.push(b'\n');
                }
            }
        }
        if let Some(dir) = journal.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal)
            .and_then(|mut f| {
                f.write_all(&buf)?;
                f.sync_data()
            });
        if let Err(e) = appended {
            // Part of a line may have been written: the next save starts a new snapshot
            // and journal rather than append after it.
            self.compact = true;
            return Err(io_err(&journal)(e));
        }
        self.journal_bytes += buf.len() as u64;
        self.changed.clear();
        Ok(())
    }

    /// The snapshot's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let file = FileV1 {
            version: VERSION,
            events: self
                .entries
                .iter()
                .map(|(uid, e)| Row {
                    uid: uid.clone(),
                    count: e.mark.count,
                    rv: e.mark.resource_version.clone(),
                    ts: e.mark.timestamp,
                    at: e.recorded_at,
                })
                .collect(),
        };
        serde_json::to_vec(&file).unwrap_or_default()
    }
}

/// Replaces `path` with `bytes` atomically: a temporary sibling is written and fsynced,
/// renamed over `path`, and the directory fsynced, so a crash leaves the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Not every filesystem lets a directory be fsynced; the rename is done either way.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    fn mark(count: u64, rv: &str, ts: i64) -> Mark {
        Mark {
            count,
            resource_version: rv.into(),
            timestamp: ts,
        }
    }

    #[test]
    fn record_returns_new_occurrences() {
        let mut s = Seen::new("x".into(), Duration::from_secs(7200), 100);
        assert_eq!(s.record("a", mark(3, "10", 1), 0), 3);
        assert_eq!(s.record("a", mark(5, "12", 2), 0), 2);
        assert_eq!(s.record("a", mark(5, "13", 3), 0), 0);
        assert_eq!(s.record("a", mark(4, "11", 1), 0), 0, "an older state");
        assert_eq!(s.get("a"), Some(&mark(5, "13", 3)));
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("watcher").join("events-seen.json");
        let mut s = Seen::new(path.clone(), Duration::from_secs(7200), 100);
        s.record("a", mark(3, "10", 11), 5);
        s.record("b", mark(1, "", 0), 6);
        assert!(s.is_dirty());
        s.save(6).expect("save");
        assert!(!s.is_dirty());
        let back = Seen::load(path.clone(), Duration::from_secs(7200), 100).expect("load");
        assert_eq!(back.len(), 2);
        assert_eq!(back.get("a"), Some(&mark(3, "10", 11)));
        assert_eq!(back.get("b"), Some(&mark(1, "", 0)));
        assert!(!path.with_extension("json.tmp").exists());
    }

    fn journal_lines(s: &Seen) -> usize {
        std::fs::read_to_string(s.journal_path())
            .unwrap_or_default()
            .lines()
            .count()
    }

    #[test]
    fn a_save_appends_only_what_changed_and_compacts_a_grown_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events-seen.json");
        let mut s = Seen::new(path.clone(), Duration::from_secs(7200), 1_000_000);
        s.record("a", mark(1, "1", 1), 1);
        s.record("b", mark(1, "2", 1), 1);
        s.save(1).expect("save");
        assert_eq!(journal_lines(&s), 2);
        assert!(!path.exists(), "no snapshot for a small journal");
        s.record("a", mark(4, "3", 2), 2);
        s.save(2).expect("save");
        assert_eq!(journal_lines(&s), 3, "one line for the one change");
        s.save(2).expect("nothing to save");
        assert_eq!(journal_lines(&s), 3);
        let back = Seen::load(path.clone(), Duration::from_secs(7200), 1_000_000).expect("load");
        assert_eq!(back.get("a"), Some(&mark(4, "3", 2)));
        assert_eq!(back.get("b"), Some(&mark(1, "2", 1)));

        // Past 1 MiB (and twice the snapshot) the journal becomes a snapshot.
        let mut i = 0u64;
        while s.journal_bytes <= JOURNAL_MIN_BYTES {
            for _ in 0..1000 {
                i += 1;
                s.record(&format!("uid-{i:08}"), mark(i, &i.to_string(), 3), 3);
            }
            s.save(3).expect("save");
        }
        s.record("a", mark(5, "9", 4), 4);
        s.save(4).expect("compaction");
        assert!(path.exists());
        assert_eq!(journal_lines(&s), 0, "emptied");
        let back = Seen::load(path, Duration::from_secs(7200), 1_000_000).expect("load");
        assert_eq!(back.len() as u64, i + 2);
        assert_eq!(back.get("a"), Some(&mark(5, "9", 4)));
        assert_eq!(back.get("uid-00000007"), Some(&mark(7, "7", 3)));
    }

    #[test]
    fn replay_never_goes_back_and_cuts_a_torn_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events-seen.json");
        // A crash after a compaction's snapshot, before the journal was emptied: the
        // journal's older states must not replace the snapshot's.
        std::fs::write(
            &path,
            r#"{"version":1,"events":[{"uid":"u","count":7,"rv":"99","ts":1,"at":2}]}"#,
        )
        .expect("write");
        let journal = path.with_extension("journal");
        std::fs::write(
            &journal,
            concat!(
                r#"{"uid":"u","count":5,"rv":"90","ts":1,"at":1}"#,
                "\n",
                r#"{"uid":"v","count":2,"rv":"91","ts":1,"at":1}"#,
                "\n",
                r#"{"uid":"w","cou"#
            ),
        )
        .expect("write");
        let mut s = Seen::load(path.clone(), Duration::from_secs(7200), 100).expect("load");
        assert_eq!(s.get("u"), Some(&mark(7, "99", 1)));
        assert_eq!(s.get("v"), Some(&mark(2, "91", 1)));
        assert!(s.get("w").is_none(), "the torn line was not saved");
        // The torn line is cut, so the next append starts a line of its own.
        s.record("w", mark(1, "92", 1), 3);
        s.save(3).expect("save");
        let back = Seen::load(path.clone(), Duration::from_secs(7200), 100).expect("load");
        assert_eq!(back.get("w"), Some(&mark(1, "92", 1)));
        assert_eq!(journal_lines(&back), 3);

        // A damaged line that is not the last is an error naming the file and line.
        std::fs::write(&journal, "{\"uid\":\"u\"\n{}\n").expect("write");
        let e = Seen::load(path, Duration::from_secs(7200), 100)
            .expect_err("corrupt")
            .to_string();
        assert!(
            e.contains("events-seen.journal") && e.contains("line 1"),
            "{e}"
        );
    }

    #[test]
    fn opens_version_1_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events-seen.json");
        std::fs::write(
            &path,
            r#"{"version":1,"events":[{"uid":"u","count":7,"rv":"99","ts":1,"at":2}]}"#,
        )
        .expect("write");
        let s = Seen::load(path, Duration::from_secs(7200), 100).expect("load");
        assert_eq!(s.get("u"), Some(&mark(7, "99", 1)));
    }

    #[test]
    fn unreadable_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events-seen.json");
        for text in ["{not json", r#"{"version":9,"events":[]}"#] {
            std::fs::write(&path, text).expect("write");
            let e = Seen::load(path.clone(), Duration::from_secs(7200), 100)
                .expect_err("corrupt")
                .to_string();
            assert!(e.contains("events-seen.json"), "{e}");
        }
        let missing = Seen::load(dir.path().join("none"), Duration::from_secs(1), 1);
        assert!(missing.expect("missing is empty").is_empty());
    }

    #[test]
    fn prune_drops_old_events_and_caps() {
        let mut s = Seen::new("x".into(), Duration::from_secs(7200), 3);
        // Recorded at 0h..4h, with Event times of 0 (unknown).
        for (i, uid) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            s.record(uid, mark(1, "1", 0), i as i64 * H);
        }
        // At 4h, "a" (0h) and "b" (1h) are older than 2h.
        assert_eq!(s.prune(4 * H), 2);
        assert!(s.get("a").is_none() && s.get("b").is_none() && s.get("c").is_some());
        // The cap keeps the most recent.
        s.record("f", mark(1, "1", 0), 4 * H);
        assert_eq!(s.prune(4 * H), 1);
        assert!(s.get("c").is_none());
        assert_eq!(s.len(), 3);
        // A recent Event time keeps an entry recorded long ago; an update refreshes it.
        s.record("d", mark(2, "2", 10 * H), 5 * H);
        s.record("e", mark(2, "2", 0), 10 * H);
        assert_eq!(s.prune(11 * H), 1);
        assert!(s.get("d").is_some() && s.get("e").is_some() && s.get("f").is_none());
    }
}

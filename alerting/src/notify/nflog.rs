//! The notification log (Alertmanager's `nflog`): per group key, receiver and integration,
//! which alerts were firing and resolved at the last successful notification and when.
//! [`needs_update`] is Alertmanager 0.25's `DedupStage.needsUpdate`; alerts are
//! identified by [`alert_hash`] (its `hashAlert`). Entries expire `retention` (120h)
//! after they were written; the log is written to a JSON file (atomically) after every
//! change and read back at start.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use argus_core::series::Labels;
use serde_json::{json, Value};

use crate::notify::persist;
use crate::notify::receivers::config::IntegrationId;
use crate::notify::Alert;

/// How long an entry is kept (Alertmanager's `--data.retention`).
pub const DEFAULT_RETENTION_MS: i64 = 120 * 3_600_000;

const FILE_VERSION: u64 = 1;

/// Alertmanager's `hashAlert`: xxHash64 of the label names and values in name order,
/// each followed by `0xff`.
pub fn alert_hash(labels: &Labels) -> u64 {
    let mut b = Vec::with_capacity(128);
    for l in labels.iter() {
        b.extend_from_slice(l.name.as_bytes());
        b.push(0xff);
        b.extend_from_slice(l.value.as_bytes());
        b.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&b, 0)
}

/// The hashes of the firing and of the resolved alerts at `now_ms`, in the given order
/// (the `FiringAlerts`/`ResolvedAlerts` of the pipeline).
pub fn firing_and_resolved(alerts: &[Alert], now_ms: i64) -> (Vec<u64>, Vec<u64>) {
    let mut firing = Vec::new();
    let mut resolved = Vec::new();
    for a in alerts {
        if a.resolved_at(now_ms) {
            resolved.push(alert_hash(&a.labels));
        } else {
            firing.push(alert_hash(&a.labels));
        }
    }
    (firing, resolved)
}

/// What was last notified to one integration of a receiver for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NflogEntry {
    /// Hashes ([`alert_hash`]) of the alerts firing then.
    pub firing: Vec<u64>,
    /// Hashes of the alerts resolved then.
    pub resolved: Vec<u64>,
    /// When the notification was logged.
    pub timestamp_ms: i64,
    /// When the entry is dropped (`timestamp` + retention).
    pub expires_at_ms: i64,
}

/// `DedupStage.needsUpdate`: whether a group's alerts must be sent to an integration.
///
/// - nothing logged yet: send when something fires;
/// - something fires that was not firing at the last notification: send;
/// - nothing fires: send only if something was firing at the last notification (the
///   "all resolved" message, also without `send_resolved`, to clear the log);
/// - with `send_resolved`, something resolved that was not resolved last time: send;
/// - otherwise send when the last notification is older than `repeat_interval`
///   (strictly: `timestamp < now - repeat_interval`).
pub fn needs_update(
    entry: Option<&NflogEntry>,
    firing: &[u64],
    resolved: &[u64],
    send_resolved: bool,
    repeat_interval_ms: i64,
    now_ms: i64,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    let is_subset = |subset: &[u64], set: &[u64]| {
        let set: HashSet<u64> = set.iter().copied().collect();
        subset.iter().all(|h| set.contains(h))
    };
    if !is_subset(firing, &entry.firing) {
        return true;
    }
    if firing.is_empty() {
        return !entry.firing.is_empty();
    }
    if send_resolved && !is_subset(resolved, &entry.resolved) {
        return true;
    }
    entry.timestamp_ms < now_ms - repeat_interval_ms
}

/// Why the log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NflogError {
    #[error("writing the notification log to {path}: {source}")]
    /// The file could not be written.
    Write {
        /// The file.
        path: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("reading the notification log from {path}: {message}")]
    /// The file could not be read or is not a notification log.
    Read {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// (group key, receiver name, integration name, integration index).
type Key = (String, String, String, usize);

/// The log.
#[derive(Debug, Clone)]
pub struct Nflog {
    path: Option<PathBuf>,
    retention_ms: i64,
    entries: BTreeMap<Key, NflogEntry>,
    /// Changed by [`Nflog::record`] since the last [`Nflog::snapshot`].
    dirty: bool,
}

/// The file contents of a persisted log, to be written with [`Snapshot::write`] (outside
/// any lock: it fsyncs).
pub struct Snapshot {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Snapshot {
    /// Writes the file atomically (write, fsync, rename).
    pub fn write(&self) -> Result<(), NflogError> {
        persist::write_atomic(&self.path, &self.bytes).map_err(|source| NflogError::Write {
            path: self.path.display().to_string(),
            source,
        })
    }
}

impl Default for Nflog {
    fn default() -> Self {
        Nflog::in_memory()
    }
}

fn key(group_key: &str, receiver: &str, integration: &IntegrationId) -> Key {
    (
        group_key.to_string(),
        receiver.to_string(),
        integration.name.to_string(),
        integration.index,
    )
}

impl Nflog {
    /// A log kept only in memory.
    pub fn in_memory() -> Nflog {
        Nflog {
            path: None,
            retention_ms: DEFAULT_RETENTION_MS,
            entries: BTreeMap::new(),
            dirty: false,
        }
    }

    /// A log persisted to `path`, loaded from it when it exists (expired entries
    /// dropped).
    pub fn open(path: impl Into<PathBuf>, now_ms: i64) -> Result<Nflog, NflogError> {
        let path = path.into();
        let shown = path.display().to_string();
        let read_err = |message: String| NflogError::Read {
            path: shown.clone(),
            message,
        };
        let mut log = Nflog {
            path: Some(path.clone()),
            ..Nflog::in_memory()
        };
        let Some(bytes) = persist::read(&path).map_err(|e| read_err(e.to_string()))? else {
            return Ok(log);
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| read_err(e.to_string()))?;
        if v.get("version").and_then(Value::as_u64) != Some(FILE_VERSION) {
            return Err(read_err(format!(
                "unsupported version {}, expected {FILE_VERSION}",
                v.get("version").unwrap_or(&Value::Null)
            )));
        }
        let items = v.get("entries").and_then(Value::as_array);
        for (i, e) in items
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let (k, entry) =
                entry_from_json(e).ok_or_else(|| read_err(format!("entries[{i}] is malformed")))?;
            if entry.expires_at_ms >= now_ms {
                log.entries.insert(k, entry);
            }
        }
        Ok(log)
    }

    /// Sets how long entries are kept (default 120h).
    pub fn with_retention(mut self, retention_ms: i64) -> Nflog {
        self.retention_ms = retention_ms;
        self
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The last notification of this group to this integration.
    pub fn get(
        &self,
        group_key: &str,
        receiver: &str,
        integration: &IntegrationId,
    ) -> Option<&NflogEntry> {
        self.entries.get(&key(group_key, receiver, integration))
    }

    /// [`needs_update`] against this integration's entry (`send_resolved` from the
    /// integration).
    #[allow(clippy::too_many_arguments)]
    pub fn needs_update(
        &self,
        group_key: &str,
        receiver: &str,
        integration: &IntegrationId,
        firing: &[u64],
        resolved: &[u64],
        repeat_interval_ms: i64,
        now_ms: i64,
    ) -> bool {
        needs_update(
            self.get(group_key, receiver, integration),
            firing,
            resolved,
            integration.send_resolved,
            repeat_interval_ms,
            now_ms,
        )
    }

    /// Records a successful notification at `now_ms` (after it was sent, as
    /// `SetNotifiesStage`). An entry newer than `now_ms` is kept.
    pub fn log(
        &mut self,
        group_key: &str,
        receiver: &str,
        integration: &IntegrationId,
        firing: &[u64],
        resolved: &[u64],
        now_ms: i64,
    ) -> Result<(), NflogError> {
        let k = key(group_key, receiver, integration);
        if self
            .entries
            .get(&k)
            .is_some_and(|e| e.timestamp_ms > now_ms)
        {
            return Ok(());
        }
        let mut next = self.entries.clone();
        next.insert(
            k,
            NflogEntry {
                firing: firing.to_vec(),
                resolved: resolved.to_vec(),
                timestamp_ms: now_ms,
                expires_at_ms: now_ms.saturating_add(self.retention_ms),
            },
        );
        self.commit(next)
    }

    /// Records like [`Nflog::log`] in memory only; the file is written from
    /// [`Nflog::snapshot`], so a busy notifier pays one fsync per batch of deliveries
    /// instead of one per delivery (Alertmanager snapshots its log every 15 minutes).
    pub fn record(
        &mut self,
        group_key: &str,
        receiver: &str,
        integration: &IntegrationId,
        firing: &[u64],
        resolved: &[u64],
        now_ms: i64,
    ) {
        let k = key(group_key, receiver, integration);
        if self
            .entries
            .get(&k)
            .is_some_and(|e| e.timestamp_ms > now_ms)
        {
            return;
        }
        self.entries.insert(
            k,
            NflogEntry {
                firing: firing.to_vec(),
                resolved: resolved.to_vec(),
                timestamp_ms: now_ms,
                expires_at_ms: now_ms.saturating_add(self.retention_ms),
            },
        );
        self.dirty = self.path.is_some();
    }

    /// What to write after [`Nflog::record`]s, if anything changed since the last call.
    pub fn snapshot(&mut self) -> Option<Snapshot> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        let path = self.path.clone()?;
        Some(Snapshot {
            path,
            bytes: self.file_bytes(&self.entries),
        })
    }

    fn file_bytes(&self, entries: &BTreeMap<Key, NflogEntry>) -> Vec<u8> {
        let entries: Vec<Value> = entries.iter().map(|(k, e)| entry_to_json(k, e)).collect();
        serde_json::to_vec(&json!({"version": FILE_VERSION, "entries": entries}))
            .unwrap_or_default()
    }

    /// Drops entries past their expiry; returns how many.
    pub fn gc(&mut self, now_ms: i64) -> Result<usize, NflogError> {
        let mut next = self.entries.clone();
        next.retain(|_, e| e.expires_at_ms >= now_ms);
        let n = self.entries.len() - next.len();
        if n > 0 {
            self.commit(next)?;
        }
        Ok(n)
    }

    fn commit(&mut self, next: BTreeMap<Key, NflogEntry>) -> Result<(), NflogError> {
        if let Some(path) = &self.path {
            let bytes = self.file_bytes(&next);
            persist::write_atomic(path, &bytes).map_err(|source| NflogError::Write {
                path: path.display().to_string(),
                source,
            })?;
        }
        self.entries = next;
        self.dirty = false;
        Ok(())
    }
}

fn entry_to_json(k: &Key, e: &NflogEntry) -> Value {
    json!({
        "groupKey": k.0,
        "receiver": k.1,
        "integration": k.2,
        "index": k.3,
        "firing": e.firing,
        "resolved": e.resolved,
        "timestamp": e.timestamp_ms,
        "expiresAt": e.expires_at_ms,
    })
}

fn entry_from_json(v: &Value) -> Option<(Key, NflogEntry)> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let hashes = |k: &str| {
        v.get(k)?
            .as_array()?
            .iter()
            .map(Value::as_u64)
            .collect::<Option<Vec<u64>>>()
    };
    let k = (
        s("groupKey")?,
        s("receiver")?,
        s("integration")?,
        usize::try_from(v.get("index")?.as_u64()?).ok()?,
    );
    let e = NflogEntry {
        firing: hashes("firing")?,
        resolved: hashes("resolved")?,
        timestamp_ms: v.get("timestamp")?.as_i64()?,
        expires_at_ms: v.get("expiresAt")?.as_i64()?,
    };
    Some((k, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn entry(firing: &[u64], resolved: &[u64], ts: i64) -> NflogEntry {
        NflogEntry {
            firing: firing.to_vec(),
            resolved: resolved.to_vec(),
            timestamp_ms: ts,
            expires_at_ms: ts + DEFAULT_RETENTION_MS,
        }
    }

    #[test]
    fn hash_is_alertmanagers_xxhash() {
        // xxHash64 of "" (seed 0) is the well-known ef46db3751d8e999.
        assert_eq!(alert_hash(&Labels::default()), 0xef46db3751d8e999);
        let a = Labels::new([("alertname", "A"), ("job", "x")]);
        let b = Labels::new([("job", "x"), ("alertname", "A")]);
        assert_eq!(alert_hash(&a), alert_hash(&b));
        assert_eq!(
            alert_hash(&a),
            xxhash_rust::xxh64::xxh64(b"alertname\xffA\xffjob\xffx\xff", 0)
        );
    }

    #[test]
    fn dedup_stage_rules() {
        let now = 10 * H;
        let rep = 4 * H;
        // No entry: only when something fires.
        assert!(needs_update(None, &[1], &[], false, rep, now));
        assert!(!needs_update(None, &[], &[1], true, rep, now));
        // New firing alert.
        let e = entry(&[1, 2], &[], now - 60_000);
        assert!(needs_update(Some(&e), &[1, 3], &[], false, rep, now));
        // Firing subset, nothing new: wait for the repeat interval.
        assert!(!needs_update(Some(&e), &[1], &[2], false, rep, now));
        assert!(!needs_update(Some(&e), &[1, 2], &[], true, rep, now));
        // With send_resolved a newly resolved alert is news.
        assert!(needs_update(Some(&e), &[1], &[2], true, rep, now));
        // Everything resolved: send (even without send_resolved) as something fired.
        assert!(needs_update(Some(&e), &[], &[1, 2], false, rep, now));
        // ...but not when nothing fired last time either.
        let quiet = entry(&[], &[1], now - 60_000);
        assert!(!needs_update(Some(&quiet), &[], &[1, 2], true, rep, now));
        // Already notified as resolved.
        let res = entry(&[1], &[2], now - 60_000);
        assert!(!needs_update(Some(&res), &[1], &[2], true, rep, now));
        // Repeat: strictly older than now - repeat_interval.
        let old = entry(&[1], &[], now - rep);
        assert!(!needs_update(Some(&old), &[1], &[], false, rep, now));
        assert!(needs_update(Some(&old), &[1], &[], false, rep, now + 1));
    }

    #[test]
    fn log_keys_by_group_receiver_and_integration() {
        let mut log = Nflog::in_memory();
        let wh0 = IntegrationId {
            name: "webhook",
            index: 0,
            send_resolved: true,
        };
        let wh1 = IntegrationId { index: 1, ..wh0 };
        log.log("{}:{}", "r", &wh0, &[1], &[], 100).expect("log");
        assert!(log.get("{}:{}", "r", &wh0).is_some());
        assert!(log.get("{}:{}", "r", &wh1).is_none());
        assert!(log.get("{}:{}", "other", &wh0).is_none());
        assert!(!log.needs_update("{}:{}", "r", &wh0, &[1], &[], H, 200));
        assert!(log.needs_update("{}:{}", "r", &wh1, &[1], &[], H, 200));
        // An entry newer than the write is kept.
        log.log("{}:{}", "r", &wh0, &[9], &[], 50).expect("log");
        assert_eq!(
            log.get("{}:{}", "r", &wh0).map(|e| e.firing.clone()),
            Some(vec![1])
        );
    }

    #[test]
    fn persisted_with_retention() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nflog.json");
        let wh = IntegrationId {
            name: "slack",
            index: 2,
            send_resolved: false,
        };
        let mut log = Nflog::open(&path, 0).expect("open");
        log.log("g1", "r", &wh, &[u64::MAX, 7], &[3], 1_000)
            .expect("log");
        log.log("g2", "r", &wh, &[8], &[], 2_000).expect("log");
        let back = Nflog::open(&path, 1_000).expect("reopen");
        assert_eq!(back.get("g1", "r", &wh), log.get("g1", "r", &wh));
        assert_eq!(back.len(), 2);
        let back = Nflog::open(&path, 1_001 + DEFAULT_RETENTION_MS).expect("reopen");
        assert_eq!(back.len(), 1);
        assert_eq!(log.gc(1_001 + DEFAULT_RETENTION_MS).expect("gc"), 1);
        assert_eq!(Nflog::open(&path, 0).expect("reopen").len(), 1);
        std::fs::write(&path, "[]").expect("write");
        assert!(Nflog::open(&path, 0).is_err());
    }

    #[test]
    fn recorded_entries_reach_the_file_at_the_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nflog.json");
        let wh = IntegrationId {
            name: "webhook",
            index: 0,
            send_resolved: true,
        };
        let mut log = Nflog::open(&path, 0).expect("open");
        assert!(log.snapshot().is_none(), "nothing changed");
        log.record("g1", "r", &wh, &[1], &[], 1_000);
        log.record("g2", "r", &wh, &[2], &[], 1_000);
        assert!(log.get("g1", "r", &wh).is_some(), "visible at once");
        assert_eq!(
            Nflog::open(&path, 0).expect("reopen").len(),
            0,
            "not written yet"
        );
        log.snapshot().expect("dirty").write().expect("write");
        assert!(log.snapshot().is_none(), "clean after the snapshot");
        let back = Nflog::open(&path, 1_000).expect("reopen");
        assert_eq!(back.len(), 2);
        assert_eq!(back.get("g2", "r", &wh), log.get("g2", "r", &wh));
        // An in-memory log has nothing to write.
        let mut mem = Nflog::in_memory();
        mem.record("g", "r", &wh, &[1], &[], 1);
        assert!(mem.snapshot().is_none());
    }
}

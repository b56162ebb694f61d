//! Silences as Alertmanager 0.25's `silence/silence.go` keeps them: created with a new
//! UUID, updated in place when only what may change did change (otherwise the old one is
//! expired and a new id returned), expired by setting the end time to now, validated with
//! Alertmanager's messages, and dropped `retention` (120h) after they ended. The set is
//! written to a JSON file (atomically) after every change and read back at start.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use argus_core::series::{valid_label_name, Labels};
use serde_json::{json, Value};

use crate::notify::matchers::{filter_matches, matches_all, MatchType, Matcher};
use crate::notify::persist;

/// How long an expired silence is kept (Alertmanager's `--data.retention`).
pub const DEFAULT_RETENTION_MS: i64 = 120 * 3_600_000;

/// The on-disk format's version.
const FILE_VERSION: u64 = 1;

/// A silence.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// UUID v4; empty in a request that creates one.
    pub id: String,
    /// All must match an alert's labels (in the order given).
    pub matchers: Vec<Matcher>,
    /// Start (ms since the epoch).
    pub starts_at_ms: i64,
    /// End (ms since the epoch).
    pub ends_at_ms: i64,
    /// Last change.
    pub updated_at_ms: i64,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

/// Where a silence is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SilenceState {
    /// Started and not ended: mutes matching alerts.
    Active,
    /// Not started yet.
    Pending,
    /// Ended.
    Expired,
}

impl SilenceState {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    /// Pending before its start, expired after its end, active in between (both ends
    /// included), as `getState`.
    pub fn state(&self, now_ms: i64) -> SilenceState {
        if now_ms < self.starts_at_ms {
            SilenceState::Pending
        } else if now_ms > self.ends_at_ms {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Whether every matcher matches the labels.
    pub fn matches(&self, labels: &Labels) -> bool {
        matches_all(&self.matchers, labels)
    }

    /// `validateSilence`.
    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() {
            return Err("ID missing".into());
        }
        if self.matchers.is_empty() {
            return Err("at least one matcher required".into());
        }
        let mut all_match_empty = true;
        for (i, m) in self.matchers.iter().enumerate() {
            if !valid_label_name(&m.name) {
                return Err(format!(
                    "invalid label matcher {i}: invalid label name {:?}",
                    m.name
                ));
            }
            // `matchesEmpty`: only `=` and `=~` count.
            all_match_empty &= match m.kind {
                MatchType::Equal | MatchType::Regexp => m.matches_value(""),
                MatchType::NotEqual | MatchType::NotRegexp => false,
            };
        }
        if all_match_empty {
            return Err("at least one matcher must not match the empty string".into());
        }
        if self.starts_at_ms == 0 {
            return Err("invalid zero start timestamp".into());
        }
        if self.ends_at_ms == 0 {
            return Err("invalid zero end timestamp".into());
        }
        if self.ends_at_ms < self.starts_at_ms {
            return Err("end time must not be before start time".into());
        }
        if self.updated_at_ms == 0 {
            return Err("invalid zero update timestamp".into());
        }
        Ok(())
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "matchers": self.matchers.iter().map(Matcher::to_api).collect::<Vec<_>>(),
            "startsAt": self.starts_at_ms,
            "endsAt": self.ends_at_ms,
            "updatedAt": self.updated_at_ms,
            "createdBy": self.created_by,
            "comment": self.comment,
        })
    }

    fn from_json(v: &Value) -> Option<Silence> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(Value::as_i64);
        Some(Silence {
            id: s("id")?,
            matchers: v
                .get("matchers")?
                .as_array()?
                .iter()
                .map(|m| Matcher::from_api(m).ok())
                .collect::<Option<Vec<_>>>()?,
            starts_at_ms: n("startsAt")?,
            ends_at_ms: n("endsAt")?,
            updated_at_ms: n("updatedAt")?,
            created_by: s("createdBy")?,
            comment: s("comment")?,
        })
    }
}

/// Why a silence operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    /// No silence with that id (Alertmanager's `ErrNotFound`).
    #[error("silence not found")]
    NotFound,
    /// The silence breaks a rule (`silence invalid: …`).
    #[error("silence invalid: {0}")]
    Invalid(String),
    #[error("writing silences to {path}: {source}")]
    /// The file could not be written.
    Write {
        /// The file.
        path: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("reading silences from {path}: {message}")]
    /// The file could not be read or is not a silences file.
    Read {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The set of silences.
#[derive(Debug, Clone)]
pub struct Silences {
    path: Option<PathBuf>,
    retention_ms: i64,
    by_id: BTreeMap<String, Silence>,
}

impl Default for Silences {
    fn default() -> Self {
        Silences::in_memory()
    }
}

impl Silences {
    /// Silences kept only in memory.
    pub fn in_memory() -> Silences {
        Silences {
            path: None,
            retention_ms: DEFAULT_RETENTION_MS,
            by_id: BTreeMap::new(),
        }
    }

    /// Silences persisted to `path`, loaded from it when it exists (silences past their
    /// retention are dropped).
    pub fn open(path: impl Into<PathBuf>, now_ms: i64) -> Result<Silences, SilenceError> {
        let path = path.into();
        let shown = path.display().to_string();
        let read_err = |message: String| SilenceError::Read {
            path: shown.clone(),
            message,
        };
        let mut s = Silences {
            path: Some(path.clone()),
            ..Silences::in_memory()
        };
        let Some(bytes) = persist::read(&path).map_err(|e| read_err(e.to_string()))? else {
            return Ok(s);
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| read_err(e.to_string()))?;
        if v.get("version").and_then(Value::as_u64) != Some(FILE_VERSION) {
            return Err(read_err(format!(
                "unsupported version {}, expected {FILE_VERSION}",
                v.get("version").unwrap_or(&Value::Null)
            )));
        }
        for (i, item) in v
            .get("silences")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let sil = Silence::from_json(item)
                .ok_or_else(|| read_err(format!("silences[{i}] is malformed")))?;
            s.by_id.insert(sil.id.clone(), sil);
        }
        s.by_id
            .retain(|_, sil| sil.ends_at_ms.saturating_add(s.retention_ms) >= now_ms);
        Ok(s)
    }

    /// Sets how long expired silences are kept (default 120h).
    pub fn with_retention(mut self, retention_ms: i64) -> Silences {
        self.retention_ms = retention_ms;
        self
    }

    /// The number of silences (expired ones included until garbage-collected).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The silence with this id (also when expired, until garbage-collected).
    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.by_id.get(id)
    }

    /// Creates (`sil.id` empty) or updates a silence (`Silences.Set`); returns its id,
    /// which is new when the old silence could not be updated in place (then the old one
    /// is expired). `updated_at` becomes `now_ms`; a start in the past becomes `now_ms`
    /// for a new silence.
    pub fn set(&mut self, mut sil: Silence, now_ms: i64) -> Result<String, SilenceError> {
        let prev = if sil.id.is_empty() {
            None
        } else {
            Some(
                self.by_id
                    .get(&sil.id)
                    .ok_or(SilenceError::NotFound)?
                    .clone(),
            )
        };
        let mut next = self.by_id.clone();
        if let Some(prev) = prev {
            if can_update(&prev, &sil, now_ms) {
                sil.updated_at_ms = now_ms;
                sil.validate().map_err(SilenceError::Invalid)?;
                let id = sil.id.clone();
                next.insert(id.clone(), sil);
                self.commit(next)?;
                return Ok(id);
            }
            // Alertmanager 0.25 expires the old silence before validating the new one;
            // argus validates first so that a rejected update changes nothing.
            let mut candidate = sil.clone();
            candidate.id = "pending".into();
            candidate.updated_at_ms = now_ms;
            candidate.starts_at_ms = candidate.starts_at_ms.max(now_ms);
            candidate.validate().map_err(SilenceError::Invalid)?;
            if prev.state(now_ms) != SilenceState::Expired {
                next.insert(prev.id.clone(), expired(prev, now_ms));
            }
        }
        sil.id = loop {
            let id = new_uuid();
            if !next.contains_key(&id) {
                break id;
            }
        };
        sil.starts_at_ms = sil.starts_at_ms.max(now_ms);
        sil.updated_at_ms = now_ms;
        sil.validate().map_err(SilenceError::Invalid)?;
        let id = sil.id.clone();
        next.insert(id.clone(), sil);
        self.commit(next)?;
        Ok(id)
    }

    /// Ends a silence now (`Silences.Expire`): an active one ends now, a pending one
    /// starts and ends now; an expired one is left as it is (Alertmanager 0.25 answers
    /// success then too).
    pub fn expire(&mut self, id: &str, now_ms: i64) -> Result<(), SilenceError> {
        let sil = self.by_id.get(id).ok_or(SilenceError::NotFound)?;
        if sil.state(now_ms) == SilenceState::Expired {
            return Ok(());
        }
        let mut next = self.by_id.clone();
        next.insert(id.to_string(), expired(sil.clone(), now_ms));
        self.commit(next)
    }

    /// Drops silences that ended more than the retention ago; returns how many.
    pub fn gc(&mut self, now_ms: i64) -> Result<usize, SilenceError> {
        let mut next = self.by_id.clone();
        next.retain(|_, s| s.ends_at_ms.saturating_add(self.retention_ms) >= now_ms);
        let n = self.by_id.len() - next.len();
        if n > 0 {
            self.commit(next)?;
        }
        Ok(n)
    }

    /// Ids of the active silences matching the labels, sorted (`Silencer.Mutes`).
    pub fn mutes(&self, labels: &Labels, now_ms: i64) -> Vec<String> {
        // The map is ordered by id.
        self.by_id
            .values()
            .filter(|s| s.state(now_ms) == SilenceState::Active && s.matches(labels))
            .map(|s| s.id.clone())
            .collect()
    }

    /// Silences matching the v2 API's `filter` matchers (a silence matches when, for each
    /// filter, its matcher of that name has a value the filter accepts), ordered as the
    /// API orders them: active by end time, then pending by start time, then expired,
    /// most recently ended first.
    pub fn list(&self, filter: &[Matcher], now_ms: i64) -> Vec<&Silence> {
        let mut out: Vec<&Silence> = self
            .by_id
            .values()
            .filter(|s| {
                let by_name: BTreeMap<&str, &str> = s
                    .matchers
                    .iter()
                    .map(|m| (m.name.as_str(), m.value.as_str()))
                    .collect();
                filter_matches(filter, |n| by_name.get(n).copied())
            })
            .collect();
        out.sort_by(|a, b| {
            let (sa, sb) = (a.state(now_ms), b.state(now_ms));
            sa.cmp(&sb).then_with(|| match sa {
                SilenceState::Active => a.ends_at_ms.cmp(&b.ends_at_ms),
                SilenceState::Pending => a.starts_at_ms.cmp(&b.starts_at_ms),
                SilenceState::Expired => b.ends_at_ms.cmp(&a.ends_at_ms),
            })
        });
        out
    }

    /// Writes the new set, then makes it current.
    fn commit(&mut self, next: BTreeMap<String, Silence>) -> Result<(), SilenceError> {
        if let Some(path) = &self.path {
            let body = json!({
                "version": FILE_VERSION,
                "silences": next.values().map(Silence::to_json).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
            persist::write_atomic(path, &bytes).map_err(|source| SilenceError::Write {
                path: path.display().to_string(),
                source,
            })?;
        }
        self.by_id = next;
        Ok(())
    }
}

/// The silence ended now (`expire` on an unexpired silence).
fn expired(mut sil: Silence, now_ms: i64) -> Silence {
    if sil.state(now_ms) == SilenceState::Pending {
        sil.starts_at_ms = now_ms;
    }
    sil.ends_at_ms = now_ms;
    sil.updated_at_ms = now_ms;
    sil
}

/// `canUpdate`: same matchers, and for an active silence the same start and an end not
/// in the past, for a pending one a start not in the past; never for an expired one.
fn can_update(a: &Silence, b: &Silence, now_ms: i64) -> bool {
    if a.matchers != b.matchers {
        return false;
    }
    match a.state(now_ms) {
        SilenceState::Active => b.starts_at_ms == a.starts_at_ms && b.ends_at_ms >= now_ms,
        SilenceState::Pending => b.starts_at_ms >= now_ms,
        SilenceState::Expired => false,
    }
}

/// A random UUID v4 (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`), from std's randomly keyed
/// SipHash over a process-wide counter: unique and unpredictable enough for ids, with
/// no extra dependency.
pub fn new_uuid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    for (i, half) in bytes.chunks_mut(8).enumerate() {
        // Every `RandomState::new()` has fresh keys.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_usize(i);
        half.copy_from_slice(&h.finish().to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;

//! The fake's etcd: every object by storage and key, one resourceVersion counter for all
//! of them (strictly increasing, like etcd's revision), a bounded history of changes for
//! watches and consistent pages, and the broadcast that feeds open watches.
//!
//! The history is global, like etcd's compaction: when it drops the change at revision
//! `r`, no watch, exact list or continue token can start before `r` any more (`floor`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value};
use tokio::sync::{broadcast, watch};

use super::resources::ResourceInfo;
use super::status::Status;

/// An object with its key.
pub type Keyed = (String, Arc<Value>);

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The object was created.
    Added,
    /// The object was updated.
    Modified,
    /// The object was deleted.
    Deleted,
}

/// One committed change (an etcd revision).
#[derive(Debug)]
pub struct Change {
    /// Its resourceVersion.
    pub rv: u64,
    /// The storage it touched ([`ResourceInfo::storage`]).
    pub storage: &'static str,
    /// The object's key within the storage (`ns/name` or `name`).
    pub key: String,
    /// What it did.
    pub kind: ChangeKind,
    /// The object after the change; for a deletion, its last state with the deletion's
    /// resourceVersion, as the watch cache sends it.
    pub object: Arc<Value>,
    /// The object before the change (modifications and deletions).
    pub prev: Option<Arc<Value>>,
}

/// What a write does with the current object (`None` when absent).
pub enum Mutation {
    /// Store this object (create or update).
    Put(Value),
    /// Delete the object.
    Delete,
}

/// Where a watch starts.
pub enum WatchStart {
    /// Synthetic ADDED for every current object, then changes (rv unset or `0`).
    Snapshot,
    /// Every change after this resourceVersion, then live changes.
    Since(u64),
}

/// A watch's starting point: what to send first and the live feed after it.
pub struct Subscription {
    /// Current objects (for [`WatchStart::Snapshot`]).
    pub initial: Vec<Arc<Value>>,
    /// Changes to replay (for [`WatchStart::Since`]).
    pub replay: Vec<Arc<Change>>,
    /// The store's resourceVersion when subscribing.
    pub rv: u64,
    /// Live changes of every storage after `rv`.
    pub live: broadcast::Receiver<Arc<Change>>,
}

struct Inner {
    rv: u64,
    objects: HashMap<&'static str, BTreeMap<String, Arc<Value>>>,
    history: VecDeque<Arc<Change>>,
    window: usize,
    floor: u64,
}

/// The object store shared by the HTTP handlers and the control API.
pub struct Store {
    inner: Mutex<Inner>,
    changes: broadcast::Sender<Arc<Change>>,
    rv_tx: watch::Sender<u64>,
    ids: std::collections::hash_map::RandomState,
    id_seq: AtomicU64,
}

/// The key of an object within its storage.
pub fn key(resource: &ResourceInfo, namespace: &str, name: &str) -> String {
    if resource.namespaced {
        format!("{namespace}/{name}")
    } else {
        name.to_string()
    }
}

/// `metadata.resourceVersion` parsed.
pub fn object_rv(object: &Value) -> u64 {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Now as `metav1.Time` renders it (RFC 3339, seconds, UTC).
pub fn now_rfc3339() -> String {
    // `Timestamp::now()` needs jiff's `std` feature, which k8s-openapi
    // does not enable; the clock comes from std instead.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    if let Value::Object(map) = object {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        meta.as_object_mut()
    } else {
        None
    }
}

/// The object without the fields the server owns, to tell a no-op update.
fn comparable(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(meta) = metadata_mut(&mut copy) {
        meta.remove("resourceVersion");
        meta.remove("managedFields");
        meta.remove("generation");
    }
    copy
}

impl Store {
    /// An empty store whose first write gets resourceVersion `first_rv + 1`.
    pub fn new(window: usize, watch_capacity: usize, first_rv: u64) -> Self {
        let (changes, _) = broadcast::channel(watch_capacity.max(1));
        let (rv_tx, _) = watch::channel(first_rv);
        Store {
            inner: Mutex::new(Inner {
                rv: first_rv,
                objects: HashMap::new(),
                history: VecDeque::new(),
                window: window.max(1),
                floor: first_rv,
            }),
            changes,
            rv_tx,
            ids: std::collections::hash_map::RandomState::new(),
            id_seq: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is applied
        // in one step at its end), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current resourceVersion.
    pub fn rv(&self) -> u64 {
        self.lock().rv
    }

    /// The oldest resourceVersion a watch or a consistent read may start from.
    pub fn floor(&self) -> u64 {
        self.lock().floor
    }

    /// A receiver of the current resourceVersion, to wait for a future one.
    pub fn rv_watch(&self) -> watch::Receiver<u64> {
        self.rv_tx.subscribe()
    }

    /// A random-looking RFC 4122 version-4 UID.
    pub fn new_uid(&self) -> String {
        let word = |salt: u64| {
            let mut h = self.ids.build_hasher();
            h.write_u64(salt);
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            h.finish()
        };
        let seq = self.id_seq.fetch_add(1, Ordering::Relaxed);
        let (a, b) = (word(seq), word(!seq));
        let hi = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
        let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }

    /// A 5-character suffix for `generateName`, from the API server's alphabet.
    pub fn name_suffix(&self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let uid = self.new_uid();
        let mut h = self.ids.build_hasher();
        h.write(uid.as_bytes());
        let mut n = h.finish();
        (0..5)
            .map(|_| {
                let c = ALPHABET[(n % ALPHABET.len() as u64) as usize];
                n /= ALPHABET.len() as u64;
                c as char
            })
            .collect()
    }

    /// The name of a new object: `metadata.name`, else `metadata.generateName` plus
    /// [`Store::name_suffix`], written into `metadata.name` (the registry's name
    /// generation); neither is `FieldValueRequired`, as the API server answers.
    pub fn settle_name(
        &self,
        resource: &ResourceInfo,
        object: &mut Value,
    ) -> Result<String, Status> {
        let meta = |field: &str| {
            object
                .pointer(&format!("/metadata/{field}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (name, prefix) = (meta("name"), meta("generateName"));
        if !name.is_empty() {
            return Ok(name);
        }
        if prefix.is_empty() {
            return Err(Status::invalid(
                resource.kind,
                resource.group,
                "",
                &[(
                    "metadata.name",
                    "FieldValueRequired",
                    "name or generateName is required".to_string(),
                )],
            ));
        }
        let name = format!("{prefix}{}", self.name_suffix());
        if let Some(meta) = object
            .pointer_mut("/metadata")
            .and_then(Value::as_object_mut)
        {
            meta.insert("name".into(), Value::String(name.clone()));
        }
        Ok(name)
    }

    /// The current object at `key`.
    pub fn get(&self, resource: &ResourceInfo, key: &str) -> Option<Arc<Value>> {
        self.lock()
            .objects
            .get(resource.storage)
            .and_then(|m| m.get(key))
            .cloned()
    }

    /// Applies `f` to the current object at `key` atomically and commits its result.
    /// Returns the stored object and what changed (`None` for an update that changed
    /// nothing, which, as on the real server, neither bumps the resourceVersion nor
    /// reaches watches).
    pub fn mutate(
        &self,
        resource: &'static ResourceInfo,
        key: &str,
        f: impl FnOnce(Option<&Value>) -> Result<Mutation, Status>,
    ) -> Result<(Arc<Value>, Option<ChangeKind>), Status> {
        let mut inner = self.lock();
        let current = inner
            .objects
            .get(resource.storage)
            .and_then(|m| m.get(key))
            .cloned();
        let mutation = f(current.as_deref())?;
        let rv = inner.rv + 1;
        let (kind, object) = match (mutation, &current) {
            (Mutation::Delete, None) => {
                let name = key.rsplit('/').next().unwrap_or(key);
                return Err(Status::not_found(resource, name));
            }
            (Mutation::Delete, Some(old)) => {
                let mut last = (**old).clone();
                if let Some(meta) = metadata_mut(&mut last) {
                    meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
                }
                (ChangeKind::Deleted, last)
            }
            (Mutation::Put(mut new), None) => {
                let uid = self.new_uid();
                if let Some(meta) = metadata_mut(&mut new) {
                    meta.entry("uid").or_insert(Value::String(uid));
                    meta.entry("creationTimestamp")
                        .or_insert_with(|| Value::String(now_rfc3339()));
                    if resource.tracks_generation {
                        meta.entry("generation").or_insert(Value::from(1));
                    }
                    meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
                }
                (ChangeKind::Added, new)
            }
            (Mutation::Put(mut new), Some(old)) => {
                let generation = old.pointer("/metadata/generation").cloned();
                let spec_changed = old.get("spec") != new.get("spec");
                if let Some(meta) = metadata_mut(&mut new) {
                    for owned in ["uid", "creationTimestamp"] {
                        match old.pointer(&format!("/metadata/{owned}")) {
                            Some(v) => meta.insert(owned.into(), v.clone()),
                            None => meta.remove(owned),
                        };
                    }
                    if resource.tracks_generation {
                        let g = generation.as_ref().and_then(Value::as_i64).unwrap_or(0);
                        let g = if spec_changed { g + 1 } else { g.max(1) };
                        meta.insert("generation".into(), Value::from(g));
                    }
                }
                if comparable(&new) == comparable(old) {
                    return Ok((Arc::clone(old), None));
                }
                if let Some(meta) = metadata_mut(&mut new) {
                    meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
                }
                (ChangeKind::Modified, new)
            }
        };
        let object = Arc::new(object);
        inner.rv = rv;
        let storage = inner.objects.entry(resource.storage).or_default();
        match kind {
            ChangeKind::Deleted => storage.remove(key),
            _ => storage.insert(key.to_string(), Arc::clone(&object)),
        };
        let change = Arc::new(Change {
            rv,
            storage: resource.storage,
            key: key.to_string(),
            kind,
            object: Arc::clone(&object),
            prev: current,
        });
        inner.history.push_back(Arc::clone(&change));
        while inner.history.len() > inner.window {
            if let Some(dropped) = inner.history.pop_front() {
                inner.floor = dropped.rv;
            }
        }
        // Sent under the lock so that every receiver sees changes in revision order and
        // a subscriber (which subscribes under the lock) misses none.
        let _ = self.changes.send(change);
        self.rv_tx.send_replace(rv);
        Ok((object, Some(kind)))
    }

    /// The objects of `resource`'s storage as of `at` (`None`: now), sorted by key, with
    /// the resourceVersion of that state. `Err(floor)` when `at` is before the history.
    pub fn snapshot(
        &self,
        resource: &ResourceInfo,
        at: Option<u64>,
    ) -> Result<(u64, Vec<Keyed>), u64> {
        let inner = self.lock();
        let current = inner.objects.get(resource.storage);
        let Some(at) = at.filter(|at| *at < inner.rv) else {
            let items = current
                .map(|m| m.iter().map(|(k, v)| (k.clone(), Arc::clone(v))).collect())
                .unwrap_or_default();
            return Ok((inner.rv, items));
        };
        if at < inner.floor {
            return Err(inner.floor);
        }
        let mut state: BTreeMap<String, Arc<Value>> = current.cloned().unwrap_or_default();
        for change in inner.history.iter().rev().take_while(|c| c.rv > at) {
            if change.storage != resource.storage {
                continue;
            }
            match (&change.kind, &change.prev) {
                (ChangeKind::Added, _) => {
                    state.remove(&change.key);
                }
                (_, Some(prev)) => {
                    state.insert(change.key.clone(), Arc::clone(prev));
                }
                (_, None) => {}
            }
        }
        Ok((at, state.into_iter().collect()))
    }

    /// Starts a watch of `resource`'s storage. `Err(floor)` when `Since(rv)` is before the
    /// history.
    pub fn subscribe(
        &self,
        resource: &ResourceInfo,
        start: WatchStart,
    ) -> Result<Subscription, u64> {
        let inner = self.lock();
        let live = self.changes.subscribe();
        let mut sub = Subscription {
            initial: Vec::new(),
            replay: Vec::new(),
            rv: inner.rv,
            live,
        };
        match start {
            WatchStart::Snapshot => {
                if let Some(objects) = inner.objects.get(resource.storage) {
                    sub.initial = objects.values().cloned().collect();
                }
            }
            WatchStart::Since(rv) => {
                if rv < inner.floor {
                    return Err(inner.floor);
                }
                let first = inner.history.partition_point(|c| c.rv <= rv);
                sub.replay = inner
                    .history
                    .range(first..)
                    .filter(|c| c.storage == resource.storage)
                    .cloned()
                    .collect();
            }
        }
        Ok(sub)
    }

    /// Drops all but the last `keep` changes from the history.
    pub fn compact(&self, keep: usize) {
        let mut inner = self.lock();
        while inner.history.len() > keep {
            if let Some(dropped) = inner.history.pop_front() {
                inner.floor = dropped.rv;
            }
        }
        if keep == 0 {
            inner.floor = inner.rv;
        }
    }

    /// Every stored object of `resource`'s storage, sorted by key.
    pub fn objects(&self, resource: &ResourceInfo) -> Vec<Arc<Value>> {
        self.lock()
            .objects
            .get(resource.storage)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::resolve;
    use serde_json::json;

    fn pod(name: &str, phase: &str) -> Value {
        json!({"kind": "Pod", "apiVersion": "v1",
               "metadata": {"name": name, "namespace": "shop"},
               "status": {"phase": phase}})
    }

    fn put(store: &Store, name: &str, phase: &str) -> (Arc<Value>, Option<ChangeKind>) {
        let pods = resolve("pods").expect("pods");
        store
            .mutate(pods, &format!("shop/{name}"), |_| {
                Ok(Mutation::Put(pod(name, phase)))
            })
            .expect("put")
    }

    #[test]
    fn revisions_increase_and_noop_updates_do_not_bump() {
        let store = Store::new(100, 16, 10);
        let (a, kind) = put(&store, "a", "Pending");
        assert_eq!((object_rv(&a), kind), (11, Some(ChangeKind::Added)));
        let (b, kind) = put(&store, "a", "Running");
        assert_eq!((object_rv(&b), kind), (12, Some(ChangeKind::Modified)));
        assert_eq!(b["metadata"]["uid"], a["metadata"]["uid"]);
        let (c, kind) = put(&store, "a", "Running");
        assert_eq!((object_rv(&c), kind), (12, None));
        assert_eq!(store.rv(), 12);
    }

    #[test]
    fn snapshots_undo_later_changes_until_the_floor() {
        let store = Store::new(3, 16, 0);
        put(&store, "a", "Pending"); // 1
        put(&store, "b", "Pending"); // 2
        put(&store, "a", "Running"); // 3
        let pods = resolve("pods").expect("pods");
        store
            .mutate(pods, "shop/b", |_| Ok(Mutation::Delete))
            .expect("delete"); // 4, drops 1 from the window of 3
        assert_eq!(store.floor(), 1);
        let (rv, at2) = store.snapshot(pods, Some(2)).expect("within history");
        assert_eq!(rv, 2);
        let phases: Vec<_> = at2
            .iter()
            .map(|(k, v)| (k.as_str(), v["status"]["phase"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(phases, [("shop/a", "Pending"), ("shop/b", "Pending")]);
        assert_eq!(store.snapshot(pods, Some(0)).err(), Some(1));
        store.compact(0);
        assert_eq!(store.floor(), 4);
        assert!(store.subscribe(pods, WatchStart::Since(3)).is_err());
        let sub = store.subscribe(pods, WatchStart::Since(4)).ok();
        assert!(sub.is_some_and(|s| s.replay.is_empty()));
    }

    #[test]
    fn uids_look_like_v4_uuids() {
        let store = Store::new(1, 1, 0);
        let uid = store.new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert_ne!(uid, store.new_uid());
        assert_eq!(store.name_suffix().len(), 5);
    }
}

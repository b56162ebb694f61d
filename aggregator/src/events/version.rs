//! The upsert rule of the event store: one record per Event `uid`, replaced only by a newer
//! state of the same Event. A state is newer when its `count` is higher; at the same count
//! when its `timestamp` is later; at the same count and timestamp when its
//! `resource_version` is higher. Re-sent or older states are ignored, so a batch sent twice,
//! or batches arriving out of order, never duplicate nor roll back a record.

use argus_core::event::KubeEvent;
use std::collections::HashMap;

/// What the store remembers of the stored state of each Event to decide upserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub count: u64,
    pub timestamp_ns: i64,
    pub resource_version: String,
}

impl Version {
    /// The version of an Event state.
    pub fn of(e: &KubeEvent) -> Version {
        Version {
            count: e.count,
            timestamp_ns: e.timestamp,
            resource_version: e.resource_version.clone(),
        }
    }

    /// Whether this state is newer than `old` (see the module doc).
    pub fn is_newer_than(&self, old: &Version) -> bool {
        (
            self.count,
            self.timestamp_ns,
            rv_key(&self.resource_version),
        ) > (old.count, old.timestamp_ns, rv_key(&old.resource_version))
    }
}

/// resourceVersions are opaque strings, but the API server's are decimal numbers without
/// leading zeros: comparing (length, text) orders those numerically and is a total order on
/// any other string.
fn rv_key(rv: &str) -> (usize, &str) {
    (rv.len(), rv)
}

/// The latest accepted version of every stored Event, by uid.
pub type Versions = HashMap<String, Version>;

/// What a batch does to the store.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upserts {
    /// The states to store, one per uid (the newest of the batch), in batch order.
    pub kept: Vec<KubeEvent>,
    /// Events of the batch that were newer than what was stored (or than an earlier state
    /// of the same uid in the batch).
    pub accepted: usize,
    /// Of `accepted`, those that replaced a state (stored or earlier in the batch).
    pub updated: usize,
    /// Events of the batch that were older than or equal to the known state, or whose
    /// timestamp is past the retention horizon.
    pub ignored: usize,
}

/// Decides a batch against `versions` (not modified: [`apply`] does once the batch is
/// durable). Events with a timestamp before `horizon_ns` are ignored.
pub fn decide(versions: &Versions, batch: Vec<KubeEvent>, horizon_ns: i64) -> Upserts {
    let mut out = Upserts::default();
    let mut in_batch: HashMap<String, usize> = HashMap::new();
    for e in batch {
        if e.timestamp < horizon_ns {
            out.ignored += 1;
            continue;
        }
        let v = Version::of(&e);
        let slot = in_batch.get(&e.uid).copied();
        let current = match slot {
            Some(i) => out.kept.get(i).map(Version::of),
            None => versions.get(&e.uid).cloned(),
        };
        match current {
            None => {
                in_batch.insert(e.uid.clone(), out.kept.len());
                out.kept.push(e);
                out.accepted += 1;
            }
            Some(cur) if v.is_newer_than(&cur) => {
                out.accepted += 1;
                out.updated += 1;
                match slot.and_then(|i| out.kept.get_mut(i)) {
                    Some(k) => *k = e,
                    None => {
                        in_batch.insert(e.uid.clone(), out.kept.len());
                        out.kept.push(e);
                    }
                }
            }
            Some(_) => out.ignored += 1,
        }
    }
    out
}

/// Records the versions of states now stored.
pub fn apply(versions: &mut Versions, kept: &[KubeEvent]) {
    for e in kept {
        versions.insert(e.uid.clone(), Version::of(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(uid: &str, count: u64, ts: i64, rv: &str) -> KubeEvent {
        KubeEvent {
            uid: uid.into(),
            count,
            timestamp: ts,
            resource_version: rv.into(),
            ..KubeEvent::default()
        }
    }

    #[test]
    fn newer_is_count_then_timestamp_then_resource_version() {
        let base = Version::of(&ev("a", 3, 100, "50"));
        // (state, newer than base)
        let cases = [
            (ev("a", 4, 10, "1"), true),
            (ev("a", 2, 900, "999"), false),
            (ev("a", 3, 101, "1"), true),
            (ev("a", 3, 99, "999"), false),
            (ev("a", 3, 100, "51"), true),
            (ev("a", 3, 100, "100"), true),
            (ev("a", 3, 100, "9"), false),
            (ev("a", 3, 100, "50"), false),
        ];
        for (e, want) in cases {
            assert_eq!(Version::of(&e).is_newer_than(&base), want, "{e:?}");
        }
    }

    #[test]
    fn batches_upsert_in_order_and_ignore_resends() {
        let mut versions = Versions::new();
        let b1 = vec![ev("a", 1, 100, "1"), ev("b", 1, 100, "2")];
        let u = decide(&versions, b1.clone(), 0);
        assert_eq!((u.accepted, u.updated, u.ignored), (2, 0, 0));
        apply(&mut versions, &u.kept);
        // The same batch again: nothing changes.
        let u = decide(&versions, b1, 0);
        assert_eq!((u.accepted, u.updated, u.ignored), (0, 0, 2));
        assert!(u.kept.is_empty());
        // Out of order within a batch: the newest state wins, the older one is ignored.
        let b2 = vec![
            ev("a", 5, 500, "9"),
            ev("a", 3, 300, "5"),
            ev("c", 1, 50, "3"),
        ];
        let u = decide(&versions, b2, 0);
        assert_eq!((u.accepted, u.updated, u.ignored), (2, 1, 1));
        assert_eq!(u.kept.len(), 2);
        assert_eq!(u.kept[0].count, 5);
        apply(&mut versions, &u.kept);
        // Rising within a batch: one kept state per uid, the last one.
        let b3 = vec![
            ev("b", 2, 200, "10"),
            ev("b", 3, 300, "11"),
            ev("b", 3, 300, "11"),
        ];
        let u = decide(&versions, b3, 0);
        assert_eq!((u.accepted, u.updated, u.ignored), (2, 2, 1));
        assert_eq!(u.kept, vec![ev("b", 3, 300, "11")]);
        apply(&mut versions, &u.kept);
        assert_eq!(versions["a"].count, 5);
        assert_eq!(versions["b"].count, 3);
        assert_eq!(versions.len(), 3);
    }

    #[test]
    fn states_past_the_horizon_are_ignored() {
        let u = decide(
            &Versions::new(),
            vec![ev("old", 1, 10, "1"), ev("new", 1, 1000, "2")],
            500,
        );
        assert_eq!((u.accepted, u.updated, u.ignored), (1, 0, 1));
        assert_eq!(u.kept[0].uid, "new");
    }
}

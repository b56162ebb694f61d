//! Requests counted by verb, and the faults a test arms for the next requests.

use std::sync::atomic::{AtomicU64, Ordering};

/// The verb of a request, as the API server's audit log names it (plus discovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET of one object.
    Get,
    /// GET of a collection.
    List,
    /// GET of a collection or object with `watch=true`.
    Watch,
    /// POST of an object.
    Create,
    /// PUT of an object.
    Update,
    /// PATCH of an object.
    Patch,
    /// DELETE of an object.
    Delete,
    /// `/version`, `/api`, `/apis`, group and resource lists, health checks.
    Discovery,
    /// Anything else (unknown paths and methods).
    Other,
}

const VERBS: [Verb; 9] = [
    Verb::Get,
    Verb::List,
    Verb::Watch,
    Verb::Create,
    Verb::Update,
    Verb::Patch,
    Verb::Delete,
    Verb::Discovery,
    Verb::Other,
];

fn index(verb: Verb) -> usize {
    VERBS
        .iter()
        .position(|v| *v == verb)
        .unwrap_or(VERBS.len() - 1)
}

/// Requests served so far, by verb (fault-injected ones included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// GET of one object.
    pub get: u64,
    /// Lists.
    pub list: u64,
    /// Watches started.
    pub watch: u64,
    /// POSTs.
    pub create: u64,
    /// PUTs.
    pub update: u64,
    /// PATCHes.
    pub patch: u64,
    /// DELETEs.
    pub delete: u64,
    /// Discovery and health requests.
    pub discovery: u64,
    /// Anything else.
    pub other: u64,
    /// Requests answered with an injected 500.
    pub failed: u64,
    /// Requests whose connection was dropped on purpose (`drop_next`).
    pub dropped: u64,
    /// Watches cut by `drop_watches`.
    pub watches_dropped: u64,
}

/// A fault armed for the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 InternalError.
    Fail,
    /// Send the response head and part of the body, then reset the connection.
    Drop,
}

/// Counters and armed faults, shared by every request.
#[derive(Debug, Default)]
pub struct Counters {
    by_verb: [AtomicU64; 9],
    failed: AtomicU64,
    dropped: AtomicU64,
    watches_dropped: AtomicU64,
    /// Armed faults: `[fail any, drop any, fail per verb..., drop per verb...]`.
    armed: [AtomicU64; 2 + 2 * 9],
}

fn take(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Counters {
    /// Counts a request and tells which fault, if any, it gets.
    pub fn record(&self, verb: Verb) -> Option<Fault> {
        let i = index(verb);
        self.by_verb[i].fetch_add(1, Ordering::Relaxed);
        if take(&self.armed[2 + i]) || take(&self.armed[0]) {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return Some(Fault::Fail);
        }
        if take(&self.armed[2 + 9 + i]) || take(&self.armed[1]) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Some(Fault::Drop);
        }
        None
    }

    /// Arms `fault` for the next `n` requests of `verb` (`None`: of any verb).
    pub fn arm(&self, fault: Fault, verb: Option<Verb>, n: u64) {
        let slot = match (fault, verb) {
            (Fault::Fail, None) => 0,
            (Fault::Drop, None) => 1,
            (Fault::Fail, Some(v)) => 2 + index(v),
            (Fault::Drop, Some(v)) => 2 + 9 + index(v),
        };
        self.armed[slot].store(n, Ordering::SeqCst);
    }

    /// Counts watches cut by `drop_watches`.
    pub fn watches_dropped(&self, n: u64) {
        self.watches_dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// A snapshot of the counts.
    pub fn snapshot(&self) -> RequestCounts {
        let get = |v: Verb| self.by_verb[index(v)].load(Ordering::Relaxed);
        RequestCounts {
            get: get(Verb::Get),
            list: get(Verb::List),
            watch: get(Verb::Watch),
            create: get(Verb::Create),
            update: get(Verb::Update),
            patch: get(Verb::Patch),
            delete: get(Verb::Delete),
            discovery: get(Verb::Discovery),
            other: get(Verb::Other),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            watches_dropped: self.watches_dropped.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_exactly_n_times_and_per_verb_ones_only_for_their_verb() {
        let c = Counters::default();
        c.arm(Fault::Fail, None, 2);
        c.arm(Fault::Drop, Some(Verb::Watch), 1);
        assert_eq!(c.record(Verb::List), Some(Fault::Fail));
        assert_eq!(c.record(Verb::Get), Some(Fault::Fail));
        assert_eq!(c.record(Verb::List), None);
        assert_eq!(c.record(Verb::Watch), Some(Fault::Drop));
        assert_eq!(c.record(Verb::Watch), None);
        let s = c.snapshot();
        assert_eq!(
            (s.list, s.get, s.watch, s.failed, s.dropped),
            (2, 1, 2, 2, 1)
        );
    }
}

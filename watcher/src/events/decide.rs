//! Whether an observed Event state is news: the de-duplication rule, as pure functions.
//!
//! A watch delivers ADDED and MODIFIED states; a relist (after `410 Expired`, or at
//! start) delivers every Event again, with states the watcher may already have recorded.
//! A state is compared with the latest one known for its uid (pending delivery, in flight,
//! or acknowledged and persisted): a higher count is news with `new − known` occurrences,
//! a same-count state is news only when it is a later object version whose time moved (a
//! `series` update), anything else is a repeat.

use crate::events::seen::Mark;

/// What an observed state means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A uid not known before: all its `count` occurrences are new.
    New { occurrences: u64 },
    /// The count rose by `occurrences`.
    Occurred { occurrences: u64 },
    /// Same count, a later state (its time moved): sent, but no new occurrence.
    Updated,
    /// Already known (relist, restart, replayed or older state): not sent again.
    Known,
}

impl Verdict {
    /// Whether the state must be delivered.
    pub fn is_news(self) -> bool {
        self != Verdict::Known
    }
}

/// Compares an observed state with the latest known one of the same uid.
pub fn decide(known: Option<&Mark>, new: &Mark) -> Verdict {
    let Some(old) = known else {
        return Verdict::New {
            occurrences: new.count.max(1),
        };
    };
    if new.count > old.count {
        return Verdict::Occurred {
            occurrences: new.count - old.count,
        };
    }
    if new.count == old.count
        && rv_newer(&new.resource_version, &old.resource_version)
        && new.timestamp != old.timestamp
    {
        return Verdict::Updated;
    }
    Verdict::Known
}

/// Whether resourceVersion `a` is later than `b`. resourceVersions are opaque strings;
/// every API server in use writes decimal numbers, which are compared as numbers. Other
/// strings only count as later when they differ (a watch delivers versions in order).
pub fn rv_newer(a: &str, b: &str) -> bool {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => a != b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(count: u64, rv: &str, ts: i64) -> Mark {
        Mark {
            count,
            resource_version: rv.into(),
            timestamp: ts,
        }
    }

    #[test]
    fn decisions() {
        use Verdict::*;
        let cases: &[(Option<Mark>, Mark, Verdict, &str)] = &[
            (None, m(1, "5", 1), New { occurrences: 1 }, "new uid"),
            (
                None,
                m(7, "5", 1),
                New { occurrences: 7 },
                "new uid, risen while down",
            ),
            (None, m(0, "5", 1), New { occurrences: 1 }, "at least one"),
            (
                Some(m(3, "5", 1)),
                m(5, "9", 2),
                Occurred { occurrences: 2 },
                "count rose",
            ),
            (
                Some(m(3, "5", 1)),
                m(3, "5", 1),
                Known,
                "relist of the same state",
            ),
            (
                Some(m(3, "5", 1)),
                m(3, "6", 2),
                Updated,
                "series moved, same count",
            ),
            (
                Some(m(3, "5", 1)),
                m(3, "6", 1),
                Known,
                "metadata-only change",
            ),
            (Some(m(3, "6", 2)), m(3, "5", 1), Known, "an older version"),
            (Some(m(5, "9", 2)), m(3, "10", 3), Known, "a lower count"),
            (
                Some(m(2, "", 1)),
                m(2, "", 2),
                Known,
                "no resourceVersion at all",
            ),
        ];
        for (known, new, want, what) in cases {
            assert_eq!(decide(known.as_ref(), new), *want, "{what}");
        }
    }

    #[test]
    fn resource_versions() {
        assert!(rv_newer("10", "9"), "numeric, not lexical");
        assert!(!rv_newer("9", "10"));
        assert!(!rv_newer("9", "9"));
        assert!(rv_newer("b", "a") && rv_newer("a", "b"), "opaque: differs");
        assert!(!rv_newer("x", "x"));
    }
}

//! The states waiting for delivery, coalesced by uid: only the latest state of an Event
//! needs sending (the aggregator upserts by uid), so the queue holds at most one state per
//! uid and its size is bounded by the number of distinct Events, not by their updates.
//! Order is first-come per uid, so a uid's states are delivered in the order observed.

use std::collections::{HashMap, VecDeque};

use argus_core::event::KubeEvent;

/// A FIFO of uids, each with its latest state.
#[derive(Debug, Default)]
pub struct Pending {
    order: VecDeque<String>,
    states: HashMap<String, KubeEvent>,
}

impl Pending {
    /// The queued state of `uid`.
    pub fn get(&self, uid: &str) -> Option<&KubeEvent> {
        self.states.get(uid)
    }

    /// Number of uids waiting.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Queues `ev`, replacing a queued state of the same uid in place.
    pub fn push(&mut self, ev: KubeEvent) {
        if let Some(slot) = self.states.get_mut(&ev.uid) {
            *slot = ev;
            return;
        }
        self.order.push_back(ev.uid.clone());
        self.states.insert(ev.uid.clone(), ev);
    }

    /// Puts an unacknowledged batch back at the head, in its order. A uid that was queued
    /// again meanwhile keeps its newer state and place, and the old state is dropped.
    pub fn requeue(&mut self, batch: Vec<KubeEvent>) {
        for ev in batch.into_iter().rev() {
            if self.states.contains_key(&ev.uid) {
                continue;
            }
            self.order.push_front(ev.uid.clone());
            self.states.insert(ev.uid.clone(), ev);
        }
    }

    /// Takes up to `n` states from the head.
    pub fn take(&mut self, n: usize) -> Vec<KubeEvent> {
        let mut out = Vec::with_capacity(n.min(self.states.len()));
        while out.len() < n {
            let Some(uid) = self.order.pop_front() else {
                break;
            };
            if let Some(ev) = self.states.remove(&uid) {
                out.push(ev);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(uid: &str, count: u64) -> KubeEvent {
        KubeEvent {
            uid: uid.into(),
            count,
            ..KubeEvent::default()
        }
    }

    fn uids_counts(v: &[KubeEvent]) -> Vec<(&str, u64)> {
        v.iter().map(|e| (e.uid.as_str(), e.count)).collect()
    }

    #[test]
    fn coalesces_by_uid_and_keeps_order() {
        let mut q = Pending::default();
        q.push(ev("a", 1));
        q.push(ev("b", 1));
        q.push(ev("a", 3));
        assert_eq!(q.len(), 2);
        assert_eq!(uids_counts(&q.take(10)), [("a", 3), ("b", 1)]);
        assert!(q.is_empty());
    }

    #[test]
    fn requeue_keeps_newer_states() {
        let mut q = Pending::default();
        for (u, c) in [("a", 1), ("b", 1), ("c", 1)] {
            q.push(ev(u, c));
        }
        let batch = q.take(2);
        q.push(ev("b", 2));
        q.push(ev("d", 1));
        q.requeue(batch);
        assert_eq!(
            uids_counts(&q.take(10)),
            [("a", 1), ("c", 1), ("b", 2), ("d", 1)]
        );
    }
}

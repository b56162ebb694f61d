//! The event search collector: verifies the candidates the plan says to (against the stored
//! record), counts the matches, fills the histogram and keeps the best `k` hits after the
//! cursor, with the log store's [`Tally`].

use argus_core::query::LogQuery;
use std::collections::HashSet;
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::store::StoreReader;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, TantivyDocument};

use super::schema::{stored_event, EventFields};
use crate::store::collect::{long_token_docs, merge, Cursor, Direction, Fruit, Tally};
use crate::store::plan::Verify;

/// One search over the event index.
pub struct EventCollector {
    pub fields: EventFields,
    pub check: Arc<LogQuery>,
    pub verify: Verify,
    pub start_ns: i64,
    pub end_ns: i64,
    pub step_ns: i64,
    pub buckets: usize,
    pub direction: Direction,
    pub cursor: Option<Cursor>,
    pub k: usize,
}

/// The per-segment part of [`EventCollector`].
pub struct EventSegCollector {
    fields: EventFields,
    check: Arc<LogQuery>,
    verify: Verify,
    start_ns: i64,
    end_ns: i64,
    ts: Column<i64>,
    seq: Column<u64>,
    store: Option<StoreReader>,
    long: HashSet<DocId>,
    tally: Tally,
}

impl Collector for EventCollector {
    type Fruit = Fruit;
    type Child = EventSegCollector;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        seg: &SegmentReader,
    ) -> tantivy::Result<EventSegCollector> {
        let store = match self.verify {
            Verify::None => None,
            _ => Some(seg.get_store_reader(16)?),
        };
        let long = if self.verify == Verify::LongTokens {
            long_token_docs(seg, self.fields.text.message)?
        } else {
            HashSet::new()
        };
        Ok(EventSegCollector {
            fields: self.fields,
            check: self.check.clone(),
            verify: self.verify,
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            ts: seg.fast_fields().i64("timestamp")?,
            seq: seg.fast_fields().u64("seq")?,
            store,
            long,
            tally: Tally::new(
                ord,
                self.start_ns,
                self.step_ns,
                self.buckets,
                self.direction,
                self.cursor,
                self.k,
            ),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Fruit>) -> tantivy::Result<Fruit> {
        Ok(merge(fruits, self.buckets, self.k))
    }
}

impl EventSegCollector {
    fn verified(&mut self, doc: DocId) -> bool {
        let Some(store) = &self.store else {
            return true;
        };
        if self.verify == Verify::LongTokens && !self.long.contains(&doc) {
            return true;
        }
        self.tally.fruit.verified += 1;
        let Some(e) = store
            .get::<TantivyDocument>(doc)
            .ok()
            .and_then(|d| stored_event(&self.fields, &d))
        else {
            return false;
        };
        self.check.matches(|name| e.label(name), &e.message)
    }
}

impl SegmentCollector for EventSegCollector {
    type Fruit = Fruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts = self.ts.first(doc).unwrap_or(i64::MIN);
        if ts < self.start_ns || ts > self.end_ns || !self.verified(doc) {
            return;
        }
        let seq = &self.seq;
        self.tally.add(ts, doc, || seq.first(doc).unwrap_or(0));
    }

    fn harvest(self) -> Fruit {
        self.tally.harvest()
    }
}

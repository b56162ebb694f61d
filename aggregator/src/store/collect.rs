//! The search collector: in one pass over the candidates of a segment it verifies them
//! where the plan says so, counts the matches, fills the histogram over the whole range
//! and keeps the best `k` hits after the cursor, reading timestamps from the fast field.

use argus_core::query::{LabelMatcher, LogQuery};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::store::StoreReader;
use tantivy::{DocId, DocSet, Score, SegmentOrdinal, SegmentReader, Term, TERMINATED};

use super::partition;
use super::plan::Verify;
use super::schema::{self, Fields, LONG_TOKEN_MARK};

/// Newest first (Loki's default) or oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Backward,
    Forward,
}

/// Position after the last hit returned: (timestamp, seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub timestamp_ns: i64,
    pub seq: u64,
}

/// Sort rank of a hit: larger is returned first.
pub fn rank(dir: Direction, ts: i64, seq: u64) -> (i64, u64) {
    match dir {
        Direction::Backward => (ts, seq),
        Direction::Forward => (i64::MAX - ts, u64::MAX - seq),
    }
}

/// What one search over one partition needs.
pub struct HitCollector {
    pub fields: Fields,
    pub query: Arc<LogQuery>,
    /// Matchers on node, stream and level, checked against the columns.
    pub columns: Vec<LabelMatcher>,
    pub verify: Verify,
    /// With [`Verify::LongTokens`], the plan's other documents to verify
    /// ([`super::plan::Plan::marked`]).
    pub marked: Option<Box<dyn Weight>>,
    pub start_ns: i64,
    pub end_ns: i64,
    pub step_ns: i64,
    pub buckets: usize,
    pub direction: Direction,
    pub cursor: Option<Cursor>,
    pub k: usize,
}

/// One candidate hit: rank, timestamp, seq and where the document is.
pub type Candidate = ((i64, u64), i64, u64, SegmentOrdinal, DocId);

/// What a collection yields.
#[derive(Default)]
pub struct Fruit {
    pub total: u64,
    pub histogram: Vec<u64>,
    pub top: Vec<Candidate>,
    pub verified: u64,
}

pub struct SegCollector {
    c: Arc<HitCollector>,
    cols: partition::Columns,
    /// Which stream / level codes and node ordinals pass the column matchers.
    stream_ok: [bool; 2],
    level_ok: [bool; 7],
    node_ok: Option<Vec<bool>>,
    node_empty_ok: bool,
    ts: Column<i64>,
    seq: Column<u64>,
    store: Option<StoreReader>,
    long: HashSet<DocId>,
    tally: Tally,
}

/// What every collector does with a match: count it, put it in its histogram bucket and
/// keep it if it is among the best `k` after the cursor. Shared by the log and event
/// collectors.
pub struct Tally {
    ord: SegmentOrdinal,
    start_ns: i64,
    step_ns: i64,
    buckets: usize,
    direction: Direction,
    k: usize,
    cursor_rank: Option<(i64, u64)>,
    pub fruit: Fruit,
    heap: BinaryHeap<Reverse<Candidate>>,
}

impl Tally {
    /// A tally for segment `ord` with `buckets` buckets of `step_ns` from `start_ns`.
    pub fn new(
        ord: SegmentOrdinal,
        start_ns: i64,
        step_ns: i64,
        buckets: usize,
        direction: Direction,
        cursor: Option<Cursor>,
        k: usize,
    ) -> Tally {
        Tally {
            ord,
            start_ns,
            step_ns: step_ns.max(1),
            buckets,
            direction,
            k,
            cursor_rank: cursor.map(|cur| rank(direction, cur.timestamp_ns, cur.seq)),
            fruit: Fruit {
                histogram: vec![0; buckets],
                ..Fruit::default()
            },
            heap: BinaryHeap::new(),
        }
    }

    /// Records a match; `seq` is read only when the hit may be kept.
    #[inline]
    pub fn add(&mut self, ts: i64, doc: DocId, seq: impl FnOnce() -> u64) {
        self.fruit.total += 1;
        let b = ((ts - self.start_ns) / self.step_ns) as usize;
        if let Some(slot) = self
            .fruit
            .histogram
            .get_mut(b.min(self.buckets.saturating_sub(1)))
        {
            *slot += 1;
        }
        if self.k == 0 {
            return;
        }
        let seq = seq();
        let r = rank(self.direction, ts, seq);
        if self.cursor_rank.is_some_and(|c| r >= c) {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Reverse((r, ts, seq, self.ord, doc)));
        } else if self.heap.peek().is_some_and(|Reverse(min)| r > min.0) {
            self.heap.pop();
            self.heap.push(Reverse((r, ts, seq, self.ord, doc)));
        }
    }

    /// The counts and the kept hits.
    pub fn harvest(mut self) -> Fruit {
        self.fruit.top = self.heap.into_iter().map(|Reverse(c)| c).collect();
        self.fruit
    }
}

/// The documents of a segment with a token over the index's limit (marked with
/// [`LONG_TOKEN_MARK`] in `message`): the only ones a `LongTokens` plan verifies.
pub fn long_token_docs(seg: &SegmentReader, message: Field) -> tantivy::Result<HashSet<DocId>> {
    let mut long = HashSet::new();
    let inv = seg.inverted_index(message)?;
    let t = Term::from_field_text(message, LONG_TOKEN_MARK);
    if let Some(mut p) = inv.read_postings(&t, IndexRecordOption::Basic)? {
        while p.doc() != TERMINATED {
            long.insert(p.doc());
            p.advance();
        }
    }
    Ok(long)
}

/// The tantivy collector wrapping a shared [`HitCollector`].
pub struct Shared(pub Arc<HitCollector>);

impl Collector for Shared {
    type Fruit = Fruit;
    type Child = SegCollector;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        seg: &SegmentReader,
    ) -> tantivy::Result<SegCollector> {
        let c = &self.0;
        let ts = seg.fast_fields().i64("timestamp")?;
        let seq = seg.fast_fields().u64("seq")?;
        let store = match c.verify {
            Verify::None => None,
            _ => Some(seg.get_store_reader(64)?),
        };
        let long = if c.verify == Verify::LongTokens {
            let mut long = long_token_docs(seg, c.fields.message)?;
            if let Some(w) = &c.marked {
                let mut docs = w.scorer(seg, 1.0)?;
                while docs.doc() != TERMINATED {
                    long.insert(docs.doc());
                    docs.advance();
                }
            }
            long
        } else {
            HashSet::new()
        };
        let cols = partition::Columns::open(seg)?;
        let passes = |name: &str, v: &str| {
            c.columns
                .iter()
                .filter(|m| m.name == name)
                .all(|m| m.matches(Some(v)))
        };
        let stream_ok = schema::STREAMS.map(|s| passes("stream", s.as_str()));
        let level_ok = schema::LEVELS.map(|l| passes("level", l.as_str()));
        let node_ok = c.columns.iter().any(|m| m.name == "node").then(|| {
            cols.node_values()
                .iter()
                .map(|v| passes("node", v))
                .collect()
        });
        let node_empty_ok = passes("node", "");
        Ok(SegCollector {
            c: c.clone(),
            cols,
            stream_ok,
            level_ok,
            node_ok,
            node_empty_ok,
            ts,
            seq,
            store,
            long,
            tally: Tally::new(
                ord,
                c.start_ns,
                c.step_ns,
                c.buckets,
                c.direction,
                c.cursor,
                c.k,
            ),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Fruit>) -> tantivy::Result<Fruit> {
        Ok(merge(fruits, self.0.buckets, self.0.k))
    }
}

/// Merges per-segment (or per-partition) fruits, keeping the best `k` hits.
pub fn merge(fruits: Vec<Fruit>, buckets: usize, k: usize) -> Fruit {
    let mut out = Fruit {
        histogram: vec![0; buckets],
        ..Fruit::default()
    };
    for f in fruits {
        out.total += f.total;
        out.verified += f.verified;
        for (a, b) in out.histogram.iter_mut().zip(f.histogram) {
            *a += b;
        }
        out.top.extend(f.top);
    }
    out.top.sort_by_key(|c| Reverse(c.0));
    out.top.truncate(k);
    out
}

impl SegCollector {
    fn columns_pass(&self, doc: DocId) -> bool {
        if self.c.columns.is_empty() {
            return true;
        }
        let s = self.cols.stream_code(doc) as usize;
        let l = self.cols.level_code(doc) as usize;
        if !self.stream_ok.get(s).copied().unwrap_or(false)
            || !self.level_ok.get(l).copied().unwrap_or(false)
        {
            return false;
        }
        match (&self.node_ok, self.cols.node_ord(doc)) {
            (None, _) => true,
            (Some(ok), Some(ord)) => ok.get(ord as usize).copied().unwrap_or(false),
            (Some(_), None) => self.node_empty_ok,
        }
    }

    fn verified(&mut self, doc: DocId) -> bool {
        let Some(store) = &self.store else {
            return true;
        };
        if self.c.verify == Verify::LongTokens && !self.long.contains(&doc) {
            return true;
        }
        self.tally.fruit.verified += 1;
        match store.get::<partition::StoredRecord>(doc) {
            Ok(mut d) => {
                // Column values are only read when a matcher needs them.
                if !self.c.query.matchers.is_empty() {
                    self.cols.fill(doc, &mut d.0);
                }
                self.c.query.matches_record(&d.0)
            }
            Err(_) => false,
        }
    }
}

impl SegmentCollector for SegCollector {
    type Fruit = Fruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts = self.ts.first(doc).unwrap_or(i64::MIN);
        if ts < self.c.start_ns || ts > self.c.end_ns {
            return;
        }
        if !self.columns_pass(doc) {
            return;
        }
        if !self.verified(doc) {
            return;
        }
        let seq = &self.seq;
        self.tally.add(ts, doc, || seq.first(doc).unwrap_or(0));
    }

    fn harvest(self) -> Fruit {
        self.tally.harvest()
    }
}

//! The in-memory series: labels, Gorilla chunks (the last one open for appends) and the
//! postings index (label name → value → series ids) that matchers select through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argus_core::series::{Labels, MatchOp, Matcher, Sample, SeriesData};

use crate::chunk::Chunk;

/// Series id, stable for the life of the data directory (WAL and snapshots use it).
pub type SeriesId = u32;

/// Why a sample was not appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Older than the series' newest sample.
    OutOfOrder,
    /// Same timestamp as the newest sample, another value.
    Duplicate,
}

#[derive(Debug)]
pub(crate) struct MemSeries {
    pub labels: Labels,
    pub chunks: Vec<Chunk>,
}

impl MemSeries {
    fn last(&self) -> Option<(i64, f64)> {
        let c = self.chunks.last()?;
        if c.is_empty() {
            return None;
        }
        let s = c.samples();
        s.last().map(|x| (x.t, x.v))
    }
}

/// A map from dense series ids to values: a vector indexed by id (ids are handed out in
/// order), much cheaper than hashing on the query path.
#[derive(Debug)]
struct IdMap<T> {
    slots: Vec<Option<T>>,
    len: usize,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<T> IdMap<T> {
    fn get(&self, id: &SeriesId) -> Option<&T> {
        self.slots.get(*id as usize).and_then(Option::as_ref)
    }

    fn get_mut(&mut self, id: &SeriesId) -> Option<&mut T> {
        self.slots.get_mut(*id as usize).and_then(Option::as_mut)
    }

    fn contains_key(&self, id: &SeriesId) -> bool {
        self.get(id).is_some()
    }

    fn insert(&mut self, id: SeriesId, v: T) {
        let i = id as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        if self.slots[i].replace(v).is_none() {
            self.len += 1;
        }
    }

    fn remove(&mut self, id: &SeriesId) -> Option<T> {
        let v = self.slots.get_mut(*id as usize).and_then(Option::take);
        if v.is_some() {
            self.len -= 1;
        }
        v
    }

    fn len(&self) -> usize {
        self.len
    }

    fn keys(&self) -> impl Iterator<Item = SeriesId> + '_ {
        self.iter().map(|(id, _)| id)
    }

    fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }

    fn iter(&self) -> impl Iterator<Item = (SeriesId, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as SeriesId, v)))
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (SeriesId, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, v)| v.as_mut().map(|v| (i as SeriesId, v)))
    }
}

/// Counts for the store's self-metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadStats {
    pub series: usize,
    pub chunks: usize,
    pub samples: u64,
    pub chunk_bytes: usize,
    pub min_t: Option<i64>,
    pub max_t: Option<i64>,
}

#[derive(Debug, Default)]
pub(crate) struct Head {
    series: IdMap<MemSeries>,
    /// Newest timestamp and its value bits per series (saves decoding on append).
    last: IdMap<(i64, u64)>,
    by_hash: HashMap<u64, Vec<SeriesId>>,
    postings: HashMap<String, HashMap<String, Vec<SeriesId>>>,
    next_id: SeriesId,
    /// Each series' position in label order (indexed by id), so that selections come out
    /// sorted as queries need them without comparing label sets each time; computed on
    /// the first selection after a series was added. Removals keep the order.
    ranks: Mutex<Option<Arc<Vec<u32>>>>,
}

fn hash(l: &Labels) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for x in l {
        h.update(x.name.as_bytes());
        h.update(&[0xff]);
        h.update(x.value.as_bytes());
        h.update(&[0xfe]);
    }
    h.digest()
}

impl Head {
    /// The id of a label set, if it is known.
    pub fn get(&self, labels: &Labels) -> Option<SeriesId> {
        self.by_hash
            .get(&hash(labels))?
            .iter()
            .copied()
            .find(|id| self.series.get(id).is_some_and(|s| &s.labels == labels))
    }

    /// The id of a label set, creating the series; `true` when it is new.
    pub fn get_or_create(&mut self, labels: &Labels) -> (SeriesId, bool) {
        if let Some(id) = self.get(labels) {
            return (id, false);
        }
        let id = self.next_id;
        self.insert(id, labels.clone());
        (id, true)
    }

    /// Adds a series under a given id (WAL replay, snapshots).
    pub fn insert(&mut self, id: SeriesId, labels: Labels) {
        if self.series.contains_key(&id) {
            return;
        }
        self.next_id = self.next_id.max(id + 1);
        *self.ranks.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        self.by_hash.entry(hash(&labels)).or_default().push(id);
        for l in &labels {
            let ids = self
                .postings
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default();
            if let Err(at) = ids.binary_search(&id) {
                ids.insert(at, id);
            }
        }
        self.series.insert(
            id,
            MemSeries {
                labels,
                chunks: Vec::new(),
            },
        );
    }

    pub fn labels(&self, id: SeriesId) -> Option<&Labels> {
        self.series.get(&id).map(|s| &s.labels)
    }

    /// Appends a sample to a series.
    pub fn append(&mut self, id: SeriesId, t: i64, v: f64) -> Result<(), Rejected> {
        let Some(s) = self.series.get_mut(&id) else {
            return Err(Rejected::OutOfOrder);
        };
        if let Some(&(lt, lv)) = self.last.get(&id) {
            if t < lt {
                return Err(Rejected::OutOfOrder);
            }
            if t == lt {
                return if lv == v.to_bits() {
                    Ok(())
                } else {
                    Err(Rejected::Duplicate)
                };
            }
        } else if let Some((lt, _)) = s.last() {
            if t <= lt {
                return Err(Rejected::OutOfOrder);
            }
        }
        if s.chunks.last().is_none_or(Chunk::is_full) {
            s.chunks.push(Chunk::new());
        }
        if let Some(c) = s.chunks.last_mut() {
            c.append(t, v);
        }
        self.last.insert(id, (t, v.to_bits()));
        Ok(())
    }

    /// Adds a closed chunk (snapshots).
    pub fn push_chunk(&mut self, id: SeriesId, c: Chunk) {
        if let Some(s) = self.series.get_mut(&id) {
            if !c.is_empty() {
                let last = c.samples().last().map(|x| (x.t, x.v.to_bits()));
                s.chunks.push(c);
                if let Some(l) = last {
                    self.last.insert(id, l);
                }
            }
        }
    }

    /// Ids of the series matching every matcher.
    pub fn select_ids(&self, matchers: &[Matcher]) -> Vec<SeriesId> {
        // Start from the smallest posting list an equality matcher (non-empty value) gives.
        let mut best: Option<&Vec<SeriesId>> = None;
        let empty = Vec::new();
        for m in matchers {
            if let MatchOp::Equal = m.op {
                if m.value.is_empty() {
                    continue;
                }
                let ids = self
                    .postings
                    .get(&m.name)
                    .and_then(|v| v.get(&m.value))
                    .unwrap_or(&empty);
                if best.is_none_or(|b| ids.len() < b.len()) {
                    best = Some(ids);
                }
            }
        }
        let check = |id: &SeriesId| {
            self.series
                .get(id)
                .is_some_and(|s| matchers.iter().all(|m| m.matches_labels(&s.labels)))
        };
        match best {
            Some(ids) => ids.iter().copied().filter(check).collect(),
            None => {
                // A regex on a name narrows to the values it matches, when it rejects "".
                let mut from_re: Option<Vec<SeriesId>> = None;
                for m in matchers {
                    if matches!(m.op, MatchOp::Re(_)) && !m.matches_empty() {
                        let mut ids: Vec<SeriesId> = self
                            .postings
                            .get(&m.name)
                            .map(|vals| {
                                vals.iter()
                                    .filter(|(v, _)| m.matches(v))
                                    .flat_map(|(_, ids)| ids.iter().copied())
                                    .collect()
                            })
                            .unwrap_or_default();
                        ids.sort_unstable();
                        if from_re.as_ref().is_none_or(|b| ids.len() < b.len()) {
                            from_re = Some(ids);
                        }
                    }
                }
                match from_re {
                    Some(ids) => ids.into_iter().filter(|id| check(id)).collect(),
                    None => {
                        let mut ids: Vec<SeriesId> = self.series.keys().filter(check).collect();
                        ids.sort_unstable();
                        ids
                    }
                }
            }
        }
    }

    /// The samples of a series in `[mint, maxt]`.
    pub fn samples(&self, id: SeriesId, mint: i64, maxt: i64) -> Vec<Sample> {
        let Some(s) = self.series.get(&id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for c in &s.chunks {
            if c.is_empty() || c.max_t() < mint || c.min_t() > maxt {
                continue;
            }
            crate::chunk::decode_into(c.bytes(), c.len(), mint, maxt, &mut out);
        }
        out
    }

    /// The matching series with samples in `[mint, maxt]`, sorted by labels.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        let mut ids = self.select_ids(matchers);
        let ranks = self.ranks();
        ids.sort_unstable_by_key(|id| ranks.get(*id as usize).copied().unwrap_or(u32::MAX));
        ids.into_iter()
            .filter_map(|id| {
                let samples = self.samples(id, mint, maxt);
                let labels = self.series.get(&id)?.labels.clone();
                (!samples.is_empty()).then_some(SeriesData { labels, samples })
            })
            .collect()
    }

    /// Every series' position in label order, by id, computed once per change of the series set.
    fn ranks(&self) -> Arc<Vec<u32>> {
        let mut cached = self.ranks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = cached.as_ref() {
            return r.clone();
        }
        let mut all: Vec<(SeriesId, &Labels)> =
            self.series.iter().map(|(id, s)| (id, &s.labels)).collect();
        all.sort_unstable_by(|a, b| a.1.cmp(b.1));
        let mut ranks = vec![u32::MAX; self.series.slots.len()];
        for (rank, (id, _)) in all.iter().enumerate() {
            ranks[*id as usize] = rank as u32;
        }
        let ranks = Arc::new(ranks);
        *cached = Some(ranks.clone());
        ranks
    }

    /// Whether a series has samples in `[mint, maxt]`.
    pub fn has_samples(&self, id: SeriesId, mint: i64, maxt: i64) -> bool {
        self.series.get(&id).is_some_and(|s| {
            s.chunks
                .iter()
                .any(|c| !c.is_empty() && c.max_t() >= mint && c.min_t() <= maxt)
        })
    }

    /// Drops chunks entirely older than `cutoff` and series left empty; returns the
    /// number of series removed.
    pub fn truncate(&mut self, cutoff: i64) -> usize {
        let mut gone = Vec::new();
        for (id, s) in self.series.iter_mut() {
            // Keep the open chunk's series alive while it has recent samples.
            s.chunks.retain(|c| !c.is_empty() && c.max_t() >= cutoff);
            if s.chunks.is_empty() {
                gone.push(id);
            }
        }
        for id in &gone {
            if let Some(s) = self.series.remove(id) {
                self.last.remove(id);
                let h = hash(&s.labels);
                if let Some(v) = self.by_hash.get_mut(&h) {
                    v.retain(|x| x != id);
                    if v.is_empty() {
                        self.by_hash.remove(&h);
                    }
                }
                for l in &s.labels {
                    if let Some(vals) = self.postings.get_mut(&l.name) {
                        if let Some(ids) = vals.get_mut(&l.value) {
                            ids.retain(|x| x != id);
                            if ids.is_empty() {
                                vals.remove(&l.value);
                            }
                        }
                        if vals.is_empty() {
                            self.postings.remove(&l.name);
                        }
                    }
                }
            }
        }
        gone.len()
    }

    pub fn stats(&self) -> HeadStats {
        let mut st = HeadStats {
            series: self.series.len(),
            ..HeadStats::default()
        };
        for s in self.series.values() {
            for c in &s.chunks {
                st.chunks += 1;
                st.samples += u64::from(c.len());
                st.chunk_bytes += c.size();
                if !c.is_empty() {
                    st.min_t = Some(st.min_t.map_or(c.min_t(), |m| m.min(c.min_t())));
                    st.max_t = Some(st.max_t.map_or(c.max_t(), |m| m.max(c.max_t())));
                }
            }
        }
        st
    }

    /// Every series with its chunks (snapshots).
    pub fn all(&self) -> impl Iterator<Item = (SeriesId, &MemSeries)> {
        self.series.iter()
    }

    /// The cardinality figures of Prometheus' `/api/v1/status/tsdb`, from the postings
    /// index, each list the `limit` largest (see [`Cardinality`]).
    pub fn cardinality(&self, limit: usize) -> Cardinality {
        let mut c = Cardinality::default();
        let mut by_metric = Vec::new();
        let mut by_label = Vec::new();
        let mut bytes = Vec::new();
        let mut by_pair = Vec::new();
        for (name, values) in &self.postings {
            c.num_label_pairs += values.len();
            by_label.push((name.as_str(), "", values.len() as u64));
            bytes.push((
                name.as_str(),
                "",
                values.keys().map(|v| v.len() as u64).sum(),
            ));
            for (value, ids) in values {
                let n = ids.len() as u64;
                if name == "__name__" {
                    by_metric.push((value.as_str(), "", n));
                }
                by_pair.push((name.as_str(), value.as_str(), n));
            }
        }
        c.series_by_metric = top(by_metric, limit, false);
        c.values_by_label = top(by_label, limit, false);
        c.bytes_by_label = top(bytes, limit, false);
        c.series_by_pair = top(by_pair, limit, true);
        c
    }
}

/// Cardinality of the head, as Prometheus 2.42's TSDB status reports it: per list the
/// `limit` largest `(name, count)`, largest first, ties by name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cardinality {
    /// Distinct `name=value` pairs.
    pub num_label_pairs: usize,
    /// Series per metric name.
    pub series_by_metric: Vec<(String, u64)>,
    /// Distinct values per label name.
    pub values_by_label: Vec<(String, u64)>,
    /// Bytes of the distinct values per label name (Prometheus 2.42's
    /// `memoryInBytesByLabelName`: each value counted once).
    pub bytes_by_label: Vec<(String, u64)>,
    /// Series per `name=value` pair.
    pub series_by_pair: Vec<(String, u64)>,
}

/// The `limit` largest of `(name, value, count)`, as `name` or `name=value` when `pair`.
fn top(mut all: Vec<(&str, &str, u64)>, limit: usize, pair: bool) -> Vec<(String, u64)> {
    let order = |a: &(&str, &str, u64), b: &(&str, &str, u64)| {
        b.2.cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1))
    };
    if all.len() > limit && limit > 0 {
        all.select_nth_unstable_by(limit - 1, order);
    }
    all.truncate(limit);
    all.sort_unstable_by(order);
    all.into_iter()
        .map(|(n, v, c)| {
            (
                if pair {
                    format!("{n}={v}")
                } else {
                    n.to_string()
                },
                c,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinality_counts_the_postings_largest_first() {
        let mut h = Head::default();
        for (name, n) in [("a_total", 3), ("b_total", 5), ("c_total", 1)] {
            for i in 0..n {
                let l = Labels::new([
                    ("__name__", name),
                    ("job", "api"),
                    ("pod", &format!("pod-{i}")),
                ]);
                h.get_or_create(&l);
            }
        }
        let c = h.cardinality(2);
        assert_eq!(c.num_label_pairs, 3 + 1 + 5);
        let s = |v: &[(&str, u64)]| {
            v.iter()
                .map(|(n, c)| (n.to_string(), *c))
                .collect::<Vec<_>>()
        };
        assert_eq!(c.series_by_metric, s(&[("b_total", 5), ("a_total", 3)]));
        assert_eq!(c.values_by_label, s(&[("pod", 5), ("__name__", 3)]));
        // Value bytes, each value once: 3 names of 7 bytes; pod-0..pod-4.
        assert_eq!(c.bytes_by_label, s(&[("pod", 25), ("__name__", 21)]));
        assert_eq!(
            c.series_by_pair,
            s(&[("job=api", 9), ("__name__=b_total", 5)])
        );
        // Ties are ordered by name; a limit past the end lists everything.
        let all = h.cardinality(100);
        assert_eq!(
            all.series_by_pair[2..4],
            s(&[("__name__=a_total", 3), ("pod=pod-0", 3)])[..]
        );
        assert_eq!(all.series_by_pair.len(), 1 + 3 + 5);
        assert_eq!(Head::default().cardinality(10), Cardinality::default());
    }

    #[test]
    fn append_select_truncate() {
        let mut h = Head::default();
        let a = Labels::new([("__name__", "up"), ("job", "node"), ("instance", "a")]);
        let b = Labels::new([("__name__", "up"), ("job", "api"), ("instance", "b")]);
        let (ia, new) = h.get_or_create(&a);
        assert!(new);
        let (ib, _) = h.get_or_create(&b);
        assert_eq!(h.get_or_create(&a), (ia, false));
        for t in 0..300 {
            h.append(ia, t * 1000, t as f64).expect("append");
        }
        h.append(ib, 5000, 1.0).expect("append");
        assert_eq!(h.append(ia, 10, 1.0), Err(Rejected::OutOfOrder));
        assert_eq!(h.append(ia, 299_000, 5.0), Err(Rejected::Duplicate));
        assert_eq!(h.append(ia, 299_000, 299.0), Ok(()));
        let up = Matcher::equal("__name__", "up");
        assert_eq!(h.select_ids(std::slice::from_ref(&up)).len(), 2);
        let node = [
            up.clone(),
            Matcher::regex("job", "no.*", false).expect("re"),
        ];
        let got = h.select(&node, 100_000, 101_000);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].samples.len(), 2);
        let none = [Matcher::regex("job", "x|y", false).expect("re")];
        assert!(h.select_ids(&none).is_empty());
        let absent = [up, Matcher::equal("zone", "")];
        assert_eq!(h.select_ids(&absent).len(), 2);
        assert_eq!(h.stats().samples, 301);
        // Chunks of 120: everything before 240 s goes with a cutoff at 250 s, and series b.
        assert_eq!(h.truncate(250_000), 1);
        assert_eq!(h.stats().series, 1);
        assert!(h.select(&node, 0, 239_000).is_empty());
        assert_eq!(h.get(&b), None);
    }

    #[test]
    fn selections_come_out_in_label_order_as_series_come_and_go() {
        let mut h = Head::default();
        let up = [Matcher::equal("__name__", "up")];
        let instances = |h: &Head| -> Vec<String> {
            h.select(&up, 0, i64::MAX)
                .iter()
                .map(|s| s.labels.get("instance").unwrap_or("").to_string())
                .collect()
        };
        let add = |h: &mut Head, instance: &str| {
            let (id, _) =
                h.get_or_create(&Labels::new([("__name__", "up"), ("instance", instance)]));
            h.append(id, 1000, 1.0).expect("append");
        };
        for i in ["m", "c", "x", "a", "q"] {
            add(&mut h, i);
        }
        assert_eq!(instances(&h), ["a", "c", "m", "q", "x"]);
        // A series created after a selection takes its place in the order.
        add(&mut h, "b");
        add(&mut h, "z");
        assert_eq!(instances(&h), ["a", "b", "c", "m", "q", "x", "z"]);
        // Another metric's series in between does not disturb it.
        let (id, _) = h.get_or_create(&Labels::new([("__name__", "aaa"), ("instance", "0")]));
        h.append(id, 1000, 1.0).expect("append");
        assert_eq!(instances(&h).len(), 7);
        // Removed series go; the others keep their order.
        for i in ["a", "m"] {
            let id = h
                .get(&Labels::new([("__name__", "up"), ("instance", i)]))
                .expect("known");
            h.series.get_mut(&id).expect("series").chunks.clear();
        }
        h.truncate(0);
        assert_eq!(instances(&h), ["b", "c", "q", "x", "z"]);
        add(&mut h, "d");
        assert_eq!(instances(&h), ["b", "c", "d", "q", "x", "z"]);
    }
}

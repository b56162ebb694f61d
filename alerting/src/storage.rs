//! Where rule results go ([`Appender`]) and an in-memory store that is both a
//! [`SeriesSource`] and an [`Appender`], for `argus rules test` and for tests.

use std::collections::BTreeMap;
use std::sync::RwLock;

use argus_core::series::{Labels, Matcher, Sample, SeriesData, SeriesSource};

/// Receives the samples rules produce (recording-rule series, `ALERTS`,
/// `ALERTS_FOR_STATE`, staleness markers). A later query in the same evaluation must see
/// what was appended before it.
pub trait Appender: Send + Sync {
    fn append(&self, labels: &Labels, t: i64, v: f64);
}

/// Series in memory, sorted by labels; samples kept in time order (a sample at an
/// existing timestamp replaces it).
#[derive(Debug, Default)]
pub struct MemStorage {
    series: RwLock<BTreeMap<Labels, Vec<Sample>>>,
}

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// All series and their samples.
    pub fn snapshot(&self) -> Vec<SeriesData> {
        let g = self.series.read().unwrap_or_else(|e| e.into_inner());
        g.iter()
            .map(|(l, s)| SeriesData {
                labels: l.clone(),
                samples: s.clone(),
            })
            .collect()
    }

    fn matching(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        let g = self.series.read().unwrap_or_else(|e| e.into_inner());
        g.iter()
            .filter(|(l, _)| matchers.iter().all(|m| m.matches_labels(l)))
            .filter_map(|(l, s)| {
                let lo = s.partition_point(|x| x.t < mint);
                let hi = s.partition_point(|x| x.t <= maxt);
                (lo < hi).then(|| SeriesData {
                    labels: l.clone(),
                    samples: s[lo..hi].to_vec(),
                })
            })
            .collect()
    }
}

impl Appender for MemStorage {
    fn append(&self, labels: &Labels, t: i64, v: f64) {
        let mut g = self.series.write().unwrap_or_else(|e| e.into_inner());
        let s = g.entry(labels.clone()).or_default();
        match s.last() {
            Some(last) if last.t < t => s.push(Sample { t, v }),
            None => s.push(Sample { t, v }),
            Some(_) => match s.binary_search_by(|x| x.t.cmp(&t)) {
                Ok(i) => s[i].v = v,
                Err(i) => s.insert(i, Sample { t, v }),
            },
        }
    }
}

impl SeriesSource for MemStorage {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        self.matching(matchers, mint, maxt)
    }

    fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mut names: Vec<String> = self
            .matching(matchers, mint, maxt)
            .into_iter()
            .flat_map(|s| s.labels.into_vec().into_iter().map(|l| l.name))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mut vals: Vec<String> = self
            .matching(matchers, mint, maxt)
            .into_iter()
            .filter_map(|s| s.labels.get(name).map(str::to_string))
            .collect();
        vals.sort();
        vals.dedup();
        vals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_order_and_selects_ranges() {
        let st = MemStorage::new();
        let l = Labels::new([("__name__", "x")]);
        st.append(&l, 20, 2.0);
        st.append(&l, 10, 1.0);
        st.append(&l, 20, 3.0);
        let got = st.select(&[Matcher::equal("__name__", "x")], 0, 15);
        assert_eq!(got[0].samples, vec![Sample { t: 10, v: 1.0 }]);
        assert_eq!(st.snapshot()[0].samples[1], Sample { t: 20, v: 3.0 });
        assert!(st.select(&[], 30, 40).is_empty());
    }
}

//! An in-memory [`SeriesSource`] for tests and small data sets (linear scans).

use super::{Labels, Matcher, Sample, SeriesData, SeriesSource};

/// Series held in a vector.
#[derive(Debug, Clone, Default)]
pub struct MemSource {
    series: Vec<SeriesData>,
}

impl MemSource {
    pub fn new() -> MemSource {
        MemSource::default()
    }

    /// Appends a sample (samples of a series must come in time order).
    pub fn add(&mut self, labels: &Labels, t: i64, v: f64) {
        match self.series.iter_mut().find(|s| &s.labels == labels) {
            Some(s) => s.samples.push(Sample { t, v }),
            None => self.series.push(SeriesData {
                labels: labels.clone(),
                samples: vec![Sample { t, v }],
            }),
        }
    }

    pub fn series(&self) -> &[SeriesData] {
        &self.series
    }

    fn matching<'a>(
        &'a self,
        matchers: &'a [Matcher],
        mint: i64,
        maxt: i64,
    ) -> impl Iterator<Item = SeriesData> + 'a {
        self.series.iter().filter_map(move |s| {
            if !matchers.iter().all(|m| m.matches_labels(&s.labels)) {
                return None;
            }
            let samples: Vec<Sample> = s
                .samples
                .iter()
                .filter(|x| x.t >= mint && x.t <= maxt)
                .copied()
                .collect();
            (!samples.is_empty()).then(|| SeriesData {
                labels: s.labels.clone(),
                samples,
            })
        })
    }
}

impl SeriesSource for MemSource {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        self.matching(matchers, mint, maxt).collect()
    }

    fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mut names: Vec<String> = self
            .matching(matchers, mint, maxt)
            .flat_map(|s| s.labels.into_vec().into_iter().map(|l| l.name))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let mut vals: Vec<String> = self
            .matching(matchers, mint, maxt)
            .filter_map(|s| s.labels.get(name).map(str::to_string))
            .collect();
        vals.sort();
        vals.dedup();
        vals
    }
}

//! Vector selectors (with lookback and staleness), range selectors and subqueries as the
//! windows that range-vector functions read.

use argus_core::series::{
    is_stale, MatchOp, Matcher, Sample, SeriesData, SeriesSource, METRIC_NAME,
};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{Expr, VectorSelector};

use super::{unparen, Evaluator, Steps};
use crate::error::{eval_err, Result};

/// A range-vector argument: raw samples (no staleness markers) of each series and, per
/// evaluation step, the closed window `[ends[i] - range, ends[i]]` to read.
pub(crate) struct RangeArg {
    pub series: Vec<SeriesData>,
    pub range: i64,
    /// Window end per step (the `@` time or step time, minus the offset).
    pub ends: Vec<i64>,
}

impl RangeArg {
    /// Calls `f(series, step, window)` for every non-empty window, series by series.
    pub fn for_each_window(
        &self,
        mut f: impl FnMut(usize, usize, &[Sample]) -> Result<()>,
    ) -> Result<()> {
        for (si, s) in self.series.iter().enumerate() {
            let (mut lo, mut hi) = (0usize, 0usize);
            for (step, &end) in self.ends.iter().enumerate() {
                let start = end - self.range;
                while hi < s.samples.len() && s.samples[hi].t <= end {
                    hi += 1;
                }
                while lo < hi && s.samples[lo].t < start {
                    lo += 1;
                }
                if lo < hi {
                    f(si, step, &s.samples[lo..hi])?;
                }
            }
        }
        Ok(())
    }

    /// The windows of a single-step evaluation as a range vector (instant query of a
    /// range selector or subquery).
    pub fn windows_at_single_step(self) -> Vec<SeriesData> {
        let Some(&end) = self.ends.first() else {
            return Vec::new();
        };
        let start = end - self.range;
        self.series
            .into_iter()
            .filter_map(|s| {
                let samples: Vec<Sample> = s
                    .samples
                    .into_iter()
                    .filter(|x| x.t >= start && x.t <= end)
                    .collect();
                (!samples.is_empty()).then_some(SeriesData {
                    labels: s.labels,
                    samples,
                })
            })
            .collect()
    }
}

/// The source matchers of a selector; regexes anchored as Prometheus 2.42 does (`.` does
/// not match a newline).
pub(crate) fn matchers(vs: &VectorSelector) -> Vec<Matcher> {
    let mut out = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(name) = &vs.name {
        out.push(Matcher::equal(METRIC_NAME, name));
    }
    for m in &vs.matchers.matchers {
        out.push(match &m.op {
            PMatchOp::Equal => Matcher::equal(&m.name, &m.value),
            PMatchOp::NotEqual => Matcher::not_equal(&m.name, &m.value),
            PMatchOp::Re(r) => Matcher {
                name: m.name.clone(),
                op: MatchOp::Re(r.clone()),
                value: m.value.clone(),
            },
            PMatchOp::NotRe(r) => Matcher {
                name: m.name.clone(),
                op: MatchOp::NotRe(r.clone()),
                value: m.value.clone(),
            },
        });
    }
    out
}

impl Evaluator<'_> {
    /// An instant vector selector at every step: the newest sample at or before the read
    /// time, if no older than the lookback delta and not a staleness marker. With
    /// `timestamps`, values are the samples' timestamps in seconds (`timestamp()`).
    pub fn instant_selector(
        &self,
        vs: &VectorSelector,
        s: Steps,
        timestamps: bool,
    ) -> Result<Vec<SeriesData>> {
        let offset = &vs.offset;
        let refs: Vec<i64> = s
            .iter()
            .map(|ts| self.ref_time(&vs.at, offset, ts))
            .collect();
        let (Some(&first), Some(&last)) = (refs.first(), refs.last()) else {
            return Ok(Vec::new());
        };
        let selected = select_sorted(
            self.source,
            vs,
            first - self.lookback,
            self.data_last(vs, last),
        );
        self.check_samples(selected.iter().map(|x| x.samples.len()).sum())?;
        let mut out = Vec::with_capacity(selected.len());
        for series in selected {
            self.check_deadline()?;
            let samples = &series.samples;
            let mut pts = Vec::new();
            let mut n = 0usize; // samples at or before the read time
            for (i, &r) in refs.iter().enumerate() {
                while n < samples.len() && samples[n].t <= r {
                    n += 1;
                }
                let Some(x) = n.checked_sub(1).map(|j| samples[j]) else {
                    continue;
                };
                if x.t < r - self.lookback || is_stale(x.v) {
                    continue;
                }
                let v = if timestamps { x.t as f64 / 1000.0 } else { x.v };
                pts.push(Sample { t: s.ts(i), v });
            }
            if !pts.is_empty() {
                out.push(SeriesData {
                    labels: series.labels,
                    samples: pts,
                });
            }
        }
        Ok(out)
    }

    /// The latest sample time a selector reads: `last`, or less under
    /// [`Evaluator::data_end`].
    fn data_last(&self, vs: &VectorSelector, last: i64) -> i64 {
        match self.data_end {
            Some(end) if vs.at.is_none() => last.min(end - super::offset_ms(&vs.offset)),
            _ => last,
        }
    }

    /// A range selector or subquery (parentheses allowed) as windows per step of `s`.
    ///
    /// With `shift_at` (Prometheus 2.42's treatment of `@` under `predict_linear`, which
    /// is not step-invariant), the window of an `@` argument ends at the `@` time minus
    /// the offset plus the time since the start of `s`; a range selector still reads only
    /// the samples of the unshifted window.
    pub fn range_arg(&self, e: &Expr, s: Steps, shift_at: bool) -> Result<RangeArg> {
        let shift = |at: &Option<promql_parser::parser::AtModifier>, ends: &mut Vec<i64>| {
            if shift_at && at.is_some() {
                for (end, ts) in ends.iter_mut().zip(s.iter()) {
                    *end += ts - s.start;
                }
            }
        };
        match unparen(e) {
            Expr::MatrixSelector(ms) => {
                let vs = &ms.vs;
                let range = ms.range.as_millis() as i64;
                let ends: Vec<i64> = s
                    .iter()
                    .map(|ts| self.ref_time(&vs.at, &vs.offset, ts))
                    .collect();
                let (Some(&first), Some(&last)) = (ends.first(), ends.last()) else {
                    return eval_arg(Vec::new(), range, ends);
                };
                let mut series =
                    select_sorted(self.source, vs, first - range, self.data_last(vs, last));
                self.check_samples(series.iter().map(|x| x.samples.len()).sum())?;
                for x in &mut series {
                    x.samples.retain(|p| !is_stale(p.v));
                }
                series.retain(|x| !x.samples.is_empty());
                let mut ends = ends;
                shift(&vs.at, &mut ends);
                eval_arg(series, range, ends)
            }
            Expr::Subquery(sq) => {
                let range = sq.range.as_millis() as i64;
                let step = sq
                    .step
                    .map(|d| d.as_millis() as i64)
                    .filter(|&d| d > 0)
                    .unwrap_or(self.default_step);
                let mut ends: Vec<i64> = s
                    .iter()
                    .map(|ts| self.ref_time(&sq.at, &sq.offset, ts))
                    .collect();
                shift(&sq.at, &mut ends);
                let (Some(&first), Some(&last)) = (ends.first(), ends.last()) else {
                    return eval_arg(Vec::new(), range, ends);
                };
                let inner = Steps {
                    start: align_up(first - range, step),
                    end: last,
                    step,
                };
                let inner_ev = Evaluator {
                    data_end: if shift_at && sq.at.is_some() {
                        Some(self.ref_time(&sq.at, &sq.offset, s.start))
                    } else {
                        self.data_end
                    },
                    ..*self
                };
                // A subquery's steps become samples: refuse before allocating them.
                self.check_samples(inner.len())?;
                let series = if inner.len() == 0 {
                    Vec::new()
                } else {
                    inner_ev.eval_vector(&sq.expr, inner)?
                };
                eval_arg(series, range, ends)
            }
            _ => eval_err("expected range vector (range selector or subquery)"),
        }
    }
}

fn eval_arg(series: Vec<SeriesData>, range: i64, ends: Vec<i64>) -> Result<RangeArg> {
    Ok(RangeArg {
        series,
        range,
        ends,
    })
}

/// Selects series sorted by labels, as Prometheus' storage returns them (operators that
/// pick among ties, such as `topk`, depend on the order).
fn select_sorted(
    source: &dyn SeriesSource,
    vs: &VectorSelector,
    mint: i64,
    maxt: i64,
) -> Vec<SeriesData> {
    let mut v = source.select(&matchers(vs), mint, maxt);
    if !v.windows(2).all(|w| w[0].labels <= w[1].labels) {
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    v
}

/// The first multiple of `step` at or after `t` (subquery steps are aligned to multiples
/// of the step from the epoch).
pub(crate) fn align_up(t: i64, step: i64) -> i64 {
    let mut a = step * (t / step); // truncation toward zero, as Go
    if a < t {
        a += step;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subquery_steps_align_to_multiples_of_the_step() {
        assert_eq!(align_up(150, 60), 180);
        assert_eq!(align_up(120, 60), 120);
        assert_eq!(align_up(-150, 60), -120);
        assert_eq!(align_up(-120, 60), -120);
        assert_eq!(align_up(0, 60), 0);
    }

    #[test]
    fn windows_are_closed_on_both_ends() {
        let arg = RangeArg {
            series: vec![SeriesData {
                labels: Default::default(),
                samples: (0..5)
                    .map(|i| Sample {
                        t: i * 10,
                        v: i as f64,
                    })
                    .collect(),
            }],
            range: 20,
            ends: vec![5, 20, 40, 100],
        };
        let mut seen = Vec::new();
        arg.for_each_window(|_, step, w| {
            seen.push((step, w.iter().map(|s| s.t).collect::<Vec<_>>()));
            Ok(())
        })
        .expect("windows");
        assert_eq!(
            seen,
            [(0, vec![0]), (1, vec![0, 10, 20]), (2, vec![20, 30, 40])]
        );
    }
}

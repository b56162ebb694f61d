//! Evaluation of the syntax tree over a range of steps.
//!
//! Every node is evaluated once for all steps of the query (an instant query has one
//! step): an instant vector is a list of series whose points sit on step timestamps, a
//! scalar one value per step. Selectors read their data from the source once for the whole
//! range; binary operators, aggregations and instant-vector functions then walk the steps
//! as Prometheus' `rangeEval` does.

mod aggregate;
mod binary;
mod selector;

use std::collections::HashMap;
use std::time::Instant;

use argus_core::series::{SeriesData, SeriesSource};
use promql_parser::parser::{AtModifier, Expr, Offset};

use crate::error::{eval_err, Error, Result};
use crate::functions;

pub(crate) use argus_core::series::valid_label_name;

/// The message of Prometheus' duplicate-series error.
pub(crate) const DUPLICATE_LABELSET: &str = "vector cannot contain metrics with the same labelset";

/// Evaluation timestamps: `start`, `start + step`, ... up to `end` (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Steps {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Steps {
    /// One evaluation at `t`.
    pub fn instant(t: i64) -> Steps {
        Steps {
            start: t,
            end: t,
            step: 1,
        }
    }

    pub fn len(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.step + 1) as usize
        }
    }

    pub fn ts(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> {
        let s = *self;
        (0..s.len()).map(move |i| s.ts(i))
    }
}

/// An intermediate value over all steps.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    Str(String),
    /// Series with points on step timestamps; every series has at least one point.
    Vector(Vec<SeriesData>),
    /// Raw samples of a range selector or subquery; only for single-step evaluation.
    Matrix(Vec<SeriesData>),
}

/// Evaluates expressions against one source with the query's settings.
#[derive(Clone, Copy)]
pub(crate) struct Evaluator<'a> {
    pub source: &'a dyn SeriesSource,
    pub lookback: i64,
    pub max_samples: usize,
    pub deadline: Instant,
    /// Start and end of the query, for `@ start()` and `@ end()`.
    pub query_start: i64,
    pub query_end: i64,
    /// Default subquery step (Prometheus' global evaluation interval).
    pub default_step: i64,
    /// Latest time selectors without `@` read data at (before their own offset): set
    /// inside an `@` subquery whose windows Prometheus 2.42 shifts (see
    /// [`Evaluator::range_arg`]), where its storage only returns data up to the `@` time.
    pub data_end: Option<i64>,
}

impl Evaluator<'_> {
    pub fn eval(&self, e: &Expr, s: Steps) -> Result<Val> {
        self.check_deadline()?;
        let v = match e {
            Expr::Paren(p) => self.eval(&p.expr, s)?,
            Expr::NumberLiteral(n) => Val::Scalar(vec![n.val; s.len()]),
            Expr::StringLiteral(l) => Val::Str(l.val.clone()),
            Expr::Unary(u) => match self.eval(&u.expr, s)? {
                Val::Scalar(v) => Val::Scalar(v.into_iter().map(|x| -x).collect()),
                Val::Vector(mut v) => {
                    for series in &mut v {
                        series.labels = series.labels.without_name();
                        for p in &mut series.samples {
                            p.v = -p.v;
                        }
                    }
                    check_unique(&v)?;
                    Val::Vector(v)
                }
                _ => return eval_err("unary expression only allowed on scalars and vectors"),
            },
            Expr::VectorSelector(vs) => Val::Vector(self.instant_selector(vs, s, false)?),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                if s.len() != 1 {
                    return eval_err(
                        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
                    );
                }
                let arg = self.range_arg(e, s, false)?;
                Val::Matrix(arg.windows_at_single_step())
            }
            Expr::Binary(b) => self.eval_binary(b, s)?,
            Expr::Aggregate(a) => self.eval_aggregate(a, s)?,
            Expr::Call(c) => functions::eval_call(self, c, s)?,
            Expr::Extension(_) => return eval_err("unsupported expression"),
        };
        if let Val::Vector(v) | Val::Matrix(v) = &v {
            self.check_samples(v.iter().map(|s| s.samples.len()).sum())?;
        }
        Ok(v)
    }

    /// Evaluates an expression that type-checks as an instant vector.
    pub fn eval_vector(&self, e: &Expr, s: Steps) -> Result<Vec<SeriesData>> {
        match self.eval(e, s)? {
            Val::Vector(v) => Ok(v),
            other => eval_err(format!("expected instant vector, got {}", kind(&other))),
        }
    }

    /// Evaluates an expression that type-checks as a scalar: one value per step.
    pub fn eval_scalar(&self, e: &Expr, s: Steps) -> Result<Vec<f64>> {
        match self.eval(e, s)? {
            Val::Scalar(v) => Ok(v),
            other => eval_err(format!("expected scalar, got {}", kind(&other))),
        }
    }

    pub fn check_deadline(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            Err(Error::Timeout)
        } else {
            Ok(())
        }
    }

    pub fn check_samples(&self, n: usize) -> Result<()> {
        if n > self.max_samples {
            Err(Error::TooManySamples)
        } else {
            Ok(())
        }
    }

    /// The time a selector or subquery reads at for step time `ts`: its `@` time (if any)
    /// minus its offset.
    pub fn ref_time(&self, at: &Option<AtModifier>, offset: &Option<Offset>, ts: i64) -> i64 {
        self.at_time(at).unwrap_or(ts) - offset_ms(offset)
    }

    pub fn at_time(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.query_start),
            Some(AtModifier::End) => Some(self.query_end),
            Some(AtModifier::At(t)) => Some(system_time_ms(*t)),
        }
    }
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Scalar(_) => "scalar",
        Val::Str(_) => "string",
        Val::Vector(_) => "instant vector",
        Val::Matrix(_) => "range vector",
    }
}

pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => d.as_millis() as i64,
        Some(Offset::Neg(d)) => -(d.as_millis() as i64),
    }
}

pub(crate) fn system_time_ms(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// Unwraps parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Joins series with equal label sets (an operation may produce one label set from
/// several inputs at different steps); equal label sets at the same step are Prometheus'
/// "vector cannot contain metrics with the same labelset" error. Keeps first-seen order.
pub(crate) fn merge_series(v: Vec<SeriesData>) -> Result<Vec<SeriesData>> {
    let mut index: HashMap<argus_core::series::Labels, usize> = HashMap::with_capacity(v.len());
    let mut out: Vec<SeriesData> = Vec::with_capacity(v.len());
    for s in v {
        if s.samples.is_empty() {
            continue;
        }
        match index.get(&s.labels) {
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
            Some(&i) => {
                let a = std::mem::take(&mut out[i].samples);
                let mut merged = Vec::with_capacity(a.len() + s.samples.len());
                let (mut x, mut y) = (0, 0);
                while x < a.len() || y < s.samples.len() {
                    if y == s.samples.len() || (x < a.len() && a[x].t < s.samples[y].t) {
                        merged.push(a[x]);
                        x += 1;
                    } else if x == a.len() || s.samples[y].t < a[x].t {
                        merged.push(s.samples[y]);
                        y += 1;
                    } else {
                        return eval_err(DUPLICATE_LABELSET);
                    }
                }
                out[i].samples = merged;
            }
        }
    }
    Ok(out)
}

/// Prometheus' `Matrix.ContainsSameLabelset` check over a whole result.
pub(crate) fn check_unique(v: &[SeriesData]) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    for s in v {
        if !seen.insert(&s.labels) {
            return eval_err(DUPLICATE_LABELSET);
        }
    }
    Ok(())
}

/// Walks instant-vector series step by step.
pub(crate) struct Cursor<'a> {
    series: &'a [SeriesData],
    pos: Vec<usize>,
}

impl<'a> Cursor<'a> {
    pub fn new(series: &'a [SeriesData]) -> Self {
        Cursor {
            series,
            pos: vec![0; series.len()],
        }
    }

    /// The (series index, value) pairs at step `ts`; steps must be visited in order.
    pub fn step(&mut self, ts: i64, out: &mut Vec<(usize, f64)>) {
        out.clear();
        for (i, s) in self.series.iter().enumerate() {
            let p = self.pos[i];
            if let Some(x) = s.samples.get(p) {
                if x.t == ts {
                    out.push((i, x.v));
                    self.pos[i] = p + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::{Labels, Sample};

    fn series(name: &str, ts: &[i64]) -> SeriesData {
        SeriesData {
            labels: Labels::new([("a", name)]),
            samples: ts.iter().map(|&t| Sample { t, v: 1.0 }).collect(),
        }
    }

    #[test]
    fn merge_joins_disjoint_steps_and_rejects_overlaps() {
        let m = merge_series(vec![
            series("x", &[1, 3]),
            series("x", &[2]),
            series("y", &[1]),
        ])
        .expect("disjoint");
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].samples.iter().map(|s| s.t).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let e = merge_series(vec![series("x", &[1, 3]), series("x", &[3])]).expect_err("dup");
        assert_eq!(e.to_string(), DUPLICATE_LABELSET);
    }

    #[test]
    fn steps_count_and_cursor() {
        let s = Steps {
            start: 0,
            end: 30,
            step: 15,
        };
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 15, 30]);
        let data = [series("x", &[0, 30]), series("y", &[15])];
        let mut c = Cursor::new(&data);
        let mut out = Vec::new();
        c.step(0, &mut out);
        assert_eq!(out, [(0, 1.0)]);
        c.step(15, &mut out);
        assert_eq!(out, [(1, 1.0)]);
    }
}

//! The engine: options, and instant and range queries turned into evaluations.

use std::time::{Duration, Instant};

use argus_core::series::{SeriesData, SeriesSource};
use promql_parser::parser::value::ValueType;

use crate::check;
use crate::error::{eval_err, Result};
use crate::eval::{Evaluator, Steps, Val};
use crate::value::{Value, VectorSample};

/// Engine settings (Prometheus' defaults).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (ms); default 5 minutes.
    pub lookback_delta_ms: i64,
    /// Most samples a query may hold at once; default 50 million.
    pub max_samples: usize,
    /// Longest a query may run; default 2 minutes.
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 300_000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

/// Step of subqueries that give none: Prometheus' default global evaluation interval.
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// Evaluates PromQL queries.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Engine {
        Engine { opts }
    }

    fn evaluator<'a>(&self, source: &'a dyn SeriesSource, start: i64, end: i64) -> Evaluator<'a> {
        Evaluator {
            source,
            lookback: self.opts.lookback_delta_ms,
            max_samples: self.opts.max_samples,
            deadline: Instant::now() + self.opts.timeout,
            query_start: start,
            query_end: end,
            default_step: DEFAULT_SUBQUERY_STEP_MS,
            data_end: None,
        }
    }

    /// Instant query at `time_ms`: a Vector (in evaluation order, so `sort()` shows),
    /// Scalar, String, or Matrix (for a range selector or subquery).
    pub fn instant(&self, source: &dyn SeriesSource, query: &str, time_ms: i64) -> Result<Value> {
        let expr = check::parse(query)?;
        let ev = self.evaluator(source, time_ms, time_ms);
        Ok(match ev.eval(&expr, Steps::instant(time_ms))? {
            Val::Scalar(v) => Value::Scalar {
                t: time_ms,
                v: v.first().copied().unwrap_or(f64::NAN),
            },
            Val::Str(v) => Value::String { t: time_ms, v },
            Val::Vector(series) => Value::Vector(
                series
                    .into_iter()
                    .filter_map(|s| {
                        let p = s.samples.first()?;
                        Some(VectorSample {
                            labels: s.labels,
                            t: time_ms,
                            v: p.v,
                        })
                    })
                    .collect(),
            ),
            Val::Matrix(series) => Value::Matrix(series),
        })
    }

    /// Range query over `[start_ms, end_ms]` every `step_ms`; the result is a Matrix
    /// sorted by labels (string and range-vector expressions are errors, as in
    /// Prometheus).
    pub fn range(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Value> {
        let expr = check::parse(query)?;
        if step_ms <= 0 {
            return eval_err("zero or negative query resolution step widths are not accepted");
        }
        if end_ms < start_ms {
            return eval_err("end timestamp must not be before start time");
        }
        match expr.value_type() {
            ValueType::Vector | ValueType::Scalar => {}
            t => {
                return eval_err(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                match t {
                    ValueType::Matrix => "range vector",
                    _ => "string",
                }
            ))
            }
        }
        let steps = Steps {
            start: start_ms,
            end: end_ms,
            step: step_ms,
        };
        let ev = self.evaluator(source, start_ms, end_ms);
        ev.check_samples(steps.len())?;
        let mut series = match ev.eval(&expr, steps)? {
            Val::Scalar(v) => vec![SeriesData {
                labels: Default::default(),
                samples: steps
                    .iter()
                    .zip(v)
                    .map(|(t, v)| argus_core::series::Sample { t, v })
                    .collect(),
            }],
            Val::Vector(v) => v,
            _ => return eval_err("unexpected result type for range query"),
        };
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(Value::Matrix(series))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::{stale_nan, Labels, MemSource};

    fn source() -> MemSource {
        let mut src = MemSource::new();
        let l = Labels::new([("__name__", "x"), ("job", "a")]);
        for (t, v) in [
            (0, 1.0),
            (15, 2.0),
            (30, 3.0),
            (45, stale_nan()),
            (120, 7.0),
        ] {
            src.add(&l, t * 1000, v);
        }
        src
    }

    fn instant(q: &str, t: i64) -> Value {
        Engine::default().instant(&source(), q, t * 1000).expect(q)
    }

    #[test]
    fn staleness_marker_ends_the_series_for_lookback() {
        let Value::Vector(v) = instant("x", 40) else {
            panic!("vector")
        };
        assert_eq!(v[0].v, 3.0);
        // The marker at 45 hides the sample at 30 although it is within the lookback.
        let Value::Vector(v) = instant("x", 60) else {
            panic!("vector")
        };
        assert!(v.is_empty());
        let Value::Vector(v) = instant("x", 125) else {
            panic!("vector")
        };
        assert_eq!(v[0].v, 7.0);
        // Range vectors leave markers out.
        let Value::Vector(v) = instant("count_over_time(x[2m])", 120) else {
            panic!("vector")
        };
        assert_eq!(v[0].v, 4.0);
    }

    #[test]
    fn range_query_steps_and_scalars() {
        let e = Engine::default();
        let Value::Matrix(m) = e.range(&source(), "x", 0, 60_000, 15_000).expect("range") else {
            panic!("matrix")
        };
        let vals: Vec<f64> = m[0].samples.iter().map(|s| s.v).collect();
        // Nothing at 45 and 60: the marker at 45 ends the series.
        assert_eq!(vals, [1.0, 2.0, 3.0]);
        let Value::Matrix(m) = e
            .range(&source(), "time()", 0, 30_000, 15_000)
            .expect("range")
        else {
            panic!("matrix")
        };
        assert_eq!(m[0].samples.len(), 3);
        assert!(e.range(&source(), "\"s\"", 0, 30_000, 15_000).is_err());
        assert!(e.range(&source(), "x[1m]", 0, 30_000, 15_000).is_err());
    }

    #[test]
    fn limits_timeout_and_samples() {
        let e = Engine::new(EngineOptions {
            timeout: Duration::ZERO,
            ..EngineOptions::default()
        });
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(e.instant(&source(), "x", 0), Err(crate::Error::Timeout));
        let e = Engine::new(EngineOptions {
            max_samples: 2,
            ..EngineOptions::default()
        });
        assert_eq!(
            e.instant(&source(), "x[5m]", 120_000),
            Err(crate::Error::TooManySamples)
        );
        assert_eq!(
            e.instant(&source(), "max_over_time(x[1y:1ms])", 120_000),
            Err(crate::Error::TooManySamples)
        );
    }

    #[test]
    fn parse_errors_are_reported() {
        let e = Engine::default()
            .instant(&source(), "sum(", 0)
            .expect_err("parse");
        assert!(matches!(e, crate::Error::Parse(_)), "{e}");
    }
}

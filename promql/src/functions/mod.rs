//! PromQL functions of Prometheus 2.42: dispatch, and the functions over instant vectors
//! and scalars. Range-vector functions are in [`range`], `histogram_quantile` in
//! [`histogram`], calendar functions in [`date`], label rewriting in [`labels`].

mod date;
mod histogram;
mod labels;
mod range;

use argus_core::series::{Labels, Sample, SeriesData, METRIC_NAME};
use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use crate::error::{eval_err, Result};
use crate::eval::{merge_series, unparen, Cursor, Evaluator, Steps, Val};
use crate::gomath;

/// Evaluates a function call at every step.
pub(crate) fn eval_call(ev: &Evaluator<'_>, c: &Call, s: Steps) -> Result<Val> {
    let args: Vec<&Expr> = c.args.args.iter().map(|a| unparen(a)).collect();
    let name = c.func.name;
    if let Some(v) = range::eval(ev, name, &args, s)? {
        return Ok(v);
    }
    let v = match name {
        "time" => Val::Scalar(s.iter().map(|t| t as f64 / 1000.0).collect()),
        "pi" => Val::Scalar(vec![std::f64::consts::PI; s.len()]),
        "vector" => {
            let v = ev.eval_scalar(args[0], s)?;
            Val::Vector(vec![SeriesData {
                labels: Labels::default(),
                samples: s.iter().zip(v).map(|(t, v)| Sample { t, v }).collect(),
            }])
        }
        "scalar" => {
            let input = ev.eval_vector(args[0], s)?;
            let mut cursor = Cursor::new(&input);
            let mut buf = Vec::new();
            Val::Scalar(
                s.iter()
                    .map(|t| {
                        cursor.step(t, &mut buf);
                        if buf.len() == 1 {
                            buf[0].1
                        } else {
                            f64::NAN
                        }
                    })
                    .collect(),
            )
        }
        "timestamp" => {
            let input = match args[0] {
                Expr::VectorSelector(vs) => ev.instant_selector(vs, s, true)?,
                e => {
                    let mut v = ev.eval_vector(e, s)?;
                    for series in &mut v {
                        for p in &mut series.samples {
                            p.v = p.t as f64 / 1000.0;
                        }
                    }
                    v
                }
            };
            map_values(input, |_, v| Some(v), true, s)?
        }
        "absent" => {
            let input = ev.eval_vector(args[0], s)?;
            absent(&input, args[0], s)
        }
        "sort" | "sort_desc" => {
            let mut input = ev.eval_vector(args[0], s)?;
            if s.len() == 1 {
                sort_instant(&mut input, name == "sort_desc");
            }
            Val::Vector(input)
        }
        "label_replace" => Val::Vector(labels::label_replace(ev, &args, s)?),
        "label_join" => Val::Vector(labels::label_join(ev, &args, s)?),
        "histogram_quantile" => {
            let q = ev.eval_scalar(args[0], s)?;
            let input = ev.eval_vector(args[1], s)?;
            Val::Vector(histogram::histogram_quantile(&q, &input, s)?)
        }
        // Native-histogram functions: float series have no native histograms.
        "histogram_count" | "histogram_sum" | "histogram_fraction" => {
            for a in &args {
                ev.eval(a, s)?;
            }
            Val::Vector(Vec::new())
        }
        "clamp" => {
            let input = ev.eval_vector(args[0], s)?;
            let lo = ev.eval_scalar(args[1], s)?;
            let hi = ev.eval_scalar(args[2], s)?;
            map_values(
                input,
                |i, v| {
                    // As Go: no output only when max < min (NaN bounds pass).
                    if hi[i] < lo[i] {
                        None
                    } else {
                        Some(gomath::max(lo[i], gomath::min(hi[i], v)))
                    }
                },
                true,
                s,
            )?
        }
        "clamp_min" | "clamp_max" => {
            let input = ev.eval_vector(args[0], s)?;
            let b = ev.eval_scalar(args[1], s)?;
            let min = name == "clamp_min";
            map_values(
                input,
                |i, v| {
                    Some(if min {
                        gomath::max(b[i], v)
                    } else {
                        gomath::min(b[i], v)
                    })
                },
                true,
                s,
            )?
        }
        "round" => {
            let input = ev.eval_vector(args[0], s)?;
            let to = match args.get(1) {
                Some(a) => ev.eval_scalar(a, s)?,
                None => vec![1.0; s.len()],
            };
            map_values(
                input,
                |i, v| {
                    let inv = 1.0 / to[i];
                    Some((v * inv + 0.5).floor() / inv)
                },
                true,
                s,
            )?
        }
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => {
            let f = date::function(name);
            match args.first() {
                None => Val::Vector(vec![SeriesData {
                    labels: Labels::default(),
                    samples: s
                        .iter()
                        .map(|t| Sample {
                            t,
                            v: f(t.div_euclid(1000)),
                        })
                        .collect(),
                }]),
                Some(a) => {
                    let input = ev.eval_vector(a, s)?;
                    map_values(input, |_, v| Some(f(gomath::to_i64(v))), true, s)?
                }
            }
        }
        _ => {
            let Some(f) = math_function(name) else {
                return eval_err(format!("unknown function with name {name:?}"));
            };
            let input = ev.eval_vector(args[0], s)?;
            map_values(input, |_, v| Some(f(v)), true, s)?
        }
    };
    Ok(v)
}

/// Maps every point through `f(step index, value)` (a point is dropped on `None`),
/// optionally dropping the metric name; equal label sets at one step are an error.
fn map_values(
    input: Vec<SeriesData>,
    f: impl Fn(usize, f64) -> Option<f64>,
    drop_name: bool,
    s: Steps,
) -> Result<Val> {
    let mut out = Vec::with_capacity(input.len());
    for mut series in input {
        series
            .samples
            .retain_mut(|p| match f(((p.t - s.start) / s.step) as usize, p.v) {
                Some(v) => {
                    p.v = v;
                    true
                }
                None => false,
            });
        if drop_name {
            series.labels = series.labels.without_name();
        }
        out.push(series);
    }
    Ok(Val::Vector(merge_series(out)?))
}

/// The element-wise math functions (all drop the metric name).
fn math_function(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sgn" => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v: f64| v * 180.0 / std::f64::consts::PI,
        "rad" => |v: f64| v * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

/// Labels of `absent()` / `absent_over_time()` output: the equality matchers of a
/// selector argument (a label matched more than once, or not by `=`, is left out).
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let vs = match unparen(arg) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut l = Labels::default();
    let mut removed: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if matches!(m.op, MatchOp::Equal) && l.get(&m.name).is_none() {
            l.set(&m.name, &m.value);
        } else {
            removed.push(&m.name);
        }
    }
    for r in removed {
        l.remove(r);
    }
    l
}

/// Steps at which no series had a sample get 1 (also `absent_over_time`).
fn absent(input: &[SeriesData], arg: &Expr, s: Steps) -> Val {
    let mut present = vec![false; s.len()];
    for series in input {
        for p in &series.samples {
            present[((p.t - s.start) / s.step) as usize] = true;
        }
    }
    let samples: Vec<Sample> = s
        .iter()
        .zip(present)
        .filter(|(_, p)| !p)
        .map(|(t, _)| Sample { t, v: 1.0 })
        .collect();
    if samples.is_empty() {
        return Val::Vector(Vec::new());
    }
    Val::Vector(vec![SeriesData {
        labels: absent_labels(arg),
        samples,
    }])
}

/// `sort` / `sort_desc` of an instant query's single step (NaN last).
fn sort_instant(v: &mut [SeriesData], desc: bool) {
    let val = |s: &SeriesData| s.samples.first().map_or(f64::NAN, |p| p.v);
    v.sort_by(|a, b| {
        let (x, y) = (val(a), val(b));
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ if desc => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
            _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        }
    });
}

//! Functions over range vectors (`rate`, `increase`, `delta`, `irate`, `idelta`, `deriv`,
//! `predict_linear`, `holt_winters`, `changes`, `resets` and the `*_over_time` family),
//! evaluated series by series over the sliding windows of a range argument (`eval::selector::RangeArg`).

use argus_core::series::{Labels, Sample, SeriesData};
use promql_parser::parser::Expr;

use crate::error::{eval_err, Result};
use crate::eval::{check_unique, Evaluator, Steps, Val};
use crate::gomath::{self, kahan_inc};

/// Where the range-vector argument is, for functions that take one.
fn matrix_arg_index(name: &str) -> Option<usize> {
    Some(match name {
        "rate" | "increase" | "delta" | "irate" | "idelta" | "deriv" | "predict_linear"
        | "holt_winters" | "changes" | "resets" | "avg_over_time" | "min_over_time"
        | "max_over_time" | "sum_over_time" | "count_over_time" | "stddev_over_time"
        | "stdvar_over_time" | "last_over_time" | "present_over_time" | "absent_over_time" => 0,
        "quantile_over_time" => 1,
        _ => return None,
    })
}

/// Evaluates `name` if it takes a range vector; `None` otherwise.
pub(super) fn eval(
    ev: &Evaluator<'_>,
    name: &str,
    args: &[&Expr],
    s: Steps,
) -> Result<Option<Val>> {
    let Some(mi) = matrix_arg_index(name) else {
        return Ok(None);
    };
    // Scalar arguments, one value per step (evaluated before the range vector, as
    // Prometheus does).
    let mut scalars: Vec<Vec<f64>> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i != mi {
            scalars.push(ev.eval_scalar(a, s)?);
        }
    }
    // predict_linear is not step-invariant in Prometheus 2.42 even over an `@` argument
    // (it reads the evaluation time): its `@` window moves with the steps.
    let arg = ev.range_arg(args[mi], s, name == "predict_linear")?;
    let keep_name = name == "last_over_time";
    let mut out: Vec<SeriesData> = Vec::new();
    let mut current: Option<usize> = None;
    let mut points: Vec<Sample> = Vec::new();
    let flush = |si: Option<usize>, points: &mut Vec<Sample>, out: &mut Vec<SeriesData>| {
        if let Some(si) = si {
            if !points.is_empty() {
                let l: &Labels = &arg.series[si].labels;
                out.push(SeriesData {
                    labels: if keep_name {
                        l.clone()
                    } else {
                        l.without_name()
                    },
                    samples: std::mem::take(points),
                });
            }
        }
    };
    let mut result: Vec<(usize, Sample)> = Vec::new();
    arg.for_each_window(|si, step, w| {
        let ts = s.ts(step);
        let ctx = Window {
            end: arg.ends[step],
            range: arg.range,
            intercept: ts,
            args: scalars.iter().map(|v| v[step]).collect(),
        };
        if let Some(v) = apply(name, w, &ctx)? {
            result.push((si, Sample { t: ts, v }));
        }
        Ok(())
    })?;
    for (si, p) in result {
        if current != Some(si) {
            flush(current, &mut points, &mut out);
            current = Some(si);
        }
        points.push(p);
    }
    flush(current, &mut points, &mut out);
    ev.check_deadline()?;

    if name == "absent_over_time" {
        // The steps where no window had samples: the same output as `absent`.
        return Ok(Some(super::absent(&out, args[mi], s)));
    }
    check_unique(&out)?;
    Ok(Some(Val::Vector(out)))
}

/// What a function sees at one step besides the window's samples.
struct Window {
    /// End of the window (read time).
    end: i64,
    range: i64,
    /// `predict_linear`'s intercept time.
    intercept: i64,
    /// Scalar arguments at this step, in argument order.
    args: Vec<f64>,
}

/// One function on one non-empty window; `None` drops the element.
fn apply(name: &str, w: &[Sample], c: &Window) -> Result<Option<f64>> {
    let arg = |i: usize| c.args.get(i).copied().unwrap_or(f64::NAN);
    Ok(match name {
        "rate" => extrapolated_rate(w, c.end - c.range, c.end, c.range, true, true),
        "increase" => extrapolated_rate(w, c.end - c.range, c.end, c.range, true, false),
        "delta" => extrapolated_rate(w, c.end - c.range, c.end, c.range, false, false),
        "irate" => instant_value(w, true),
        "idelta" => instant_value(w, false),
        "deriv" => (w.len() >= 2).then(|| linear_regression(w, w[0].t).0),
        "predict_linear" => (w.len() >= 2).then(|| {
            let (slope, intercept) = linear_regression(w, c.intercept);
            slope * arg(0) + intercept
        }),
        "holt_winters" => holt_winters(w, arg(0), arg(1))?,
        "changes" => Some(
            w.windows(2)
                .filter(|p| p[1].v != p[0].v && !(p[1].v.is_nan() && p[0].v.is_nan()))
                .count() as f64,
        ),
        "resets" => Some(w.windows(2).filter(|p| p[1].v < p[0].v).count() as f64),
        "avg_over_time" => Some(avg(w)),
        "min_over_time" => Some(
            w.iter()
                .fold(w[0].v, |m, p| if p.v < m || m.is_nan() { p.v } else { m }),
        ),
        "max_over_time" => Some(
            w.iter()
                .fold(w[0].v, |m, p| if p.v > m || m.is_nan() { p.v } else { m }),
        ),
        "sum_over_time" => {
            let (sum, c) = w.iter().fold((0.0, 0.0), |(s, c), p| kahan_inc(p.v, s, c));
            Some(if sum.is_infinite() { sum } else { sum + c })
        }
        "count_over_time" => Some(w.len() as f64),
        "stddev_over_time" => Some(variance(w).sqrt()),
        "stdvar_over_time" => Some(variance(w)),
        "quantile_over_time" => {
            let mut vals: Vec<f64> = w.iter().map(|p| p.v).collect();
            Some(gomath::quantile(arg(0), &mut vals))
        }
        "last_over_time" => w.last().map(|p| p.v),
        "present_over_time" | "absent_over_time" => Some(1.0),
        _ => return eval_err(format!("unknown function with name {name:?}")),
    })
}

/// Prometheus' `extrapolatedRate`: the change over the window, extrapolated towards the
/// window's edges when the first and last samples are close enough to them (and never
/// below zero for counters), per second when `is_rate`.
pub(crate) fn extrapolated_rate(
    w: &[Sample],
    range_start: i64,
    range_end: i64,
    range: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (first, last) = (w[0], w[w.len() - 1]);
    let mut result = last.v - first.v;
    if is_counter {
        let mut prev = 0.0;
        for p in w {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    let mut duration_to_start = (first.t - range_start) as f64 / 1000.0;
    let duration_to_end = (range_end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_between = sampled / (w.len() - 1) as f64;
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let to_zero = sampled * (first.v / result);
        if to_zero < duration_to_start {
            duration_to_start = to_zero;
        }
    }
    let threshold = avg_between * 1.1;
    let mut interval = sampled;
    interval += if duration_to_start < threshold {
        duration_to_start
    } else {
        avg_between / 2.0
    };
    interval += if duration_to_end < threshold {
        duration_to_end
    } else {
        avg_between / 2.0
    };
    result *= interval / sampled;
    if is_rate {
        result /= range as f64 / 1000.0;
    }
    Some(result)
}

/// `irate` / `idelta`: the last two samples.
fn instant_value(w: &[Sample], is_rate: bool) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (prev, last) = (w[w.len() - 2], w[w.len() - 1]);
    let mut v = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares slope and intercept (at `intercept_time`) of the samples, x in seconds.
pub(crate) fn linear_regression(w: &[Sample], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut cx, mut sum_y, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut cxy, mut sum_x2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = w[0].v;
    let mut const_y = true;
    for (i, p) in w.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1000.0;
        (sum_x, cx) = kahan_inc(x, sum_x, cx);
        (sum_y, cy) = kahan_inc(p.v, sum_y, cy);
        (sum_xy, cxy) = kahan_inc(x * p.v, sum_xy, cxy);
        (sum_x2, cx2) = kahan_inc(x * x, sum_x2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + cx, sum_y + cy, sum_xy + cxy, sum_x2 + cx2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// Double exponential smoothing with smoothing factor `sf` and trend factor `tf`.
pub(crate) fn holt_winters(w: &[Sample], sf: f64, tf: f64) -> Result<Option<f64>> {
    // As Go, NaN passes these checks.
    if sf <= 0.0 || sf >= 1.0 {
        return eval_err(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        ));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return eval_err(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        ));
    }
    if w.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, w[0].v);
    let mut b = w[1].v - w[0].v;
    for (i, p) in w.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}

/// `avg_over_time`: incremental mean that keeps an infinite mean.
fn avg(w: &[Sample]) -> f64 {
    let (mut mean, mut count, mut c) = (0.0f64, 0.0, 0.0);
    for p in w {
        count += 1.0;
        if mean.is_infinite() {
            if p.v.is_infinite() && (mean > 0.0) == (p.v > 0.0) {
                continue;
            }
            if !p.v.is_infinite() && !p.v.is_nan() {
                continue;
            }
        }
        (mean, c) = kahan_inc(p.v / count - mean / count, mean, c);
    }
    if mean.is_infinite() {
        mean
    } else {
        mean + c
    }
}

/// Population variance (Welford with compensated sums).
fn variance(w: &[Sample]) -> f64 {
    let (mut count, mut mean, mut cmean, mut aux, mut caux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in w {
        count += 1.0;
        let delta = p.v - (mean + cmean);
        (mean, cmean) = kahan_inc(delta / count, mean, cmean);
        (aux, caux) = kahan_inc(delta * (p.v - (mean + cmean)), aux, caux);
    }
    (aux + caux) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(points: &[(i64, f64)]) -> Vec<Sample> {
        points
            .iter()
            .map(|&(t, v)| Sample { t: t * 1000, v })
            .collect()
    }

    #[test]
    fn rate_extrapolates_to_window_edges() {
        // 60s window, samples every 15s from 15 to 60: extrapolated by 15s at the start
        // (less than 1.1 × the average interval away).
        let w = samples(&[(15, 1.0), (30, 2.0), (45, 3.0), (60, 4.0)]);
        let inc = extrapolated_rate(&w, 0, 60_000, 60_000, true, false).expect("value");
        assert!((inc - 4.0).abs() < 1e-12, "{inc}");
        let rate = extrapolated_rate(&w, 0, 60_000, 60_000, true, true).expect("value");
        assert!((rate - 4.0 / 60.0).abs() < 1e-12);
        // A counter never extrapolates below zero: from 1 at t=15 with slope 1/15s it
        // would reach 0 at t=0 exactly; starting at 0.5 it stops at t=7.5.
        let w = samples(&[(15, 0.5), (30, 1.5), (45, 2.5), (60, 3.5)]);
        let inc = extrapolated_rate(&w, 0, 60_000, 60_000, true, false).expect("value");
        assert!((inc - 3.5).abs() < 1e-12, "{inc}");
        // Far from the edges: extrapolate by half an interval on each side.
        let w = samples(&[(100, 1.0), (115, 2.0)]);
        let d = extrapolated_rate(&w, 0, 300_000, 300_000, false, false).expect("value");
        assert!((d - 2.0).abs() < 1e-12, "{d}");
        assert!(extrapolated_rate(&w[..1], 0, 300_000, 300_000, true, true).is_none());
    }

    #[test]
    fn counter_resets_add_the_previous_value() {
        let w = samples(&[(0, 5.0), (15, 10.0), (30, 2.0), (45, 4.0)]);
        let inc = extrapolated_rate(&w, 0, 45_000, 45_000, true, false).expect("value");
        // 10 - 5 before the reset, 4 after it.
        assert!((inc - 9.0).abs() < 1e-12, "{inc}");
        assert_eq!(instant_value(&w, true), Some(2.0 / 15.0));
        assert_eq!(instant_value(&w, false), Some(2.0));
    }

    #[test]
    fn holt_winters_smooths_and_validates_factors() {
        let w = samples(&[(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)]);
        let v = holt_winters(&w, 0.5, 0.5).expect("ok").expect("value");
        assert!((v - 4.0).abs() < 1e-12, "{v}");
        let w = samples(&[(0, 0.0), (1, 10.0), (2, 0.0)]);
        // s1=0,b=10; i=1: s=0.5*10+0.5*(0+10)=10; i=2: b=0.5*10+0.5*10=10, s=0+0.5*20=10.
        assert_eq!(holt_winters(&w, 0.5, 0.5).expect("ok"), Some(10.0));
        assert!(holt_winters(&w, 1.0, 0.5).is_err());
        assert!(holt_winters(&w, 0.5, 0.0).is_err());
    }

    #[test]
    fn regression_slope_and_constant_series() {
        let w = samples(&[(0, 1.0), (10, 3.0), (20, 5.0)]);
        let (slope, intercept) = linear_regression(&w, 0);
        assert!((slope - 0.2).abs() < 1e-12 && (intercept - 1.0).abs() < 1e-12);
        let w = samples(&[(0, 7.0), (10, 7.0)]);
        assert_eq!(linear_regression(&w, 0), (0.0, 7.0));
    }
}

//! `histogram_quantile` over classic histograms (`le` buckets), as Prometheus 2.42's
//! `bucketQuantile`.

use std::collections::HashMap;

use argus_core::series::{Labels, Sample, SeriesData, METRIC_NAME};

use crate::error::Result;
use crate::eval::{merge_series, Cursor, Steps};

/// The bucket label.
const LE: &str = "le";

/// One bucket: upper bound and cumulative count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub upper: f64,
    pub count: f64,
}

pub(super) fn histogram_quantile(
    q: &[f64],
    input: &[SeriesData],
    s: Steps,
) -> Result<Vec<SeriesData>> {
    // Each bucket series: its upper bound and histogram (labels without `le`, name kept
    // for grouping as Prometheus does; the output drops it).
    let mut groups: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<SeriesData> = Vec::new();
    let info: Vec<Option<(usize, f64)>> = input
        .iter()
        .map(|series| {
            let upper = parse_go_float(series.labels.get(LE)?)?;
            let key = series.labels.drop_names(&[LE]);
            let g = *groups.entry(key).or_insert_with(|| {
                out.push(SeriesData {
                    labels: series.labels.drop_names(&[LE, METRIC_NAME]),
                    samples: Vec::new(),
                });
                out.len() - 1
            });
            Some((g, upper))
        })
        .collect();
    let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); out.len()];
    let mut cursor = Cursor::new(input);
    let mut vec = Vec::new();
    for (step, ts) in s.iter().enumerate() {
        cursor.step(ts, &mut vec);
        for b in &mut buckets {
            b.clear();
        }
        for &(i, v) in &vec {
            if let Some((g, upper)) = info[i] {
                buckets[g].push(Bucket { upper, count: v });
            }
        }
        for (g, b) in buckets.iter_mut().enumerate() {
            if !b.is_empty() {
                out[g].samples.push(Sample {
                    t: ts,
                    v: bucket_quantile(q[step], b),
                });
            }
        }
    }
    merge_series(out)
}

/// Go's `strconv.ParseFloat` for bucket bounds (Inf/NaN spellings included).
fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        return s.parse::<f64>().ok();
    }
    if !t.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// The φ-quantile of cumulative buckets (sorted here), linearly interpolated inside the
/// bucket it falls in; NaN without a +Inf bucket or observations.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    match buckets.last() {
        Some(b) if b.upper == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    coalesce(buckets);
    ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    // sort.Search over all but the last bucket: first with count >= rank.
    let n = buckets.len() - 1;
    let b = (0..n).find(|&i| buckets[i].count >= rank).unwrap_or(n);
    if b == buckets.len() - 1 {
        return buckets[buckets.len() - 2].upper;
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return buckets[0].upper;
    }
    let mut start = 0.0;
    let end = buckets[b].upper;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    start + (end - start) * (rank / count)
}

/// Merges buckets with the same upper bound (summing their counts).
fn coalesce(buckets: &mut Vec<Bucket>) {
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// Makes counts non-decreasing (NaN counts are left alone, as in Go).
fn ensure_monotonic(buckets: &mut [Bucket]) {
    let mut max = f64::NEG_INFINITY;
    for b in buckets {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(v: &[(f64, f64)]) -> Vec<Bucket> {
        v.iter()
            .map(|&(upper, count)| Bucket { upper, count })
            .collect()
    }

    #[test]
    fn interpolates_inside_the_bucket() {
        let mut b = buckets(&[
            (0.5, 50.0),
            (1.0, 80.0),
            (f64::INFINITY, 100.0),
            (0.1, 10.0),
        ]);
        // rank 50 → exactly the 0.5 bucket's top.
        assert_eq!(bucket_quantile(0.5, &mut b.clone()), 0.5);
        // rank 65: half way in (0.5, 1].
        assert!((bucket_quantile(0.65, &mut b) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn edge_cases() {
        let mut b = buckets(&[(1.0, 10.0), (f64::INFINITY, 20.0)]);
        // In the +Inf bucket: the last finite bound.
        assert_eq!(bucket_quantile(0.99, &mut b), 1.0);
        assert!(bucket_quantile(0.5, &mut buckets(&[(1.0, 10.0)])).is_nan());
        assert!(bucket_quantile(0.5, &mut buckets(&[(f64::INFINITY, 10.0)])).is_nan());
        assert!(bucket_quantile(0.5, &mut buckets(&[(1.0, 0.0), (f64::INFINITY, 0.0)])).is_nan());
        assert_eq!(bucket_quantile(-0.1, &mut b), f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(1.1, &mut b), f64::INFINITY);
        // Non-monotonic counts are fixed up; duplicate bounds are summed.
        let mut b = buckets(&[(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.5, &mut b), 0.5);
        let mut b = buckets(&[(1.0, 4.0), (1.0, 6.0), (f64::INFINITY, 20.0)]);
        assert_eq!(bucket_quantile(0.25, &mut b), 0.5);
        // A first bucket with a non-positive bound returns that bound.
        let mut b = buckets(&[(-1.0, 5.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.2, &mut b), -1.0);
    }
}

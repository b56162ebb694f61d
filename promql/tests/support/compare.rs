//! Compares two HTTP API `data` objects: same result type, same label sets
//! (order-insensitive unless `ordered`), same timestamps, values equal within 1e-9
//! relative (NaN equals NaN, infinities equal by sign).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::openmetrics::parse_value;

type Metric = BTreeMap<String, String>;

/// A result reduced to comparable parts.
#[derive(Debug, Clone)]
pub enum Norm {
    Scalar(i64, f64),
    String(i64, String),
    Vector(Vec<(Metric, i64, f64)>),
    Matrix(Vec<(Metric, Vec<(i64, f64)>)>),
}

fn time_ms(j: &Json) -> Result<i64, String> {
    j.as_f64()
        .map(|s| (s * 1000.0).round() as i64)
        .ok_or_else(|| format!("bad timestamp {j}"))
}

fn value(j: &Json) -> Result<f64, String> {
    j.as_str()
        .and_then(parse_value)
        .ok_or_else(|| format!("bad value {j}"))
}

fn point(j: &Json) -> Result<(i64, f64), String> {
    Ok((time_ms(&j[0])?, value(&j[1])?))
}

fn metric(j: &Json) -> Result<Metric, String> {
    j.as_object()
        .ok_or_else(|| format!("bad metric {j}"))?
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or("bad label value")?.to_string())))
        .collect()
}

/// Reads a `data` object.
pub fn normalize(data: &Json) -> Result<Norm, String> {
    let r = &data["result"];
    let empty = Vec::new();
    let items = r.as_array().unwrap_or(&empty);
    Ok(match data["resultType"].as_str() {
        Some("scalar") => {
            let (t, v) = point(r)?;
            Norm::Scalar(t, v)
        }
        Some("string") => Norm::String(
            time_ms(&r[0])?,
            r[1].as_str().ok_or("bad string")?.to_string(),
        ),
        Some("vector") => Norm::Vector(
            items
                .iter()
                .map(|s| {
                    let (t, v) = point(&s["value"])?;
                    Ok((metric(&s["metric"])?, t, v))
                })
                .collect::<Result<_, String>>()?,
        ),
        Some("matrix") => Norm::Matrix(
            items
                .iter()
                .map(|s| {
                    let pts = s["values"]
                        .as_array()
                        .ok_or("bad values")?
                        .iter()
                        .map(point)
                        .collect::<Result<Vec<_>, String>>()?;
                    Ok((metric(&s["metric"])?, pts))
                })
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("unknown result type {other:?}")),
    })
}

/// Float equality for results.
pub fn same_value(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let scale = a.abs().max(b.abs());
    (a - b).abs() <= 1e-9 * scale || (a - b).abs() <= 1e-12
}

fn fmt_metric(m: &Metric) -> String {
    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// `Ok` when equal, else a description of the first difference.
pub fn compare(ours: &Norm, theirs: &Norm, ordered: bool) -> Result<(), String> {
    match (ours, theirs) {
        (Norm::Scalar(t1, v1), Norm::Scalar(t2, v2)) => {
            if t1 != t2 || !same_value(*v1, *v2) {
                return Err(format!("scalar ({t1}, {v1}) vs ({t2}, {v2})"));
            }
        }
        (Norm::String(t1, v1), Norm::String(t2, v2)) => {
            if t1 != t2 || v1 != v2 {
                return Err(format!("string ({t1}, {v1:?}) vs ({t2}, {v2:?})"));
            }
        }
        (Norm::Vector(a), Norm::Vector(b)) => {
            if a.len() != b.len() {
                return Err(format!(
                    "vector of {} vs {} samples: ours {:?} theirs {:?}",
                    a.len(),
                    b.len(),
                    a.iter().map(|x| fmt_metric(&x.0)).collect::<Vec<_>>(),
                    b.iter().map(|x| fmt_metric(&x.0)).collect::<Vec<_>>()
                ));
            }
            if ordered {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    if !same_value(x.2, y.2) {
                        return Err(format!("sorted position {i}: {} vs {}", x.2, y.2));
                    }
                }
            }
            let bm: BTreeMap<&Metric, (i64, f64)> = b.iter().map(|x| (&x.0, (x.1, x.2))).collect();
            for (m, t, v) in a {
                match bm.get(m) {
                    None => return Err(format!("{} only in ours", fmt_metric(m))),
                    Some(&(t2, v2)) => {
                        if *t != t2 || !same_value(*v, v2) {
                            return Err(format!("{}: ({t}, {v}) vs ({t2}, {v2})", fmt_metric(m)));
                        }
                    }
                }
            }
        }
        (Norm::Matrix(a), Norm::Matrix(b)) => {
            let am: BTreeMap<&Metric, &Vec<(i64, f64)>> = a.iter().map(|x| (&x.0, &x.1)).collect();
            let bm: BTreeMap<&Metric, &Vec<(i64, f64)>> = b.iter().map(|x| (&x.0, &x.1)).collect();
            if am.len() != a.len() {
                return Err("ours has duplicate series".into());
            }
            for m in bm.keys() {
                if !am.contains_key(m) {
                    return Err(format!("{} only in Prometheus", fmt_metric(m)));
                }
            }
            for (m, pa) in &am {
                let Some(pb) = bm.get(m) else {
                    return Err(format!("{} only in ours", fmt_metric(m)));
                };
                if pa.len() != pb.len() {
                    return Err(format!(
                        "{}: {} vs {} points (ours {:?}.., theirs {:?}..)",
                        fmt_metric(m),
                        pa.len(),
                        pb.len(),
                        pa.iter().take(3).collect::<Vec<_>>(),
                        pb.iter().take(3).collect::<Vec<_>>()
                    ));
                }
                for (x, y) in pa.iter().zip(pb.iter()) {
                    if x.0 != y.0 || !same_value(x.1, y.1) {
                        return Err(format!("{}: point {x:?} vs {y:?}", fmt_metric(m)));
                    }
                }
            }
        }
        _ => return Err("different result types".into()),
    }
    Ok(())
}

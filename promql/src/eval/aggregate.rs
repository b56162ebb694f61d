//! Aggregation operators (`sum`, `avg`, `count`, `min`, `max`, `group`, `stddev`,
//! `stdvar`, `topk`, `bottomk`, `quantile`, `count_values`) with `by`/`without`, step by
//! step as Prometheus 2.42's `aggregation`.

use std::collections::HashMap;

use argus_core::series::{valid_label_name, Labels, Sample, SeriesData, METRIC_NAME};
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier};

use super::{merge_series, unparen, Cursor, Evaluator, Steps, Val};
use crate::error::{eval_err, Result};
use crate::gomath::{self, Heap};
use crate::value::format_value;

/// How series are grouped.
struct Grouping {
    without: bool,
    names: Vec<String>,
}

impl Grouping {
    fn from(m: &Option<LabelModifier>) -> Grouping {
        match m {
            None => Grouping {
                without: false,
                names: Vec::new(),
            },
            Some(LabelModifier::Include(l)) => Grouping {
                without: false,
                names: l.labels.clone(),
            },
            Some(LabelModifier::Exclude(l)) => Grouping {
                without: true,
                names: l.labels.clone(),
            },
        }
    }

    /// The labels of the group a series belongs to.
    fn group_labels(&self, l: &Labels) -> Labels {
        let mut names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        if self.without {
            names.push(METRIC_NAME);
            l.drop_names(&names)
        } else {
            l.keep(&names)
        }
    }
}

/// Running state of one group at one step.
#[derive(Clone)]
struct Group {
    value: f64,
    mean: f64,
    count: f64,
}

impl Evaluator<'_> {
    pub fn eval_aggregate(&self, a: &AggregateExpr, s: Steps) -> Result<Val> {
        let op = a.op.id();
        let mut grouping = Grouping::from(&a.modifier);
        if op == T_COUNT_VALUES {
            let Some(Expr::StringLiteral(label)) = a.param.as_deref().map(unparen) else {
                return eval_err("count_values: expected a string parameter");
            };
            return self.count_values(&label.val, grouping, &a.expr, s);
        }
        let param = match &a.param {
            Some(p) if matches!(op, T_TOPK | T_BOTTOMK | T_QUANTILE) => {
                Some(self.eval_scalar(p, s)?)
            }
            _ => None,
        };
        let input = self.eval_vector(&a.expr, s)?;
        grouping.names.sort();

        // Group of each input series, computed once.
        let mut group_index: HashMap<Labels, usize> = HashMap::new();
        let mut groups: Vec<Labels> = Vec::new();
        let series_group: Vec<usize> = input
            .iter()
            .map(|x| {
                let g = grouping.group_labels(&x.labels);
                *group_index.entry(g.clone()).or_insert_with(|| {
                    groups.push(g);
                    groups.len() - 1
                })
            })
            .collect();

        let mut out: Vec<SeriesData> = groups
            .iter()
            .map(|l| SeriesData {
                labels: l.clone(),
                samples: Vec::new(),
            })
            .collect();
        // topk/bottomk keep the input series: one output per input series.
        let mut kept: Vec<Vec<Sample>> = vec![Vec::new(); input.len()];
        let mut state: Vec<Option<Group>> = vec![None; groups.len()];
        let mut heaps: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups.len()];
        let mut order: Vec<usize> = Vec::new();
        let mut cursor = Cursor::new(&input);
        let mut vec = Vec::new();
        for (step, ts) in s.iter().enumerate() {
            cursor.step(ts, &mut vec);
            let p = param.as_ref().map_or(0.0, |p| p[step]);
            let k = if matches!(op, T_TOPK | T_BOTTOMK) {
                if !(i64::MIN as f64..i64::MAX as f64).contains(&p) {
                    return eval_err(format!(
                        "Scalar value {} overflows int64",
                        format_go_value(p)
                    ));
                }
                let k = p as i64;
                if k < 1 || vec.is_empty() {
                    continue;
                }
                k as usize
            } else {
                0
            };
            if vec.is_empty() {
                continue;
            }
            self.check_deadline()?;
            for &g in &order {
                state[g] = None;
                heaps[g].clear();
            }
            order.clear();
            for &(i, v) in &vec {
                let g = series_group[i];
                let Some(gr) = &mut state[g] else {
                    state[g] = Some(Group {
                        value: match op {
                            T_STDDEV | T_STDVAR => 0.0,
                            T_GROUP => 1.0,
                            _ => v,
                        },
                        mean: v,
                        count: 1.0,
                    });
                    order.push(g);
                    heaps[g].push((i, v));
                    continue;
                };
                match op {
                    T_SUM => gr.value += v,
                    T_AVG => {
                        gr.count += 1.0;
                        if gr.mean.is_infinite() {
                            if v.is_infinite() && (gr.mean > 0.0) == (v > 0.0) {
                                continue;
                            }
                            if !v.is_infinite() && !v.is_nan() {
                                continue;
                            }
                        }
                        gr.mean += v / gr.count - gr.mean / gr.count;
                    }
                    T_MAX if gr.value < v || gr.value.is_nan() => gr.value = v,
                    T_MIN if gr.value > v || gr.value.is_nan() => gr.value = v,
                    T_COUNT => gr.count += 1.0,
                    T_STDDEV | T_STDVAR => {
                        gr.count += 1.0;
                        let delta = v - gr.mean;
                        gr.mean += delta / gr.count;
                        gr.value += delta * (v - gr.mean);
                    }
                    T_TOPK | T_BOTTOMK => {
                        let top = op == T_TOPK;
                        push_k(&mut heaps[g], (i, v), k, top);
                    }
                    T_QUANTILE => heaps[g].push((i, v)),
                    _ => {}
                }
            }
            for &g in &order {
                let Some(gr) = &state[g] else { continue };
                let value = match op {
                    T_AVG => gr.mean,
                    T_COUNT => gr.count,
                    T_STDVAR => gr.value / gr.count,
                    T_STDDEV => (gr.value / gr.count).sqrt(),
                    T_QUANTILE => {
                        let mut vals: Vec<f64> = heaps[g].iter().map(|x| x.1).collect();
                        gomath::quantile(p, &mut vals)
                    }
                    T_TOPK | T_BOTTOMK => {
                        let mut h = std::mem::take(&mut heaps[g]);
                        // Output highest first (topk) or lowest first (bottomk).
                        let top = op == T_TOPK;
                        h.sort_by(|a, b| {
                            if heap_less(b.1, a.1, top) {
                                std::cmp::Ordering::Less
                            } else if heap_less(a.1, b.1, top) {
                                std::cmp::Ordering::Greater
                            } else {
                                std::cmp::Ordering::Equal
                            }
                        });
                        for (i, v) in h {
                            kept[i].push(Sample { t: ts, v });
                        }
                        continue;
                    }
                    _ => gr.value,
                };
                out[g].samples.push(Sample { t: ts, v: value });
            }
        }
        if matches!(op, T_TOPK | T_BOTTOMK) {
            let out: Vec<SeriesData> = input
                .into_iter()
                .zip(kept)
                .map(|(x, samples)| SeriesData {
                    labels: x.labels,
                    samples,
                })
                .collect();
            return Ok(Val::Vector(merge_series(out)?));
        }
        Ok(Val::Vector(merge_series(out)?))
    }

    fn count_values(&self, label: &str, grouping: Grouping, e: &Expr, s: Steps) -> Result<Val> {
        if !valid_label_name(label) {
            return eval_err(format!("invalid label name {label:?}"));
        }
        let input = self.eval_vector(e, s)?;
        let mut grouping = grouping;
        if !grouping.without {
            grouping.names.push(label.to_string());
        }
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut out: Vec<SeriesData> = Vec::new();
        let mut cursor = Cursor::new(&input);
        let mut vec = Vec::new();
        for ts in s.iter() {
            cursor.step(ts, &mut vec);
            let mut counts: Vec<(usize, f64)> = Vec::new();
            for &(i, v) in &vec {
                let mut l = input[i].labels.clone();
                l.set(label, &format_value(v));
                let g = grouping.group_labels(&l);
                let oi = *index.entry(g.clone()).or_insert_with(|| {
                    out.push(SeriesData {
                        labels: g,
                        samples: Vec::new(),
                    });
                    out.len() - 1
                });
                match counts.iter_mut().find(|c| c.0 == oi) {
                    Some(c) => c.1 += 1.0,
                    None => counts.push((oi, 1.0)),
                }
            }
            for (oi, n) in counts {
                out[oi].samples.push(Sample { t: ts, v: n });
            }
        }
        Ok(Val::Vector(merge_series(out)?))
    }
}

/// `vectorByValueHeap.Less` (topk) or `vectorByReverseValueHeap.Less` (bottomk).
fn heap_less(a: f64, b: f64, top: bool) -> bool {
    if a.is_nan() {
        return true;
    }
    if top {
        a < b
    } else {
        a > b
    }
}

/// Adds an element to a group's topk/bottomk heap as Prometheus 2.42 does: when the heap
/// is full and the element beats the root (or the root is NaN), pop the root and push.
fn push_k(items: &mut Vec<(usize, f64)>, x: (usize, f64), k: usize, top: bool) {
    let mut h = Heap::new(
        std::mem::take(items),
        |a: &(usize, f64), b: &(usize, f64)| heap_less(a.1, b.1, top),
    );
    let admit = match h.items.first() {
        None => true,
        Some(root) => {
            h.len() < k || root.1.is_nan() || if top { root.1 < x.1 } else { root.1 > x.1 }
        }
    };
    if admit {
        if h.len() == k {
            h.pop();
        }
        h.push(x);
    }
    *items = h.items;
}

/// A float as Go's `%v` prints it (for error messages).
fn format_go_value(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topk_heap_keeps_the_k_largest_and_prefers_numbers_over_nan() {
        let mut h = Vec::new();
        for (i, v) in [3.0, f64::NAN, 5.0, 1.0, 4.0].into_iter().enumerate() {
            push_k(&mut h, (i, v), 2, true);
        }
        let mut got: Vec<f64> = h.iter().map(|x| x.1).collect();
        got.sort_by(|a, b| a.total_cmp(b));
        assert_eq!(got, [4.0, 5.0]);
        let mut h = Vec::new();
        for (i, v) in [3.0, 5.0, 1.0].into_iter().enumerate() {
            push_k(&mut h, (i, v), 1, false);
        }
        assert_eq!(h[0].1, 1.0);
    }
}

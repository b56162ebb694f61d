//! Binary operators: arithmetic, comparisons (with and without `bool`) and set operators,
//! between scalars and vectors, with `on`/`ignoring` and `group_left`/`group_right`
//! matching as Prometheus 2.42's `VectorBinop`, `VectorAnd`, `VectorOr`, `VectorUnless`.

use std::collections::HashMap;

use argus_core::series::{Labels, Sample, SeriesData, METRIC_NAME};
use promql_parser::parser::token::{
    TokenType, T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS,
    T_MOD, T_MUL, T_NEQ, T_POW, T_SUB,
};
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::{merge_series, Cursor, Evaluator, Steps, Val};
use crate::error::{eval_err, Result};

/// The value of `lhs op rhs` and whether a comparison keeps the element.
pub(crate) fn elem_binop(op: TokenType, lhs: f64, rhs: f64) -> (f64, bool) {
    match op.id() {
        T_ADD => (lhs + rhs, true),
        T_SUB => (lhs - rhs, true),
        T_MUL => (lhs * rhs, true),
        T_DIV => (lhs / rhs, true),
        T_POW => (lhs.powf(rhs), true),
        T_MOD => (lhs % rhs, true),
        T_ATAN2 => (lhs.atan2(rhs), true),
        T_EQLC => (lhs, lhs == rhs),
        T_NEQ => (lhs, lhs != rhs),
        T_GTR => (lhs, lhs > rhs),
        T_LSS => (lhs, lhs < rhs),
        T_GTE => (lhs, lhs >= rhs),
        T_LTE => (lhs, lhs <= rhs),
        _ => (f64::NAN, false),
    }
}

/// Arithmetic operators drop the metric name (`atan2` and comparisons keep it).
fn drops_name(op: TokenType) -> bool {
    matches!(op.id(), T_ADD | T_SUB | T_MUL | T_DIV | T_POW | T_MOD)
}

/// How two vectors are matched.
struct Matching {
    on: bool,
    labels: Vec<String>,
    card: Card,
    include: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

impl Matching {
    fn from(m: &Option<BinModifier>) -> Matching {
        let Some(m) = m else {
            return Matching {
                on: false,
                labels: Vec::new(),
                card: Card::OneToOne,
                include: Vec::new(),
            };
        };
        let (on, labels) = match &m.matching {
            Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
            None => (false, Vec::new()),
        };
        let (card, include) = match &m.card {
            VectorMatchCardinality::OneToOne => (Card::OneToOne, Vec::new()),
            VectorMatchCardinality::ManyToOne(l) => (Card::ManyToOne, l.labels.clone()),
            VectorMatchCardinality::OneToMany(l) => (Card::OneToMany, l.labels.clone()),
            VectorMatchCardinality::ManyToMany => (Card::ManyToMany, Vec::new()),
        };
        Matching {
            on,
            labels,
            card,
            include,
        }
    }

    /// The labels two series must share to match.
    fn signature(&self, l: &Labels) -> Labels {
        let names: Vec<&str> = self.labels.iter().map(String::as_str).collect();
        if self.on {
            l.keep(&names)
        } else {
            let mut v = names;
            v.push(METRIC_NAME);
            l.drop_names(&v)
        }
    }
}

/// Interns signatures as small integers.
fn signature_ids(
    m: &Matching,
    series: &[SeriesData],
    ids: &mut HashMap<Labels, usize>,
    sigs: &mut Vec<Labels>,
) -> Vec<usize> {
    series
        .iter()
        .map(|s| {
            let sig = m.signature(&s.labels);
            *ids.entry(sig.clone()).or_insert_with(|| {
                sigs.push(sig);
                sigs.len() - 1
            })
        })
        .collect()
}

impl Evaluator<'_> {
    pub fn eval_binary(&self, b: &BinaryExpr, s: Steps) -> Result<Val> {
        let lhs = self.eval(&b.lhs, s)?;
        let rhs = self.eval(&b.rhs, s)?;
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(
                l.iter()
                    .zip(&r)
                    .map(|(&a, &c)| {
                        let (v, keep) = elem_binop(b.op, a, c);
                        if op_is_comparison(b.op) {
                            if keep {
                                1.0
                            } else {
                                0.0
                            }
                        } else {
                            v
                        }
                    })
                    .collect(),
            )),
            (Val::Vector(v), Val::Scalar(sc)) => Ok(Val::Vector(vector_scalar(
                b.op,
                v,
                &sc,
                false,
                return_bool,
                s,
            )?)),
            (Val::Scalar(sc), Val::Vector(v)) => Ok(Val::Vector(vector_scalar(
                b.op,
                v,
                &sc,
                true,
                return_bool,
                s,
            )?)),
            (Val::Vector(l), Val::Vector(r)) => {
                let m = Matching::from(&b.modifier);
                let out = match b.op.id() {
                    T_LAND | T_LOR | T_LUNLESS => set_op(b.op, &m, l, r, s),
                    _ => self.vector_binop(b.op, &m, return_bool, &l, &r, s)?,
                };
                Ok(Val::Vector(merge_series(out)?))
            }
            _ => eval_err("binary expression must contain only scalar and instant vector types"),
        }
    }

    /// `VectorBinop` at every step.
    fn vector_binop(
        &self,
        op: TokenType,
        m: &Matching,
        return_bool: bool,
        lhs: &[SeriesData],
        rhs: &[SeriesData],
        s: Steps,
    ) -> Result<Vec<SeriesData>> {
        // With group_right the right side is the "many" side: swap so that `many` is
        // always the side whose labels the result keeps.
        let swapped = m.card == Card::OneToMany;
        let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
        let mut ids = HashMap::new();
        let mut sigs = Vec::new();
        let many_sig = signature_ids(m, many, &mut ids, &mut sigs);
        let one_sig = signature_ids(m, one, &mut ids, &mut sigs);
        let nsig = sigs.len();

        let mut out: Vec<SeriesData> = Vec::new();
        let mut out_index: HashMap<(usize, usize), usize> = HashMap::new();
        let mut one_at: Vec<Option<usize>> = vec![None; nsig];
        let mut matched: Vec<Option<Vec<usize>>> = vec![None; nsig];
        let mut touched: Vec<usize> = Vec::new();
        let (mut cm, mut co) = (Cursor::new(many), Cursor::new(one));
        let (mut vm, mut vo) = (Vec::new(), Vec::new());
        let mut one_val: Vec<f64> = vec![0.0; one.len()];

        for ts in s.iter() {
            cm.step(ts, &mut vm);
            co.step(ts, &mut vo);
            if vm.is_empty() || vo.is_empty() {
                continue;
            }
            self.check_deadline()?;
            for &sig in &touched {
                one_at[sig] = None;
                matched[sig] = None;
            }
            touched.clear();
            for &(j, v) in &vo {
                let sig = one_sig[j];
                if let Some(prev) = one_at[sig] {
                    let side = if swapped { "left" } else { "right" };
                    return eval_err(format!(
                        "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                        sigs[sig], one[j].labels, one[prev].labels
                    ));
                }
                one_at[sig] = Some(j);
                one_val[j] = v;
                touched.push(sig);
            }
            for &(i, v) in &vm {
                let sig = many_sig[i];
                let Some(j) = one_at[sig] else {
                    continue;
                };
                let (vl, vr) = if swapped {
                    (one_val[j], v)
                } else {
                    (v, one_val[j])
                };
                let (mut value, keep) = elem_binop(op, vl, vr);
                if return_bool {
                    value = if keep { 1.0 } else { 0.0 };
                } else if !keep {
                    continue;
                }
                let oi = match out_index.get(&(i, j)) {
                    Some(&oi) => oi,
                    None => {
                        let labels =
                            result_labels(&many[i].labels, &one[j].labels, op, m, return_bool);
                        out.push(SeriesData {
                            labels,
                            samples: Vec::new(),
                        });
                        out_index.insert((i, j), out.len() - 1);
                        out.len() - 1
                    }
                };
                match &mut matched[sig] {
                    slot @ None => {
                        *slot = Some(vec![oi]);
                    }
                    Some(seen) => {
                        if m.card == Card::OneToOne {
                            return eval_err("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
                        }
                        if seen.iter().any(|&o| out[o].labels == out[oi].labels) {
                            return eval_err(
                                "multiple matches for labels: grouping labels must ensure unique matches",
                            );
                        }
                        seen.push(oi);
                    }
                }
                out[oi].samples.push(Sample { t: ts, v: value });
            }
            // Signatures matched only on the many side are reset through `touched` too.
        }
        Ok(out)
    }
}

fn op_is_comparison(op: TokenType) -> bool {
    matches!(op.id(), T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Prometheus' `resultMetric`: the labels of a matched pair.
fn result_labels(
    many: &Labels,
    one: &Labels,
    op: TokenType,
    m: &Matching,
    return_bool: bool,
) -> Labels {
    let mut l = if drops_name(op) || return_bool {
        many.without_name()
    } else {
        many.clone()
    };
    if m.card == Card::OneToOne {
        let names: Vec<&str> = m.labels.iter().map(String::as_str).collect();
        l = if m.on {
            l.keep(&names)
        } else {
            l.drop_names(&names)
        };
    }
    for name in &m.include {
        match one.get(name) {
            Some(v) => l.set(name, v),
            None => l.remove(name),
        }
    }
    l
}

/// Vector and scalar: `swap` when the scalar is on the left.
fn vector_scalar(
    op: TokenType,
    v: Vec<SeriesData>,
    sc: &[f64],
    swap: bool,
    return_bool: bool,
    s: Steps,
) -> Result<Vec<SeriesData>> {
    let comparison = op_is_comparison(op);
    let drop = drops_name(op) || return_bool;
    let mut out = Vec::with_capacity(v.len());
    for mut series in v {
        series.samples.retain_mut(|p| {
            let r = sc[((p.t - s.start) / s.step) as usize];
            let (lv, rv) = if swap { (r, p.v) } else { (p.v, r) };
            let (mut value, mut keep) = elem_binop(op, lv, rv);
            if comparison && swap {
                value = rv;
            }
            if return_bool {
                value = if keep { 1.0 } else { 0.0 };
                keep = true;
            }
            p.v = value;
            keep
        });
        if drop {
            series.labels = series.labels.without_name();
        }
        out.push(series);
    }
    merge_series(out)
}

/// `and`, `or`, `unless` at every step.
fn set_op(
    op: TokenType,
    m: &Matching,
    lhs: Vec<SeriesData>,
    rhs: Vec<SeriesData>,
    s: Steps,
) -> Vec<SeriesData> {
    let mut ids = HashMap::new();
    let mut sigs = Vec::new();
    let lsig = signature_ids(m, &lhs, &mut ids, &mut sigs);
    let rsig = signature_ids(m, &rhs, &mut ids, &mut sigs);
    let mut present = vec![false; sigs.len()];
    let mut touched = Vec::new();
    let mut out_l: Vec<Vec<Sample>> = vec![Vec::new(); lhs.len()];
    let mut out_r: Vec<Vec<Sample>> = vec![Vec::new(); rhs.len()];
    let (mut cl, mut cr) = (Cursor::new(&lhs), Cursor::new(&rhs));
    let (mut vl, mut vr) = (Vec::new(), Vec::new());
    for ts in s.iter() {
        cl.step(ts, &mut vl);
        cr.step(ts, &mut vr);
        for &sig in &touched {
            present[sig] = false;
        }
        touched.clear();
        match op.id() {
            T_LOR => {
                for &(i, v) in &vl {
                    present[lsig[i]] = true;
                    touched.push(lsig[i]);
                    out_l[i].push(Sample { t: ts, v });
                }
                for &(j, v) in &vr {
                    if !present[rsig[j]] {
                        out_r[j].push(Sample { t: ts, v });
                    }
                }
            }
            _ => {
                for &(j, _) in &vr {
                    present[rsig[j]] = true;
                    touched.push(rsig[j]);
                }
                let want = op.id() == T_LAND;
                for &(i, v) in &vl {
                    if present[lsig[i]] == want {
                        out_l[i].push(Sample { t: ts, v });
                    }
                }
            }
        }
    }
    let mut out: Vec<SeriesData> = lhs
        .into_iter()
        .zip(out_l)
        .map(|(s, samples)| SeriesData {
            labels: s.labels,
            samples,
        })
        .collect();
    out.extend(rhs.into_iter().zip(out_r).map(|(s, samples)| SeriesData {
        labels: s.labels,
        samples,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(items: &[(&[(&str, &str)], f64)]) -> Vec<SeriesData> {
        items
            .iter()
            .map(|(l, v)| SeriesData {
                labels: Labels::new(l.iter().copied()),
                samples: vec![Sample { t: 0, v: *v }],
            })
            .collect()
    }

    fn eval(q: &str, l: Vec<SeriesData>, r: Vec<SeriesData>) -> Result<Vec<SeriesData>> {
        let e = crate::parse(q).expect("parse");
        let promql_parser::parser::Expr::Binary(b) = e else {
            panic!("not binary")
        };
        let m = Matching::from(&b.modifier);
        let src = argus_core::series::MemSource::new();
        let ev = Evaluator {
            source: &src,
            lookback: 300_000,
            max_samples: 1_000_000,
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(10),
            query_start: 0,
            query_end: 0,
            default_step: 60_000,
            data_end: None,
        };
        let rb = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        ev.vector_binop(b.op, &m, rb, &l, &r, Steps::instant(0))
            .and_then(merge_series)
    }

    #[test]
    fn group_left_copies_labels_from_the_one_side() {
        let l = vector(&[
            (&[("__name__", "a"), ("job", "x"), ("i", "1")], 2.0),
            (&[("__name__", "a"), ("job", "x"), ("i", "2")], 3.0),
        ]);
        let r = vector(&[(&[("__name__", "b"), ("job", "x"), ("team", "t")], 10.0)]);
        let out = eval("a * on(job) group_left(team) b", l, r).expect("ok");
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].labels.to_string(),
            "{i=\"1\", job=\"x\", team=\"t\"}"
        );
        assert_eq!(out[1].samples[0].v, 30.0);
    }

    #[test]
    fn one_to_one_with_duplicates_is_an_error() {
        let l = vector(&[
            (&[("__name__", "a"), ("job", "x"), ("i", "1")], 2.0),
            (&[("__name__", "a"), ("job", "x"), ("i", "2")], 3.0),
        ]);
        let r = vector(&[(&[("__name__", "b"), ("job", "x")], 10.0)]);
        let e = eval("a + on(job) b", l.clone(), r.clone()).expect_err("many-to-one");
        assert!(
            e.to_string().starts_with("multiple matches for labels"),
            "{e}"
        );
        let e = eval("b + on(job) group_right a", r, l.clone()).map(|v| v.len());
        assert_eq!(e.expect("group_right"), 2);
        let e = eval("a + on(job) group_left a", l.clone(), l).expect_err("many-to-many");
        assert!(
            e.to_string().contains("many-to-many matching not allowed"),
            "{e}"
        );
    }

    #[test]
    fn comparisons_filter_and_bool_returns_zero_or_one() {
        let l = vector(&[(&[("__name__", "a"), ("job", "x")], 2.0)]);
        let r = vector(&[(&[("__name__", "b"), ("job", "x")], 3.0)]);
        assert!(eval("a > b", l.clone(), r.clone()).expect("ok").is_empty());
        let out = eval("a > bool b", l.clone(), r.clone()).expect("ok");
        assert_eq!(out[0].samples[0].v, 0.0);
        assert_eq!(out[0].labels.metric_name(), None);
        let out = eval("a < b", l, r).expect("ok");
        assert_eq!(out[0].labels.metric_name(), Some("a"));
        assert_eq!(out[0].samples[0].v, 2.0);
    }
}

//! One test group of a unit test file, as promtool 2.42's `testGroup.test`: load the input
//! series, evaluate every group at each step from 0 to the last `eval_time`, compare the
//! firing alerts at the step covering each `alert_rule_test`, then run the
//! `promql_expr_test` queries; failures in promtool's exact format.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use argus_core::series::Labels;

use super::notation::{expand_values, parse_metric};
use super::TestGroup;
use crate::duration::format_duration;
use crate::eval::{AlertState, EvalContext, Group, GroupEnv};
use crate::file::load_file;
use crate::gofmt::{format_e, labels_string, quote};
use crate::query::Querier;
use crate::storage::{Appender, MemStorage};

type Pairs = Vec<(String, String)>;

fn pairs_of(l: &Labels) -> Pairs {
    l.iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect()
}

fn pairs_string(p: &Pairs) -> String {
    labels_string(p.iter().map(|(a, b)| (a.as_str(), b.as_str())))
}

/// promtool's `indentLines`.
fn indent_lines(s: &str, indent: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = s.split('\n').collect();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str(indent);
        }
        out.push_str(l);
        if i != lines.len() - 1 {
            out.push('\n');
        }
    }
    out
}

/// promtool's `labelsAndAnnotations.String()`.
fn alerts_string(v: &[(Pairs, Pairs)]) -> String {
    if v.is_empty() {
        return "[]".into();
    }
    let item = |(l, a): &(Pairs, Pairs)| {
        indent_lines(
            &format!(
                "\nLabels:{}\nAnnotations:{}",
                pairs_string(l),
                pairs_string(a)
            ),
            "  ",
        )
    };
    let mut s = format!("[\n0:{}", item(&v[0]));
    for (i, x) in v.iter().enumerate().skip(1) {
        s.push_str(&format!(",\n{i}:{}", item(x)));
    }
    s.push_str("\n]");
    s
}

/// Go's `time.Duration.String()` of milliseconds (`0s`, `1m30s`, `1h0m0s`, `500ms`).
pub fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    if ms < 1000 {
        return format!("{neg}{ms}ms");
    }
    let (h, m, s, frac) = (
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000,
    );
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0'))
    };
    if h > 0 {
        format!("{neg}{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{neg}{m}m{secs}")
    } else {
        format!("{neg}{secs}")
    }
}

fn samples_string(v: &[(Pairs, f64)]) -> String {
    if v.is_empty() {
        return "nil".into();
    }
    v.iter()
        .map(|(l, x)| format!("{} {}", pairs_string(l), format_e(*x, None, true)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads the input series: value `i` at `i * interval`; a later definition of the same
/// series replaces an earlier one; of two values at one time the first stays (promtool's
/// storage drops the second).
fn load_series(tg: &TestGroup, st: &MemStorage) -> Result<(), String> {
    let gap = tg.interval.map(|d| d.ms()).unwrap_or(0);
    let mut defs: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for s in &tg.input_series {
        let labels = parse_metric(&s.series)?;
        let values = expand_values(&s.values)?;
        let mut samples: Vec<(i64, f64)> = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let t = i as i64 * gap;
            if let Some(v) = v {
                if samples.last().is_some_and(|(lt, _)| *lt >= t) {
                    continue;
                }
                samples.push((t, *v));
            }
        }
        defs.insert(labels, samples);
    }
    for (l, samples) in defs {
        for (t, v) in samples {
            st.append(&l, t, v);
        }
    }
    Ok(())
}

/// Runs one test group; returns its failures.
pub fn run_group(
    tg: &TestGroup,
    eval_interval_ms: i64,
    order: &BTreeMap<&str, usize>,
    rule_files: &[PathBuf],
) -> Vec<String> {
    let st = MemStorage::new();
    if let Err(e) = load_series(tg, &st) {
        return vec![e];
    }
    let env = GroupEnv {
        external_labels: tg.external_labels.clone(),
        external_url: tg.external_url.clone(),
        funcs_url: None,
        resend_delay_ms: 60_000,
    };
    let default_interval = tg.interval.map(|d| d.ms()).unwrap_or(0);
    let mut groups: Vec<Group> = Vec::new();
    for f in rule_files {
        match load_file(f) {
            Ok(rf) => {
                for g in &rf.groups {
                    groups.push(Group::new(
                        &f.display().to_string(),
                        g,
                        default_interval,
                        &env,
                        true,
                    ));
                }
            }
            Err(errs) => return errs.iter().map(ToString::to_string).collect(),
        }
    }
    groups.sort_by_key(|g| order.get(g.name.as_str()).copied().unwrap_or(0));

    let engine = argus_promql::Engine::new(argus_promql::EngineOptions::default());
    let ctx = EvalContext {
        querier: &engine,
        source: &st,
        appender: &st,
    };

    let mut errs = Vec::new();
    for a in &tg.alert_rule_test {
        if a.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                a.eval_time
            )];
        }
    }
    let alert_times: Vec<i64> = tg
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time.ms())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let max_t = tg
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time.ms())
        .chain(tg.promql_expr_test.iter().map(|p| p.eval_time.ms()))
        .max()
        .unwrap_or(0);

    let mut curr = 0;
    let mut ts = 0;
    while ts <= max_t {
        let mut eval_errs = Vec::new();
        for g in &mut groups {
            g.eval(ts, ts, &ctx, &env);
            for r in &g.rules {
                if let Some(e) = &r.status().last_error {
                    eval_errs.push(format!(
                        "    rule: {}, time: {}, err: {e}",
                        r.name(),
                        go_duration(ts)
                    ));
                }
            }
        }
        if !eval_errs.is_empty() {
            errs.extend(eval_errs);
            return errs;
        }
        while curr < alert_times.len()
            && ts <= alert_times[curr]
            && alert_times[curr] < ts + eval_interval_ms
        {
            let t = alert_times[curr];
            check_alerts(tg, t, &groups, &mut errs);
            curr += 1;
        }
        ts += eval_interval_ms;
    }

    for pt in &tg.promql_expr_test {
        let t = pt.eval_time.ms();
        let got = match engine.query(&st, &pt.expr, t) {
            Ok(v) => v,
            Err(e) => {
                errs.push(format!(
                    "    expr: {}, time: {}, err: {e}",
                    quote(&pt.expr),
                    format_duration(t)
                ));
                continue;
            }
        };
        let mut exp: Vec<(Pairs, f64)> = Vec::new();
        let mut bad = None;
        for s in &pt.exp_samples {
            match parse_metric(&s.labels) {
                Ok(l) => exp.push((pairs_of(&l), s.value)),
                Err(e) => {
                    bad = Some(format!("labels {}: {e}", quote(&s.labels)));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            errs.push(format!(
                "    expr: {}, time: {}, err: {e}",
                quote(&pt.expr),
                format_duration(t)
            ));
            continue;
        }
        let mut got: Vec<(Pairs, f64)> =
            got.iter().map(|s| (pairs_of(&s.labels), s.value)).collect();
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let equal =
            exp.len() == got.len() && exp.iter().zip(&got).all(|(a, b)| a.0 == b.0 && a.1 == b.1);
        if !equal {
            errs.push(format!(
                "    expr: {}, time: {},\n        exp: {}\n        got: {}",
                quote(&pt.expr),
                format_duration(t),
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    errs
}

fn check_alerts(tg: &TestGroup, t: i64, groups: &[Group], errs: &mut Vec<String>) {
    let names: BTreeSet<&str> = tg
        .alert_rule_test
        .iter()
        .filter(|a| a.eval_time.ms() == t)
        .map(|a| a.alertname.as_str())
        .collect();
    let mut got: BTreeMap<&str, Vec<(Pairs, Pairs)>> = BTreeMap::new();
    for g in groups {
        for r in g.alerting_rules() {
            if !names.contains(r.name.as_str()) {
                continue;
            }
            let firing = r
                .active_alerts()
                .filter(|a| a.state == AlertState::Firing)
                .map(|a| {
                    let ann: Pairs = a
                        .annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    (pairs_of(&a.labels), ann)
                });
            got.entry(r.name.as_str()).or_default().extend(firing);
        }
    }
    for tc in tg.alert_rule_test.iter().filter(|a| a.eval_time.ms() == t) {
        let mut got_alerts = got.get(tc.alertname.as_str()).cloned().unwrap_or_default();
        let mut exp_alerts: Vec<(Pairs, Pairs)> = tc
            .exp_alerts
            .iter()
            .map(|a| {
                let mut l = a.exp_labels.clone();
                l.insert("alertname".into(), tc.alertname.clone());
                (
                    l.into_iter().collect(),
                    a.exp_annotations.clone().into_iter().collect(),
                )
            })
            .collect();
        got_alerts.sort();
        exp_alerts.sort();
        if exp_alerts != got_alerts {
            let name = if tg.name.is_empty() {
                String::new()
            } else {
                format!("    name: {},\n", tg.name)
            };
            errs.push(format!(
                "{name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                tc.alertname,
                tc.eval_time,
                indent_lines(&alerts_string(&exp_alerts), "            "),
                indent_lines(&alerts_string(&got_alerts), "            ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(60_000), "1m0s");
        assert_eq!(go_duration(3_600_000), "1h0m0s");
        assert_eq!(go_duration(90_500), "1m30.5s");
        assert_eq!(go_duration(500), "500ms");
    }
}

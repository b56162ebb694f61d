//! `label_replace` and `label_join`: label rewriting that keeps the metric name.

use argus_core::series::SeriesData;
use promql_parser::parser::Expr;
use regex::Regex;

use crate::error::{eval_err, Result};
use crate::eval::{merge_series, Evaluator, Steps};

fn string_arg<'e>(e: &'e Expr, func: &str) -> Result<&'e str> {
    match e {
        Expr::StringLiteral(s) => Ok(&s.val),
        _ => eval_err(format!("{func}: expected a string literal argument")),
    }
}

/// `label_replace(v, dst, replacement, src, regex)`.
pub(super) fn label_replace(
    ev: &Evaluator<'_>,
    args: &[&Expr],
    s: Steps,
) -> Result<Vec<SeriesData>> {
    let dst = string_arg(args[1], "label_replace")?;
    let repl = string_arg(args[2], "label_replace")?;
    let src = string_arg(args[3], "label_replace")?;
    let re_src = string_arg(args[4], "label_replace")?;
    let Ok(re) = Regex::new(&format!("^(?:{re_src})$")) else {
        return eval_err(format!(
            "invalid regular expression in label_replace(): {re_src}"
        ));
    };
    if !crate::eval::valid_label_name(dst) {
        return eval_err(format!(
            "invalid destination label name in label_replace(): {dst}"
        ));
    }
    let mut input = ev.eval_vector(args[0], s)?;
    for series in &mut input {
        let value = series.labels.get(src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&value) {
            let mut res = String::new();
            caps.expand(repl, &mut res);
            // An empty result removes the label.
            series.labels.set(dst, &res);
        }
    }
    merge_series(input)
}

/// `label_join(v, dst, separator, src...)`.
pub(super) fn label_join(ev: &Evaluator<'_>, args: &[&Expr], s: Steps) -> Result<Vec<SeriesData>> {
    let dst = string_arg(args[1], "label_join")?;
    let sep = string_arg(args[2], "label_join")?;
    let mut srcs = Vec::new();
    for a in &args[3..] {
        let src = string_arg(a, "label_join")?;
        if !crate::eval::valid_label_name(src) {
            return eval_err(format!("invalid source label name in label_join(): {src}"));
        }
        srcs.push(src);
    }
    if !crate::eval::valid_label_name(dst) {
        return eval_err(format!(
            "invalid destination label name in label_join(): {dst}"
        ));
    }
    let mut input = ev.eval_vector(args[0], s)?;
    for series in &mut input {
        let joined = srcs
            .iter()
            .map(|n| series.labels.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(sep);
        series.labels.set(dst, &joined);
    }
    merge_series(input)
}

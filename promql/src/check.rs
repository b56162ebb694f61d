//! Parsing with `promql-parser` plus the checks that make it accept exactly Prometheus
//! 2.42's language: the parser knows newer functions and syntax (and lacks `holt_winters`,
//! renamed in Prometheus 3), so both are adjusted here.

use std::sync::Once;

use promql_parser::parser::token::{T_LIMITK, T_LIMIT_RATIO};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr, Function};

use crate::error::{Error, Result};

/// Functions of Prometheus 2.42 (the native-histogram ones return nothing on floats).
pub const FUNCTIONS_2_42: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "deg",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_count",
    "histogram_sum",
    "histogram_fraction",
    "histogram_quantile",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_replace",
    "label_join",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

static REGISTER: Once = Once::new();

/// Parses `query` and rejects what Prometheus 2.42 would not accept.
pub fn parse(query: &str) -> Result<Expr> {
    REGISTER.call_once(|| {
        // holt_winters(range-vector, scalar, scalar): the parser only knows its Prometheus 3
        // name. Registration fails only on a clash with a built-in, which would mean the
        // parser knows the function already; either way it parses.
        let _ = parser::register_extra_functions(vec![Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        )]);
    });
    let depth = depth_bound(query);
    if depth > MAX_NESTING {
        return Err(Error::Parse(format!(
            "query too deeply nested: its expression tree may be {depth} levels deep, at most \
             {MAX_NESTING} are evaluated (nested brackets and chained operators each add one)"
        )));
    }
    let expr = parser::parse(query).map_err(|m| Error::Parse(prometheus_words(m)))?;
    check(&expr)?;
    Ok(expr)
}

/// The deepest expression tree a query may build, as [`depth_bound`] estimates it. The
/// parser, the checks, evaluation and dropping the tree recurse once per level: before
/// this limit `sum(sum(…))` 2 000 deep overflowed a 2 MiB thread stack (a tokio worker's)
/// and took the process down. Release builds evaluate 1 024 levels of every shape in the
/// tests on such a stack. Prometheus, on Go's growable stacks, has no such limit; real
/// queries, generated ones included, stay far below this one.
pub const MAX_NESTING: usize = 512;

/// An upper bound of the depth of a query's expression tree, from its text: a bracketed
/// group (`(…)`, `[…]`, `{…}`) is one level deeper than its deepest inner group plus one
/// per operator character (`+ - * / % ^ = ! < >`) or `and`/`or`/`unless` inside it, since a
/// chain of operators nests (`a+b+c` is `(a+b)+c`). String literals do not count.
pub fn depth_bound(query: &str) -> usize {
    // Per open group: (operators in it, deepest group inside it).
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    let close = |stack: &mut Vec<(usize, usize)>| {
        if stack.len() > 1 {
            let (ops, inner) = stack.pop().unwrap_or_default();
            if let Some(top) = stack.last_mut() {
                top.1 = top.1.max(1 + ops + inner);
            }
        }
    };
    let b = query.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                // Skip the literal; `\` escapes in all but raw (backtick) strings.
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' && q != b'`' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => stack.push((0, 0)),
            b')' | b']' | b'}' => close(&mut stack),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' => {
                if let Some(top) = stack.last_mut() {
                    top.0 += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i + 1 < b.len() && (b[i + 1].is_ascii_alphanumeric() || b[i + 1] == b'_') {
                    i += 1;
                }
                let word = &b[start..=i];
                if ["and", "or", "unless"]
                    .iter()
                    .any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
                {
                    if let Some(top) = stack.last_mut() {
                        top.0 += 1;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    let (ops, inner) = stack[0];
    1 + ops + inner
}

/// Type names in the parser's messages as Prometheus words them ("range vector" for
/// "matrix", "instant vector" for "vector").
fn prometheus_words(msg: String) -> String {
    if !msg.starts_with("expected type") {
        return msg;
    }
    msg.split(' ')
        .map(|w| match w.trim_end_matches(',') {
            "matrix" => w.replace("matrix", "range vector"),
            "vector" => w.replace("vector", "instant vector"),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn check(e: &Expr) -> Result<()> {
    match e {
        Expr::Aggregate(a) => {
            if matches!(a.op.id(), T_LIMITK | T_LIMIT_RATIO) {
                return Err(Error::Parse(format!("unknown aggregation {}", a.op)));
            }
            check(&a.expr)?;
            if let Some(p) = &a.param {
                check(p)?;
            }
            Ok(())
        }
        Expr::Unary(u) => check(&u.expr),
        Expr::Binary(b) => {
            if let Some(m) = &b.modifier {
                if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
                    return Err(Error::Parse("unexpected fill modifier".into()));
                }
            }
            check(&b.lhs)?;
            check(&b.rhs)
        }
        Expr::Paren(p) => check(&p.expr),
        Expr::Subquery(s) => check(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::VectorSelector(vs) => check_selector(vs),
        Expr::MatrixSelector(ms) => check_selector(&ms.vs),
        Expr::Call(c) => {
            if !FUNCTIONS_2_42.contains(&c.func.name) {
                return Err(Error::Parse(format!(
                    "unknown function with name {:?}",
                    c.func.name
                )));
            }
            c.args.args.iter().try_for_each(|a| check(a))
        }
        Expr::Extension(_) => Err(Error::Parse("unsupported expression".into())),
    }
}

fn check_selector(vs: &parser::VectorSelector) -> Result<()> {
    if vs.matchers.or_matchers.is_empty() {
        Ok(())
    } else {
        Err(Error::Parse("unexpected \"or\" in label matching".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_2_42_and_rejects_newer_language() {
        assert!(parse("holt_winters(x[5m], 0.5, 0.5)").is_ok());
        assert!(parse("sum by (job) (rate(x[5m] offset -1m @ end()))").is_ok());
        for q in [
            "double_exponential_smoothing(x[5m], 0.5, 0.5)",
            "limitk(2, x)",
            "sort_by_label(x, \"a\")",
            "x{",
            "{a=~\".*\"}",
        ] {
            let e = parse(q).expect_err(q);
            assert!(e.to_string().starts_with("parse error: "), "{e}");
        }
        let e = parse("rate(x)").expect_err("type");
        assert_eq!(
            e.to_string(),
            "parse error: expected type range vector in call to function 'rate', got instant vector"
        );
    }
}

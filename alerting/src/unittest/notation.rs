//! The series notation of promtool test files: `metric{label="value"}` (labels parsed with
//! `promql-parser`) and the expanding value notation of Prometheus' test language: `1 2 3`,
//! `1+2x3` (1 3 5 7), `1-1x3`, `1x3` (four 1s), `_` and `_x3` (no samples), `stale`,
//! `NaN`, `Inf`, `-Inf`.

use argus_core::series::{stale_nan, Labels};
use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

/// One value of a series: `None` where the notation leaves a gap.
pub type SeqValue = Option<f64>;

/// Parses a label set as `metric{a="b"}`, `{__name__="metric", a="b"}` or `{}` (also the
/// empty string), as Prometheus' `ParseMetric`.
pub fn parse_metric(s: &str) -> Result<Labels, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(Labels::default());
    }
    let name_end = t
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_alphabetic() || *c == '_' || *c == ':' || (*i > 0 && c.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (name, rest) = t.split_at(name_end);
    let rest = rest.trim();
    if !rest.is_empty() && !rest.starts_with('{') {
        return Err(format!("unexpected {rest:?} in label set {s:?}"));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.to_string()));
    }
    let body = rest.strip_prefix('{').map(|b| b.trim_end()).unwrap_or("");
    if !body.trim().trim_end_matches('}').trim().is_empty() {
        // Any metric name will do: only the matchers are used, and keywords (`sum`,
        // `offset`, …) are valid metric names here while PromQL would refuse them.
        let text = if name.is_empty() {
            rest.to_string()
        } else {
            format!("x{rest}")
        };
        let expr = promql_parser::parser::parse(&text)
            .map_err(|e| format!("invalid label set {s:?}: {e}"))?;
        let Expr::VectorSelector(vs) = expr else {
            return Err(format!("invalid label set {s:?}"));
        };
        if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
            return Err(format!("invalid label set {s:?}"));
        }
        for m in vs.matchers.matchers {
            if m.op != MatchOp::Equal {
                return Err(format!(
                    "invalid label set {s:?}: only = matchers are allowed"
                ));
            }
            if m.name == "__name__" && !name.is_empty() {
                return Err(format!("metric name given twice in {s:?}"));
            }
            pairs.push((m.name, m.value));
        }
    } else if !rest.is_empty() && !rest.ends_with('}') {
        return Err(format!("unclosed label set in {s:?}"));
    }
    Ok(Labels::new(pairs))
}

/// Parses one number as Prometheus' series lexer and `parseNumber` read it: decimals with
/// exponents, `Inf`/`NaN` (any case), a leading 0 meaning octal for integers.
fn number(tok: &str) -> Option<f64> {
    match tok.to_ascii_lowercase().as_str() {
        "inf" => return Some(f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if tok.len() > 1 && tok.starts_with('0') && tok.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = i64::from_str_radix(&tok[1..], 8) {
            return Some(v as f64);
        }
    }
    if tok.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return tok.parse().ok();
    }
    None
}

/// Splits the start of `s` into a number token and the rest.
fn take_number(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    if s.len() >= 3 && (s[..3].eq_ignore_ascii_case("inf") || s[..3].eq_ignore_ascii_case("nan")) {
        return s.split_at(3);
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    s.split_at(i)
}

/// Expands the value notation into one value per step.
pub fn expand_values(values: &str) -> Result<Vec<SeqValue>, String> {
    let mut out = Vec::new();
    for item in values.split_whitespace() {
        expand_item(item, &mut out).map_err(|e| format!("{e} in series values {values:?}"))?;
    }
    Ok(out)
}

fn repeat_count(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("invalid repetition {s:?}"))
}

fn signed(s: &str) -> Result<(f64, &str), String> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (tok, rest) = take_number(rest);
    let v = number(tok).ok_or_else(|| format!("unexpected {s:?}"))?;
    // `Infx3` is one identifier to Prometheus' lexer, not Inf repeated.
    if tok.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!("unexpected {s:?}"));
    }
    Ok((if neg { -v } else { v }, rest))
}

fn expand_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    if item == "stale" {
        out.push(Some(stale_nan()));
        return Ok(());
    }
    if let Some(rest) = item.strip_prefix('_') {
        if rest.is_empty() {
            out.push(None);
            return Ok(());
        }
        let n = rest
            .strip_prefix('x')
            .ok_or_else(|| format!("unexpected {item:?}"))?;
        for _ in 0..repeat_count(n)? {
            out.push(None);
        }
        return Ok(());
    }
    let (start, rest) = signed(item)?;
    if rest.is_empty() {
        out.push(Some(start));
        return Ok(());
    }
    // `aXn` or `a+bXn` / `a-bXn`: n+1 values.
    let (delta, rest) = if rest.starts_with(['+', '-']) {
        signed(rest)?
    } else {
        (0.0, rest)
    };
    let n = rest
        .strip_prefix('x')
        .ok_or_else(|| format!("unexpected {item:?}"))?;
    let n = repeat_count(n)?;
    let mut v = start;
    for _ in 0..=n {
        out.push(Some(v));
        v += delta;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::is_stale;

    fn vals(s: &str) -> Vec<Option<f64>> {
        expand_values(s).expect("values")
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(vals("1 2 3"), [Some(1.0), Some(2.0), Some(3.0)]);
        assert_eq!(vals("1+2x3"), [Some(1.0), Some(3.0), Some(5.0), Some(7.0)]);
        assert_eq!(
            vals("1-1x3"),
            [Some(1.0), Some(0.0), Some(-1.0), Some(-2.0)]
        );
        assert_eq!(vals("5x2"), [Some(5.0); 3]);
        assert_eq!(vals("-2+0.5x1"), [Some(-2.0), Some(-1.5)]);
        assert_eq!(vals("_ 1 _x2 2"), [None, Some(1.0), None, None, Some(2.0)]);
        assert_eq!(
            vals("1e3 010 +Inf -Inf"),
            [
                Some(1000.0),
                Some(8.0),
                Some(f64::INFINITY),
                Some(f64::NEG_INFINITY)
            ]
        );
        assert!(expand_values("Infx1").is_err());
        assert_eq!(vals("Inf+0x1"), [Some(f64::INFINITY); 2]);
        let v = vals("NaN stale");
        assert!(v[0].is_some_and(|x| x.is_nan() && !is_stale(x)));
        assert!(v[1].is_some_and(is_stale));
        assert!(expand_values("1 foo").is_err());
        assert!(expand_values("1x").is_err());
        assert!(expand_values("1-2").is_err());
        assert!(vals("").is_empty());
    }

    #[test]
    fn series_labels() {
        let l = parse_metric("up{job=\"a\", instance=\"x:1\"}").expect("metric");
        assert_eq!(l.to_string(), "up{instance=\"x:1\", job=\"a\"}");
        assert_eq!(
            parse_metric("{__name__=\"up\"}")
                .expect("name")
                .metric_name(),
            Some("up")
        );
        assert_eq!(
            parse_metric("sum").expect("keyword").metric_name(),
            Some("sum")
        );
        assert!(parse_metric("").expect("empty").is_empty());
        assert!(parse_metric("{}").expect("empty").is_empty());
        assert!(parse_metric("up{a=~\"x\"}").is_err());
        assert!(parse_metric("up{a=\"x\"").is_err());
    }
}

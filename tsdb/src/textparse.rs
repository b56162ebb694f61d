//! Parser of the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text: what
//! the scraper reads from targets and `argus tsdb import` reads from files. Comment lines
//! (`# HELP`, `# TYPE`, `# UNIT`, `# EOF`) are skipped; exemplars are ignored. Errors name
//! the line and what was wrong; a parser of outside input never panics.

pub use argus_core::series::{valid_label_name, valid_metric_name};
use argus_core::series::{Labels, METRIC_NAME};

/// Timestamp units of the two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Prometheus text: timestamps in milliseconds.
    Prometheus,
    /// OpenMetrics: timestamps in (fractional) seconds.
    OpenMetrics,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub labels: Labels,
    pub value: f64,
    /// Milliseconds, when the line has a timestamp.
    pub timestamp: Option<i64>,
}

/// A line that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses one line; Ok(None) for blank and comment lines.
pub fn parse_line(line: &str, flavor: Flavor, lineno: usize) -> Result<Option<Parsed>, ParseError> {
    let err = |m: String| ParseError {
        line: lineno,
        message: m,
    };
    let s = line.trim_end_matches('\r');
    let s = s.trim_start();
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let name_end = s
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(s.len());
    let name = &s[..name_end];
    if !valid_metric_name(name) {
        return Err(err(format!("invalid metric name {name:?}")));
    }
    let mut pairs: Vec<(String, String)> = vec![(METRIC_NAME.to_string(), name.to_string())];
    let mut rest = &s[name_end..];
    if let Some(r) = rest.strip_prefix('{') {
        rest = parse_labels(r, &mut pairs).map_err(err)?;
    }
    let mut fields = rest.split_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| err(format!("{name}: missing value")))?;
    let value =
        parse_value(value).ok_or_else(|| err(format!("{name}: invalid value {value:?}")))?;
    let timestamp = match fields.next() {
        None => None,
        Some("#") => None,
        Some(ts) => Some(
            parse_ts(ts, flavor).ok_or_else(|| err(format!("{name}: invalid timestamp {ts:?}")))?,
        ),
    };
    if let Some(f) = fields.next() {
        if f != "#" {
            return Err(err(format!("{name}: unexpected {f:?} after the timestamp")));
        }
    }
    let mut seen: Vec<&str> = Vec::with_capacity(pairs.len());
    for (n, _) in &pairs {
        if seen.contains(&n.as_str()) {
            return Err(err(format!("{name}: label {n:?} given twice")));
        }
        seen.push(n);
    }
    Ok(Some(Parsed {
        labels: Labels::new(pairs),
        value,
        timestamp,
    }))
}

/// Parses a whole body; stops at the first error.
pub fn parse(text: &str, flavor: Flavor) -> Result<Vec<Parsed>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(p) = parse_line(line, flavor, i + 1)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Parses `a="x",b="y"}`; returns what follows the closing brace.
fn parse_labels<'a>(mut s: &'a str, pairs: &mut Vec<(String, String)>) -> Result<&'a str, String> {
    loop {
        s = s.trim_start();
        if let Some(r) = s.strip_prefix('}') {
            return Ok(r);
        }
        let eq = s.find('=').ok_or("label without `=`")?;
        let name = s[..eq].trim();
        if !valid_label_name(name) {
            return Err(format!("invalid label name {name:?}"));
        }
        s = s[eq + 1..].trim_start();
        s = s
            .strip_prefix('"')
            .ok_or_else(|| format!("label {name:?}: value must be quoted"))?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(format!("label {name:?}: unterminated value")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, c)) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err(format!("label {name:?}: unterminated value")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        pairs.push((name.to_string(), value));
        s = s[end + 1..].trim_start();
        if let Some(r) = s.strip_prefix(',') {
            s = r;
        } else if !s.starts_with('}') {
            return Err(format!("expected `,` or `}}` after label {name:?}"));
        }
    }
}

/// Go's ParseFloat spellings Prometheus accepts, incl. `NaN`, `+Inf`, `-Inf`, `Inf`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

fn parse_ts(s: &str, flavor: Flavor) -> Option<i64> {
    match flavor {
        Flavor::Prometheus => s.parse::<i64>().ok(),
        Flavor::OpenMetrics => {
            let secs: f64 = s.parse().ok()?;
            if !secs.is_finite() {
                return None;
            }
            Some((secs * 1000.0).round() as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_flavors() {
        let text = "# HELP up x\n# TYPE up gauge\nup{job=\"a\\\"b\",instance=\"h:1\"} 1\n\
                    rate_total 12.5 1700000000000\nnan_one NaN\nneg{le=\"+Inf\"} -Inf\n\n";
        let got = parse(text, Flavor::Prometheus).expect("parse");
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].labels.get("job"), Some("a\"b"));
        assert_eq!(got[1].timestamp, Some(1_700_000_000_000));
        assert!(got[2].value.is_nan());
        assert_eq!(got[3].value, f64::NEG_INFINITY);
        let om = parse(
            "x_total{a=\"1\"} 3 1700000000.5 # {trace=\"t\"} 1 1\n# EOF\n",
            Flavor::OpenMetrics,
        )
        .expect("om");
        assert_eq!(om[0].timestamp, Some(1_700_000_000_500));
    }

    #[test]
    fn errors_name_the_line() {
        for (bad, want) in [
            ("up{job=\"x} 1", "unterminated"),
            ("up{job=x} 1", "quoted"),
            ("up{1a=\"x\"} 1", "invalid label name"),
            ("up", "missing value"),
            ("up abc", "invalid value"),
            ("up 1 2 3", "unexpected"),
            ("9up 1", "invalid metric name"),
            ("up{a=\"1\",a=\"2\"} 1", "twice"),
        ] {
            let e = parse(&format!("ok 1\n{bad}\n"), Flavor::Prometheus).expect_err(bad);
            assert_eq!(e.line, 2, "{bad}");
            assert!(e.message.contains(want), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "(?s).{0,200}") {
            let _ = parse(&s, Flavor::Prometheus);
            let _ = parse(&s, Flavor::OpenMetrics);
        }

        #[test]
        fn never_panics_on_near_valid_lines(n in "[a-z_]{1,5}", l in "[a-z\"\\\\=,{} ]{0,20}", v in "[0-9.eE+-]{0,6}") {
            let _ = parse_line(&format!("{n}{{{l} {v} {v}"), Flavor::Prometheus, 1);
        }
    }
}

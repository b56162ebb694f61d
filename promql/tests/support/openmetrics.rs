//! Parses the OpenMetrics text this test suite generates: `# ...` lines are skipped,
//! samples are `name{label="value",...} value timestamp_seconds`.

use argus_core::series::{Labels, MemSource};

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    pub labels: Labels,
    pub t_ms: i64,
    pub v: f64,
}

/// Parses a value as OpenMetrics writes it (`NaN`, `+Inf`, `-Inf` or a float).
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Parses one sample line; `None` for comments and blank lines.
pub fn parse_line(line: &str) -> Result<Option<ParsedSample>, String> {
    let line = line.trim_end();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value in {line:?}"))?;
    let name = &line[..name_end];
    let mut pairs = vec![("__name__".to_string(), name.to_string())];
    let mut rest = &line[name_end..];
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = rest
                .find('=')
                .ok_or_else(|| format!("bad labels in {line:?}"))?;
            let lname = rest[..eq].trim().to_string();
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or_else(|| format!("unquoted label value in {line:?}"))?;
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => return Err(format!("bad escape in {line:?}")),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("unterminated label value in {line:?}")),
                }
            };
            rest = &rest[end + 1..];
            pairs.push((lname, value));
        }
    }
    let mut fields = rest.split_whitespace();
    let v = fields
        .next()
        .and_then(parse_value)
        .ok_or_else(|| format!("bad value in {line:?}"))?;
    let t: f64 = fields
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("missing timestamp in {line:?}"))?;
    Ok(Some(ParsedSample {
        labels: Labels::new(pairs),
        t_ms: (t * 1000.0).round() as i64,
        v,
    }))
}

/// Loads a whole file into a [`MemSource`] (samples of a series must be in time order).
pub fn load(text: &str) -> Result<MemSource, String> {
    let mut src = MemSource::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(s) = parse_line(line).map_err(|e| format!("line {}: {e}", i + 1))? {
            src.add(&s.labels, s.t_ms, s.v);
        }
    }
    Ok(src)
}

#[test]
fn parses_labels_escapes_and_special_values() {
    let s = parse_line(r#"x_total{a="1",b="q\"\\"} +Inf 1700000000.5"#)
        .expect("parse")
        .expect("sample");
    assert_eq!(s.labels.get("b"), Some("q\"\\"));
    assert_eq!(s.labels.metric_name(), Some("x_total"));
    assert_eq!(s.t_ms, 1_700_000_000_500);
    assert_eq!(s.v, f64::INFINITY);
    let s = parse_line("up 1 10").expect("parse").expect("sample");
    assert_eq!(s.labels.len(), 1);
    assert!(parse_line("# TYPE up gauge").expect("comment").is_none());
}

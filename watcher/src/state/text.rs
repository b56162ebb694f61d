//! The Prometheus text format as kube-state-metrics writes it: `# HELP` with the
//! `[STABLE] ` prefix for stable families, label values escaped (`\\`, `\"`, `\n`),
//! and values formatted like Go's `strconv.FormatFloat(v, 'g', -1, 64)`
//! (`1.5e+09`, `0.25`, `200`).

use std::fmt::Write as _;

/// Stability of a family; stable families get `[STABLE] ` before their help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    Stable,
    Alpha,
}

/// Writes the `# HELP` and `# TYPE` lines of a family.
pub fn header(out: &mut String, name: &str, help: &str, stability: Stability, kind: &str) {
    let prefix = match stability {
        Stability::Stable => "[STABLE] ",
        Stability::Alpha => "",
    };
    let _ = writeln!(out, "# HELP {name} {prefix}{help}\n# TYPE {name} {kind}");
}

/// Writes a gauge family header.
pub fn gauge(out: &mut String, name: &str, help: &str, stability: Stability) {
    header(out, name, help, stability, "gauge");
}

/// Writes one sample: `name{k="v",...} value`.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    let mut sep = '{';
    for (k, v) in labels {
        out.push(sep);
        sep = ',';
        out.push_str(k);
        out.push_str("=\"");
        escape(out, v);
        out.push('"');
    }
    if !labels.is_empty() {
        out.push('}');
    }
    out.push(' ');
    push_value(out, value);
    out.push('\n');
}

fn escape(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// 1 for true, 0 for false.
pub fn bool_value(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Appends `v` formatted as Go's `strconv.FormatFloat(v, 'g', -1, 64)`.
pub fn push_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        out.push('0');
        return;
    }
    if v < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Go's shortest mode does.
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

/// `value` as Go's `strconv.FormatBool`.
pub fn go_bool(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// kube-state-metrics' `SanitizeLabelName`: every character outside `[a-zA-Z0-9_]`
/// becomes `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The three series of a condition status (`true`, `false`, `unknown`), as
/// kube-state-metrics' `addConditionMetrics`: 1 for the one matching `status`.
pub const CONDITION_STATUSES: [(&str, &str); 3] =
    [("True", "true"), ("False", "false"), ("Unknown", "unknown")];

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        let mut s = String::new();
        push_value(&mut s, v);
        s
    }

    #[test]
    fn values_match_go_g_format() {
        let cases: [(f64, &str); 14] = [
            (1.0, "1"),
            (0.0, "0"),
            (-1.0, "-1"),
            (200.0, "200"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1.5e9, "1.5e+09"),
            (134217728.0, "1.34217728e+08"),
            (0.25, "0.25"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.7e9 + 1.0, "1.700000001e+09"),
            (123456.5, "123456.5"),
            (2.1, "2.1"),
        ];
        for (v, want) in cases {
            assert_eq!(fmt(v), want, "{v}");
        }
    }

    #[test]
    fn labels_are_escaped() {
        let mut s = String::new();
        sample(&mut s, "m", &[("a", "x\"y\\z\nw")], 1.0);
        assert_eq!(s, "m{a=\"x\\\"y\\\\z\\nw\"} 1\n");
        s.clear();
        sample(&mut s, "m", &[], 2.5);
        assert_eq!(s, "m 2.5\n");
    }

    #[test]
    fn sanitizes_like_ksm() {
        assert_eq!(sanitize("nvidia.com/gpu"), "nvidia_com_gpu");
        assert_eq!(sanitize("hugepages-2Mi"), "hugepages_2Mi");
    }
}

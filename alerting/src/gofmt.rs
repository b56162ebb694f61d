//! Go's number and string formatting (`strconv.FormatFloat`, `fmt`'s `%v`, `%e`, `%g`,
//! `strconv.Quote`), because Prometheus' template output, promtool's messages and the
//! HTTP API print floats the Go way (`1e+06`, `3E-01`, `1.235M`).

/// Decimal digits of `|v|` without trailing zeros and the position of the decimal point
/// (`0.0125` → `("125", -1)`), as Go's `decimal` holds them; zero is `("", 0)`.
fn digits(v: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    let a = v.abs();
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    // Rust's `{:e}` is the shortest round-trip representation (as Go's shortest), and with
    // a precision it is correctly rounded, ties to even (as Go's).
    let s = match sig {
        None => format!("{a:e}"),
        Some(n) => format!("{:.*e}", n.saturating_sub(1), a),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == [b'0'] {
        return (Vec::new(), 0);
    }
    (d, exp + 1)
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

fn sign(v: f64) -> &'static str {
    if v.is_sign_negative() {
        "-"
    } else {
        ""
    }
}

fn fmt_e(out: &mut String, d: &[u8], dp: i32, prec: usize, e: char) {
    out.push(char::from(*d.first().unwrap_or(&b'0')));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(*d.get(i).unwrap_or(&b'0')));
        }
    }
    out.push(e);
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn fmt_f(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(char::from(*d.get(i).unwrap_or(&b'0')));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            let j = i64::from(dp) + i - 1;
            let c = if j >= 0 && (j as usize) < d.len() {
                d[j as usize]
            } else {
                b'0'
            };
            out.push(char::from(c));
        }
    }
}

/// `strconv.FormatFloat(v, 'g', prec, 64)` (`prec` `None`: shortest), `upper` for `'G'`.
pub fn format_g(v: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    let (d, dp) = match prec {
        None => digits(v, None),
        Some(p) => digits(v, Some(p.max(1))),
    };
    let mut out = sign(v).to_string();
    let nd = d.len() as i32;
    let mut eprec = match prec {
        None => nd,
        Some(p) => p.max(1) as i32,
    };
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let exp = dp - 1;
    let mut p = match prec {
        None => nd,
        Some(p) => p.max(1) as i32,
    };
    if exp < -4 || exp >= eprec {
        if p > nd {
            p = nd;
        }
        fmt_e(
            &mut out,
            &d,
            dp,
            (p - 1).max(0) as usize,
            if upper { 'E' } else { 'e' },
        );
    } else {
        if p > dp {
            p = nd;
        }
        fmt_f(&mut out, &d, dp, (p - dp).max(0) as usize);
    }
    out
}

/// `strconv.FormatFloat(v, 'e', prec, 64)` (`prec` `None`: shortest), `upper` for `'E'`.
pub fn format_e(v: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    let (d, dp) = match prec {
        None => digits(v, None),
        Some(p) => digits(v, Some(p + 1)),
    };
    let p = prec.unwrap_or(d.len().saturating_sub(1));
    let mut out = sign(v).to_string();
    fmt_e(&mut out, &d, dp, p, if upper { 'E' } else { 'e' });
    out
}

/// `strconv.FormatFloat(v, 'f', prec, 64)` (`prec` `None`: shortest).
pub fn format_f(v: f64, prec: Option<usize>) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    match prec {
        Some(p) => {
            let s = format!("{:.*}", p, v.abs());
            format!("{}{s}", sign(v))
        }
        None => {
            let (d, dp) = digits(v, None);
            let mut out = sign(v).to_string();
            fmt_f(&mut out, &d, dp, (d.len() as i32 - dp).max(0) as usize);
            out
        }
    }
}

/// Go's `fmt.Sprint(float64)` / `%v`.
pub fn format_v(v: f64) -> String {
    format_g(v, None, false)
}

/// Go's `strconv.Quote`: double quotes, Go escapes, printable Unicode kept.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prometheus' `labels.Labels.String()`: `{a="1", b="2"}` (the metric name as a label).
pub fn labels_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (n, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(n);
        out.push('=');
        out.push_str(&quote(v));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formats() {
        let v = [
            (1e6, "1e+06"),
            (100000.0, "100000"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (0.30000000000000004, "0.30000000000000004"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
            (1e21, "1e+21"),
            (-2.5e-7, "-2.5e-07"),
        ];
        for (f, s) in v {
            assert_eq!(format_v(f), s, "{f}");
        }
        assert_eq!(format_g(1234567.0, Some(4), false), "1.235e+06");
        assert_eq!(format_g(1.234567, Some(4), false), "1.235");
        assert_eq!(format_g(1000.0, Some(4), false), "1000");
        assert_eq!(format_g(100.0, Some(4), false), "100");
        assert_eq!(format_g(0.5, Some(4), false), "0.5");
        assert_eq!(format_g(0.0, Some(4), false), "0");
        assert_eq!(format_g(12345.0, Some(4), false), "1.234e+04");
        assert_eq!(format_e(1.0, None, true), "1E+00");
        assert_eq!(format_e(0.3, None, true), "3E-01");
        assert_eq!(
            format_e(0.30000000000000004, None, true),
            "3.0000000000000004E-01"
        );
        assert_eq!(format_e(42.0, None, false), "4.2e+01");
        assert_eq!(format_e(0.0, None, false), "0e+00");
        assert_eq!(format_e(1234567.0, Some(6), false), "1.234567e+06");
        assert_eq!(format_f(0.125, Some(2)), "0.12");
        assert_eq!(format_f(-1.5, Some(0)), "-2");
        assert_eq!(format_f(1e21, None), "1000000000000000000000");
        assert_eq!(format_f(0.001, None), "0.001");
    }

    #[test]
    fn go_quote() {
        assert_eq!(quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
        assert_eq!(
            labels_string([("__name__", "up"), ("job", "a")]),
            "{__name__=\"up\", job=\"a\"}"
        );
    }
}

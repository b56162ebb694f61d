//! Go's `fmt.Sprintf` over template values: flags `+ - # space 0`, width, precision, verbs
//! `v s q d f F e E g G x X t c o b %`, and Go's `%!verb(type=value)` for mismatches.

use super::value::{ListKind, Value};
use crate::gofmt;

#[derive(Default, Clone, Copy)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` by `format` as Go's `fmt.Sprintf` does.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next_arg = 0;
    let b = format.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let Some(off) = format[i..].find('%') else {
            out.push_str(&format[i..]);
            break;
        };
        out.push_str(&format[i..i + off]);
        i += off + 1;
        let mut spec = Spec::default();
        while i < b.len() {
            match b[i] {
                b'+' => spec.plus = true,
                b'-' => spec.minus = true,
                b'#' => spec.sharp = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        // Width.
        if i < b.len() && b[i] == b'*' {
            i += 1;
            if let Some(Value::Int(w)) = args.get(next_arg) {
                if *w < 0 {
                    spec.minus = true;
                }
                spec.width = Some(w.unsigned_abs() as usize);
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            next_arg += 1;
        } else {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i > s {
                spec.width = format[s..i].parse().ok();
            }
        }
        // Precision.
        if i < b.len() && b[i] == b'.' {
            i += 1;
            if i < b.len() && b[i] == b'*' {
                i += 1;
                match args.get(next_arg) {
                    Some(Value::Int(p)) if *p >= 0 => spec.prec = Some(*p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                next_arg += 1;
            } else {
                let s = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                spec.prec = Some(format[s..i].parse().unwrap_or(0));
            }
        }
        let Some(verb) = format[i..].chars().next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        out.push_str(&format_one(verb, &spec, arg));
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), a.fmt_v()))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn bad_verb(verb: char, arg: &Value) -> String {
    match arg {
        Value::Missing => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", arg.type_name(), arg.fmt_v()),
    }
}

fn pad(s: String, spec: &Spec, numeric: bool) -> String {
    let Some(w) = spec.width else {
        return s;
    };
    let n = s.chars().count();
    if n >= w {
        return s;
    }
    let fill = w - n;
    if spec.minus {
        return format!("{s}{}", " ".repeat(fill));
    }
    if spec.zero && numeric {
        // Zeros go after the sign.
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (c.to_string(), s[1..].to_string()),
            _ => (String::new(), s.clone()),
        };
        if rest.chars().all(|c| c.is_ascii_alphabetic()) {
            return format!("{}{s}", " ".repeat(fill));
        }
        return format!("{sign}{}{rest}", "0".repeat(fill));
    }
    format!("{}{s}", " ".repeat(fill))
}

fn sign_flags(s: String, spec: &Spec) -> String {
    if s.starts_with('-') {
        return s;
    }
    if spec.plus {
        return format!("+{}", s.trim_start_matches('+'));
    }
    if let Some(rest) = s.strip_prefix('+') {
        // Go prints +Inf only with the plus flag.
        return if spec.space {
            format!(" {rest}")
        } else {
            rest.to_string()
        };
    }
    if spec.space {
        return format!(" {s}");
    }
    s
}

fn float(verb: char, spec: &Spec, f: f64) -> String {
    let s = match verb {
        'v' => gofmt::format_g(f, spec.prec, false),
        'e' | 'E' => gofmt::format_e(f, Some(spec.prec.unwrap_or(6)), verb == 'E'),
        'f' | 'F' => gofmt::format_f(f, Some(spec.prec.unwrap_or(6))),
        'g' | 'G' => gofmt::format_g(f, spec.prec, verb == 'G'),
        _ => unreachable!("float verbs only"),
    };
    let s = if f.is_infinite() && !s.starts_with('-') {
        format!("+{}", s.trim_start_matches('+'))
    } else {
        s
    };
    pad(sign_flags(s, spec), spec, f.is_finite())
}

fn int(verb: char, spec: &Spec, i: i64) -> String {
    let digits = match verb {
        'd' | 'v' => i.unsigned_abs().to_string(),
        'x' => format!("{:x}", i.unsigned_abs()),
        'X' => format!("{:X}", i.unsigned_abs()),
        'o' => format!("{:o}", i.unsigned_abs()),
        'b' => format!("{:b}", i.unsigned_abs()),
        _ => unreachable!("integer verbs only"),
    };
    let digits = match spec.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') => "0",
        _ => "",
    };
    let s = if i < 0 {
        format!("-{prefix}{digits}")
    } else {
        sign_flags(format!("{prefix}{digits}"), spec)
    };
    pad(s, spec, spec.prec.is_none())
}

fn string(spec: &Spec, s: &str) -> String {
    let s = match spec.prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    pad(s, spec, false)
}

fn format_one(verb: char, spec: &Spec, arg: &Value) -> String {
    match (verb, arg) {
        ('v', Value::Float(f)) => float('v', spec, *f),
        ('v', Value::Int(i)) => int('v', spec, *i),
        ('v', v) => pad(v.fmt_v(), spec, false),
        ('s', Value::Str(s) | Value::Html(s)) => string(spec, s),
        (
            's',
            v @ (Value::StrMap(_)
            | Value::Time(_)
            | Value::Kv(_)
            | Value::ZonedTime(_)
            | Value::List(ListKind::Pairs, _)),
        ) => string(spec, &v.fmt_v()),
        ('q', Value::Str(s) | Value::Html(s)) => {
            let s: String = match spec.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            };
            let q = if spec.sharp && !s.contains('`') {
                format!("`{s}`")
            } else {
                gofmt::quote(&s)
            };
            pad(q, spec, false)
        }
        ('q', Value::Int(i)) => match char::from_u32(*i as u32) {
            Some(c) => pad(format!("'{c}'"), spec, false),
            None => bad_verb(verb, arg),
        },
        ('c', Value::Int(i)) => pad(
            char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string(),
            spec,
            false,
        ),
        ('d' | 'x' | 'X' | 'o' | 'b', Value::Int(i)) => int(verb, spec, *i),
        ('x' | 'X', Value::Str(s) | Value::Html(s)) => {
            let h: String = s
                .bytes()
                .map(|b| {
                    if verb == 'x' {
                        format!("{b:02x}")
                    } else {
                        format!("{b:02X}")
                    }
                })
                .collect();
            pad(h, spec, false)
        }
        ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Float(f)) => float(verb, spec, *f),
        ('t', Value::Bool(b)) => pad(b.to_string(), spec, false),
        _ => bad_verb(verb, arg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_sprintf() {
        let f = |fmt: &str, args: &[Value]| sprintf(fmt, args);
        assert_eq!(f("%.2f", &[Value::Float(1.23456)]), "1.23");
        assert_eq!(f("%s/%d", &[Value::Str("a".into()), Value::Int(5)]), "a/5");
        assert_eq!(f("%v", &[Value::Float(1e6)]), "1e+06");
        assert_eq!(f("%q", &[Value::Str("a\"b".into())]), "\"a\\\"b\"");
        assert_eq!(
            f(
                "%5.1f|%-5d|%05d",
                &[Value::Float(2.25), Value::Int(3), Value::Int(-42)]
            ),
            "  2.2|3    |-0042"
        );
        assert_eq!(f("%d", &[Value::Float(1.5)]), "%!d(float64=1.5)");
        assert_eq!(f("%s", &[Value::Float(1.5)]), "%!s(float64=1.5)");
        assert_eq!(f("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(
            f("%d", &[Value::Int(1), Value::Str("x".into())]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(f("100%%", &[]), "100%");
        assert_eq!(f("%e", &[Value::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(f("%g", &[Value::Float(0.000012)]), "1.2e-05");
        assert_eq!(f("%x", &[Value::Int(255)]), "ff");
        assert_eq!(f("%+.1f", &[Value::Float(1.0)]), "+1.0");
        assert_eq!(f("%t", &[Value::Bool(true)]), "true");
        assert_eq!(f("%.3s", &[Value::Str("abcdef".into())]), "abc");
    }
}

//! The functions a Prometheus template can call: Go's builtins (`eq`, `len`, `index`,
//! `printf`, …) and Prometheus' own (`humanize*`, `query`, `label`, `reReplaceAll`, …), with
//! Go's argument typing and Prometheus' exact output formats.

use std::collections::BTreeMap;
use std::rc::Rc;

use regex::Regex;

use super::printf::sprintf;
use super::value::{Sample, Value};
use super::FuncContext;
use crate::gofmt;

/// The Go type a parameter is declared with; arguments are checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`
    Any,
    /// `string`
    Str,
    /// `*sample`
    Sample,
    /// `queryResult`
    Samples,
}

use Param::{Any, Sample as PS, Samples as PSS, Str};

/// Parameters of a function; the last repeats when `variadic`.
pub struct Sig {
    pub params: &'static [Param],
    pub variadic: bool,
}

const fn sig(params: &'static [Param], variadic: bool) -> Sig {
    Sig { params, variadic }
}

/// The signature of a function, `None` when no such function exists.
pub fn signature(name: &str) -> Option<Sig> {
    Some(match name {
        // Go builtins.
        "and" | "or" => sig(&[Any, Any], true),
        "not" | "len" => sig(&[Any], false),
        "index" | "slice" => sig(&[Any, Any], true),
        "print" | "println" | "html" | "js" | "urlquery" => sig(&[Any], true),
        "printf" => sig(&[Str, Any], true),
        "eq" => sig(&[Any, Any], true),
        "ne" | "lt" | "le" | "gt" | "ge" => sig(&[Any, Any], false),
        "call" => sig(&[Any, Any], true),
        // Prometheus.
        "query" | "title" | "toUpper" | "toLower" | "safeHtml" | "graphLink" | "tableLink"
        | "parseDuration" | "stripPort" | "stripDomain" => sig(&[Str], false),
        "first" => sig(&[PSS], false),
        "label" => sig(&[Str, PS], false),
        "value" | "strvalue" => sig(&[PS], false),
        "args" => sig(&[Any], true),
        "reReplaceAll" => sig(&[Str, Str, Str], false),
        "match" => sig(&[Str, Str], false),
        "sortByLabel" => sig(&[Str, PSS], false),
        "humanize" | "humanize1024" | "humanizeDuration" | "humanizePercentage"
        | "humanizeTimestamp" | "toTime" => sig(&[Any], false),
        "pathPrefix" | "externalURL" => sig(&[], false),
        // Alertmanager's notification templates only.
        "trimSpace" => sig(&[Str], false),
        "join" | "date" | "tz" => sig(&[Str, Any], false),
        "stringSlice" => sig(&[Str], true),
        _ => return None,
    })
}

/// Whether Prometheus' alert templates know function `name`.
pub fn in_prometheus(name: &str) -> bool {
    signature(name).is_some()
        && !matches!(name, "trimSpace" | "join" | "date" | "tz" | "stringSlice")
}

type R = Result<Value, String>;

fn s(v: &Value) -> &str {
    match v {
        Value::Str(s) | Value::Html(s) => s,
        _ => "",
    }
}

/// Calls function `name` with arguments already checked against its signature (`and` and
/// `or` are evaluated lazily by the executor and never reach here).
pub fn call(name: &str, args: &[Value], ctx: &FuncContext) -> R {
    let a0 = args.first().cloned().unwrap_or(Value::Missing);
    match name {
        "not" => Ok(Value::Bool(!a0.truth())),
        "len" => len(&a0),
        "index" => index(&a0, &args[1..]),
        "slice" => slice(&a0, &args[1..]),
        "print" => Ok(Value::Str(go_sprint(args))),
        "println" => {
            let parts: Vec<String> = args.iter().map(Value::fmt_v).collect();
            Ok(Value::Str(format!("{}\n", parts.join(" "))))
        }
        "printf" => Ok(Value::Str(sprintf(s(&a0), &args[1..]))),
        "html" => Ok(Value::Str(html_escape(&go_sprint(args)))),
        "js" => Ok(Value::Str(js_escape(&go_sprint(args)))),
        "urlquery" => Ok(Value::Str(query_escape(&go_sprint(args)))),
        "eq" => eq(&a0, &args[1..]).map(Value::Bool),
        "ne" => eq(&a0, &args[1..]).map(|b| Value::Bool(!b)),
        "lt" => lt(&a0, &args[1]).map(Value::Bool),
        "le" => le(&a0, &args[1]).map(Value::Bool),
        "gt" => le(&a0, &args[1]).map(|b| Value::Bool(!b)),
        "ge" => lt(&a0, &args[1]).map(|b| Value::Bool(!b)),
        "call" => Err("call is not supported in alert templates".into()),
        "query" => match ctx.query {
            Some(q) => q(s(&a0)).map(|v| Value::Samples(Rc::new(v))),
            None => Err("query is not available here".into()),
        },
        "first" => match &a0 {
            Value::Samples(v) if !v.is_empty() => Ok(Value::Sample(Rc::new(v[0].clone()))),
            _ => Err("first() called on vector with no elements".into()),
        },
        "label" => Ok(Value::Str(match &args[1] {
            Value::Sample(smp) => smp.labels.get(s(&a0)).cloned().unwrap_or_default(),
            _ => String::new(),
        })),
        "value" => Ok(Value::Float(match &a0 {
            Value::Sample(smp) => smp.value,
            _ => 0.0,
        })),
        "strvalue" => Ok(Value::Str(match &a0 {
            Value::Sample(smp) => smp.labels.get("__value__").cloned().unwrap_or_default(),
            _ => String::new(),
        })),
        "args" => {
            let m: BTreeMap<String, Value> = args
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("arg{i}"), a.clone()))
                .collect();
            Ok(Value::AnyMap(Rc::new(m)))
        }
        "reReplaceAll" => {
            let re = Regex::new(s(&a0))
                .map_err(|e| format!("regexp: Compile(`{}`): {}", s(&a0), regex_error(&e)))?;
            Ok(Value::Str(
                re.replace_all(s(&args[2]), s(&args[1])).into_owned(),
            ))
        }
        "match" => {
            let re = Regex::new(s(&a0)).map_err(|e| regex_error(&e))?;
            Ok(Value::Bool(re.is_match(s(&args[1]))))
        }
        "title" => Ok(Value::Str(title(s(&a0)))),
        "toUpper" => Ok(Value::Str(map_runes(s(&a0), char::to_uppercase))),
        "toLower" => Ok(Value::Str(map_runes(s(&a0), char::to_lowercase))),
        "safeHtml" => Ok(Value::Html(s(&a0).to_string())),
        "graphLink" => Ok(Value::Str(format!(
            "/graph?g0.expr={}&g0.tab=0",
            query_escape(s(&a0))
        ))),
        "tableLink" => Ok(Value::Str(format!(
            "/graph?g0.expr={}&g0.tab=1",
            query_escape(s(&a0))
        ))),
        "sortByLabel" => {
            let mut v: Vec<Sample> = match &args[1] {
                Value::Samples(v) => v.as_ref().clone(),
                _ => Vec::new(),
            };
            let l = s(&a0);
            v.sort_by(|x, y| {
                x.labels
                    .get(l)
                    .map(String::as_str)
                    .unwrap_or("")
                    .cmp(y.labels.get(l).map(String::as_str).unwrap_or(""))
            });
            Ok(Value::Samples(Rc::new(v)))
        }
        "humanize" => humanize(to_float(&a0)?).map(Value::Str),
        "humanize1024" => Ok(Value::Str(humanize1024(to_float(&a0)?))),
        "humanizeDuration" => Ok(Value::Str(humanize_duration(to_float(&a0)?))),
        "humanizePercentage" => Ok(Value::Str(format!(
            "{}%",
            gofmt::format_g(to_float(&a0)? * 100.0, Some(4), false)
        ))),
        "humanizeTimestamp" => {
            let v = to_float(&a0)?;
            if !v.is_finite() {
                return Ok(Value::Str(g4(v)));
            }
            Ok(Value::Str(super::value::time_string(float_to_ns(v)?)))
        }
        "toTime" => {
            let v = to_float(&a0)?;
            if !v.is_finite() {
                return Err("value is NaN or Inf".into());
            }
            Ok(Value::Time(float_to_ns(v)?))
        }
        "pathPrefix" | "externalURL" => {
            let Some(u) = ctx.external_url else {
                return Err(
                    "runtime error: invalid memory address or nil pointer dereference".into(),
                );
            };
            Ok(Value::Str(if name == "pathPrefix" {
                url_path(u)
            } else {
                u.to_string()
            }))
        }
        "parseDuration" => crate::duration::parse_duration(s(&a0))
            .map(|ms| Value::Float(ms as f64 / 1000.0))
            .map_err(|e| e.to_string()),
        "stripPort" => Ok(Value::Str(match split_host_port(s(&a0)) {
            Some((h, _)) => h,
            None => s(&a0).to_string(),
        })),
        "stripDomain" => Ok(Value::Str(strip_domain(s(&a0)))),
        "trimSpace" | "stringSlice" | "join" | "date" | "tz" => super::amdata::call(name, args),
        _ => Err(format!("function {name:?} not defined")),
    }
}

/// Go's `strings.ToUpper`/`ToLower`: rune by rune, a rune without a one-rune mapping
/// (`ß`) kept.
fn map_runes<I: Iterator<Item = char>>(s: &str, f: fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut m = f(c);
            match (m.next(), m.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

/// A regex error in Go's words where they agree (`error parsing regexp: …`).
fn regex_error(e: &regex::Error) -> String {
    let msg = e.to_string();
    let last = msg.lines().last().unwrap_or("invalid regexp");
    format!(
        "error parsing regexp: {}",
        last.trim_start_matches("error: ")
    )
}

/// `fmt.Sprint`: spaces between operands when neither side is a string.
fn go_sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = |v: &Value| matches!(v, Value::Str(_) | Value::Html(_));
        if i > 0 && !is_str(a) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&a.fmt_v());
    }
    out
}

fn len(v: &Value) -> R {
    Ok(Value::Int(match v {
        Value::Str(s) | Value::Html(s) => s.len() as i64,
        Value::StrMap(m) => m.len() as i64,
        Value::AnyMap(m) => m.len() as i64,
        Value::Samples(v) => v.len() as i64,
        Value::List(_, v) => v.len() as i64,
        Value::Kv(m) => m.len() as i64,
        _ => return Err(format!("len of type {}", v.type_name())),
    }))
}

fn index_int(v: &Value, n: usize) -> Result<usize, String> {
    match v {
        Value::Int(i) if *i >= 0 && (*i as usize) < n => Ok(*i as usize),
        Value::Int(i) => Err(format!("index out of range: {i}")),
        other => Err(format!(
            "cannot index slice/array with type {}",
            other.type_name()
        )),
    }
}

fn index(item: &Value, idx: &[Value]) -> R {
    let mut cur = item.clone();
    for i in idx {
        cur = match (&cur, i) {
            (Value::StrMap(m), Value::Str(k)) => Value::Str(m.get(k).cloned().unwrap_or_default()),
            (Value::AnyMap(m), Value::Str(k)) => m.get(k).cloned().unwrap_or(Value::Missing),
            (Value::Kv(m), Value::Str(k)) => Value::Str(m.get(k).cloned().unwrap_or_default()),
            (Value::List(_, v), i) => v[index_int(i, v.len())?].clone(),
            (Value::StrMap(_) | Value::AnyMap(_) | Value::Kv(_), other) => {
                return Err(format!(
                    "value has type {}; should be string",
                    other.type_name()
                ))
            }
            (Value::Samples(v), i) => Value::Sample(Rc::new(v[index_int(i, v.len())?].clone())),
            (Value::Str(s), i) => Value::Int(i64::from(s.as_bytes()[index_int(i, s.len())?])),
            (Value::Missing, _) => return Err("index of untyped nil".into()),
            (other, _) => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(cur)
}

fn slice(item: &Value, idx: &[Value]) -> R {
    let n = match item {
        Value::Str(s) => s.len(),
        Value::Samples(v) => v.len(),
        Value::List(_, v) => v.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let get = |k: usize, d: usize| -> Result<usize, String> {
        match idx.get(k) {
            None => Ok(d),
            Some(Value::Int(i)) if *i >= 0 && (*i as usize) <= n => Ok(*i as usize),
            Some(Value::Int(i)) => Err(format!("index out of range: {i}")),
            Some(o) => Err(format!(
                "cannot index slice/array with type {}",
                o.type_name()
            )),
        }
    };
    let (lo, hi) = (get(0, 0)?, get(1, n)?);
    if lo > hi {
        return Err(format!("invalid slice index: {lo} > {hi}"));
    }
    Ok(match item {
        Value::Str(s) => Value::Str(String::from_utf8_lossy(&s.as_bytes()[lo..hi]).into_owned()),
        Value::Samples(v) => Value::Samples(Rc::new(v[lo..hi].to_vec())),
        Value::List(k, v) => Value::List(*k, Rc::new(v[lo..hi].to_vec())),
        _ => Value::Missing,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum BasicKind {
    Bool,
    Int,
    Float,
    Str,
    Other,
    Invalid,
}

fn kind(v: &Value) -> BasicKind {
    match v {
        Value::Bool(_) => BasicKind::Bool,
        Value::Int(_) => BasicKind::Int,
        Value::Float(_) => BasicKind::Float,
        Value::Str(_) | Value::Html(_) => BasicKind::Str,
        Value::Missing => BasicKind::Invalid,
        _ => BasicKind::Other,
    }
}

const BAD_TYPE: &str = "invalid type for comparison";
const BAD_CMP: &str = "incompatible types for comparison";

fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    if matches!(
        a,
        Value::StrMap(_) | Value::AnyMap(_) | Value::Samples(_) | Value::List(..) | Value::Kv(_)
    ) {
        return Err(format!(
            "non-comparable type {}: {}",
            a.fmt_v(),
            a.type_name()
        ));
    }
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(a);
    for b in rest {
        let k2 = kind(b);
        let truth = if k1 != k2 {
            if k1 != BasicKind::Invalid && k2 != BasicKind::Invalid {
                return Err(BAD_CMP.into());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Missing, Value::Missing) => true,
                _ if k1 == BasicKind::Str => s(a) == s(b),
                (Value::Sample(x), Value::Sample(y)) => Rc::ptr_eq(x, y),
                (Value::NilSample, Value::NilSample) => true,
                (Value::Time(x), Value::Time(y)) => x == y,
                (Value::Data(x), Value::Data(y)) => Rc::ptr_eq(x, y),
                (Value::ZonedTime(x), Value::ZonedTime(y)) => {
                    x.secs == y.secs && x.nanos == y.nanos
                }
                (Value::List(..) | Value::Kv(_), _) => return Err(BAD_TYPE.into()),
                (Value::StrMap(_) | Value::AnyMap(_) | Value::Samples(_), _) => {
                    return Err(BAD_TYPE.into())
                }
                _ => false,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (kind(a), kind(b));
    if matches!(k1, BasicKind::Other | BasicKind::Invalid)
        || matches!(k2, BasicKind::Other | BasicKind::Invalid)
    {
        return Err(BAD_TYPE.into());
    }
    if k1 != k2 {
        return Err(BAD_CMP.into());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        _ if k1 == BasicKind::Str => Ok(s(a) < s(b)),
        _ => Err(BAD_TYPE.into()),
    }
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(lt(a, b)? || eq(a, std::slice::from_ref(b))?)
}

/// Prometheus' `convertToFloat`.
fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Str(s) => parse_go_float(s).ok_or_else(|| {
            format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                gofmt::quote(s)
            )
        }),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

/// Go's `strconv.ParseFloat` for the forms people write.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.strip_prefix('+').unwrap_or(s);
    match t.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if t.is_empty()
        || t.contains(['_', ' '])
        || t.chars()
            .any(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E'))
    {
        return None;
    }
    t.parse().ok()
}

fn g4(v: f64) -> String {
    gofmt::format_g(v, Some(4), false)
}

/// Prometheus' `humanize`: SI prefixes, 4 significant digits.
pub fn humanize(v: f64) -> Result<String, String> {
    if v == 0.0 || !v.is_finite() {
        return Ok(g4(v));
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    Ok(format!("{}{prefix}", g4(v)))
}

/// Prometheus' `humanize1024`: binary prefixes.
pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return g4(v);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// Prometheus' `humanizeDuration` of seconds: `1d 2h 3m 4s`, `1.5s`, `10ms`.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    if v.abs() >= 1.0 {
        let (sign, v) = if v < 0.0 { ("-", -v) } else { ("", v) };
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {mins}m {secs}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {mins}m {secs}s");
        }
        if mins != 0 {
            return format!("{sign}{mins}m {secs}s");
        }
        return format!("{sign}{}s", g4(v));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

/// Seconds to nanoseconds, truncated to milliseconds as Prometheus' `model.Time` does.
fn float_to_ns(v: f64) -> Result<i64, String> {
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            gofmt::format_v(v)
        ));
    }
    let ns = ns as i64;
    Ok(ns / 1_000_000 * 1_000_000)
}

/// Go's `strings.Title`.
fn title(s: &str) -> String {
    let sep = |c: char| -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if sep(prev) {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The path of a URL (`http://h:9090/prom` → `/prom`).
fn url_path(url: &str) -> String {
    let rest = match url.split_once("://") {
        Some((_, r)) => r,
        None => return url.split(['?', '#']).next().unwrap_or("").to_string(),
    };
    match rest.find('/') {
        Some(i) => rest[i..].split(['?', '#']).next().unwrap_or("").to_string(),
        None => String::new(),
    }
}

/// Go's `net.SplitHostPort`.
fn split_host_port(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        if port.contains(':') {
            return None;
        }
        return Some((host.to_string(), port.to_string()));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn strip_domain(s: &str) -> String {
    let (host, port) = split_host_port(s).unwrap_or_else(|| (s.to_string(), String::new()));
    if is_ip(&host) {
        return s.to_string();
    }
    let host = host.split('.').next().unwrap_or("").to_string();
    if port.is_empty() {
        host
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_humanize_outputs() {
        // Outputs as Prometheus' template_test.go expects them.
        let h = |v: f64| humanize(v).expect("humanize");
        assert_eq!(h(1234567.0), "1.235M");
        assert_eq!(h(0.0), "0");
        assert_eq!(h(12.0), "12");
        assert_eq!(h(1234.0), "1.234k");
        assert_eq!(h(0.1234), "123.4m");
        assert_eq!(h(0.000001234), "1.234u");
        assert_eq!(h(-1234567.0), "-1.235M");
        assert_eq!(h(f64::INFINITY), "+Inf");
        assert_eq!(h(1e30), "1e+06Y");
        assert_eq!(humanize1024(1024.0), "1ki");
        assert_eq!(humanize1024(1048576.0 * 1.5), "1.5Mi");
        assert_eq!(humanize1024(0.5), "0.5");
        assert_eq!(humanize_duration(3661.0), "1h 1m 1s");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(humanize_duration(1.0), "1s");
        assert_eq!(humanize_duration(60.0), "1m 0s");
        assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(0.0015), "1.5ms");
        assert_eq!(humanize_duration(12.345678), "12.35s");
        assert_eq!(humanize_duration(-3661.0), "-1h 1m 1s");
        assert_eq!(humanize_duration(0.000_000_123), "123ns");
    }

    #[test]
    fn strings_and_hosts() {
        assert_eq!(title("foo bar-baz_qux"), "Foo Bar-Baz_qux");
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(split_host_port("h:80"), Some(("h".into(), "80".into())));
        assert_eq!(
            split_host_port("[::1]:80"),
            Some(("::1".into(), "80".into()))
        );
        assert_eq!(split_host_port("h"), None);
        assert_eq!(strip_domain("node.example.com:9100"), "node:9100");
        assert_eq!(strip_domain("node.example.com"), "node");
        assert_eq!(strip_domain("10.0.0.1:9100"), "10.0.0.1:9100");
        assert_eq!(url_path("http://host:9090/prom/x?q=1"), "/prom/x");
        assert_eq!(url_path("http://host:9090"), "");
        assert_eq!(parse_go_float("1e3"), Some(1000.0));
        assert_eq!(parse_go_float("x"), None);
    }
}

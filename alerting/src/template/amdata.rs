//! Fields and methods of Alertmanager's notification data types as templates reach them:
//! `template.Alerts.Firing`, `template.KV.SortedPairs`/`Names`/`Values`/`Remove`,
//! `template.Pairs.Names`/`Values`, `time.Time.Format`/`Add`/`Local`/`UTC`/`Unix`….

use std::collections::BTreeMap;
use std::rc::Rc;

use argus_core::tz::{civil_from_days, days_from_civil, Zone};

use super::timefmt::ZonedTime;
use super::value::{sorted_pairs, ListKind, Value};

fn strings<'a>(it: impl Iterator<Item = &'a str>) -> Value {
    Value::List(
        ListKind::Strings,
        Rc::new(it.map(|s| Value::Str(s.to_string())).collect()),
    )
}

/// A `template.Pair`.
pub fn pair(name: &str, value: &str) -> Value {
    Value::Struct(
        "template.Pair",
        Rc::new(vec![
            ("Name", Value::Str(name.to_string())),
            ("Value", Value::Str(value.to_string())),
        ]),
    )
}

fn struct_field<'a>(fields: &'a [(&'static str, Value)], name: &str) -> Option<&'a Value> {
    fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn missing_args(name: &str, want: usize) -> Result<Value, String> {
    Err(format!(
        "wrong number of args for {name}: want {want} got 0"
    ))
}

/// `.name` of a value of one of these types (with `missingkey=zero` for `KV`).
pub fn field(v: &Value, name: &str) -> Result<Value, String> {
    let no_field = || {
        Err(format!(
            "can't evaluate field {name} in type {}",
            v.type_name()
        ))
    };
    match v {
        Value::Struct(_, fields) => match struct_field(fields, name) {
            Some(x) => Ok(x.clone()),
            None => no_field(),
        },
        Value::List(ListKind::Alerts, alerts) if name == "Firing" || name == "Resolved" => {
            let want = if name == "Firing" {
                "firing"
            } else {
                "resolved"
            };
            let sel = alerts
                .iter()
                .filter(|a| match a {
                    Value::Struct(_, f) => {
                        matches!(struct_field(f, "Status"), Some(Value::Str(s)) if s == want)
                    }
                    _ => false,
                })
                .cloned()
                .collect();
            Ok(Value::List(ListKind::AlertSlice, Rc::new(sel)))
        }
        Value::List(ListKind::Pairs, pairs) if name == "Names" || name == "Values" => {
            let idx = usize::from(name == "Values");
            Ok(Value::List(
                ListKind::Strings,
                Rc::new(
                    pairs
                        .iter()
                        .map(|p| match p {
                            Value::Struct(_, f) => f.get(idx).map(|x| x.1.clone()),
                            _ => None,
                        })
                        .map(|x| x.unwrap_or(Value::Str(String::new())))
                        .collect(),
                ),
            ))
        }
        Value::List(ListKind::Pairs, _) if name == "String" => Ok(Value::Str(v.sprint())),
        Value::List(..) => no_field(),
        Value::Kv(m) => Ok(match name {
            "SortedPairs" => Value::List(
                ListKind::Pairs,
                Rc::new(
                    sorted_pairs(m)
                        .into_iter()
                        .map(|(k, v)| pair(k, v))
                        .collect(),
                ),
            ),
            "Names" => strings(sorted_pairs(m).into_iter().map(|p| p.0)),
            "Values" => strings(sorted_pairs(m).into_iter().map(|p| p.1)),
            "String" => Value::Str(v.sprint()),
            "Remove" => return missing_args(name, 1),
            _ => Value::Str(m.get(name).cloned().unwrap_or_default()),
        }),
        Value::ZonedTime(t) => time_field(t, name).unwrap_or_else(no_field),
        _ => no_field(),
    }
}

fn time_field(t: &ZonedTime, name: &str) -> Option<Result<Value, String>> {
    let ns = i64::try_from(i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos));
    let (off, _) = t.zone.offset_at(t.secs);
    let local = t.secs + i64::from(off);
    let (y, _, d) = civil_from_days(local.div_euclid(86400));
    let sod = local.rem_euclid(86400);
    Some(Ok(match name {
        "Unix" => Value::Int(t.secs),
        "UnixMilli" => Value::Int(t.secs.saturating_mul(1000) + i64::from(t.nanos / 1_000_000)),
        "UnixNano" => Value::Int(ns.unwrap_or(i64::MIN)),
        "UTC" => Value::ZonedTime(Rc::new(t.in_zone(Zone::utc()))),
        "Local" => Value::ZonedTime(Rc::new(t.in_zone(t.local.clone()))),
        "String" => Value::Str(t.string()),
        "IsZero" => Value::Bool(t.is_zero()),
        "Year" => Value::Int(y),
        "Day" => Value::Int(i64::from(d)),
        "Hour" => Value::Int(sod / 3600),
        "Minute" => Value::Int(sod % 3600 / 60),
        "Second" => Value::Int(sod % 60),
        "Nanosecond" => Value::Int(i64::from(t.nanos)),
        "YearDay" => Value::Int(local.div_euclid(86400) - days_from_civil(y, 1, 1) + 1),
        // time.Month prints as its name.
        "Month" => Value::Str(t.format("January")),
        "Format" => return Some(missing_args(name, 1)),
        "Add" => return Some(missing_args(name, 1)),
        _ => return None,
    }))
}

/// Whether `recv.name` is a method taking arguments.
pub fn has_method(recv: &Value, name: &str) -> bool {
    matches!(
        (recv, name),
        (Value::Kv(_), "Remove") | (Value::ZonedTime(_), "Format" | "Add")
    )
}

/// Calls a method that takes arguments (see [`has_method`]).
pub fn method(recv: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
    if args.len() != 1 {
        return Err(format!(
            "wrong number of args for {name}: want 1 got {}",
            args.len()
        ));
    }
    let arg = &args[0];
    match (recv, name) {
        (Value::Kv(m), "Remove") => {
            let Value::List(ListKind::Strings, keys) = arg else {
                return Err(format!(
                    "wrong type for value; expected []string; got {}",
                    arg.type_name()
                ));
            };
            let keys: Vec<&str> = keys
                .iter()
                .filter_map(|k| match k {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            let rest: BTreeMap<String, String> = m
                .iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Value::Kv(Rc::new(rest)))
        }
        (Value::ZonedTime(t), "Format") => match arg {
            Value::Str(layout) => Ok(Value::Str(t.format(layout))),
            other => Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            )),
        },
        (Value::ZonedTime(t), "Add") => {
            let ns = match arg {
                Value::Int(i) => *i,
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => *f as i64,
                other => {
                    return Err(format!(
                        "wrong type for value; expected time.Duration; got {}",
                        other.type_name()
                    ))
                }
            };
            Ok(Value::ZonedTime(Rc::new(t.add_ns(ns))))
        }
        _ => Err(format!(
            "can't evaluate field {name} in type {}",
            recv.type_name()
        )),
    }
}

fn is_go_builtin(name: &str) -> bool {
    matches!(
        name,
        "and"
            | "or"
            | "not"
            | "len"
            | "index"
            | "slice"
            | "print"
            | "println"
            | "printf"
            | "html"
            | "js"
            | "urlquery"
            | "eq"
            | "ne"
            | "lt"
            | "le"
            | "gt"
            | "ge"
            | "call"
    )
}

/// Whether Alertmanager's notification templates know function `name` (its
/// `DefaultFuncs`, with `date`, `tz` and `humanizeDuration` of Alertmanager 0.27).
pub fn in_alertmanager(name: &str) -> bool {
    is_go_builtin(name)
        || matches!(
            name,
            "toUpper"
                | "toLower"
                | "title"
                | "trimSpace"
                | "join"
                | "match"
                | "safeHtml"
                | "reReplaceAll"
                | "stringSlice"
                | "date"
                | "tz"
                | "humanizeDuration"
        )
}

fn s(v: &Value) -> &str {
    match v {
        Value::Str(s) | Value::Html(s) => s,
        _ => "",
    }
}

/// Calls one of Alertmanager's own functions (`trimSpace`, `stringSlice`, `join`, `date`,
/// `tz`), arguments already checked against their signatures.
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let a0 = args.first().unwrap_or(&Value::Missing);
    let a1 = args.get(1).unwrap_or(&Value::Missing);
    match name {
        "trimSpace" => Ok(Value::Str(s(a0).trim().to_string())),
        "stringSlice" => Ok(Value::List(ListKind::Strings, Rc::new(args.to_vec()))),
        "join" => match a1 {
            Value::List(ListKind::Strings, v) => {
                let parts: Vec<&str> = v.iter().map(s).collect();
                Ok(Value::Str(parts.join(s(a0))))
            }
            other => Err(format!(
                "wrong type for value; expected []string; got {}",
                other.type_name()
            )),
        },
        "date" => match a1 {
            Value::ZonedTime(t) => Ok(Value::Str(t.format(s(a0)))),
            other => Err(format!(
                "wrong type for value; expected time.Time; got {}",
                other.type_name()
            )),
        },
        "tz" => match a1 {
            Value::ZonedTime(t) => {
                let z = Zone::load(s(a0)).map_err(|e| e.to_string())?;
                Ok(Value::ZonedTime(Rc::new(t.in_zone(z))))
            }
            other => Err(format!(
                "wrong type for value; expected time.Time; got {}",
                other.type_name()
            )),
        },
        _ => Err(format!("function {name:?} not defined")),
    }
}

//! The values a template works on, standing for the Go types Prometheus hands its templates
//! (`map[string]string` labels, `float64` values, `[]*sample` query results, …), with Go's
//! truth, type names and `fmt.Sprint` printing.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::timefmt::ZonedTime;
use crate::gofmt;

/// One sample of a `query` result (Go's `*template.sample`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The data of an alert template (`.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertData {
    pub labels: BTreeMap<String, String>,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    pub value: f64,
}

/// A template value.
#[derive(Debug, Clone)]
pub enum Value {
    /// No value: an untyped `nil` or an empty interface (prints `<no value>`).
    Missing,
    /// A nil `*sample` (prints `<nil>`).
    NilSample,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// `safeHtml`'s result (Go's `html/template.HTML`).
    Html(String),
    /// `map[string]string`: labels.
    StrMap(Rc<BTreeMap<String, String>>),
    /// `map[string]interface{}`: the result of `args`.
    AnyMap(Rc<BTreeMap<String, Value>>),
    /// A query result (`[]*sample`).
    Samples(Rc<Vec<Sample>>),
    Sample(Rc<Sample>),
    /// `*time.Time`, nanoseconds since the epoch (UTC).
    Time(i64),
    /// The alert template's data struct.
    Data(Rc<AlertData>),
    /// A slice of Alertmanager's notification data (see [`ListKind`]).
    List(ListKind, Rc<Vec<Value>>),
    /// Alertmanager's `template.KV` (labels, annotations): a `map[string]string` with the
    /// methods `SortedPairs`, `Names`, `Values`, `Remove` and `String`.
    Kv(Rc<BTreeMap<String, String>>),
    /// A struct of Alertmanager's notification data (`*template.Data`, `template.Alert`,
    /// `template.Pair`): its Go type name and its fields in declaration order.
    Struct(&'static str, Rc<Vec<(&'static str, Value)>>),
    /// Alertmanager's `time.Time` (`.StartsAt`, `.EndsAt`), with a location.
    ZonedTime(Rc<ZonedTime>),
}

/// The Go type of a [`Value::List`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `template.Alerts` (`.Alerts`, with the methods `Firing` and `Resolved`).
    Alerts,
    /// `[]template.Alert` (what `Firing` and `Resolved` return).
    AlertSlice,
    /// `template.Pairs` (with `Names`, `Values` and `String`).
    Pairs,
    /// `[]string`.
    Strings,
}

/// `KV.SortedPairs`: `alertname` first, then the others by name.
pub fn sorted_pairs(kv: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(kv.len());
    if let Some(v) = kv.get("alertname") {
        out.push(("alertname", v));
    }
    out.extend(
        kv.iter()
            .filter(|(k, _)| *k != "alertname")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    out
}

/// `KV.String()` / `Pairs.String()`: `name=value, name=value`.
fn pairs_string<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = pairs.map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(", ")
}

impl Value {
    /// Go's type name, as error messages print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Missing => "<nil>",
            Value::NilSample | Value::Sample(_) => "*template.sample",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Html(_) => "template.HTML",
            Value::StrMap(_) => "map[string]string",
            Value::AnyMap(_) => "map[string]interface {}",
            Value::Samples(_) => "template.queryResult",
            Value::Time(_) => "*time.Time",
            Value::Data(_) => {
                "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }"
            }
            Value::List(k, _) => match k {
                ListKind::Alerts => "template.Alerts",
                ListKind::AlertSlice => "[]template.Alert",
                ListKind::Pairs => "template.Pairs",
                ListKind::Strings => "[]string",
            },
            Value::Kv(_) => "template.KV",
            Value::Struct(name, _) => name,
            Value::ZonedTime(_) => "time.Time",
        }
    }

    /// Go's `template.IsTrue`.
    pub fn truth(&self) -> bool {
        match self {
            Value::Missing | Value::NilSample => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) | Value::Html(s) => !s.is_empty(),
            Value::StrMap(m) => !m.is_empty(),
            Value::AnyMap(m) => !m.is_empty(),
            Value::Samples(v) => !v.is_empty(),
            Value::List(_, v) => !v.is_empty(),
            Value::Kv(m) => !m.is_empty(),
            Value::Sample(_)
            | Value::Time(_)
            | Value::Data(_)
            | Value::Struct(..)
            | Value::ZonedTime(_) => true,
        }
    }

    /// How an action (`{{ x }}`) prints the value: `<no value>` for no value, pointers
    /// followed (text/template's `printValue`).
    pub fn sprint(&self) -> String {
        match self {
            Value::Sample(s) => sample_string(s)[1..].to_string(),
            _ => self.print(true),
        }
    }

    /// `fmt.Sprint(v)` / `%v` of a function argument (`<nil>` for no value).
    pub fn fmt_v(&self) -> String {
        self.print(false)
    }

    fn print(&self, top: bool) -> String {
        match self {
            Value::Missing => {
                if top {
                    "<no value>".into()
                } else {
                    "<nil>".into()
                }
            }
            Value::NilSample => "<nil>".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => gofmt::format_v(*f),
            Value::Str(s) | Value::Html(s) => s.clone(),
            Value::StrMap(m) => {
                let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", parts.join(" "))
            }
            Value::AnyMap(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.print(false)))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
            Value::Samples(v) => {
                let parts: Vec<String> = v.iter().map(sample_string).collect();
                format!("[{}]", parts.join(" "))
            }
            Value::Sample(s) => sample_string(s),
            Value::Time(ns) => time_string(*ns),
            Value::Data(d) => format!(
                "{{{} {} {} {}}}",
                Value::StrMap(Rc::new(d.labels.clone())).print(false),
                Value::StrMap(Rc::new(d.external_labels.clone())).print(false),
                d.external_url,
                gofmt::format_v(d.value)
            ),
            Value::List(ListKind::Pairs, v) => pairs_string(v.iter().filter_map(pair_of)),
            Value::List(_, v) => {
                let parts: Vec<String> = v.iter().map(|x| x.print(false)).collect();
                format!("[{}]", parts.join(" "))
            }
            Value::Kv(m) => pairs_string(sorted_pairs(m).into_iter()),
            Value::Struct(_, fields) => {
                let parts: Vec<String> = fields.iter().map(|(_, x)| x.print(false)).collect();
                format!("{{{}}}", parts.join(" "))
            }
            Value::ZonedTime(t) => t.string(),
        }
    }
}

/// The name and value of a `template.Pair`.
fn pair_of(v: &Value) -> Option<(&str, &str)> {
    let Value::Struct(_, f) = v else {
        return None;
    };
    let get = |n: &str| {
        f.iter().find(|(k, _)| *k == n).and_then(|(_, x)| match x {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
    };
    Some((get("Name")?, get("Value")?))
}

fn sample_string(s: &Sample) -> String {
    format!(
        "&{{{} {}}}",
        Value::StrMap(Rc::new(s.labels.clone())).print(false),
        gofmt::format_v(s.value)
    )
}

/// Go's `time.Time.String()` of a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`.
pub fn time_string(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let base = chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| format!("{secs}s"));
    let frac = if nanos == 0 {
        String::new()
    } else {
        let f = format!(".{nanos:09}");
        f.trim_end_matches('0').to_string()
    };
    format!("{base}{frac} +0000 UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_printing() {
        let m: BTreeMap<String, String> =
            [("b".to_string(), "2".to_string()), ("a".into(), "1".into())]
                .into_iter()
                .collect();
        assert_eq!(Value::StrMap(Rc::new(m)).sprint(), "map[a:1 b:2]");
        assert_eq!(Value::Float(1e6).sprint(), "1e+06");
        assert_eq!(Value::Missing.sprint(), "<no value>");
        assert_eq!(
            time_string(1_234_000_000),
            "1970-01-01 00:00:01.234 +0000 UTC"
        );
        assert_eq!(time_string(0), "1970-01-01 00:00:00 +0000 UTC");
    }
}

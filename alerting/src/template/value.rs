//! The values a template works on, standing for the Go types Prometheus hands its templates
//! (`map[string]string` labels, `float64` values, `[]*sample` query results, …), with Go's
//! truth, type names and `fmt.Sprint` printing.

use std::collections::BTreeMap;
use std::rc::Rc;

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
            Value::Sample(_) | Value::Time(_) | Value::Data(_) => true,
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
        }
    }
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

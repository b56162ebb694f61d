//! Query results and their rendering as Prometheus' HTTP API `data` object.

use argus_core::series::{Labels, SeriesData};
use serde_json::{json, Map, Number};

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar at the evaluation time.
    Scalar { t: i64, v: f64 },
    /// A string literal at the evaluation time.
    String { t: i64, v: String },
    /// An instant vector: one sample per series at the evaluation time.
    Vector(Vec<VectorSample>),
    /// A range vector (instant query of a range selector or subquery) or the result of a
    /// range query: series with their points, oldest first.
    Matrix(Vec<SeriesData>),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// The series' labels (without `__name__` where an operation dropped it).
    pub labels: Labels,
    /// Evaluation time, ms since the epoch.
    pub t: i64,
    /// The sample value.
    pub v: f64,
}

impl Value {
    /// The value's type as the HTTP API names it: `scalar`, `string`, `vector`, `matrix`.
    pub fn result_type(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }

    /// Prometheus HTTP API `data` object: `{"resultType": "...", "result": ...}` with
    /// values as strings (`NaN`, `+Inf`, `-Inf`, Go's `strconv.FormatFloat(v, 'f', -1, 64)`)
    /// and timestamps as seconds with millisecond precision.
    pub fn to_api_json(&self) -> serde_json::Value {
        let result = match self {
            Value::Scalar { t, v } => json!([api_time(*t), format_value(*v)]),
            Value::String { t, v } => json!([api_time(*t), v]),
            Value::Vector(samples) => serde_json::Value::Array(
                samples
                    .iter()
                    .map(|s| {
                        json!({
                            "metric": labels_json(&s.labels),
                            "value": [api_time(s.t), format_value(s.v)],
                        })
                    })
                    .collect(),
            ),
            Value::Matrix(series) => serde_json::Value::Array(
                series
                    .iter()
                    .map(|s| {
                        let values: Vec<serde_json::Value> = s
                            .samples
                            .iter()
                            .map(|p| json!([api_time(p.t), format_value(p.v)]))
                            .collect();
                        json!({ "metric": labels_json(&s.labels), "values": values })
                    })
                    .collect(),
            ),
        };
        json!({ "resultType": self.result_type(), "result": result })
    }
}

impl Value {
    /// The whole HTTP API success body (`{"status":"success","data":{…}}`), written
    /// straight into a string: the same content as [`Value::to_api_json`] without building a
    /// JSON tree first (large results are several times faster).
    pub fn write_api_response(&self, out: &mut String) {
        out.push_str("{\"status\":\"success\",\"data\":{\"resultType\":\"");
        out.push_str(self.result_type());
        out.push_str("\",\"result\":");
        match self {
            Value::Scalar { t, v } => write_point(out, *t, *v),
            Value::String { t, v } => {
                out.push('[');
                write_time(out, *t);
                out.push(',');
                write_str(out, v);
                out.push(']');
            }
            Value::Vector(samples) => {
                out.push('[');
                for (i, s) in samples.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"metric\":");
                    write_labels(out, &s.labels);
                    out.push_str(",\"value\":");
                    write_point(out, s.t, s.v);
                    out.push('}');
                }
                out.push(']');
            }
            Value::Matrix(series) => {
                out.push('[');
                for (i, s) in series.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"metric\":");
                    write_labels(out, &s.labels);
                    out.push_str(",\"values\":[");
                    for (j, p) in s.samples.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        write_point(out, p.t, p.v);
                    }
                    out.push_str("]}");
                }
                out.push(']');
            }
        }
        out.push_str("}}");
    }
}

fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_time(out, t);
    out.push_str(",\"");
    out.push_str(&format_value(v));
    out.push_str("\"]");
}

fn write_time(out: &mut String, t_ms: i64) {
    use std::fmt::Write as _;
    if t_ms % 1000 == 0 {
        let _ = write!(out, "{}", t_ms / 1000);
    } else {
        let _ = write!(out, "{}", t_ms as f64 / 1000.0);
    }
}

fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

/// A JSON string literal, escaped as serde_json escapes.
fn write_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn labels_json(labels: &Labels) -> serde_json::Value {
    let mut m = Map::new();
    for l in labels {
        m.insert(l.name.clone(), serde_json::Value::String(l.value.clone()));
    }
    serde_json::Value::Object(m)
}

/// Seconds as a JSON number: an integer when whole, else with millisecond precision.
fn api_time(t_ms: i64) -> serde_json::Value {
    if t_ms % 1000 == 0 {
        serde_json::Value::Number(Number::from(t_ms / 1000))
    } else {
        Number::from_f64(t_ms as f64 / 1000.0)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// A float as Prometheus prints sample values: `NaN`, `+Inf`, `-Inf`, else Go's
/// `strconv.FormatFloat(v, 'f', -1, 64)` (shortest round-trip digits, no exponent), which
/// Rust's `Display` for `f64` matches.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::Sample;

    #[test]
    fn api_json_formats_values_and_times() {
        let v = Value::Vector(vec![VectorSample {
            labels: Labels::new([("__name__", "up"), ("job", "a")]),
            t: 1_700_000_000_500,
            v: f64::INFINITY,
        }]);
        assert_eq!(
            v.to_api_json().to_string(),
            r#"{"result":[{"metric":{"__name__":"up","job":"a"},"value":[1700000000.5,"+Inf"]}],"resultType":"vector"}"#
        );
        let m = Value::Matrix(vec![SeriesData {
            labels: Labels::default(),
            samples: vec![Sample { t: 1000, v: 0.1 }, Sample { t: 2000, v: 1e21 }],
        }]);
        assert_eq!(
            m.to_api_json()["result"][0]["values"].to_string(),
            r#"[[1,"0.1"],[2,"1000000000000000000000"]]"#
        );
        // The direct writer gives the same JSON as the tree.
        for val in [&v, &m] {
            let mut body = String::new();
            val.write_api_response(&mut body);
            let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
            assert_eq!(parsed["data"], val.to_api_json());
            assert_eq!(parsed["status"], "success");
        }
        let odd = Value::Vector(vec![VectorSample {
            labels: Labels::new([("a", "q\"\\\n\u{1}é")]),
            t: -1500,
            v: -0.0,
        }]);
        let mut body = String::new();
        odd.write_api_response(&mut body);
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(parsed["data"], odd.to_api_json());
        let s = Value::Scalar { t: 0, v: -0.0 };
        assert_eq!(s.to_api_json()["result"][1], "-0");
        assert_eq!(format_value(1e-7), "0.0000001");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}

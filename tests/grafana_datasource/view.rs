//! What Grafana reads from an answer, and the comparison of argus' answers with
//! Prometheus'.

use std::io::Read as _;

use serde_json::{json, Map, Value};

use super::request::{Expect, Kind, Mode, Req};
use crate::common::{request, Resp};

/// A response header's value (`""` when absent).
fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map_or("", |(_, v)| v.trim())
}

/// The body as Grafana's HTTP client sees it (Go's transport undoes gzip).
fn body(r: &Resp) -> Vec<u8> {
    if header(r, "content-encoding").eq_ignore_ascii_case("gzip") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&r.body[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        r.body.clone()
    }
}

/// The elements of an array (none for anything else).
fn arr(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// A timestamp as `converter/prom.go` `timeFromFloat` reads it: milliseconds.
fn time_ms(t: &Value) -> Value {
    match t.as_f64() {
        Some(f) => json!((f * 1000.0) as i64),
        None => json!({ "not a number": t }),
    }
}

/// A sample value: a string parsed as a float (non-finite ones kept as strings, which
/// JSON numbers cannot hold).
fn sample(v: &Value) -> Value {
    let Some(s) = v.as_str() else {
        return json!({ "not a string": v });
    };
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => json!(f),
        Ok(f) if f.is_nan() => json!("NaN"),
        Ok(f) => json!(if f > 0.0 { "+Inf" } else { "-Inf" }),
        Err(_) => json!({ "unparsable": s }),
    }
}

/// A `[time, "value"]` pair.
fn point(p: &Value) -> Value {
    json!([time_ms(&p[0]), sample(&p[1])])
}

/// `data` of a query: the result type and, in the answer's order (frames, legends and
/// table rows follow it), each series' labels and points.
fn query_view(d: &Value) -> Value {
    let rt = d["resultType"].as_str().unwrap_or("").to_string();
    let r = &d["result"];
    let result = match rt.as_str() {
        "matrix" => Value::Array(
            arr(r)
                .iter()
                .map(|s| {
                    let values: Vec<Value> = arr(&s["values"]).iter().map(point).collect();
                    json!({"metric": s["metric"], "values": values})
                })
                .collect(),
        ),
        "vector" => Value::Array(
            arr(r)
                .iter()
                .map(|s| json!({"metric": s["metric"], "value": point(&s["value"])}))
                .collect(),
        ),
        "scalar" => point(r),
        "string" => json!([time_ms(&r[0]), r[1]]),
        _ => r.clone(),
    };
    json!({"resultType": rt, "result": result})
}

/// `data` of `/api/v1/status/buildinfo`. The values are each program's own (argus' version
/// against "2.42.0+ds", Debian's build user and date), so they are not compared; Grafana
/// reads `features` (none: Prometheus, not Mimir), `application` and `version` (a semantic
/// version), and the fields must be there as strings.
fn buildinfo_view(d: &Value) -> Value {
    let o = d.as_object().cloned().unwrap_or_default();
    let mut keys: Vec<&String> = o.keys().collect();
    keys.sort();
    let strings = o.values().all(Value::is_string);
    let version = d["version"].as_str().unwrap_or("");
    let semver = version.split(['+', '-']).next().is_some_and(|v| {
        v.split('.').count() == 3 && v.split('.').all(|x| x.parse::<u64>().is_ok())
    });
    json!({"keys": keys, "all strings": strings, "features": d.get("features"),
           "application": d.get("application"), "version is semver": semver})
}

/// `data` of `/api/v1/rules`, as the data source (`datasource.ts` `loadRules`: recording
/// rules' `name` and `query`) and the alert list (`alerting/unified/api/prometheus.ts`:
/// groups by `file`, rules with their state, health, error and alerts) read it. The
/// evaluation times depend on when each server ran its rounds, so they are left out; the
/// test waits until both have evaluated every rule once.
fn rules_view(d: &Value) -> Value {
    let rule = |r: &Value| {
        let mut o = Map::new();
        for k in [
            "type",
            "name",
            "query",
            "duration",
            "labels",
            "annotations",
            "health",
            "lastError",
            "state",
            "alerts",
        ] {
            o.insert(k.into(), r.get(k).cloned().unwrap_or(Value::Null));
        }
        Value::Object(o)
    };
    Value::Array(
        arr(&d["groups"])
            .iter()
            .map(|g| {
                let rules: Vec<Value> = arr(&g["rules"]).iter().map(rule).collect();
                json!({"name": g["name"], "file": g["file"], "interval": g["interval"],
                       "rules": rules})
            })
            .collect(),
    )
}

/// What Grafana reads from an answer.
fn view(kind: Kind, r: &Resp) -> Value {
    let b = body(r);
    let j: Value = serde_json::from_slice(&b)
        .unwrap_or_else(|_| json!({"not JSON": String::from_utf8_lossy(&b)}));
    let mut v = Map::new();
    v.insert("http status".into(), json!(r.status));
    v.insert(
        "JSON content type".into(),
        json!(header(r, "content-type").starts_with("application/json")),
    );
    v.insert("status".into(), j["status"].clone());
    if j["status"] == "error" {
        v.insert("errorType".into(), j["errorType"].clone());
        // The message is each engine's own wording (argus' parser is not Prometheus'
        // yacc grammar); Grafana shows it as is, so there must be one.
        v.insert(
            "has an error message".into(),
            json!(j["error"].as_str().is_some_and(|s| !s.is_empty())),
        );
        return Value::Object(v);
    }
    if j["status"] != "success" {
        v.insert("body".into(), j);
        return Value::Object(v);
    }
    let d = &j["data"];
    let data = match kind {
        Kind::Query => query_view(d),
        Kind::Strings | Kind::Series | Kind::Metadata | Kind::Exemplars => d.clone(),
        Kind::BuildInfo => buildinfo_view(d),
        Kind::Rules => rules_view(d),
    };
    v.insert("data".into(), data);
    // Shown as notices on the panel (`readWarnings`); absent and empty are the same.
    let w = j.get("warnings").cloned().unwrap_or(json!([]));
    v.insert("warnings".into(), if w.is_null() { json!([]) } else { w });
    Value::Object(v)
}

/// Whether Prometheus' own answer is what the session expects of it.
fn as_expected(expect: Expect, v: &Value) -> bool {
    let ok = v["status"] == "success";
    let d = &v["data"];
    let empty = match d.get("result") {
        Some(r) => r.as_array().is_some_and(Vec::is_empty),
        None => d.as_array().is_some_and(Vec::is_empty) || d.as_object().is_some_and(Map::is_empty),
    };
    match expect {
        Expect::Data => ok && !empty,
        Expect::Empty => ok && empty,
        Expect::Error => v["status"] == "error",
        Expect::Any => true,
    }
}

/// At most 400 characters of `v`, for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s
    }
}

/// Equal within 1e-9 relative: summation order differs between the engines.
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// The first difference between argus' view (`a`) and Prometheus' (`b`).
fn diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        // Integers (timestamps in ms, status codes) exactly, sample values within 1e-9.
        (Value::Number(x), Value::Number(y)) => {
            let same = match (x.as_i64(), y.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
            };
            (!same).then(|| format!("{path}: argus {x} / prometheus {y}"))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                let (n, m) = (x.len(), y.len());
                return Some(format!(
                    "{path}: argus has {n} elements, prometheus {m}\n    \
                     argus:      {}\n    prometheus: {}",
                    short(a),
                    short(b)
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| diff(p, q, &format!("{path}[{i}]")))
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(p1), Some(q1)) => diff(p1, q1, &p),
                    (Some(p1), None) => Some(format!("{p}: only argus has it: {}", short(p1))),
                    (None, Some(q1)) => Some(format!("{p}: only prometheus has it: {}", short(q1))),
                    (None, None) => None,
                }
            })
        }
        _ => (a != b).then(|| format!("{path}: argus {} / prometheus {}", short(a), short(b))),
    }
}

/// Sends each request to both servers and returns the differences.
pub fn replay(mode: Mode, reqs: &[Req], argus: &str, prom: &str) -> Vec<String> {
    let mut out = Vec::new();
    for r in reqs {
        let hdrs: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let send = |addr: &str| {
            request(addr, r.method, &r.target, &hdrs, r.body.as_bytes())
                .unwrap_or_else(|| panic!("no answer from {addr} to {} {}", r.method, r.target))
        };
        let (va, vp) = (view(r.kind, &send(argus)), view(r.kind, &send(prom)));
        let line = if r.body.is_empty() {
            format!("{} {}", r.method, r.target)
        } else {
            format!("{} {} body {}", r.method, r.target, r.body)
        };
        if !as_expected(r.expect, &vp) {
            out.push(format!(
                "{} [{mode:?}]: the session expects {:?} of Prometheus, \
                 which answered {}\n  {line}",
                r.what,
                r.expect,
                short(&vp)
            ));
        }
        if let Some(d) = diff(&va, &vp, "") {
            out.push(format!("{} [{mode:?}]\n  {line}\n  {d}", r.what));
        }
    }
    out
}

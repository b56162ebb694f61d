//! The bodies of Prometheus' `GET /api/v1/rules` and `GET /api/v1/alerts`, field for field
//! as Prometheus 2.42 returns them (checked against a running 2.42).

use serde_json::{json, Map, Value};

use crate::eval::{Alert, Group, Rule};
use crate::gofmt;

/// Filters of `/api/v1/rules` (query parameters `type`, `rule_name[]`, `rule_group[]`,
/// `file[]`); empty lists match everything.
#[derive(Debug, Clone, Default)]
pub struct RulesFilter {
    /// `alert` or `record`; anything else (or none) keeps both.
    pub kind: Option<String>,
    pub rule_names: Vec<String>,
    pub rule_groups: Vec<String>,
    pub files: Vec<String>,
}

/// Go's `time.Time` JSON (RFC 3339 with nanoseconds, trailing zeros trimmed, UTC) of a
/// millisecond timestamp; `None` is Go's zero time.
pub fn time_json(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "0001-01-01T00:00:00Z".into();
    };
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let base = chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    if millis == 0 {
        format!("{base}Z")
    } else {
        let f = format!("{millis:03}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    }
}

/// A float as Go's JSON writes it for the common cases (`5`, not `5.0`).
fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

fn map<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

fn alert_json(a: &Alert) -> Value {
    json!({
        "labels": map(a.labels.iter().map(|l| (&l.name, &l.value))),
        "annotations": map(a.annotations.iter()),
        "state": a.state.as_str(),
        "activeAt": time_json(Some(a.active_at)),
        "value": gofmt::format_e(a.value, None, false),
    })
}

fn rule_json(r: &Rule) -> Value {
    let mut o = Map::new();
    match r {
        Rule::Alerting(a) => {
            o.insert("state".into(), a.state().as_str().into());
            o.insert("name".into(), a.name.clone().into());
            o.insert("query".into(), a.query.clone().into());
            o.insert("duration".into(), num(a.hold_ms as f64 / 1000.0));
            o.insert(
                "keepFiringFor".into(),
                num(a.keep_firing_for_ms as f64 / 1000.0),
            );
            o.insert("labels".into(), map(a.labels.iter()));
            o.insert("annotations".into(), map(a.annotations.iter()));
            o.insert(
                "alerts".into(),
                Value::Array(a.active_alerts().map(alert_json).collect()),
            );
        }
        Rule::Recording(rr) => {
            o.insert("name".into(), rr.name.clone().into());
            o.insert("query".into(), rr.query.clone().into());
            if !rr.labels.is_empty() {
                o.insert("labels".into(), map(rr.labels.iter()));
            }
        }
    }
    let st = r.status();
    o.insert("health".into(), st.health.as_str().into());
    if let Some(e) = &st.last_error {
        o.insert("lastError".into(), e.clone().into());
    }
    o.insert("evaluationTime".into(), num(st.eval_seconds));
    o.insert("lastEvaluation".into(), time_json(st.last_eval_ms).into());
    o.insert(
        "type".into(),
        match r {
            Rule::Alerting(_) => "alerting",
            Rule::Recording(_) => "recording",
        }
        .into(),
    );
    Value::Object(o)
}

/// `{"status":"success","data":{"groups":[...]}}`.
pub fn rules_response(groups: &[Group], f: &RulesFilter) -> Value {
    let keep = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
    let out: Vec<Value> = groups
        .iter()
        .filter(|g| keep(&f.rule_groups, &g.name) && keep(&f.files, &g.file))
        .filter_map(|g| {
            let rules: Vec<Value> =
                g.rules
                    .iter()
                    .filter(|r| match (f.kind.as_deref(), r) {
                        (Some("alert"), Rule::Recording(_))
                        | (Some("record"), Rule::Alerting(_)) => false,
                        _ => keep(&f.rule_names, r.name()),
                    })
                    .map(rule_json)
                    .collect();
            // With a rule filter, groups left empty are left out, as Prometheus does.
            if rules.is_empty()
                && (!f.rule_names.is_empty() || f.kind.is_some())
                && !g.rules.is_empty()
            {
                return None;
            }
            Some(json!({
                "name": g.name,
                "file": g.file,
                "rules": rules,
                "interval": num(g.interval_ms as f64 / 1000.0),
                "limit": g.limit,
                "evaluationTime": num(g.eval_seconds),
                "lastEvaluation": time_json(g.last_eval_ms),
            }))
        })
        .collect();
    json!({"status": "success", "data": {"groups": out}})
}

/// `{"status":"success","data":{"alerts":[...]}}`: pending and firing alerts.
pub fn alerts_response(groups: &[Group]) -> Value {
    let alerts: Vec<Value> = groups
        .iter()
        .flat_map(|g| g.alerting_rules())
        .flat_map(|r| r.active_alerts())
        .map(alert_json)
        .collect();
    json!({"status": "success", "data": {"alerts": alerts}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_times() {
        assert_eq!(time_json(None), "0001-01-01T00:00:00Z");
        assert_eq!(
            time_json(Some(1_795_742_539_150)),
            "2026-11-27T01:22:19.15Z"
        );
        assert_eq!(time_json(Some(1_795_742_539_000)), "2026-11-27T01:22:19Z");
    }
}

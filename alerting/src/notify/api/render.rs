//! The JSON shapes of Alertmanager 0.25's v2 API (`gettableAlert`, `alertGroup`,
//! `gettableSilence`, `alertmanagerStatus`, `receiver`), field by field.

use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Map, Value};

use crate::notify::config::Config;
use crate::notify::dispatch::{ApiAlert, ApiGroup};
use crate::notify::silence::Silence;
use argus_core::series::Labels;

/// Go's zero time as strfmt prints it, for an unset time.
const ZERO_TIME: &str = "0001-01-01T00:00:00.000Z";

/// A time as strfmt's `DateTime` prints it: RFC 3339 with milliseconds, UTC
/// (`2026-11-27T03:25:56.061Z`); 0 (unset) is Go's zero time.
pub fn time_string(ms: i64) -> String {
    if ms == 0 {
        return ZERO_TIME.to_string();
    }
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| ZERO_TIME.to_string())
}

fn label_map<'a>(it: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Object(
        it.into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect::<Map<String, Value>>(),
    )
}

/// `labelSet`.
pub fn labels(l: &Labels) -> Value {
    label_map(l.iter().map(|l| (l.name.as_str(), l.value.as_str())))
}

/// `gettableAlert`.
pub fn gettable_alert(a: &ApiAlert) -> Value {
    let mut m = Map::new();
    m.insert(
        "annotations".into(),
        label_map(
            a.alert
                .annotations
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        ),
    );
    m.insert("endsAt".into(), time_string(a.alert.ends_at_ms).into());
    m.insert(
        "fingerprint".into(),
        format!("{:016x}", a.fingerprint).into(),
    );
    m.insert(
        "receivers".into(),
        Value::Array(a.receivers.iter().map(|r| json!({"name": r})).collect()),
    );
    m.insert("startsAt".into(), time_string(a.alert.starts_at_ms).into());
    m.insert(
        "status".into(),
        json!({
            "inhibitedBy": a.status.inhibited_by,
            "silencedBy": a.status.silenced_by,
            "state": a.status.state.as_str(),
        }),
    );
    m.insert(
        "updatedAt".into(),
        time_string(a.alert.updated_at_ms).into(),
    );
    // `generatorURL` is omitted when empty (omitempty).
    if !a.alert.generator_url.is_empty() {
        m.insert("generatorURL".into(), a.alert.generator_url.clone().into());
    }
    m.insert("labels".into(), labels(&a.alert.labels));
    Value::Object(m)
}

/// `gettableAlerts`.
pub fn gettable_alerts(alerts: &[ApiAlert]) -> Value {
    Value::Array(alerts.iter().map(gettable_alert).collect())
}

/// `alertGroups`.
pub fn alert_groups(groups: &[ApiGroup]) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|g| {
                json!({
                    "alerts": gettable_alerts(&g.alerts),
                    "labels": labels(&g.labels),
                    "receiver": {"name": g.receiver},
                })
            })
            .collect(),
    )
}

/// `gettableSilence`, its state at `now_ms`.
pub fn gettable_silence(s: &Silence, now_ms: i64) -> Value {
    json!({
        "id": s.id,
        "status": {"state": s.state(now_ms).as_str()},
        "updatedAt": time_string(s.updated_at_ms),
        "comment": s.comment,
        "createdBy": s.created_by,
        "endsAt": time_string(s.ends_at_ms),
        "matchers": s.matchers.iter().map(|m| m.to_api()).collect::<Vec<_>>(),
        "startsAt": time_string(s.starts_at_ms),
    })
}

/// What `GET /api/v2/status` says about the build (`versionInfo`) and the start time.
#[derive(Debug, Clone, Default)]
pub struct StatusInfo {
    /// argus' version (`versionInfo.version`).
    pub version: String,
    /// The commit it was built from.
    pub revision: String,
    /// The branch it was built from.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When it was built.
    pub build_date: String,
    /// Alertmanager reports its Go version; argus puts its compiler's here.
    pub go_version: String,
    /// When the process started (`uptime` is this time, as in Alertmanager).
    pub started_at_ms: i64,
}

/// `alertmanagerStatus` of a non-clustered Alertmanager.
pub fn status(info: &StatusInfo, config: &Config) -> Value {
    json!({
        "cluster": {"peers": [], "status": "disabled"},
        "config": {"original": config.redacted_yaml()},
        "uptime": time_string(info.started_at_ms),
        "versionInfo": {
            "branch": info.branch,
            "buildDate": info.build_date,
            "buildUser": info.build_user,
            "goVersion": info.go_version,
            "revision": info.revision,
            "version": info.version,
        },
    })
}

/// `GET /api/v2/receivers`: the receivers' names in config order.
pub fn receivers(config: &Config) -> Value {
    Value::Array(
        config
            .receivers
            .iter()
            .map(|r| json!({"name": r.name}))
            .collect(),
    )
}

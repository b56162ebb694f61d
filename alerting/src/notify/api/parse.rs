//! Requests of the v2 API: `postableAlerts` (what Prometheus sends), `postableSilence`
//! (what amtool and the UI send) and the query parameters of the GET endpoints. Errors
//! name the field (`alerts[2].startsAt: …`).

use std::collections::BTreeMap;

use chrono::DateTime;
use regex::Regex;
use serde_json::{Map, Value};

use crate::notify::dispatch::AlertFilter;
use crate::notify::matchers::Matcher;
use crate::notify::silence::Silence;
use crate::notify::Alert;
use argus_core::series::Labels;

/// Go's zero time (`0001-01-01T00:00:00Z`) in ms since the epoch: means "unset".
const GO_ZERO_MS: i64 = -62_135_596_800_000;

/// An RFC 3339 time (fractions optional) in ms; Go's zero time reads as 0 (unset).
pub fn parse_time(s: &str) -> Result<i64, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
    let ms = t.timestamp_millis();
    Ok(if ms == GO_ZERO_MS { 0 } else { ms })
}

fn time_field(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => parse_time(s)
            .map(Some)
            .map_err(|e| format!("{path}.{key}: {e}")),
        Some(_) => Err(format!("{path}.{key}: must be a string")),
    }
}

fn string_map(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<BTreeMap<String, String>>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("{path}.{key}.{k}: must be a string")),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(format!("{path}.{key}: must be an object")),
    }
}

/// `POST /api/v2/alerts`' body: the alerts, times 0 where not given (the dispatcher
/// fills them in). Labels with empty values are dropped (`removeEmptyLabels`).
pub fn postable_alerts(body: &[u8]) -> Result<Vec<Alert>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Array(items) = v else {
        return Err("the body must be a JSON array of alerts".into());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("alerts[{i}]");
            let obj = item
                .as_object()
                .ok_or_else(|| format!("{path}: must be an object"))?;
            let labels = string_map(obj, "labels", &path)?
                .ok_or_else(|| format!("{path}.labels: required"))?;
            let generator_url = match obj.get("generatorURL") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(format!("{path}.generatorURL: must be a string")),
            };
            Ok(Alert {
                labels: Labels::new(labels),
                annotations: string_map(obj, "annotations", &path)?.unwrap_or_default(),
                starts_at_ms: time_field(obj, "startsAt", &path)?.unwrap_or(0),
                ends_at_ms: time_field(obj, "endsAt", &path)?.unwrap_or(0),
                generator_url,
                updated_at_ms: 0,
            })
        })
        .collect()
}

/// Why a `postableSilence` was refused: go-swagger's validation (422, with a code) or a
/// malformed body (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    /// The HTTP status: 422 (validation) or 400 (malformed).
    pub status: u16,
    /// go-swagger's error code (602 required, 612 too few items, 400 parse).
    pub code: u16,
    /// The message, naming the field.
    pub message: String,
}

fn required(field: &str) -> BodyError {
    BodyError {
        status: 422,
        code: 602,
        message: format!("{field} in body is required"),
    }
}

fn malformed(message: String) -> BodyError {
    BodyError {
        status: 400,
        code: 400,
        message: format!("parsing silence body failed: {message}"),
    }
}

/// `POST /api/v2/silences`' body (`id` optional; `matchers`, `startsAt`, `endsAt`,
/// `createdBy`, `comment` required; unknown fields ignored, as go-swagger does).
pub fn postable_silence(body: &[u8]) -> Result<Silence, BodyError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| malformed("the body must be a JSON object".into()))?;
    let string = |k: &str| -> Result<Option<String>, BodyError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(malformed(format!("{k}: must be a string"))),
        }
    };
    let comment = string("comment")?.ok_or_else(|| required("comment"))?;
    let created_by = string("createdBy")?.ok_or_else(|| required("createdBy"))?;
    let ends_at = string("endsAt")?.ok_or_else(|| required("endsAt"))?;
    let raw_matchers = match obj.get("matchers") {
        None | Some(Value::Null) => return Err(required("matchers")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(malformed("matchers: must be an array".into())),
    };
    if raw_matchers.is_empty() {
        return Err(BodyError {
            status: 422,
            code: 612,
            message: "matchers in body should have at least 1 items".into(),
        });
    }
    let starts_at = string("startsAt")?.ok_or_else(|| required("startsAt"))?;
    let mut matchers = Vec::new();
    for (i, m) in raw_matchers.iter().enumerate() {
        matchers.push(api_matcher(m, i)?);
    }
    let time = |k: &str, s: &str| parse_time(s).map_err(|e| malformed(format!("{k}: {e}")));
    Ok(Silence {
        id: string("id")?.unwrap_or_default(),
        matchers,
        starts_at_ms: time("startsAt", &starts_at)?,
        ends_at_ms: time("endsAt", &ends_at)?,
        updated_at_ms: 0,
        created_by,
        comment,
    })
}

/// One `matcher` of a silence; a bad regex is refused with Alertmanager's message.
fn api_matcher(v: &Value, i: usize) -> Result<Matcher, BodyError> {
    let obj = v
        .as_object()
        .ok_or_else(|| malformed(format!("matchers[{i}]: must be an object")))?;
    for k in ["name", "value", "isRegex"] {
        if obj.get(k).is_none_or(Value::is_null) {
            return Err(required(&format!("matchers.{i}.{k}")));
        }
    }
    Matcher::from_api(v).map_err(|e| {
        let value = obj.get("value").and_then(Value::as_str).unwrap_or_default();
        if e.0.starts_with("error parsing regexp") {
            BodyError {
                status: 400,
                code: 400,
                message: format!(
                    "silence invalid: invalid label matcher {i}: invalid regular expression {value:?}: {}",
                    e.0
                ),
            }
        } else {
            malformed(format!("matchers[{i}]: {}", e.0))
        }
    })
}

/// go-openapi's `swag.ConvertBool`: these (any case) are true, anything else false.
fn go_bool(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
    )
}

/// The `filter` parameters (each one matcher, `ParseMatcher`).
pub fn filter_params(query: &[(String, String)]) -> Result<Vec<Matcher>, String> {
    query
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| Matcher::parse(v).map_err(|e| e.0))
        .collect()
}

/// The parameters of `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.
pub fn alert_filter(query: &[(String, String)]) -> Result<AlertFilter, String> {
    let mut f = AlertFilter {
        matchers: filter_params(query)?,
        ..AlertFilter::default()
    };
    for (k, v) in query {
        match k.as_str() {
            "active" => f.active = go_bool(v),
            "silenced" => f.silenced = go_bool(v),
            "inhibited" => f.inhibited = go_bool(v),
            "unprocessed" => f.unprocessed = go_bool(v),
            "receiver" => {
                f.receiver = Some(
                    Regex::new(&format!("^(?:{v})$"))
                        .map_err(|e| format!("failed to parse receiver param: {e}"))?,
                )
            }
            _ => {}
        }
    }
    Ok(f)
}

/// A silence id must be a UUID (`strfmt.UUID`); the answer is go-swagger's message.
pub fn check_silence_id(id: &str) -> Result<(), String> {
    let parts: Vec<&str> = id.split('-').collect();
    let ok = parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(format!("silenceID in path must be of type uuid: {id:?}"))
    }
}

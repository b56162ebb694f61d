//! Alertmanager's notification data (`template.Data`) built from a [`Notification`]: for
//! templates as a [`Value`], for the webhook as JSON the way Go's `encoding/json` writes it.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use argus_core::tz::Zone;

use crate::notify::{Alert, Notification};
use crate::template::{ListKind, Value, ZonedTime};

/// `firing` or `resolved`: an alert is resolved once its end time is set and passed.
pub fn alert_status(a: &Alert, now_ms: i64) -> &'static str {
    if a.resolved_at(now_ms) {
        "resolved"
    } else {
        "firing"
    }
}

/// The end time Alertmanager shows: 0 (Go's zero time) while the alert fires.
pub fn shown_ends_at(a: &Alert, now_ms: i64) -> i64 {
    if a.resolved_at(now_ms) {
        a.ends_at_ms
    } else {
        0
    }
}

/// Go's `regexp.QuoteMeta`, which Alertmanager applies to the receiver name in `.Receiver`
/// (and so in the webhook's `receiver`).
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn kv(m: &BTreeMap<String, String>) -> Value {
    Value::Kv(Rc::new(m.clone()))
}

fn labels_map(l: &argus_core::series::Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

/// One `template.Alert`.
pub fn alert_value(a: &Alert, now_ms: i64, local: &Arc<Zone>) -> Value {
    Value::Struct(
        "template.Alert",
        Rc::new(vec![
            ("Status", Value::Str(alert_status(a, now_ms).into())),
            ("Labels", kv(&labels_map(&a.labels))),
            ("Annotations", kv(&a.annotations)),
            (
                "StartsAt",
                Value::ZonedTime(Rc::new(ZonedTime::from_unix_ms(
                    a.starts_at_ms,
                    local.clone(),
                ))),
            ),
            (
                "EndsAt",
                Value::ZonedTime(Rc::new(ZonedTime::from_unix_ms(
                    shown_ends_at(a, now_ms),
                    local.clone(),
                ))),
            ),
            ("GeneratorURL", Value::Str(a.generator_url.clone())),
            (
                "Fingerprint",
                Value::Str(format!("{:016x}", a.fingerprint())),
            ),
        ]),
    )
}

/// `*template.Data` of `n`, with `.Alerts` limited to `alerts` (all of `n.alerts`, or the
/// first ones when a message is cut to a vendor's size limit). `.Local` of its times is
/// `local`.
pub fn template_data(n: &Notification, alerts: &[Alert], local: &Arc<Zone>) -> Value {
    let list = alerts
        .iter()
        .map(|a| alert_value(a, n.now_ms, local))
        .collect();
    Value::Struct(
        "*template.Data",
        Rc::new(vec![
            ("Receiver", Value::Str(quote_meta(&n.receiver))),
            ("Status", Value::Str(n.status().into())),
            ("Alerts", Value::List(ListKind::Alerts, Rc::new(list))),
            ("GroupLabels", kv(&labels_map(&n.group_labels))),
            ("CommonLabels", kv(&labels_map(&n.common_labels()))),
            ("CommonAnnotations", kv(&n.common_annotations())),
            ("ExternalURL", Value::Str(n.external_url.clone())),
        ]),
    )
}

/// Go's `time.Time` JSON of a UTC instant (RFC 3339 with nanoseconds, trailing zeros
/// trimmed); `0` is the zero time `0001-01-01T00:00:00Z`.
pub fn go_time_json(ms: i64) -> String {
    ZonedTime::from_unix_ms(ms, Zone::utc()).format("2006-01-02T15:04:05.999999999Z07:00")
}

/// A `serde_json` formatter that escapes like Go's `encoding/json`: `<`, `>`, `&`, U+2028
/// and U+2029 as `\u003c`…, so bodies match Alertmanager's byte for byte.
struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// `json.NewEncoder(w).Encode(v)`: Go's escaping and a trailing newline.
pub fn go_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    v.serialize(&mut ser)
        .map_err(|e| format!("cannot encode JSON: {e}"))?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{FuncContext, Template};
    use argus_core::series::Labels;

    fn alert(name: &str, pod: &str, start: i64, end: i64) -> Alert {
        Alert {
            labels: Labels::new([("alertname", name), ("pod", pod), ("severity", "critical")]),
            annotations: [("summary".to_string(), format!("{pod} is down"))].into(),
            starts_at_ms: start,
            ends_at_ms: end,
            generator_url: "http://prom/graph".into(),
            updated_at_ms: start,
        }
    }

    fn notification() -> Notification {
        Notification {
            receiver: "team.a".into(),
            group_key: "{}:{alertname=\"Down\"}".into(),
            group_labels: Labels::new([("alertname", "Down")]),
            alerts: vec![
                alert("Down", "api-1", 1_700_000_000_123, 0),
                alert("Down", "api-2", 1_700_000_000_000, 1_700_000_100_000),
            ],
            external_url: "http://argus:9090".into(),
            now_ms: 1_700_000_200_000,
        }
    }

    fn run(text: &str) -> String {
        let n = notification();
        let zone = Zone::load("+08:00").expect("zone");
        let t = Template::parse_notification("t", text).expect("parse");
        t.execute(
            &template_data(&n, &n.alerts, &zone),
            &FuncContext::default(),
        )
        .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn alertmanager_template_data() {
        assert_eq!(run("{{ .Receiver }} {{ .Status }}"), "team\\.a firing");
        assert_eq!(
            run("[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join \" \" }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \" \" }}{{ end }}){{ end }}"),
            "[FIRING:1] Down (critical)"
        );
        assert_eq!(
            run("{{ range .Alerts }}{{ .Status }}:{{ .Labels.pod }}:{{ .Annotations.summary }};{{ end }}"),
            "firing:api-1:api-1 is down;resolved:api-2:api-2 is down;"
        );
        assert_eq!(
            run("{{ range .Alerts.Resolved }}{{ .EndsAt.Local.Format \"15:04\" }} {{ .Fingerprint | len }}{{ end }}"),
            "06:15 16"
        );
        assert_eq!(
            run("{{ (index .Alerts 0).StartsAt }}|{{ (index .Alerts 0).EndsAt.IsZero }}"),
            "2023-11-14 22:13:20.123 +0000 UTC|true"
        );
        assert_eq!(
            run("{{ (index .Alerts 0).StartsAt | tz \"+05:30\" | date \"15:04 MST\" }}"),
            "03:43 +0530"
        );
        assert_eq!(
            run("{{ .CommonLabels }} {{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }},{{ end }}"),
            "alertname=Down, severity=critical alertname=Down,severity=critical,"
        );
        assert_eq!(
            run("{{ (.Alerts.Firing | len) }} {{ stringSlice \"a\" \"b\" | join \"-\" }} {{ trimSpace \"  x \" }} {{ len stringSlice }}"),
            "1 a-b x 0"
        );
        assert_eq!(
            run("{{ range $i, $a := .Alerts }}{{ $i }}{{ $a.Labels.pod }}{{ end }}"),
            "0api-11api-2"
        );
        assert_eq!(
            run("{{ (index .Alerts 0).StartsAt.Add 3600e9 | date \"15:04\" }}"),
            "23:13"
        );
    }

    #[test]
    fn notification_templates_have_alertmanager_functions_only() {
        assert!(Template::parse_notification("t", "{{ humanize 1 }}").is_err());
        assert!(Template::parse_notification("t", "{{ query \"up\" }}").is_err());
        assert!(Template::parse("t", "{{ join \",\" .x }}").is_err());
        let t = Template::parse_notification("t", "{{ .Nope }}").expect("parse");
        let n = notification();
        let e = t
            .execute(
                &template_data(&n, &n.alerts, &Zone::utc()),
                &FuncContext::default(),
            )
            .expect_err("no such field");
        assert!(
            e.to_string()
                .contains("can't evaluate field Nope in type *template.Data"),
            "{e}"
        );
    }

    #[test]
    fn go_json_matches_encoding_json() {
        assert_eq!(go_time_json(0), "0001-01-01T00:00:00Z");
        assert_eq!(go_time_json(1_700_000_000_120), "2023-11-14T22:13:20.12Z");
        assert_eq!(go_time_json(1_700_000_000_000), "2023-11-14T22:13:20Z");
        let out = go_json(&serde_json::json!({"a": "<b>&\u{2028}é\n"})).expect("json");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"a\":\"\\u003cb\\u003e\\u0026\\u2028é\\n\"}\n"
        );
        assert_eq!(quote_meta("a.b[c]-d"), "a\\.b\\[c\\]-d");
    }
}

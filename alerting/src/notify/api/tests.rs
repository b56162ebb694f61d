use super::*;
use crate::notify::api::parse::{parse_time, postable_alerts};

// 2026-11-27T03:20:56.061Z
const T0: i64 = 1_795_749_656_061;
const M: i64 = 60_000;

const CONF: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: [severity=critical]
    receiver: crit
receivers: [{name: default}, {name: crit}]
inhibit_rules:
- source_matchers: [severity=critical]
  target_matchers: [severity=warning]
  equal: [alertname]
"#;

fn setup() -> (Config, Dispatcher, Silences) {
    let c = Config::parse(CONF, "am.yml").expect("config");
    let d = Dispatcher::new(&c, T0);
    (c, d, Silences::in_memory())
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn body(r: &ApiResponse) -> Value {
    r.body.clone().unwrap_or(Value::Null)
}

#[test]
fn times_as_strfmt_prints_them() {
    assert_eq!(time_string(T0), "2026-11-27T03:20:56.061Z");
    assert_eq!(time_string(0), "0001-01-01T00:00:00.000Z");
    assert_eq!(parse_time("2026-11-27T03:20:56.061Z"), Ok(T0));
    assert_eq!(parse_time("2026-11-27T04:20:56.061+01:00"), Ok(T0));
    assert_eq!(parse_time("2026-11-27T03:20:56.061123456Z"), Ok(T0));
    assert_eq!(parse_time("0001-01-01T00:00:00Z"), Ok(0));
    assert!(parse_time("bad").is_err());
}

#[test]
fn alerts_round_trip_in_alertmanagers_shape() {
    let (_, mut d, s) = setup();
    let post = br#"[{"labels":{"alertname":"D","env":"dev","a1":"v","a":"w","empty":""},
        "annotations":{"summary":"s"},"generatorURL":"http://prom/graph"}]"#;
    assert_eq!(post_alerts(&mut d, post, T0), ApiResponse::empty(200));
    let r = get_alerts(&d, &s, &[], T0);
    assert_eq!(r.status, 200);
    // Field for field what Alertmanager 0.25 answered for the same alert.
    assert_eq!(
        body(&r),
        json!([{
            "annotations": {"summary": "s"},
            "endsAt": "2026-11-27T03:25:56.061Z",
            "fingerprint": "8826647a0b12a042",
            "receivers": [{"name": "default"}],
            "startsAt": "2026-11-27T03:20:56.061Z",
            "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
            "updatedAt": "2026-11-27T03:20:56.061Z",
            "generatorURL": "http://prom/graph",
            "labels": {"a": "w", "a1": "v", "alertname": "D", "env": "dev"},
        }])
    );
    let g = get_alert_groups(&d, &s, &[], T0);
    assert_eq!(body(&g)[0]["labels"], json!({"alertname": "D"}));
    assert_eq!(body(&g)[0]["receiver"], json!({"name": "default"}));
    assert_eq!(body(&g)[0]["alerts"][0]["fingerprint"], "8826647a0b12a042");
}

#[test]
fn post_alerts_errors() {
    let (_, mut d, _) = setup();
    let r = post_alerts(&mut d, b"{", T0);
    assert_eq!(r.status, 400);
    let r = post_alerts(&mut d, br#"[{"annotations":{}}]"#, T0);
    assert_eq!(body(&r), json!("alerts[0].labels: required"));
    let r = post_alerts(
        &mut d,
        br#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#,
        T0,
    );
    assert!(body(&r)
        .as_str()
        .unwrap_or("")
        .starts_with("alerts[0].startsAt: "));
    let r = post_alerts(&mut d, br#"[{"labels":{"a":1}}]"#, T0);
    assert_eq!(body(&r), json!("alerts[0].labels.a: must be a string"));
    // The valid alert is kept, the invalid ones are reported together.
    let r = post_alerts(
        &mut d,
        br#"[{"labels":{"ok":"1"}},{"labels":{"a-b":"1"}},{"labels":{"x":""}}]"#,
        T0,
    );
    assert_eq!(
        body(&r),
        json!("invalid label set: invalid name \"a-b\"; at least one label pair required")
    );
    assert_eq!(d.alerts().count(), 1);
    let a = postable_alerts(br#"[{"labels":{"a":"b"},"endsAt":"0001-01-01T00:00:00Z"}]"#)
        .expect("parse");
    assert_eq!(a[0].ends_at_ms, 0);
}

#[test]
fn alert_filters() {
    let (_, mut d, s) = setup();
    post_alerts(
        &mut d,
        br#"[{"labels":{"alertname":"X","severity":"critical"}},
             {"labels":{"alertname":"X","severity":"warning"}},
             {"labels":{"alertname":"Y"}}]"#,
        T0,
    );
    let names = |query: &[(&str, &str)]| -> Vec<String> {
        body(&get_alerts(&d, &s, &q(query), T0))
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        format!(
                            "{}/{}",
                            x["labels"]["alertname"].as_str().unwrap_or(""),
                            x["labels"]["severity"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&[]).len(), 3);
    assert_eq!(names(&[("inhibited", "false")]).len(), 2);
    assert_eq!(names(&[("active", "false")]), ["X/warning"]);
    // go-swagger reads unknown words as false.
    assert_eq!(names(&[("active", "maybe")]), ["X/warning"]);
    assert_eq!(names(&[("receiver", "crit")]), ["X/critical"]);
    assert_eq!(names(&[("filter", "alertname=Y")]), ["Y/"]);
    assert_eq!(
        names(&[("filter", "severity=~w.*"), ("filter", "alertname=X")]),
        ["X/warning"]
    );
    let bad = get_alerts(&d, &s, &q(&[("filter", "bad")]), T0);
    assert_eq!(
        (bad.status, body(&bad)),
        (400, json!("bad matcher format: bad"))
    );
    let bad = get_alert_groups(&d, &s, &q(&[("receiver", "(")]), T0);
    assert_eq!(bad.status, 400);
    assert!(body(&bad)
        .as_str()
        .unwrap_or("")
        .starts_with("failed to parse receiver param: "));
    let inhibited = &body(&get_alerts(&d, &s, &q(&[("active", "false")]), T0))[0];
    assert_eq!(inhibited["status"]["state"], "suppressed");
    assert_eq!(
        inhibited["status"]["inhibitedBy"].as_array().map(Vec::len),
        Some(1)
    );
}

fn silence_body(extra: &str, start: i64, end: i64) -> Vec<u8> {
    format!(
        r#"{{"matchers":[{{"name":"alertname","value":"X","isRegex":false}}],"startsAt":"{}","endsAt":"{}","createdBy":"me","comment":"c"{extra}}}"#,
        time_string(start),
        time_string(end)
    )
    .into_bytes()
}

#[test]
fn silences_endpoints() {
    let (_, mut d, mut s) = setup();
    let r = post_silences(&mut s, &silence_body("", T0, T0 + 60 * M), T0);
    assert_eq!(r.status, 200);
    let id = body(&r)["silenceID"].as_str().unwrap_or("").to_string();
    assert!(parse::check_silence_id(&id).is_ok(), "{id}");
    let got = get_silence(&s, &id, T0);
    assert_eq!(
        body(&got),
        json!({
            "id": id,
            "status": {"state": "active"},
            "updatedAt": "2026-11-27T03:20:56.061Z",
            "comment": "c",
            "createdBy": "me",
            "endsAt": "2026-11-27T04:20:56.061Z",
            "matchers": [{"isEqual": true, "isRegex": false, "name": "alertname", "value": "X"}],
            "startsAt": "2026-11-27T03:20:56.061Z",
        })
    );
    // The alert shows as silenced.
    post_alerts(&mut d, br#"[{"labels":{"alertname":"X"}}]"#, T0);
    let a = &body(&get_alerts(&d, &s, &[], T0))[0];
    assert_eq!(a["status"]["silencedBy"], json!([id]));
    assert_eq!(a["status"]["state"], "suppressed");
    // Update in place keeps the id.
    let upd = silence_body(&format!(r#","id":"{id}""#), T0, T0 + 120 * M);
    assert_eq!(
        body(&post_silences(&mut s, &upd, T0 + M))["silenceID"],
        json!(id)
    );
    // Listing with a filter.
    let l = get_silences(&s, &q(&[("filter", "alertname=X")]), T0 + M);
    assert_eq!(body(&l).as_array().map(Vec::len), Some(1));
    let l = get_silences(&s, &q(&[("filter", "alertname=Y")]), T0 + M);
    assert_eq!(body(&l), json!([]));
    // Expire, twice (the second is a no-op success), then it lists as expired.
    assert_eq!(
        delete_silence(&mut s, &id, T0 + 2 * M),
        ApiResponse::empty(200)
    );
    assert_eq!(
        delete_silence(&mut s, &id, T0 + 3 * M),
        ApiResponse::empty(200)
    );
    let l = get_silences(&s, &[], T0 + 3 * M);
    assert_eq!(body(&l)[0]["status"]["state"], "expired");
    let unknown = "11111111-1111-4111-8111-111111111111";
    assert_eq!(get_silence(&s, unknown, T0), ApiResponse::empty(404));
    assert_eq!(delete_silence(&mut s, unknown, T0).status, 404);
    assert_eq!(get_silence(&s, "zzz", T0).status, 422);
}

#[test]
fn silence_errors_as_alertmanager() {
    let mut s = Silences::in_memory();
    let post = |s: &mut Silences, b: &str| {
        let r = post_silences(s, b.as_bytes(), T0);
        (r.status, body(&r))
    };
    let m = r#""matchers":[{"name":"alertname","value":"A","isRegex":false}]"#;
    let times = format!(
        r#""startsAt":"{}","endsAt":"{}""#,
        time_string(T0),
        time_string(T0 + M)
    );
    assert_eq!(
        post(&mut s, &format!(r#"{{{m},{times},"createdBy":"me"}}"#)),
        (
            422,
            json!({"code": 602, "message": "comment in body is required"})
        )
    );
    assert_eq!(
        post(
            &mut s,
            &format!(r#"{{"matchers":[],{times},"createdBy":"me","comment":"c"}}"#)
        ),
        (
            422,
            json!({"code": 612, "message": "matchers in body should have at least 1 items"})
        )
    );
    assert_eq!(
        post(
            &mut s,
            &format!(
                r#"{{"matchers":[{{"name":"a","value":"b"}}],{times},"createdBy":"me","comment":"c"}}"#
            )
        ),
        (
            422,
            json!({"code": 602, "message": "matchers.0.isRegex in body is required"})
        )
    );
    // An empty comment is accepted, as by Alertmanager.
    assert_eq!(
        post(
            &mut s,
            &format!(r#"{{{m},{times},"createdBy":"me","comment":""}}"#)
        )
        .0,
        200
    );
    assert_eq!(
        post(
            &mut s,
            &format!(
                r#"{{"matchers":[{{"name":"a","value":"","isRegex":false}}],{times},"createdBy":"me","comment":"c"}}"#
            )
        ),
        (
            400,
            json!("silence invalid: at least one matcher must not match the empty string")
        )
    );
    assert_eq!(
        post(
            &mut s,
            &format!(
                r#"{{"matchers":[{{"name":"a-b","value":"x","isRegex":false}}],{times},"createdBy":"me","comment":"c"}}"#
            )
        ),
        (
            400,
            json!("silence invalid: invalid label matcher 0: invalid label name \"a-b\"")
        )
    );
    let (st, b) = post(
        &mut s,
        &format!(
            r#"{{"matchers":[{{"name":"a","value":"(","isRegex":true}}],{times},"createdBy":"me","comment":"c"}}"#
        ),
    );
    assert_eq!(st, 400);
    assert!(
        b.as_str().unwrap_or("").starts_with(
            "silence invalid: invalid label matcher 0: invalid regular expression \"(\""
        ),
        "{b}"
    );
    let swapped = format!(
        r#"{{{m},"startsAt":"{}","endsAt":"{}","createdBy":"me","comment":"c"}}"#,
        time_string(T0 + M),
        time_string(T0)
    );
    assert_eq!(
        post(&mut s, &swapped),
        (
            400,
            json!("Failed to create silence: start time must be before end time")
        )
    );
    let past = format!(
        r#"{{{m},"startsAt":"{}","endsAt":"{}","createdBy":"me","comment":"c"}}"#,
        time_string(T0 - 2 * M),
        time_string(T0 - M)
    );
    assert_eq!(
        post(&mut s, &past),
        (
            400,
            json!("Failed to create silence: end time can't be in the past")
        )
    );
    assert_eq!(
        post(
            &mut s,
            &format!(r#"{{"id":"nope",{m},{times},"createdBy":"me","comment":"c"}}"#)
        ),
        (404, json!("silence not found"))
    );
    let (st, b) = post(
        &mut s,
        &format!(
            r#"{{{m},"startsAt":"bad","endsAt":"{}","createdBy":"me","comment":"c"}}"#,
            time_string(T0)
        ),
    );
    assert_eq!(st, 400);
    assert_eq!(b["code"], 400);
    assert_eq!(post(&mut s, "[1]").0, 400);
}

#[test]
fn status_and_receivers() {
    let (c, _, _) = setup();
    let info = StatusInfo {
        version: "0.1.0".into(),
        revision: "abc".into(),
        branch: "main".into(),
        build_user: "ci".into(),
        build_date: "20261127-00:00:00".into(),
        go_version: "rustc 1.88".into(),
        started_at_ms: T0,
    };
    let b = body(&get_status(&info, &c));
    assert_eq!(b["cluster"], json!({"peers": [], "status": "disabled"}));
    assert_eq!(b["uptime"], "2026-11-27T03:20:56.061Z");
    assert_eq!(b["versionInfo"]["version"], "0.1.0");
    assert_eq!(b["versionInfo"]["goVersion"], "rustc 1.88");
    let original = b["config"]["original"].as_str().unwrap_or("");
    assert!(original.contains("receiver: default"), "{original}");
    assert_eq!(
        body(&get_receivers(&c)),
        json!([{"name": "default"}, {"name": "crit"}])
    );
    assert_eq!(ApiResponse::empty(200).body_bytes(), b"");
    assert_eq!(ApiResponse::message(400, "x").body_bytes(), b"\"x\"");
}

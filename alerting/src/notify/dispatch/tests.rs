use super::*;
use crate::notify::matchers::Matcher;
use crate::notify::silence::Silence;
use std::collections::BTreeMap;

const T0: i64 = 1_700_000_000_000;
const S: i64 = 1_000;
const M: i64 = 60_000;

const CONF: &str = r#"
global: {resolve_timeout: 5m}
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  routes:
  - matchers: [severity=critical]
    receiver: pager
    continue: true
  - matchers: [team=db]
    receiver: db
    group_by: ['...']
    group_wait: 10s
    group_interval: 1m
receivers: [{name: default}, {name: pager}, {name: db}]
inhibit_rules:
- source_matchers: [severity=critical]
  target_matchers: [severity=warning]
  equal: [cluster]
"#;

fn config(y: &str) -> Config {
    Config::parse(y, "t.yml").expect("config")
}

fn alert(l: &[(&str, &str)], starts: i64, ends: i64) -> Alert {
    Alert {
        labels: Labels::new(l.iter().copied()),
        annotations: BTreeMap::new(),
        starts_at_ms: starts,
        ends_at_ms: ends,
        generator_url: String::new(),
        updated_at_ms: 0,
    }
}

fn keys(f: &[Flush]) -> Vec<(String, String, usize)> {
    f.iter()
        .map(|f| (f.receiver.clone(), f.group_key.clone(), f.alerts.len()))
        .collect()
}

fn none() -> Silences {
    Silences::in_memory()
}

#[test]
fn put_fills_times_and_validates() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    let errs = d.put(
        vec![
            alert(&[("alertname", "A")], 0, 0),
            alert(&[("alertname", "B")], 0, T0 - M),
            alert(&[("alertname", "C")], T0, T0 - M),
            alert(&[], T0, 0),
            alert(&[("a-b", "x")], T0, 0),
        ],
        T0,
    );
    assert_eq!(
        errs,
        [
            "start time must be before end time",
            "at least one label pair required",
            "invalid label set: invalid name \"a-b\"",
        ]
    );
    let a = d
        .alert(fingerprint(&Labels::new([("alertname", "A")])))
        .expect("A");
    assert_eq!(
        (a.starts_at_ms, a.ends_at_ms, a.updated_at_ms),
        (T0, T0 + 5 * M, T0)
    );
    // Without a start, a resolved alert starts when it ended.
    let b = d
        .alert(fingerprint(&Labels::new([("alertname", "B")])))
        .expect("B");
    assert_eq!((b.starts_at_ms, b.ends_at_ms), (T0 - M, T0 - M));
    let mut bad = alert(&[("alertname", "D")], T0, 0);
    bad.annotations.insert("not ok".into(), "x".into());
    assert_eq!(
        d.put(vec![bad], T0),
        ["invalid annotations: invalid name \"not ok\""]
    );
}

#[test]
fn group_wait_then_group_interval() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(vec![alert(&[("alertname", "A"), ("i", "1")], T0, 0)], T0);
    assert_eq!(d.next_due_ms(), T0 + 30 * S);
    assert!(d.flush(&none(), T0 + 29 * S).is_empty());
    // A second alert joins the group without moving its timer.
    d.put(
        vec![alert(&[("alertname", "A"), ("i", "2")], T0 + 10 * S, 0)],
        T0 + 10 * S,
    );
    let f = d.flush(&none(), T0 + 30 * S);
    assert_eq!(
        keys(&f),
        [("default".into(), "{}:{alertname=\"A\"}".into(), 2)]
    );
    assert_eq!(
        (f[0].group_interval_ms, f[0].repeat_interval_ms),
        (5 * M, 4 * 60 * M)
    );
    // In flight: not flushed again until reported.
    assert!(d.flush(&none(), T0 + 10 * M).is_empty());
    d.delivered(f[0].group, T0 + 31 * S);
    assert_eq!(d.next_due_ms(), T0 + 30 * S + 5 * M);
    // Re-sent (as Prometheus does), so they do not time out.
    d.put(
        vec![
            alert(&[("alertname", "A"), ("i", "1")], T0, 0),
            alert(&[("alertname", "A"), ("i", "2")], T0 + 10 * S, 0),
        ],
        T0 + 4 * M,
    );
    let f = d.flush(&none(), T0 + 30 * S + 5 * M);
    assert_eq!(f.len(), 1);
    // Firing alerts go out without an end time.
    assert!(f[0].alerts.iter().all(|a| a.ends_at_ms == 0));
    assert_eq!(f[0].notification("http://x").status(), "firing");
}

#[test]
fn old_alerts_flush_at_once() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(vec![alert(&[("alertname", "A")], T0 - 31 * S, 0)], T0);
    assert_eq!(d.next_due_ms(), T0);
    assert_eq!(d.flush(&none(), T0).len(), 1);
    // Once flushed, an old alert does not hurry the next flush.
    d.failed(GroupId {
        route: 0,
        labels: fingerprint(&Labels::new([("alertname", "A")])),
    });
    d.put(
        vec![alert(&[("alertname", "A"), ("x", "y")], T0 - M, 0)],
        T0 + S,
    );
    assert_eq!(d.next_due_ms(), T0 + 5 * M);
}

#[test]
fn continue_and_group_by_all_make_several_groups() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(
        vec![alert(
            &[
                ("alertname", "Down"),
                ("severity", "critical"),
                ("team", "db"),
            ],
            T0,
            0,
        )],
        T0,
    );
    assert_eq!(d.group_count(), 2);
    assert_eq!(d.next_due_ms(), T0 + 10 * S);
    let f = d.flush(&none(), T0 + 10 * S);
    assert_eq!(
        keys(&f),
        [(
            "db".into(),
            "{}/{team=\"db\"}:{alertname=\"Down\", severity=\"critical\", team=\"db\"}".into(),
            1
        )]
    );
    let f = d.flush(&none(), T0 + 30 * S);
    assert_eq!(
        keys(&f),
        [(
            "pager".into(),
            "{}/{severity=\"critical\"}:{alertname=\"Down\"}".into(),
            1
        )]
    );
}

#[test]
fn resolved_alerts_leave_after_delivery_unless_updated() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(
        vec![
            alert(&[("alertname", "A"), ("i", "1")], T0, 0),
            alert(&[("alertname", "A"), ("i", "2")], T0, 0),
        ],
        T0,
    );
    let g = d.flush(&none(), T0 + 30 * S)[0].group;
    d.delivered(g, T0 + 30 * S);
    // i=1 resolves explicitly, i=2 times out after resolve_timeout (5m).
    d.put(
        vec![alert(&[("alertname", "A"), ("i", "1")], T0, T0 + M)],
        T0 + M,
    );
    let at = T0 + 30 * S + 5 * M;
    let f = d.flush(&none(), at);
    let resolved: Vec<bool> = f[0].alerts.iter().map(|a| a.resolved_at(at)).collect();
    assert_eq!(resolved, [true, true]);
    assert_eq!(f[0].notification("").status(), "resolved");
    // i=1 is re-sent (firing again) while the notification is out: it stays.
    d.put(
        vec![alert(&[("alertname", "A"), ("i", "1")], at, 0)],
        at + S,
    );
    d.delivered(f[0].group, at + 2 * S);
    let f = d.flush(&none(), at + 5 * M);
    assert_eq!(f[0].alerts.len(), 1);
    assert_eq!(f[0].alerts[0].labels.get("i"), Some("1"));
    // A failed delivery keeps everything.
    d.failed(f[0].group);
    assert_eq!(d.flush(&none(), at + 10 * M)[0].alerts.len(), 1);
}

#[test]
fn empty_groups_are_removed_by_maintenance() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(vec![alert(&[("alertname", "A")], T0, T0 + 20 * S)], T0 + S);
    let f = d.flush(&none(), T0 + 31 * S);
    assert_eq!(f[0].notification("").status(), "resolved");
    d.delivered(f[0].group, T0 + 31 * S);
    assert_eq!(d.group_count(), 1);
    // The group is kept until the next maintenance tick (every 30s from the start).
    assert_eq!(d.next_due_ms(), T0 + 60 * S);
    assert!(d.flush(&none(), T0 + 60 * S).is_empty());
    assert_eq!(d.group_count(), 0);
}

#[test]
fn merge_keeps_the_earliest_start_and_explicit_ends() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    let l = [("alertname", "A")];
    let fp = fingerprint(&Labels::new(l));
    d.put(vec![alert(&l, T0, 0)], T0);
    // Re-sent later with a later start: the earliest start stays, the end is refreshed.
    d.put(vec![alert(&l, T0 + M, 0)], T0 + 2 * M);
    let a = d.alert(fp).expect("stored");
    assert_eq!(
        (a.starts_at_ms, a.ends_at_ms, a.updated_at_ms),
        (T0, T0 + 7 * M, T0 + 2 * M)
    );
    // An explicit end in the future (not a timeout) is not shortened by a re-send.
    d.put(vec![alert(&l, T0, T0 + 60 * M)], T0 + 3 * M);
    d.put(vec![alert(&l, T0, 0)], T0 + 4 * M);
    assert_eq!(d.alert(fp).map(|a| a.ends_at_ms), Some(T0 + 60 * M));
    // Resolving wins.
    d.put(vec![alert(&l, T0, T0 + 5 * M)], T0 + 5 * M);
    assert_eq!(d.alert(fp).map(|a| a.ends_at_ms), Some(T0 + 5 * M));
    // A new firing period after the end replaces the alert (no overlap, no merge).
    d.put(vec![alert(&l, T0 + 10 * M, 0)], T0 + 10 * M);
    assert_eq!(d.alert(fp).map(|a| a.starts_at_ms), Some(T0 + 10 * M));
}

#[test]
fn muted_alerts_are_not_notified() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    let mut sil = Silences::in_memory();
    sil.set(
        Silence {
            id: String::new(),
            matchers: vec![Matcher::parse("i=2").expect("m")],
            starts_at_ms: T0,
            ends_at_ms: T0 + 60 * M,
            updated_at_ms: 0,
            created_by: "me".into(),
            comment: "c".into(),
        },
        T0,
    )
    .expect("silence");
    d.put(
        vec![
            alert(
                &[
                    ("alertname", "W"),
                    ("i", "1"),
                    ("severity", "warning"),
                    ("cluster", "a"),
                ],
                T0,
                0,
            ),
            alert(
                &[
                    ("alertname", "W"),
                    ("i", "3"),
                    ("severity", "warning"),
                    ("cluster", "b"),
                ],
                T0,
                0,
            ),
            alert(&[("alertname", "W"), ("i", "2")], T0, 0),
            alert(
                &[
                    ("alertname", "C"),
                    ("severity", "critical"),
                    ("cluster", "a"),
                ],
                T0,
                0,
            ),
        ],
        T0,
    );
    let f = d.flush(&sil, T0 + 30 * S);
    let w = f
        .iter()
        .find(|f| f.group_key.ends_with("{alertname=\"W\"}"))
        .expect("W group");
    let left: Vec<&str> = w.alerts.iter().filter_map(|a| a.labels.get("i")).collect();
    assert_eq!(left, ["3"]);
    // The API shows why.
    let api = d.alerts_for_api(&sil, &AlertFilter::default(), T0 + 30 * S);
    let st = |i: &str| {
        api.iter()
            .find(|a| a.alert.labels.get("i") == Some(i))
            .map(|a| a.status.clone())
            .expect("alert")
    };
    assert_eq!(st("2").state, AlertState::Suppressed);
    assert_eq!(st("2").silenced_by.len(), 1);
    let crit = fingerprint(&Labels::new([
        ("alertname", "C"),
        ("severity", "critical"),
        ("cluster", "a"),
    ]));
    assert_eq!(st("1").inhibited_by, [format!("{crit:016x}")]);
    assert_eq!(st("3").state, AlertState::Active);
    // A group with only muted alerts sends nothing and counts as delivered.
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(
        vec![alert(&[("alertname", "Q"), ("i", "2")], T0, T0 + 10 * S)],
        T0,
    );
    assert!(d.flush(&sil, T0 + 30 * S).is_empty());
    assert!(d
        .groups
        .values()
        .all(|g| g.alerts.is_empty() && g.in_flight.is_none()));
}

#[test]
fn api_views_filter_and_order() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(
        vec![
            alert(
                &[("alertname", "B"), ("severity", "critical"), ("team", "db")],
                T0,
                0,
            ),
            alert(&[("alertname", "A"), ("job", "j")], T0, 0),
            alert(&[("alertname", "Old")], T0 - 10 * M, T0 - M),
        ],
        T0,
    );
    let now = T0 + S;
    let all = d.alerts_for_api(&none(), &AlertFilter::default(), now);
    // Ended alerts are not shown; sorted by fingerprint; receivers in route order.
    assert_eq!(all.len(), 2);
    assert!(all[0].fingerprint < all[1].fingerprint);
    let b = all
        .iter()
        .find(|a| a.alert.labels.get("alertname") == Some("B"))
        .expect("B");
    assert_eq!(b.receivers, ["pager", "db"]);
    let only = |f: AlertFilter| -> Vec<String> {
        d.alerts_for_api(&none(), &f, now)
            .iter()
            .filter_map(|a| a.alert.labels.get("alertname").map(str::to_string))
            .collect()
    };
    assert_eq!(
        only(AlertFilter {
            receiver: Some(Regex::new("^(?:d.)$").expect("re")),
            ..Default::default()
        }),
        ["B"]
    );
    assert_eq!(
        only(AlertFilter {
            matchers: vec![Matcher::parse("job=j").expect("m")],
            ..Default::default()
        }),
        ["A"]
    );
    assert!(only(AlertFilter {
        active: false,
        ..Default::default()
    })
    .is_empty());
    let groups = d.groups_for_api(&none(), &AlertFilter::default(), now);
    let shown: Vec<(String, String)> = groups
        .iter()
        .map(|g| (g.receiver.clone(), g.labels.to_string()))
        .collect();
    assert_eq!(
        shown,
        [
            ("default".into(), "{alertname=\"A\"}".into()),
            ("pager".into(), "{alertname=\"B\"}".into()),
            (
                "db".into(),
                "{alertname=\"B\", severity=\"critical\", team=\"db\"}".into()
            ),
        ]
    );
    // In the groups view an alert lists the receivers of all its groups, sorted.
    assert_eq!(groups[1].alerts[0].receivers, ["db", "pager"]);
    let groups = d.groups_for_api(
        &none(),
        &AlertFilter {
            receiver: Some(Regex::new("^(?:db)$").expect("re")),
            ..Default::default()
        },
        now,
    );
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].alerts[0].receivers, ["db"]);
}

use regex::Regex;

#[test]
fn reload_regroups_stored_alerts() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(
        vec![alert(&[("alertname", "A"), ("team", "db")], T0, 0)],
        T0,
    );
    let other = CONF.replace("group_by: ['...']", "group_by: [team]");
    d.reload(&config(&other), T0 + S);
    assert_eq!(d.group_count(), 1);
    assert_eq!(d.next_due_ms(), T0 + 11 * S);
    let f = d.flush(&none(), T0 + 11 * S);
    assert_eq!(
        keys(&f),
        [("db".into(), "{}/{team=\"db\"}:{team=\"db\"}".into(), 1)]
    );
}

#[test]
fn resolved_alerts_leave_the_store_after_gc_interval() {
    let mut d = Dispatcher::new(&config(CONF), T0);
    d.put(vec![alert(&[("alertname", "A")], T0, T0 + M)], T0);
    assert_eq!(d.alerts().count(), 1);
    d.flush(&none(), T0 + ALERT_GC_INTERVAL_MS - 1);
    assert_eq!(d.alerts().count(), 1);
    d.flush(&none(), T0 + ALERT_GC_INTERVAL_MS);
    assert_eq!(d.alerts().count(), 0);
}

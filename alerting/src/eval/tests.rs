//! The alert state machine, staleness, restore and scheduling, driven by a fake query
//! function and a manual clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argus_core::series::{is_stale, Labels, Matcher, SeriesSource};

use super::*;
use crate::clock::ManualClock;
use crate::file::parse_rules;
use crate::query::{Querier, QuerySample};
use crate::storage::MemStorage;

/// Answers each query with what the test set for it (nothing by default).
#[derive(Default)]
struct Fake(Mutex<HashMap<String, Vec<QuerySample>>>);

impl Fake {
    fn set(&self, expr: &str, v: &[(&[(&str, &str)], f64)]) {
        let v = v
            .iter()
            .map(|(l, x)| QuerySample {
                labels: Labels::new(l.iter().copied()),
                value: *x,
            })
            .collect();
        self.0.lock().expect("lock").insert(expr.into(), v);
    }
}

impl Querier for Fake {
    fn query(&self, _: &dyn SeriesSource, expr: &str, _: i64) -> Result<Vec<QuerySample>, String> {
        Ok(self
            .0
            .lock()
            .expect("lock")
            .get(expr)
            .cloned()
            .unwrap_or_default())
    }
}

fn group(yaml: &str, restored: bool) -> Group {
    let rf = parse_rules("t.yml", yaml).expect("rules");
    Group::new(
        "t.yml",
        &rf.groups[0],
        60_000,
        &GroupEnv::default(),
        restored,
    )
}

fn alerts_series(st: &MemStorage, t: i64) -> Vec<(String, f64)> {
    st.select(&[Matcher::equal("__name__", "ALERTS")], t, t)
        .into_iter()
        .map(|s| (s.labels.to_string(), s.samples[0].v))
        .collect()
}

fn rule(g: &Group) -> &AlertingRule {
    g.alerting_rules().next().expect("alerting rule")
}

const MIN: i64 = 60_000;

#[test]
fn pending_firing_resolved_and_retention() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: High\n    expr: x > 1\n    for: 2m\n    labels: {severity: page}\n    annotations: {v: '{{ $value }} on {{ $labels.i }}'}\n",
        true,
    );
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    let env = GroupEnv::default();
    q.set("x > 1", &[(&[("__name__", "x"), ("i", "a")], 5.0)]);

    assert!(
        g.eval(0, 0, &ctx, &env).is_empty(),
        "pending alerts are not sent"
    );
    let a = rule(&g).active_alerts().next().expect("alert").clone();
    assert_eq!(a.state, AlertState::Pending);
    assert_eq!(
        a.labels.to_string(),
        "{alertname=\"High\", i=\"a\", severity=\"page\"}"
    );
    assert_eq!(a.annotations["v"], "5 on a");
    assert_eq!(
        alerts_series(&st, 0),
        [(
            "ALERTS{alertname=\"High\", alertstate=\"pending\", i=\"a\", severity=\"page\"}"
                .to_string(),
            1.0
        )]
    );

    g.eval(MIN, MIN, &ctx, &env);
    assert_eq!(rule(&g).state(), AlertState::Pending);
    let sent = g.eval(2 * MIN, 2 * MIN, &ctx, &env);
    assert_eq!(rule(&g).state(), AlertState::Firing);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].starts_at, sent[0].ends_at),
        (2 * MIN, 2 * MIN + 4 * MIN)
    );
    // The pending series went stale when the firing one appeared.
    let pending = st.select(&[Matcher::equal("alertstate", "pending")], 2 * MIN, 2 * MIN);
    assert!(is_stale(pending[0].samples[0].v));
    let for_state = st.select(
        &[Matcher::equal("__name__", "ALERTS_FOR_STATE")],
        0,
        2 * MIN,
    );
    assert_eq!(for_state[0].samples.last().map(|s| s.v), Some(0.0));

    // Gone: resolved, sent once with endsAt, kept (not listed) for 15 minutes.
    q.set("x > 1", &[]);
    let sent = g.eval(3 * MIN, 3 * MIN, &ctx, &env);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].ends_at, 3 * MIN);
    assert_eq!(rule(&g).state(), AlertState::Inactive);
    assert_eq!(rule(&g).active_alerts().count(), 0);
    assert_eq!(rule(&g).active.len(), 1);
    let firing = st.select(&[Matcher::equal("alertstate", "firing")], 3 * MIN, 3 * MIN);
    assert!(is_stale(firing[0].samples[0].v), "ALERTS goes stale");
    assert!(
        g.eval(4 * MIN, 4 * MIN, &ctx, &env).is_empty(),
        "resent only after the resend delay"
    );
    g.eval(18 * MIN, 18 * MIN, &ctx, &env);
    assert_eq!(rule(&g).active.len(), 1, "15 minutes not yet passed");
    g.eval(19 * MIN, 19 * MIN, &ctx, &env);
    assert!(rule(&g).active.is_empty(), "forgotten after 15 minutes");
}

#[test]
fn pending_alert_that_goes_away_is_dropped_and_comes_back_fresh() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: e\n    for: 5m\n",
        true,
    );
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    let env = GroupEnv::default();
    q.set("e", &[(&[], 1.0)]);
    g.eval(0, 0, &ctx, &env);
    q.set("e", &[]);
    g.eval(MIN, MIN, &ctx, &env);
    assert!(rule(&g).active.is_empty());
    q.set("e", &[(&[], 1.0)]);
    g.eval(2 * MIN, 2 * MIN, &ctx, &env);
    assert_eq!(
        rule(&g).active_alerts().next().map(|a| a.active_at),
        Some(2 * MIN)
    );
}

#[test]
fn keep_firing_for() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: e\n    keep_firing_for: 2m\n",
        true,
    );
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    let env = GroupEnv::default();
    q.set("e", &[(&[], 1.0)]);
    g.eval(0, 0, &ctx, &env);
    assert_eq!(
        rule(&g).state(),
        AlertState::Firing,
        "no `for`: fires at once"
    );
    q.set("e", &[]);
    g.eval(MIN, MIN, &ctx, &env);
    assert_eq!(rule(&g).state(), AlertState::Firing);
    assert_eq!(
        rule(&g)
            .active_alerts()
            .next()
            .and_then(|a| a.keep_firing_since),
        Some(MIN)
    );
    g.eval(2 * MIN, 2 * MIN, &ctx, &env);
    assert_eq!(rule(&g).state(), AlertState::Firing);
    g.eval(3 * MIN, 3 * MIN, &ctx, &env);
    assert_eq!(
        rule(&g).state(),
        AlertState::Inactive,
        "2m after the condition cleared"
    );
    // Back before the keep-firing window closes: the timer resets.
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: e\n    keep_firing_for: 2m\n",
        true,
    );
    q.set("e", &[(&[], 1.0)]);
    g.eval(0, 0, &ctx, &env);
    q.set("e", &[]);
    g.eval(MIN, MIN, &ctx, &env);
    q.set("e", &[(&[], 1.0)]);
    g.eval(2 * MIN, 2 * MIN, &ctx, &env);
    assert_eq!(
        rule(&g)
            .active_alerts()
            .next()
            .and_then(|a| a.keep_firing_since),
        None
    );
}

#[test]
fn limits_duplicates_and_errors() {
    let mut g = group(
        "groups:\n- name: g\n  limit: 1\n  rules:\n  - record: r\n    expr: e\n  - alert: A\n    expr: e\n  - alert: B\n    expr: d\n",
        true,
    );
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    q.set("e", &[(&[("i", "1")], 1.0), (&[("i", "2")], 1.0)]);
    q.set(
        "d",
        &[
            (&[("__name__", "m"), ("i", "1")], 1.0),
            (&[("__name__", "n"), ("i", "1")], 1.0),
        ],
    );
    g.eval(0, 0, &ctx, &GroupEnv::default());
    let errs: Vec<Option<String>> = g
        .rules
        .iter()
        .map(|r| r.status().last_error.clone())
        .collect();
    assert_eq!(
        errs[0].as_deref(),
        Some("exceeded limit of 1 with 2 series")
    );
    assert_eq!(
        errs[1].as_deref(),
        Some("exceeded limit of 1 with 2 alerts")
    );
    assert_eq!(
        errs[2].as_deref(),
        Some("vector contains metrics with the same labelset after applying alert labels")
    );
    assert!(g.rules.iter().all(|r| r.status().health == Health::Bad));
    assert!(st.snapshot().is_empty(), "nothing written by failed rules");
}

#[test]
fn recording_rule_series_go_stale() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: r\n    expr: e\n    labels: {k: v}\n",
        true,
    );
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    q.set(
        "e",
        &[
            (&[("__name__", "e"), ("i", "1")], 1.0),
            (&[("__name__", "e"), ("i", "2")], 2.0),
        ],
    );
    g.eval(0, 0, &ctx, &GroupEnv::default());
    q.set("e", &[(&[("__name__", "e"), ("i", "1")], 3.0)]);
    g.eval(MIN, MIN, &ctx, &GroupEnv::default());
    let all = st.snapshot();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].labels.to_string(), "r{i=\"1\", k=\"v\"}");
    assert_eq!(all[0].samples.last().map(|s| s.v), Some(3.0));
    assert!(all[1]
        .samples
        .last()
        .is_some_and(|s| is_stale(s.v) && s.t == MIN));
}

#[test]
fn restores_for_state_after_restart() {
    let yaml = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: e\n    for: 30m\n";
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    q.set("e", &[(&[("i", "1")], 1.0)]);
    // Before the restart: active since 0, last written at 10m.
    let mut before = group(yaml, true);
    for m in 0..=10 {
        before.eval(m * MIN, m * MIN, &ctx, &GroupEnv::default());
    }
    // After: started at 20m, not restored yet, so no ALERTS written.
    let mut after = group(yaml, false);
    after.eval(20 * MIN, 20 * MIN, &ctx, &GroupEnv::default());
    assert!(alerts_series(&st, 20 * MIN).is_empty());
    after.restore_for_state(21 * MIN, &ctx, 3_600_000, 600_000);
    // 10 of 30 minutes were spent pending before going down at 10m; the 11 minutes of
    // outage shift activeAt forward: 0 + (21m - 10m).
    assert_eq!(
        rule(&after).active_alerts().next().map(|a| a.active_at),
        Some(11 * MIN)
    );
    assert!(rule(&after).restored);

    // Little time left before firing: the grace period applies (fires 10m after restore).
    let mut late = group(yaml, false);
    let st2 = MemStorage::new();
    let ctx2 = EvalContext {
        querier: &q,
        source: &st2,
        appender: &st2,
    };
    let l = Labels::new([
        ("__name__", "ALERTS_FOR_STATE"),
        ("alertname", "A"),
        ("i", "1"),
    ]);
    st2.append(&l, 25 * MIN, 0.0);
    late.eval(26 * MIN, 26 * MIN, &ctx2, &GroupEnv::default());
    late.restore_for_state(26 * MIN, &ctx2, 3_600_000, 600_000);
    assert_eq!(
        rule(&late).active_alerts().next().map(|a| a.active_at),
        Some(26 * MIN + 10 * MIN - 30 * MIN)
    );
}

#[test]
fn manager_runs_groups_at_aligned_slots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.yml");
    std::fs::write(
        &path,
        "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: A\n    expr: e\n",
    )
    .expect("write");
    let clock = Arc::new(ManualClock::new(1_000_000_000_000));
    let mut m = Manager::new(ManagerOptions::default(), clock.clone());
    let (q, st) = (Fake::default(), MemStorage::new());
    let ctx = EvalContext {
        querier: &q,
        source: &st,
        appender: &st,
    };
    q.set("e", &[(&[], 1.0)]);
    m.load(std::slice::from_ref(&path), &ctx).expect("load");
    let g = &m.groups()[0];
    let slot = g.eval_timestamp(1_000_000_000_000);
    assert!(slot <= 1_000_000_000_000 && 1_000_000_000_000 - slot < 30_000);
    assert_eq!(g.eval_timestamp(slot + 29_999), slot);
    assert_eq!(g.eval_timestamp(slot + 30_000), slot + 30_000);
    let next = m.next_eval_ms().expect("scheduled");
    assert_eq!(next, slot + 30_000);
    assert!(m.run_pending(&ctx).is_empty(), "not due yet");
    clock.set(next + 5);
    let sent = m.run_pending(&ctx);
    assert_eq!(sent.len(), 1, "fires at once, sent");
    assert!(
        alerts_series(&st, next).is_empty(),
        "no ALERTS before for-state is restored"
    );
    // Three slots later (two missed): one evaluation at the latest slot, then restore.
    clock.set(next + 90_000 + 5);
    m.run_pending(&ctx);
    assert_eq!(m.next_eval_ms(), Some(next + 120_000));
    assert!(rule(&m.groups()[0]).restored);
    clock.set(next + 120_000);
    m.run_pending(&ctx);
    assert_eq!(alerts_series(&st, next + 120_000).len(), 1);

    let rules = m.rules_json(&crate::api::RulesFilter::default());
    let r = &rules["data"]["groups"][0]["rules"][0];
    assert_eq!(r["state"], "firing");
    assert_eq!(r["type"], "alerting");
    assert_eq!(r["health"], "ok");
    assert_eq!(r["query"], "e");
    assert_eq!(r["alerts"][0]["value"], "1e+00");
    assert_eq!(r["alerts"][0]["labels"]["alertname"], "A");
    assert_eq!(rules["data"]["groups"][0]["interval"], 30);
    let alerts = m.alerts_json();
    assert_eq!(alerts["data"]["alerts"][0]["state"], "firing");

    // Reload without the group: its series go stale.
    std::fs::write(&path, "groups: []\n").expect("write");
    m.load(std::slice::from_ref(&path), &ctx).expect("reload");
    let s = st.select(&[Matcher::equal("__name__", "ALERTS")], 0, i64::MAX);
    assert!(s[0].samples.last().is_some_and(|x| is_stale(x.v)));
}

#[test]
fn recording_results_are_visible_to_later_rules() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: job:x:sum\n    expr: sum by (job) (x)\n  - alert: Big\n    expr: job:x:sum > 2\n",
        true,
    );
    let st = MemStorage::new();
    for (i, v) in [("a", 1.0), ("b", 2.0)] {
        st.append(
            &Labels::new([("__name__", "x"), ("job", "j"), ("i", i)]),
            0,
            v,
        );
    }
    let engine = argus_promql::Engine::default();
    let ctx = EvalContext {
        querier: &engine,
        source: &st,
        appender: &st,
    };
    g.eval(0, 0, &ctx, &GroupEnv::default());
    assert_eq!(rule(&g).state(), AlertState::Firing);
    assert_eq!(rule(&g).query, "job:x:sum > 2");
}

#[test]
fn manager_can_move_to_a_blocking_thread() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Manager>();
    send_sync::<Group>();
}

//! A rule group: its rules evaluated in order at one timestamp, results appended (and seen
//! by the rules after), staleness markers for series a rule stopped producing, alerts to
//! send, and the aligned evaluation slots of Prometheus' `Group.EvalTimestamp`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Instant;

use argus_core::series::{stale_nan, Labels};

use super::{AlertingRule, EvalContext, Health, OutgoingAlert, RecordingRule, Rule, RuleStatus};
use crate::file::RuleGroup;
use crate::template::query_escape;

/// A rule group and its evaluation state.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// The file the group came from, as given.
    pub file: String,
    pub interval_ms: i64,
    pub limit: usize,
    pub rules: Vec<Rule>,
    /// Per rule: the series it wrote at the last successful evaluation.
    series_in_prev_eval: Vec<HashSet<Labels>>,
    /// Series of rules removed by a reload, to be marked stale at the next evaluation.
    stale_series: Vec<Labels>,
    /// When the last evaluation started (ms, wall clock) and how long it took (s).
    pub last_eval_ms: Option<i64>,
    pub eval_seconds: f64,
    /// Restore `for` state after the second evaluation (set on the first load).
    pub(crate) should_restore: bool,
    pub(crate) evals: u64,
    /// The next slot to evaluate (ms), once scheduled.
    pub(crate) next_ts: Option<i64>,
}

/// Settings a group's evaluation needs from the manager.
#[derive(Debug, Clone)]
pub struct GroupEnv {
    /// `$externalLabels` of templates.
    pub external_labels: BTreeMap<String, String>,
    /// `$externalURL` of templates and the base of alerts' generator URLs.
    pub external_url: String,
    /// What the `externalURL` and `pathPrefix` functions return (`None` in unit tests:
    /// they fail there, as in promtool).
    pub funcs_url: Option<String>,
    /// How often a firing alert is re-sent, ms; default 1m.
    pub resend_delay_ms: i64,
}

impl Default for GroupEnv {
    fn default() -> Self {
        GroupEnv {
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            funcs_url: None,
            resend_delay_ms: 60_000,
        }
    }
}

impl Group {
    /// Builds a group from its definition; `restored`: whether alerting rules may write
    /// `ALERTS` right away (false on the first load, until `for` state is restored).
    pub fn new(
        file: &str,
        g: &RuleGroup,
        default_interval_ms: i64,
        env: &GroupEnv,
        restored: bool,
    ) -> Group {
        let rules: Vec<Rule> = g
            .rules
            .iter()
            .map(|r| {
                let query = argus_promql::parse(&r.expr)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|_| r.expr.clone());
                if r.is_alert() {
                    Rule::Alerting(AlertingRule {
                        name: r.alert.clone(),
                        expr: r.expr.clone(),
                        query,
                        hold_ms: r.for_.ms(),
                        keep_firing_for_ms: r.keep_firing_for.ms(),
                        labels: r.labels.clone(),
                        annotations: r.annotations.clone(),
                        external_labels: env.external_labels.clone(),
                        external_url: env.external_url.clone(),
                        funcs_url: env.funcs_url.clone(),
                        active: BTreeMap::new(),
                        restored,
                        status: RuleStatus::default(),
                    })
                } else {
                    Rule::Recording(RecordingRule {
                        name: r.record.clone(),
                        expr: r.expr.clone(),
                        query,
                        labels: r.labels.clone(),
                        status: RuleStatus::default(),
                    })
                }
            })
            .collect();
        Group {
            name: g.name.clone(),
            file: file.to_string(),
            interval_ms: g
                .interval
                .map(|d| d.ms())
                .filter(|d| *d > 0)
                .unwrap_or(default_interval_ms),
            limit: g.limit,
            series_in_prev_eval: vec![HashSet::new(); rules.len()],
            rules,
            stale_series: Vec::new(),
            last_eval_ms: None,
            eval_seconds: 0.0,
            should_restore: false,
            evals: 0,
            next_ts: None,
        }
    }

    /// Prometheus' group key: `file;name`.
    pub fn key(&self) -> String {
        format!("{};{}", self.file, self.name)
    }

    /// Prometheus' `Group.hash()`: xxhash64 of the label set `{file, name}`.
    fn hash(&self) -> u64 {
        let mut b = Vec::with_capacity(self.file.len() + self.name.len() + 12);
        for (n, v) in [("file", &self.file), ("name", &self.name)] {
            b.extend_from_slice(n.as_bytes());
            b.push(0xff);
            b.extend_from_slice(v.as_bytes());
            b.push(0xff);
        }
        xxhash_rust::xxh64::xxh64(&b, 0)
    }

    /// The evaluation slot at or before `now_ms` (Prometheus' `EvalTimestamp`): slots are
    /// `interval` apart, shifted by an offset derived from the group's hash so that groups
    /// do not all run at once.
    pub fn eval_timestamp(&self, now_ms: i64) -> i64 {
        let interval = self.interval_ms.max(1);
        // Prometheus works in nanoseconds; samples get the slot truncated to milliseconds,
        // which this offset (truncated likewise) gives exactly.
        let offset_ns = u128::from(self.hash()) % (u128::from(interval.unsigned_abs()) * 1_000_000);
        let offset = (offset_ns / 1_000_000) as i64;
        let adj = now_ms - offset;
        adj - adj.rem_euclid(interval) + offset
    }

    /// Evaluates every rule at `ts` (`wall_ms`: the wall-clock time, for the API) and
    /// returns the alerts to send.
    pub fn eval(
        &mut self,
        ts: i64,
        wall_ms: i64,
        ctx: &EvalContext,
        env: &GroupEnv,
    ) -> Vec<OutgoingAlert> {
        let started = Instant::now();
        let mut to_send = Vec::new();
        for i in 0..self.rules.len() {
            let rule_start = Instant::now();
            let limit = self.limit;
            let res = match &mut self.rules[i] {
                Rule::Recording(r) => r.eval(ts, ctx, limit),
                Rule::Alerting(r) => r.eval(ts, ctx, limit),
            };
            let status = self.rules[i].status_mut();
            status.last_eval_ms = Some(wall_ms);
            match res {
                Err(e) => {
                    tracing::warn!(group = %self.name, rule = %self.rules[i].name(), error = %e, "evaluating rule failed");
                    let status = self.rules[i].status_mut();
                    status.health = Health::Bad;
                    status.last_error = Some(e);
                    status.eval_seconds = rule_start.elapsed().as_secs_f64();
                }
                Ok(samples) => {
                    status.health = Health::Good;
                    status.last_error = None;
                    if let Rule::Alerting(r) = &mut self.rules[i] {
                        let url = format!(
                            "{}/graph?g0.expr={}&g0.tab=1",
                            env.external_url.trim_end_matches('/'),
                            query_escape(&r.query)
                        );
                        to_send.extend(r.alerts_to_send(
                            ts,
                            env.resend_delay_ms,
                            self.interval_ms,
                            &url,
                        ));
                    }
                    let mut returned = HashSet::with_capacity(samples.len());
                    for (l, v) in samples {
                        ctx.appender.append(&l, ts, v);
                        returned.insert(l);
                    }
                    for old in &self.series_in_prev_eval[i] {
                        if !returned.contains(old) {
                            ctx.appender.append(old, ts, stale_nan());
                        }
                    }
                    self.series_in_prev_eval[i] = returned;
                    self.rules[i].status_mut().eval_seconds = rule_start.elapsed().as_secs_f64();
                }
            }
        }
        for l in std::mem::take(&mut self.stale_series) {
            ctx.appender.append(&l, ts, stale_nan());
        }
        self.last_eval_ms = Some(wall_ms);
        self.eval_seconds = started.elapsed().as_secs_f64();
        self.evals += 1;
        to_send
    }

    /// Restores the `for` state of every alerting rule (see
    /// [`AlertingRule::restore_for_state`]).
    pub fn restore_for_state(
        &mut self,
        ts: i64,
        ctx: &EvalContext,
        outage_tolerance_ms: i64,
        grace_ms: i64,
    ) {
        for r in &mut self.rules {
            if let Rule::Alerting(a) = r {
                a.restore_for_state(ts, ctx.source, outage_tolerance_ms, grace_ms);
            }
        }
    }

    /// Marks every series the group wrote stale (the group was removed).
    pub fn mark_all_stale(&mut self, ts: i64, ctx: &EvalContext) {
        for set in &mut self.series_in_prev_eval {
            for l in set.drain() {
                ctx.appender.append(&l, ts, stale_nan());
            }
        }
        for l in std::mem::take(&mut self.stale_series) {
            ctx.appender.append(&l, ts, stale_nan());
        }
    }

    /// Takes over the state of the same group before a reload (Prometheus' `CopyState`):
    /// rules are matched by name in order; series of rules that are gone will be marked
    /// stale at the next evaluation.
    pub fn copy_state(&mut self, old: &mut Group) {
        self.last_eval_ms = old.last_eval_ms;
        self.eval_seconds = old.eval_seconds;
        self.evals = old.evals;
        self.next_ts = old.next_ts.filter(|_| old.interval_ms == self.interval_ms);
        self.should_restore = old.should_restore;
        let mut by_name: HashMap<String, VecDeque<usize>> = HashMap::new();
        for (i, r) in old.rules.iter().enumerate() {
            by_name
                .entry(r.name().to_string())
                .or_default()
                .push_back(i);
        }
        let mut used = vec![false; old.rules.len()];
        for (i, r) in self.rules.iter_mut().enumerate() {
            let Some(j) = by_name.get_mut(r.name()).and_then(VecDeque::pop_front) else {
                continue;
            };
            used[j] = true;
            self.series_in_prev_eval[i] = std::mem::take(&mut old.series_in_prev_eval[j]);
            match (r, &mut old.rules[j]) {
                (Rule::Alerting(new), Rule::Alerting(o)) => {
                    new.status = o.status.clone();
                    new.active = std::mem::take(&mut o.active);
                    new.restored = o.restored;
                }
                (Rule::Recording(new), Rule::Recording(o)) => new.status = o.status.clone(),
                _ => {}
            }
        }
        for (j, u) in used.iter().enumerate() {
            if !u {
                self.stale_series.extend(old.series_in_prev_eval[j].drain());
            }
        }
        self.stale_series.append(&mut old.stale_series);
    }

    /// The alerting rules.
    pub fn alerting_rules(&self) -> impl Iterator<Item = &AlertingRule> {
        self.rules.iter().filter_map(|r| match r {
            Rule::Alerting(a) => Some(a),
            Rule::Recording(_) => None,
        })
    }
}

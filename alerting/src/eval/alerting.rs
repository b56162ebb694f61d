//! Alerting rules: the alert state machine of Prometheus' `AlertingRule.Eval` (inactive →
//! pending → firing, `for`, `keep_firing_for`, resolved alerts kept 15 minutes), label and
//! annotation templates, `ALERTS` / `ALERTS_FOR_STATE` samples, what to send to the
//! notifier, and restoring `for` state after a restart.

use std::collections::{BTreeMap, HashSet};

use argus_core::series::{is_stale, Labels, Matcher, SeriesSource};

use super::{EvalContext, OutgoingAlert, RuleStatus};
use crate::template::{self, AlertData, FuncContext, QueryFn};

/// How long a resolved alert is kept (and re-sent) before it is forgotten.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60_000;

/// The state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule (times in ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The result's labels without the metric name, the rule's labels, `alertname`.
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    /// The query's value at the last evaluation.
    pub value: f64,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub last_sent_at: Option<i64>,
    pub valid_until: Option<i64>,
    pub keep_firing_since: Option<i64>,
}

/// An alerting rule and its alerts.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    pub name: String,
    /// The expression as written.
    pub expr: String,
    /// The expression as Prometheus prints it (the API's `query`).
    pub query: String,
    pub hold_ms: i64,
    pub keep_firing_for_ms: i64,
    /// Label and annotation templates as written.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    /// The server's URL for the `externalURL` and `pathPrefix` functions (none in unit
    /// tests, as in promtool).
    pub funcs_url: Option<String>,
    /// Alerts by label set.
    pub active: BTreeMap<Labels, Alert>,
    /// Whether `for` state was restored; before that no `ALERTS` series are written.
    pub restored: bool,
    pub status: RuleStatus,
}

fn label_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect()
}

impl AlertingRule {
    /// The most severe state among the rule's alerts.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }

    /// Alerts that are pending or firing (resolved ones are left out), by labels.
    pub fn active_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.active.values().filter(|a| a.resolved_at.is_none())
    }

    /// A series of this rule for `alert`: the raw rule labels, overridden by the alert's.
    fn series(&self, alert: &Alert, metric: &str) -> Labels {
        let mut l = Labels::new(self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for x in alert.labels.iter() {
            l.set(&x.name, &x.value);
        }
        l.set("__name__", metric);
        l.set("alertname", &self.name);
        l
    }

    /// Evaluates the rule at `ts`; returns the `ALERTS` and `ALERTS_FOR_STATE` samples.
    pub fn eval(
        &mut self,
        ts: i64,
        ctx: &EvalContext,
        limit: usize,
    ) -> Result<Vec<(Labels, f64)>, String> {
        let res = ctx.querier.query(ctx.source, &self.expr, ts)?;
        let query_fn = |q: &str| -> Result<Vec<template::Sample>, String> {
            Ok(ctx
                .querier
                .query(ctx.source, q, ts)?
                .into_iter()
                .map(|s| template::Sample {
                    labels: label_map(&s.labels),
                    value: s.value,
                })
                .collect())
        };
        let qf: &QueryFn = &query_fn;
        let fctx = FuncContext {
            query: Some(qf),
            external_url: self.funcs_url.as_deref(),
        };

        let mut result_fps: HashSet<Labels> = HashSet::new();
        let mut alerts: Vec<Alert> = Vec::with_capacity(res.len());
        for smpl in res {
            let data = AlertData {
                labels: label_map(&smpl.labels),
                external_labels: self.external_labels.clone(),
                external_url: self.external_url.clone(),
                value: smpl.value,
            };
            let expand =
                |text: &str| template::expand_alert_or_error(&self.name, text, &data, &fctx);
            let mut lb = smpl.labels.without_name();
            for (k, v) in &self.labels {
                lb.set(k, &expand(v));
            }
            lb.set("alertname", &self.name);
            let annotations: BTreeMap<String, String> = self
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand(v)))
                .collect();
            if !result_fps.insert(lb.clone()) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .into(),
                );
            }
            alerts.push(Alert {
                labels: lb,
                annotations,
                state: AlertState::Pending,
                value: smpl.value,
                active_at: ts,
                fired_at: None,
                resolved_at: None,
                last_sent_at: None,
                valid_until: None,
                keep_firing_since: None,
            });
        }
        for a in alerts {
            match self.active.get_mut(&a.labels) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(a.labels.clone(), a);
                }
            }
        }

        let mut vec = Vec::new();
        let mut num_active_pending = 0;
        let keys: Vec<Labels> = self.active.keys().cloned().collect();
        for fp in keys {
            let Some(a) = self.active.get_mut(&fp) else {
                continue;
            };
            if !result_fps.contains(&fp) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = ts - since < self.keep_firing_for_ms;
                }
                let expired = matches!(a.resolved_at, Some(r) if ts - r > RESOLVED_RETENTION_MS);
                if a.state == AlertState::Pending || expired {
                    self.active.remove(&fp);
                    continue;
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            num_active_pending += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= self.hold_ms {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if self.restored {
                let a = a.clone();
                let mut alerts_l = self.series(&a, "ALERTS");
                alerts_l.set("alertstate", a.state.as_str());
                vec.push((alerts_l, 1.0));
                vec.push((
                    self.series(&a, "ALERTS_FOR_STATE"),
                    a.active_at.div_euclid(1000) as f64,
                ));
            }
        }
        if limit > 0 && num_active_pending > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {num_active_pending} alerts"
            ));
        }
        Ok(vec)
    }

    /// The alerts due to the notifier at `ts` (Prometheus' `sendAlerts`): firing ones every
    /// `resend_delay`, resolved ones once resolved and then every `resend_delay` until
    /// forgotten.
    pub fn alerts_to_send(
        &mut self,
        ts: i64,
        resend_delay_ms: i64,
        interval_ms: i64,
        generator_url: &str,
    ) -> Vec<OutgoingAlert> {
        let mut out = Vec::new();
        for a in self.active.values_mut() {
            let needs = match a.state {
                AlertState::Pending => false,
                _ => match (a.resolved_at, a.last_sent_at) {
                    (Some(r), Some(s)) if r > s => true,
                    (Some(_), None) => true,
                    (_, None) => true,
                    (_, Some(s)) => s + resend_delay_ms < ts,
                },
            };
            if !needs {
                continue;
            }
            a.last_sent_at = Some(ts);
            a.valid_until = Some(ts + 4 * resend_delay_ms.max(interval_ms));
            out.push(OutgoingAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at.unwrap_or(a.active_at),
                ends_at: a.resolved_at.or(a.valid_until).unwrap_or(ts),
                generator_url: generator_url.to_string(),
            });
        }
        out
    }

    /// Restores the `for` state of the current alerts from `ALERTS_FOR_STATE` after a
    /// restart (Prometheus' `RestoreForState` with its `for_grace_period` rule).
    pub fn restore_for_state(
        &mut self,
        ts: i64,
        source: &dyn SeriesSource,
        outage_tolerance_ms: i64,
        grace_ms: i64,
    ) {
        if self.hold_ms < grace_ms {
            self.restored = true;
            return;
        }
        let keys: Vec<Labels> = self.active.keys().cloned().collect();
        for k in keys {
            let Some(a) = self.active.get(&k) else {
                continue;
            };
            let want = self.series(a, "ALERTS_FOR_STATE");
            let matchers: Vec<Matcher> = want
                .iter()
                .map(|l| Matcher::equal(&l.name, &l.value))
                .collect();
            let found = source
                .select(&matchers, ts - outage_tolerance_ms, ts)
                .into_iter()
                .find(|s| s.labels.len() == want.len());
            let Some(last) = found.and_then(|s| s.samples.last().copied()) else {
                continue;
            };
            if is_stale(last.v) {
                continue;
            }
            let down_at = last.t.div_euclid(1000) * 1000;
            let mut active_at = (last.v as i64) * 1000;
            let remaining = self.hold_ms - (down_at - active_at);
            if remaining <= 0 {
                // It was firing when we went down: it fires again at the next evaluation.
            } else if remaining < grace_ms {
                active_at = ts + grace_ms - self.hold_ms;
            } else {
                active_at += ts - down_at;
            }
            if let Some(a) = self.active.get_mut(&k) {
                a.active_at = active_at;
            }
        }
        self.restored = true;
    }
}

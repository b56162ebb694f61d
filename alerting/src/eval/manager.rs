//! The rules manager: loads rule files into groups, keeps alert state across reloads,
//! runs each group at its aligned slots by an injectable clock, restores `for` state after
//! a start, and answers the HTTP API.
//!
//! It does no IO of its own besides reading rule files and has no timer: the caller (the
//! aggregator) calls [`Manager::run_pending`] when [`Manager::next_eval_ms`] is due, from
//! a blocking thread, and forwards the returned alerts to the notifier.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use super::group::GroupEnv;
use super::{EvalContext, Group, OutgoingAlert};
use crate::clock::Clock;
use crate::file::{load_file, FileError};

/// Settings of the rule engine (Prometheus' defaults).
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// Interval of groups that set none (`evaluation_interval`), ms; default 1m.
    pub evaluation_interval_ms: i64,
    /// Labels of this deployment, available to templates as `$externalLabels`.
    pub external_labels: BTreeMap<String, String>,
    /// Base URL of argus' UI, for templates (`$externalURL`) and alerts' generator URLs.
    pub external_url: String,
    /// How far back `ALERTS_FOR_STATE` is looked up on restart, ms; default 1h.
    pub outage_tolerance_ms: i64,
    /// Least time left for a restored alert before it fires, ms; default 10m.
    pub for_grace_period_ms: i64,
    /// How often a firing alert is re-sent, ms; default 1m.
    pub resend_delay_ms: i64,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            evaluation_interval_ms: 60_000,
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            outage_tolerance_ms: 3_600_000,
            for_grace_period_ms: 600_000,
            resend_delay_ms: 60_000,
        }
    }
}

/// Runs rule groups.
pub struct Manager {
    opts: ManagerOptions,
    clock: Arc<dyn Clock>,
    groups: Vec<Group>,
    /// Whether groups were loaded once (later loads do not restore `for` state).
    loaded: bool,
}

impl Manager {
    pub fn new(opts: ManagerOptions, clock: Arc<dyn Clock>) -> Manager {
        Manager {
            opts,
            clock,
            groups: Vec::new(),
            loaded: false,
        }
    }

    fn env(&self) -> GroupEnv {
        GroupEnv {
            external_labels: self.opts.external_labels.clone(),
            external_url: self.opts.external_url.clone(),
            funcs_url: Some(self.opts.external_url.clone()),
            resend_delay_ms: self.opts.resend_delay_ms,
        }
    }

    /// Loads (or reloads) rule files. On any error nothing changes. Groups that remain
    /// keep their alerts; series of removed groups are marked stale through `ctx`.
    pub fn load(&mut self, paths: &[PathBuf], ctx: &EvalContext) -> Result<(), Vec<FileError>> {
        let mut files = Vec::new();
        let mut errs = Vec::new();
        for p in paths {
            match load_file(p) {
                Ok(rf) => files.push((p.display().to_string(), rf)),
                Err(e) => errs.extend(e),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let env = self.env();
        let restored = self.loaded;
        let mut old: HashMap<String, Group> = self.groups.drain(..).map(|g| (g.key(), g)).collect();
        let mut groups = Vec::new();
        for (file, rf) in &files {
            for g in &rf.groups {
                let mut ng = Group::new(file, g, self.opts.evaluation_interval_ms, &env, restored);
                ng.should_restore = !restored;
                if let Some(mut og) = old.remove(&ng.key()) {
                    ng.copy_state(&mut og);
                }
                groups.push(ng);
            }
        }
        let now = self.clock.now_ms();
        for (_, mut g) in old {
            g.mark_all_stale(now, ctx);
        }
        self.groups = groups;
        self.loaded = true;
        Ok(())
    }

    /// The groups, in file order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// When the next group is due (ms), if any group exists.
    pub fn next_eval_ms(&mut self) -> Option<i64> {
        let now = self.clock.now_ms();
        for g in &mut self.groups {
            if g.next_ts.is_none() {
                g.next_ts = Some(g.eval_timestamp(now) + g.interval_ms);
            }
        }
        self.groups.iter().filter_map(|g| g.next_ts).min()
    }

    /// Evaluates every group whose slot has come, at that slot (after missed slots, only
    /// the latest is evaluated, as in Prometheus), and returns the alerts to send.
    pub fn run_pending(&mut self, ctx: &EvalContext) -> Vec<OutgoingAlert> {
        self.next_eval_ms();
        let env = self.env();
        let mut out = Vec::new();
        for g in &mut self.groups {
            let now = self.clock.now_ms();
            let Some(next) = g.next_ts else {
                continue;
            };
            if next > now {
                continue;
            }
            let missed = (now - next) / g.interval_ms;
            if missed > 0 {
                tracing::warn!(group = %g.name, missed, "rule group evaluation missed iterations");
            }
            let ts = next + missed * g.interval_ms;
            out.extend(g.eval(ts, now, ctx, &env));
            g.next_ts = Some(ts + g.interval_ms);
            // As Prometheus: restore after the second evaluation, so that recording rules
            // the alerts depend on have run.
            if g.should_restore && g.evals >= 2 {
                g.restore_for_state(
                    self.clock.now_ms(),
                    ctx,
                    self.opts.outage_tolerance_ms,
                    self.opts.for_grace_period_ms,
                );
                g.should_restore = false;
            }
        }
        out
    }

    /// The `/api/v1/rules` response.
    pub fn rules_json(&self, filter: &crate::api::RulesFilter) -> serde_json::Value {
        crate::api::rules_response(&self.groups, filter)
    }

    /// The `/api/v1/alerts` response.
    pub fn alerts_json(&self) -> serde_json::Value {
        crate::api::alerts_response(&self.groups)
    }
}

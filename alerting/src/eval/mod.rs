//! Rule evaluation as Prometheus' rules manager does it: groups evaluated at aligned slots,
//! rules in order (a recording rule's output visible to the rules after it), alert states,
//! `ALERTS` / `ALERTS_FOR_STATE`, staleness markers, restoring `for` state.

mod alerting;
mod group;
mod manager;
mod recording;

use std::collections::BTreeMap;

use argus_core::series::{Labels, SeriesSource};

pub use alerting::{Alert, AlertState, AlertingRule, RESOLVED_RETENTION_MS};
pub use group::{Group, GroupEnv};
pub use manager::{Manager, ManagerOptions};
pub use recording::RecordingRule;

use crate::query::Querier;
use crate::storage::Appender;

/// What an evaluation reads from and writes to.
#[derive(Clone, Copy)]
pub struct EvalContext<'a> {
    /// Runs the rules' queries.
    pub querier: &'a dyn Querier,
    /// The series queries read, and where `ALERTS_FOR_STATE` is looked up on restart.
    pub source: &'a dyn SeriesSource,
    /// Where results go; `source` must see them before the next rule runs.
    pub appender: &'a dyn Appender,
}

/// A rule's health after its last evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Health {
    #[default]
    Unknown,
    Good,
    Bad,
}

impl Health {
    /// As the HTTP API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Good => "ok",
            Health::Bad => "err",
        }
    }
}

/// How a rule's last evaluation went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleStatus {
    pub health: Health,
    pub last_error: Option<String>,
    /// Seconds the last evaluation took.
    pub eval_seconds: f64,
    /// When it started (ms, wall clock).
    pub last_eval_ms: Option<i64>,
}

/// A rule of a group.
#[derive(Debug, Clone)]
pub enum Rule {
    Recording(RecordingRule),
    Alerting(AlertingRule),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.name,
            Rule::Alerting(r) => &r.name,
        }
    }

    pub fn status(&self) -> &RuleStatus {
        match self {
            Rule::Recording(r) => &r.status,
            Rule::Alerting(r) => &r.status,
        }
    }

    fn status_mut(&mut self) -> &mut RuleStatus {
        match self {
            Rule::Recording(r) => &mut r.status,
            Rule::Alerting(r) => &mut r.status,
        }
    }
}

/// An alert for the notifier, as Prometheus hands it to Alertmanager (ms timestamps).
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingAlert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: i64,
    /// When it resolved, or until when it is valid if not re-sent.
    pub ends_at: i64,
    pub generator_url: String,
}

#[cfg(test)]
mod tests;

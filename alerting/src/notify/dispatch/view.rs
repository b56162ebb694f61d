//! What `GET /api/v2/alerts` and `GET /api/v2/alerts/groups` show, computed as
//! Alertmanager 0.25's API does: each alert's state is worked out when asked (silences
//! and inhibition at that moment), alerts past their end time are left out, and the
//! `active`/`silenced`/`inhibited`/`filter`/`receiver` parameters filter.

use std::collections::HashMap;

use regex::Regex;

use super::sort::{alert_less, by_less, group_less};
use super::Dispatcher;
use crate::notify::inhibit::InhibitIndex;
use crate::notify::matchers::{filter_matches, Matcher};
use crate::notify::silence::Silences;
use crate::notify::{fingerprint, Alert};
use argus_core::series::Labels;

/// The filters of the two endpoints (all booleans default to true).
#[derive(Debug, Clone)]
pub struct AlertFilter {
    /// Show alerts neither silenced nor inhibited.
    pub active: bool,
    /// Show silenced alerts.
    pub silenced: bool,
    /// Show inhibited alerts.
    pub inhibited: bool,
    /// Accepted and ignored, as by Alertmanager 0.25 (its API never reports
    /// `unprocessed`: the state is computed on the spot).
    pub unprocessed: bool,
    /// `filter` matchers (the v2 API's semantics, see [`filter_matches`]).
    pub matchers: Vec<Matcher>,
    /// `receiver`, anchored (`^(?:re)$`).
    pub receiver: Option<Regex>,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter {
            active: true,
            silenced: true,
            inhibited: true,
            unprocessed: true,
            matchers: Vec::new(),
            receiver: None,
        }
    }
}

/// `active` (neither silenced nor inhibited) or `suppressed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    /// Neither silenced nor inhibited.
    Active,
    /// Silenced or inhibited.
    Suppressed,
}

impl AlertState {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Active => "active",
            AlertState::Suppressed => "suppressed",
        }
    }
}

/// An alert's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertStatus {
    /// `active` or `suppressed`.
    pub state: AlertState,
    /// Ids of the active silences muting it, sorted.
    pub silenced_by: Vec<String>,
    /// Fingerprint (16 hex digits) of the alert inhibiting it, if any.
    pub inhibited_by: Vec<String>,
}

/// An alert as the API shows it.
#[derive(Debug, Clone)]
pub struct ApiAlert {
    /// The alert as stored.
    pub alert: Alert,
    /// Its fingerprint (shown as 16 hex digits).
    pub fingerprint: u64,
    /// Receivers of the matching routes (`/alerts`: in route order; `/alerts/groups`:
    /// of every group holding it, sorted).
    pub receivers: Vec<String>,
    /// Why it is suppressed, if it is.
    pub status: AlertStatus,
}

/// An aggregation group as the API shows it.
#[derive(Debug, Clone)]
pub struct ApiGroup {
    /// The group labels.
    pub labels: Labels,
    /// The group's receiver (its route's).
    pub receiver: String,
    /// The group's alerts that passed the filter, in Alertmanager's order.
    pub alerts: Vec<ApiAlert>,
}

struct Ctx<'a> {
    silences: &'a Silences,
    index: InhibitIndex<'a>,
    filter: &'a AlertFilter,
    now_ms: i64,
}

impl Ctx<'_> {
    fn status(&self, labels: &Labels) -> AlertStatus {
        let silenced_by = self.silences.mutes(labels, self.now_ms);
        let inhibited_by: Vec<String> = self
            .index
            .inhibited_by(labels)
            .map(|fp| format!("{fp:016x}"))
            .into_iter()
            .collect();
        let state = if silenced_by.is_empty() && inhibited_by.is_empty() {
            AlertState::Active
        } else {
            AlertState::Suppressed
        };
        AlertStatus {
            state,
            silenced_by,
            inhibited_by,
        }
    }

    /// `alertFilter`: the status when the alert passes.
    fn pass(&self, a: &Alert) -> Option<AlertStatus> {
        if a.ends_at_ms != 0 && a.ends_at_ms < self.now_ms {
            return None;
        }
        let st = self.status(&a.labels);
        let f = self.filter;
        if (!f.active && st.state == AlertState::Active)
            || (!f.silenced && !st.silenced_by.is_empty())
            || (!f.inhibited && !st.inhibited_by.is_empty())
            || !filter_matches(&f.matchers, |n| a.labels.get(n))
        {
            return None;
        }
        Some(st)
    }
}

impl Dispatcher {
    fn ctx<'a>(&'a self, silences: &'a Silences, filter: &'a AlertFilter, now_ms: i64) -> Ctx<'a> {
        Ctx {
            silences,
            index: self.inhibitor.index(self.alerts(), now_ms),
            filter,
            now_ms,
        }
    }

    /// The status of an alert with these labels at `now_ms`.
    pub fn status(&self, labels: &Labels, silences: &Silences, now_ms: i64) -> AlertStatus {
        let f = AlertFilter::default();
        self.ctx(silences, &f, now_ms).status(labels)
    }

    /// `GET /api/v2/alerts`: stored alerts, with the receivers of their routes, sorted
    /// by fingerprint.
    pub fn alerts_for_api(
        &self,
        silences: &Silences,
        filter: &AlertFilter,
        now_ms: i64,
    ) -> Vec<ApiAlert> {
        let ctx = self.ctx(silences, filter, now_ms);
        let mut out = Vec::new();
        for a in self.alerts() {
            let receivers: Vec<String> = self
                .route
                .matching(&a.labels)
                .iter()
                .map(|r| r.receiver.clone())
                .collect();
            if let Some(re) = &filter.receiver {
                if !receivers.iter().any(|r| re.is_match(r)) {
                    continue;
                }
            }
            let Some(status) = ctx.pass(a) else {
                continue;
            };
            out.push(ApiAlert {
                alert: a.clone(),
                fingerprint: fingerprint(&a.labels),
                receivers,
                status,
            });
        }
        out.sort_by_key(|a| a.fingerprint);
        out
    }

    /// `GET /api/v2/alerts/groups`: the aggregation groups of routes whose receiver
    /// passes the filter, with their alerts that pass it; groups left empty are not
    /// shown. Ordered as Alertmanager orders them.
    pub fn groups_for_api(
        &self,
        silences: &Silences,
        filter: &AlertFilter,
        now_ms: i64,
    ) -> Vec<ApiGroup> {
        let ctx = self.ctx(silences, filter, now_ms);
        let mut receivers: HashMap<u64, Vec<String>> = HashMap::new();
        let mut groups = Vec::new();
        for (id, g) in &self.groups {
            let Some(route) = self.route.get(id.route) else {
                continue;
            };
            if let Some(re) = &filter.receiver {
                if !re.is_match(&route.receiver) {
                    continue;
                }
            }
            let mut alerts = Vec::new();
            for a in g.alerts.values() {
                let Some(status) = ctx.pass(a) else {
                    continue;
                };
                let fp = fingerprint(&a.labels);
                receivers
                    .entry(fp)
                    .or_default()
                    .push(route.receiver.clone());
                alerts.push(ApiAlert {
                    alert: a.clone(),
                    fingerprint: fp,
                    receivers: Vec::new(),
                    status,
                });
            }
            if alerts.is_empty() {
                continue;
            }
            groups.push(ApiGroup {
                labels: g.labels.clone(),
                receiver: route.receiver.clone(),
                alerts,
            });
        }
        groups.sort_by(by_less(|a: &ApiGroup, b: &ApiGroup| {
            group_less((&a.labels, &a.receiver), (&b.labels, &b.receiver))
        }));
        for v in receivers.values_mut() {
            v.sort();
        }
        for g in &mut groups {
            g.alerts.sort_by(by_less(|a: &ApiAlert, b: &ApiAlert| {
                alert_less(&a.alert.labels, &b.alert.labels)
            }));
            for a in &mut g.alerts {
                a.receivers = receivers.get(&a.fingerprint).cloned().unwrap_or_default();
            }
        }
        groups
    }
}

//! The dispatcher, as Alertmanager 0.25's alert store (`provider/mem`) and dispatcher
//! (`dispatch/dispatch.go`) work together, without threads or timers: the runtime calls
//! [`Dispatcher::put`] with received alerts, sleeps until [`Dispatcher::next_due_ms`],
//! calls [`Dispatcher::flush`] and delivers each [`Flush`], then reports the outcome with
//! [`Dispatcher::delivered`] or [`Dispatcher::failed`]. Every method takes the time.
//!
//! - `put` fills in times as the v2 API does (`updatedAt` = now, missing `startsAt` = now,
//!   missing `endsAt` = now + `resolve_timeout`), validates, merges with the stored alert
//!   of the same fingerprint (`Alert.Merge`) and inserts it into one aggregation group per
//!   matching route (created on the first alert, keyed by route and group labels).
//! - A group flushes first after `group_wait` (at once when an alert's `startsAt +
//!   group_wait` has passed before the first flush), then every `group_interval`. A
//!   flush hands over the group's alerts, sorted, firing ones with their end time
//!   cleared, minus silenced and inhibited ones (`MuteStage`). While a flush is out the
//!   group does not flush again (Alertmanager's flush is synchronous).
//! - After a successful delivery, resolved alerts that were not updated since the flush
//!   leave the group. Every 30s empty groups are removed; every 30m resolved alerts leave
//!   the store.
//!
//! A runtime's loop, in order:
//!
//! ```
//! use argus_alerting::notify::{config::Config, dispatch::Dispatcher, nflog::Nflog};
//! use argus_alerting::notify::silence::Silences;
//! # fn main() -> Result<(), String> {
//! let config = Config::parse(
//!     "route: {receiver: ops, group_by: [alertname]}\n\
//!      receivers: [{name: ops, webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]}]\n",
//!     "alertmanager.yml",
//! )?;
//! let t0 = 1_700_000_000_000;
//! let mut dispatcher = Dispatcher::new(&config, t0);
//! let silences = Silences::in_memory(); // Silences::open(dir.join("silences.json"), now)
//! let mut nflog = Nflog::in_memory(); // Nflog::open(dir.join("nflog.json"), now)
//! // POST /api/v2/alerts → notify::api::post_alerts; the rule engine → put.
//! let body = br#"[{"labels": {"alertname": "Down", "job": "api"}}]"#;
//! argus_alerting::notify::api::post_alerts(&mut dispatcher, body, t0);
//! // Sleep until dispatcher.next_due_ms(), then:
//! let now = dispatcher.next_due_ms();
//! for flush in dispatcher.flush(&silences, now) {
//!     let receiver = config.receiver(&flush.receiver).ok_or("no such receiver")?;
//!     let (firing, resolved) = flush.hashes();
//!     let mut ok = true; // all integrations delivered (or had nothing to send)
//!     for id in receiver.integrations() {
//!         let due = nflog.needs_update(&flush.group_key, &flush.receiver, &id,
//!             &firing, &resolved, flush.repeat_interval_ms, now);
//!         if due {
//!             let _notification = flush.notification("http://argus:9400");
//!             // … deliver it through the integration; on success, at the time it was sent:
//!             let sent_at = now;
//!             nflog.log(&flush.group_key, &flush.receiver, &id, &firing, &resolved, sent_at)
//!                 .map_err(|e| e.to_string())?;
//!             ok &= true; // false when this delivery failed
//!         }
//!     }
//!     if ok {
//!         dispatcher.delivered(flush.group, now);
//!     } else {
//!         dispatcher.failed(flush.group);
//!     }
//! }
//! # Ok(()) }
//! ```

mod sort;
mod view;

use std::collections::{BTreeMap, HashMap};

use argus_core::series::{valid_label_name, Labels};

pub use sort::{alert_less, group_less, labels_before};
pub use view::{AlertFilter, AlertState, AlertStatus, ApiAlert, ApiGroup};

use crate::notify::config::Config;
use crate::notify::inhibit::Inhibitor;
use crate::notify::route::Route;
use crate::notify::silence::Silences;
use crate::notify::{fingerprint, nflog, Alert, Notification};

/// How often empty aggregation groups are removed (Alertmanager's maintenance tick).
pub const MAINTENANCE_INTERVAL_MS: i64 = 30_000;
/// How often resolved alerts leave the store (`--alerts.gc-interval`).
pub const ALERT_GC_INTERVAL_MS: i64 = 30 * 60_000;

/// An aggregation group: the route it belongs to (by [`Route::id`]) and the fingerprint
/// of its group labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId {
    /// The route's [`Route::id`].
    pub route: usize,
    /// The fingerprint of the group labels.
    pub labels: u64,
}

/// What one aggregation group hands to its receiver at a flush.
#[derive(Debug, Clone)]
pub struct Flush {
    /// For [`Dispatcher::delivered`] / [`Dispatcher::failed`].
    pub group: GroupId,
    /// The route's receiver.
    pub receiver: String,
    /// Alertmanager's group key (`{}/{severity="critical"}:{alertname="A"}`).
    pub group_key: String,
    /// The labels the route groups by, with this group's values.
    pub group_labels: Labels,
    /// Firing (end time cleared) and resolved alerts that are neither silenced nor
    /// inhibited, in Alertmanager's order.
    pub alerts: Vec<Alert>,
    /// The route's `group_interval`.
    pub group_interval_ms: i64,
    /// The route's `repeat_interval` (for the notification log).
    pub repeat_interval_ms: i64,
    /// The flush time.
    pub now_ms: i64,
}

impl Flush {
    /// The notification for the receivers.
    pub fn notification(&self, external_url: &str) -> Notification {
        Notification {
            receiver: self.receiver.clone(),
            group_key: self.group_key.clone(),
            group_labels: self.group_labels.clone(),
            alerts: self.alerts.clone(),
            external_url: external_url.to_string(),
            now_ms: self.now_ms,
        }
    }

    /// Hashes of the firing and resolved alerts, for the notification log.
    pub fn hashes(&self) -> (Vec<u64>, Vec<u64>) {
        nflog::firing_and_resolved(&self.alerts, self.now_ms)
    }
}

#[derive(Debug, Clone)]
struct Stored {
    alert: Alert,
    /// The end time was not given but set from `resolve_timeout`.
    timeout: bool,
}

#[derive(Debug, Clone)]
struct AggrGroup {
    labels: Labels,
    key: String,
    alerts: HashMap<u64, Alert>,
    next_flush_ms: i64,
    has_flushed: bool,
    /// The alerts of a flush not yet reported delivered or failed.
    in_flight: Option<Vec<Alert>>,
}

/// The alert store and the aggregation groups.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    route: Route,
    inhibitor: Inhibitor,
    resolve_timeout_ms: i64,
    alerts: HashMap<u64, Stored>,
    groups: BTreeMap<GroupId, AggrGroup>,
    next_maintenance_ms: i64,
    next_gc_ms: i64,
}

impl Dispatcher {
    /// A dispatcher for a config, started at `now_ms`.
    pub fn new(config: &Config, now_ms: i64) -> Dispatcher {
        Dispatcher {
            route: Route::new(&config.route),
            inhibitor: Inhibitor::new(&config.inhibit_rules),
            resolve_timeout_ms: config.global.resolve_timeout_ms,
            alerts: HashMap::new(),
            groups: BTreeMap::new(),
            next_maintenance_ms: now_ms + MAINTENANCE_INTERVAL_MS,
            next_gc_ms: now_ms + ALERT_GC_INTERVAL_MS,
        }
    }

    /// Applies a new config as Alertmanager's reload does: the alerts are kept, the
    /// groups start over (each stored alert is routed again, `group_wait` anew).
    pub fn reload(&mut self, config: &Config, now_ms: i64) {
        self.route = Route::new(&config.route);
        self.inhibitor = Inhibitor::new(&config.inhibit_rules);
        self.resolve_timeout_ms = config.global.resolve_timeout_ms;
        self.groups.clear();
        let mut all: Vec<(u64, Alert)> = self
            .alerts
            .iter()
            .map(|(fp, s)| (*fp, s.alert.clone()))
            .collect();
        all.sort_by_key(|(fp, _)| *fp);
        for (fp, a) in all {
            self.route_alert(fp, &a, now_ms);
        }
    }

    /// The routing tree.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The inhibit rules.
    pub fn inhibitor(&self) -> &Inhibitor {
        &self.inhibitor
    }

    /// Every stored alert (firing, or resolved and not yet garbage-collected).
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values().map(|s| &s.alert)
    }

    /// The stored alert with this fingerprint.
    pub fn alert(&self, fingerprint: u64) -> Option<&Alert> {
        self.alerts.get(&fingerprint).map(|s| &s.alert)
    }

    /// Receives alerts (POST /api/v2/alerts or the rule engine). Valid alerts are stored
    /// and grouped even when others are not; the problems are returned, one message per
    /// invalid alert (Alertmanager's wording).
    pub fn put(&mut self, alerts: Vec<Alert>, now_ms: i64) -> Vec<String> {
        let mut errors = Vec::new();
        for mut a in alerts {
            a.updated_at_ms = now_ms;
            if a.starts_at_ms == 0 {
                a.starts_at_ms = if a.ends_at_ms == 0 {
                    now_ms
                } else {
                    a.ends_at_ms
                };
            }
            let timeout = a.ends_at_ms == 0;
            if timeout {
                a.ends_at_ms = now_ms.saturating_add(self.resolve_timeout_ms);
            }
            if let Err(e) = validate(&a) {
                errors.push(e);
                continue;
            }
            let fp = fingerprint(&a.labels);
            let mut new = Stored { alert: a, timeout };
            if let Some(old) = self.alerts.get(&fp) {
                let (o, n) = (&old.alert, &new.alert);
                let overlap = (n.ends_at_ms > o.starts_at_ms && n.ends_at_ms < o.ends_at_ms)
                    || (n.starts_at_ms > o.starts_at_ms && n.starts_at_ms < o.ends_at_ms);
                if overlap {
                    new = merge(old, &new, now_ms);
                }
            }
            let alert = new.alert.clone();
            self.alerts.insert(fp, new);
            self.route_alert(fp, &alert, now_ms);
        }
        errors
    }

    /// Inserts a stored alert into the group of every matching route.
    fn route_alert(&mut self, fp: u64, alert: &Alert, now_ms: i64) {
        for r in self.route.matching(&alert.labels) {
            let labels = r.group_labels(&alert.labels);
            let id = GroupId {
                route: r.id,
                labels: fingerprint(&labels),
            };
            let g = self.groups.entry(id).or_insert_with(|| AggrGroup {
                key: r.group_key(&labels),
                labels,
                alerts: HashMap::new(),
                next_flush_ms: now_ms + r.group_wait_ms,
                has_flushed: false,
                in_flight: None,
            });
            g.alerts.insert(fp, alert.clone());
            // The alert waited long enough already: flush now (`aggrGroup.insert`).
            if !g.has_flushed && alert.starts_at_ms.saturating_add(r.group_wait_ms) < now_ms {
                g.next_flush_ms = g.next_flush_ms.min(now_ms);
            }
        }
    }

    /// When `flush` next has something to do.
    pub fn next_due_ms(&self) -> i64 {
        let mut due = self.next_gc_ms;
        let mut has_empty = false;
        for g in self.groups.values().filter(|g| g.in_flight.is_none()) {
            due = due.min(g.next_flush_ms);
            has_empty |= g.alerts.is_empty();
        }
        if has_empty {
            due = due.min(self.next_maintenance_ms);
        }
        due
    }

    /// Flushes every group that is due: returns what to deliver. Groups whose alerts are
    /// all muted deliver nothing and count as delivered.
    pub fn flush(&mut self, silences: &Silences, now_ms: i64) -> Vec<Flush> {
        if now_ms >= self.next_gc_ms {
            self.alerts.retain(|_, s| !s.alert.resolved_at(now_ms));
            self.next_gc_ms = next_tick(self.next_gc_ms, ALERT_GC_INTERVAL_MS, now_ms);
        }
        if now_ms >= self.next_maintenance_ms {
            self.groups
                .retain(|_, g| !g.alerts.is_empty() || g.in_flight.is_some());
            self.next_maintenance_ms =
                next_tick(self.next_maintenance_ms, MAINTENANCE_INTERVAL_MS, now_ms);
        }
        let due: Vec<GroupId> = self
            .groups
            .iter()
            .filter(|(_, g)| g.in_flight.is_none() && g.next_flush_ms <= now_ms)
            .map(|(id, _)| *id)
            .collect();
        if due.is_empty() {
            return Vec::new();
        }
        let index = self
            .inhibitor
            .index(self.alerts.values().map(|s| &s.alert), now_ms);
        let mut out = Vec::new();
        let mut all_muted = Vec::new();
        for id in due {
            let Some(route) = self.route.get(id.route) else {
                continue;
            };
            let Some(g) = self.groups.get_mut(&id) else {
                continue;
            };
            g.next_flush_ms = now_ms + route.group_interval_ms;
            g.has_flushed = true;
            if g.alerts.is_empty() {
                continue;
            }
            let mut snapshot: Vec<Alert> = g
                .alerts
                .values()
                .map(|a| {
                    let mut a = a.clone();
                    // Alerts do not resolve while the notification travels.
                    if !a.resolved_at(now_ms) {
                        a.ends_at_ms = 0;
                    }
                    a
                })
                .collect();
            snapshot.sort_by(sort::by_less(|a: &Alert, b: &Alert| {
                alert_less(&a.labels, &b.labels)
            }));
            let unmuted: Vec<Alert> = snapshot
                .iter()
                .filter(|a| {
                    index.inhibited_by(&a.labels).is_none()
                        && silences.mutes(&a.labels, now_ms).is_empty()
                })
                .cloned()
                .collect();
            g.in_flight = Some(snapshot);
            if unmuted.is_empty() {
                all_muted.push(id);
                continue;
            }
            out.push(Flush {
                group: id,
                receiver: route.receiver.clone(),
                group_key: g.key.clone(),
                group_labels: g.labels.clone(),
                alerts: unmuted,
                group_interval_ms: route.group_interval_ms,
                repeat_interval_ms: route.repeat_interval_ms,
                now_ms,
            });
        }
        for id in all_muted {
            self.delivered(id, now_ms);
        }
        out
    }

    /// The flush of `group` was delivered to every integration (or needed no delivery):
    /// its resolved alerts that did not change since leave the group.
    pub fn delivered(&mut self, group: GroupId, now_ms: i64) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        for a in g.in_flight.take().unwrap_or_default() {
            if !a.resolved_at(now_ms) {
                continue;
            }
            let fp = fingerprint(&a.labels);
            if g.alerts.get(&fp).map(|x| x.updated_at_ms) == Some(a.updated_at_ms) {
                g.alerts.remove(&fp);
            }
        }
    }

    /// The flush of `group` failed: nothing is removed; the group flushes again at its
    /// next interval.
    pub fn failed(&mut self, group: GroupId) {
        if let Some(g) = self.groups.get_mut(&group) {
            g.in_flight = None;
        }
    }

    /// The number of aggregation groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }
}

/// The first tick of a ticker (`tick`, `tick + interval`, …) after `now_ms`: like Go's
/// `time.Ticker`, the cadence stays and missed ticks are dropped.
fn next_tick(tick: i64, interval: i64, now_ms: i64) -> i64 {
    if tick > now_ms {
        return tick;
    }
    tick + ((now_ms - tick) / interval + 1) * interval
}

/// `Alert.Validate` after the API filled in the times.
fn validate(a: &Alert) -> Result<(), String> {
    if a.ends_at_ms < a.starts_at_ms {
        return Err("start time must be before end time".into());
    }
    if let Some(l) = a.labels.iter().find(|l| !valid_label_name(&l.name)) {
        return Err(format!("invalid label set: invalid name {:?}", l.name));
    }
    if a.labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    if let Some(k) = a.annotations.keys().find(|k| !valid_label_name(k)) {
        return Err(format!("invalid annotations: invalid name {k:?}"));
    }
    Ok(())
}

/// `types.Alert.Merge` (`a` the stored alert, `o` the received one): the younger one's
/// fields, the earliest start; for a resolved result the latest explicit end; for a
/// firing one a later end of the older alert only when that end was not a timeout.
fn merge(a: &Stored, o: &Stored, now_ms: i64) -> Stored {
    if o.alert.updated_at_ms < a.alert.updated_at_ms {
        return merge(o, a, now_ms);
    }
    let mut res = o.clone();
    if a.alert.starts_at_ms < o.alert.starts_at_ms {
        res.alert.starts_at_ms = a.alert.starts_at_ms;
    }
    if o.alert.resolved_at(now_ms) {
        if a.alert.resolved_at(now_ms) && a.alert.ends_at_ms > o.alert.ends_at_ms {
            res.alert.ends_at_ms = a.alert.ends_at_ms;
        }
    } else if a.alert.ends_at_ms > o.alert.ends_at_ms && !a.timeout {
        res.alert.ends_at_ms = a.alert.ends_at_ms;
    }
    res
}

#[cfg(test)]
mod tests;

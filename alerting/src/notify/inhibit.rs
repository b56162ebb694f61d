//! Inhibition as Alertmanager 0.25's `inhibit/inhibit.go` does it: an alert matching a
//! rule's target matchers is inhibited while a firing alert matching the source matchers
//! has the same values of the `equal` labels (a missing label is the empty string). When
//! the target also matches the source matchers, sources that also match the target
//! matchers do not count (an alert never inhibits itself or its kind).
//!
//! Alertmanager reports one inhibiting alert, picked in map order; argus picks the one
//! with the lowest fingerprint, so the answer is deterministic.

use std::collections::HashMap;

use argus_core::series::Labels;

use crate::notify::config::InhibitRuleConfig;
use crate::notify::matchers::{matches_all, Matcher};
use crate::notify::Alert;

/// One rule.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    /// Matchers an inhibiting alert must match.
    pub source: Vec<Matcher>,
    /// Matchers an inhibited alert must match.
    pub target: Vec<Matcher>,
    /// Labels whose values must be equal on both sides (missing = empty).
    pub equal: Vec<String>,
}

impl InhibitRule {
    /// The rule of a config entry.
    pub fn new(cfg: &InhibitRuleConfig) -> InhibitRule {
        InhibitRule {
            source: cfg.source(),
            target: cfg.target(),
            equal: cfg.equal.clone(),
        }
    }

    fn equal_values(&self, labels: &Labels) -> Vec<String> {
        self.equal
            .iter()
            .map(|n| labels.get(n).unwrap_or("").to_string())
            .collect()
    }
}

/// One rule's firing source alerts (fingerprint, alert) by their `equal` values, sorted
/// by fingerprint.
type Sources<'a> = HashMap<Vec<String>, Vec<(u64, &'a Alert)>>;

/// The inhibit rules of a config.
#[derive(Debug, Clone, Default)]
pub struct Inhibitor {
    /// In config order; the first that inhibits decides.
    pub rules: Vec<InhibitRule>,
}

impl Inhibitor {
    /// The rules of a config's `inhibit_rules`.
    pub fn new(rules: &[InhibitRuleConfig]) -> Inhibitor {
        Inhibitor {
            rules: rules.iter().map(InhibitRule::new).collect(),
        }
    }

    /// The firing source alerts of every rule, indexed by their `equal` values; build it
    /// once per batch of questions.
    pub fn index<'a>(
        &'a self,
        alerts: impl IntoIterator<Item = &'a Alert>,
        now_ms: i64,
    ) -> InhibitIndex<'a> {
        let mut sources: Vec<Sources<'a>> = vec![HashMap::new(); self.rules.len()];
        for a in alerts {
            if a.resolved_at(now_ms) {
                continue;
            }
            for (rule, idx) in self.rules.iter().zip(sources.iter_mut()) {
                if matches_all(&rule.source, &a.labels) {
                    idx.entry(rule.equal_values(&a.labels))
                        .or_default()
                        .push((a.fingerprint(), a));
                }
            }
        }
        for idx in &mut sources {
            for v in idx.values_mut() {
                v.sort_by_key(|(fp, _)| *fp);
            }
        }
        InhibitIndex {
            rules: &self.rules,
            sources,
        }
    }

    /// The fingerprint of the alert inhibiting `alert` among `all` (empty, or one as in
    /// Alertmanager's `inhibitedBy`).
    pub fn inhibited_by<'a>(
        &'a self,
        alert: &Alert,
        all: impl IntoIterator<Item = &'a Alert>,
        now_ms: i64,
    ) -> Vec<u64> {
        self.index(all, now_ms)
            .inhibited_by(&alert.labels)
            .into_iter()
            .collect()
    }
}

/// Source alerts of each rule by `equal` values (see [`Inhibitor::index`]).
pub struct InhibitIndex<'a> {
    rules: &'a [InhibitRule],
    sources: Vec<Sources<'a>>,
}

impl InhibitIndex<'_> {
    /// The fingerprint of an alert inhibiting an alert with these labels (`Mutes`): the
    /// first rule whose target matches and that has a qualifying source decides.
    pub fn inhibited_by(&self, labels: &Labels) -> Option<u64> {
        for (rule, idx) in self.rules.iter().zip(&self.sources) {
            if !matches_all(&rule.target, labels) {
                continue;
            }
            let exclude_two_sided = matches_all(&rule.source, labels);
            let Some(candidates) = idx.get(&rule.equal_values(labels)) else {
                continue;
            };
            let found = candidates
                .iter()
                .find(|(_, a)| !(exclude_two_sided && matches_all(&rule.target, &a.labels)));
            if let Some((fp, _)) = found {
                return Some(*fp);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::config::Config;

    fn alert(l: &[(&str, &str)], ends_at_ms: i64) -> Alert {
        Alert {
            labels: Labels::new(l.iter().copied()),
            annotations: Default::default(),
            starts_at_ms: 0,
            ends_at_ms,
            generator_url: String::new(),
            updated_at_ms: 0,
        }
    }

    fn inhibitor(rules: &str) -> Inhibitor {
        let y =
            format!("route: {{receiver: r}}\nreceivers: [{{name: r}}]\ninhibit_rules:\n{rules}");
        Inhibitor::new(&Config::parse(&y, "t.yml").expect("config").inhibit_rules)
    }

    #[test]
    fn source_target_equal() {
        let ih = inhibitor(
            "- source_matchers: [severity=critical]\n  target_matchers: [severity=warning]\n  equal: [cluster, missing]\n",
        );
        let crit = alert(
            &[
                ("alertname", "Down"),
                ("severity", "critical"),
                ("cluster", "a"),
            ],
            0,
        );
        let warn_a = alert(
            &[
                ("alertname", "Slow"),
                ("severity", "warning"),
                ("cluster", "a"),
            ],
            0,
        );
        let warn_b = alert(
            &[
                ("alertname", "Slow"),
                ("severity", "warning"),
                ("cluster", "b"),
            ],
            0,
        );
        let all = [crit.clone(), warn_a.clone(), warn_b.clone()];
        assert_eq!(ih.inhibited_by(&warn_a, &all, 10), vec![crit.fingerprint()]);
        assert!(ih.inhibited_by(&warn_b, &all, 10).is_empty());
        assert!(ih.inhibited_by(&crit, &all, 10).is_empty());
        // A resolved source does not inhibit; one still within its end time does.
        let resolved = [
            alert(&[("severity", "critical"), ("cluster", "a")], 5),
            warn_a.clone(),
        ];
        assert!(ih.inhibited_by(&warn_a, &resolved, 10).is_empty());
        assert_eq!(ih.inhibited_by(&warn_a, &resolved, 4).len(), 1);
    }

    #[test]
    fn missing_equal_labels_are_equal_empty() {
        let ih = inhibitor("- source_match: {a: s}\n  target_match: {a: t}\n  equal: [zone]\n");
        let s = alert(&[("a", "s")], 0);
        let t = alert(&[("a", "t")], 0);
        let tz = alert(&[("a", "t"), ("zone", "z")], 0);
        let all = [s.clone(), t.clone(), tz.clone()];
        assert_eq!(ih.inhibited_by(&t, &all, 0), vec![s.fingerprint()]);
        assert!(ih.inhibited_by(&tz, &all, 0).is_empty());
    }

    #[test]
    fn alerts_matching_both_sides_do_not_inhibit_each_other() {
        // Every alert matches both sides: none is inhibited (Alertmanager's
        // excludeTwoSidedMatch), not even by another alert of the same kind.
        let ih = inhibitor("- source_match_re: {severity: 'crit.*'}\n  target_match_re: {severity: '.*'}\n  equal: [job]\n");
        let a = alert(&[("severity", "critical"), ("job", "x"), ("i", "1")], 0);
        let b = alert(&[("severity", "critical"), ("job", "x"), ("i", "2")], 0);
        let w = alert(&[("severity", "warning"), ("job", "x")], 0);
        let all = [a.clone(), b.clone(), w.clone()];
        assert!(ih.inhibited_by(&a, &all, 0).is_empty());
        assert!(ih.inhibited_by(&b, &all, 0).is_empty());
        // The warning matches only the target side: inhibited by the lowest fingerprint.
        let lowest = a.fingerprint().min(b.fingerprint());
        assert_eq!(ih.inhibited_by(&w, &all, 0), vec![lowest]);
    }

    #[test]
    fn first_rule_with_a_source_decides() {
        let ih = inhibitor(
            "- source_match: {k: one}\n  target_match: {t: x}\n- source_match: {k: two}\n  target_match: {t: x}\n",
        );
        let one = alert(&[("k", "one")], 0);
        let two = alert(&[("k", "two")], 0);
        let t = alert(&[("t", "x")], 0);
        assert_eq!(
            ih.inhibited_by(&t, &[two.clone(), t.clone()], 0),
            vec![two.fingerprint()]
        );
        assert_eq!(
            ih.inhibited_by(&t, &[two.clone(), one.clone(), t.clone()], 0),
            vec![one.fingerprint()]
        );
        assert!(Inhibitor::default().inhibited_by(&t, &[one], 0).is_empty());
    }
}

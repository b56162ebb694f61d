//! Series derived from the log lines the tailer reads:
//! `argus_log_lines_total` and `argus_log_bytes_total` by namespace, pod, container and
//! stream, and `argus_log_pattern_matches_total` for the regexes of
//! `collector.log_metrics`. Counts are taken when records are read (before shipping), so
//! they do not depend on the aggregator; a container's series go away once none of its
//! files is tailed any more.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use argus_core::record::Stream;
use regex::Regex;

use super::expo::{Exposition, Kind};
use crate::logs::Batch;

/// A configured pattern, compiled.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub name: String,
    pub regex: Regex,
    /// Only lines of these namespaces are matched (all when empty).
    pub namespaces: Vec<String>,
}

#[derive(Debug, Default, Clone)]
struct Counts {
    /// [stdout, stderr]
    lines: [u64; 2],
    bytes: [u64; 2],
    matches: Vec<u64>,
}

type ByContainer = HashMap<String, HashMap<String, HashMap<String, Counts>>>;

/// Counters per container, updated by the tailer thread, read by scrapes.
#[derive(Debug, Default)]
pub struct LogMetrics {
    patterns: Vec<Pattern>,
    counts: Mutex<ByContainer>,
}

impl LogMetrics {
    pub fn new(patterns: Vec<Pattern>) -> LogMetrics {
        LogMetrics {
            patterns,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts the records of a batch.
    pub fn observe(&self, batch: &Batch) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in &batch.chunks {
            let m = &chunk.meta;
            let c = counts
                .entry_ref_or_default(&m.namespace)
                .entry_ref_or_default(&m.pod)
                .entry_ref_or_default(&m.container);
            if c.matches.len() != self.patterns.len() {
                c.matches.resize(self.patterns.len(), 0);
            }
            let active: Vec<usize> = (0..self.patterns.len())
                .filter(|&i| {
                    let ns = &self.patterns[i].namespaces;
                    ns.is_empty() || ns.contains(&m.namespace)
                })
                .collect();
            for r in &chunk.records {
                let s = usize::from(r.stream == Stream::Stderr);
                c.lines[s] += 1;
                c.bytes[s] += r.message.len() as u64;
                for &i in &active {
                    if self.patterns[i].regex.is_match(&r.message) {
                        c.matches[i] += 1;
                    }
                }
            }
        }
    }

    /// Drops the series of containers no longer tailed.
    pub fn retain(&self, live: &HashSet<(String, String, String)>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (ns, pods) in counts.iter_mut() {
            for (pod, ctrs) in pods.iter_mut() {
                ctrs.retain(|c, _| live.contains(&(ns.clone(), pod.clone(), c.clone())));
            }
            pods.retain(|_, c| !c.is_empty());
        }
        counts.retain(|_, p| !p.is_empty());
    }

    /// Writes the `argus_log_*` families.
    pub fn collect(&self, out: &mut Exposition) {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(&str, &str, &str, &Counts)> = Vec::new();
        for (ns, pods) in counts.iter() {
            for (pod, ctrs) in pods {
                for (c, n) in ctrs {
                    rows.push((ns, pod, c, n));
                }
            }
        }
        rows.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        for (name, help, bytes) in [
            (
                "argus_log_lines_total",
                "Log lines read from container log files.",
                false,
            ),
            (
                "argus_log_bytes_total",
                "Bytes of log messages read from container log files.",
                true,
            ),
        ] {
            out.family(name, Kind::Counter, help);
            for (ns, pod, c, n) in &rows {
                for (s, stream) in ["stdout", "stderr"].iter().enumerate() {
                    let v = if bytes { n.bytes[s] } else { n.lines[s] };
                    if n.lines[s] > 0 {
                        out.sample(
                            name,
                            &[
                                ("namespace", ns),
                                ("pod", pod),
                                ("container", c),
                                ("stream", stream),
                            ],
                            v as f64,
                        );
                    }
                }
            }
        }
        if self.patterns.is_empty() {
            return;
        }
        let name = "argus_log_pattern_matches_total";
        out.family(
            name,
            Kind::Counter,
            "Log lines matching a configured pattern (collector.log_metrics).",
        );
        for (i, p) in self.patterns.iter().enumerate() {
            for (ns, pod, c, n) in &rows {
                let applies = p.namespaces.is_empty() || p.namespaces.iter().any(|x| x == ns);
                if applies {
                    let v = n.matches.get(i).copied().unwrap_or(0);
                    out.sample(
                        name,
                        &[
                            ("pattern", &p.name),
                            ("namespace", ns),
                            ("pod", pod),
                            ("container", c),
                        ],
                        v as f64,
                    );
                }
            }
        }
    }
}

/// `entry` with a borrowed key, allocating the key only when it is new.
trait EntryRef<V> {
    fn entry_ref_or_default(&mut self, k: &str) -> &mut V;
}

impl<V: Default> EntryRef<V> for HashMap<String, V> {
    fn entry_ref_or_default(&mut self, k: &str) -> &mut V {
        if !self.contains_key(k) {
            self.insert(k.to_string(), V::default());
        }
        self.get_mut(k).expect("inserted above")
    }
}

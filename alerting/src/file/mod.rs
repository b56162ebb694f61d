//! Rule files in Prometheus' format (`groups: [{name, interval, limit, rules: [...]}]`),
//! read strictly (an unknown field is an error) and validated as `promtool check rules`
//! validates them, with Prometheus' messages: `FILE: LINE:COL: group "g", rule 2, "name":
//! could not parse expression: …`.

mod positions;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::duration::PromDuration;
use crate::template;
use positions::{GroupPos, Pos, RulePos};

/// A rule file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The rule groups, evaluated independently.
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

/// A group of rules evaluated together, in order, at one interval.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleGroup {
    /// Unique within the file.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    /// Evaluation interval; default: the global `evaluation_interval` (1m).
    #[serde(default)]
    pub interval: Option<PromDuration>,
    /// Most series a recording rule or alerts an alerting rule may produce; 0: no limit.
    #[serde(default)]
    pub limit: usize,
    /// The rules, evaluated in order.
    #[serde(default, deserialize_with = "nullable")]
    pub rules: Vec<RuleNode>,
}

/// A recording rule (`record`) or an alerting rule (`alert`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleNode {
    /// Name of the series a recording rule writes.
    #[serde(default, deserialize_with = "lenient_string")]
    pub record: String,
    /// Name of the alert an alerting rule raises.
    #[serde(default, deserialize_with = "lenient_string")]
    pub alert: String,
    /// The PromQL expression.
    #[serde(default, deserialize_with = "lenient_string")]
    pub expr: String,
    /// How long an alert stays pending before it fires; default 0.
    #[serde(default, rename = "for")]
    pub for_: PromDuration,
    /// How long an alert keeps firing after its condition cleared; default 0.
    #[serde(default)]
    pub keep_firing_for: PromDuration,
    /// Labels added to (or overriding those of) the result; templated for alerts.
    #[serde(default, deserialize_with = "string_map")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of alerts (templated).
    #[serde(default, deserialize_with = "string_map")]
    pub annotations: BTreeMap<String, String>,
}

impl RuleNode {
    /// The rule's name: the alert's or the recorded series'.
    pub fn name(&self) -> &str {
        if self.alert.is_empty() {
            &self.record
        } else {
            &self.alert
        }
    }

    pub fn is_alert(&self) -> bool {
        !self.alert.is_empty()
    }
}

/// A problem with a rule file, with Prometheus' wording (the file name first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct FileError {
    pub file: String,
    /// The line the problem is on, when known.
    pub line: Option<usize>,
    pub message: String,
}

/// Reads and validates a rule file; every problem found is returned.
pub fn load_file(path: &Path) -> Result<RuleFile, Vec<FileError>> {
    let name = path.display().to_string();
    let content = std::fs::read_to_string(path).map_err(|e| {
        vec![FileError {
            file: name.clone(),
            line: None,
            message: e.to_string(),
        }]
    })?;
    parse_rules(&name, &content)
}

/// Parses and validates the content of rule file `file`.
pub fn parse_rules(file: &str, content: &str) -> Result<RuleFile, Vec<FileError>> {
    let err = |line: Option<usize>, message: String| FileError {
        file: file.to_string(),
        line,
        message,
    };
    let rf: RuleFile = match serde_yaml::from_str::<Option<RuleFile>>(content) {
        Ok(rf) => rf.unwrap_or_default(),
        Err(e) => {
            let line = e.location().map(|l| l.line());
            return Err(vec![err(line, format!("yaml: {e}"))]);
        }
    };
    let errs = validate(&rf, &positions::locate(content));
    if errs.is_empty() {
        Ok(rf)
    } else {
        Err(errs.into_iter().map(|(line, m)| err(line, m)).collect())
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_' || x == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

/// Whether `s` is a valid label name.
pub fn is_label_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

fn at(p: Option<Pos>) -> String {
    let (l, c) = p.unwrap_or((0, 0));
    format!("{l}:{c}: ")
}

/// Prometheus' `RuleGroups.Validate`, in its order; each error with its line.
fn validate(rf: &RuleFile, pos: &[GroupPos]) -> Vec<(Option<usize>, String)> {
    let mut errs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (gi, g) in rf.groups.iter().enumerate() {
        let gp = pos.get(gi).cloned().unwrap_or_default();
        let line = gp.group.map(|p| p.0);
        if g.name.is_empty() {
            errs.push((line, format!("{}Groupname must not be empty", at(gp.group))));
        }
        if !seen.insert(g.name.as_str()) {
            errs.push((
                line,
                format!(
                    "{}groupname: \"{}\" is repeated in the same file",
                    at(gp.group),
                    g.name
                ),
            ));
        }
        for (ri, r) in g.rules.iter().enumerate() {
            let rp = gp.rules.get(ri).cloned().unwrap_or_default();
            for (node, msg) in validate_rule(r, &rp) {
                let line = node.as_ref().and_then(|(p, _)| p.map(|x| x.0));
                let prefix = match node {
                    Some((p, Some(alt))) => format!("{}{}", at(p), at(alt)),
                    Some((p, None)) => at(p),
                    None => String::new(),
                };
                errs.push((
                    line,
                    format!(
                        "{prefix}group \"{}\", rule {}, \"{}\": {msg}",
                        g.name,
                        ri + 1,
                        r.name()
                    ),
                ));
            }
        }
    }
    errs
}

type Node = Option<(Option<Pos>, Option<Option<Pos>>)>;

/// Prometheus' `RuleNode.Validate`: each problem with the node(s) it is about.
fn validate_rule(r: &RuleNode, p: &RulePos) -> Vec<(Node, String)> {
    let mut out: Vec<(Node, String)> = Vec::new();
    let rec = Some((p.record, None));
    if !r.record.is_empty() && !r.alert.is_empty() {
        out.push((
            Some((p.record, Some(p.alert))),
            "only one of 'record' and 'alert' must be set".into(),
        ));
    }
    if r.record.is_empty() && r.alert.is_empty() {
        out.push((rec, "one of 'record' or 'alert' must be set".into()));
    }
    if r.expr.is_empty() {
        out.push((
            Some((p.expr, None)),
            "field 'expr' must be set in rule".into(),
        ));
    } else if let Err(e) = argus_promql::parse(&r.expr) {
        out.push((
            Some((p.expr, None)),
            format!("could not parse expression: {e}"),
        ));
    }
    if !r.record.is_empty() {
        if !r.annotations.is_empty() {
            out.push((rec, "invalid field 'annotations' in recording rule".into()));
        }
        if r.for_.ms() != 0 {
            out.push((rec, "invalid field 'for' in recording rule".into()));
        }
        if r.keep_firing_for.ms() != 0 {
            out.push((
                rec,
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        if !is_metric_name(&r.record) {
            out.push((rec, format!("invalid recording rule name: {}", r.record)));
        }
    }
    for k in r.labels.keys() {
        if !is_label_name(k) || k == "__name__" {
            out.push((None, format!("invalid label name: {k}")));
        }
    }
    for k in r.annotations.keys() {
        if !is_label_name(k) {
            out.push((None, format!("invalid annotation name: {k}")));
        }
    }
    if r.is_alert() {
        for (k, v) in &r.labels {
            if let Err(e) = template::check_alert_template(&r.alert, v) {
                out.push((None, format!("label {k:?}: {e}")));
            }
        }
        for (k, v) in &r.annotations {
            if let Err(e) = template::check_alert_template(&r.alert, v) {
                out.push((None, format!("annotation {k:?}: {e}")));
            }
        }
    }
    out
}

/// A YAML scalar of any type as its text (Go's YAML decodes `1` into a string field too);
/// null is empty.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
            Ok(s.to_string())
        }
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<String, E> {
            Ok(b.to_string())
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<String, E> {
            Ok(n.to_string())
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<String, E> {
            Ok(n.to_string())
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<String, E> {
            Ok(crate::gofmt::format_v(n))
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }
    d.deserialize_any(V)
}

/// A map of strings whose values may be any scalar; null is empty.
fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    struct S(#[serde(deserialize_with = "lenient_string")] String);
    let m: Option<BTreeMap<String, S>> = Option::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// A list that may be written as null.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;

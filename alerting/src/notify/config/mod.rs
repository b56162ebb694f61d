//! An `alertmanager.yml`, read as Alertmanager 0.25 reads it and validated as it
//! validates it: `global`, `route`, `receivers`, `inhibit_rules`, `templates`
//! (must be empty), `time_intervals`/`mute_time_intervals` (must be empty). An unknown
//! field is an error naming its path; errors start with the file name and, when known,
//! the line: `alertmanager.yml:12: route.routes[1].grup_by: unknown field`.

mod global;
mod positions;
mod walk;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_yaml::{Mapping, Value};

pub use global::{default_resolve_timeout_ms, GlobalConfig};

use crate::duration::format_duration;
use crate::notify::matchers::{parse_matchers, sort_matchers, MatchType, Matcher};
use crate::notify::receivers::ReceiverConfig;
use argus_core::series::valid_label_name;
use walk::{Fields, Node, PathError, Res};

/// Receiver kinds argus implements.
const SUPPORTED_KINDS: &[&str] = &[
    "webhook_configs",
    "slack_configs",
    "dingtalk_configs",
    "wecom_configs",
    "feishu_configs",
];

/// Receiver kinds of Alertmanager argus does not implement.
const UNSUPPORTED_KINDS: &[&str] = &[
    "email_configs",
    "pagerduty_configs",
    "opsgenie_configs",
    "wechat_configs",
    "pushover_configs",
    "victorops_configs",
    "sns_configs",
    "telegram_configs",
    "discord_configs",
    "webex_configs",
    "msteams_configs",
];

/// A whole `alertmanager.yml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// `global:`.
    pub global: GlobalConfig,
    /// The routing tree's root.
    pub route: RouteConfig,
    /// The receivers, names unique.
    pub receivers: Vec<ReceiverConfig>,
    /// `inhibit_rules:`.
    pub inhibit_rules: Vec<InhibitRuleConfig>,
}

/// One node of the routing tree as written (see [`crate::notify::route::Route`] for the
/// tree with inherited settings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteConfig {
    /// Receiver of alerts routed here; inherited when unset.
    pub receiver: Option<String>,
    /// `group_by` label names; `None` (absent or empty) inherits the parent's.
    pub group_by: Option<Vec<String>>,
    /// `group_by: ['...']`: group by all labels.
    pub group_by_all: bool,
    /// Inherited when unset; root default 30s.
    pub group_wait_ms: Option<i64>,
    /// Inherited when unset; root default 5m; never 0.
    pub group_interval_ms: Option<i64>,
    /// Inherited when unset; root default 4h; never 0.
    pub repeat_interval_ms: Option<i64>,
    /// Keep matching the following siblings after this route matched.
    pub continue_: bool,
    /// `match:` (deprecated): label → value.
    pub match_: BTreeMap<String, String>,
    /// `match_re:` (deprecated): label → regex, as written.
    pub match_re: BTreeMap<String, String>,
    /// `matchers:`, sorted.
    pub matchers: Vec<Matcher>,
    /// Child routes, in order.
    pub routes: Vec<RouteConfig>,
}

impl RouteConfig {
    /// Every matcher of the route as Alertmanager builds them (`match`, then `match_re`
    /// anchored as Alertmanager 0.25 prints them, then `matchers`), sorted.
    pub fn all_matchers(&self) -> Vec<Matcher> {
        legacy_matchers(&self.match_, &self.match_re, &self.matchers)
    }
}

/// One `inhibit_rules:` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InhibitRuleConfig {
    /// `source_match:` (deprecated): label → value.
    pub source_match: BTreeMap<String, String>,
    /// `source_match_re:` (deprecated): label → regex, as written.
    pub source_match_re: BTreeMap<String, String>,
    /// `source_matchers:`, sorted.
    pub source_matchers: Vec<Matcher>,
    /// `target_match:` (deprecated): label → value.
    pub target_match: BTreeMap<String, String>,
    /// `target_match_re:` (deprecated): label → regex, as written.
    pub target_match_re: BTreeMap<String, String>,
    /// `target_matchers:`, sorted.
    pub target_matchers: Vec<Matcher>,
    /// Labels whose values must be equal in source and target (missing = empty).
    pub equal: Vec<String>,
}

impl InhibitRuleConfig {
    /// Every source matcher (`source_match`, `source_match_re`, `source_matchers`), sorted.
    pub fn source(&self) -> Vec<Matcher> {
        legacy_matchers(
            &self.source_match,
            &self.source_match_re,
            &self.source_matchers,
        )
    }

    /// Every target matcher (`target_match`, `target_match_re`, `target_matchers`), sorted.
    pub fn target(&self) -> Vec<Matcher> {
        legacy_matchers(
            &self.target_match,
            &self.target_match_re,
            &self.target_matchers,
        )
    }
}

/// `match` and `match_re` maps plus `matchers`, as `NewRoute`/`NewInhibitRule` combine
/// them. A `match_re` value becomes `^(?:re)$`: Alertmanager 0.25 keeps the anchored
/// source (`Regexp.String()`), which shows in route keys.
fn legacy_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
    matchers: &[Matcher],
) -> Vec<Matcher> {
    let mut out: Vec<Matcher> = eq.iter().map(|(n, v)| Matcher::equal(n, v)).collect();
    for (n, v) in re {
        // Validated when the config was read.
        if let Ok(m) = Matcher::new(MatchType::Regexp, n, format!("^(?:{v})$")) {
            out.push(m);
        }
    }
    out.extend(matchers.iter().cloned());
    sort_matchers(&mut out);
    out
}

impl Config {
    /// Reads and validates the file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        Config::parse(&text, &name)
    }

    /// Parses and validates `text`; errors start with `file_name`.
    pub fn parse(text: &str, file_name: &str) -> Result<Config, String> {
        let mut value: Value =
            serde_yaml::from_str(text).map_err(|e| format!("{file_name}: {e}"))?;
        value
            .apply_merge()
            .map_err(|e| format!("{file_name}: {e}"))?;
        parse_value(&value).map_err(|e| {
            let line = positions::line_of(&positions::lines(text), &e.path);
            let mut s = String::from(file_name);
            if let Some(l) = line {
                s.push_str(&format!(":{l}"));
            }
            s.push_str(": ");
            if !e.path.is_empty() && !e.omit_path {
                s.push_str(&e.path);
                s.push_str(": ");
            }
            s.push_str(&e.message);
            s
        })
    }

    /// The receiver named `name`.
    pub fn receiver(&self, name: &str) -> Option<&ReceiverConfig> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// The config as YAML with every secret shown as `<secret>` (the v2 API's
    /// `config.original`).
    pub fn redacted_yaml(&self) -> String {
        let mut m = Mapping::new();
        m.insert("global".into(), self.global.to_yaml());
        m.insert("route".into(), route_yaml(&self.route));
        if !self.inhibit_rules.is_empty() {
            m.insert(
                "inhibit_rules".into(),
                Value::Sequence(self.inhibit_rules.iter().map(inhibit_yaml).collect()),
            );
        }
        m.insert(
            "receivers".into(),
            Value::Sequence(
                self.receivers
                    .iter()
                    .map(|r| serde_yaml::to_value(r).unwrap_or(Value::Null))
                    .collect(),
            ),
        );
        m.insert("templates".into(), Value::Sequence(Vec::new()));
        serde_yaml::to_string(&Value::Mapping(m)).unwrap_or_default()
    }
}

fn parse_value(root: &Value) -> Res<Config> {
    let root = Node::root(root);
    let f = root.fields(&[
        "global",
        "route",
        "receivers",
        "inhibit_rules",
        "templates",
        "time_intervals",
        "mute_time_intervals",
    ])?;
    let global = global::parse_global(f.get("global"))?;
    if let Some(n) = f.get("templates") {
        if !n.seq()?.is_empty() {
            return Err(
                n.err("custom template files are not supported; set title/text per receiver")
            );
        }
    }
    for key in ["time_intervals", "mute_time_intervals"] {
        if let Some(n) = f.get(key) {
            if !n.seq()?.is_empty() {
                return Err(n.err(format!("{key} are not supported by argus")));
            }
        }
    }
    let mut receivers = Vec::new();
    let mut names = HashSet::new();
    for n in f
        .get("receivers")
        .map(|n| n.seq())
        .transpose()?
        .unwrap_or_default()
    {
        let r = parse_receiver(&n)?;
        if !names.insert(r.name.clone()) {
            return Err(PathError {
                path: format!("{}.name", n.path),
                message: format!("notification config name {:?} is not unique", r.name),
                omit_path: false,
            });
        }
        receivers.push(r);
    }
    // The receivers' own checks (URLs, Slack's global fallback, http_config, …); their
    // messages name the receiver.
    let globals = global.receiver_globals();
    for (r, n) in receivers.iter().zip(
        f.get("receivers")
            .map(|n| n.seq())
            .transpose()?
            .unwrap_or_default(),
    ) {
        r.validate(&globals).map_err(|message| PathError {
            path: n.path.clone(),
            message,
            omit_path: true,
        })?;
    }
    let Some(route_node) = f.get("route") else {
        return Err(f.at("route").err("no routes provided"));
    };
    let route = parse_route(&route_node)?;
    if route.receiver.as_deref().unwrap_or("").is_empty() {
        return Err(route_node.err("root route must specify a default receiver"));
    }
    if !route.match_.is_empty() || !route.match_re.is_empty() || !route.matchers.is_empty() {
        return Err(route_node.err("root route must not have any matchers"));
    }
    check_receivers(&route, &route_node, &names)?;
    let inhibit_rules = f
        .get("inhibit_rules")
        .map(|n| n.seq())
        .transpose()?
        .unwrap_or_default()
        .iter()
        .map(parse_inhibit_rule)
        .collect::<Res<Vec<_>>>()?;
    Ok(Config {
        global,
        route,
        receivers,
        inhibit_rules,
    })
}

/// Every route's receiver must exist (checked depth first, children before the node, as
/// Alertmanager's `checkReceiver`).
fn check_receivers(r: &RouteConfig, node: &Node<'_>, names: &HashSet<String>) -> Res<()> {
    let f = node.fields(ROUTE_FIELDS)?;
    let children = f
        .get("routes")
        .map(|n| n.seq())
        .transpose()?
        .unwrap_or_default();
    for (child, n) in r.routes.iter().zip(children.iter()) {
        check_receivers(child, n, names)?;
    }
    match &r.receiver {
        Some(name) if !name.is_empty() && !names.contains(name) => Err(f
            .at("receiver")
            .err(format!("undefined receiver {name:?} used in route"))),
        _ => Ok(()),
    }
}

fn parse_receiver(n: &Node<'_>) -> Res<ReceiverConfig> {
    let Value::Mapping(map) = n.value else {
        return Err(n.err("must be a mapping"));
    };
    let name = match map.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(n.err("missing name in receiver")),
    };
    let mut clean = Mapping::new();
    for (k, v) in map {
        let key = k.as_str().unwrap_or_default();
        if UNSUPPORTED_KINDS.contains(&key) {
            return Err(PathError {
                path: format!("{}.{key}", n.path),
                message: format!(
                    "receiver {name:?}: {key} is not supported by argus (supported: {})",
                    SUPPORTED_KINDS.join(", ")
                ),
                omit_path: true,
            });
        }
        // yaml.v2 reads `webhook_configs:` (null) as an empty list.
        if !v.is_null() {
            clean.insert(k.clone(), v.clone());
        }
    }
    serde_yaml::from_value(Value::Mapping(clean)).map_err(|e| {
        n.err(format!(
            "receiver {name:?}: {}",
            e.to_string().replace(" at line 1 column 1", "")
        ))
    })
}

const ROUTE_FIELDS: &[&str] = &[
    "receiver",
    "group_by",
    "continue",
    "match",
    "match_re",
    "matchers",
    "mute_time_intervals",
    "active_time_intervals",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "routes",
];

fn parse_route(n: &Node<'_>) -> Res<RouteConfig> {
    let f = n.fields(ROUTE_FIELDS)?;
    let mut r = RouteConfig {
        receiver: f.get("receiver").map(|n| n.string()).transpose()?,
        continue_: f
            .get("continue")
            .map(|n| n.bool())
            .transpose()?
            .unwrap_or(false),
        match_: label_map(&f, "match")?,
        match_re: regex_map(&f, "match_re")?,
        matchers: matchers_list(&f, "matchers")?,
        group_wait_ms: f.get("group_wait").map(|n| n.duration()).transpose()?,
        group_interval_ms: f.get("group_interval").map(|n| n.duration()).transpose()?,
        repeat_interval_ms: f.get("repeat_interval").map(|n| n.duration()).transpose()?,
        ..RouteConfig::default()
    };
    for key in ["mute_time_intervals", "active_time_intervals"] {
        if let Some(n) = f.get(key) {
            if !n.seq()?.is_empty() {
                return Err(n.err("time intervals are not supported by argus"));
            }
        }
    }
    if let Some(gb) = f.get("group_by") {
        let mut names: Vec<String> = Vec::new();
        for (item, l) in gb.strings()? {
            if l == "..." {
                r.group_by_all = true;
            } else if !valid_label_name(&l) {
                return Err(item.err(format!("invalid label name {l:?} in group_by list")));
            } else if names.contains(&l) {
                return Err(item.err(format!("duplicated label {l:?} in group_by")));
            } else {
                names.push(l);
            }
        }
        if r.group_by_all && !names.is_empty() {
            return Err(gb.err(
                "cannot have wildcard group_by (`...`) and other other labels at the same time",
            ));
        }
        // `group_by: []` inherits, as in Alertmanager (its list stays nil).
        if !names.is_empty() {
            r.group_by = Some(names);
        }
    }
    if r.group_interval_ms == Some(0) {
        return Err(f.at("group_interval").err("group_interval cannot be zero"));
    }
    if r.repeat_interval_ms == Some(0) {
        return Err(f
            .at("repeat_interval")
            .err("repeat_interval cannot be zero"));
    }
    if let Some(routes) = f.get("routes") {
        r.routes = routes
            .seq()?
            .iter()
            .map(parse_route)
            .collect::<Res<Vec<_>>>()?;
    }
    Ok(r)
}

fn parse_inhibit_rule(n: &Node<'_>) -> Res<InhibitRuleConfig> {
    let f = n.fields(&[
        "source_match",
        "source_match_re",
        "source_matchers",
        "target_match",
        "target_match_re",
        "target_matchers",
        "equal",
    ])?;
    let mut equal = Vec::new();
    if let Some(e) = f.get("equal") {
        for (item, l) in e.strings()? {
            if !valid_label_name(&l) {
                return Err(item.err(format!("{l:?} is not a valid label name")));
            }
            equal.push(l);
        }
    }
    Ok(InhibitRuleConfig {
        source_match: label_map(&f, "source_match")?,
        source_match_re: regex_map(&f, "source_match_re")?,
        source_matchers: matchers_list(&f, "source_matchers")?,
        target_match: label_map(&f, "target_match")?,
        target_match_re: regex_map(&f, "target_match_re")?,
        target_matchers: matchers_list(&f, "target_matchers")?,
        equal,
    })
}

/// `match:`-style maps: label names must be valid.
fn label_map(f: &Fields<'_>, key: &str) -> Res<BTreeMap<String, String>> {
    let Some(n) = f.get(key) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (k, (item, v)) in n.string_map()? {
        if !valid_label_name(&k) {
            return Err(item.err(format!("invalid label name {k:?}")));
        }
        out.insert(k, v);
    }
    Ok(out)
}

/// `match_re:`-style maps: label names valid and regexes compiling.
fn regex_map(f: &Fields<'_>, key: &str) -> Res<BTreeMap<String, String>> {
    let Some(n) = f.get(key) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (k, (item, v)) in n.string_map()? {
        if !valid_label_name(&k) {
            return Err(item.err(format!("invalid label name {k:?}")));
        }
        Matcher::new(MatchType::Regexp, &k, &v).map_err(|e| item.err(e.0))?;
        out.insert(k, v);
    }
    Ok(out)
}

/// `matchers:`: a list of strings, each a `ParseMatchers` list; sorted.
fn matchers_list(f: &Fields<'_>, key: &str) -> Res<Vec<Matcher>> {
    let Some(n) = f.get(key) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (item, s) in n.strings()? {
        out.extend(parse_matchers(&s).map_err(|e| item.err(e.0))?);
    }
    sort_matchers(&mut out);
    Ok(out)
}

fn strings_yaml<'a>(it: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Sequence(it.into_iter().map(|s| s.clone().into()).collect())
}

fn map_yaml(m: &BTreeMap<String, String>) -> Value {
    Value::Mapping(
        m.iter()
            .map(|(k, v)| (k.clone().into(), v.clone().into()))
            .collect(),
    )
}

fn matchers_yaml(ms: &[Matcher]) -> Value {
    Value::Sequence(ms.iter().map(|m| m.to_string().into()).collect())
}

fn route_yaml(r: &RouteConfig) -> Value {
    let mut m = Mapping::new();
    if let Some(x) = &r.receiver {
        m.insert("receiver".into(), x.clone().into());
    }
    if r.group_by_all {
        m.insert("group_by".into(), strings_yaml(&["...".to_string()]));
    } else if let Some(gb) = &r.group_by {
        m.insert("group_by".into(), strings_yaml(gb));
    }
    if !r.match_.is_empty() {
        m.insert("match".into(), map_yaml(&r.match_));
    }
    if !r.match_re.is_empty() {
        m.insert("match_re".into(), map_yaml(&r.match_re));
    }
    if !r.matchers.is_empty() {
        m.insert("matchers".into(), matchers_yaml(&r.matchers));
    }
    if r.continue_ {
        m.insert("continue".into(), true.into());
    }
    for (k, v) in [
        ("group_wait", r.group_wait_ms),
        ("group_interval", r.group_interval_ms),
        ("repeat_interval", r.repeat_interval_ms),
    ] {
        if let Some(ms) = v {
            m.insert(k.into(), format_duration(ms).into());
        }
    }
    if !r.routes.is_empty() {
        m.insert(
            "routes".into(),
            Value::Sequence(r.routes.iter().map(route_yaml).collect()),
        );
    }
    Value::Mapping(m)
}

fn inhibit_yaml(r: &InhibitRuleConfig) -> Value {
    let mut m = Mapping::new();
    for (k, v) in [
        ("source_match", &r.source_match),
        ("source_match_re", &r.source_match_re),
        ("target_match", &r.target_match),
        ("target_match_re", &r.target_match_re),
    ] {
        if !v.is_empty() {
            m.insert(k.into(), map_yaml(v));
        }
    }
    for (k, v) in [
        ("source_matchers", &r.source_matchers),
        ("target_matchers", &r.target_matchers),
    ] {
        if !v.is_empty() {
            m.insert(k.into(), matchers_yaml(v));
        }
    }
    if !r.equal.is_empty() {
        m.insert("equal".into(), strings_yaml(&r.equal));
    }
    Value::Mapping(m)
}

#[cfg(test)]
mod tests;

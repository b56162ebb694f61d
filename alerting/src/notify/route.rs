//! The routing tree, as Alertmanager 0.25's `dispatch/route.go` builds and walks it:
//! settings inherited from the parent (root defaults: group_wait 30s, group_interval 5m,
//! repeat_interval 4h, no grouping), depth-first matching with `continue`, route keys
//! (`{}/{severity="critical"}`) and group keys (`<route key>:{alertname="A"}`).

use std::collections::BTreeSet;

use argus_core::series::{Label, Labels};

use crate::gofmt::quote;
use crate::notify::config::RouteConfig;
use crate::notify::matchers::{matchers_string, matches_all, Matcher};

/// Root defaults (`DefaultRouteOpts`).
pub const DEFAULT_GROUP_WAIT_MS: i64 = 30_000;
/// Root default of `group_interval`.
pub const DEFAULT_GROUP_INTERVAL_MS: i64 = 5 * 60_000;
/// Root default of `repeat_interval`.
pub const DEFAULT_REPEAT_INTERVAL_MS: i64 = 4 * 3_600_000;

/// A node of the routing tree with its effective settings.
#[derive(Debug, Clone)]
pub struct Route {
    /// Position in a depth-first walk (root = 0); unique within the tree.
    pub id: usize,
    /// Receiver of the alerts routed here.
    pub receiver: String,
    /// Labels to group by (ignored when `group_by_all`).
    pub group_by: BTreeSet<String>,
    /// `group_by: ['...']`.
    pub group_by_all: bool,
    /// How long a new group waits before its first notification.
    pub group_wait_ms: i64,
    /// How long a group waits between notifications about changes.
    pub group_interval_ms: i64,
    /// How long a group waits before repeating an unchanged notification.
    pub repeat_interval_ms: i64,
    /// `match`, `match_re` and `matchers` together, sorted.
    pub matchers: Vec<Matcher>,
    /// Keep matching the following siblings after this route matched.
    pub continue_: bool,
    /// Child routes, in order.
    pub routes: Vec<Route>,
    key: String,
}

impl Route {
    /// The tree of a config's `route:`.
    pub fn new(cfg: &RouteConfig) -> Route {
        let mut next = 0;
        Route::build(cfg, None, &mut next)
    }

    fn build(cfg: &RouteConfig, parent: Option<&Route>, next_id: &mut usize) -> Route {
        let id = *next_id;
        *next_id += 1;
        let mut r = match parent {
            Some(p) => Route {
                id,
                receiver: p.receiver.clone(),
                group_by: p.group_by.clone(),
                group_by_all: p.group_by_all,
                group_wait_ms: p.group_wait_ms,
                group_interval_ms: p.group_interval_ms,
                repeat_interval_ms: p.repeat_interval_ms,
                matchers: Vec::new(),
                continue_: false,
                routes: Vec::new(),
                key: String::new(),
            },
            None => Route {
                id,
                receiver: String::new(),
                group_by: BTreeSet::new(),
                group_by_all: false,
                group_wait_ms: DEFAULT_GROUP_WAIT_MS,
                group_interval_ms: DEFAULT_GROUP_INTERVAL_MS,
                repeat_interval_ms: DEFAULT_REPEAT_INTERVAL_MS,
                matchers: Vec::new(),
                continue_: false,
                routes: Vec::new(),
                key: String::new(),
            },
        };
        if let Some(x) = cfg.receiver.as_ref().filter(|x| !x.is_empty()) {
            r.receiver = x.clone();
        }
        // As `NewRoute`: an explicit list replaces the parent's and turns `...` off; `...`
        // alone turns it on and keeps the parent's list (unused then).
        if let Some(gb) = &cfg.group_by {
            r.group_by = gb.iter().cloned().collect();
            r.group_by_all = false;
        } else if cfg.group_by_all {
            r.group_by_all = true;
        }
        if let Some(x) = cfg.group_wait_ms {
            r.group_wait_ms = x;
        }
        if let Some(x) = cfg.group_interval_ms {
            r.group_interval_ms = x;
        }
        if let Some(x) = cfg.repeat_interval_ms {
            r.repeat_interval_ms = x;
        }
        r.matchers = cfg.all_matchers();
        r.continue_ = cfg.continue_;
        let ms = matchers_string(&r.matchers);
        r.key = match parent {
            Some(p) => format!("{}/{ms}", p.key),
            None => ms,
        };
        let children: Vec<Route> = cfg
            .routes
            .iter()
            .map(|c| Route::build(c, Some(&r), next_id))
            .collect();
        r.routes = children;
        r
    }

    /// Alertmanager's `Route.Key()`: the parent's key, `/`, this route's matchers. Not
    /// unique: siblings with the same matchers share it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The routes an alert goes to: depth first, left to right; a matching node's
    /// matching descendants, or the node itself when no child matches; siblings after a
    /// match only when the matching child has `continue: true`.
    pub fn matching(&self, labels: &Labels) -> Vec<&Route> {
        if !matches_all(&self.matchers, labels) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for c in &self.routes {
            let m = c.matching(labels);
            let matched = !m.is_empty();
            all.extend(m);
            if matched && !c.continue_ {
                break;
            }
        }
        if all.is_empty() {
            all.push(self);
        }
        all
    }

    /// The alert's labels this route groups by (`getGroupLabels`).
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        Labels::from_sorted(
            labels
                .iter()
                .filter(|l| self.group_by_all || self.group_by.contains(&l.name))
                .cloned()
                .collect::<Vec<Label>>(),
        )
    }

    /// The aggregation group's key: `<route key>:<group labels>`, byte for byte as
    /// Alertmanager 0.25 prints it.
    pub fn group_key(&self, group_labels: &Labels) -> String {
        format!("{}:{}", self.key, labelset_string(group_labels))
    }

    /// Every route, depth first (ids in order).
    pub fn walk(&self) -> Vec<&Route> {
        let mut out = vec![self];
        for c in &self.routes {
            out.extend(c.walk());
        }
        out
    }

    /// The route with this id.
    pub fn get(&self, id: usize) -> Option<&Route> {
        if self.id == id {
            return Some(self);
        }
        // Children's ids are increasing: the last child whose id is <= id holds it.
        let i = self.routes.partition_point(|c| c.id <= id);
        self.routes.get(i.checked_sub(1)?)?.get(id)
    }
}

/// `model.LabelSet.String()` of prometheus/common as Alertmanager 0.25 links it:
/// `{a="1", b="2"}` with Go-quoted values, the `name="value"` strings sorted as strings
/// (so `a1="v"` comes before `a="w"`).
pub fn labelset_string(labels: &Labels) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={}", l.name, quote(&l.value)))
        .collect();
    parts.sort();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::config::Config;

    const CONF: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: ['severity="critical"', 'team=~"a|b"']
    receiver: crit
    group_wait: 10s
    routes:
    - match: {svc: 'x"y\z'}
      group_by: ['...']
    - matchers: [svc=db]
      receiver: db
      group_by: [svc]
      continue: true
    - matchers: [svc=~"d.*"]
      receiver: dstar
  - match_re: {team: 'ops.*'}
    match: {env: prod}
    receiver: ops
    continue: true
    repeat_interval: 1h
  - matchers: ['env!=""', 'a1="v"']
    receiver: crit
    group_by: [a1, a, env]
receivers: [{name: default}, {name: crit}, {name: ops}, {name: db}, {name: dstar}]
"#;

    fn tree() -> Route {
        let c = Config::parse(CONF, "t.yml").expect("config");
        Route::new(&c.route)
    }

    fn receivers(r: &Route, l: &[(&str, &str)]) -> Vec<String> {
        r.matching(&Labels::new(l.iter().copied()))
            .iter()
            .map(|r| r.receiver.clone())
            .collect()
    }

    #[test]
    fn keys_as_alertmanager_prints_them() {
        let t = tree();
        let keys: Vec<&str> = t.walk().iter().map(|r| r.key()).collect();
        // Checked against Alertmanager 0.25's webhook `groupKey` (see tests/am_parity.rs).
        assert_eq!(
            keys,
            [
                "{}",
                "{}/{severity=\"critical\",team=~\"a|b\"}",
                "{}/{severity=\"critical\",team=~\"a|b\"}/{svc=\"x\\\"y\\\\z\"}",
                "{}/{severity=\"critical\",team=~\"a|b\"}/{svc=\"db\"}",
                "{}/{severity=\"critical\",team=~\"a|b\"}/{svc=~\"d.*\"}",
                "{}/{env=\"prod\",team=~\"^(?:ops.*)$\"}",
                "{}/{a1=\"v\",env!=\"\"}",
            ]
        );
        let ids: Vec<usize> = t.walk().iter().map(|r| r.id).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4, 5, 6]);
        for id in 0..7 {
            assert_eq!(t.get(id).map(|r| r.id), Some(id));
        }
        assert!(t.get(7).is_none());
    }

    #[test]
    fn inheritance() {
        let t = tree();
        let crit = &t.routes[0];
        assert_eq!(crit.group_wait_ms, 10_000);
        assert_eq!(crit.group_interval_ms, DEFAULT_GROUP_INTERVAL_MS);
        assert_eq!(crit.repeat_interval_ms, DEFAULT_REPEAT_INTERVAL_MS);
        assert_eq!(crit.group_by, BTreeSet::from(["alertname".to_string()]));
        let svc = &crit.routes[0];
        assert_eq!(svc.receiver, "crit");
        assert_eq!(svc.group_wait_ms, 10_000);
        assert!(svc.group_by_all);
        assert_eq!(t.routes[1].repeat_interval_ms, 3_600_000);
        assert_eq!(t.group_wait_ms, DEFAULT_GROUP_WAIT_MS);
    }

    #[test]
    fn depth_first_matching_with_continue() {
        let t = tree();
        assert_eq!(receivers(&t, &[("alertname", "A")]), ["default"]);
        // Child of crit matches nothing: crit itself.
        assert_eq!(
            receivers(&t, &[("severity", "critical"), ("team", "a")]),
            ["crit"]
        );
        // `svc=db` continues to `svc=~d.*`.
        assert_eq!(
            receivers(
                &t,
                &[("severity", "critical"), ("team", "a"), ("svc", "db")]
            ),
            ["db", "dstar"]
        );
        assert_eq!(
            receivers(
                &t,
                &[("severity", "critical"), ("team", "b"), ("svc", "dx")]
            ),
            ["dstar"]
        );
        // crit does not continue: the ops route is not reached.
        assert_eq!(
            receivers(
                &t,
                &[("severity", "critical"), ("team", "a"), ("env", "prod")]
            ),
            ["crit"]
        );
        // ops continues to the third route.
        assert_eq!(
            receivers(&t, &[("team", "ops1"), ("env", "prod"), ("a1", "v")]),
            ["ops", "crit"]
        );
        // match_re is anchored.
        assert_eq!(
            receivers(&t, &[("team", "xops"), ("env", "prod")]),
            ["default"]
        );
    }

    #[test]
    fn group_labels_and_keys() {
        let t = tree();
        let l = Labels::new([
            ("alertname", "D"),
            ("env", "dev"),
            ("a1", "v"),
            ("a", "w"),
            ("x", "1"),
        ]);
        let r = t.matching(&l)[0];
        assert_eq!(r.receiver, "crit");
        let gl = r.group_labels(&l);
        assert_eq!(gl, Labels::new([("a1", "v"), ("a", "w"), ("env", "dev")]));
        // Sorted as strings: `a1="v"` before `a="w"` (Alertmanager 0.25).
        assert_eq!(
            r.group_key(&gl),
            "{}/{a1=\"v\",env!=\"\"}:{a1=\"v\", a=\"w\", env=\"dev\"}"
        );
        // Missing group_by labels are left out; `...` takes all.
        let l = Labels::new([("severity", "critical"), ("team", "a"), ("svc", "x\"y\\z")]);
        let r = t.matching(&l)[0];
        assert!(r.group_by_all);
        assert_eq!(
            r.group_key(&r.group_labels(&l)),
            "{}/{severity=\"critical\",team=~\"a|b\"}/{svc=\"x\\\"y\\\\z\"}:{severity=\"critical\", svc=\"x\\\"y\\\\z\", team=\"a\"}"
        );
        assert_eq!(t.group_key(&Labels::default()), "{}:{}");
        // Go quoting of values: tabs and newlines escaped, Unicode kept.
        assert_eq!(
            labelset_string(&Labels::new([("w", "tab\there \"q\" \\ é\n")])),
            "{w=\"tab\\there \\\"q\\\" \\\\ é\\n\"}"
        );
    }
}

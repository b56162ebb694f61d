//! Line and column of the nodes of a rule file that validation errors point at (serde_yaml
//! gives positions only for its own errors): group mappings and the `record`, `alert` and
//! `expr` values of rules, 1-based as Prometheus prints them.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A line and column (1-based); `(0, 0)` stands for an absent node, as in Prometheus.
pub type Pos = (usize, usize);

/// Positions of one rule's nodes.
#[derive(Debug, Clone, Default)]
pub struct RulePos {
    pub record: Option<Pos>,
    pub alert: Option<Pos>,
    pub expr: Option<Pos>,
}

/// Positions of one group and its rules.
#[derive(Debug, Clone, Default)]
pub struct GroupPos {
    pub group: Option<Pos>,
    pub rules: Vec<RulePos>,
}

enum Y {
    Scalar(String, Pos),
    Seq(Vec<Y>),
    Map(Vec<(Y, Y)>),
}

impl Y {
    fn pos(&self) -> Option<Pos> {
        match self {
            Y::Scalar(_, p) => Some(*p),
            Y::Map(kv) => kv.first().and_then(|(k, _)| k.pos()),
            Y::Seq(v) => v.first().and_then(Y::pos),
        }
    }

    fn get(&self, key: &str) -> Option<&Y> {
        match self {
            Y::Map(kv) => kv.iter().find_map(|(k, v)| match k {
                Y::Scalar(s, _) if s == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }
}

enum Frame {
    Seq(Vec<Y>),
    /// Entries so far and a key waiting for its value.
    Map(Vec<(Y, Y)>, Option<Y>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Y>,
}

impl Builder {
    fn push_value(&mut self, v: Y) {
        match self.stack.last_mut() {
            Some(Frame::Seq(items)) => items.push(v),
            Some(Frame::Map(kv, pending)) => match pending.take() {
                Some(k) => kv.push((k, v)),
                None => *pending = Some(v),
            },
            // Only the first document counts, as for Prometheus.
            None => {
                if self.root.is_none() {
                    self.root = Some(v);
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, m: Marker) {
        let pos = (m.line(), m.col() + 1);
        match ev {
            Event::Scalar(s, ..) => self.push_value(Y::Scalar(s, pos)),
            Event::Alias(_) => self.push_value(Y::Scalar(String::new(), pos)),
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new())),
            Event::MappingStart(..) => self.stack.push(Frame::Map(Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(v)) => self.push_value(Y::Seq(v)),
                Some(Frame::Map(kv, _)) => self.push_value(Y::Map(kv)),
                None => {}
            },
            _ => {}
        }
    }
}

/// Positions of the groups of a rule file, in order; empty when the YAML does not parse.
pub fn locate(content: &str) -> Vec<GroupPos> {
    let mut b = Builder::default();
    if Parser::new_from_str(content).load(&mut b, false).is_err() {
        return Vec::new();
    }
    let Some(Y::Seq(groups)) = b.root.as_ref().and_then(|r| r.get("groups")) else {
        return Vec::new();
    };
    groups
        .iter()
        .map(|g| GroupPos {
            group: g.pos(),
            rules: match g.get("rules") {
                Some(Y::Seq(rules)) => rules
                    .iter()
                    .map(|r| RulePos {
                        record: r.get("record").and_then(Y::pos),
                        alert: r.get("alert").and_then(Y::pos),
                        expr: r.get("expr").and_then(Y::pos),
                    })
                    .collect(),
                _ => Vec::new(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_as_prometheus_prints_them() {
        let y = "groups:\n- name: g\n  rules:\n  - record: job:up\n    expr: sum(up\n- name: h\n  rules:\n  - alert: A\n    expr: |\n      up\n";
        let g = locate(y);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].group, Some((2, 3)));
        assert_eq!(g[0].rules[0].record, Some((4, 13)));
        assert_eq!(g[0].rules[0].expr, Some((5, 11)));
        assert_eq!(g[1].group, Some((6, 3)));
        assert_eq!(g[1].rules[0].alert, Some((8, 12)));
        assert_eq!(g[1].rules[0].record, None);
    }
}

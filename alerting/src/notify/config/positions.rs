//! The line of every node of an `alertmanager.yml`, by the path [`super::walk`] gives it
//! (`route.routes[1].group_by`), so that errors say where to look (serde_yaml's `Value`
//! has no positions).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

enum Frame {
    Seq {
        path: String,
        next: usize,
    },
    /// A mapping; `key` is the key waiting for its value.
    Map {
        path: String,
        key: Option<String>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
    done: bool,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl Builder {
    /// The path of a node that starts here, or `None` when it is a mapping key (then the
    /// key is remembered and its line recorded).
    fn place(&mut self, scalar: Option<&str>, line: usize) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                self.lines.entry(p.clone()).or_insert(line);
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    let k = scalar.unwrap_or("?").to_string();
                    self.lines.entry(join(path, &k)).or_insert(line);
                    *key = Some(k);
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, m: Marker) {
        if self.done {
            return;
        }
        let line = m.line();
        match ev {
            Event::Scalar(s, ..) => {
                self.place(Some(&s), line);
            }
            Event::Alias(_) => {
                self.place(None, line);
            }
            Event::SequenceStart(..) => {
                // A complex mapping key gets the path `?` and its children are ignored.
                let path = self.place(None, line).unwrap_or_else(|| "?".into());
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingStart(..) => {
                let path = self.place(None, line).unwrap_or_else(|| "?".into());
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            // Only the first document counts.
            Event::DocumentEnd => self.done = true,
            _ => {}
        }
    }
}

/// Lines (1-based) by path; empty when the YAML does not parse.
pub fn lines(content: &str) -> HashMap<String, usize> {
    let mut b = Builder::default();
    if Parser::new_from_str(content).load(&mut b, false).is_err() {
        return HashMap::new();
    }
    b.lines
}

/// The line of `path` or of its nearest ancestor that has one.
pub fn line_of(lines: &HashMap<String, usize>, path: &str) -> Option<usize> {
    let mut p = path;
    loop {
        if let Some(l) = lines.get(p) {
            return Some(*l);
        }
        let cut = p.rfind(['.', '['])?;
        p = &p[..cut];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_by_path() {
        let y = "route:\n  receiver: a\n  routes:\n  - receiver: b\n  - matchers: [x=y]\n    grup_by: [a]\nreceivers:\n- name: a\n";
        let l = lines(y);
        assert_eq!(l.get("route"), Some(&1));
        assert_eq!(l.get("route.routes[1]"), Some(&5));
        assert_eq!(l.get("route.routes[1].grup_by"), Some(&6));
        assert_eq!(l.get("receivers[0].name"), Some(&8));
        assert_eq!(line_of(&l, "route.routes[1].grup_by[0]"), Some(6));
        assert_eq!(line_of(&l, "route.routes[1].matchers[0]"), Some(5));
        assert_eq!(line_of(&l, "nope"), None);
    }
}

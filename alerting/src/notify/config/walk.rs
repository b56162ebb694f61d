//! Reading a `serde_yaml::Value` tree field by field with the path of every node, so that
//! each error names what it is about (`route.routes[1].grup_by: unknown field`).

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use crate::duration::parse_duration;

/// An error at a node of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// `route.routes[1].group_by`; empty for the document itself.
    pub path: String,
    pub message: String,
    /// The message already names what it is about: print it without the path.
    pub omit_path: bool,
}

pub type Res<T> = Result<T, PathError>;

/// A node and where it is.
#[derive(Clone)]
pub struct Node<'a> {
    pub value: &'a Value,
    pub path: String,
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        v => v,
    }
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value) -> Node<'a> {
        Node {
            value: untag(value),
            path: String::new(),
        }
    }

    pub fn err(&self, message: impl Into<String>) -> PathError {
        PathError {
            path: self.path.clone(),
            message: message.into(),
            omit_path: false,
        }
    }

    fn child(&self, key: &str, value: &'a Value) -> Node<'a> {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        Node {
            value: untag(value),
            path,
        }
    }

    pub fn is_null(&self) -> bool {
        self.value.is_null()
    }

    /// A mapping whose keys must all be in `allowed` (null reads as an empty mapping).
    pub fn fields(&self, allowed: &[&str]) -> Res<Fields<'a>> {
        static EMPTY: std::sync::OnceLock<Mapping> = std::sync::OnceLock::new();
        let map = match self.value {
            Value::Mapping(m) => m,
            Value::Null => EMPTY.get_or_init(Mapping::new),
            _ => return Err(self.err("must be a mapping")),
        };
        for k in map.keys() {
            let Some(k) = k.as_str() else {
                return Err(self.err(format!("keys must be strings, found {}", describe(k))));
            };
            if !allowed.contains(&k) {
                return Err(self.child(k, &Value::Null).err("unknown field"));
            }
        }
        Ok(Fields {
            node: self.clone(),
            map,
        })
    }

    /// A scalar as a string; numbers and booleans as their text (yaml.v2 reads them into
    /// string fields too).
    pub fn string(&self) -> Res<String> {
        match self.value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            v => Err(self.err(format!("must be a string, found {}", describe(v)))),
        }
    }

    pub fn bool(&self) -> Res<bool> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            v => Err(self.err(format!("must be true or false, found {}", describe(v)))),
        }
    }

    /// A Prometheus duration (`30s`, `1h30m`), in milliseconds.
    pub fn duration(&self) -> Res<i64> {
        let s = self.string()?;
        parse_duration(&s).map_err(|e| self.err(e.to_string()))
    }

    /// The items of a sequence (null reads as empty).
    pub fn seq(&self) -> Res<Vec<Node<'a>>> {
        match self.value {
            Value::Sequence(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| Node {
                    value: untag(v),
                    path: format!("{}[{i}]", self.path),
                })
                .collect()),
            Value::Null => Ok(Vec::new()),
            v => Err(self.err(format!("must be a list, found {}", describe(v)))),
        }
    }

    /// A list of strings.
    pub fn strings(&self) -> Res<Vec<(Node<'a>, String)>> {
        self.seq()?
            .into_iter()
            .map(|n| n.string().map(|s| (n, s)))
            .collect()
    }

    /// A mapping of strings to strings (`match:`), each value with its node.
    pub fn string_map(&self) -> Res<BTreeMap<String, (Node<'a>, String)>> {
        let map = match self.value {
            Value::Mapping(m) => m,
            Value::Null => return Ok(BTreeMap::new()),
            v => return Err(self.err(format!("must be a mapping, found {}", describe(v)))),
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let Some(k) = k.as_str() else {
                return Err(self.err(format!("keys must be strings, found {}", describe(k))));
            };
            let n = self.child(k, v);
            let s = n.string()?;
            out.insert(k.to_string(), (n, s));
        }
        Ok(out)
    }
}

/// The fields of a mapping node.
pub struct Fields<'a> {
    pub node: Node<'a>,
    map: &'a Mapping,
}

impl<'a> Fields<'a> {
    /// The field, or `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.map
            .get(key)
            .map(|v| self.node.child(key, v))
            .filter(|n| !n.is_null())
    }

    /// The field's node even when absent (for errors about a missing field).
    pub fn at(&self, key: &str) -> Node<'a> {
        self.node.child(key, &Value::Null)
    }
}

/// `a string`, `a list`, … for type errors.
pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_node() {
        let v: Value =
            serde_yaml::from_str("a:\n  b:\n  - x: 1\n  - y: [1, {z: 2}]\n").expect("yaml");
        let root = Node::root(&v);
        let a = root.fields(&["a"]).expect("a").get("a").expect("a");
        let b = a.fields(&["b"]).expect("b").get("b").expect("b");
        let items = b.seq().expect("seq");
        assert_eq!(items[1].path, "a.b[1]");
        let err = items[1].fields(&["x"]).err().expect("unknown");
        assert_eq!(
            (err.path.as_str(), err.message.as_str()),
            ("a.b[1].y", "unknown field")
        );
        let x = items[0].fields(&["x"]).expect("x").get("x").expect("x");
        assert_eq!(x.string().expect("number as text"), "1");
        assert!(x.bool().is_err());
        assert!(x.duration().is_err());
    }
}

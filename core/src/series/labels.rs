//! Label sets: sorted by name, names unique, `__name__` the metric name.

use std::fmt;
use std::sync::Arc;

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Prometheus' metric name syntax: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn valid_metric_name(n: &str) -> bool {
    let mut b = n.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

/// Prometheus' label name syntax: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn valid_label_name(n: &str) -> bool {
    let mut b = n.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// One label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A label set, sorted by name; labels with empty values are dropped (as Prometheus
/// treats them as absent).
///
/// Shared: a clone is a reference count, not a copy, since every query clones the label
/// sets of the series it selects (and a series keeps its set for life); changes copy on
/// write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<Vec<Label>>);

impl Labels {
    /// Builds a set from pairs in any order; a later duplicate name wins; empty values are
    /// dropped.
    pub fn new<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Labels {
        let mut v: Vec<Label> = Vec::new();
        for (n, val) in pairs {
            let (name, value) = (n.into(), val.into());
            match v.iter_mut().find(|l| l.name == name) {
                Some(l) => l.value = value,
                None => v.push(Label { name, value }),
            }
        }
        v.retain(|l| !l.value.is_empty());
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Labels(Arc::new(v))
    }

    /// From labels already sorted by name, unique, non-empty (not checked in release).
    pub fn from_sorted(v: Vec<Label>) -> Labels {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        Labels(Arc::new(v))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Sets (or with an empty value removes) a label.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                Arc::make_mut(&mut self.0).remove(i);
            }
            Ok(i) if self.0[i].value == value => {}
            Ok(i) => Arc::make_mut(&mut self.0)[i].value = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => Arc::make_mut(&mut self.0).insert(
                i,
                Label {
                    name: name.to_string(),
                    value: value.to_string(),
                },
            ),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.set(name, "");
    }

    /// Without the metric name.
    pub fn without_name(&self) -> Labels {
        Labels::from_sorted(
            self.0
                .iter()
                .filter(|l| l.name != METRIC_NAME)
                .cloned()
                .collect(),
        )
    }

    /// Only the labels named in `names`.
    pub fn keep(&self, names: &[&str]) -> Labels {
        Labels::from_sorted(
            self.0
                .iter()
                .filter(|l| names.contains(&l.name.as_str()))
                .cloned()
                .collect(),
        )
    }

    /// All labels except those named in `names`.
    pub fn drop_names(&self, names: &[&str]) -> Labels {
        Labels::from_sorted(
            self.0
                .iter()
                .filter(|l| !names.contains(&l.name.as_str()))
                .cloned()
                .collect(),
        )
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Label> {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// `name{a="x", b="y"}` as Prometheus prints series.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name().unwrap_or("");
        write!(f, "{name}{{")?;
        let mut first = true;
        for l in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            if !first {
                write!(f, ", ")?;
            }
            first = false;
            write!(f, "{}={:?}", l.name, l.value)?;
        }
        write!(f, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_syntax() {
        assert!(valid_metric_name("node_memory_Active_anon_bytes"));
        assert!(valid_metric_name("job:up:sum"));
        assert!(!valid_metric_name("node_memory_Active(anon)"));
        assert!(!valid_metric_name("1abc"));
        assert!(!valid_metric_name(""));
        assert!(valid_label_name("_a1"));
        assert!(!valid_label_name("1a"));
        assert!(!valid_label_name(""));
        assert!(!valid_label_name("a-b"));
        assert!(!valid_label_name("a:b"));
        assert!(!valid_label_name("é"));
    }

    #[test]
    fn sorted_unique_non_empty() {
        let mut l = Labels::new([
            ("b", "2"),
            ("__name__", "up"),
            ("a", "1"),
            ("c", ""),
            ("a", "3"),
        ]);
        assert_eq!(l.to_string(), "up{a=\"3\", b=\"2\"}");
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("c"), None);
        l.set("aa", "x");
        l.remove("b");
        assert_eq!(
            l.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            ["__name__", "a", "aa"]
        );
        assert_eq!(l.without_name().metric_name(), None);
        assert_eq!(l.keep(&["aa"]).len(), 1);
        assert_eq!(l.drop_names(&["aa", "a"]).len(), 1);
    }

    #[test]
    fn clones_share_until_one_changes() {
        let a = Labels::new([("__name__", "up"), ("job", "node")]);
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.0, &b.0), "a clone is a reference");
        b.set("job", "node");
        assert!(
            Arc::ptr_eq(&a.0, &b.0),
            "setting the same value copies nothing"
        );
        b.set("job", "api");
        b.set("zone", "z1");
        assert_eq!(a.to_string(), "up{job=\"node\"}");
        assert_eq!(b.to_string(), "up{job=\"api\", zone=\"z1\"}");
        assert_eq!(a.clone().into_vec().len(), 2);
    }
}

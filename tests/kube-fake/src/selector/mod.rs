//! What a list or watch selects: the namespace of the path plus the label and field
//! selectors of the query.

mod field;
mod label;

pub use field::FieldSelector;
pub use label::LabelSelector;

use serde_json::Value;

/// The predicate of one list or watch request.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The namespace of the path (`/namespaces/<ns>/...`); `None` for all namespaces.
    pub namespace: Option<String>,
    /// The object name of a single-object watch (`/watch/.../<name>`).
    pub name: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl Selection {
    /// Whether the object (storage form) is selected.
    pub fn matches(&self, object: &Value) -> bool {
        let in_namespace = self.namespace.as_deref().is_none_or(|ns| {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                == Some(ns)
        });
        let named = self.name.as_deref().is_none_or(|name| {
            object.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        });
        in_namespace && named && self.labels.matches(object) && self.fields.matches(object)
    }

    /// Whether only the namespace restricts (the API server then reports
    /// `remainingItemCount`).
    pub fn has_selectors(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }
}

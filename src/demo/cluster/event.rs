//! Events as kubelet and the controllers write them (core/v1 `Event`): one object per
//! involved object, reason and container, its `count` and `lastTimestamp` bumped in place.

use serde_json::{json, Value};

use super::{hash, time};

/// A core/v1 Event as kubelet and the controllers write them.
pub(super) struct EventSpec<'a> {
    pub(super) namespace: &'a str,
    pub(super) kind: &'a str,
    pub(super) api_version: &'a str,
    pub(super) name: &'a str,
    pub(super) uid: &'a str,
    pub(super) field_path: Option<String>,
    pub(super) reason: &'a str,
    pub(super) message: String,
    pub(super) type_: &'a str,
    pub(super) component: &'a str,
    pub(super) host: Option<&'a str>,
    pub(super) first_ns: i64,
    pub(super) last_ns: i64,
    pub(super) count: u64,
}

pub(super) fn event(e: EventSpec<'_>) -> Value {
    let mut involved = json!({
        "kind": e.kind,
        "name": e.name,
        "uid": e.uid,
        "apiVersion": e.api_version,
    });
    if !e.namespace.is_empty() {
        involved["namespace"] = json!(e.namespace);
    }
    if let Some(f) = e.field_path {
        involved["fieldPath"] = json!(f);
    }
    let mut source = json!({ "component": e.component });
    if let Some(h) = e.host {
        source["host"] = json!(h);
    }
    // Events of cluster-scoped objects live in `default`, as the API server puts them.
    let ns = if e.namespace.is_empty() {
        "default"
    } else {
        e.namespace
    };
    // `<object>.<16 hex>`, unique per object, reason and container.
    let key = format!(
        "{}/{}/{}/{}",
        e.kind, e.name, e.reason, involved["fieldPath"]
    );
    let name = format!("{}.{:016x}", e.name, hash(&key) ^ e.first_ns as u64);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": ns,
            "creationTimestamp": time(e.first_ns),
        },
        "involvedObject": involved,
        "reason": e.reason,
        "message": e.message,
        "source": source,
        "firstTimestamp": time(e.first_ns),
        "lastTimestamp": time(e.last_ns),
        "count": e.count,
        "type": e.type_,
        "eventTime": null,
        "reportingComponent": e.component,
        "reportingInstance": e.host.unwrap_or(""),
    })
}

//! The legacy (unaggregated) discovery documents `kubectl` and client-go read: `/version`,
//! `/api` (APIVersions), `/apis` (APIGroupList), `/apis/<g>` (APIGroup) and the
//! APIResourceLists. Clients that ask for aggregated discovery get these too: client-go
//! falls back when the response's content type is plain `application/json`.

use serde_json::{json, Value};

use crate::config::FakeApiServerConfig;
use crate::resources::{group_versions, RESOURCES};

/// `/version`.
pub fn version(config: &FakeApiServerConfig) -> Value {
    let (major, minor) = config.major_minor().unwrap_or((1, 33));
    json!({
        "major": major.to_string(),
        "minor": minor.to_string(),
        "gitVersion": config.server_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ]
    })
}

fn group_doc(group: &str) -> Value {
    let versions: Vec<Value> = group_versions()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

/// `/apis`.
pub fn api_group_list() -> Value {
    let mut groups: Vec<&str> = Vec::new();
    for (g, _) in group_versions() {
        if !g.is_empty() && !groups.contains(&g) {
            groups.push(g);
        }
    }
    let groups: Vec<Value> = groups.into_iter().map(group_doc).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub fn api_group(group: &str) -> Value {
    let mut doc = group_doc(group);
    if let Value::Object(map) = &mut doc {
        map.insert("kind".into(), "APIGroup".into());
        map.insert("apiVersion".into(), "v1".into());
    }
    doc
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub fn api_resource_list(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            let mut doc = json!({
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": r.verbs(),
            });
            if let Value::Object(map) = &mut doc {
                if !r.short_names.is_empty() {
                    map.insert("shortNames".into(), json!(r.short_names));
                }
                if !r.categories.is_empty() {
                    map.insert("categories".into(), json!(r.categories));
                }
            }
            doc
        })
        .collect();
    if group.is_empty() {
        // The core list has no apiVersion, as the real server's.
        json!({"kind": "APIResourceList", "groupVersion": version, "resources": resources})
    } else {
        json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": format!("{group}/{version}"),
            "resources": resources
        })
    }
}

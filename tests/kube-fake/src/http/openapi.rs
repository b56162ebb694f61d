//! A minimal OpenAPI v3 discovery: `/openapi/v3` lists one document per group/version,
//! and each document has, per resource, the PATCH operation of an object with its
//! `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter.
//!
//! That is what kubectl (1.29+) reads to decide that the server validates fields itself,
//! so `kubectl create/apply -f` work without `--validate=false`; the fake accepts the
//! parameter and validates nothing. There are no schemas: `kubectl explain` and
//! client-side validation (kubectl before 1.29, which reads `/openapi/v2`) do not work.

use serde_json::{json, Map, Value};

use crate::config::FakeApiServerConfig;
use crate::resources::{group_versions, RESOURCES};

fn path_of(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`.
pub fn index() -> Value {
    let mut paths = Map::new();
    for (group, version) in group_versions() {
        let path = path_of(group, version);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}")}),
        );
    }
    json!({ "paths": paths })
}

/// `/openapi/v3/<api|apis/group>/<version>`, or `None` for an unknown one.
pub fn group_version(config: &FakeApiServerConfig, rest: &str) -> Option<Value> {
    let (group, version) = group_versions()
        .into_iter()
        .find(|(g, v)| path_of(g, v) == rest)?;
    let mut paths = Map::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let object = if r.namespaced {
            format!("/{rest}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("/{rest}/{}/{{name}}", r.plural)
        };
        let gvk = json!({"group": group, "version": version, "kind": r.kind});
        let operation = |verb: &str| {
            json!({
                "operationId": format!("{verb}{}", r.kind),
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {}
            })
        };
        paths.insert(
            object,
            json!({"patch": operation("patch"), "put": operation("put")}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": config.server_version},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}

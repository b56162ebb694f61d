//! POST, PUT, PATCH and DELETE of objects, with the API server's checks (names,
//! namespaces, optimistic concurrency) and answers (201 on create, the object or a
//! Success Status on delete).
//!
//! Simplifications: deletion is immediate (no graceful pod termination, finalizers or
//! namespace cascade), strategic merge patches are applied as JSON merge patches, and
//! server-side apply is an upsert merge without field ownership.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{json_response, Shared};
use crate::objects::{merge_patch, render, to_storage};
use crate::resources::ResourceInfo;
use crate::status::{delete_success, Status};
use crate::store::{key, object_rv, Mutation};

fn parse_body(body: &Bytes) -> Result<Value, Status> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Status::bad_request(format!(
            "the object provided is unrecognized: couldn't decode JSON: {e}"
        ))
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Status::bad_request(
            "the object provided is unrecognized: not a JSON object",
        ))
    }
}

fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn set_meta(object: &mut Value, field: &str, value: Option<&str>) {
    if let Value::Object(map) = object {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(meta) = meta {
            match value {
                Some(v) => meta.insert(field.to_string(), Value::String(v.to_string())),
                None => meta.remove(field),
            };
        }
    }
}

/// Checks `apiVersion`/`kind` against the endpoint and the namespace against the path,
/// filling what the client left out.
fn check_object(
    resource: &ResourceInfo,
    namespace: Option<&str>,
    object: &mut Value,
) -> Result<(), Status> {
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    if let Some(v) = api_version.filter(|v| *v != resource.api_version()) {
        return Err(Status::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({})",
            resource.api_version()
        )));
    }
    let kind = object.get("kind").and_then(Value::as_str);
    if let Some(k) = kind.filter(|k| *k != resource.kind) {
        return Err(Status::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            resource.kind
        )));
    }
    if resource.namespaced {
        let path_ns = namespace.unwrap_or("default");
        match meta_str(object, "namespace") {
            "" => set_meta(object, "namespace", Some(path_ns)),
            ns if ns != path_ns => {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent \
                     on the request",
                ))
            }
            _ => {}
        }
    } else {
        set_meta(object, "namespace", None);
    }
    Ok(())
}

/// POST to a collection.
pub(super) fn create(
    shared: &Shared,
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    body: &Bytes,
) -> Result<Response, Status> {
    let mut object = parse_body(body)?;
    check_object(resource, namespace.as_deref(), &mut object)?;
    let name = shared.store.settle_name(resource, &mut object)?;
    // The server's own fields (FillObjectMetaSystemFields, PrepareForCreate).
    for system in ["resourceVersion", "uid", "creationTimestamp", "generation"] {
        set_meta(&mut object, system, None);
    }
    let key = key(resource, meta_str(&object, "namespace"), &name);
    let stored = to_storage(resource, object);
    let (object, _) = shared
        .store
        .mutate(resource, &key, |current| match current {
            Some(_) => Err(Status::already_exists(resource, &name)),
            None => Ok(Mutation::Put(stored)),
        })?;
    Ok(json_response(
        StatusCode::CREATED,
        &render(resource, &object, true),
    ))
}

/// PUT of an object: a full replacement, conditional on `metadata.resourceVersion` when
/// the client sends one.
pub(super) fn update(
    shared: &Shared,
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    name: &str,
    body: &Bytes,
) -> Result<Response, Status> {
    let mut object = parse_body(body)?;
    check_object(resource, namespace.as_deref(), &mut object)?;
    match meta_str(&object, "name") {
        "" => set_meta(&mut object, "name", Some(name)),
        n if n != name => {
            return Err(Status::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        _ => {}
    }
    let expected = meta_str(&object, "resourceVersion").to_string();
    let key = key(resource, meta_str(&object, "namespace"), name);
    let stored = to_storage(resource, object);
    let (object, _) = shared
        .store
        .mutate(resource, &key, |current| match current {
            None => Err(Status::not_found(resource, name)),
            Some(current) if !expected.is_empty() && expected != object_rv(current).to_string() => {
                Err(Status::conflict(resource, name))
            }
            Some(_) => Ok(Mutation::Put(stored)),
        })?;
    Ok(json_response(
        StatusCode::OK,
        &render(resource, &object, true),
    ))
}

/// PATCH of an object: JSON merge patch, strategic merge patch (approximated by a merge
/// patch) and server-side apply (a merge that creates a missing object).
pub(super) fn patch(
    shared: &Shared,
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    name: &str,
    body: &Bytes,
    content_type: &str,
) -> Result<Response, Status> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let apply = match media {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => true,
        other => return Err(Status::unsupported_media_type(other)),
    };
    // Apply bodies are YAML; JSON is the subset clients (kubectl, kube-rs) send.
    let patch = parse_body(body)?;
    let ns = if resource.namespaced {
        namespace.as_deref().unwrap_or("default")
    } else {
        ""
    };
    let key = key(resource, ns, name);
    let expected = meta_str(&patch, "resourceVersion").to_string();
    let (object, kind) = shared.store.mutate(resource, &key, |current| {
        let mut view = match current {
            Some(current) => {
                if !expected.is_empty() && expected != object_rv(current).to_string() {
                    return Err(Status::conflict(resource, name));
                }
                render(resource, current, true)
            }
            None if apply => serde_json::json!({"metadata": {"name": name}}),
            None => return Err(Status::not_found(resource, name)),
        };
        merge_patch(&mut view, &patch);
        check_object(resource, namespace.as_deref(), &mut view)?;
        if meta_str(&view, "name") != name {
            return Err(Status::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta_str(&view, "name")
            )));
        }
        set_meta(&mut view, "resourceVersion", None);
        Ok(Mutation::Put(to_storage(resource, view)))
    })?;
    let code = if apply && kind == Some(crate::store::ChangeKind::Added) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(code, &render(resource, &object, true)))
}

/// DELETE of an object. Pods answer with the deleted object, other resources with a
/// Success Status, as their registries do.
pub(super) fn delete(
    shared: &Shared,
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    name: &str,
) -> Result<Response, Status> {
    let key = key(resource, namespace.as_deref().unwrap_or_default(), name);
    let (object, _) = shared
        .store
        .mutate(resource, &key, |_| Ok(Mutation::Delete))?;
    if resource.group.is_empty() && resource.plural == "pods" {
        return Ok(json_response(
            StatusCode::OK,
            &render(resource, &object, true),
        ));
    }
    let uid = object.pointer("/metadata/uid").and_then(Value::as_str);
    Ok(json_response(
        StatusCode::OK,
        &delete_success(resource, name, uid),
    ))
}

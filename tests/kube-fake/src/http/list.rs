//! GET of collections (lists, chunked with `limit`/`continue`, at a resourceVersion) and
//! of single objects.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::query::{ListOptions, Match};
use super::{json_response, selection, Shared};
use crate::continue_token;
use crate::objects::render;
use crate::resources::ResourceInfo;
use crate::status::Status;
use crate::store::key;

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a \
    consistent list result. You can start a new list without the continue parameter, or use \
    the continue token in this response to retrieve the remainder of the results. Continuing \
    with the provided token results in an inconsistent list - objects that were created, \
    modified, or deleted between the time the first chunk was returned and now may show up \
    in the list.";

const LIST_EXPIRED: &str = "The resourceVersion for the provided list is too old.";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody {
    kind: String,
    api_version: String,
    metadata: ListMeta,
    items: Vec<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: String,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_item_count: Option<u64>,
}

/// Waits (up to the configured time) until the store reaches `rv`, as the watch cache
/// waits to be fresh; 504 "Too large resource version" when it does not.
pub(super) async fn wait_for_rv(shared: &Shared, rv: u64) -> Result<(), Status> {
    let mut current = shared.store.rv_watch();
    let wait = Duration::from_millis(shared.config.too_large_rv_wait_ms);
    let reached = tokio::time::timeout(wait, current.wait_for(|now| *now >= rv)).await;
    match reached {
        Ok(Ok(_)) => Ok(()),
        _ => Err(Status::too_large_resource_version(rv, shared.store.rv())),
    }
}

/// `GET` of a collection.
pub(super) async fn list(
    shared: &Arc<Shared>,
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    opts: &ListOptions,
) -> Result<Response, Status> {
    opts.validate()?;
    let selection = selection(resource, namespace.clone(), None, opts)?;
    let requested = opts.rv()?;
    // Which state to list (`None`: the latest) and where in it to start.
    let (at, start) = if opts.continue_token.is_empty() {
        // `resourceVersion=N` with `limit` and no match is Exact (the legacy rule).
        let exact = opts.version_match() == Match::Exact
            || (opts.version_match() == Match::Unset && opts.limit > 0);
        match requested {
            Some(rv) if rv > 0 => {
                wait_for_rv(shared, rv).await?;
                (exact.then_some(rv), String::new())
            }
            _ => (None, String::new()),
        }
    } else {
        if requested.is_some_and(|rv| rv > 0) {
            return Err(Status::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let token = continue_token::decode(&opts.continue_token)
            .map_err(|e| Status::bad_request(format!("invalid continue token: {e}")))?;
        let at = u64::try_from(token.rv).ok().filter(|rv| *rv > 0);
        (at, token.start)
    };
    let prefix = match (&namespace, resource.namespaced) {
        (Some(ns), true) => format!("{ns}/"),
        _ => String::new(),
    };
    let (rv, objects) = match shared.store.snapshot(resource, at) {
        Ok(snapshot) => snapshot,
        Err(_floor) if !opts.continue_token.is_empty() => {
            return Err(Status {
                continue_token: Some(continue_token::encode(&start, -1)),
                ..Status::expired(CONTINUE_EXPIRED)
            })
        }
        Err(_floor) => return Err(Status::expired(LIST_EXPIRED)),
    };
    let mut selected = objects.iter().filter_map(|(k, object)| {
        let relative = k.strip_prefix(prefix.as_str())?;
        (relative >= start.as_str() && selection.matches(object)).then_some((relative, object))
    });
    let limit = usize::try_from(opts.limit).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last = None;
    for (relative, object) in selected.by_ref() {
        items.push(render(resource, object, false));
        last = Some(relative);
        if limit > 0 && items.len() == limit {
            break;
        }
    }
    let remaining = if limit > 0 && items.len() == limit {
        selected.count() as u64
    } else {
        0
    };
    let (continue_token, remaining_item_count) = match last {
        Some(last) if remaining > 0 => (
            Some(continue_token::encode(&format!("{last}\u{0}"), rv as i64)),
            (!selection.has_selectors()).then_some(remaining),
        ),
        _ => (None, None),
    };
    Ok(json_response(
        StatusCode::OK,
        &ListBody {
            kind: format!("{}List", resource.kind),
            api_version: resource.api_version(),
            metadata: ListMeta {
                resource_version: rv.to_string(),
                continue_token,
                remaining_item_count,
            },
            items,
        },
    ))
}

/// `GET` of one object.
pub(super) fn get(
    shared: &Shared,
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    name: &str,
) -> Result<Response, Status> {
    let key = key(resource, namespace.as_deref().unwrap_or_default(), name);
    let object = shared
        .store
        .get(resource, &key)
        .ok_or_else(|| Status::not_found(resource, name))?;
    Ok(json_response(
        StatusCode::OK,
        &render(resource, &object, true),
    ))
}

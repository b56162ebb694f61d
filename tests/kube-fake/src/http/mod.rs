//! The HTTP face of the fake: one handler that routes by path and method, counts the
//! request, applies an armed fault, and answers as kube-apiserver would.

mod discovery;
mod list;
mod openapi;
mod query;
mod route;
mod watch;
mod write;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::watch as signal;

use super::config::FakeApiServerConfig;
use super::counters::{Counters, Fault, Verb};
use super::resources::ResourceInfo;
use super::selector::{FieldSelector, LabelSelector, Selection};
use super::status::Status;
use super::store::Store;
use query::ListOptions;
use route::Route;

/// Largest request body accepted (kube-apiserver's limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// State shared by every request and the control API.
pub(crate) struct Shared {
    /// The objects.
    pub store: Store,
    /// The configuration.
    pub config: FakeApiServerConfig,
    /// Request counts and armed faults.
    pub counters: Counters,
    /// Bumped to cut every open watch.
    pub kill: signal::Sender<u64>,
    /// Watches currently open.
    pub open_watches: AtomicUsize,
    /// The bound address.
    pub addr: SocketAddr,
}

/// The router: every path goes to [`handle`].
pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

fn verb_of(route: &Route, method: &Method, watch: bool) -> Verb {
    match route {
        Route::Version
        | Route::Health
        | Route::Api
        | Route::Apis
        | Route::Group(_)
        | Route::Resources(..)
        | Route::OpenApiIndex
        | Route::OpenApi(_) => Verb::Discovery,
        Route::Collection { legacy_watch, .. } => match *method {
            Method::GET if watch || *legacy_watch => Verb::Watch,
            Method::GET => Verb::List,
            Method::POST => Verb::Create,
            _ => Verb::Other,
        },
        Route::Object { legacy_watch, .. } => match *method {
            Method::GET if watch || *legacy_watch => Verb::Watch,
            Method::GET => Verb::Get,
            Method::PUT => Verb::Update,
            Method::PATCH => Verb::Patch,
            Method::DELETE => Verb::Delete,
            _ => Verb::Other,
        },
        Route::NoResource | Route::NotFound => Verb::Other,
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let route = Route::parse(parts.uri.path());
    let query: HashMap<String, String> = Query::try_from_uri(&parts.uri)
        .map(|q: Query<HashMap<String, String>>| q.0)
        .unwrap_or_default();
    let opts = match ListOptions::from_query(&query) {
        Ok(opts) => opts,
        Err(status) => return status_response(&status),
    };
    let verb = verb_of(&route, &parts.method, opts.watch);
    let fault = shared.counters.record(verb);
    tracing::debug!(method = %parts.method, uri = %parts.uri, ?verb, ?fault, "fake api server request");
    if fault == Some(Fault::Fail) {
        return status_response(&Status::internal(
            "injected failure (argus fake api server fail_next)",
        ));
    }
    if fault == Some(Fault::Drop) && verb == Verb::Watch {
        // A watch stream never ends by itself: cut it right after the head.
        return truncated(watch::head(Body::empty())).await;
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => {
            return status_response(&Status {
                code: 413,
                reason: "RequestEntityTooLarge".into(),
                ..Status::bad_request(format!("request body: {e}"))
            })
        }
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let response = dispatch(&shared, route, &parts.method, &opts, &body, &content_type)
        .await
        .unwrap_or_else(|status| status_response(&status));
    if fault == Some(Fault::Drop) {
        return truncated(response).await;
    }
    response
}

async fn dispatch(
    shared: &Arc<Shared>,
    route: Route,
    method: &Method,
    opts: &ListOptions,
    body: &Bytes,
    content_type: &str,
) -> Result<Response, Status> {
    let discovery = |doc: serde_json::Value| -> Result<Response, Status> {
        if *method == Method::GET {
            Ok(json_response(StatusCode::OK, &doc))
        } else {
            Err(Status::method_not_allowed())
        }
    };
    match route {
        Route::Version => discovery(discovery::version(&shared.config)),
        Route::Health => Ok((StatusCode::OK, "ok").into_response()),
        Route::Api => discovery(discovery::api_versions(&shared.addr.to_string())),
        Route::Apis => discovery(discovery::api_group_list()),
        Route::Group(group) => discovery(discovery::api_group(group)),
        Route::Resources(group, version) => discovery(discovery::api_resource_list(group, version)),
        Route::OpenApiIndex => discovery(openapi::index()),
        Route::OpenApi(rest) => match openapi::group_version(&shared.config, &rest) {
            Some(doc) => discovery(doc),
            None => Err(Status::no_such_resource()),
        },
        Route::NoResource => Err(Status::no_such_resource()),
        Route::NotFound => Ok((StatusCode::NOT_FOUND, "404 page not found\n").into_response()),
        Route::Collection {
            resource,
            namespace,
            legacy_watch,
        } => match *method {
            Method::GET if opts.watch || legacy_watch => {
                let selection = selection(resource, namespace, None, opts)?;
                watch::watch(Arc::clone(shared), resource, selection, opts)
            }
            Method::GET => list::list(shared, resource, namespace, opts).await,
            Method::POST => write::create(shared, resource, namespace, body),
            _ => Err(Status::method_not_allowed()),
        },
        Route::Object {
            resource,
            namespace,
            name,
            legacy_watch,
        } => match *method {
            Method::GET if opts.watch || legacy_watch => {
                let selection = selection(resource, namespace, Some(name), opts)?;
                watch::watch(Arc::clone(shared), resource, selection, opts)
            }
            Method::GET => list::get(shared, resource, namespace, &name),
            Method::PUT => write::update(shared, resource, namespace, &name, body),
            Method::PATCH => write::patch(shared, resource, namespace, &name, body, content_type),
            Method::DELETE => write::delete(shared, resource, namespace, &name),
            _ => Err(Status::method_not_allowed()),
        },
    }
}

/// The predicate of a list or watch, or 400 with the server's message.
fn selection(
    resource: &ResourceInfo,
    namespace: Option<String>,
    name: Option<String>,
    opts: &ListOptions,
) -> Result<Selection, Status> {
    let labels = LabelSelector::parse(&opts.label_selector)
        .map_err(|e| Status::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(&opts.field_selector, resource)
        .map_err(|e| Status::bad_request(e.to_string()))?;
    Ok(Selection {
        namespace,
        name,
        labels,
        fields,
    })
}

/// A JSON response.
pub(crate) fn json_response(code: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            code,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A Status error response.
pub(crate) fn status_response(status: &Status) -> Response {
    let code = StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(code, status)
}

/// The response head and the first half of its body, then a reset connection.
async fn truncated(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    // hyper flushes what it has only when the body is pending: pause before the reset so
    // the head and the half body reach the client.
    let cut = futures::stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok(half), 1)),
                1 => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    let reset = std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "connection dropped by the argus fake api server (drop_next)",
                    );
                    Some((Err(reset), 2))
                }
                _ => None,
            }
        }
    });
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(cut))
}

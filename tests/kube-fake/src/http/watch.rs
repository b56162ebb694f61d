//! Watches: a chunked `application/json` response, one `{"type":..,"object":..}` line per
//! event, fed by a task that replays the history (or the current objects) and then
//! forwards live changes, with bookmarks, timeouts and the 410 of an expired start.
//!
//! Endings, as on the real server: `timeoutSeconds` (or the server's request timeout)
//! and a client that falls too far behind end the stream cleanly; `drop_watches` cuts
//! the connection without the final chunk.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::list::wait_for_rv;
use super::query::ListOptions;
use super::Shared;
use crate::objects::render;
use crate::resources::ResourceInfo;
use crate::selector::Selection;
use crate::status::Status;
use crate::store::{Change, ChangeKind, WatchStart};

/// Frames buffered between the producing task and the connection.
const FRAME_BUFFER: usize = 64;

#[derive(Serialize)]
struct Frame<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    object: T,
}

fn frame_bytes(kind: &str, object: impl Serialize) -> Bytes {
    let mut line = serde_json::to_vec(&Frame { kind, object }).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The response head of a watch around `body`.
pub(super) fn head(body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    response
}

/// Where the watch starts, from `resourceVersion` and `sendInitialEvents`.
struct Plan {
    start: WatchStart,
    /// A resourceVersion the store must reach first.
    wait_for: Option<u64>,
    /// Whether initial events end with the `k8s.io/initial-events-end` bookmark.
    initial_events_end: bool,
}

fn plan(opts: &ListOptions, current: u64) -> Result<Plan, Status> {
    let rv = opts.rv()?;
    let plan = match (opts.send_initial_events, rv) {
        // Streaming list: the state not older than rv, then its end bookmark.
        (Some(true), rv) => Plan {
            start: WatchStart::Snapshot,
            wait_for: rv.filter(|rv| *rv > 0),
            initial_events_end: true,
        },
        // No initial events: from rv, or from now for unset and "0".
        (Some(false), Some(rv)) if rv > 0 => Plan {
            start: WatchStart::Since(rv),
            wait_for: Some(rv),
            initial_events_end: false,
        },
        (Some(false), _) => Plan {
            start: WatchStart::Since(current),
            wait_for: None,
            initial_events_end: false,
        },
        // Legacy: unset and "0" get synthetic ADDED events for the current state.
        (None, Some(rv)) if rv > 0 => Plan {
            start: WatchStart::Since(rv),
            wait_for: Some(rv),
            initial_events_end: false,
        },
        (None, _) => Plan {
            start: WatchStart::Snapshot,
            wait_for: None,
            initial_events_end: false,
        },
    };
    Ok(plan)
}

/// Starts a watch; errors are the ones the server reports before the stream starts.
pub(super) fn watch(
    shared: Arc<Shared>,
    resource: &'static ResourceInfo,
    selection: Selection,
    opts: &ListOptions,
) -> Result<Response, Status> {
    opts.validate()?;
    let plan = plan(opts, shared.store.rv())?;
    let timeout = Duration::from_secs(
        opts.timeout_seconds
            .unwrap_or(shared.config.min_request_timeout_seconds),
    );
    let (tx, rx) = mpsc::channel::<Bytes>(FRAME_BUFFER);
    let mut kill = shared.kill.subscribe();
    kill.mark_unchanged();
    let producer = Producer {
        shared: Arc::clone(&shared),
        resource,
        selection,
        bookmarks: opts.allow_watch_bookmarks,
        deadline: Instant::now() + timeout,
        tx,
    };
    shared.open_watches.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(producer.run(plan));
    let counters = Arc::clone(&shared);
    let body = futures::stream::unfold(
        (rx, kill, counters, false),
        |(mut rx, mut kill, shared, cut)| async move {
            if cut {
                return None;
            }
            tokio::select! {
                biased;
                _ = kill.changed() => {
                    shared.counters.watches_dropped(1);
                    let reset = std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "watch dropped by the argus fake api server (drop_watches)",
                    );
                    Some((Err(reset), (rx, kill, shared, true)))
                }
                frame = rx.recv() => frame.map(|f| (Ok(f), (rx, kill, shared, false))),
            }
        },
    );
    Ok(head(Body::from_stream(body)))
}

struct Producer {
    shared: Arc<Shared>,
    resource: &'static ResourceInfo,
    selection: Selection,
    bookmarks: bool,
    deadline: Instant,
    tx: mpsc::Sender<Bytes>,
}

impl Producer {
    async fn run(self, plan: Plan) {
        // Whatever way it ends, the watch is no longer open.
        struct Open(Arc<Shared>);
        impl Drop for Open {
            fn drop(&mut self) {
                self.0.open_watches.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _open = Open(Arc::clone(&self.shared));
        let _ = self.stream(plan).await;
    }

    async fn send(&self, frame: Bytes) -> Result<(), ()> {
        self.tx.send(frame).await.map_err(|_| ())
    }

    async fn error(&self, status: &Status) -> Result<(), ()> {
        self.send(frame_bytes("ERROR", status)).await
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        frame_bytes(
            "BOOKMARK",
            json!({
                "kind": self.resource.kind,
                "apiVersion": self.resource.api_version(),
                "metadata": metadata,
            }),
        )
    }

    /// The frame a change makes for this watch, after the watch cache's rules: an
    /// object entering the selection is ADDED, one leaving it is DELETED (its previous
    /// state at the change's resourceVersion).
    fn frame_for(&self, change: &Change) -> Option<Bytes> {
        if change.storage != self.resource.storage {
            return None;
        }
        let now = self.selection.matches(&change.object);
        let before = change
            .prev
            .as_deref()
            .is_some_and(|p| self.selection.matches(p));
        let (kind, object) = match (change.kind, before, now) {
            (ChangeKind::Added, _, true) => ("ADDED", render(self.resource, &change.object, true)),
            (ChangeKind::Modified, true, true) => {
                ("MODIFIED", render(self.resource, &change.object, true))
            }
            (ChangeKind::Modified, false, true) => {
                ("ADDED", render(self.resource, &change.object, true))
            }
            (ChangeKind::Modified, true, false) => {
                let mut left = change
                    .prev
                    .as_deref()
                    .map(|p| render(self.resource, p, true))
                    .unwrap_or(Value::Null);
                if let Some(meta) = left.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("resourceVersion".into(), change.rv.to_string().into());
                }
                ("DELETED", left)
            }
            (ChangeKind::Deleted, true, _) => {
                ("DELETED", render(self.resource, &change.object, true))
            }
            _ => return None,
        };
        Some(frame_bytes(kind, object))
    }

    async fn stream(&self, plan: Plan) -> Result<(), ()> {
        if let Some(rv) = plan.wait_for {
            if let Err(status) = wait_for_rv(&self.shared, rv).await {
                return self.error(&status).await;
            }
        }
        let requested = match plan.start {
            WatchStart::Since(rv) => Some(rv),
            WatchStart::Snapshot => None,
        };
        let sub = match self.shared.store.subscribe(self.resource, plan.start) {
            Ok(sub) => sub,
            Err(floor) => {
                let rv = requested.unwrap_or_default();
                let status = Status::expired(format!("too old resource version: {rv} ({floor})"));
                return self.error(&status).await;
            }
        };
        let mut live = sub.live;
        let mut last_rv = sub.rv;
        for object in &sub.initial {
            if self.selection.matches(object) {
                let object = render(self.resource, object, true);
                self.send(frame_bytes("ADDED", object)).await?;
            }
        }
        if plan.initial_events_end && self.bookmarks {
            self.send(self.bookmark(sub.rv, true)).await?;
        }
        for change in &sub.replay {
            if let Some(frame) = self.frame_for(change) {
                self.send(frame).await?;
            }
        }
        let period = Duration::from_millis(self.shared.config.bookmark_interval_ms);
        let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(self.deadline) => return Ok(()),
                _ = self.tx.closed() => return Err(()),
                _ = ticks.tick(), if self.bookmarks => {
                    self.send(self.bookmark(last_rv, false)).await?;
                }
                change = live.recv() => match change {
                    Ok(change) => {
                        last_rv = change.rv;
                        if let Some(frame) = self.frame_for(&change) {
                            self.send(frame).await?;
                        }
                    }
                    // Too far behind: the watch cache closes such watchers; the client
                    // resumes from its last resourceVersion.
                    Err(broadcast::error::RecvError::Lagged(_)) => return Ok(()),
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
}

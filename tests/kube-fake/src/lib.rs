//! A faithful fake of kube-apiserver's list/watch protocol, on loopback HTTP, for the
//! watcher's integration tests and `argus all-in-one --demo`.
//!
//! It serves JSON objects (`serde_json::Value`, no typed schema) of the resources in
//! [`resources::RESOURCES`] the way the real server does:
//!
//! - discovery (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/<g>[/<v>]`), enough for
//!   `kubectl` and client-go;
//! - lists with `limit`/`continue` (etcd3-format tokens bound to a snapshot),
//!   `resourceVersion` + `resourceVersionMatch`, label and field selectors, and the
//!   server's errors (410 Expired for compacted pages, 400 "field label not supported");
//! - watches as chunked JSON lines, replaying from a resourceVersion, with bookmarks,
//!   `sendInitialEvents` streaming lists, `timeoutSeconds`, selectors (objects leaving
//!   the selection are DELETED) and a 410 ERROR frame for a start before the history;
//! - POST/PUT/PATCH/DELETE of objects, so `kubectl create/apply/delete` work;
//! - one global resourceVersion counter, like etcd's revision.
//!
//! core/v1 and events.k8s.io/v1 events are the same stored objects, in their two
//! representations. The control API ([`FakeApiServer`]) changes objects, compacts the
//! history, cuts open watches and arms 500s or dropped connections for the next requests.
//!
//! Where it knowingly differs from kube-apiserver:
//!
//! - no authentication, admission or schema validation: any JSON object with a served
//!   `apiVersion`/`kind` is stored (`fieldValidation` is accepted and ignored); objects
//!   may be created in namespaces that do not exist;
//! - JSON over plain HTTP/1.1 only (no protobuf or CBOR, no TLS), no server-side Table
//!   printing (kubectl falls back to its NAME/AGE columns), no aggregated discovery and
//!   no OpenAPI schemas (only the `/openapi/v3` stubs kubectl 1.29+ needs to write);
//! - deletion is immediate: no graceful pod termination, finalizers, namespace
//!   termination or garbage collection;
//! - the history window counts changes of all resources together (etcd compaction),
//!   where the watch cache keeps a window per resource;
//! - strategic merge patches are applied as JSON merge patches; server-side apply is an
//!   upsert merge without `managedFields`;
//! - a watch without `timeoutSeconds` lasts exactly `min_request_timeout_seconds` (the
//!   real server adds jitter), and bookmarks come every `bookmark_interval_ms` (about a
//!   minute on a real server);
//! - a chunked list with selectors sets `continue` only when more matching objects
//!   exist (the real server may hand out a token whose remainder is empty).

mod config;
mod continue_token;
mod counters;
mod error;
mod http;
mod objects;
pub mod resources;
mod selector;
mod status;
mod store;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{oneshot, watch};

pub use config::FakeApiServerConfig;
pub use counters::{RequestCounts, Verb};
pub use error::{Error, Result};
pub use status::Status;

use counters::Fault;
use http::Shared;
use resources::ResourceInfo;
use store::{key, Mutation, Store};

/// A running fake API server. Dropping it stops the server and cuts its watches.
pub struct FakeApiServer {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

impl FakeApiServer {
    /// Starts a server with the default configuration on `addr` (port 0: any free port).
    pub async fn start(addr: SocketAddr) -> Result<FakeApiServer> {
        FakeApiServer::start_with(FakeApiServerConfig::listening_on(addr)).await
    }

    /// Starts a server with `config`.
    pub async fn start_with(config: FakeApiServerConfig) -> Result<FakeApiServer> {
        config.validate()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            store: Store::new(
                config.history_window,
                config.watch_queue,
                config.first_resource_version,
            ),
            config,
            counters: counters::Counters::default(),
            kill: watch::channel(0).0,
            open_watches: AtomicUsize::new(0),
            addr,
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = http::router(Arc::clone(&shared));
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "fake api server stopped");
            }
        });
        tracing::info!(%addr, "fake api server listening");
        Ok(FakeApiServer {
            shared,
            shutdown: Some(shutdown),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://<addr>`, the `server` of a kubeconfig.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// A kubeconfig for this server: plain HTTP, no credentials, namespace `default`.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: argus-fake\n  \
               cluster:\n    \
                 server: {url}\n\
             contexts:\n\
             - name: argus-fake\n  \
               context:\n    \
                 cluster: argus-fake\n    \
                 user: argus-fake\n    \
                 namespace: default\n\
             current-context: argus-fake\n\
             preferences: {{}}\n\
             users:\n\
             - name: argus-fake\n  \
               user: {{}}\n",
            url = self.url()
        )
    }

    /// Writes [`FakeApiServer::kubeconfig_yaml`] to `path`.
    pub fn kubeconfig(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| Error::Kubeconfig {
            path: path.to_path_buf(),
            source,
        })
    }

    fn resource(name: &str) -> Result<&'static ResourceInfo> {
        resources::resolve(name).ok_or_else(|| Error::UnknownResource(name.to_string()))
    }

    /// The resource of `object` and the object with its namespace and name settled.
    fn prepare(&self, mut object: Value) -> Result<(&'static ResourceInfo, String, Value)> {
        let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        let api_version = text(&object, "/apiVersion").unwrap_or_default();
        let kind = text(&object, "/kind").unwrap_or_default();
        let resource = resources::by_kind(&api_version, &kind)
            .filter(|_| object.is_object())
            .ok_or(Error::UnknownKind { api_version, kind })?;
        let meta = object
            .as_object_mut()
            .map(|m| {
                m.entry("metadata")
                    .or_insert_with(|| Value::Object(Default::default()))
            })
            .and_then(Value::as_object_mut);
        let Some(meta) = meta else {
            return Err(Error::Api(Status::bad_request("metadata is not an object")));
        };
        meta.remove("resourceVersion");
        if resource.namespaced {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default")
                .to_string();
            meta.insert("namespace".into(), Value::String(ns));
        } else {
            meta.remove("namespace");
        }
        let ns = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = self.shared.store.settle_name(resource, &mut object)?;
        let key = key(resource, &ns, &name);
        Ok((resource, key, objects::to_storage(resource, object)))
    }

    fn write(&self, object: Value, create_only: bool) -> Result<Value> {
        let (resource, key, stored) = self.prepare(object)?;
        let name = key.rsplit('/').next().unwrap_or_default().to_string();
        let (object, _) = self.shared.store.mutate(resource, &key, |current| {
            if create_only && current.is_some() {
                Err(Status::already_exists(resource, &name))
            } else {
                Ok(Mutation::Put(stored))
            }
        })?;
        Ok(objects::render(resource, &object, true))
    }

    /// Creates an object (its `apiVersion` and `kind` pick the resource; a missing
    /// namespace is `default`), failing if it exists. Returns it as stored, with its
    /// resourceVersion, uid and creationTimestamp.
    pub fn create(&self, object: Value) -> Result<Value> {
        self.write(object, true)
    }

    /// Creates or replaces an object: watchers see ADDED or MODIFIED (nothing, and no new
    /// resourceVersion, when nothing changed).
    pub fn apply(&self, object: Value) -> Result<Value> {
        self.write(object, false)
    }

    /// Deletes an object of `resource` (`pods`, `po`, `deployments.apps`,
    /// `apps/v1/deployments`, ...). Returns its last state.
    pub fn delete(&self, resource: &str, namespace: Option<&str>, name: &str) -> Result<Value> {
        let resource = Self::resource(resource)?;
        let key = key(resource, namespace.unwrap_or("default"), name);
        let (object, _) = self
            .shared
            .store
            .mutate(resource, &key, |_| Ok(Mutation::Delete))?;
        Ok(objects::render(resource, &object, true))
    }

    /// One object, as `resource` serves it.
    pub fn get(
        &self,
        resource: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>> {
        let resource = Self::resource(resource)?;
        let key = key(resource, namespace.unwrap_or("default"), name);
        Ok(self
            .shared
            .store
            .get(resource, &key)
            .map(|o| objects::render(resource, &o, true)))
    }

    /// The objects of `resource` (in `namespace`, or all), sorted by namespace and name,
    /// with `kind` and `apiVersion`.
    pub fn objects(&self, resource: &str, namespace: Option<&str>) -> Result<Vec<Value>> {
        let resource = Self::resource(resource)?;
        Ok(self
            .shared
            .store
            .objects(resource)
            .iter()
            .filter(|o| {
                namespace.is_none_or(|ns| {
                    o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                })
            })
            .map(|o| objects::render(resource, o, true))
            .collect())
    }

    /// The current resourceVersion (of the last change).
    pub fn resource_version(&self) -> u64 {
        self.shared.store.rv()
    }

    /// The oldest resourceVersion a watch, exact list or continue token may still start
    /// from.
    pub fn oldest_resource_version(&self) -> u64 {
        self.shared.store.floor()
    }

    /// Forgets all but the last `keep_last_n` changes, as an etcd compaction: watches and
    /// continue tokens from before them get 410 Expired.
    pub fn compact(&self, keep_last_n: usize) {
        self.shared.store.compact(keep_last_n);
    }

    /// Forgets the whole history: only watches from the current resourceVersion (or
    /// without one) still start.
    pub fn expire_history(&self) {
        self.shared.store.compact(0);
    }

    /// Cuts every open watch connection abruptly (no final chunk), as a lost connection
    /// or a restarting API server would.
    pub fn drop_watches(&self) {
        self.shared.kill.send_modify(|generation| *generation += 1);
    }

    /// Watches currently open.
    pub fn open_watches(&self) -> usize {
        self.shared.open_watches.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` watches are open; false on timeout.
    pub async fn wait_for_watches(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.open_watches() < n {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Waits until no watch is open; false on timeout.
    pub async fn wait_for_watches_closed(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.open_watches() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// The next `n` requests (any verb, discovery included) get 500 InternalError.
    pub fn fail_next(&self, n: u64) {
        self.shared.counters.arm(Fault::Fail, None, n);
    }

    /// The next `n` requests of `verb` get 500 InternalError.
    pub fn fail_next_of(&self, verb: Verb, n: u64) {
        self.shared.counters.arm(Fault::Fail, Some(verb), n);
    }

    /// The next `n` requests get their response head and half their body, then a reset
    /// connection (watches: the head only).
    pub fn drop_next(&self, n: u64) {
        self.shared.counters.arm(Fault::Drop, None, n);
    }

    /// Like [`FakeApiServer::drop_next`] for requests of `verb` only.
    pub fn drop_next_of(&self, verb: Verb, n: u64) {
        self.shared.counters.arm(Fault::Drop, Some(verb), n);
    }

    /// Requests served so far, by verb.
    pub fn requests(&self) -> RequestCounts {
        self.shared.counters.snapshot()
    }

    /// Stops accepting connections and cuts open watches.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
            self.drop_watches();
        }
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop();
    }
}

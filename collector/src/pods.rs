//! Pod labels from the API server: a reflector of the Pods of this node only
//! (`fieldSelector=spec.nodeName=<node>`, as kubelet watches its pods), and an index the
//! tailer thread asks once per file chunk of a batch.
//!
//! Optional: it starts when `collector.kubeconfig` is set or the collector runs in a pod
//! (`KUBERNETES_SERVICE_HOST`). Without an API server, or while it is unreachable, records
//! go out with the metadata of their path only, as before. A pod's labels are one shared
//! `Arc` until they change, so labelling a record costs a reference count.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, RwLock};

use k8s_openapi::api::core::v1::Pod;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio_stream::StreamExt;

use crate::metrics::CollectorMetrics;

/// A pod's labels, shared by all its records.
pub type Labels = Arc<BTreeMap<String, String>>;

/// Where the API server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiSource {
    /// `collector.kubeconfig`.
    Kubeconfig(PathBuf),
    /// The service account of the pod the collector runs in.
    InCluster,
}

impl ApiSource {
    /// `collector.kubeconfig` when set, else the in-cluster config when
    /// `KUBERNETES_SERVICE_HOST` is set, else none (no pod labels).
    pub fn find(kubeconfig: Option<&Path>) -> Option<ApiSource> {
        if let Some(p) = kubeconfig {
            return Some(ApiSource::Kubeconfig(p.to_path_buf()));
        }
        std::env::var("KUBERNETES_SERVICE_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .map(|_| ApiSource::InCluster)
    }

    /// A client for this source; the error says which source failed and why.
    pub async fn client(&self) -> Result<kube::Client, String> {
        let config = match self {
            ApiSource::Kubeconfig(path) => {
                let kc = Kubeconfig::read_from(path)
                    .map_err(|e| format!("collector.kubeconfig {}: {e}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| format!("collector.kubeconfig {}: {e}", path.display()))?
            }
            ApiSource::InCluster => {
                kube::Config::incluster().map_err(|e| format!("in-cluster config: {e}"))?
            }
        };
        kube::Client::try_from(config).map_err(|e| format!("kubernetes client: {e}"))
    }
}

#[derive(Debug)]
struct Entry {
    namespace: String,
    name: String,
    labels: Labels,
}

#[derive(Debug, Default)]
struct Index {
    by_uid: HashMap<String, Entry>,
    /// (namespace, name) → uid.
    by_name: HashMap<(String, String), String>,
}

impl Index {
    fn insert(&mut self, pod: &Pod, previous: Option<&Index>) {
        let m = &pod.metadata;
        let (Some(uid), Some(name)) = (m.uid.as_deref(), m.name.as_deref()) else {
            return;
        };
        let namespace = m.namespace.clone().unwrap_or_default();
        let new = m.labels.clone().unwrap_or_default();
        // Unchanged labels keep their Arc, so batches built before and after share it.
        let old = previous
            .unwrap_or(&*self)
            .by_uid
            .get(uid)
            .map(|e| e.labels.clone());
        let labels = match old {
            Some(l) if *l == new => l,
            _ => Arc::new(new),
        };
        if let Some(e) = self.by_uid.get(uid) {
            if e.namespace != namespace || e.name != name {
                self.by_name.remove(&(e.namespace.clone(), e.name.clone()));
            }
        }
        self.by_name
            .insert((namespace.clone(), name.to_string()), uid.to_string());
        self.by_uid.insert(
            uid.to_string(),
            Entry {
                namespace,
                name: name.to_string(),
                labels,
            },
        );
    }

    fn remove(&mut self, pod: &Pod) {
        let Some(uid) = pod.metadata.uid.as_deref() else {
            return;
        };
        if let Some(e) = self.by_uid.remove(uid) {
            let key = (e.namespace, e.name);
            if self.by_name.get(&key).is_some_and(|u| u == uid) {
                self.by_name.remove(&key);
            }
        }
    }
}

/// The labels of this node's pods, by uid and by namespace/name.
#[derive(Debug, Default)]
pub struct PodLabels {
    index: RwLock<Index>,
}

impl PodLabels {
    /// The labels of a pod, by uid, else by namespace and name (for files whose path
    /// carries no uid); None when the pod is unknown or has no labels.
    pub fn get(&self, uid: &str, namespace: &str, name: &str) -> Option<Labels> {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let entry = index.by_uid.get(uid).or_else(|| {
            let uid = index
                .by_name
                .get(&(namespace.to_string(), name.to_string()))?;
            index.by_uid.get(uid)
        })?;
        (!entry.labels.is_empty()).then(|| entry.labels.clone())
    }

    /// Pods known.
    pub fn len(&self) -> usize {
        self.index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_uid
            .len()
    }

    /// True when no pod is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running pod watch: the reflector's store and the label index it feeds.
#[derive(Debug, Clone)]
pub struct PodWatch {
    /// The node's pods as the reflector holds them.
    pub store: Store<Pod>,
    /// The labels the tailer applies.
    pub labels: Arc<PodLabels>,
    synced: tokio::sync::watch::Receiver<bool>,
}

impl PodWatch {
    /// Waits until the first list of the node's pods is in, at most `timeout`; false
    /// when it is not (the API server is unreachable or slow).
    pub async fn wait_synced(&self, timeout: std::time::Duration) -> bool {
        let mut rx = self.synced.clone();
        let synced = tokio::time::timeout(timeout, rx.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok());
        synced
    }
}

/// Starts watching the pods of `node` with `client` on the current runtime; the task
/// ends when the returned handle is aborted. Errors (an unreachable API server, a
/// refused watch) are logged, counted in `health` and retried with backoff; the index
/// keeps what it had.
pub fn spawn(
    client: kube::Client,
    node: &str,
    health: Arc<CollectorMetrics>,
) -> (PodWatch, tokio::task::JoinHandle<()>) {
    health.pod_watch.enabled.store(true, Relaxed);
    let (store, writer) = reflector::store::<Pod>();
    let labels = Arc::new(PodLabels::default());
    let api: Api<Pod> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let node = node.to_string();
    let index = labels.clone();
    let (synced_tx, synced) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let stream = watcher(api, config)
            .default_backoff()
            .modify(|p: &mut Pod| {
                // Only metadata is needed; the rest of a pod is most of its size.
                p.metadata.managed_fields = None;
                p.metadata.annotations = None;
                p.spec = None;
                p.status = None;
            });
        let mut stream = pin!(reflector::reflector(writer, stream));
        let mut relist: Option<Index> = None;
        let mut failures = 0u64;
        while let Some(item) = stream.next().await {
            let event = match item {
                Ok(e) => e,
                Err(e) => {
                    health.pod_watch.failures.fetch_add(1, Relaxed);
                    health.pod_watch.synced.store(0, Relaxed);
                    if failures == 0 {
                        tracing::warn!(error = %e, node = %node, "pod watch failed; records go without pod labels until it recovers");
                    } else {
                        tracing::debug!(error = %e, "pod watch failed again");
                    }
                    failures += 1;
                    continue;
                }
            };
            match event {
                watcher::Event::Init => relist = Some(Index::default()),
                watcher::Event::InitApply(pod) => {
                    if let Some(fresh) = relist.as_mut() {
                        let current = index.index.read().unwrap_or_else(|p| p.into_inner());
                        fresh.insert(&pod, Some(&current));
                    }
                }
                watcher::Event::InitDone => {
                    if let Some(fresh) = relist.take() {
                        let pods = fresh.by_uid.len();
                        *index.write() = fresh;
                        if failures > 0 {
                            tracing::info!(pods, "pod watch recovered");
                        } else {
                            tracing::info!(pods, node = %node, "pod labels: watching this node's pods");
                        }
                        failures = 0;
                        health.pod_watch.pods.store(pods as u64, Relaxed);
                        health.pod_watch.synced.store(1, Relaxed);
                        synced_tx.send_replace(true);
                    }
                }
                watcher::Event::Apply(pod) => {
                    let mut w = index.write();
                    w.insert(&pod, None);
                    health.pod_watch.pods.store(w.by_uid.len() as u64, Relaxed);
                }
                watcher::Event::Delete(pod) => {
                    let mut w = index.write();
                    w.remove(&pod);
                    health.pod_watch.pods.store(w.by_uid.len() as u64, Relaxed);
                }
            }
        }
    });
    (
        PodWatch {
            store,
            labels,
            synced,
        },
        task,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn pod(uid: &str, ns: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
        Pod {
            metadata: ObjectMeta {
                uid: Some(uid.into()),
                namespace: Some(ns.into()),
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn lookups_by_uid_then_by_name_share_one_arc() {
        let p = PodLabels::default();
        p.write()
            .insert(&pod("u1", "shop", "cart-1", &[("app", "cart")]), None);
        p.write().insert(&pod("u2", "shop", "bare", &[]), None);
        let a = p.get("u1", "", "").expect("by uid");
        let b = p.get("", "shop", "cart-1").expect("by name");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.get("app").map(String::as_str), Some("cart"));
        assert!(p.get("u2", "shop", "bare").is_none(), "no labels: nothing");
        assert!(p.get("u9", "shop", "other").is_none());
        // Same labels again: same Arc; new labels: a new one.
        p.write()
            .insert(&pod("u1", "shop", "cart-1", &[("app", "cart")]), None);
        assert!(Arc::ptr_eq(&a, &p.get("u1", "", "").expect("still")));
        p.write()
            .insert(&pod("u1", "shop", "cart-1", &[("app", "cart2")]), None);
        let c = p.get("u1", "", "").expect("changed");
        assert_eq!(c.get("app").map(String::as_str), Some("cart2"));
        p.write().remove(&pod("u1", "shop", "cart-1", &[]));
        assert!(p.get("u1", "shop", "cart-1").is_none());
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_recreated_pod_with_the_same_name_is_found_by_name() {
        let p = PodLabels::default();
        p.write()
            .insert(&pod("old", "shop", "db-0", &[("app", "db")]), None);
        p.write()
            .insert(&pod("new", "shop", "db-0", &[("app", "db2")]), None);
        p.write().remove(&pod("old", "shop", "db-0", &[]));
        let l = p.get("", "shop", "db-0").expect("the new pod");
        assert_eq!(l.get("app").map(String::as_str), Some("db2"));
    }

    #[test]
    fn pods_without_uid_or_name_are_ignored() {
        let p = PodLabels::default();
        let mut bad = pod("u", "ns", "n", &[("a", "b")]);
        bad.metadata.uid = None;
        p.write().insert(&bad, None);
        assert!(p.is_empty());
    }
}

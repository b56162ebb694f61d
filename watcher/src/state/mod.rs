//! Cluster-state series, kube-state-metrics v2 compatible: the `kube_*` families of
//! `shared/metrics.md`, with KSM's names, labels, label values, value semantics and
//! HELP/TYPE lines, rendered at scrape time from kube-runtime reflector stores.
//!
//! ```text
//! API server ── list + watch per resource (all namespaces, default backoff;
//!   │            a relist replaces the store atomically on InitDone)
//!   ▼
//! reflector stores (Pods, Nodes, Namespaces, Deployments, StatefulSets, DaemonSets,
//!   │  ReplicaSets, Jobs, CronJobs, Services, EndpointSlices, PVCs, PVs, HPAs)
//!   ▼
//! ClusterState::write_metrics: snapshot, sort by namespace/name, render families
//! ```
//!
//! - [`pod`], [`node`], [`workload`] (deployments, statefulsets, daemonsets,
//!   replicasets), [`job`], [`cronjob`], [`service`] (services, endpointslices),
//!   [`cluster`] (namespaces, PVCs, PVs, HPAs): one renderer per family group.
//! - [`cron`]: cron schedules as KSM evaluates them (`kube_cronjob_next_schedule_time`).
//! - [`quantity`]: Kubernetes quantities with apimachinery's rounding.
//! - [`text`]: the text format as KSM writes it (Go float formatting, escaping).

pub mod cluster;
pub mod cron;
pub mod cronjob;
pub mod job;
pub mod node;
pub mod pod;
pub mod quantity;
mod reflect;
mod resources;
pub mod service;
pub mod text;
pub mod workload;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::ResourceExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::WatcherMetrics;

macro_rules! resources {
    ($( $field:ident : $ty:ty = $resource:literal ),* $(,)?) => {
        /// The objects rendered by one scrape, one list per resource.
        #[derive(Debug, Default, Clone)]
        pub struct Snapshot {
            $( #[doc = concat!("`", $resource, "`")] pub $field: Vec<Arc<$ty>>, )*
        }

        struct Stores {
            $( $field: Store<$ty>, )*
        }

        struct Writers {
            $( $field: Writer<$ty>, )*
        }

        /// The `resource` label of each reflector, in start order.
        pub const RESOURCES: &[&str] = &[$( $resource ),*];

        fn stores() -> (Stores, Writers) {
            $( let $field = reflector::store::<$ty>(); )*
            (
                Stores { $( $field: $field.0.clone(), )* },
                Writers { $( $field: $field.1, )* },
            )
        }

        impl Stores {
            fn snapshot(&self) -> Snapshot {
                Snapshot { $( $field: self.$field.state(), )* }
            }
        }

        impl Reflectors {
            /// Lists and watches every resource through `client` until `stop` turns true.
            pub async fn run(
                self,
                client: kube::Client,
                metrics: Arc<WatcherMetrics>,
                stop: watch::Receiver<bool>,
            ) {
                let Reflectors { writers, synced } = self;
                let mut synced = synced.into_iter();
                let mut tasks = Vec::new();
                $(
                    let flag = synced.next().unwrap_or_default();
                    tasks.push(tokio::spawn(reflect::run::<$ty>(
                        kube::Api::all(client.clone()),
                        writers.$field,
                        $resource,
                        metrics.clone(),
                        flag,
                        stop.clone(),
                    )));
                )*
                for t in tasks {
                    if let Err(e) = t.await {
                        tracing::error!(error = %e, "cluster-state reflector task failed");
                    }
                }
            }
        }
    };
}

resources! {
    pods: Pod = "pods",
    nodes: Node = "nodes",
    namespaces: Namespace = "namespaces",
    deployments: Deployment = "deployments",
    statefulsets: StatefulSet = "statefulsets",
    daemonsets: DaemonSet = "daemonsets",
    replicasets: ReplicaSet = "replicasets",
    jobs: Job = "jobs",
    cronjobs: CronJob = "cronjobs",
    services: Service = "services",
    endpointslices: EndpointSlice = "endpointslices",
    persistentvolumeclaims: PersistentVolumeClaim = "persistentvolumeclaims",
    persistentvolumes: PersistentVolume = "persistentvolumes",
    horizontalpodautoscalers: HorizontalPodAutoscaler = "horizontalpodautoscalers",
}

fn sort<K: ResourceExt>(objs: &mut [Arc<K>]) {
    objs.sort_by_cached_key(|o| (o.namespace(), o.name_any()));
}

impl Snapshot {
    /// Renders every `kube_*` family (sorting the objects by namespace and name).
    pub fn write(mut self, out: &mut String) {
        sort(&mut self.pods);
        sort(&mut self.nodes);
        sort(&mut self.namespaces);
        sort(&mut self.deployments);
        sort(&mut self.statefulsets);
        sort(&mut self.daemonsets);
        sort(&mut self.replicasets);
        sort(&mut self.jobs);
        sort(&mut self.cronjobs);
        sort(&mut self.services);
        sort(&mut self.endpointslices);
        sort(&mut self.persistentvolumeclaims);
        sort(&mut self.persistentvolumes);
        sort(&mut self.horizontalpodautoscalers);
        pod::write(out, &self.pods);
        node::write(out, &self.nodes);
        cluster::write_namespaces(out, &self.namespaces);
        workload::write_deployments(out, &self.deployments);
        workload::write_statefulsets(out, &self.statefulsets);
        workload::write_daemonsets(out, &self.daemonsets);
        workload::write_replicasets(out, &self.replicasets);
        job::write(out, &self.jobs);
        cronjob::write(out, &self.cronjobs);
        service::write_services(out, &self.services);
        service::write_endpoint_slices(out, &self.endpointslices);
        cluster::write_pvcs(out, &self.persistentvolumeclaims);
        cluster::write_pvs(out, &self.persistentvolumes);
        cluster::write_hpas(out, &self.horizontalpodautoscalers);
    }
}

/// A handle on the reflected cluster state; cheap to clone, usable from any task
/// (the watcher's `/metrics/cluster`, or the aggregator in-process).
#[derive(Clone)]
pub struct ClusterState {
    stores: Arc<Stores>,
    synced: Arc<Vec<Arc<AtomicBool>>>,
}

impl std::fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterState")
            .field("synced", &self.is_synced())
            .finish_non_exhaustive()
    }
}

/// The reflectors that fill a [`ClusterState`]; [`Reflectors::run`] drives them.
pub struct Reflectors {
    writers: Writers,
    synced: Vec<Arc<AtomicBool>>,
}

impl ClusterState {
    /// Empty stores and the reflectors that will fill them.
    pub fn new() -> (ClusterState, Reflectors) {
        let (stores, writers) = stores();
        let synced: Vec<Arc<AtomicBool>> = RESOURCES
            .iter()
            .map(|_| Arc::new(AtomicBool::new(false)))
            .collect();
        let state = ClusterState {
            stores: Arc::new(stores),
            synced: Arc::new(synced.clone()),
        };
        (state, Reflectors { writers, synced })
    }

    /// Starts the reflectors on `client` (until `stop` turns true) and returns the
    /// handle and the task.
    pub fn spawn(
        client: kube::Client,
        metrics: Arc<WatcherMetrics>,
        stop: watch::Receiver<bool>,
    ) -> (ClusterState, JoinHandle<()>) {
        let (state, reflectors) = ClusterState::new();
        let task = tokio::spawn(reflectors.run(client, metrics, stop));
        (state, task)
    }

    /// Whether every resource has been listed once.
    pub fn is_synced(&self) -> bool {
        self.synced.iter().all(|s| s.load(Relaxed))
    }

    /// The resources not listed yet.
    pub fn unsynced(&self) -> Vec<&'static str> {
        RESOURCES
            .iter()
            .zip(self.synced.iter())
            .filter(|(_, s)| !s.load(Relaxed))
            .map(|(r, _)| *r)
            .collect()
    }

    /// The objects currently known.
    pub fn snapshot(&self) -> Snapshot {
        self.stores.snapshot()
    }

    /// The Pods currently known (for the aggregator's collector discovery).
    pub fn pods(&self) -> Vec<Arc<Pod>> {
        self.stores.pods.state()
    }

    /// Renders the `kube_*` series (Prometheus text format 0.0.4) into `out`.
    pub fn write_metrics(&self, out: &mut String) {
        self.snapshot().write(out);
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use std::collections::HashSet;

    /// A k8s-openapi object from JSON; panics on a bad fixture (tests only).
    pub fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("fixture deserializes")
    }

    /// The lines of a rendering, as a set.
    pub fn families(out: &str) -> HashSet<&str> {
        out.lines().collect()
    }
}

//! The demo's simulated cluster: the objects a kube-apiserver would hold for the simulated
//! workload, kept in the in-process fake API server (`argus_kube_fake`) that the real
//! watcher lists and watches.
//!
//! Everything is derived from the log simulator's state, so the API agrees with the log
//! files: the same namespaces, pod names, uids, containers and node; the crash-looping
//! container's `restartCount` is its log file number, it waits in `CrashLoopBackOff`
//! between restarts with the last instance `terminated` (`Error`, exit code 2: a Go
//! panic), and its Events (`BackOff`, `Pulled`, `Created`, `Started`) count its crashes
//! and starts, updated in place (MODIFIED, `count` and `lastTimestamp` bumped) as kubelet
//! does. The API's database outage (the first 5 s of every minute) adds a readiness probe
//! failure (`Unhealthy`). A second node is cordoned and NotReady (`NodeNotReady`).
//!
//! A CronJob (`demo/report`, every 5 minutes) runs a Job whose pod is OOMKilled a few
//! seconds in, waits in `CrashLoopBackOff`, runs again and completes: its container's
//! last termination stays `OOMKilled` until the next run replaces Job and pod (history
//! limit 1). These pods run no simulated workload, so they have no log files or cgroups.
//!
//! An object is written only when it changed, so the watch carries real changes only.
//!
//! The objects are built in [`node`] (the Nodes), [`workload`] (each simulated pod's
//! Deployment, ReplicaSet, Pod, Service, EndpointSlice and Events), [`batch`] (the Job and
//! the CronJob) and [`event`] (the Event shape they share).

mod batch;
mod event;
mod node;
mod workload;

use std::collections::HashMap;
use std::sync::Arc;

use argus_kube_fake::FakeApiServer;
use serde_json::{json, Value};

use super::workloads::civil;
use super::{Container, Rng, Simulator, NS_PER_SEC};
use event::{event, EventSpec};

/// The node the simulated pods run on (and the collector's node name in the demo).
pub const NODE: &str = "demo-node-1";
/// A cordoned node whose kubelet is not ready.
const NOT_READY_NODE: &str = "demo-node-2";
const NAMESPACES: [&str; 5] = ["default", "kube-system", "kube-public", "demo", "shop"];

/// The simulated cluster, written into a fake API server.
pub struct Cluster {
    api: Arc<FakeApiServer>,
    /// What was last written, by `kind/namespace/name`.
    written: HashMap<String, Value>,
}

/// RFC 3339 to the second, as Kubernetes writes times.
fn time(ns: i64) -> String {
    let c = civil(ns);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

/// FNV-1a.
fn hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A uid that is the same for the same name in every run (the fake keeps given uids).
fn stable_uid(name: &str) -> String {
    Rng(hash(name)).uuid()
}

impl Cluster {
    /// A cluster written into `api`.
    pub fn new(api: Arc<FakeApiServer>) -> Cluster {
        Cluster {
            api,
            written: HashMap::new(),
        }
    }

    /// Writes what changed since the last call, and deletes the Jobs and Pods the
    /// CronJob replaced; `now` is the simulator's time.
    pub fn sync(&mut self, sim: &Simulator, now: i64) -> Result<(), argus_kube_fake::Error> {
        let Some(start) = sim.start_ns else {
            return Ok(());
        };
        let mut keys = std::collections::HashSet::new();
        for object in desired(sim, start, now) {
            let key = format!(
                "{}/{}/{}",
                object["kind"].as_str().unwrap_or_default(),
                object["metadata"]["namespace"].as_str().unwrap_or_default(),
                object["metadata"]["name"].as_str().unwrap_or_default()
            );
            keys.insert(key.clone());
            if self.written.get(&key) == Some(&object) {
                continue;
            }
            self.api.apply(object.clone())?;
            self.written.insert(key, object);
        }
        // Only the CronJob's Jobs and Pods come and go; everything else lives for the run.
        let gone: Vec<String> = self
            .written
            .keys()
            .filter(|k| !keys.contains(*k))
            .filter(|k| k.starts_with("Job/") || k.starts_with("Pod/"))
            .cloned()
            .collect();
        for key in gone {
            self.written.remove(&key);
            let mut parts = key.splitn(3, '/');
            let (kind, ns, name) = (parts.next(), parts.next(), parts.next());
            let resource = if kind == Some("Job") { "jobs" } else { "pods" };
            self.api.delete(resource, ns, name.unwrap_or_default())?;
        }
        Ok(())
    }
}

/// Every object of the simulated cluster at `now`.
fn desired(sim: &Simulator, start: i64, now: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for ns in NAMESPACES {
        out.push(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "uid": stable_uid(&format!("namespace/{ns}")),
                "labels": { "kubernetes.io/metadata.name": ns },
            },
            "spec": { "finalizers": ["kubernetes"] },
            "status": { "phase": "Active" },
        }));
    }
    out.push(node::node(NODE, true, 11));
    out.push(node::node(NOT_READY_NODE, false, 12));
    let since = start - 3 * 3600 * NS_PER_SEC;
    out.push(event(EventSpec {
        namespace: "",
        kind: "Node",
        api_version: "v1",
        name: NOT_READY_NODE,
        uid: &stable_uid(&format!("node/{NOT_READY_NODE}")),
        field_path: None,
        reason: "NodeNotReady",
        message: format!("Node {NOT_READY_NODE} status is now: NodeNotReady"),
        type_: "Normal",
        component: "node-controller",
        host: None,
        first_ns: start,
        last_ns: start,
        count: 1,
    }));
    for (i, pod) in sim.pods.iter().enumerate() {
        let containers: Vec<&Container> =
            sim.containers.iter().filter(|c| c.uid == pod.uid).collect();
        let ip = format!("10.244.0.{}", 10 + i);
        workload::workload(&mut out, pod, &containers, &ip, since, start, now);
    }
    batch::job(&mut out, start);
    batch::cronjob(&mut out, start, now);
    out
}

//! The demo's simulated cluster: the objects a kube-apiserver would hold for the simulated
//! workload, kept in the in-process fake API server (`argus_watcher::fake`) that the real
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

use std::collections::HashMap;
use std::sync::Arc;

use argus_watcher::fake::FakeApiServer;
use serde_json::{json, Value};

use super::profile::{cpu_quantity, memory_quantity, profile};
use super::workloads::{civil, in_burst, Kind};
use super::{Container, DemoPod, Rng, Simulator, NS_PER_SEC};

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

/// `<deployment>-<hash>` of a pod named `<deployment>-<hash>-<suffix>`.
fn replica_set(pod: &str) -> &str {
    pod.rsplit_once('-').map_or(pod, |(rs, _)| rs)
}

fn deployment(pod: &str) -> &str {
    replica_set(pod).rsplit_once('-').map_or(pod, |(d, _)| d)
}

/// A core/v1 Event as kubelet and the controllers write them.
struct EventSpec<'a> {
    namespace: &'a str,
    kind: &'a str,
    api_version: &'a str,
    name: &'a str,
    uid: &'a str,
    field_path: Option<String>,
    reason: &'a str,
    message: String,
    type_: &'a str,
    component: &'a str,
    host: Option<&'a str>,
    first_ns: i64,
    last_ns: i64,
    count: u64,
}

fn event(e: EventSpec<'_>) -> Value {
    let mut involved = json!({
        "kind": e.kind,
        "name": e.name,
        "uid": e.uid,
        "apiVersion": e.api_version,
    });
    if !e.namespace.is_empty() {
        involved["namespace"] = json!(e.namespace);
    }
    if let Some(f) = e.field_path {
        involved["fieldPath"] = json!(f);
    }
    let mut source = json!({ "component": e.component });
    if let Some(h) = e.host {
        source["host"] = json!(h);
    }
    // Events of cluster-scoped objects live in `default`, as the API server puts them.
    let ns = if e.namespace.is_empty() {
        "default"
    } else {
        e.namespace
    };
    // `<object>.<16 hex>`, unique per object, reason and container.
    let key = format!(
        "{}/{}/{}/{}",
        e.kind, e.name, e.reason, involved["fieldPath"]
    );
    let name = format!("{}.{:016x}", e.name, hash(&key) ^ e.first_ns as u64);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": ns,
            "creationTimestamp": time(e.first_ns),
        },
        "involvedObject": involved,
        "reason": e.reason,
        "message": e.message,
        "source": source,
        "firstTimestamp": time(e.first_ns),
        "lastTimestamp": time(e.last_ns),
        "count": e.count,
        "type": e.type_,
        "eventTime": null,
        "reportingComponent": e.component,
        "reportingInstance": e.host.unwrap_or(""),
    })
}

/// Readiness probe failures of the API so far: one per outage since `start`.
fn outages(start: i64, now: i64) -> u64 {
    let (s, n) = (start.div_euclid(NS_PER_SEC), now.div_euclid(NS_PER_SEC));
    if n < s {
        return 0;
    }
    let minutes = (n.div_euclid(60) - s.div_euclid(60)) as u64;
    minutes + u64::from(in_burst(start))
}

/// The start of the last outage at or before `now`.
fn last_outage(now: i64) -> i64 {
    now.div_euclid(60 * NS_PER_SEC) * 60 * NS_PER_SEC
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
    pub fn sync(&mut self, sim: &Simulator, now: i64) -> Result<(), argus_watcher::fake::Error> {
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
    out.push(node(NODE, true, 11));
    out.push(node(NOT_READY_NODE, false, 12));
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
        workload(&mut out, pod, &containers, &ip, since, start, now);
    }
    job(&mut out, start);
    cronjob(&mut out, start, now);
    out
}

fn node(name: &str, ready: bool, host: u8) -> Value {
    let cond = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": "2026-01-01T00:00:00Z",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        })
    };
    let (ready_status, ready_reason, ready_message) = if ready {
        ("True", "KubeletReady", "kubelet is posting ready status")
    } else {
        (
            "False",
            "KubeletNotReady",
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        )
    };
    let mut n = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": stable_uid(&format!("node/{name}")),
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "demo.large",
            },
        },
        "spec": { "podCIDR": format!("10.244.{}.0/24", host - 11), "podCIDRs": [format!("10.244.{}.0/24", host - 11)] },
        "status": {
            "capacity": { "cpu": "4", "memory": "16365236Ki", "pods": "110", "ephemeral-storage": "102626232Ki" },
            "allocatable": { "cpu": "3800m", "memory": "15214260Ki", "pods": "110", "ephemeral-storage": "94580335255" },
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", ready_status, ready_reason, ready_message),
            ],
            "addresses": [
                { "type": "InternalIP", "address": format!("10.0.0.{host}") },
                { "type": "Hostname", "address": name },
            ],
            "nodeInfo": {
                "machineID": stable_uid(&format!("machine/{name}")).replace('-', ""),
                "systemUUID": stable_uid(&format!("system/{name}")),
                "bootID": stable_uid(&format!("boot/{name}")),
                "kernelVersion": "6.8.0-51-generic",
                "osImage": "Ubuntu 24.04.1 LTS",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.33.0",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    });
    if !ready {
        n["spec"]["unschedulable"] = json!(true);
        n["spec"]["taints"] = json!([
            { "key": "node.kubernetes.io/not-ready", "effect": "NoSchedule" },
            { "key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": "2026-01-01T00:00:00Z" },
        ]);
    }
    n
}

fn container_spec(c: &Container) -> Value {
    let p = profile(c.gen.kind);
    let mut limits = json!({ "memory": memory_quantity(p.memory_limit) });
    if let Some(l) = p.cpu_limit_milli {
        limits["cpu"] = json!(cpu_quantity(l));
    }
    let mut spec = json!({
        "name": c.name,
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            "requests": {
                "cpu": cpu_quantity(p.cpu_request_milli),
                "memory": memory_quantity(p.memory_request),
            },
            "limits": limits,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    });
    if let Some(port) = p.port {
        let protocol = if c.gen.kind == Kind::CoreDns {
            "UDP"
        } else {
            "TCP"
        };
        spec["ports"] = json!([{ "containerPort": port, "protocol": protocol }]);
        spec["readinessProbe"] = json!({
            "httpGet": { "path": "/healthz", "port": port, "scheme": "HTTP" },
            "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3,
        });
    }
    spec
}

/// Whether a container is running, and since when.
fn running_since(c: &Container, start: i64) -> Option<i64> {
    c.running.then(|| c.started_ns.unwrap_or(start))
}

fn container_status(c: &Container, start: i64) -> Value {
    let p = profile(c.gen.kind);
    let id = format!("containerd://{}", c.id);
    let state = match running_since(c, start) {
        Some(at) => json!({ "running": { "startedAt": time(at) } }),
        None => json!({ "waiting": {
            "reason": "CrashLoopBackOff",
            "message": format!(
                "back-off 40s restarting failed container={} pod={}_{}({})",
                c.name, c.pod, c.namespace, c.uid
            ),
        } }),
    };
    let last = if c.crashes > 0 {
        json!({ "terminated": {
            "exitCode": 2,
            "reason": "Error",
            "startedAt": time(c.prev_started_ns.min(c.last_crash_ns)),
            "finishedAt": time(c.last_crash_ns),
            "containerID": id,
        } })
    } else {
        json!({})
    };
    let running = c.running;
    json!({
        "name": c.name,
        "image": p.image,
        "imageID": format!("{}@sha256:{}", p.image.split(':').next().unwrap_or(p.image), &stable_uid(p.image).replace('-', "").repeat(2)[..64]),
        "containerID": id,
        "restartCount": c.restart,
        "ready": running,
        "started": running,
        "state": state,
        "lastState": last,
    })
}

/// Deployment, ReplicaSet, Pod, Service, EndpointSlice and the Events of one simulated pod.
fn workload(
    out: &mut Vec<Value>,
    pod: &DemoPod,
    containers: &[&Container],
    ip: &str,
    since: i64,
    start: i64,
    now: i64,
) {
    let ns = pod.namespace.as_str();
    let rs = replica_set(&pod.pod);
    let deploy = deployment(&pod.pod);
    let hash = rs.rsplit_once('-').map_or("", |(_, h)| h);
    let deploy_uid = stable_uid(&format!("deployment/{ns}/{deploy}"));
    let rs_uid = stable_uid(&format!("replicaset/{ns}/{rs}"));
    let ready = containers.iter().all(|c| c.running);
    let ready_n = u64::from(ready);
    let specs: Vec<Value> = containers.iter().map(|c| container_spec(c)).collect();
    let labels = json!({ "app": deploy });
    let pod_labels = json!({ "app": deploy, "pod-template-hash": hash });
    let template = json!({
        "metadata": { "labels": labels },
        "spec": { "containers": specs, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst" },
    });
    let available = if ready {
        json!({ "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability." })
    } else {
        json!({ "type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability." })
    };
    let mut dstatus = json!({
        "observedGeneration": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": ready_n,
        "availableReplicas": ready_n,
        "conditions": [
            available,
            { "type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
              "message": format!("ReplicaSet \"{rs}\" has successfully progressed.") },
        ],
    });
    if !ready {
        dstatus["unavailableReplicas"] = json!(1);
    }
    out.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": deploy, "namespace": ns, "uid": deploy_uid, "labels": labels,
            "creationTimestamp": time(since),
            "annotations": { "deployment.kubernetes.io/revision": "1" },
        },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": labels },
            "template": template,
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" } },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": dstatus,
    }));
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"] = pod_labels.clone();
    out.push(json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs, "namespace": ns, "uid": rs_uid, "labels": pod_labels,
            "creationTimestamp": time(since),
            "annotations": { "deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "1" },
            "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "Deployment", "name": deploy,
                "uid": deploy_uid, "controller": true, "blockOwnerDeletion": true }],
        },
        "spec": { "replicas": 1, "selector": { "matchLabels": pod_labels }, "template": rs_template },
        "status": { "replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": ready_n,
            "availableReplicas": ready_n, "observedGeneration": 1 },
    }));
    // Ready flips when the crash-looping container starts or crashes.
    let flipped = containers
        .iter()
        .filter(|c| c.crashes > 0)
        .map(|c| {
            if c.running {
                c.started_ns.unwrap_or(start)
            } else {
                c.last_crash_ns
            }
        })
        .max()
        .unwrap_or(start);
    let cond = |type_: &str, ok: bool, at: i64| {
        let mut c = json!({ "type": type_, "status": if ok { "True" } else { "False" },
            "lastProbeTime": null, "lastTransitionTime": time(at) });
        if !ok {
            c["reason"] = json!("ContainersNotReady");
            let waiting: Vec<&str> = containers
                .iter()
                .filter(|c| !c.running)
                .map(|c| c.name.as_str())
                .collect();
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                waiting.join(" ")
            ));
        }
        c
    };
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| container_status(c, start))
        .collect();
    out.push(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.pod, "namespace": ns, "uid": pod.uid, "labels": pod_labels,
            "creationTimestamp": time(start),
            "generateName": format!("{rs}-"),
            "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                "uid": rs_uid, "controller": true, "blockOwnerDeletion": true }],
        },
        "spec": {
            "nodeName": NODE,
            "containers": template["spec"]["containers"],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                { "key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300 },
                { "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300 },
            ],
        },
        "status": {
            "phase": "Running",
            "conditions": [
                cond("PodReadyToStartContainers", true, start),
                cond("Initialized", true, start),
                cond("Ready", ready, flipped),
                cond("ContainersReady", ready, flipped),
                cond("PodScheduled", true, start),
            ],
            "hostIP": "10.0.0.11",
            "hostIPs": [{ "ip": "10.0.0.11" }],
            "podIP": ip,
            "podIPs": [{ "ip": ip }],
            "startTime": time(start),
            "qosClass": "Burstable",
            "containerStatuses": statuses,
        },
    }));
    // A Service and its EndpointSlice when the main container serves a port.
    if let Some(port) = containers.first().and_then(|c| profile(c.gen.kind).port) {
        let svc = if deploy == "coredns" {
            "kube-dns"
        } else {
            deploy
        };
        let protocol = if port == 53 { "UDP" } else { "TCP" };
        let service_port = if port == 53 { 53 } else { 80 };
        let octet = 10 + svc.bytes().map(u32::from).sum::<u32>() % 200;
        let cluster_ip = match svc {
            "kube-dns" => "10.96.0.10".to_string(),
            "api" => "10.96.12.40".to_string(),
            _ => format!("10.96.{}.{}", octet % 50, octet),
        };
        let svc_uid = stable_uid(&format!("service/{ns}/{svc}"));
        out.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": { "name": svc, "namespace": ns, "uid": svc_uid, "labels": { "app": deploy },
                "creationTimestamp": time(since) },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": cluster_ip,
                "clusterIPs": [cluster_ip],
                "selector": { "app": deploy },
                "ports": [{ "name": "http", "port": service_port, "targetPort": port, "protocol": protocol }],
                "sessionAffinity": "None",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster",
            },
            "status": { "loadBalancer": {} },
        }));
        let slice = format!("{svc}-{}", &stable_uid(&format!("slice/{ns}/{svc}"))[..5]);
        out.push(json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": slice, "namespace": ns,
                "generateName": format!("{svc}-"),
                "creationTimestamp": time(since),
                "labels": { "kubernetes.io/service-name": svc, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
                "ownerReferences": [{ "apiVersion": "v1", "kind": "Service", "name": svc,
                    "uid": svc_uid, "controller": true, "blockOwnerDeletion": true }],
            },
            "addressType": "IPv4",
            "endpoints": [{
                "addresses": [ip],
                "conditions": { "ready": ready, "serving": ready, "terminating": false },
                "nodeName": NODE,
                "targetRef": { "kind": "Pod", "namespace": ns, "name": pod.pod, "uid": pod.uid },
            }],
            "ports": [{ "name": "http", "port": port, "protocol": protocol }],
        }));
    }
    // Events: the rollout, scheduling and each container's starts and crashes.
    let ev = |reason: &'static str,
              kind: &'static str,
              name: &str,
              uid: &str,
              field: Option<String>,
              (message, type_, component): (String, &'static str, &'static str),
              (first, last, count): (i64, i64, u64)| {
        let api_version = if kind == "Pod" { "v1" } else { "apps/v1" };
        let host = (component == "kubelet").then_some(NODE);
        event(EventSpec {
            namespace: ns,
            kind,
            api_version,
            name,
            uid,
            field_path: field,
            reason,
            message,
            type_,
            component,
            host,
            first_ns: first,
            last_ns: last,
            count,
        })
    };
    out.push(ev(
        "ScalingReplicaSet",
        "Deployment",
        deploy,
        &deploy_uid,
        None,
        (
            format!("Scaled up replica set {rs} from 0 to 1"),
            "Normal",
            "deployment-controller",
        ),
        (start, start, 1),
    ));
    out.push(ev(
        "Scheduled",
        "Pod",
        &pod.pod,
        &pod.uid,
        None,
        (
            format!("Successfully assigned {ns}/{} to {NODE}", pod.pod),
            "Normal",
            "default-scheduler",
        ),
        (start, start, 1),
    ));
    for c in containers {
        let p = profile(c.gen.kind);
        let field = || Some(format!("spec.containers{{{}}}", c.name));
        let starts = u64::from(c.restart) + 1;
        let last_start = c.started_ns.unwrap_or(start);
        for (reason, message) in [
            (
                "Pulled",
                format!("Container image \"{}\" already present on machine", p.image),
            ),
            ("Created", format!("Created container: {}", c.name)),
            ("Started", format!("Started container {}", c.name)),
        ] {
            out.push(ev(
                reason,
                "Pod",
                &pod.pod,
                &pod.uid,
                field(),
                (message, "Normal", "kubelet"),
                (start, last_start, starts),
            ));
        }
        if c.crashes > 0 {
            out.push(ev(
                "BackOff",
                "Pod",
                &pod.pod,
                &pod.uid,
                field(),
                (
                    format!(
                        "Back-off restarting failed container {} in pod {}_{}({})",
                        c.name, pod.pod, ns, pod.uid
                    ),
                    "Warning",
                    "kubelet",
                ),
                (c.first_crash_ns, c.last_crash_ns, u64::from(c.crashes)),
            ));
        }
        if c.gen.kind == Kind::Api {
            let n = outages(start, now);
            if n > 0 {
                let first = if in_burst(start) {
                    start
                } else {
                    last_outage(start) + 60 * NS_PER_SEC
                };
                out.push(ev(
                    "Unhealthy",
                    "Pod",
                    &pod.pod,
                    &pod.uid,
                    field(),
                    (
                        "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
                        "Warning",
                        "kubelet",
                    ),
                    (first, last_outage(now).max(first), n),
                ));
            }
        }
    }
}

/// A Job that finished before the simulation began (its pod is gone, as after
/// `ttlSecondsAfterFinished`).
fn job(out: &mut Vec<Value>, start: i64) {
    let (ns, name) = ("demo", "db-migrate");
    let uid = stable_uid(&format!("job/{ns}/{name}"));
    let began = start - 10 * 60 * NS_PER_SEC;
    let done = began + 42 * NS_PER_SEC;
    let labels = json!({ "job-name": name, "batch.kubernetes.io/job-name": name });
    out.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": name, "namespace": ns, "uid": uid, "labels": labels,
            "creationTimestamp": time(began) },
        "spec": {
            "parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
            "template": { "metadata": { "labels": labels }, "spec": {
                "restartPolicy": "Never",
                "containers": [{ "name": "migrate", "image": "ghcr.io/example/api:2.8.1",
                    "args": ["migrate", "--to", "latest"] }],
            } },
        },
        "status": {
            "startTime": time(began),
            "completionTime": time(done),
            "succeeded": 1,
            "ready": 0,
            "terminating": 0,
            "conditions": [
                { "type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": time(done), "lastTransitionTime": time(done) },
                { "type": "Complete", "status": "True", "lastProbeTime": time(done), "lastTransitionTime": time(done) },
            ],
        },
    }));
    for (reason, message, at) in [
        (
            "SuccessfulCreate",
            format!("Created pod: {name}-x7k2p"),
            began,
        ),
        ("Completed", "Job completed".to_string(), done),
    ] {
        out.push(event(EventSpec {
            namespace: ns,
            kind: "Job",
            api_version: "batch/v1",
            name,
            uid: &uid,
            field_path: None,
            reason,
            message,
            type_: "Normal",
            component: "job-controller",
            host: None,
            first_ns: at,
            last_ns: at,
            count: 1,
        }));
    }
}

/// Seconds into a `report` run: the first attempt is OOMKilled at [`OOM_AT`], kubelet
/// backs off until [`RESTART_AT`], the second attempt completes at [`DONE_AT`].
const OOM_AT: i64 = 6;
const RESTART_AT: i64 = 16;
const DONE_AT: i64 = 40;
/// The CronJob's period.
const REPORT_EVERY: i64 = 5 * 60;

/// The `demo/report` CronJob, its latest Job and that Job's pod at `now`.
fn cronjob(out: &mut Vec<Value>, start: i64, now: i64) {
    let (ns, name) = ("demo", "report");
    let uid = stable_uid(&format!("cronjob/{ns}/{name}"));
    let created = start.div_euclid(NS_PER_SEC) - 3 * 3600;
    let now_s = now.div_euclid(NS_PER_SEC);
    // The latest scheduled time (UTC minutes divisible by 5) and how far into it we are.
    let scheduled = now_s - now_s.rem_euclid(REPORT_EVERY);
    let e = now_s - scheduled;
    let at = |secs: i64| time(secs * NS_PER_SEC);
    // Jobs are named after their scheduled time in minutes, as the CronJob controller does.
    let job = format!("{name}-{}", scheduled / 60);
    let job_uid = stable_uid(&format!("job/{ns}/{job}"));
    let suffix: String = stable_uid(&job)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(5)
        .collect();
    let pod = format!("{job}-{suffix}");
    let pod_uid = stable_uid(&format!("pod/{ns}/{pod}"));
    let done = e >= DONE_AT;
    let container = json!({
        "name": name,
        "image": "ghcr.io/example/report:1.4.0",
        "args": ["--since", "5m", "--out", "s3://reports/demo"],
        "resources": { "requests": { "cpu": "50m", "memory": "32Mi" }, "limits": { "memory": "64Mi" } },
    });
    let template = json!({ "spec": {
        "restartPolicy": "OnFailure",
        "containers": [container],
    } });
    let mut status = json!({ "lastScheduleTime": at(scheduled) });
    if !done {
        status["active"] = json!([{ "apiVersion": "batch/v1", "kind": "Job", "namespace": ns,
            "name": job, "uid": job_uid }]);
    }
    let last_success = if done {
        Some(scheduled + DONE_AT)
    } else {
        Some(scheduled - REPORT_EVERY + DONE_AT).filter(|t| *t > created)
    };
    if let Some(t) = last_success {
        status["lastSuccessfulTime"] = json!(at(t));
    }
    out.push(json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": { "name": name, "namespace": ns, "uid": uid, "creationTimestamp": at(created) },
        "spec": {
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Forbid",
            "suspend": false,
            "startingDeadlineSeconds": 60,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": { "spec": { "backoffLimit": 3, "template": template } },
        },
        "status": status,
    }));
    let job_labels = json!({ "job-name": job, "batch.kubernetes.io/job-name": job,
        "controller-uid": job_uid, "batch.kubernetes.io/controller-uid": job_uid });
    let mut job_status = json!({
        "startTime": at(scheduled),
        "active": u8::from(!done),
        "ready": u8::from((RESTART_AT..DONE_AT).contains(&e) || e < OOM_AT),
        "terminating": 0,
    });
    if done {
        job_status["succeeded"] = json!(1);
        job_status["completionTime"] = json!(at(scheduled + DONE_AT));
        job_status["conditions"] = json!([
            { "type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": at(scheduled + DONE_AT), "lastTransitionTime": at(scheduled + DONE_AT) },
            { "type": "Complete", "status": "True", "lastProbeTime": at(scheduled + DONE_AT), "lastTransitionTime": at(scheduled + DONE_AT) },
        ]);
    }
    out.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": job, "namespace": ns, "uid": job_uid, "labels": job_labels,
            "creationTimestamp": at(scheduled),
            "ownerReferences": [{ "apiVersion": "batch/v1", "kind": "CronJob", "name": name,
                "uid": uid, "controller": true, "blockOwnerDeletion": true }] },
        "spec": { "parallelism": 1, "completions": 1, "backoffLimit": 3, "completionMode": "NonIndexed",
            "template": template },
        "status": job_status,
    }));
    let id = |attempt: u8| {
        format!(
            "containerd://{}",
            stable_uid(&format!("{pod}/{attempt}")).replace('-', "")
        )
    };
    let oom = json!({ "terminated": {
        "exitCode": 137, "reason": "OOMKilled",
        "startedAt": at(scheduled + 1), "finishedAt": at(scheduled + OOM_AT),
        "containerID": id(0),
    } });
    let (state, last, restarts, ready, current) = if e < OOM_AT {
        let state = json!({ "running": { "startedAt": at(scheduled + 1) } });
        (state, json!({}), 0, true, id(0))
    } else if e < RESTART_AT {
        let state = json!({ "waiting": {
            "reason": "CrashLoopBackOff",
            "message": format!("back-off 10s restarting failed container={name} pod={pod}_{ns}({pod_uid})"),
        } });
        (state, oom, 1, false, id(0))
    } else if !done {
        let state = json!({ "running": { "startedAt": at(scheduled + RESTART_AT) } });
        (state, oom, 1, true, id(1))
    } else {
        let state = json!({ "terminated": {
            "exitCode": 0, "reason": "Completed",
            "startedAt": at(scheduled + RESTART_AT), "finishedAt": at(scheduled + DONE_AT),
            "containerID": id(1),
        } });
        (state, oom, 1, false, id(1))
    };
    let cond = |type_: &str, ok: bool| {
        json!({ "type": type_, "status": if ok { "True" } else { "False" },
            "lastProbeTime": null, "lastTransitionTime": at(scheduled) })
    };
    out.push(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": pod, "namespace": ns, "uid": pod_uid, "labels": job_labels,
            "creationTimestamp": at(scheduled),
            "generateName": format!("{job}-"),
            "ownerReferences": [{ "apiVersion": "batch/v1", "kind": "Job", "name": job,
                "uid": job_uid, "controller": true, "blockOwnerDeletion": true }] },
        "spec": {
            "nodeName": NODE,
            "containers": template["spec"]["containers"],
            "restartPolicy": "OnFailure",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
        },
        "status": {
            "phase": if done { "Succeeded" } else { "Running" },
            "conditions": [
                cond("Initialized", true),
                cond("Ready", ready),
                cond("ContainersReady", ready),
                cond("PodScheduled", true),
            ],
            "hostIP": "10.0.0.11",
            "podIP": "10.244.0.250",
            "startTime": at(scheduled),
            "qosClass": "Burstable",
            "containerStatuses": [{
                "name": name,
                "image": "ghcr.io/example/report:1.4.0",
                "imageID": format!("ghcr.io/example/report@sha256:{}", stable_uid("report-image").replace('-', "").repeat(2)),
                "containerID": current,
                "restartCount": restarts,
                "ready": ready,
                "started": ready,
                "state": state,
                "lastState": last,
            }],
        },
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_owners() {
        assert_eq!(replica_set("web-bcdfghjklm-bcdfg"), "web-bcdfghjklm");
        assert_eq!(deployment("web-bcdfghjklm-bcdfg"), "web");
        assert_eq!(stable_uid("a"), stable_uid("a"));
        assert_ne!(stable_uid("a"), stable_uid("b"));
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
    }

    /// The report pod is OOMKilled, backs off, runs again and completes; the CronJob
    /// and Job follow, and the next run gets a new Job and pod.
    #[test]
    fn report_cronjob_runs_and_is_oom_killed() {
        let start = 1_800_000_000 * NS_PER_SEC; // 2027-01-15T08:00:00Z, a 5-minute boundary
        let objects = |secs: i64| {
            let mut out = Vec::new();
            cronjob(&mut out, start, start + secs * NS_PER_SEC);
            out
        };
        let container = |out: &[Value]| out[2]["status"]["containerStatuses"][0].clone();
        let at = objects;
        let first = at(2);
        assert_eq!(first[0]["status"]["active"][0]["name"], "report-30000000");
        assert_eq!(first[1]["metadata"]["name"], "report-30000000");
        assert!(container(&first)["state"]["running"].is_object());
        let backoff = container(&at(10));
        assert_eq!(backoff["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(backoff["lastState"]["terminated"]["reason"], "OOMKilled");
        assert_eq!(backoff["restartCount"], 1);
        let rerun = container(&at(20));
        assert!(rerun["state"]["running"].is_object());
        assert_eq!(rerun["lastState"]["terminated"]["reason"], "OOMKilled");
        let done = at(60);
        assert_eq!(done[2]["status"]["phase"], "Succeeded");
        assert_eq!(
            container(&done)["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(container(&done)["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(done[1]["status"]["succeeded"], 1);
        assert!(done[0]["status"].get("active").is_none());
        assert_eq!(
            done[0]["status"]["lastSuccessfulTime"],
            time(start + DONE_AT * NS_PER_SEC)
        );
        let next = at(REPORT_EVERY + 1);
        assert_eq!(next[1]["metadata"]["name"], "report-30000005");
        assert_ne!(next[2]["metadata"]["name"], done[2]["metadata"]["name"]);
    }

    #[test]
    fn one_probe_failure_per_outage() {
        let m = 60 * NS_PER_SEC;
        let t = 1_800_000_000 * NS_PER_SEC; // a whole minute
        assert_eq!(outages(t + 10 * NS_PER_SEC, t + 20 * NS_PER_SEC), 0);
        assert_eq!(outages(t + 10 * NS_PER_SEC, t + m + NS_PER_SEC), 1);
        assert_eq!(outages(t + 2 * NS_PER_SEC, t + 3 * NS_PER_SEC), 1);
        assert_eq!(outages(t + 10 * NS_PER_SEC, t + 3 * m), 2 + 1);
    }
}

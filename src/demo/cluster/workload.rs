//! The objects of one simulated pod: its Deployment, ReplicaSet, Pod (containers that
//! crash-loop as the log files say), Service and EndpointSlice, and the Events kubelet and
//! the controllers write for them (scheduling, pulls, starts, back-offs and the API's
//! readiness probe failures during its database outages).

use serde_json::{json, Value};

use crate::demo::profile::{cpu_quantity, memory_quantity, profile};
use crate::demo::workloads::{in_burst, Kind};
use crate::demo::{Container, DemoPod, NS_PER_SEC};

use super::event::{event, EventSpec};
use super::{stable_uid, time, NODE};

/// `<deployment>-<hash>` of a pod named `<deployment>-<hash>-<suffix>`.
fn replica_set(pod: &str) -> &str {
    pod.rsplit_once('-').map_or(pod, |(rs, _)| rs)
}

fn deployment(pod: &str) -> &str {
    replica_set(pod).rsplit_once('-').map_or(pod, |(d, _)| d)
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
pub(super) fn workload(
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

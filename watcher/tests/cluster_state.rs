//! The `kube_*` series end to end: a small cluster in the fake API server, the real
//! `Watcher` (state on, events off), `/metrics/cluster` scraped and compared series
//! by series with what kube-state-metrics v2 exports for the same objects; then
//! objects change, watches are cut and the history expires (relist), and the series
//! follow — deleted objects' series are gone.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use argus_kube_fake::FakeApiServer;
use argus_watcher::{ClusterState, EventsConfig, Watcher, WatcherConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let code = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// The `kube_*` samples of a scrape: series → value.
fn kube_samples(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter(|l| l.starts_with("kube_"))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(s, v)| (s.to_string(), v.to_string()))
        .collect()
}

fn expected(text: &str) -> BTreeMap<String, String> {
    kube_samples(text.replace("\n    ", "\n").trim())
}

fn node(name: &str, ready: &str, unschedulable: bool) -> Value {
    let mut n = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name},
        "spec": {},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": ready}],
            "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", name.len())}],
            "nodeInfo": {"kernelVersion": "6.1", "osImage": "Debian", "containerRuntimeVersion": "containerd://1.7",
                         "kubeletVersion": "v1.33.0", "kubeProxyVersion": "", "systemUUID": "uuid", "machineID": "m",
                         "bootID": "b", "architecture": "amd64", "operatingSystem": "linux"}
        }
    });
    if unschedulable {
        n["spec"] = json!({"unschedulable": true, "taints": [
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]});
    } else {
        n["metadata"]["labels"] = json!({"node-role.kubernetes.io/control-plane": ""});
    }
    n
}

fn crashing_pod(ready: bool) -> Value {
    let state = if ready {
        json!({"running": {"startedAt": "2025-06-01T10:00:00Z"}})
    } else {
        json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}})
    };
    let cond = if ready { "True" } else { "False" };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-0", "namespace": "shop",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "api", "uid": "s1", "controller": true}]},
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "shop/api:1",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]},
        "status": {"phase": "Running", "hostIP": "10.0.0.6", "podIP": "10.1.0.7",
            "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": cond}],
            "containerStatuses": [{"name": "app", "image": "docker.io/shop/api:1", "imageID": "sha256:1",
                "containerID": "containerd://a1", "ready": ready, "restartCount": 7, "state": state,
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}
    })
}

fn deployment(spec: i32, available: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": spec},
        "spec": {"replicas": spec, "selector": {"matchLabels": {"app": "web"}}, "template": {}},
        "status": {"replicas": spec, "availableReplicas": available, "unavailableReplicas": spec - available,
            "updatedReplicas": spec, "observedGeneration": spec,
            "conditions": [
                {"type": "Available", "status": if available == spec { "True" } else { "False" },
                 "reason": if available == spec { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
    })
}

/// A CronJob every 15 minutes in the watcher's zone (UTC), last run at 10:00, and one at
/// 02:30 on weekdays in a fixed zone two hours east of UTC that never ran.
fn cronjob(name: &str, suspend: Option<bool>, last: Option<&str>) -> Value {
    let (schedule, zone, policy) = if name == "report" {
        ("*/15 * * * *", None, Some("Forbid"))
    } else {
        ("30 2 * * 1-5", Some("Etc/GMT-2"), None)
    };
    let mut cj = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2025-06-01T09:00:00Z"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {}}}},
        "status": {}
    });
    if let Some(zone) = zone {
        cj["spec"]["timeZone"] = json!(zone);
    }
    if let Some(policy) = policy {
        cj["spec"]["concurrencyPolicy"] = json!(policy);
    }
    if let Some(suspend) = suspend {
        cj["spec"]["suspend"] = json!(suspend);
    }
    if let Some(last) = last {
        cj["status"]["lastScheduleTime"] = json!(last);
    }
    if name == "report" {
        cj["status"]["active"] =
            json!([{"kind": "Job", "namespace": "shop", "name": "report-29146200"}]);
    }
    cj
}

fn cluster(api: &FakeApiServer) -> BTreeMap<&'static str, String> {
    let apply = |v: Value| api.apply(v).expect("apply");
    let uid = |v: &Value| {
        v["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut uids = BTreeMap::new();
    apply(node("node-a", "True", false));
    apply(node("node-b", "False", true));
    for ns in ["default", "shop"] {
        apply(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}, "status": {"phase": "Active"}}),
        );
    }
    apply(deployment(3, 2));
    uids.insert("API", uid(&apply(crashing_pod(false))));
    uids.insert("WEB", uid(&apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}
    }))));
    apply(
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "done", "namespace": "shop"},
        "spec": {"template": {}},
        "status": {"succeeded": 1, "startTime": "2025-06-01T10:00:00Z", "completionTime": "2025-06-01T10:01:40Z",
                   "conditions": [{"type": "Complete", "status": "True"}]}}),
    );
    apply(
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "broken", "namespace": "shop"},
        "spec": {"template": {}},
        "status": {"failed": 2, "startTime": "2025-06-01T10:00:00Z",
                   "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}),
    );
    apply(cronjob("report", Some(false), Some("2025-06-01T10:00:00Z")));
    apply(cronjob("nightly", None, None));
    apply(
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "api", "namespace": "shop", "generation": 2},
        "spec": {"replicas": 1, "serviceName": "api", "selector": {}, "template": {}},
        "status": {"replicas": 1, "readyReplicas": 0, "updatedReplicas": 1, "observedGeneration": 2,
                   "currentRevision": "api-7c", "updateRevision": "api-7c"}}),
    );
    apply(
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "shop"},
        "spec": {"selector": {}, "template": {}},
        "status": {"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberMisscheduled": 0,
                   "numberReady": 1, "numberAvailable": 1, "updatedNumberScheduled": 2}}),
    );
    uids.insert("SVC", uid(&apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": [{"port": 80}]}}))));
    apply(
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "web-x1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4", "ports": [{"port": 80}],
        "endpoints": [
            {"addresses": ["10.1.0.1"], "conditions": {"ready": true}},
            {"addresses": ["10.1.0.2"], "conditions": {"ready": true}},
            {"addresses": ["10.1.0.3"], "conditions": {"ready": false}}]}),
    );
    apply(
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"]}, "status": {"phase": "Bound"}}),
    );
    uids
}

/// What kube-state-metrics v2 shows for [`cluster`] (hand-derived from its stores'
/// code: one series per phase, three per condition, waiting/terminated reasons only
/// in that state, owners with empty labels when there is none, quantities rounded
/// up, values in Go's %g).
const INITIAL: &str = r#"
    kube_pod_container_info{namespace="shop",pod="api-0",uid="API",container="app",image_spec="shop/api:1",image="docker.io/shop/api:1",image_id="sha256:1",container_id="containerd://a1"} 1
    kube_pod_container_resource_limits{namespace="shop",pod="api-0",uid="API",container="app",node="node-a",resource="memory",unit="byte"} 1.34217728e+08
    kube_pod_container_resource_requests{namespace="shop",pod="api-0",uid="API",container="app",node="node-a",resource="cpu",unit="core"} 0.1
    kube_pod_container_resource_requests{namespace="shop",pod="api-0",uid="API",container="app",node="node-a",resource="memory",unit="byte"} 6.7108864e+07
    kube_pod_container_status_last_terminated_reason{namespace="shop",pod="api-0",uid="API",container="app",reason="OOMKilled"} 1
    kube_pod_container_status_ready{namespace="shop",pod="api-0",uid="API",container="app"} 0
    kube_pod_container_status_restarts_total{namespace="shop",pod="api-0",uid="API",container="app"} 7
    kube_pod_container_status_waiting_reason{namespace="shop",pod="api-0",uid="API",container="app",reason="CrashLoopBackOff"} 1
    kube_pod_info{namespace="shop",pod="api-0",uid="API",host_ip="10.0.0.6",pod_ip="10.1.0.7",node="node-a",created_by_kind="StatefulSet",created_by_name="api",priority_class="",host_network="false"} 1
    kube_pod_info{namespace="shop",pod="web-1",uid="WEB",host_ip="",pod_ip="",node="",created_by_kind="",created_by_name="",priority_class="",host_network="false"} 1
    kube_pod_owner{namespace="shop",pod="api-0",uid="API",owner_kind="StatefulSet",owner_name="api",owner_is_controller="true"} 1
    kube_pod_owner{namespace="shop",pod="web-1",uid="WEB",owner_kind="",owner_name="",owner_is_controller=""} 1
    kube_pod_status_phase{namespace="shop",pod="api-0",uid="API",phase="Pending"} 0
    kube_pod_status_phase{namespace="shop",pod="api-0",uid="API",phase="Succeeded"} 0
    kube_pod_status_phase{namespace="shop",pod="api-0",uid="API",phase="Failed"} 0
    kube_pod_status_phase{namespace="shop",pod="api-0",uid="API",phase="Unknown"} 0
    kube_pod_status_phase{namespace="shop",pod="api-0",uid="API",phase="Running"} 1
    kube_pod_status_phase{namespace="shop",pod="web-1",uid="WEB",phase="Pending"} 1
    kube_pod_status_phase{namespace="shop",pod="web-1",uid="WEB",phase="Succeeded"} 0
    kube_pod_status_phase{namespace="shop",pod="web-1",uid="WEB",phase="Failed"} 0
    kube_pod_status_phase{namespace="shop",pod="web-1",uid="WEB",phase="Unknown"} 0
    kube_pod_status_phase{namespace="shop",pod="web-1",uid="WEB",phase="Running"} 0
    kube_pod_status_ready{namespace="shop",pod="api-0",uid="API",condition="true"} 0
    kube_pod_status_ready{namespace="shop",pod="api-0",uid="API",condition="false"} 1
    kube_pod_status_ready{namespace="shop",pod="api-0",uid="API",condition="unknown"} 0
    kube_pod_status_reason{namespace="shop",pod="api-0",uid="API",reason="Evicted"} 0
    kube_pod_status_reason{namespace="shop",pod="api-0",uid="API",reason="NodeAffinity"} 0
    kube_pod_status_reason{namespace="shop",pod="api-0",uid="API",reason="NodeLost"} 0
    kube_pod_status_reason{namespace="shop",pod="api-0",uid="API",reason="Shutdown"} 0
    kube_pod_status_reason{namespace="shop",pod="api-0",uid="API",reason="UnexpectedAdmissionError"} 0
    kube_pod_status_reason{namespace="shop",pod="web-1",uid="WEB",reason="Evicted"} 0
    kube_pod_status_reason{namespace="shop",pod="web-1",uid="WEB",reason="NodeAffinity"} 0
    kube_pod_status_reason{namespace="shop",pod="web-1",uid="WEB",reason="NodeLost"} 0
    kube_pod_status_reason{namespace="shop",pod="web-1",uid="WEB",reason="Shutdown"} 0
    kube_pod_status_reason{namespace="shop",pod="web-1",uid="WEB",reason="UnexpectedAdmissionError"} 0
    kube_pod_status_scheduled{namespace="shop",pod="api-0",uid="API",condition="true"} 1
    kube_pod_status_scheduled{namespace="shop",pod="api-0",uid="API",condition="false"} 0
    kube_pod_status_scheduled{namespace="shop",pod="api-0",uid="API",condition="unknown"} 0
    kube_pod_status_scheduled{namespace="shop",pod="web-1",uid="WEB",condition="true"} 0
    kube_pod_status_scheduled{namespace="shop",pod="web-1",uid="WEB",condition="false"} 1
    kube_pod_status_scheduled{namespace="shop",pod="web-1",uid="WEB",condition="unknown"} 0
    kube_node_info{node="node-a",kernel_version="6.1",os_image="Debian",container_runtime_version="containerd://1.7",kubelet_version="v1.33.0",kubeproxy_version="",provider_id="",pod_cidr="",system_uuid="uuid",internal_ip="10.0.0.6"} 1
    kube_node_info{node="node-b",kernel_version="6.1",os_image="Debian",container_runtime_version="containerd://1.7",kubelet_version="v1.33.0",kubeproxy_version="",provider_id="",pod_cidr="",system_uuid="uuid",internal_ip="10.0.0.6"} 1
    kube_node_role{node="node-a",role="control-plane"} 1
    kube_node_spec_taint{node="node-b",key="node.kubernetes.io/unschedulable",value="",effect="NoSchedule"} 1
    kube_node_spec_unschedulable{node="node-a"} 0
    kube_node_spec_unschedulable{node="node-b"} 1
    kube_node_status_allocatable{node="node-a",resource="cpu",unit="core"} 3.8
    kube_node_status_allocatable{node="node-a",resource="memory",unit="byte"} 7.516192768e+09
    kube_node_status_allocatable{node="node-a",resource="pods",unit="integer"} 110
    kube_node_status_allocatable{node="node-b",resource="cpu",unit="core"} 3.8
    kube_node_status_allocatable{node="node-b",resource="memory",unit="byte"} 7.516192768e+09
    kube_node_status_allocatable{node="node-b",resource="pods",unit="integer"} 110
    kube_node_status_capacity{node="node-a",resource="cpu",unit="core"} 4
    kube_node_status_capacity{node="node-a",resource="memory",unit="byte"} 8.589934592e+09
    kube_node_status_capacity{node="node-a",resource="pods",unit="integer"} 110
    kube_node_status_capacity{node="node-b",resource="cpu",unit="core"} 4
    kube_node_status_capacity{node="node-b",resource="memory",unit="byte"} 8.589934592e+09
    kube_node_status_capacity{node="node-b",resource="pods",unit="integer"} 110
    kube_node_status_condition{node="node-a",condition="Ready",status="true"} 1
    kube_node_status_condition{node="node-a",condition="Ready",status="false"} 0
    kube_node_status_condition{node="node-a",condition="Ready",status="unknown"} 0
    kube_node_status_condition{node="node-b",condition="Ready",status="true"} 0
    kube_node_status_condition{node="node-b",condition="Ready",status="false"} 1
    kube_node_status_condition{node="node-b",condition="Ready",status="unknown"} 0
    kube_namespace_status_phase{namespace="default",phase="Active"} 1
    kube_namespace_status_phase{namespace="default",phase="Terminating"} 0
    kube_namespace_status_phase{namespace="shop",phase="Active"} 1
    kube_namespace_status_phase{namespace="shop",phase="Terminating"} 0
    kube_deployment_status_replicas{namespace="shop",deployment="web"} 3
    kube_deployment_status_replicas_available{namespace="shop",deployment="web"} 2
    kube_deployment_status_replicas_unavailable{namespace="shop",deployment="web"} 1
    kube_deployment_status_replicas_updated{namespace="shop",deployment="web"} 3
    kube_deployment_status_observed_generation{namespace="shop",deployment="web"} 3
    kube_deployment_status_condition{namespace="shop",deployment="web",condition="Available",status="true",reason="MinimumReplicasUnavailable"} 0
    kube_deployment_status_condition{namespace="shop",deployment="web",condition="Available",status="false",reason="MinimumReplicasUnavailable"} 1
    kube_deployment_status_condition{namespace="shop",deployment="web",condition="Available",status="unknown",reason="MinimumReplicasUnavailable"} 0
    kube_deployment_status_condition{namespace="shop",deployment="web",condition="Progressing",status="true",reason="NewReplicaSetAvailable"} 1
    kube_deployment_status_condition{namespace="shop",deployment="web",condition="Progressing",status="false",reason="NewReplicaSetAvailable"} 0
    kube_deployment_status_condition{namespace="shop",deployment="web",condition="Progressing",status="unknown",reason="NewReplicaSetAvailable"} 0
    kube_deployment_spec_replicas{namespace="shop",deployment="web"} 3
    kube_deployment_metadata_generation{namespace="shop",deployment="web"} 3
    kube_statefulset_status_replicas{namespace="shop",statefulset="api"} 1
    kube_statefulset_status_replicas_ready{namespace="shop",statefulset="api"} 0
    kube_statefulset_status_replicas_updated{namespace="shop",statefulset="api"} 1
    kube_statefulset_status_observed_generation{namespace="shop",statefulset="api"} 2
    kube_statefulset_replicas{namespace="shop",statefulset="api"} 1
    kube_statefulset_metadata_generation{namespace="shop",statefulset="api"} 2
    kube_statefulset_status_current_revision{namespace="shop",statefulset="api",revision="api-7c"} 1
    kube_statefulset_status_update_revision{namespace="shop",statefulset="api",revision="api-7c"} 1
    kube_daemonset_status_current_number_scheduled{namespace="shop",daemonset="agent"} 2
    kube_daemonset_status_desired_number_scheduled{namespace="shop",daemonset="agent"} 2
    kube_daemonset_status_number_available{namespace="shop",daemonset="agent"} 1
    kube_daemonset_status_number_misscheduled{namespace="shop",daemonset="agent"} 0
    kube_daemonset_status_number_ready{namespace="shop",daemonset="agent"} 1
    kube_daemonset_status_updated_number_scheduled{namespace="shop",daemonset="agent"} 2
    kube_job_status_succeeded{namespace="shop",job_name="broken"} 0
    kube_job_status_succeeded{namespace="shop",job_name="done"} 1
    kube_job_status_failed{namespace="shop",job_name="broken",reason="BackoffLimitExceeded"} 1
    kube_job_status_failed{namespace="shop",job_name="broken",reason="DeadlineExceeded"} 0
    kube_job_status_failed{namespace="shop",job_name="broken",reason="Evicted"} 0
    kube_job_status_failed{namespace="shop",job_name="done"} 0
    kube_job_status_active{namespace="shop",job_name="broken"} 0
    kube_job_status_active{namespace="shop",job_name="done"} 0
    kube_job_failed{namespace="shop",job_name="broken",condition="true"} 1
    kube_job_failed{namespace="shop",job_name="broken",condition="false"} 0
    kube_job_failed{namespace="shop",job_name="broken",condition="unknown"} 0
    kube_job_status_start_time{namespace="shop",job_name="broken"} 1.748772e+09
    kube_job_status_start_time{namespace="shop",job_name="done"} 1.748772e+09
    kube_job_status_completion_time{namespace="shop",job_name="done"} 1.7487721e+09
    kube_job_owner{namespace="shop",job_name="broken",owner_kind="",owner_name="",owner_is_controller=""} 1
    kube_job_owner{namespace="shop",job_name="done",owner_kind="",owner_name="",owner_is_controller=""} 1
    kube_cronjob_info{namespace="shop",cronjob="nightly",schedule="30 2 * * 1-5",concurrency_policy="",timezone="Etc/GMT-2"} 1
    kube_cronjob_info{namespace="shop",cronjob="report",schedule="*/15 * * * *",concurrency_policy="Forbid",timezone="local"} 1
    kube_cronjob_created{namespace="shop",cronjob="nightly"} 1.7487684e+09
    kube_cronjob_created{namespace="shop",cronjob="report"} 1.7487684e+09
    kube_cronjob_status_active{namespace="shop",cronjob="nightly"} 0
    kube_cronjob_status_active{namespace="shop",cronjob="report"} 1
    kube_cronjob_status_last_schedule_time{namespace="shop",cronjob="report"} 1.748772e+09
    kube_cronjob_spec_suspend{namespace="shop",cronjob="report"} 0
    kube_cronjob_next_schedule_time{namespace="shop",cronjob="nightly"} 1.7488242e+09
    kube_cronjob_next_schedule_time{namespace="shop",cronjob="report"} 1.7487729e+09
    kube_service_info{namespace="shop",service="web",uid="SVC",cluster_ip="10.96.0.10",external_name="",load_balancer_ip="",external_traffic_policy="",type="ClusterIP"} 1
    kube_service_spec_type{namespace="shop",service="web",uid="SVC",type="ClusterIP"} 1
    kube_endpoint_address{namespace="shop",endpoint="web",port_protocol="TCP",port_number="80",port_name="",ip="10.1.0.1",ready="true"} 1
    kube_endpoint_address{namespace="shop",endpoint="web",port_protocol="TCP",port_number="80",port_name="",ip="10.1.0.2",ready="true"} 1
    kube_endpoint_address{namespace="shop",endpoint="web",port_protocol="TCP",port_number="80",port_name="",ip="10.1.0.3",ready="false"} 1
    kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Lost"} 0
    kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Bound"} 1
    kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Pending"} 0
"#;

fn diff(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> String {
    let mut d = String::new();
    for (k, v) in want {
        match got.get(k) {
            None => d.push_str(&format!("missing: {k} {v}\n")),
            Some(g) if g != v => d.push_str(&format!("value:   {k} want {v} got {g}\n")),
            _ => {}
        }
    }
    for (k, v) in got {
        if !want.contains_key(k) {
            d.push_str(&format!("extra:   {k} {v}\n"));
        }
    }
    d
}

/// Scrapes until the kube_* samples equal `want` (10 s), else fails with the diff.
async fn settle(addr: SocketAddr, want: &BTreeMap<String, String>, what: &str) {
    settle_where(addr, want, what, |_| true).await
}

/// [`settle`] for the samples whose series `keep` selects.
async fn settle_where(
    addr: SocketAddr,
    want: &BTreeMap<String, String>,
    what: &str,
    keep: impl Fn(&str) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = get(addr, "/metrics/cluster").await;
        let mut got = kube_samples(&body);
        got.retain(|k, _| keep(k));
        let d = diff(&got, want);
        if d.is_empty() {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{what}: series differ from kube-state-metrics':\n{d}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real `Watcher` (state on, events off) on a free port, watching `api`, started and
/// past `/readyz` (every reflector's first list).
struct Running {
    addr: SocketAddr,
    state: ClusterState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<argus_watcher::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(api: &FakeApiServer) -> Running {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        api.kubeconfig(&kubeconfig).expect("kubeconfig");
        let cfg = WatcherConfig {
            kubeconfig: Some(kubeconfig),
            data_dir: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".into(),
            events: EventsConfig {
                enabled: false,
                ..EventsConfig::default()
            },
            ..WatcherConfig::default()
        };
        let w = Watcher::new(cfg).expect("watcher");
        let state = w.cluster_state().expect("state is on by default");
        let listener = w.bind().await.expect("bind").expect("listener");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(w.serve(Some(listener), async move {
            let _ = stopped.await;
        }));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (code, body) = get(addr, "/readyz").await;
            if code == 200 {
                break;
            }
            assert!(body.contains("not listed yet"), "{body}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "never ready: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Running {
            addr,
            state,
            stop,
            task,
            _dir: dir,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops")
            .expect("task")
            .expect("result");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_series_follow_the_cluster_like_kube_state_metrics() {
    let api = FakeApiServer::start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("fake api");
    let uids = cluster(&api);
    let running = Running::start(&api).await;
    let (addr, state) = (running.addr, running.state.clone());
    assert!(state.is_synced());

    let sub = |s: &str| {
        let mut s = s.to_string();
        for (k, v) in &uids {
            s = s.replace(&format!("uid=\"{k}\""), &format!("uid=\"{v}\""));
        }
        s
    };
    let mut want = expected(&sub(INITIAL));
    settle(addr, &want, "initial cluster").await;

    // Headers as kube-state-metrics writes them, and the in-process handle agrees.
    let (_, body) = get(addr, "/metrics/cluster").await;
    for h in [
        "# HELP kube_pod_status_phase [STABLE] The pods current phase.\n# TYPE kube_pod_status_phase gauge\n",
        "# HELP kube_cronjob_next_schedule_time [STABLE] Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's creation time if it's never been scheduled. Use this to determine if the job is delayed.\n# TYPE kube_cronjob_next_schedule_time gauge\n",
        "# HELP kube_endpoint_address [STABLE] Information about Endpoint available and non available addresses.\n",
        "# TYPE kube_pod_container_status_restarts_total counter\n",
        "# HELP kube_pod_container_status_last_terminated_reason Describes the last reason the container was in terminated state.\n",
        "# TYPE argus_kube_events_total counter\n",
    ] {
        assert!(body.contains(h), "missing {h:?}");
    }
    let mut direct = String::new();
    state.write_metrics(&mut direct);
    assert_eq!(kube_samples(&direct), kube_samples(&body));

    // Changes: the pod becomes ready, the deployment is scaled and fully available,
    // node-b becomes Ready.
    api.apply(crashing_pod(true)).expect("pod ready");
    api.apply(deployment(5, 5)).expect("scale");
    api.apply(node("node-b", "True", true)).expect("node ready");
    // `report` is suspended (no next run any more), `nightly` ran on Monday 02:30 local.
    api.apply(cronjob("report", Some(true), Some("2025-06-01T10:00:00Z")))
        .expect("suspend");
    api.apply(cronjob("nightly", None, Some("2025-06-02T00:30:00Z")))
        .expect("ran");
    want.remove(r#"kube_cronjob_next_schedule_time{namespace="shop",cronjob="report"}"#);
    for (k, v) in [
        (
            r#"kube_cronjob_spec_suspend{namespace="shop",cronjob="report"}"#,
            "1",
        ),
        (
            r#"kube_cronjob_status_last_schedule_time{namespace="shop",cronjob="nightly"}"#,
            "1.7488242e+09",
        ),
        (
            r#"kube_cronjob_next_schedule_time{namespace="shop",cronjob="nightly"}"#,
            "1.7489106e+09",
        ),
    ] {
        want.insert(k.to_string(), v.to_string());
    }
    let api_uid = &uids["API"];
    let p = |s: &str| format!("{s}{{namespace=\"shop\",pod=\"api-0\",uid=\"{api_uid}\"");
    want.retain(|k, _| !k.starts_with(&p("kube_pod_container_status_waiting_reason")));
    for (k, v) in [
        (
            format!(
                "{},container=\"app\"}}",
                p("kube_pod_container_status_ready")
            ),
            "1",
        ),
        (
            format!("{},condition=\"true\"}}", p("kube_pod_status_ready")),
            "1",
        ),
        (
            format!("{},condition=\"false\"}}", p("kube_pod_status_ready")),
            "0",
        ),
    ] {
        want.insert(k, v.to_string());
    }
    want.retain(|k, _| !k.starts_with("kube_deployment_status_condition{"));
    let d = r#"namespace="shop",deployment="web""#;
    for (k, v) in [
        ("kube_deployment_spec_replicas", "5"),
        ("kube_deployment_status_replicas", "5"),
        ("kube_deployment_status_replicas_available", "5"),
        ("kube_deployment_status_replicas_unavailable", "0"),
        ("kube_deployment_status_replicas_updated", "5"),
        ("kube_deployment_status_observed_generation", "5"),
    ] {
        want.insert(format!("{k}{{{d}}}"), v.to_string());
    }
    // The server owns metadata.generation (it bumps it on a spec change).
    let generation = api
        .get("deployments", Some("shop"), "web")
        .expect("get")
        .and_then(|d| d["metadata"]["generation"].as_i64())
        .expect("generation");
    want.insert(
        format!("kube_deployment_metadata_generation{{{d}}}"),
        generation.to_string(),
    );
    for (c, r, t) in [
        ("Available", "MinimumReplicasAvailable", "true"),
        ("Progressing", "NewReplicaSetAvailable", "true"),
    ] {
        for s in ["true", "false", "unknown"] {
            want.insert(
                format!("kube_deployment_status_condition{{{d},condition=\"{c}\",status=\"{s}\",reason=\"{r}\"}}"),
                if s == t { "1" } else { "0" }.to_string(),
            );
        }
    }
    for (s, v) in [("true", "1"), ("false", "0")] {
        want.insert(
            format!(
                "kube_node_status_condition{{node=\"node-b\",condition=\"Ready\",status=\"{s}\"}}"
            ),
            v.to_string(),
        );
    }
    settle(addr, &want, "after changes").await;

    // A relist: watches cut, the pod deleted meanwhile and the history gone (410).
    let (_, before) = get(addr, "/metrics").await;
    api.drop_watches();
    api.delete("pods", Some("shop"), "web-1").expect("delete");
    api.delete("jobs", Some("shop"), "done")
        .expect("delete job");
    api.delete("cronjobs", Some("shop"), "nightly")
        .expect("delete cronjob");
    api.expire_history();
    want.retain(|k, _| {
        !k.contains("pod=\"web-1\"")
            && !k.contains("job_name=\"done\"")
            && !k.contains("cronjob=\"nightly\"")
    });
    settle(addr, &want, "after relist").await;
    let (_, after) = get(addr, "/metrics").await;
    let lists = |body: &str, r: &str| {
        body.lines()
            .find(|l| l.starts_with(&format!("argus_watcher_list_total{{resource=\"{r}\"}}")))
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(lists(&before, "pods") >= 1, "{before}");
    assert!(
        lists(&after, "pods") > lists(&before, "pods"),
        "pods relisted:\n{after}"
    );
    assert!(
        after.contains("argus_watcher_watch_events_total{resource=\"deployments\",type=\"apply\"}")
    );

    running.stop().await;
}

/// A CronJob in `zone` that last ran at `last`.
fn zoned_cronjob(name: &str, schedule: &str, zone: &str, last: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"schedule": schedule, "timeZone": zone, "jobTemplate": {"spec": {"template": {}}}},
        "status": {"lastScheduleTime": last}
    })
}

/// `kube_cronjob_next_schedule_time` of CronJobs in zones with daylight saving, their last
/// run stepped across 2026's changes: `30 2 * * *` in Europe/Berlin skips 03-29 (02:30
/// does not exist) and runs twice on 10-25 (02:30 CEST, then 02:30 CET), as robfig/cron
/// does for KSM; `0 9 * * 1-5` in America/New_York keeps 09:00 local over the weekends
/// the offset changes. A zone the system does not know gets no series.
/// Expected instants from Python's zoneinfo, e.g. `python3 -c 'from datetime import
/// datetime as d; from zoneinfo import ZoneInfo as Z; print(d(2026,3,30,2,30,
/// tzinfo=Z("Europe/Berlin")).timestamp())'` → 1774830600 (`fold=1` for the second 02:30
/// of 10-25), checked with `TZ=Europe/Berlin date -d @1774830600`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_next_schedule_in_zones_with_daylight_saving() {
    if !["Europe/Berlin", "America/New_York"]
        .iter()
        .all(|z| std::path::Path::new("/usr/share/zoneinfo").join(z).exists())
    {
        eprintln!("no tzdata installed: skipped");
        return;
    }
    let api = FakeApiServer::start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("fake api");
    let apply = |name: &str, last: &str| {
        let cj = match name {
            "berlin" => zoned_cronjob(name, "30 2 * * *", "Europe/Berlin", last),
            "new-york" => zoned_cronjob(name, "0 9 * * 1-5", "America/New_York", last),
            _ => zoned_cronjob(name, "0 9 * * *", "Mars/Olympus", last),
        };
        api.apply(cj).expect("apply cronjob");
    };
    // Sat 03-28 02:30 CET; Fri 03-06 09:00 EST.
    apply("berlin", "2026-03-28T01:30:00Z");
    apply("new-york", "2026-03-06T14:00:00Z");
    apply("nowhere", "2026-03-06T14:00:00Z");
    let running = Running::start(&api).await;
    let family = |k: &str| k.starts_with("kube_cronjob_next_schedule_time{");
    let series = |name: &str| {
        format!(r#"kube_cronjob_next_schedule_time{{namespace="shop",cronjob="{name}"}}"#)
    };
    let want = |berlin: &str, new_york: &str| {
        BTreeMap::from([
            (series("berlin"), berlin.to_string()),
            (series("new-york"), new_york.to_string()),
        ])
    };
    // Mon 03-30 02:30 CEST (00:30Z), 03-29 skipped; Mon 03-09 09:00 EDT (13:00Z).
    let spring = want("1.7748306e+09", "1.7730612e+09");
    settle_where(running.addr, &spring, "spring forward", family).await;

    // Sun 10-25 02:30 CEST (00:30Z) ran: next the second 02:30, CET (01:30Z).
    // Fri 10-30 09:00 EDT (13:00Z) ran: next Mon 11-02 09:00 EST (14:00Z).
    apply("berlin", "2026-10-25T00:30:00Z");
    apply("new-york", "2026-10-30T13:00:00Z");
    let fall = want("1.7928918e+09", "1.793628e+09");
    settle_where(running.addr, &fall, "fall back, first 02:30", family).await;

    // The second 02:30 ran: next Mon 10-26 02:30 CET (01:30Z).
    apply("berlin", "2026-10-25T01:30:00Z");
    let after = want("1.7929782e+09", "1.793628e+09");
    settle_where(running.addr, &after, "fall back, second 02:30", family).await;
    running.stop().await;
}

use super::*;
use crate::state::testutil::{families, obj};

fn render(p: serde_json::Value) -> String {
    let mut out = String::new();
    write(&mut out, &[Arc::new(obj::<Pod>(p))]);
    out
}

/// A crash-looping container (waiting CrashLoopBackOff, last terminated OOMKilled)
/// next to a running one; resources in every notation.
#[test]
fn crash_looping_pod() {
    let out = render(serde_json::json!({
        "metadata": {"name": "api-0", "namespace": "shop", "uid": "uid-1",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-5d", "uid": "r", "controller": true}]},
        "spec": {"nodeName": "node-a", "priorityClassName": "high", "containers": [
            {"name": "app", "image": "shop/api:1", "resources": {
                "requests": {"cpu": "250m", "memory": "128Mi", "nvidia.com/gpu": "1"},
                "limits": {"cpu": "1", "memory": "1.5Gi", "ephemeral-storage": "2G"}}},
            {"name": "sidecar", "image": "envoy"}]},
        "status": {"phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.1.0.5",
            "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [
                {"name": "app", "image": "docker.io/shop/api:1", "imageID": "sha256:aaa", "containerID": "containerd://c1",
                 "ready": false, "restartCount": 7,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}},
                {"name": "sidecar", "image": "envoy:latest", "imageID": "sha256:bbb", "containerID": "containerd://c2",
                 "ready": true, "restartCount": 0, "state": {"running": {}}}]}
    }));
    let got = families(&out);
    let id = r#"namespace="shop",pod="api-0",uid="uid-1""#;
    let want: Vec<String> = [
        r#"kube_pod_info{ID,host_ip="10.0.0.1",pod_ip="10.1.0.5",node="node-a",created_by_kind="ReplicaSet",created_by_name="api-5d",priority_class="high",host_network="false"} 1"#,
        r#"kube_pod_owner{ID,owner_kind="ReplicaSet",owner_name="api-5d",owner_is_controller="true"} 1"#,
        r#"kube_pod_status_phase{ID,phase="Pending"} 0"#,
        r#"kube_pod_status_phase{ID,phase="Running"} 1"#,
        r#"kube_pod_status_ready{ID,condition="true"} 0"#,
        r#"kube_pod_status_ready{ID,condition="false"} 1"#,
        r#"kube_pod_status_ready{ID,condition="unknown"} 0"#,
        r#"kube_pod_status_scheduled{ID,condition="true"} 1"#,
        r#"kube_pod_status_reason{ID,reason="Evicted"} 0"#,
        r#"kube_pod_container_info{ID,container="app",image_spec="shop/api:1",image="docker.io/shop/api:1",image_id="sha256:aaa",container_id="containerd://c1"} 1"#,
        r#"kube_pod_container_status_waiting_reason{ID,container="app",reason="CrashLoopBackOff"} 1"#,
        r#"kube_pod_container_status_last_terminated_reason{ID,container="app",reason="OOMKilled"} 1"#,
        r#"kube_pod_container_status_restarts_total{ID,container="app"} 7"#,
        r#"kube_pod_container_status_restarts_total{ID,container="sidecar"} 0"#,
        r#"kube_pod_container_status_ready{ID,container="app"} 0"#,
        r#"kube_pod_container_status_ready{ID,container="sidecar"} 1"#,
        r#"kube_pod_container_resource_requests{ID,container="app",node="node-a",resource="cpu",unit="core"} 0.25"#,
        r#"kube_pod_container_resource_requests{ID,container="app",node="node-a",resource="memory",unit="byte"} 1.34217728e+08"#,
        r#"kube_pod_container_resource_requests{ID,container="app",node="node-a",resource="nvidia_com_gpu",unit="integer"} 1"#,
        r#"kube_pod_container_resource_limits{ID,container="app",node="node-a",resource="cpu",unit="core"} 1"#,
        r#"kube_pod_container_resource_limits{ID,container="app",node="node-a",resource="memory",unit="byte"} 1.610612736e+09"#,
        r#"kube_pod_container_resource_limits{ID,container="app",node="node-a",resource="ephemeral_storage",unit="byte"} 2e+09"#,
        "# TYPE kube_pod_container_status_restarts_total counter",
        "# HELP kube_pod_info [STABLE] Information about pod.",
        "# HELP kube_pod_status_reason The pod status reasons",
    ]
    .iter()
    .map(|w| w.replace("ID", id))
    .collect();
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w.as_str())).collect();
    assert!(missing.is_empty(), "missing {missing:#?}\nin\n{out}");
    // Waiting and terminated reasons exist only while in that state.
    assert!(!out.contains(
        r#"waiting_reason{namespace="shop",pod="api-0",uid="uid-1",container="sidecar""#
    ));
    assert!(!out.contains("kube_pod_container_status_terminated_reason{"));
    assert_eq!(out.matches("kube_pod_status_reason{").count(), 5);
}

/// Ported from kube-state-metrics' pod_test.go cases: a pod without owner has one
/// owner series with empty labels; an evicted pod reports reason Evicted; a pod
/// without phase has no phase series; a completed container its terminated reason.
#[test]
fn ksm_edge_cases() {
    let out = render(serde_json::json!({
        "metadata": {"name": "pod1", "namespace": "ns1", "uid": "abc-123-xxx"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"reason": "Evicted", "containerStatuses": [
            {"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}
    }));
    let got = families(&out);
    for want in [
        r#"kube_pod_owner{namespace="ns1",pod="pod1",uid="abc-123-xxx",owner_kind="",owner_name="",owner_is_controller=""} 1"#,
        r#"kube_pod_info{namespace="ns1",pod="pod1",uid="abc-123-xxx",host_ip="",pod_ip="",node="",created_by_kind="",created_by_name="",priority_class="",host_network="false"} 1"#,
        r#"kube_pod_status_reason{namespace="ns1",pod="pod1",uid="abc-123-xxx",reason="Evicted"} 1"#,
        r#"kube_pod_status_reason{namespace="ns1",pod="pod1",uid="abc-123-xxx",reason="NodeLost"} 0"#,
        r#"kube_pod_container_status_terminated_reason{namespace="ns1",pod="pod1",uid="abc-123-xxx",container="c",reason="Completed"} 1"#,
        r#"kube_pod_container_info{namespace="ns1",pod="pod1",uid="abc-123-xxx",container="c",image_spec="",image="i",image_id="",container_id=""} 1"#,
    ] {
        assert!(got.contains(want), "missing {want}\nin\n{out}");
    }
    assert!(!out.contains("kube_pod_status_phase{"));
    assert!(!out.contains("kube_pod_status_ready{"));
}

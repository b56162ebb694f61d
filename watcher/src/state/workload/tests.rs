use super::*;
use crate::state::testutil::{families, obj};

/// Ported from kube-state-metrics' `TestDeploymentStore` (deployment_test.go):
/// depl2 (paused, failing) and depl3 (a reason KSM does not know, an empty reason).
#[test]
fn deployments_like_ksm() {
    let depl2: Deployment = obj(serde_json::json!({
        "metadata": {"name": "depl2", "namespace": "ns2", "generation": 14},
        "spec": {"replicas": 5, "paused": true, "selector": {}, "template": {}},
        "status": {"replicas": 10, "readyReplicas": 5, "availableReplicas": 5, "unavailableReplicas": 0,
                   "updatedReplicas": 1, "observedGeneration": 1111,
                   "conditions": [
                       {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
                       {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
                       {"type": "ReplicaFailure", "status": "True", "reason": "ReplicaSetCreateError"}]}
    }));
    let depl3: Deployment = obj(serde_json::json!({
        "metadata": {"name": "depl3", "namespace": "ns3"},
        "spec": {"replicas": 1, "selector": {}, "template": {}},
        "status": {"conditions": [
            {"type": "Available", "status": "False", "reason": "ThisReasonIsNotAllowed"},
            {"type": "Progressing", "status": "True"}]}
    }));
    let mut out = String::new();
    write_deployments(&mut out, &[Arc::new(depl2), Arc::new(depl3)]);
    let got = families(&out);
    let mut want = vec![
        r#"kube_deployment_metadata_generation{namespace="ns2",deployment="depl2"} 14"#,
        r#"kube_deployment_spec_replicas{namespace="ns2",deployment="depl2"} 5"#,
        r#"kube_deployment_status_observed_generation{namespace="ns2",deployment="depl2"} 1111"#,
        r#"kube_deployment_status_replicas_available{namespace="ns2",deployment="depl2"} 5"#,
        r#"kube_deployment_status_replicas_unavailable{namespace="ns2",deployment="depl2"} 0"#,
        r#"kube_deployment_status_replicas_updated{namespace="ns2",deployment="depl2"} 1"#,
        r#"kube_deployment_status_replicas{namespace="ns2",deployment="depl2"} 10"#,
        r#"kube_deployment_status_condition{namespace="ns2",deployment="depl2",condition="Available",status="true",reason="MinimumReplicasUnavailable"} 0"#,
        r#"kube_deployment_status_condition{namespace="ns2",deployment="depl2",condition="Available",status="false",reason="MinimumReplicasUnavailable"} 1"#,
        r#"kube_deployment_status_condition{namespace="ns2",deployment="depl2",condition="Available",status="unknown",reason="MinimumReplicasUnavailable"} 0"#,
        r#"kube_deployment_status_condition{namespace="ns2",deployment="depl2",condition="Progressing",status="false",reason="ProgressDeadlineExceeded"} 1"#,
        r#"kube_deployment_status_condition{namespace="ns2",deployment="depl2",condition="ReplicaFailure",status="true",reason="ReplicaSetCreateError"} 1"#,
        r#"kube_deployment_status_condition{namespace="ns3",deployment="depl3",condition="Available",status="false",reason="unknown"} 1"#,
        r#"kube_deployment_status_condition{namespace="ns3",deployment="depl3",condition="Progressing",status="true",reason=""} 1"#,
        r#"kube_deployment_status_replicas{namespace="ns3",deployment="depl3"} 0"#,
        r#"kube_deployment_metadata_generation{namespace="ns3",deployment="depl3"} 0"#,
        "# HELP kube_deployment_status_condition [STABLE] The current status conditions of a deployment.",
        "# TYPE kube_deployment_status_condition gauge",
    ];
    want.retain(|w| !got.contains(w));
    assert!(want.is_empty(), "missing {want:#?}\nin\n{out}");
    let samples = out.lines().filter(|l| !l.starts_with('#')).count();
    // 7 single-value families × 2 + (3 + 2 conditions) × 3.
    assert_eq!(samples, 7 * 2 + 5 * 3, "{out}");
}

#[test]
fn statefulsets_daemonsets_replicasets() {
    let ss: StatefulSet = obj(serde_json::json!({
        "metadata": {"name": "db", "namespace": "ns", "generation": 3},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {}, "template": {}},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 1, "observedGeneration": 2,
                   "currentRevision": "db-1", "updateRevision": "db-2"}
    }));
    let ds: DaemonSet = obj(serde_json::json!({
        "metadata": {"name": "agent", "namespace": "ns"},
        "spec": {"selector": {}, "template": {}},
        "status": {"currentNumberScheduled": 2, "desiredNumberScheduled": 3, "numberMisscheduled": 1,
                   "numberReady": 1, "numberAvailable": 1, "updatedNumberScheduled": 2}
    }));
    let rs: ReplicaSet = obj(serde_json::json!({
        "metadata": {"name": "web-1", "namespace": "ns",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u", "controller": true}]},
        "spec": {"selector": {}}
    }));
    let mut out = String::new();
    write_statefulsets(&mut out, &[Arc::new(ss)]);
    write_daemonsets(&mut out, &[Arc::new(ds)]);
    write_replicasets(&mut out, &[Arc::new(rs)]);
    let got = families(&out);
    for want in [
        r#"kube_statefulset_replicas{namespace="ns",statefulset="db"} 3"#,
        r#"kube_statefulset_status_replicas{namespace="ns",statefulset="db"} 3"#,
        r#"kube_statefulset_status_replicas_ready{namespace="ns",statefulset="db"} 2"#,
        r#"kube_statefulset_status_replicas_updated{namespace="ns",statefulset="db"} 1"#,
        r#"kube_statefulset_status_observed_generation{namespace="ns",statefulset="db"} 2"#,
        r#"kube_statefulset_metadata_generation{namespace="ns",statefulset="db"} 3"#,
        r#"kube_statefulset_status_current_revision{namespace="ns",statefulset="db",revision="db-1"} 1"#,
        r#"kube_statefulset_status_update_revision{namespace="ns",statefulset="db",revision="db-2"} 1"#,
        r#"kube_daemonset_status_current_number_scheduled{namespace="ns",daemonset="agent"} 2"#,
        r#"kube_daemonset_status_desired_number_scheduled{namespace="ns",daemonset="agent"} 3"#,
        r#"kube_daemonset_status_number_misscheduled{namespace="ns",daemonset="agent"} 1"#,
        r#"kube_daemonset_status_number_ready{namespace="ns",daemonset="agent"} 1"#,
        r#"kube_daemonset_status_number_available{namespace="ns",daemonset="agent"} 1"#,
        r#"kube_daemonset_status_updated_number_scheduled{namespace="ns",daemonset="agent"} 2"#,
        r#"kube_replicaset_owner{namespace="ns",replicaset="web-1",owner_kind="Deployment",owner_name="web",owner_is_controller="true"} 1"#,
    ] {
        assert!(got.contains(want), "missing {want}\nin\n{out}");
    }
}

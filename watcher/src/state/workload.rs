//! Deployment, StatefulSet, DaemonSet and ReplicaSet series (kube-state-metrics
//! `deployment.go`, `statefulset.go`, `daemonset.go`, `replicaset.go`).

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pod::write_owners;
use super::text::{bool_value, gauge, sample, Stability, CONDITION_STATUSES};

/// Reasons the deployment controller sets on its conditions
/// (`pkg/controller/deployment/util`); any other non-empty reason is reported as
/// `unknown`, as kube-state-metrics does to bound the label's cardinality.
const DEPLOYMENT_REASONS: [&str; 10] = [
    "ReplicaSetUpdated",
    "ReplicaSetCreateError",
    "NewReplicaSetCreated",
    "FoundNewReplicaSet",
    "NewReplicaSetAvailable",
    "ProgressDeadlineExceeded",
    "DeploymentPaused",
    "DeploymentResumed",
    "MinimumReplicasAvailable",
    "MinimumReplicasUnavailable",
];

fn ns_name(m: &ObjectMeta) -> (&str, &str) {
    (
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or(""),
    )
}

/// One gauge family with one series per object: `value(obj)`, skipped when `None`.
fn simple<T>(
    out: &mut String,
    objs: &[Arc<T>],
    (name, help, id): (&str, &str, &str),
    meta: fn(&T) -> &ObjectMeta,
    value: impl Fn(&T) -> Option<f64>,
) {
    gauge(out, name, help, Stability::Stable);
    for o in objs {
        if let Some(v) = value(o) {
            let (ns, n) = ns_name(meta(o));
            sample(out, name, &[("namespace", ns), (id, n)], v);
        }
    }
}

/// Writes the deployment families.
pub fn write_deployments(out: &mut String, ds: &[Arc<Deployment>]) {
    let m: fn(&Deployment) -> &ObjectMeta = |d| &d.metadata;
    let st = |d: &Deployment| d.status.clone().unwrap_or_default();
    let id = "deployment";
    simple(
        out,
        ds,
        (
            "kube_deployment_status_replicas",
            "The number of replicas per deployment.",
            id,
        ),
        m,
        |d| Some(f64::from(st(d).replicas.unwrap_or(0))),
    );
    simple(
        out,
        ds,
        (
            "kube_deployment_status_replicas_available",
            "The number of available replicas per deployment.",
            id,
        ),
        m,
        |d| Some(f64::from(st(d).available_replicas.unwrap_or(0))),
    );
    simple(
        out,
        ds,
        (
            "kube_deployment_status_replicas_unavailable",
            "The number of unavailable replicas per deployment.",
            id,
        ),
        m,
        |d| Some(f64::from(st(d).unavailable_replicas.unwrap_or(0))),
    );
    simple(
        out,
        ds,
        (
            "kube_deployment_status_replicas_updated",
            "The number of updated replicas per deployment.",
            id,
        ),
        m,
        |d| Some(f64::from(st(d).updated_replicas.unwrap_or(0))),
    );
    simple(
        out,
        ds,
        (
            "kube_deployment_status_observed_generation",
            "The generation observed by the deployment controller.",
            id,
        ),
        m,
        |d| Some(st(d).observed_generation.unwrap_or(0) as f64),
    );
    let name = "kube_deployment_status_condition";
    gauge(
        out,
        name,
        "The current status conditions of a deployment.",
        Stability::Stable,
    );
    for d in ds {
        let (ns, n) = ns_name(&d.metadata);
        let conditions = d
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or(&[]);
        for c in conditions {
            let reason = match c.reason.as_deref().unwrap_or("") {
                "" => "",
                r if DEPLOYMENT_REASONS.contains(&r) => r,
                _ => "unknown",
            };
            for (status, label) in CONDITION_STATUSES {
                let labels = [
                    ("namespace", ns),
                    ("deployment", n),
                    ("condition", c.type_.as_str()),
                    ("status", label),
                    ("reason", reason),
                ];
                sample(out, name, &labels, bool_value(c.status == status));
            }
        }
    }
    simple(
        out,
        ds,
        (
            "kube_deployment_spec_replicas",
            "Number of desired pods for a deployment.",
            id,
        ),
        m,
        |d| d.spec.as_ref().and_then(|s| s.replicas).map(f64::from),
    );
    simple(
        out,
        ds,
        (
            "kube_deployment_metadata_generation",
            "Sequence number representing a specific generation of the desired state.",
            id,
        ),
        m,
        |d| Some(d.metadata.generation.unwrap_or(0) as f64),
    );
}

/// Writes the statefulset families.
pub fn write_statefulsets(out: &mut String, ss: &[Arc<StatefulSet>]) {
    let m: fn(&StatefulSet) -> &ObjectMeta = |s| &s.metadata;
    let st = |s: &StatefulSet| s.status.clone().unwrap_or_default();
    let id = "statefulset";
    simple(
        out,
        ss,
        (
            "kube_statefulset_status_replicas",
            "The number of replicas per StatefulSet.",
            id,
        ),
        m,
        |s| Some(f64::from(st(s).replicas)),
    );
    simple(
        out,
        ss,
        (
            "kube_statefulset_status_replicas_ready",
            "The number of ready replicas per StatefulSet.",
            id,
        ),
        m,
        |s| Some(f64::from(st(s).ready_replicas.unwrap_or(0))),
    );
    simple(
        out,
        ss,
        (
            "kube_statefulset_status_replicas_updated",
            "The number of updated replicas per StatefulSet.",
            id,
        ),
        m,
        |s| Some(f64::from(st(s).updated_replicas.unwrap_or(0))),
    );
    simple(
        out,
        ss,
        (
            "kube_statefulset_status_observed_generation",
            "The generation observed by the StatefulSet controller.",
            id,
        ),
        m,
        |s| Some(st(s).observed_generation.unwrap_or(0) as f64),
    );
    simple(
        out,
        ss,
        (
            "kube_statefulset_replicas",
            "Number of desired pods for a StatefulSet.",
            id,
        ),
        m,
        |s| s.spec.as_ref().and_then(|s| s.replicas).map(f64::from),
    );
    simple(
        out,
        ss,
        (
            "kube_statefulset_metadata_generation",
            "Sequence number representing a specific generation of the desired state for the StatefulSet.",
            id,
        ),
        m,
        |s| Some(s.metadata.generation.unwrap_or(0) as f64),
    );
    for (name, help, current) in [
        (
            "kube_statefulset_status_current_revision",
            "Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).",
            true,
        ),
        (
            "kube_statefulset_status_update_revision",
            "Indicates the version of the StatefulSet used to generate Pods in the sequence [replicas-updatedReplicas,replicas)",
            false,
        ),
    ] {
        gauge(out, name, help, Stability::Stable);
        for s in ss {
            let (ns, n) = ns_name(&s.metadata);
            let status = s.status.as_ref();
            let revision = if current {
                status.and_then(|s| s.current_revision.as_deref())
            } else {
                status.and_then(|s| s.update_revision.as_deref())
            };
            let labels = [
                ("namespace", ns),
                ("statefulset", n),
                ("revision", revision.unwrap_or("")),
            ];
            sample(out, name, &labels, 1.0);
        }
    }
}

/// Writes the daemonset families.
pub fn write_daemonsets(out: &mut String, ds: &[Arc<DaemonSet>]) {
    let m: fn(&DaemonSet) -> &ObjectMeta = |d| &d.metadata;
    let id = "daemonset";
    type Field = fn(&k8s_openapi::api::apps::v1::DaemonSetStatus) -> i32;
    let families: [(&str, &str, Field); 6] = [
        (
            "kube_daemonset_status_current_number_scheduled",
            "The number of nodes running at least one daemon pod and are supposed to.",
            |s| s.current_number_scheduled,
        ),
        (
            "kube_daemonset_status_desired_number_scheduled",
            "The number of nodes that should be running the daemon pod.",
            |s| s.desired_number_scheduled,
        ),
        (
            "kube_daemonset_status_number_available",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available",
            |s| s.number_available.unwrap_or(0),
        ),
        (
            "kube_daemonset_status_number_misscheduled",
            "The number of nodes running a daemon pod but are not supposed to.",
            |s| s.number_misscheduled,
        ),
        (
            "kube_daemonset_status_number_ready",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
            |s| s.number_ready,
        ),
        (
            "kube_daemonset_status_updated_number_scheduled",
            "The total number of nodes that are running updated daemon pod",
            |s| s.updated_number_scheduled.unwrap_or(0),
        ),
    ];
    for (name, help, field) in families {
        simple(out, ds, (name, help, id), m, |d| {
            Some(f64::from(d.status.as_ref().map_or(0, field)))
        });
    }
}

/// Writes the replicaset families.
pub fn write_replicasets(out: &mut String, rs: &[Arc<ReplicaSet>]) {
    let name = "kube_replicaset_owner";
    gauge(
        out,
        name,
        "Information about the ReplicaSet's owner.",
        Stability::Stable,
    );
    for r in rs {
        let (ns, n) = ns_name(&r.metadata);
        let ids = [("namespace", ns), ("replicaset", n)];
        write_owners(out, name, &ids, r.metadata.owner_references.as_deref());
    }
}

#[cfg(test)]
mod tests;

//! Pod and container series (kube-state-metrics `internal/store/pod.go`). Every
//! series carries `namespace, pod, uid`.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};

use super::resources::{write_resources, Conversion};
use super::text::{bool_value, gauge, go_bool, header, sample, Stability, CONDITION_STATUSES};

/// `p.Status.Reason` values with a `kube_pod_status_reason` series each.
const POD_STATUS_REASONS: [&str; 5] = [
    "Evicted",
    "NodeAffinity",
    "NodeLost",
    "Shutdown",
    "UnexpectedAdmissionError",
];

/// Phases in kube-state-metrics' order.
const PHASES: [&str; 5] = ["Pending", "Succeeded", "Failed", "Unknown", "Running"];

struct Ids<'a> {
    namespace: &'a str,
    pod: &'a str,
    uid: &'a str,
}

impl<'a> Ids<'a> {
    fn of(p: &'a Pod) -> Self {
        Ids {
            namespace: p.metadata.namespace.as_deref().unwrap_or(""),
            pod: p.metadata.name.as_deref().unwrap_or(""),
            uid: p.metadata.uid.as_deref().unwrap_or(""),
        }
    }

    fn with<'b>(&'b self, extra: &[(&'b str, &'b str)]) -> Vec<(&'b str, &'b str)> {
        let mut l = vec![
            ("namespace", self.namespace),
            ("pod", self.pod),
            ("uid", self.uid),
        ];
        l.extend_from_slice(extra);
        l
    }
}

fn statuses(p: &Pod) -> &[ContainerStatus] {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[])
}

fn conditions(p: &Pod) -> &[PodCondition] {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[])
}

/// Writes every pod family for `pods` (already sorted).
pub fn write(out: &mut String, pods: &[Arc<Pod>]) {
    type Family = (
        &'static str,
        &'static str,
        Stability,
        fn(&mut String, &str, &Pod),
    );
    let families: [Family; 14] = [
        (
            "kube_pod_container_info",
            "Information about a container in a pod.",
            Stability::Stable,
            container_info,
        ),
        (
            "kube_pod_container_resource_limits",
            "The number of requested limit resource by a container. It is recommended to use the kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.",
            Stability::Alpha,
            limits,
        ),
        (
            "kube_pod_container_resource_requests",
            "The number of requested request resource by a container. It is recommended to use the kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.",
            Stability::Alpha,
            requests,
        ),
        (
            "kube_pod_container_status_last_terminated_reason",
            "Describes the last reason the container was in terminated state.",
            Stability::Alpha,
            last_terminated_reason,
        ),
        (
            "kube_pod_container_status_ready",
            "Describes whether the containers readiness check succeeded.",
            Stability::Stable,
            container_ready,
        ),
        (
            "kube_pod_container_status_restarts_total",
            "The number of container restarts per container.",
            Stability::Stable,
            restarts,
        ),
        (
            "kube_pod_container_status_terminated_reason",
            "Describes the reason the container is currently in terminated state.",
            Stability::Alpha,
            terminated_reason,
        ),
        (
            "kube_pod_container_status_waiting_reason",
            "Describes the reason the container is currently in waiting state.",
            Stability::Stable,
            waiting_reason,
        ),
        ("kube_pod_info", "Information about pod.", Stability::Stable, info),
        ("kube_pod_owner", "Information about the Pod's owner.", Stability::Stable, owner),
        ("kube_pod_status_phase", "The pods current phase.", Stability::Stable, phase),
        (
            "kube_pod_status_ready",
            "Describes whether the pod is ready to serve requests.",
            Stability::Stable,
            ready,
        ),
        ("kube_pod_status_reason", "The pod status reasons", Stability::Alpha, reason),
        (
            "kube_pod_status_scheduled",
            "Describes the status of the scheduling process for the pod.",
            Stability::Stable,
            scheduled,
        ),
    ];
    for (name, help, stability, f) in families {
        if name == "kube_pod_container_status_restarts_total" {
            header(out, name, help, stability, "counter");
        } else {
            gauge(out, name, help, stability);
        }
        for p in pods {
            f(out, name, p);
        }
    }
}

fn container_info(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    let containers = p
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    for c in containers {
        for cs in statuses(p).iter().filter(|cs| cs.name == c.name) {
            let labels = ids.with(&[
                ("container", &cs.name),
                ("image_spec", c.image.as_deref().unwrap_or("")),
                ("image", &cs.image),
                ("image_id", &cs.image_id),
                ("container_id", cs.container_id.as_deref().unwrap_or("")),
            ]);
            sample(out, name, &labels, 1.0);
        }
    }
}

fn resources(out: &mut String, name: &str, p: &Pod, limits: bool) {
    let ids = Ids::of(p);
    let Some(spec) = &p.spec else { return };
    let node = spec.node_name.as_deref().unwrap_or("");
    for c in &spec.containers {
        let r = c.resources.as_ref();
        let list = if limits {
            r.and_then(|r| r.limits.as_ref())
        } else {
            r.and_then(|r| r.requests.as_ref())
        };
        let labels = ids.with(&[("container", &c.name), ("node", node)]);
        write_resources(out, name, &labels, list, Conversion::Container);
    }
}

fn limits(out: &mut String, name: &str, p: &Pod) {
    resources(out, name, p, true);
}

fn requests(out: &mut String, name: &str, p: &Pod) {
    resources(out, name, p, false);
}

fn last_terminated_reason(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    for cs in statuses(p) {
        let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        if let Some(t) = last {
            let labels = ids.with(&[
                ("container", &cs.name),
                ("reason", t.reason.as_deref().unwrap_or("")),
            ]);
            sample(out, name, &labels, 1.0);
        }
    }
}

fn container_ready(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    for cs in statuses(p) {
        sample(
            out,
            name,
            &ids.with(&[("container", &cs.name)]),
            bool_value(cs.ready),
        );
    }
}

fn restarts(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    for cs in statuses(p) {
        let labels = ids.with(&[("container", &cs.name)]);
        sample(out, name, &labels, f64::from(cs.restart_count));
    }
}

fn terminated_reason(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    for cs in statuses(p) {
        if let Some(t) = cs.state.as_ref().and_then(|s| s.terminated.as_ref()) {
            let labels = ids.with(&[
                ("container", &cs.name),
                ("reason", t.reason.as_deref().unwrap_or("")),
            ]);
            sample(out, name, &labels, 1.0);
        }
    }
}

fn waiting_reason(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    for cs in statuses(p) {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let labels = ids.with(&[
                ("container", &cs.name),
                ("reason", w.reason.as_deref().unwrap_or("")),
            ]);
            sample(out, name, &labels, 1.0);
        }
    }
}

fn info(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    let controller = p
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true));
    let status = p.status.as_ref();
    let spec = p.spec.as_ref();
    let labels = ids.with(&[
        (
            "host_ip",
            status.and_then(|s| s.host_ip.as_deref()).unwrap_or(""),
        ),
        (
            "pod_ip",
            status.and_then(|s| s.pod_ip.as_deref()).unwrap_or(""),
        ),
        (
            "node",
            spec.and_then(|s| s.node_name.as_deref()).unwrap_or(""),
        ),
        (
            "created_by_kind",
            controller.map_or("", |o| o.kind.as_str()),
        ),
        (
            "created_by_name",
            controller.map_or("", |o| o.name.as_str()),
        ),
        (
            "priority_class",
            spec.and_then(|s| s.priority_class_name.as_deref())
                .unwrap_or(""),
        ),
        (
            "host_network",
            go_bool(spec.and_then(|s| s.host_network).unwrap_or(false)),
        ),
    ]);
    sample(out, name, &labels, 1.0);
}

fn owner(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    write_owners(
        out,
        name,
        &ids.with(&[]),
        p.metadata.owner_references.as_deref(),
    );
}

/// kube-state-metrics' `*_owner` families: one series per owner reference, or one
/// with empty labels when there is none.
pub fn write_owners(
    out: &mut String,
    name: &str,
    ids: &[(&str, &str)],
    owners: Option<&[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference]>,
) {
    let owners = owners.unwrap_or(&[]);
    if owners.is_empty() {
        let mut labels = ids.to_vec();
        labels.extend([
            ("owner_kind", ""),
            ("owner_name", ""),
            ("owner_is_controller", ""),
        ]);
        sample(out, name, &labels, 1.0);
    }
    for o in owners {
        let mut labels = ids.to_vec();
        labels.extend([
            ("owner_kind", o.kind.as_str()),
            ("owner_name", o.name.as_str()),
            (
                "owner_is_controller",
                go_bool(o.controller.unwrap_or(false)),
            ),
        ]);
        sample(out, name, &labels, 1.0);
    }
}

fn phase(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    let current = p
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    if current.is_empty() {
        return;
    }
    for ph in PHASES {
        sample(
            out,
            name,
            &ids.with(&[("phase", ph)]),
            bool_value(current == ph),
        );
    }
}

fn condition_series(out: &mut String, name: &str, p: &Pod, type_: &str) {
    let ids = Ids::of(p);
    for c in conditions(p).iter().filter(|c| c.type_ == type_) {
        for (status, label) in CONDITION_STATUSES {
            let labels = ids.with(&[("condition", label)]);
            sample(out, name, &labels, bool_value(c.status == status));
        }
    }
}

fn ready(out: &mut String, name: &str, p: &Pod) {
    condition_series(out, name, p, "Ready");
}

fn scheduled(out: &mut String, name: &str, p: &Pod) {
    condition_series(out, name, p, "PodScheduled");
}

fn reason(out: &mut String, name: &str, p: &Pod) {
    let ids = Ids::of(p);
    let status_reason = p.status.as_ref().and_then(|s| s.reason.as_deref());
    for r in POD_STATUS_REASONS {
        let hit = status_reason == Some(r)
            || conditions(p).iter().any(|c| c.reason.as_deref() == Some(r))
            || statuses(p).iter().any(|cs| {
                cs.state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .is_some_and(|t| t.reason.as_deref() == Some(r))
            });
        sample(out, name, &ids.with(&[("reason", r)]), bool_value(hit));
    }
}

#[cfg(test)]
mod tests;

//! Node series (kube-state-metrics `internal/store/node.go`); every series carries
//! `node`.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;

use super::resources::{write_resources, Conversion};
use super::text::{bool_value, gauge, sample, Stability, CONDITION_STATUSES};

const ROLE_PREFIX: &str = "node-role.kubernetes.io/";

/// Writes every node family for `nodes` (already sorted).
pub fn write(out: &mut String, nodes: &[Arc<Node>]) {
    let name_of = |n: &Node| n.metadata.name.clone().unwrap_or_default();

    gauge(
        out,
        "kube_node_info",
        "Information about a cluster node.",
        Stability::Stable,
    );
    for n in nodes {
        let node = name_of(n);
        let info = n.status.as_ref().and_then(|s| s.node_info.as_ref());
        let field = |f: fn(&k8s_openapi::api::core::v1::NodeSystemInfo) -> &str| {
            info.map(f).unwrap_or("").to_string()
        };
        let spec = n.spec.as_ref();
        let internal_ip = n
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().rev().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone())
            .unwrap_or_default();
        let (kernel, os, runtime, kubelet, proxy, uuid) = (
            field(|i| &i.kernel_version),
            field(|i| &i.os_image),
            field(|i| &i.container_runtime_version),
            field(|i| &i.kubelet_version),
            field(|i| &i.kube_proxy_version),
            field(|i| &i.system_uuid),
        );
        let labels = [
            ("node", node.as_str()),
            ("kernel_version", &kernel),
            ("os_image", &os),
            ("container_runtime_version", &runtime),
            ("kubelet_version", &kubelet),
            ("kubeproxy_version", &proxy),
            (
                "provider_id",
                spec.and_then(|s| s.provider_id.as_deref()).unwrap_or(""),
            ),
            (
                "pod_cidr",
                spec.and_then(|s| s.pod_cidr.as_deref()).unwrap_or(""),
            ),
            ("system_uuid", &uuid),
            ("internal_ip", &internal_ip),
        ];
        sample(out, "kube_node_info", &labels, 1.0);
    }

    gauge(
        out,
        "kube_node_role",
        "The role of a cluster node.",
        Stability::Alpha,
    );
    for n in nodes {
        let node = name_of(n);
        for key in n.metadata.labels.iter().flatten().map(|(k, _)| k) {
            if let Some(role) = key.strip_prefix(ROLE_PREFIX) {
                sample(
                    out,
                    "kube_node_role",
                    &[("node", &node), ("role", role)],
                    1.0,
                );
            }
        }
    }

    gauge(
        out,
        "kube_node_spec_taint",
        "The taint of a cluster node.",
        Stability::Stable,
    );
    for n in nodes {
        let node = name_of(n);
        let taints = n
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[]);
        for t in taints {
            let labels = [
                ("node", node.as_str()),
                ("key", &t.key),
                ("value", t.value.as_deref().unwrap_or("")),
                ("effect", &t.effect),
            ];
            sample(out, "kube_node_spec_taint", &labels, 1.0);
        }
    }

    gauge(
        out,
        "kube_node_spec_unschedulable",
        "Whether a node can schedule new pods.",
        Stability::Stable,
    );
    for n in nodes {
        let unschedulable = n
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        let node = name_of(n);
        sample(
            out,
            "kube_node_spec_unschedulable",
            &[("node", &node)],
            bool_value(unschedulable),
        );
    }

    for (name, help, capacity) in [
        (
            "kube_node_status_allocatable",
            "The allocatable for different resources of a node that are available for scheduling.",
            false,
        ),
        (
            "kube_node_status_capacity",
            "The capacity for different resources of a node.",
            true,
        ),
    ] {
        gauge(out, name, help, Stability::Stable);
        for n in nodes {
            let node = name_of(n);
            let status = n.status.as_ref();
            let list = if capacity {
                status.and_then(|s| s.capacity.as_ref())
            } else {
                status.and_then(|s| s.allocatable.as_ref())
            };
            write_resources(out, name, &[("node", &node)], list, Conversion::Node);
        }
    }

    gauge(
        out,
        "kube_node_status_condition",
        "The condition of a cluster node.",
        Stability::Stable,
    );
    for n in nodes {
        let node = name_of(n);
        let conditions = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or(&[]);
        for c in conditions {
            for (status, label) in CONDITION_STATUSES {
                let labels = [
                    ("node", node.as_str()),
                    ("condition", &c.type_),
                    ("status", label),
                ];
                sample(
                    out,
                    "kube_node_status_condition",
                    &labels,
                    bool_value(c.status == status),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::{families, obj};

    /// Ported from kube-state-metrics' `TestNodeStore` (node_test.go): a node with
    /// conditions, taints, a role and fractional cpu capacity.
    #[test]
    fn node_like_ksm() {
        let n: Node = obj(serde_json::json!({
            "metadata": {"name": "127.0.0.1", "labels": {"node-role.kubernetes.io/master": ""}},
            "spec": {
                "unschedulable": true, "providerID": "provider://i-randomidentifier", "podCIDR": "172.24.10.0/24",
                "taints": [
                    {"key": "node.kubernetes.io/memory-pressure", "value": "true", "effect": "PreferNoSchedule"},
                    {"key": "Accelerated", "value": "gpu", "effect": "PreferNoSchedule"},
                    {"key": "Dedicated", "effect": "NoSchedule"}
                ]
            },
            "status": {
                "nodeInfo": {"kernelVersion": "kernel", "kubeletVersion": "kubelet", "kubeProxyVersion": "kubeproxy",
                             "osImage": "osimage", "containerRuntimeVersion": "rkt", "systemUUID": "6a934e21-5207-4a84-baea-3a952d926c80",
                             "machineID": "", "bootID": "", "architecture": "", "operatingSystem": ""},
                "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}],
                "capacity": {"cpu": "4.3", "memory": "2G", "pods": "1000", "nvidia.com/gpu": "4",
                             "ephemeral-storage": "4G", "storage": "3G", "hugepages-1Gi": "0", "attachable-volumes-aws-ebs": "39"},
                "allocatable": {"cpu": "3", "memory": "1G", "pods": "555", "ephemeral-storage": "3G"},
                "conditions": [
                    {"type": "Ready", "status": "False"},
                    {"type": "NetworkUnavailable", "status": "Unknown"}
                ]
            }
        }));
        let mut out = String::new();
        write(&mut out, &[Arc::new(n)]);
        let got = families(&out);
        for want in [
            r#"kube_node_info{node="127.0.0.1",kernel_version="kernel",os_image="osimage",container_runtime_version="rkt",kubelet_version="kubelet",kubeproxy_version="kubeproxy",provider_id="provider://i-randomidentifier",pod_cidr="172.24.10.0/24",system_uuid="6a934e21-5207-4a84-baea-3a952d926c80",internal_ip="1.2.3.4"} 1"#,
            r#"kube_node_role{node="127.0.0.1",role="master"} 1"#,
            r#"kube_node_spec_taint{node="127.0.0.1",key="node.kubernetes.io/memory-pressure",value="true",effect="PreferNoSchedule"} 1"#,
            r#"kube_node_spec_taint{node="127.0.0.1",key="Accelerated",value="gpu",effect="PreferNoSchedule"} 1"#,
            r#"kube_node_spec_taint{node="127.0.0.1",key="Dedicated",value="",effect="NoSchedule"} 1"#,
            r#"kube_node_spec_unschedulable{node="127.0.0.1"} 1"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="cpu",unit="core"} 4.3"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="memory",unit="byte"} 2e+09"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="pods",unit="integer"} 1000"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="nvidia_com_gpu",unit="integer"} 4"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="ephemeral_storage",unit="byte"} 4e+09"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="storage",unit="byte"} 3e+09"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="hugepages_1Gi",unit="byte"} 0"#,
            r#"kube_node_status_capacity{node="127.0.0.1",resource="attachable_volumes_aws_ebs",unit="byte"} 39"#,
            r#"kube_node_status_allocatable{node="127.0.0.1",resource="cpu",unit="core"} 3"#,
            r#"kube_node_status_allocatable{node="127.0.0.1",resource="memory",unit="byte"} 1e+09"#,
            r#"kube_node_status_allocatable{node="127.0.0.1",resource="pods",unit="integer"} 555"#,
            r#"kube_node_status_allocatable{node="127.0.0.1",resource="ephemeral_storage",unit="byte"} 3e+09"#,
            r#"kube_node_status_condition{node="127.0.0.1",condition="Ready",status="true"} 0"#,
            r#"kube_node_status_condition{node="127.0.0.1",condition="Ready",status="false"} 1"#,
            r#"kube_node_status_condition{node="127.0.0.1",condition="Ready",status="unknown"} 0"#,
            r#"kube_node_status_condition{node="127.0.0.1",condition="NetworkUnavailable",status="unknown"} 1"#,
            "# HELP kube_node_status_condition [STABLE] The condition of a cluster node.",
            "# HELP kube_node_role The role of a cluster node.",
        ] {
            assert!(got.contains(want), "missing {want}\nin\n{out}");
        }
        assert_eq!(
            got.iter()
                .filter(|l| l.starts_with("kube_node_status_capacity{"))
                .count(),
            8
        );
    }
}

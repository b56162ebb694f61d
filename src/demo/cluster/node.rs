//! The cluster's Nodes: the one the simulated pods run on, and a cordoned one whose
//! kubelet is not ready.

use serde_json::{json, Value};

use super::stable_uid;

pub(super) fn node(name: &str, ready: bool, host: u8) -> Value {
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

//! Namespace, PersistentVolumeClaim, PersistentVolume and HorizontalPodAutoscaler
//! series (kube-state-metrics `namespace.go`, `persistentvolumeclaim.go`,
//! `persistentvolume.go`, `horizontalpodautoscaler.go`).

use std::sync::Arc;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim};

use super::text::{bool_value, gauge, sample, Stability};

/// Writes `kube_namespace_status_phase{namespace,phase}` (Active, Terminating).
pub fn write_namespaces(out: &mut String, nss: &[Arc<Namespace>]) {
    let name = "kube_namespace_status_phase";
    gauge(
        out,
        name,
        "kubernetes namespace status phase.",
        Stability::Stable,
    );
    for n in nss {
        let ns = n.metadata.name.as_deref().unwrap_or("");
        let phase = n
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("");
        for p in ["Active", "Terminating"] {
            sample(
                out,
                name,
                &[("namespace", ns), ("phase", p)],
                bool_value(phase == p),
            );
        }
    }
}

/// Writes `kube_persistentvolumeclaim_status_phase{namespace,persistentvolumeclaim,phase}`.
pub fn write_pvcs(out: &mut String, pvcs: &[Arc<PersistentVolumeClaim>]) {
    let name = "kube_persistentvolumeclaim_status_phase";
    gauge(
        out,
        name,
        "The phase the persistent volume claim is currently in.",
        Stability::Stable,
    );
    for c in pvcs {
        let ns = c.metadata.namespace.as_deref().unwrap_or("");
        let n = c.metadata.name.as_deref().unwrap_or("");
        let phase = c
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("");
        if phase.is_empty() {
            continue;
        }
        for p in ["Lost", "Bound", "Pending"] {
            let labels = [
                ("namespace", ns),
                ("persistentvolumeclaim", n),
                ("phase", p),
            ];
            sample(out, name, &labels, bool_value(phase == p));
        }
    }
}

/// Writes `kube_persistentvolume_status_phase{persistentvolume,phase}`.
pub fn write_pvs(out: &mut String, pvs: &[Arc<PersistentVolume>]) {
    let name = "kube_persistentvolume_status_phase";
    gauge(
        out,
        name,
        "The phase indicates if a volume is available, bound to a claim, or released by a claim.",
        Stability::Stable,
    );
    for v in pvs {
        let n = v.metadata.name.as_deref().unwrap_or("");
        let phase = v
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("");
        if phase.is_empty() {
            continue;
        }
        for p in ["Pending", "Available", "Bound", "Released", "Failed"] {
            let labels = [("persistentvolume", n), ("phase", p)];
            sample(out, name, &labels, bool_value(phase == p));
        }
    }
}

/// Writes the HPA replica families (labels `namespace, horizontalpodautoscaler`).
pub fn write_hpas(out: &mut String, hpas: &[Arc<HorizontalPodAutoscaler>]) {
    type Field = fn(&HorizontalPodAutoscaler) -> Option<i32>;
    let families: [(&str, &str, Field); 4] = [
        (
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.",
            |h| h.spec.as_ref().map(|s| s.max_replicas),
        ),
        (
            "kube_horizontalpodautoscaler_spec_min_replicas",
            "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
            |h| h.spec.as_ref().map(|s| s.min_replicas.unwrap_or(1)),
        ),
        (
            "kube_horizontalpodautoscaler_status_current_replicas",
            "Current number of replicas of pods managed by this autoscaler.",
            |h| Some(h.status.as_ref().and_then(|s| s.current_replicas).unwrap_or(0)),
        ),
        (
            "kube_horizontalpodautoscaler_status_desired_replicas",
            "Desired number of replicas of pods managed by this autoscaler.",
            |h| Some(h.status.as_ref().map_or(0, |s| s.desired_replicas)),
        ),
    ];
    for (name, help, field) in families {
        gauge(out, name, help, Stability::Stable);
        for h in hpas {
            if let Some(v) = field(h) {
                let labels = [
                    ("namespace", h.metadata.namespace.as_deref().unwrap_or("")),
                    (
                        "horizontalpodautoscaler",
                        h.metadata.name.as_deref().unwrap_or(""),
                    ),
                ];
                sample(out, name, &labels, f64::from(v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::{families, obj};

    #[test]
    fn phases_one_series_each() {
        let ns: Namespace = obj(
            serde_json::json!({"metadata": {"name": "shop"}, "status": {"phase": "Terminating"}}),
        );
        let pvc: PersistentVolumeClaim = obj(serde_json::json!({
            "metadata": {"name": "data", "namespace": "shop"}, "status": {"phase": "Pending"}}));
        let pv: PersistentVolume =
            obj(serde_json::json!({"metadata": {"name": "pv1"}, "status": {"phase": "Released"}}));
        let hpa: HorizontalPodAutoscaler = obj(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": "web"}},
            "status": {"currentReplicas": 2, "desiredReplicas": 3}}));
        let mut out = String::new();
        write_namespaces(&mut out, &[Arc::new(ns)]);
        write_pvcs(&mut out, &[Arc::new(pvc)]);
        write_pvs(&mut out, &[Arc::new(pv)]);
        write_hpas(&mut out, &[Arc::new(hpa)]);
        let got = families(&out);
        for want in [
            r#"kube_namespace_status_phase{namespace="shop",phase="Active"} 0"#,
            r#"kube_namespace_status_phase{namespace="shop",phase="Terminating"} 1"#,
            r#"kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Lost"} 0"#,
            r#"kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Bound"} 0"#,
            r#"kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Pending"} 1"#,
            r#"kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Released"} 1"#,
            r#"kube_persistentvolume_status_phase{persistentvolume="pv1",phase="Bound"} 0"#,
            r#"kube_horizontalpodautoscaler_spec_max_replicas{namespace="shop",horizontalpodautoscaler="web"} 10"#,
            r#"kube_horizontalpodautoscaler_spec_min_replicas{namespace="shop",horizontalpodautoscaler="web"} 1"#,
            r#"kube_horizontalpodautoscaler_status_current_replicas{namespace="shop",horizontalpodautoscaler="web"} 2"#,
            r#"kube_horizontalpodautoscaler_status_desired_replicas{namespace="shop",horizontalpodautoscaler="web"} 3"#,
        ] {
            assert!(got.contains(want), "missing {want}\nin\n{out}");
        }
    }
}

//! Service and endpoint series: `kube_service_info`, `kube_service_spec_type`
//! (kube-state-metrics `service.go`) and `kube_endpoint_address` (`endpoint.go`),
//! here derived from EndpointSlices: the slices of a Service (label
//! `kubernetes.io/service-name`) together hold what its Endpoints object holds.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::text::{gauge, go_bool, sample, Stability};

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Writes the service families.
pub fn write_services(out: &mut String, services: &[Arc<Service>]) {
    let ids = |s: &Service| {
        [
            s.metadata.namespace.clone().unwrap_or_default(),
            s.metadata.name.clone().unwrap_or_default(),
            s.metadata.uid.clone().unwrap_or_default(),
        ]
    };
    let name = "kube_service_info";
    gauge(out, name, "Information about service.", Stability::Stable);
    for s in services {
        let [ns, n, uid] = ids(s);
        let spec = s.spec.as_ref();
        let labels = [
            ("namespace", ns.as_str()),
            ("service", &n),
            ("uid", &uid),
            (
                "cluster_ip",
                spec.and_then(|s| s.cluster_ip.as_deref()).unwrap_or(""),
            ),
            (
                "external_name",
                spec.and_then(|s| s.external_name.as_deref()).unwrap_or(""),
            ),
            (
                "load_balancer_ip",
                spec.and_then(|s| s.load_balancer_ip.as_deref())
                    .unwrap_or(""),
            ),
            // Not in KSM's kube_service_info (it has kube_service_spec_type), but argus'
            // metrics contract lists it here too; an extra label keeps KSM queries working.
            ("type", spec.and_then(|s| s.type_.as_deref()).unwrap_or("")),
        ];
        sample(out, name, &labels, 1.0);
    }
    let name = "kube_service_spec_type";
    gauge(out, name, "Type about service.", Stability::Stable);
    for s in services {
        let [ns, n, uid] = ids(s);
        let type_ = s
            .spec
            .as_ref()
            .and_then(|s| s.type_.as_deref())
            .unwrap_or("");
        let labels = [
            ("namespace", ns.as_str()),
            ("service", &n),
            ("uid", &uid),
            ("type", type_),
        ];
        sample(out, name, &labels, 1.0);
    }
}

/// Writes `kube_endpoint_address{namespace,endpoint,ip,ready}`: one series per
/// address of the Service's slices (`ready` unset counts as ready, as the API
/// documents), deduplicated like the addresses of an Endpoints object.
pub fn write_endpoint_slices(out: &mut String, slices: &[Arc<EndpointSlice>]) {
    let name = "kube_endpoint_address";
    gauge(
        out,
        name,
        "Information about Endpoint available and non available addresses.",
        Stability::Stable,
    );
    let mut rows: BTreeSet<(String, String, String, bool)> = BTreeSet::new();
    for s in slices {
        let service = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL));
        let Some(service) = service else { continue };
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        for e in &s.endpoints {
            let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            for ip in &e.addresses {
                rows.insert((ns.clone(), service.clone(), ip.clone(), ready));
            }
        }
    }
    for (ns, service, ip, ready) in &rows {
        let labels = [
            ("namespace", ns.as_str()),
            ("endpoint", service),
            ("ip", ip),
            ("ready", go_bool(*ready)),
        ];
        sample(out, name, &labels, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::{families, obj};

    #[test]
    fn endpoint_addresses_from_slices() {
        let slice: EndpointSlice = obj(serde_json::json!({
            "metadata": {"name": "web-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.2"]},
                {"addresses": ["10.0.0.3"], "conditions": {"ready": false}}
            ]
        }));
        let orphan: EndpointSlice = obj(serde_json::json!({
            "metadata": {"name": "x", "namespace": "shop"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.9.9.9"]}]
        }));
        let svc: Service = obj(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u1"},
            "spec": {"clusterIP": "10.96.0.10", "type": "ClusterIP"}
        }));
        let mut out = String::new();
        write_services(&mut out, &[Arc::new(svc)]);
        write_endpoint_slices(&mut out, &[Arc::new(slice), Arc::new(orphan)]);
        let got = families(&out);
        for want in [
            r#"kube_endpoint_address{namespace="shop",endpoint="web",ip="10.0.0.1",ready="true"} 1"#,
            r#"kube_endpoint_address{namespace="shop",endpoint="web",ip="10.0.0.2",ready="true"} 1"#,
            r#"kube_endpoint_address{namespace="shop",endpoint="web",ip="10.0.0.3",ready="false"} 1"#,
            r#"kube_service_info{namespace="shop",service="web",uid="u1",cluster_ip="10.96.0.10",external_name="",load_balancer_ip="",type="ClusterIP"} 1"#,
            r#"kube_service_spec_type{namespace="shop",service="web",uid="u1",type="ClusterIP"} 1"#,
        ] {
            assert!(got.contains(want), "missing {want}\nin\n{out}");
        }
        assert!(!out.contains("10.9.9.9"));
    }
}

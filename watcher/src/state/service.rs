//! Service and endpoint series: `kube_service_info`, `kube_service_spec_type`
//! (kube-state-metrics `service.go`) and `kube_endpoint_address` (`endpoint.go`),
//! here derived from EndpointSlices: the slices of a Service (label
//! `kubernetes.io/service-name`) together hold what its Endpoints object holds.
//!
//! KSM writes one `kube_endpoint_address` per port and address of each Endpoints subset
//! (`ready` from the list the address is in). The Endpoints controller leaves out
//! terminating pods unless they are published as ready, and a slice's ports apply to
//! every endpoint in it; so one series per slice port × endpoint address, without the
//! terminating not-ready ones, deduplicated as the merged Endpoints object would be.

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
            (
                "external_traffic_policy",
                spec.and_then(|s| s.external_traffic_policy.as_deref())
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

/// One `kube_endpoint_address` series: namespace, service, port protocol, port number,
/// port name, ip, ready.
type Address = (String, String, String, i32, String, String, bool);

/// Writes `kube_endpoint_address{namespace,endpoint,port_protocol,port_number,port_name,
/// ip,ready}` (see the module doc; `ready` unset counts as ready, as the API documents).
pub fn write_endpoint_slices(out: &mut String, slices: &[Arc<EndpointSlice>]) {
    let name = "kube_endpoint_address";
    gauge(
        out,
        name,
        "Information about Endpoint available and non available addresses.",
        Stability::Stable,
    );
    let mut rows: BTreeSet<Address> = BTreeSet::new();
    for s in slices {
        let service = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL));
        let Some(service) = service else { continue };
        let ns = s.metadata.namespace.as_deref().unwrap_or("");
        for port in s.ports.iter().flatten() {
            // A slice port without a number stands for "all ports", which an Endpoints
            // subset cannot express (it has no ports, so KSM writes nothing for it).
            let Some(number) = port.port else { continue };
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            let port_name = port.name.as_deref().unwrap_or("");
            for e in &s.endpoints {
                let conditions = e.conditions.as_ref();
                let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
                let terminating = conditions.and_then(|c| c.terminating) == Some(true);
                if terminating && !ready {
                    continue;
                }
                for ip in &e.addresses {
                    rows.insert((
                        ns.to_string(),
                        service.clone(),
                        protocol.to_string(),
                        number,
                        port_name.to_string(),
                        ip.clone(),
                        ready,
                    ));
                }
            }
        }
    }
    for (ns, service, protocol, number, port_name, ip, ready) in &rows {
        let number = number.to_string();
        let labels = [
            ("namespace", ns.as_str()),
            ("endpoint", service),
            ("port_protocol", protocol),
            ("port_number", &number),
            ("port_name", port_name),
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
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}],
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.2"]},
                {"addresses": ["10.0.0.3"], "conditions": {"ready": false}},
                {"addresses": ["10.0.0.4"], "conditions": {"ready": false, "serving": true, "terminating": true}}
            ]
        }));
        // The same address in a second slice (as during a slice handover) counts once.
        let again: EndpointSlice = obj(serde_json::json!({
            "metadata": {"name": "web-def", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80}],
            "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}}]
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
        write_endpoint_slices(
            &mut out,
            &[Arc::new(slice), Arc::new(again), Arc::new(orphan)],
        );
        let got = families(&out);
        let ep = r#"kube_endpoint_address{namespace="shop",endpoint="web","#;
        let mut want = vec![
            r#"kube_service_info{namespace="shop",service="web",uid="u1",cluster_ip="10.96.0.10",external_name="",load_balancer_ip="",external_traffic_policy="",type="ClusterIP"} 1"#.to_string(),
            r#"kube_service_spec_type{namespace="shop",service="web",uid="u1",type="ClusterIP"} 1"#.to_string(),
        ];
        for (port, ip, ready) in [
            (
                r#"port_protocol="TCP",port_number="80",port_name="http""#,
                "10.0.0.1",
                "true",
            ),
            (
                r#"port_protocol="TCP",port_number="80",port_name="http""#,
                "10.0.0.2",
                "true",
            ),
            (
                r#"port_protocol="TCP",port_number="80",port_name="http""#,
                "10.0.0.3",
                "false",
            ),
            (
                r#"port_protocol="UDP",port_number="53",port_name="dns""#,
                "10.0.0.1",
                "true",
            ),
            (
                r#"port_protocol="UDP",port_number="53",port_name="dns""#,
                "10.0.0.2",
                "true",
            ),
            (
                r#"port_protocol="UDP",port_number="53",port_name="dns""#,
                "10.0.0.3",
                "false",
            ),
        ] {
            want.push(format!(r#"{ep}{port},ip="{ip}",ready="{ready}"}} 1"#));
        }
        for w in &want {
            assert!(got.contains(w.as_str()), "missing {w}\nin\n{out}");
        }
        assert_eq!(out.matches("kube_endpoint_address{").count(), 6, "{out}");
        assert!(!out.contains("10.9.9.9"));
        assert!(
            !out.contains("10.0.0.4"),
            "terminating, not ready: not in Endpoints"
        );
    }
}

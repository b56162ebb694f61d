//! The resources the fake serves: one row per group/version/resource, as the API server's
//! discovery documents describe them (kind, scope, short names, categories), plus what the
//! fake needs to store and select them (the storage they share, their selectable fields).

/// One served resource (a row of `kubectl api-resources`).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Plural resource name, the path segment (`pods`).
    pub plural: &'static str,
    /// Singular resource name (`pod`).
    pub singular: &'static str,
    /// Kind of one object (`Pod`); the list kind is `<kind>List`.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// `kubectl` short names (`po`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Objects of resources with the same storage are the same objects (core/v1 and
    /// events.k8s.io/v1 events), as in etcd where both read `/registry/events/`.
    pub storage: &'static str,
    /// Field selector labels accepted besides `metadata.name` (and `metadata.namespace`).
    pub fields: FieldSet,
    /// Whether the server keeps `metadata.generation` (bumped when `spec` changes).
    pub tracks_generation: bool,
}

/// Which field-selector labels a resource accepts, after the API server's
/// `AddFieldLabelConversionFunc` registrations.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum FieldSet {
    /// No conversion registered: `metadata.name` and `metadata.namespace` only, and any
    /// other label is rejected with the generic "is not a known field selector" message.
    Default,
    /// A registered conversion: these labels (plus `metadata.name`, and
    /// `metadata.namespace` for namespaced resources); others are "field label not
    /// supported".
    Registered(&'static [&'static str]),
}

const STD_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    "spec.host",
];

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

macro_rules! res {
    ($group:literal, $version:literal, $plural:literal, $singular:literal, $kind:literal, $ns:expr,
     [$($short:literal),*], [$($cat:literal),*], $fields:expr, $gen:expr) => {
        ResourceInfo {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $ns,
            short_names: &[$($short),*],
            categories: &[$($cat),*],
            storage: concat!($group, "/", $plural),
            fields: $fields,
            tracks_generation: $gen,
        }
    };
}

use FieldSet::{Default as D, Registered as R};

/// Every resource the fake serves, in discovery order.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    res!(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        ["cm"],
        [],
        D,
        false
    ),
    res!(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        ["ep"],
        [],
        D,
        false
    ),
    ResourceInfo {
        storage: "/events",
        ..res!(
            "",
            "v1",
            "events",
            "event",
            "Event",
            true,
            ["ev"],
            [],
            R(EVENT_FIELDS),
            false
        )
    },
    res!(
        "",
        "v1",
        "limitranges",
        "limitrange",
        "LimitRange",
        true,
        ["limits"],
        [],
        D,
        false
    ),
    res!(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        ["ns"],
        [],
        R(&["status.phase"]),
        false
    ),
    res!(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        false,
        ["no"],
        [],
        R(&["spec.unschedulable"]),
        false
    ),
    res!(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        ["pvc"],
        [],
        D,
        false
    ),
    res!(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        ["pv"],
        [],
        D,
        false
    ),
    res!(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        true,
        ["po"],
        ["all"],
        R(POD_FIELDS),
        false
    ),
    res!(
        "",
        "v1",
        "replicationcontrollers",
        "replicationcontroller",
        "ReplicationController",
        true,
        ["rc"],
        ["all"],
        R(&["status.replicas"]),
        true
    ),
    res!(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        ["quota"],
        [],
        D,
        false
    ),
    res!(
        "",
        "v1",
        "secrets",
        "secret",
        "Secret",
        true,
        [],
        [],
        R(&["type"]),
        false
    ),
    res!(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        ["sa"],
        [],
        D,
        false
    ),
    res!(
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        ["svc"],
        ["all"],
        R(&["spec.clusterIP", "spec.type"]),
        false
    ),
    // apps/v1
    res!(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        ["ds"],
        ["all"],
        D,
        true
    ),
    res!(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        ["deploy"],
        ["all"],
        D,
        true
    ),
    res!(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        ["rs"],
        ["all"],
        R(&["status.replicas"]),
        true
    ),
    res!(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        ["sts"],
        ["all"],
        D,
        true
    ),
    // autoscaling/v2
    res!(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        ["hpa"],
        ["all"],
        D,
        true
    ),
    // batch/v1
    res!(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        ["cj"],
        ["all"],
        D,
        true
    ),
    res!(
        "batch",
        "v1",
        "jobs",
        "job",
        "Job",
        true,
        [],
        ["all"],
        R(&["status.successful"]),
        true
    ),
    // coordination.k8s.io/v1
    res!(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        [],
        [],
        D,
        false
    ),
    // discovery.k8s.io/v1
    res!(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        [],
        [],
        D,
        false
    ),
    // events.k8s.io/v1: the same objects as core/v1 events, in the other representation
    ResourceInfo {
        storage: "/events",
        ..res!(
            "events.k8s.io",
            "v1",
            "events",
            "event",
            "Event",
            true,
            ["ev"],
            [],
            R(EVENT_FIELDS),
            false
        )
    },
    // networking.k8s.io/v1
    res!(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        ["ing"],
        [],
        D,
        true
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        ["netpol"],
        [],
        D,
        true
    ),
    // policy/v1
    res!(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
        ["pdb"],
        [],
        D,
        true
    ),
    // storage.k8s.io/v1
    res!(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
        ["sc"],
        [],
        D,
        false
    ),
];

impl ResourceInfo {
    /// `group/version`, or `version` for the core group (an object's `apiVersion`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The verbs the fake implements for every resource.
    pub fn verbs(&self) -> &'static [&'static str] {
        STD_VERBS
    }

    /// The resource as the API server names it in messages: `pods`, `deployments.apps`.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether this is an events.k8s.io/v1 view of the core/v1 events.
    pub fn is_events_v1(&self) -> bool {
        self.group == "events.k8s.io"
    }
}

/// The group/versions served, in discovery order (core first): `(group, version)`.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// The resource at `/api(s)/<group>/<version>/<plural>`.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource of an object with this `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// Resolves a resource the way `kubectl` does: `pods`, `pod`, `po`, `Pod`,
/// `deployments.apps`, `apps/v1/deployments`, `v1/pods`, `events.events.k8s.io`.
pub fn resolve(name: &str) -> Option<&'static ResourceInfo> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [version, plural] => by_path("", version, plural),
        [group, version, plural] => by_path(group, version, plural),
        [name] => {
            let (short, group) = match name.split_once('.') {
                Some((short, group)) => (short, Some(group)),
                None => (*name, None),
            };
            let lower = short.to_ascii_lowercase();
            RESOURCES.iter().find(|r| {
                group.is_none_or(|g| g == r.group)
                    && (r.plural == lower
                        || r.singular == lower
                        || r.short_names.contains(&lower.as_str())
                        || r.kind.eq_ignore_ascii_case(short))
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_kubectl() {
        let cases = [
            ("pods", "", "pods"),
            ("po", "", "pods"),
            ("Pod", "", "pods"),
            ("deploy", "apps", "deployments"),
            ("deployments.apps", "apps", "deployments"),
            ("apps/v1/statefulsets", "apps", "statefulsets"),
            ("v1/events", "", "events"),
            ("events.events.k8s.io", "events.k8s.io", "events"),
            ("ev", "", "events"),
            ("hpa", "autoscaling", "horizontalpodautoscalers"),
        ];
        for (input, group, plural) in cases {
            let r = resolve(input).unwrap_or_else(|| panic!("{input} resolves"));
            assert_eq!((r.group, r.plural), (group, plural), "{input}");
        }
        assert!(resolve("nosuchthing").is_none());
    }

    #[test]
    fn events_share_storage_and_nothing_else_does() {
        let mut storages: Vec<&str> = RESOURCES.iter().map(|r| r.storage).collect();
        storages.sort_unstable();
        let before = storages.len();
        storages.dedup();
        assert_eq!(
            before - storages.len(),
            1,
            "only the two events views share"
        );
        assert_eq!(
            by_path("", "v1", "events").map(|r| r.storage),
            by_path("events.k8s.io", "v1", "events").map(|r| r.storage)
        );
    }
}

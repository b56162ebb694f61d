//! Request paths → what they address: discovery documents, a collection, or one object.

use crate::resources::{self, ResourceInfo};

/// What a path addresses.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api` (APIVersions).
    Api,
    /// `/apis` (APIGroupList).
    Apis,
    /// `/apis/<group>` (APIGroup).
    Group(&'static str),
    /// `/api/v1`, `/apis/<group>/<version>` (APIResourceList).
    Resources(&'static str, &'static str),
    /// A collection: all namespaces (`namespace` None) or one.
    Collection {
        /// The resource.
        resource: &'static ResourceInfo,
        /// The namespace of the path.
        namespace: Option<String>,
        /// Whether the path is a legacy `/watch/` one.
        legacy_watch: bool,
    },
    /// One object (or its `status` subresource, served as the object).
    Object {
        /// The resource.
        resource: &'static ResourceInfo,
        /// The namespace of the path.
        namespace: Option<String>,
        /// The object's name.
        name: String,
        /// Whether the path is a legacy `/watch/` one.
        legacy_watch: bool,
    },
    /// `/openapi/v3`.
    OpenApiIndex,
    /// `/openapi/v3/<api/v1 | apis/group/version>`.
    OpenApi(String),
    /// A known group/version without such a resource: 404 with a Status.
    NoResource,
    /// Not an API path: 404 page not found.
    NotFound,
}

impl Route {
    /// Parses a request path (already percent-decoded segments are not needed: object
    /// names cannot contain `/` or `%`).
    pub fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["version"] => Route::Version,
            ["healthz" | "livez" | "readyz", ..] => Route::Health,
            ["api"] => Route::Api,
            ["openapi", "v3"] => Route::OpenApiIndex,
            ["openapi", "v3", rest @ ..] => Route::OpenApi(rest.join("/")),
            ["apis"] => Route::Apis,
            ["api", "v1", rest @ ..] => in_group_version("", "v1", rest),
            ["apis", group] => resources::group_versions()
                .into_iter()
                .find(|(g, _)| g == group)
                .map_or(Route::NotFound, |(g, _)| Route::Group(g)),
            ["apis", group, version, rest @ ..] => resources::group_versions()
                .into_iter()
                .find(|(g, v)| g == group && v == version)
                .map_or(Route::NotFound, |(g, v)| in_group_version(g, v, rest)),
            _ => Route::NotFound,
        }
    }
}

fn in_group_version(group: &'static str, version: &'static str, rest: &[&str]) -> Route {
    let (legacy_watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let find = |plural: &str| resources::by_path(group, version, plural);
    match rest {
        [] if !legacy_watch => Route::Resources(group, version),
        // `/namespaces/<ns>/<resource>[/<name>[/status]]`
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            let Some(resource) = find(plural) else {
                return Route::NoResource;
            };
            let namespace = Some((*ns).to_string());
            match tail {
                [] => Route::Collection {
                    resource,
                    namespace,
                    legacy_watch,
                },
                [name] | [name, "status"] => Route::Object {
                    resource,
                    namespace,
                    name: (*name).to_string(),
                    legacy_watch,
                },
                _ => Route::NoResource,
            }
        }
        [plural, tail @ ..] => {
            let Some(resource) = find(plural) else {
                return Route::NoResource;
            };
            match tail {
                [] => Route::Collection {
                    resource,
                    namespace: None,
                    legacy_watch,
                },
                [name] | [name, "status" | "finalize"] if !resource.namespaced => Route::Object {
                    resource,
                    namespace: None,
                    name: (*name).to_string(),
                    legacy_watch,
                },
                _ => Route::NoResource,
            }
        }
        _ => Route::NoResource,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(route: &Route) -> String {
        match route {
            Route::Collection {
                resource,
                namespace,
                legacy_watch,
            } => format!(
                "collection {} {:?} {legacy_watch}",
                resource.qualified_plural(),
                namespace
            ),
            Route::Object {
                resource,
                namespace,
                name,
                ..
            } => format!(
                "object {} {:?} {name}",
                resource.qualified_plural(),
                namespace
            ),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn paths() {
        let cases = [
            ("/version", "Version"),
            ("/api", "Api"),
            ("/apis", "Apis"),
            ("/api/v1", "Resources(\"\", \"v1\")"),
            ("/apis/apps", "Group(\"apps\")"),
            ("/apis/apps/v1", "Resources(\"apps\", \"v1\")"),
            ("/api/v1/pods", "collection pods None false"),
            (
                "/api/v1/namespaces/shop/pods",
                "collection pods Some(\"shop\") false",
            ),
            (
                "/api/v1/namespaces/shop/pods/web",
                "object pods Some(\"shop\") web",
            ),
            (
                "/api/v1/namespaces/shop/pods/web/status",
                "object pods Some(\"shop\") web",
            ),
            ("/api/v1/namespaces", "collection namespaces None false"),
            ("/api/v1/namespaces/shop", "object namespaces None shop"),
            ("/api/v1/nodes/n1", "object nodes None n1"),
            (
                "/api/v1/watch/namespaces/shop/events",
                "collection events Some(\"shop\") true",
            ),
            (
                "/apis/apps/v1/namespaces/shop/deployments",
                "collection deployments.apps Some(\"shop\") false",
            ),
            (
                "/apis/events.k8s.io/v1/events",
                "collection events.events.k8s.io None false",
            ),
            ("/api/v1/pods/web", "NoResource"),
            ("/api/v1/widgets", "NoResource"),
            ("/apis/apps/v2/deployments", "NotFound"),
            ("/apis/nope", "NotFound"),
            ("/openapi/v3", "OpenApiIndex"),
            ("/openapi/v3/apis/apps/v1", "OpenApi(\"apis/apps/v1\")"),
            ("/", "NotFound"),
        ];
        for (path, want) in cases {
            assert_eq!(describe(&Route::parse(path)), want, "{path}");
        }
    }
}

//! `metav1.Status`, the body of every API error and of the watch `ERROR` frame, with the
//! reasons, codes and message texts of `k8s.io/apimachinery/pkg/api/errors` and the etcd3
//! store.

use serde::Serialize;

use super::resources::ResourceInfo;

/// An API error as the server reports it: `{"kind":"Status",...,"status":"Failure"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct Status {
    /// HTTP status code (`code`).
    pub code: u16,
    /// Machine-readable reason (`NotFound`, `Expired`, `InternalError`, ...).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `details`, when the server sets them.
    pub details: Option<Box<Details>>,
    /// `metadata.continue`: the inconsistent-continuation token of an expired continue.
    pub continue_token: Option<String>,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    /// Name of the object concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Group of the resource concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Resource (or kind) concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// UID of the object concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Individual causes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// Seconds after which a retry may succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

/// `metav1.StatusCause`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Machine-readable cause (`FieldValueRequired`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable cause.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field concerned (`metadata.name`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// The wire form, fields in the Go struct's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    kind: &'static str,
    api_version: &'static str,
    metadata: Meta<'a>,
    status: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Details>,
    code: u16,
}

#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_token: Option<&'a str>,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Body {
            kind: "Status",
            api_version: "v1",
            metadata: Meta {
                continue_token: self.continue_token.as_deref(),
            },
            status: "Failure",
            message: &self.message,
            reason: &self.reason,
            details: self.details.as_deref(),
            code: self.code,
        }
        .serialize(serializer)
    }
}

fn object_details(resource: &ResourceInfo, name: &str) -> Details {
    Details {
        name: Some(name.to_string()),
        group: (!resource.group.is_empty()).then(|| resource.group.to_string()),
        kind: Some(resource.plural.to_string()),
        ..Details::default()
    }
}

impl Status {
    fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Status {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
            continue_token: None,
        }
    }

    /// 404 `pods "x" not found`.
    pub fn not_found(resource: &ResourceInfo, name: &str) -> Self {
        Status {
            details: Some(Box::new(object_details(resource, name))),
            ..Status::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", resource.qualified_plural()),
            )
        }
    }

    /// 404 for a path that names no resource.
    pub fn no_such_resource() -> Self {
        Status {
            details: Some(Box::default()),
            ..Status::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    /// 409 `pods "x" already exists`.
    pub fn already_exists(resource: &ResourceInfo, name: &str) -> Self {
        Status {
            details: Some(Box::new(object_details(resource, name))),
            ..Status::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", resource.qualified_plural()),
            )
        }
    }

    /// 409 optimistic-concurrency conflict of an update with a stale `resourceVersion`.
    pub fn conflict(resource: &ResourceInfo, name: &str) -> Self {
        Status {
            details: Some(Box::new(object_details(resource, name))),
            ..Status::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been \
                     modified; please apply your changes to the latest version and try again",
                    resource.qualified_plural()
                ),
            )
        }
    }

    /// 400 with the message as is.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Status::new(400, "BadRequest", message)
    }

    /// 422 `Pod "x" is invalid: metadata.name: Required value: ...`: one cause per
    /// `(field, cause reason, detail)`, where the cause reason is `FieldValueRequired`,
    /// `FieldValueForbidden`, `FieldValueInvalid` or `FieldValueNotSupported`.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: &[(&str, &str, String)]) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes: Vec<Cause> = causes
            .iter()
            .map(|(field, reason, detail)| Cause {
                reason: reason.to_string(),
                message: format!("{}: {detail}", cause_prefix(reason)),
                field: field.to_string(),
            })
            .collect();
        let summary: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let summary = if summary.len() == 1 {
            summary.concat()
        } else {
            format!("[{}]", summary.join(", "))
        };
        Status {
            details: Some(Box::new(Details {
                name: Some(name.to_string()),
                group: (!group.is_empty()).then(|| group.to_string()),
                kind: Some(kind.to_string()),
                causes,
                ..Details::default()
            })),
            ..Status::new(
                422,
                "Invalid",
                format!("{qualified} \"{name}\" is invalid: {summary}"),
            )
        }
    }

    /// 410 `Expired` (`NewResourceExpired`).
    pub fn expired(message: impl Into<String>) -> Self {
        Status::new(410, "Expired", message)
    }

    /// 500 `InternalError` (`NewInternalError`).
    pub fn internal(cause: &str) -> Self {
        Status {
            details: Some(Box::new(Details {
                causes: vec![Cause {
                    message: cause.to_string(),
                    ..Cause::default()
                }],
                ..Details::default()
            })),
            ..Status::new(
                500,
                "InternalError",
                format!("Internal error occurred: {cause}"),
            )
        }
    }

    /// 504 for a `resourceVersion` the server has not reached after waiting
    /// (`storage.NewTooLargeResourceVersionError`).
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        Status {
            details: Some(Box::new(Details {
                causes: vec![Cause {
                    reason: "ResourceVersionTooLarge".to_string(),
                    message: "Too large resource version".to_string(),
                    ..Cause::default()
                }],
                retry_after_seconds: Some(1),
                ..Details::default()
            })),
            ..Status::new(
                504,
                "Timeout",
                format!("Too large resource version: {requested}, current: {current}"),
            )
        }
    }

    /// 405 for a verb the resource does not serve.
    pub fn method_not_allowed() -> Self {
        Status {
            details: Some(Box::default()),
            ..Status::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        }
    }

    /// 415 for a PATCH body type the fake does not implement.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Status::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types \
                 include: application/merge-patch+json, application/strategic-merge-patch+json, \
                 application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    /// The JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn cause_prefix(reason: &str) -> &'static str {
    match reason {
        "FieldValueRequired" => "Required value",
        "FieldValueForbidden" => "Forbidden",
        "FieldValueNotSupported" => "Unsupported value",
        "FieldValueDuplicate" => "Duplicate value",
        _ => "Invalid value",
    }
}

/// The `Status` a DELETE answers with for resources that do not return the object:
/// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{...}}`.
pub fn delete_success(resource: &ResourceInfo, name: &str, uid: Option<&str>) -> serde_json::Value {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Success<'a> {
        kind: &'static str,
        api_version: &'static str,
        metadata: serde_json::Map<String, serde_json::Value>,
        status: &'static str,
        details: &'a Details,
    }
    let details = Details {
        uid: uid.map(str::to_string),
        ..object_details(resource, name)
    };
    serde_json::to_value(Success {
        kind: "Status",
        api_version: "v1",
        metadata: serde_json::Map::new(),
        status: "Success",
        details: &details,
    })
    .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_expired_status_matches_the_server_bytes() {
        let status = Status::expired("too old resource version: 1 (260)");
        let json = serde_json::to_string(&status).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (260)","reason":"Expired","code":410}"#
        );
    }

    #[test]
    fn not_found_names_the_qualified_resource() {
        let deployments = super::super::resources::resolve("deployments").expect("known");
        let json = Status::not_found(deployments, "web").to_json();
        assert_eq!(json["message"], "deployments.apps \"web\" not found");
        assert_eq!(json["details"]["group"], "apps");
        assert_eq!(json["details"]["kind"], "deployments");
        assert_eq!(json["code"], 404);
    }

    #[test]
    fn invalid_lists_the_field() {
        let status = Status::invalid(
            "Pod",
            "",
            "",
            &[(
                "metadata.name",
                "FieldValueRequired",
                "name or generateName is required".to_string(),
            )],
        );
        assert_eq!(
            status.message,
            "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"
        );
        assert_eq!(status.code, 422);
    }
}

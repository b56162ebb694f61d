//! Errors of the fake API server's control API.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::status::Status;

/// What can go wrong starting or driving the fake API server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration field is out of range.
    #[error("invalid fake api server config: {field}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The listen address could not be bound.
    #[error("fake api server cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A resource name that no served resource has.
    #[error("unknown resource {0:?}")]
    UnknownResource(String),
    /// An object whose `apiVersion`/`kind` no served resource has, or that is no object.
    #[error("object is not a served kind: apiVersion {api_version:?}, kind {kind:?}")]
    UnknownKind {
        /// The object's `apiVersion`.
        api_version: String,
        /// The object's `kind`.
        kind: String,
    },
    /// The API refused the operation, as it would over HTTP.
    #[error("api server refused: {0}")]
    Api(#[from] Status),
    /// The kubeconfig could not be written.
    #[error("cannot write kubeconfig {path}")]
    Kubeconfig {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

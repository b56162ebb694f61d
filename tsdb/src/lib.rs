//! argus' embedded metrics store: Gorilla-compressed in-memory series with a write-ahead
//! log and snapshots under the data directory, retention, a label index, and the scraper
//! that fills it.

pub mod chunk;
pub mod head;
pub mod import;
pub mod scrape;
pub mod wal;

/// Errors of the metrics store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt snapshot: {message}")]
    Snapshot { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.as_ref().display().to_string();
    move |source| Error::Io { path, source }
}
pub mod db;

pub use db::{Appended, Db, Options};
pub mod textparse;

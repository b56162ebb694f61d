//! The engine's errors.

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The query does not parse or does not type-check; the message is the parser's.
    #[error("parse error: {0}")]
    Parse(String),
    /// Evaluation failed (for example "vector cannot contain metrics with the same
    /// labelset"); messages follow Prometheus'.
    #[error("{0}")]
    Eval(String),
    /// The query ran longer than [`EngineOptions::timeout`](crate::EngineOptions::timeout).
    #[error("query timed out in expression evaluation")]
    Timeout,
    /// The query would hold more than
    /// [`EngineOptions::max_samples`](crate::EngineOptions::max_samples) samples at once.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An evaluation error with a formatted message.
pub(crate) fn eval_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Eval(msg.into()))
}

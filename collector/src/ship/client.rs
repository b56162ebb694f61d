//! Posting encoded batches to the aggregator's `/v1/logs`, retrying with backoff until it
//! acknowledges. Nothing is dropped for a transient failure; a batch the aggregator rejects
//! as malformed (4xx other than 408/429) is dropped with an error, since resending cannot
//! succeed.

pub use argus_core::ship::{Backoff, Poster, SendError};

/// A client posting OTLP/protobuf batches to `<aggregator>/v1/logs`.
pub fn shipper(aggregator: &str, token: &str) -> Poster {
    Poster::new(
        aggregator,
        "/v1/logs",
        token,
        "application/x-protobuf",
        concat!("argus-collector/", env!("CARGO_PKG_VERSION")),
    )
}

/// Whether resending the same batch may succeed: no answer, 5xx, 408 and 429.
pub fn retryable(e: &SendError) -> bool {
    match e.status() {
        None => true,
        Some(status) => status >= 500 || status == 408 || status == 429,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_answers_are_retried() {
        let status = |status| SendError::Status {
            url: "u".into(),
            status,
            body: String::new(),
        };
        for s in [408, 429, 500, 503] {
            assert!(retryable(&status(s)), "{s}");
        }
        for s in [400, 404, 413] {
            assert!(!retryable(&status(s)), "{s}");
        }
        let down = SendError::Unreachable {
            url: "u".into(),
            message: "refused".into(),
        };
        assert!(retryable(&down));
    }
}

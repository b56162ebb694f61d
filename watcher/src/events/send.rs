//! The aggregator's event ingest: `POST <aggregator>/api/v1/events` with
//! `{"events":[KubeEvent…]}`. The aggregator upserts by uid and answers 200 once the batch
//! is durable; only a 2xx answer is an acknowledgement. 400, 413 and 422 say the batch itself is
//! wrong (resending it cannot succeed); every other answer, and no answer, is retried.

use bytes::Bytes;

use argus_core::event::KubeEvent;
use argus_core::ship::Poster;
pub use argus_core::ship::{Backoff, SendError};

/// Whether the aggregator refused the batch's content: resending it as is cannot succeed,
/// a smaller batch may.
pub fn rejected(e: &SendError) -> bool {
    matches!(e.status(), Some(400 | 413 | 422))
}

#[derive(serde::Serialize)]
struct Body<'a> {
    events: &'a [KubeEvent],
}

/// HTTP client for one aggregator's event ingest.
#[derive(Clone)]
pub struct Ingest {
    poster: Poster,
}

impl Ingest {
    /// A client posting to `<aggregator>/api/v1/events`.
    pub fn new(aggregator: &str, token: &str) -> Ingest {
        Ingest {
            poster: Poster::new(
                aggregator,
                "/api/v1/events",
                token,
                "application/json",
                concat!("argus-watcher/", env!("CARGO_PKG_VERSION")),
            ),
        }
    }

    /// The URL batches go to.
    pub fn url(&self) -> &str {
        self.poster.url()
    }

    /// One attempt to deliver `events`.
    pub async fn send(&self, events: &[KubeEvent]) -> Result<(), SendError> {
        let body = serde_json::to_vec(&Body { events }).map_err(|e| SendError::Unreachable {
            url: self.url().to_string(),
            message: e.to_string(),
        })?;
        self.poster.send(Bytes::from(body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_answers_reject_the_batch() {
        let status = |status| SendError::Status {
            url: "u".into(),
            status,
            body: String::new(),
        };
        for s in [400, 413, 422] {
            assert!(rejected(&status(s)), "{s}");
        }
        for s in [401, 404, 429, 500, 503] {
            assert!(!rejected(&status(s)), "{s}");
        }
        let down = SendError::Unreachable {
            url: "u".into(),
            message: "refused".into(),
        };
        assert!(!rejected(&down));
    }
}

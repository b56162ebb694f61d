//! The aggregator's event ingest: `POST <aggregator>/api/v1/events` with
//! `{"events":[KubeEvent…]}`. The aggregator upserts by uid and answers 200 once the batch
//! is durable; nothing else is an acknowledgement. 400, 413 and 422 say the batch itself is
//! wrong (resending it cannot succeed); every other answer, and no answer, is retried.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

use argus_core::event::KubeEvent;

/// Why a batch was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("aggregator {url} unreachable: {message}")]
    Unreachable { url: String, message: String },
    #[error("aggregator {url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
}

impl SendError {
    /// Whether the aggregator refused the batch's content: resending it as is cannot
    /// succeed, a smaller batch may.
    pub fn rejected(&self) -> bool {
        matches!(self, SendError::Status { status, .. } if matches!(status, 400 | 413 | 422))
    }
}

#[derive(serde::Serialize)]
struct Body<'a> {
    events: &'a [KubeEvent],
}

/// HTTP client for one aggregator's event ingest.
#[derive(Clone)]
pub struct Ingest {
    client: Client<HttpConnector, Full<Bytes>>,
    url: String,
    token: String,
}

impl Ingest {
    /// A client posting to `<aggregator>/api/v1/events`.
    pub fn new(aggregator: &str, token: &str) -> Ingest {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ingest {
            client,
            url: format!("{}/api/v1/events", aggregator.trim_end_matches('/')),
            token: token.to_string(),
        }
    }

    /// The URL batches go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One attempt to deliver `events`.
    pub async fn send(&self, events: &[KubeEvent]) -> Result<(), SendError> {
        let unreachable = |message: String| SendError::Unreachable {
            url: self.url.clone(),
            message,
        };
        let body = serde_json::to_vec(&Body { events }).map_err(|e| unreachable(e.to_string()))?;
        let mut req = hyper::Request::post(&self.url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("argus-watcher/", env!("CARGO_PKG_VERSION")),
            );
        if !self.token.is_empty() {
            req = req.header("authorization", format!("Bearer {}", self.token));
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(e.to_string()))?;
        let resp = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .map_err(|_| unreachable("timed out after 30s".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if status == 200 {
            return Ok(());
        }
        Err(SendError::Status {
            url: self.url.clone(),
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        })
    }
}

/// Exponential backoff with ±10 % jitter: 100 ms doubling to 10 s.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

const FIRST: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(10);

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(MAX);
        // Jitter from the clock's low bits: enough to spread watchers restarted together.
        let nanos = argus_core::time::now_ns().unsigned_abs();
        let jitter = (nanos % 1000) as f64 / 1000.0 * 0.2 + 0.9;
        d.mul_f64(jitter)
    }

    /// Back to the first delay, after a success.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_and_resets() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(90) && first <= Duration::from_millis(110));
        for _ in 0..20 {
            assert!(b.next_delay() <= Duration::from_secs(11));
        }
        assert!(b.next_delay() >= Duration::from_secs(9));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(110));
    }

    #[test]
    fn which_answers_reject_the_batch() {
        let status = |status| SendError::Status {
            url: "u".into(),
            status,
            body: String::new(),
        };
        for s in [400, 413, 422] {
            assert!(status(s).rejected(), "{s}");
        }
        for s in [401, 404, 429, 500, 503] {
            assert!(!status(s).rejected(), "{s}");
        }
        let down = SendError::Unreachable {
            url: "u".into(),
            message: "refused".into(),
        };
        assert!(!down.rejected());
    }
}

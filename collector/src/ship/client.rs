//! Posting encoded batches to the aggregator's `/v1/logs`, retrying with backoff until it
//! acknowledges. Nothing is dropped for a transient failure; a batch the aggregator rejects
//! as malformed (4xx other than 408/429) is dropped with an error, since resending cannot
//! succeed.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Why a send did not get an ack.
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
    /// Whether resending the same batch may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            SendError::Unreachable { .. } => true,
            SendError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
        }
    }
}

/// HTTP client for one aggregator.
#[derive(Clone)]
pub struct Shipper {
    client: Client<HttpConnector, Full<Bytes>>,
    url: String,
    token: String,
}

impl Shipper {
    /// A client posting to `<aggregator>/v1/logs`.
    pub fn new(aggregator: &str, token: &str) -> Shipper {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Shipper {
            client,
            url: format!("{}/v1/logs", aggregator.trim_end_matches('/')),
            token: token.to_string(),
        }
    }

    /// The URL batches go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One attempt.
    pub async fn send(&self, body: Bytes) -> Result<(), SendError> {
        let unreachable = |message: String| SendError::Unreachable {
            url: self.url.clone(),
            message,
        };
        let mut req = hyper::Request::post(&self.url)
            .header("content-type", "application/x-protobuf")
            .header(
                "user-agent",
                concat!("argus-collector/", env!("CARGO_PKG_VERSION")),
            );
        if !self.token.is_empty() {
            req = req.header("authorization", format!("Bearer {}", self.token));
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| unreachable(e.to_string()))?;
        let fut = self.client.request(req);
        let resp = tokio::time::timeout(Duration::from_secs(30), fut)
            .await
            .map_err(|_| unreachable("timed out after 30s".into()))?
            .map_err(|e| unreachable(format!("{e}")))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(SendError::Status {
            url: self.url.clone(),
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        })
    }
}

/// Exponential backoff with jitter: 100 ms doubling to 10 s.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: Duration::from_millis(100),
        }
    }
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(10));
        let nanos = argus_core::time::now_ns() as u64;
        let jitter = (nanos % 1000) as f64 / 1000.0 * 0.2 + 0.9;
        d.mul_f64(jitter)
    }

    pub fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }
}

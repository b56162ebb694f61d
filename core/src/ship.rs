//! Posting batches to the aggregator (feature `ship`): the HTTP client the collector
//! (`/v1/logs`) and the watcher (`/api/v1/events`) share, with the bearer token, a 30 s
//! timeout, and backoff with jitter between attempts. Which failures are worth a retry is
//! the caller's policy: [`SendError::status`] says what the aggregator answered.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

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
    /// The HTTP status the aggregator answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SendError::Unreachable { .. } => None,
            SendError::Status { status, .. } => Some(*status),
        }
    }
}

/// HTTP client posting to one aggregator URL. Any 2xx answer is the acknowledgement.
#[derive(Clone)]
pub struct Poster {
    client: Client<HttpConnector, Full<Bytes>>,
    url: String,
    token: String,
    content_type: &'static str,
    user_agent: &'static str,
}

impl Poster {
    /// A client posting `content_type` bodies to `<aggregator><path>`, with
    /// `Authorization: Bearer <token>` unless the token is empty.
    pub fn new(
        aggregator: &str,
        path: &str,
        token: &str,
        content_type: &'static str,
        user_agent: &'static str,
    ) -> Poster {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Poster {
            client,
            url: format!("{}{path}", aggregator.trim_end_matches('/')),
            token: token.to_string(),
            content_type,
            user_agent,
        }
    }

    /// The URL batches go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One attempt to deliver `body`.
    pub async fn send(&self, body: Bytes) -> Result<(), SendError> {
        let unreachable = |message: String| SendError::Unreachable {
            url: self.url.clone(),
            message,
        };
        let mut req = hyper::Request::post(&self.url)
            .header("content-type", self.content_type)
            .header("user-agent", self.user_agent);
        if !self.token.is_empty() {
            req = req.header("authorization", format!("Bearer {}", self.token));
        }
        let req = req
            .body(Full::new(body))
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
        // Jitter from the clock's low bits: enough to spread senders restarted together.
        let nanos = crate::time::now_ns().unsigned_abs();
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

    #[tokio::test]
    async fn unreachable_and_status_errors_name_the_url() {
        // A port nothing listens on: bind, take the port, drop the listener.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let p = Poster::new(
            &format!("http://127.0.0.1:{port}/"),
            "/v1/logs",
            "",
            "application/x-protobuf",
            "test",
        );
        assert_eq!(p.url(), format!("http://127.0.0.1:{port}/v1/logs"));
        let Err(e) = p.send(Bytes::from_static(b"x")).await else {
            panic!("nothing listens on {port}");
        };
        assert_eq!(e.status(), None);
        assert!(e.to_string().contains(p.url()), "{e}");
    }
}

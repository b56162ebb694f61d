//! The notifier's HTTP client: POSTs JSON to receivers and Alertmanagers over HTTP or
//! HTTPS (rustls, Mozilla's root certificates), with a per-request timeout. Errors never
//! contain the URL (webhook URLs carry keys); callers name the receiver instead.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client as HClient};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// How a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Not sent or no response (connect error, TLS error, timeout): worth retrying.
    Transport(String),
    /// The request could not be built (bad URL, bad header): retrying does not help.
    Request(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Transport(m) | HttpError::Request(m) => f.write_str(m),
        }
    }
}

/// A response: status and (at most 64 KiB of) body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

/// Cheap to clone; one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: HClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    pub fn new() -> Client {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth()
        });
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let conn = match tls {
            Ok(tls) => hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http),
            // ring's provider supports the safe defaults; this arm is not reached.
            Err(_) => hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .wrap_connector(http),
        };
        Client {
            inner: HClient::builder(TokioExecutor::new()).build(conn),
        }
    }

    /// POSTs `body` with `content-type` and extra headers; waits at most `timeout` for the
    /// whole exchange.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        self.send("POST", url, content_type, headers, body, timeout)
            .await
    }

    /// Sends a request with any method.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| HttpError::Request("invalid URL".into()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(HttpError::Request(
                "URL scheme must be http or https".into(),
            ));
        }
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", content_type)
            .header("user-agent", concat!("argus/", env!("CARGO_PKG_VERSION")));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| HttpError::Request(format!("cannot build request: {e}")))?;
        let inner = self.inner.clone();
        let fut = async move {
            let resp = inner
                .request(req)
                .await
                .map_err(|e| HttpError::Transport(describe(&e)))?;
            let status = resp.status().as_u16();
            let body = http_body_util::Limited::new(resp.into_body(), 64 * 1024)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Ok(Response { status, body })
        };
        tokio::time::timeout(timeout, fut).await.map_err(|_| {
            HttpError::Transport(format!("no response within {}", fmt_secs(timeout)))
        })?
    }
}

fn fmt_secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The error chain without the URL (hyper's messages do not contain it; the connector's
/// source errors name only host-level causes).
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn posts_and_reports_status_and_refusals() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).contains("{\"a\":1}") {
                let n = s.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(
                b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            )
            .await
            .expect("write");
            String::from_utf8_lossy(&got).to_string()
        });
        let c = Client::new();
        let r = c
            .post(
                &format!("http://{addr}/hook?key=secret"),
                "application/json",
                &[("x-test", "1")],
                b"{\"a\":1}".to_vec(),
                Duration::from_secs(5),
            )
            .await
            .expect("post");
        assert_eq!(r.status, 202);
        assert_eq!(&r.body[..], b"ok");
        let req = server.await.expect("server");
        assert!(req.starts_with("POST /hook?key=secret HTTP/1.1"), "{req}");
        assert!(req.to_lowercase().contains("x-test: 1"), "{req}");

        // Nothing listens there now: a transport error that does not echo the URL.
        let e = c
            .post(
                &format!("http://{addr}/hook?key=secret"),
                "application/json",
                &[],
                Vec::new(),
                Duration::from_secs(5),
            )
            .await
            .expect_err("refused");
        assert!(matches!(e, HttpError::Transport(_)), "{e:?}");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(matches!(
            c.post("ftp://x/", "a", &[], Vec::new(), Duration::from_secs(1))
                .await,
            Err(HttpError::Request(_))
        ));
    }
}

//! One HTTP GET of a target's metrics, with the timeout Prometheus sends as
//! `X-Prometheus-Scrape-Timeout-Seconds`, accepting gzip, and the body size capped.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::io::Read;
use std::time::Duration;

/// Largest body accepted (decompressed).
pub const MAX_BODY: usize = 256 << 20;

#[derive(Clone)]
pub struct Fetcher {
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Default for Fetcher {
    fn default() -> Self {
        let mut c = HttpConnector::new();
        c.set_nodelay(true);
        c.set_connect_timeout(Some(Duration::from_secs(5)));
        Fetcher {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(90))
                .build(c),
        }
    }
}

/// What came back: the body and whether it is OpenMetrics.
pub struct Fetched {
    pub body: String,
    pub openmetrics: bool,
}

impl Fetcher {
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<Fetched, String> {
        let req = hyper::Request::get(url)
            .header(
                "accept",
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            )
            .header("accept-encoding", "gzip")
            .header(
                "x-prometheus-scrape-timeout-seconds",
                format!("{}", timeout.as_secs_f64()),
            )
            .header("user-agent", concat!("argus/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let work = async {
            let resp = self.client.request(req).await.map_err(|e| {
                let mut m = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    m = format!("{m}: {s}");
                    src = s.source();
                }
                m
            })?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("reading body: {e}"))?
                .to_bytes();
            if !status.is_success() {
                return Err(format!("server returned HTTP status {status}"));
            }
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let gz = headers
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
            let text = if gz {
                let mut s = String::new();
                flate2::read::GzDecoder::new(&body[..])
                    .take(MAX_BODY as u64)
                    .read_to_string(&mut s)
                    .map_err(|e| format!("bad gzip body: {e}"))?;
                s
            } else {
                String::from_utf8(body.to_vec()).map_err(|_| "body is not UTF-8".to_string())?
            };
            Ok(Fetched {
                body: text,
                openmetrics: ct.starts_with("application/openmetrics-text"),
            })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "context deadline exceeded ({}s timeout)",
                timeout.as_secs_f64()
            )),
        }
    }
}

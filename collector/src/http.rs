//! The collector's scrape target on `--listen`:
//!
//! - `/metrics`: `container_*` (cAdvisor-compatible), `argus_log_*` and `argus_collector_*`
//!   series, plus `node_*` when `collector.metrics.single_endpoint` is on;
//! - `/metrics/node`: `node_*` (node_exporter-compatible), for a scrape job with
//!   `honor_labels: false` so the target's own pod/namespace labels apply;
//! - `/healthz`.
//!
//! Text format 0.0.4 unless the `Accept` header asks for OpenMetrics; gzip when
//! `Accept-Encoding` allows it. Values are read at scrape time, without timestamps.

use std::io::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::metrics::cgroup::CgroupCollector;
use crate::metrics::expo::{Exposition, Format};
use crate::metrics::logs::LogMetrics;
use crate::metrics::node::NodeCollector;
use crate::metrics::CollectorMetrics;

/// Everything a scrape reads.
pub struct Sources {
    pub cgroups: CgroupCollector,
    pub node: NodeCollector,
    pub logs: Arc<LogMetrics>,
    pub health: Arc<CollectorMetrics>,
    pub single_endpoint: bool,
}

#[derive(Clone, Copy)]
enum Endpoint {
    Main,
    Node,
}

impl Sources {
    fn write(&self, endpoint: Endpoint, out: &mut Exposition) {
        let node = |out: &mut Exposition| {
            let t = Instant::now();
            self.node.collect(out);
            self.health
                .node_scrape_ns
                .store(t.elapsed().as_nanos() as u64, Relaxed);
        };
        match endpoint {
            Endpoint::Node => node(out),
            Endpoint::Main => {
                let t = Instant::now();
                let n = self.cgroups.collect(out);
                self.health
                    .cgroup_scrape_ns
                    .store(t.elapsed().as_nanos() as u64, Relaxed);
                self.health.cgroups.store(n as u64, Relaxed);
                if self.single_endpoint {
                    node(out);
                }
                self.logs.collect(out);
                self.health.collect(out);
            }
        }
    }
}

/// The router of the scrape endpoints.
pub fn router(sources: Arc<Sources>) -> Router {
    let main = sources.clone();
    Router::new()
        .route(
            "/metrics",
            get(move |h: HeaderMap| scrape(main.clone(), Endpoint::Main, h)),
        )
        .route(
            "/metrics/node",
            get(move |h: HeaderMap| scrape(sources.clone(), Endpoint::Node, h)),
        )
        .route("/healthz", get(|| async { "ok\n" }))
}

async fn scrape(sources: Arc<Sources>, endpoint: Endpoint, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let body = tokio::task::spawn_blocking(move || {
        let mut out = Exposition::new(format);
        sources.write(endpoint, &mut out);
        let chunks = out.finish_chunks();
        if gzip {
            gzip_chunks(&chunks).map(Body::Gzip)
        } else {
            Some(Body::Plain(chunks))
        }
    })
    .await;
    let ct = [(header::CONTENT_TYPE, format.content_type())];
    match body {
        Ok(Some(Body::Gzip(z))) => (ct, [(header::CONTENT_ENCODING, "gzip")], z).into_response(),
        Ok(Some(Body::Plain(chunks))) => {
            // Sent chunk by chunk: no second copy of a multi-megabyte body.
            let stream = tokio_stream::iter(
                chunks
                    .into_iter()
                    .map(|c| Ok::<_, std::convert::Infallible>(bytes::Bytes::from(c))),
            );
            (ct, axum::body::Body::from_stream(stream)).into_response()
        }
        Ok(None) => (StatusCode::INTERNAL_SERVER_ERROR, "compression failed\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "scrape failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n").into_response()
        }
    }
}

enum Body {
    Plain(Vec<String>),
    Gzip(Vec<u8>),
}

fn gzip_chunks(chunks: &[String]) -> Option<Vec<u8>> {
    let len: usize = chunks.iter().map(String::len).sum();
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(len / 8), flate2::Compression::fast());
    for c in chunks {
        enc.write_all(c.as_bytes()).ok()?;
    }
    enc.finish().ok()
}

/// Whether `Accept-Encoding` allows gzip (and does not give it q=0).
fn accepts_gzip(v: &str) -> bool {
    v.split(',').any(|part| {
        let mut it = part.split(';');
        let coding = it.next().unwrap_or("").trim();
        let q_zero = it.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
    }
}

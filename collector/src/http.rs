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

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;

use crate::metrics::cgroup::CgroupCollector;
use crate::metrics::expo::{Exposition, Format, Sink};
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
        .is_some_and(argus_core::serve::accepts_gzip);
    // The body is produced on a blocking thread and streamed chunk by chunk as it is
    // written (at most QUEUE chunks wait), so memory stays flat however large it is.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUE);
    let mut enc = gzip.then(|| {
        flate2::write::GzEncoder::new(Vec::with_capacity(64 * 1024), flate2::Compression::fast())
    });
    let sink: Sink = Box::new(move |chunk: Option<String>| {
        let bytes = match (&mut enc, chunk) {
            (None, Some(c)) => Bytes::from(c),
            (None, None) => return true,
            (Some(z), Some(c)) => {
                if let Err(e) = z.write_all(c.as_bytes()) {
                    let _ = tx.blocking_send(Err(e));
                    return false;
                }
                Bytes::from(std::mem::take(z.get_mut()))
            }
            (Some(_), None) => match enc.take().map(|z| z.finish()) {
                Some(Ok(rest)) => Bytes::from(rest),
                Some(Err(e)) => {
                    let _ = tx.blocking_send(Err(e));
                    return false;
                }
                None => return true,
            },
        };
        bytes.is_empty() || tx.blocking_send(Ok(bytes)).is_ok()
    });
    tokio::task::spawn_blocking(move || {
        let mut out = Exposition::streaming(format, sink);
        sources.write(endpoint, &mut out);
        out.finish_chunks();
    });
    let body = axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let ct = [(header::CONTENT_TYPE, format.content_type())];
    if gzip {
        (ct, [(header::CONTENT_ENCODING, "gzip")], body).into_response()
    } else {
        (ct, body).into_response()
    }
}

/// Chunks of a body waiting for the client.
const QUEUE: usize = 2;

//! What argus' HTTP servers share (feature `serve`): gzip for clients that ask for it, as
//! Prometheus, node_exporter and kube-state-metrics do. Prometheus scrapes and Grafana's
//! data source send `Accept-Encoding: gzip`; a `/metrics/cluster` of a large cluster or a
//! long `query_range` answer shrinks about tenfold.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io::Write;

/// Bodies smaller than this are sent as they are: gzip's header and trailer would eat
/// most of the gain.
pub const MIN_GZIP_BYTES: u64 = 1024;

/// Bodies from this size on are compressed on a blocking thread, off the async workers.
const BLOCKING_BYTES: usize = 256 * 1024;

/// Whether an `Accept-Encoding` value allows gzip (and does not give it `q=0`).
pub fn accepts_gzip(v: &str) -> bool {
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

/// Middleware (`axum::middleware::from_fn(serve::gzip)`): compresses a response with
/// gzip when the request accepts it and the body is complete (its size is known: streams
/// such as server-sent events pass through), at least [`MIN_GZIP_BYTES`] long and not
/// encoded already. Adds `Vary: Accept-Encoding` to every response it could compress.
pub async fn gzip(req: Request, next: Next) -> Response {
    let wants = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let res = next.run(req).await;
    if !wants || res.headers().contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    match res.body().size_hint().exact() {
        Some(n) if n >= MIN_GZIP_BYTES => {}
        _ => return res,
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("reading the response body: {e}"),
            )
                .into_response()
        }
    };
    let compressed = if bytes.len() >= BLOCKING_BYTES {
        tokio::task::spawn_blocking(move || compress(&bytes))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
    } else {
        compress(&bytes)
    };
    let compressed = match compressed {
        Ok(c) => c,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("compressing the response: {e}"),
            )
                .into_response()
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(compressed))
}

fn compress(b: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut z = flate2::write::GzEncoder::new(
        Vec::with_capacity(b.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    z.write_all(b)?;
    z.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::io::Read;

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("GZIP"));
        assert!(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("gzip; q=0.0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip(""));
    }

    async fn get_with(app: &Router, path: &str, accept: Option<&str>) -> Response {
        let mut req = Request::builder().uri(path);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT_ENCODING, a);
        }
        tower::ServiceExt::oneshot(app.clone(), req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    async fn body(res: Response) -> Vec<u8> {
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec()
    }

    #[tokio::test]
    async fn compresses_complete_bodies_for_clients_that_ask() {
        let big = "metric_total{pod=\"a\"} 1\n".repeat(20_000);
        let huge = big.repeat(2);
        let (b1, b2) = (big.clone(), huge.clone());
        let app = Router::new()
            .route("/big", get(move || async move { b1 }))
            .route("/huge", get(move || async move { b2 }))
            .route("/small", get(|| async { "ok\n" }))
            .route(
                "/stream",
                get(|| async {
                    let chunks = (0..1000).map(|_| {
                        Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"data: x\n\n"))
                    });
                    Body::from_stream(tokio_stream::iter(chunks))
                }),
            )
            .layer(axum::middleware::from_fn(gzip));

        for (path, want) in [("/big", &big), ("/huge", &huge)] {
            let res = get_with(&app, path, Some("gzip, deflate")).await;
            assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
            assert_eq!(res.headers()[header::VARY], "accept-encoding");
            let z = body(res).await;
            assert!(z.len() * 10 < want.len(), "{} of {}", z.len(), want.len());
            let mut out = String::new();
            flate2::read::GzDecoder::new(&z[..])
                .read_to_string(&mut out)
                .expect("valid gzip");
            assert_eq!(&out, want);
        }
        // Not asked, asked with q=0, too small, or a stream: as it is.
        for (path, accept) in [
            ("/big", None),
            ("/big", Some("gzip;q=0")),
            ("/small", Some("gzip")),
            ("/stream", Some("gzip")),
        ] {
            let res = get_with(&app, path, accept).await;
            assert!(
                !res.headers().contains_key(header::CONTENT_ENCODING),
                "{path} {accept:?}"
            );
            let b = body(res).await;
            assert!(!b.is_empty() && b.is_ascii(), "{path} {accept:?}");
        }
    }
}

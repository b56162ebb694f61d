//! Helpers of the fake API server's tests: a plain HTTP/1.1 client (hyper) that reads
//! watch streams frame by frame and tells a clean end from a cut connection, and object
//! builders.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use argus_kube_fake::{FakeApiServer, FakeApiServerConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// A fake server with a short bookmark interval and too-large-RV wait, for tests.
pub async fn server() -> FakeApiServer {
    server_with(FakeApiServerConfig {
        bookmark_interval_ms: 200,
        too_large_rv_wait_ms: 200,
        ..FakeApiServerConfig::default()
    })
    .await
}

pub async fn server_with(config: FakeApiServerConfig) -> FakeApiServer {
    FakeApiServer::start_with(config).await.unwrap()
}

pub fn pod(ns: &str, name: &str, app: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running"}
    })
}

pub fn event(ns: &str, name: &str, pod: &str, reason: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1"},
        "reason": reason, "message": format!("{reason} for {pod}"), "type": "Warning",
        "count": 1, "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": "2024-05-01T10:00:00Z",
        "source": {"component": "kubelet", "host": "n1"}
    })
}

pub fn rv_of(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {object}"))
}

pub fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// A plain HTTP client of one server.
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    pub fn new(server: &FakeApiServer) -> Self {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: server.url(),
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> hyper::Response<Incoming> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .expect("response within 10 s")
            .unwrap()
    }

    /// GET; the body parsed as JSON (`Value::Null` when it is not JSON).
    pub async fn get(&self, path: &str) -> (StatusCode, HeaderMap, Value) {
        let response = self
            .request(Method::GET, path, "application/json", None)
            .await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (parts.status, parts.headers, value)
    }

    /// GET whose body may be cut: `Err` carries the error.
    pub async fn get_raw(&self, path: &str) -> (StatusCode, Result<Bytes, String>) {
        let response = self
            .request(Method::GET, path, "application/json", None)
            .await;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| e.to_string());
        (parts.status, body)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let response = self.request(method, path, content_type, Some(body)).await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, "application/json", &json!({}))
            .await
    }

    /// Opens a watch.
    pub async fn watch(&self, path: &str) -> Watch {
        let response = self
            .request(Method::GET, path, "application/json", None)
            .await;
        let (parts, body) = response.into_parts();
        Watch {
            status: parts.status,
            headers: parts.headers,
            body,
            buf: Vec::new(),
        }
    }
}

/// What reading a watch gave.
#[derive(Debug)]
pub enum Next {
    /// One `{"type":..,"object":..}` frame.
    Frame(Value),
    /// The stream ended cleanly (final chunk).
    End,
    /// The connection broke mid-stream.
    Cut(String),
    /// Nothing within the time allowed.
    Timeout,
}

pub struct Watch {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
    buf: Vec<u8>,
}

impl Watch {
    pub async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(at) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=at).collect();
                return Next::Frame(serde_json::from_slice(&line).unwrap());
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return Next::Timeout,
                Ok(None) => {
                    assert!(self.buf.is_empty(), "partial frame at the end");
                    return Next::End;
                }
                Ok(Some(Err(e))) => return Next::Cut(e.to_string()),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The next frame, skipping bookmarks; panics on anything else.
    pub async fn event(&mut self) -> Value {
        loop {
            match self.next(Duration::from_secs(5)).await {
                Next::Frame(f) if f["type"] == "BOOKMARK" => continue,
                Next::Frame(f) => return f,
                other => panic!("expected an event, got {other:?}"),
            }
        }
    }

    /// `(type, name)` of the next `n` non-bookmark frames.
    pub async fn events(&mut self, n: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for _ in 0..n {
            let f = self.event().await;
            out.push((
                f["type"].as_str().unwrap().to_string(),
                f["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
        out
    }

    /// Asserts nothing but bookmarks arrive for `quiet`.
    pub async fn quiet(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Next::Timeout => return,
                Next::Frame(f) if f["type"] == "BOOKMARK" => continue,
                other => panic!("expected silence, got {other:?}"),
            }
        }
    }
}

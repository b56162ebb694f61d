//! `GET /metrics`: the aggregator's own series (`argus_aggregator_*`).

use axum::extract::State;
use axum::response::IntoResponse;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use super::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store.clone();
    let (parts, docs, bytes) = tokio::task::spawn_blocking(move || store.sizes())
        .await
        .unwrap_or((0, 0, 0));
    let s = &state.store.stats;
    let mut out = String::new();
    let rows: [(&str, &str, &str, u64); 10] = [
        (
            "argus_aggregator_ingested_records_total",
            "counter",
            "Log records accepted.",
            s.records_ingested.load(Relaxed),
        ),
        (
            "argus_aggregator_ingested_bytes_total",
            "counter",
            "Message bytes accepted.",
            s.bytes_ingested.load(Relaxed),
        ),
        (
            "argus_aggregator_duplicate_records_total",
            "counter",
            "Re-sent log records dropped by deduplication.",
            s.records_duplicate.load(Relaxed),
        ),
        (
            "argus_aggregator_expired_records_total",
            "counter",
            "Log records older than the retention, dropped.",
            s.records_expired.load(Relaxed),
        ),
        (
            "argus_aggregator_index_commits_total",
            "counter",
            "Index commits.",
            s.commits.load(Relaxed),
        ),
        (
            "argus_aggregator_index_errors_total",
            "counter",
            "Index errors (records stay in the write-ahead log).",
            s.index_errors.load(Relaxed),
        ),
        (
            "argus_aggregator_partitions",
            "gauge",
            "Log partitions on disk.",
            parts as u64,
        ),
        (
            "argus_aggregator_index_documents",
            "gauge",
            "Searchable log records.",
            docs,
        ),
        (
            "argus_aggregator_index_size_bytes",
            "gauge",
            "Bytes of the log store on disk.",
            bytes,
        ),
        (
            "argus_aggregator_up",
            "gauge",
            "1 while the aggregator serves.",
            1,
        ),
    ];
    for (name, kind, help, v) in rows {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        );
    }
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
}

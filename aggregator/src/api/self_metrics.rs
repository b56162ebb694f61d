//! `GET /metrics`: the aggregator's own series (`argus_aggregator_*`).

use axum::extract::State;
use axum::response::IntoResponse;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use super::AppState;

/// The event store's series: `argus_aggregator_events_*` and the search duration histogram.
async fn write_event_metrics(state: &AppState, out: &mut String) {
    let events = state.events.clone();
    let (docs, bytes) = tokio::task::spawn_blocking(move || events.sizes())
        .await
        .unwrap_or((0, 0));
    let s = &state.events.stats;
    let rows: [(&str, &str, &str, u64); 7] = [
        (
            "argus_aggregator_events_ingested_total",
            "counter",
            "Kubernetes event states stored (new events and newer states).",
            s.ingested.load(Relaxed),
        ),
        (
            "argus_aggregator_events_updated_total",
            "counter",
            "Stored event states that replaced an older state of the same event.",
            s.updated.load(Relaxed),
        ),
        (
            "argus_aggregator_events_ignored_total",
            "counter",
            "Event states dropped as older, re-sent or past retention.",
            s.ignored.load(Relaxed),
        ),
        (
            "argus_aggregator_events_index_commits_total",
            "counter",
            "Event index commits.",
            s.commits.load(Relaxed),
        ),
        (
            "argus_aggregator_events_index_errors_total",
            "counter",
            "Event index errors (events stay in the write-ahead log).",
            s.index_errors.load(Relaxed),
        ),
        (
            "argus_aggregator_events_stored",
            "gauge",
            "Searchable Kubernetes events (one per event uid).",
            docs,
        ),
        (
            "argus_aggregator_events_size_bytes",
            "gauge",
            "Bytes of the event store on disk.",
            bytes,
        ),
    ];
    for (name, kind, help, v) in rows {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        );
    }
    let name = "argus_aggregator_event_search_duration_seconds";
    let (counts, sum) = s.search_histogram();
    let _ = write!(
        out,
        "# HELP {name} Time spent answering event searches.\n# TYPE {name} histogram\n"
    );
    for (le, c) in crate::events::stats::SEARCH_BUCKETS.iter().zip(&counts) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {c}");
    }
    let total = counts.last().copied().unwrap_or(0);
    let _ = write!(
        out,
        "{name}_bucket{{le=\"+Inf\"}} {total}\n{name}_sum {sum}\n{name}_count {total}\n"
    );
}

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
    write_event_metrics(&state, &mut out).await;
    let db = state.metrics.clone();
    let st = tokio::task::spawn_blocking(move || db.stats())
        .await
        .unwrap_or_default();
    let tsdb: [(&str, &str, &str, f64); 4] = [
        (
            "argus_tsdb_head_series",
            "gauge",
            "Series in the metrics store.",
            st.series as f64,
        ),
        (
            "argus_tsdb_head_samples",
            "gauge",
            "Samples in the metrics store.",
            st.samples as f64,
        ),
        (
            "argus_tsdb_head_chunks",
            "gauge",
            "Compressed chunks in the metrics store.",
            st.chunks as f64,
        ),
        (
            "argus_tsdb_head_chunk_bytes",
            "gauge",
            "Bytes of compressed samples in the metrics store.",
            st.chunk_bytes as f64,
        ),
    ];
    for (name, kind, help, v) in tsdb {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        );
    }
    let _ = write!(
        out,
        "# HELP argus_scrape_target_up Whether the last scrape of a target succeeded.\n# TYPE argus_scrape_target_up gauge\n"
    );
    for t in state.scrape.targets() {
        let up = u8::from(t.status().health == argus_tsdb::scrape::Health::Up);
        let _ = writeln!(
            out,
            "argus_scrape_target_up{{job={:?},url={:?}}} {up}",
            t.job, t.url
        );
    }
    if let Some(r) = &state.rules {
        r.write_metrics(&mut out);
    }
    state.notifier.write_metrics(&mut out);
    for write in &state.in_process.health {
        write(&mut out);
    }
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
}

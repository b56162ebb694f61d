//! argus' central aggregator: it takes logs in over OTLP/HTTP and Loki's push API, stores
//! them durably in time-partitioned tantivy indexes, and answers searches over HTTP; it
//! keeps the cluster's Kubernetes events (sent by the watcher) in an event store.
//!
//! - [`ingest`]: protocol decoding.
//! - [`store`]: write-ahead log, dedup, partitions, indexer and search.
//! - [`events`]: the event store (one record per Event, upserted, searchable).
//! - [`discovery`]: the embedded scraper's collector-pod discovery.
//! - [`api`]: the HTTP API (ingest, search, tail, self-monitoring, web UI).
//! - [`Aggregator`]: the running component built from an [`AggregatorConfig`].

pub mod api;
pub mod config;
pub mod discovery;
pub mod events;
pub mod ingest;
pub mod memory;
pub mod notifier;
pub mod rules;
mod run;
pub mod store;

pub use config::AggregatorConfig;
pub use rules::AlertingConfig;
pub use run::Aggregator;

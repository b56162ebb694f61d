//! argus' PromQL engine: parses queries with `promql-parser` and evaluates the syntax tree
//! over a [`SeriesSource`](argus_core::series::SeriesSource) with the semantics of
//! Prometheus 2.42 (float samples only; native histograms are not supported).
//!
//! [`Engine::instant`] and [`Engine::range`] run queries; [`parse`] checks a query (for rule
//! files); [`Value::to_api_json`] renders a result as the `data` object of Prometheus' HTTP
//! API. The differential test in `tests/differential.rs` compares every result with a real
//! Prometheus 2.42 on the same data.

mod check;
pub use check::{depth_bound, MAX_NESTING};
mod engine;
mod error;
mod eval;
mod functions;
mod gomath;
mod value;

pub use engine::{Engine, EngineOptions};
pub use error::{Error, Result};
pub use value::{Value, VectorSample};

/// Parses and checks a query as Prometheus 2.42 would (for rule files): unknown functions,
/// syntax and type errors give [`Error::Parse`] with a Prometheus-like message.
pub fn parse(query: &str) -> Result<promql_parser::parser::Expr> {
    check::parse(query)
}

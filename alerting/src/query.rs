//! How rules run their queries: [`Querier`], implemented by argus' PromQL engine (over a
//! [`SeriesSource`]); a remote Prometheus API client can implement it too.

use argus_core::series::{Labels, SeriesSource};

/// One element of a rule's query result.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    pub labels: Labels,
    pub value: f64,
}

/// Runs an instant query for a rule, as Prometheus' `EngineQueryFunc`: a vector as it is,
/// a scalar as one sample without labels, anything else an error.
pub trait Querier: Send + Sync {
    fn query(
        &self,
        source: &dyn SeriesSource,
        expr: &str,
        t_ms: i64,
    ) -> Result<Vec<QuerySample>, String>;
}

impl Querier for argus_promql::Engine {
    fn query(
        &self,
        source: &dyn SeriesSource,
        expr: &str,
        t_ms: i64,
    ) -> Result<Vec<QuerySample>, String> {
        match self
            .instant(source, expr, t_ms)
            .map_err(|e| e.to_string())?
        {
            argus_promql::Value::Vector(v) => Ok(v
                .into_iter()
                .map(|s| QuerySample {
                    labels: s.labels,
                    value: s.v,
                })
                .collect()),
            argus_promql::Value::Scalar { v, .. } => Ok(vec![QuerySample {
                labels: Labels::default(),
                value: v,
            }]),
            _ => Err("rule result is not a vector or scalar".into()),
        }
    }
}

//! Recording rules (Prometheus' `RecordingRule.Eval`): the query's result renamed and
//! relabelled, checked for duplicate label sets and the group's limit.

use std::collections::{BTreeMap, HashSet};

use argus_core::series::Labels;

use super::{EvalContext, RuleStatus};

/// A recording rule.
#[derive(Debug, Clone)]
pub struct RecordingRule {
    /// The series written.
    pub name: String,
    /// The expression as written.
    pub expr: String,
    /// The expression as Prometheus prints it (the API's `query`).
    pub query: String,
    pub labels: BTreeMap<String, String>,
    pub status: RuleStatus,
}

impl RecordingRule {
    /// Evaluates the rule at `ts`; returns the samples to write.
    pub fn eval(
        &self,
        ts: i64,
        ctx: &EvalContext,
        limit: usize,
    ) -> Result<Vec<(Labels, f64)>, String> {
        let res = ctx.querier.query(ctx.source, &self.expr, ts)?;
        let mut out = Vec::with_capacity(res.len());
        let mut seen = HashSet::with_capacity(res.len());
        for s in res {
            let mut l = s.labels;
            l.set("__name__", &self.name);
            for (k, v) in &self.labels {
                l.set(k, v);
            }
            if !seen.insert(l.clone()) {
                return Err(
                    "vector contains metrics with the same labelset after applying rule labels"
                        .into(),
                );
            }
            out.push((l, s.value));
        }
        if limit > 0 && out.len() > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                out.len()
            ));
        }
        Ok(out)
    }
}

//! Turns a [`LogQuery`] into a tantivy query over the event index. Matchers on the event
//! labels are raw-term clauses (as the log store's), a matcher on a label events do not
//! have compares with `""` (Prometheus' absent label): it matches everything or nothing;
//! line filters and free text use the log store's message planning unchanged.

use argus_core::query::LogQuery;
use std::sync::Arc;
use tantivy::query::{EmptyQuery, Occur, Query};

use super::schema::{label_field, EventFields};
use crate::store::plan::{conjunction, matcher_clause, message_clauses, time_range, Verify};

/// A query plan over the event index.
pub struct EventPlan {
    pub query: Box<dyn Query>,
    pub verify: Verify,
    /// What verification must still check: the line filters, free text and the matchers
    /// the index could not answer exactly.
    pub check: Arc<LogQuery>,
}

/// Builds the plan for `q` over timestamps in `[start_ns, end_ns]`.
pub fn build(f: &EventFields, q: &LogQuery, start_ns: i64, end_ns: i64) -> EventPlan {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, time_range(f.timestamp, start_ns, end_ns))];
    let mut verify = Verify::None;
    let mut unverified = Vec::new();
    for m in &q.matchers {
        match label_field(f, &m.name) {
            Some(field) => match matcher_clause(field, "", m) {
                Some(c) => clauses.push(c),
                None => {
                    unverified.push(m.clone());
                    verify.need(Verify::All);
                }
            },
            None if m.matches_empty() => {}
            None => clauses.push((Occur::Must, Box::new(EmptyQuery))),
        }
    }
    message_clauses(&f.text, q, &mut clauses, &mut verify);
    EventPlan {
        query: conjunction(clauses),
        verify,
        check: Arc::new(LogQuery {
            matchers: unverified,
            filters: q.filters.clone(),
            free: q.free.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::schema;

    fn plan(q: &str) -> EventPlan {
        let (_, f) = schema::build();
        build(&f, &argus_core::query::parse(q).expect("query"), 0, 1)
    }

    #[test]
    fn event_labels_are_answered_by_the_index() {
        // (query, verify, matchers left to verification)
        let cases: &[(&str, Verify, usize)] = &[
            (r#"{namespace="my-app", reason="BackOff"}"#, Verify::None, 0),
            (
                r#"{kind="Pod", name!="x", type=~"Warn.*", source!~"|kubelet.*"}"#,
                Verify::None,
                0,
            ),
            (r#"{source!~"kubelet.*"}"#, Verify::All, 1),
            (r#"{type=""}"#, Verify::All, 1),
            (r#"{reason=~"Back.*|"}"#, Verify::All, 1),
            (r#"{pod="x"}"#, Verify::None, 0),
            (r#"{pod=""}"#, Verify::None, 0),
            (r#"{type="Warning"} |= "probe""#, Verify::LongTokens, 0),
            (r#"{type="Warning"} |= "probe failed""#, Verify::All, 0),
            (r#"{} |~ "dial tcp \\d+""#, Verify::All, 0),
            ("readiness -liveness", Verify::LongTokens, 0),
            (r#""connection refused""#, Verify::All, 0),
        ];
        for &(q, verify, left) in cases {
            let p = plan(q);
            assert_eq!(p.verify, verify, "{q}");
            assert_eq!(p.check.matchers.len(), left, "{q}");
        }
    }
}

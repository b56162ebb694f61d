//! Turns a [`LogQuery`] into a tantivy query that finds the candidates, and says which
//! candidates must be verified exactly against the stored record. Label matchers and
//! one-word filters are answered exactly by the index (the message index is
//! case-sensitive, so a term containing the word means the line contains it); phrases,
//! regex line filters and matchers that match the empty string are verified.

use argus_core::query::{FilterOp, LogQuery, MatchOp};
use std::ops::Bound;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::schema::{Fields, LONG_TOKEN_MARK, MAX_TOKEN_BYTES};

/// Which candidates need an exact check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// The index answers exactly.
    None,
    /// Only documents with an over-long token (not in the index).
    LongTokens,
    /// Every candidate.
    All,
}

/// A query plan for one partition schema.
pub struct Plan {
    pub query: Box<dyn Query>,
    pub verify: Verify,
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn regex(field: Field, pattern: &str) -> Option<Box<dyn Query>> {
    RegexQuery::from_pattern(pattern, field)
        .ok()
        .map(|q| Box::new(q) as Box<dyn Query>)
}

fn or_long(fields: &Fields, q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, q),
        (Occur::Should, term(fields.message, LONG_TOKEN_MARK)),
    ]))
}

fn label_field(f: &Fields, name: &str) -> Option<Field> {
    Some(match name {
        "namespace" => f.namespace,
        "pod" => f.pod,
        "container" => f.container,
        "node" => f.node,
        "stream" => f.stream,
        "level" => f.level,
        _ => return None,
    })
}

/// Builds the plan for `q` over `[start_ns, end_ns]`.
pub fn build(f: &Fields, q: &LogQuery, start_ns: i64, end_ns: i64) -> Plan {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.timestamp, start_ns)),
            Bound::Included(Term::from_field_i64(f.timestamp, end_ns)),
        )),
    )];
    let mut verify = Verify::None;
    let need = |v: Verify, verify: &mut Verify| {
        if v == Verify::All || *verify == Verify::None {
            *verify = v;
        }
    };
    for m in &q.matchers {
        let (field, prefix) = match label_field(f, &m.name) {
            Some(field) => (field, String::new()),
            None => (f.labels, format!("{}=", m.name)),
        };
        let empty = m.matches_empty();
        let re = || regex(field, &format!("{}(?:{})", regex::escape(&prefix), m.value));
        match m.op {
            MatchOp::Eq if !m.value.is_empty() => {
                clauses.push((Occur::Must, term(field, &format!("{prefix}{}", m.value))))
            }
            MatchOp::Neq if !m.value.is_empty() => {
                clauses.push((Occur::MustNot, term(field, &format!("{prefix}{}", m.value))))
            }
            MatchOp::Re if !empty => match re() {
                Some(r) => clauses.push((Occur::Must, r)),
                None => need(Verify::All, &mut verify),
            },
            MatchOp::Nre if !empty => match re() {
                Some(r) => clauses.push((Occur::MustNot, r)),
                None => need(Verify::All, &mut verify),
            },
            _ => need(Verify::All, &mut verify),
        }
    }
    for filter in &q.filters {
        let text = filter.text.as_str();
        let single = argus_core::text::is_single_token(text) && text.len() <= MAX_TOKEN_BYTES;
        match filter.op {
            FilterOp::Contains if single => {
                match regex(f.message, &format!(".*{}.*", regex::escape(text))) {
                    Some(r) => {
                        clauses.push((Occur::Must, or_long(f, r)));
                        need(Verify::LongTokens, &mut verify);
                    }
                    None => need(Verify::All, &mut verify),
                }
            }
            FilterOp::NotContains if single => {
                match regex(f.message, &format!(".*{}.*", regex::escape(text))) {
                    Some(r) => {
                        clauses.push((Occur::MustNot, r));
                        need(Verify::LongTokens, &mut verify);
                    }
                    None => need(Verify::All, &mut verify),
                }
            }
            FilterOp::Contains => {
                for (off, tok) in argus_core::text::tokens(text) {
                    if tok.len() > MAX_TOKEN_BYTES {
                        continue;
                    }
                    let open_start = off == 0;
                    let open_end = off + tok.len() == text.len();
                    let e = regex::escape(tok);
                    let pat = match (open_start, open_end) {
                        (true, true) => format!(".*{e}.*"),
                        (true, false) => format!(".*{e}"),
                        (false, true) => format!("{e}.*"),
                        (false, false) => e,
                    };
                    if let Some(r) = regex(f.message, &pat) {
                        clauses.push((Occur::Must, or_long(f, r)));
                    }
                }
                need(Verify::All, &mut verify);
            }
            _ => need(Verify::All, &mut verify),
        }
    }
    for t in &q.free {
        let long = t.tokens.iter().any(|tok| tok.len() > MAX_TOKEN_BYTES);
        if t.tokens.is_empty() || long {
            need(Verify::All, &mut verify);
            continue;
        }
        let word = |tok: &str| regex(f.message, &format!("(?i){}", regex::escape(tok)));
        match (t.tokens.len(), t.negated) {
            (1, false) => match word(&t.tokens[0]) {
                Some(r) => {
                    clauses.push((Occur::Must, or_long(f, r)));
                    need(Verify::LongTokens, &mut verify);
                }
                None => need(Verify::All, &mut verify),
            },
            (1, true) => match word(&t.tokens[0]) {
                Some(r) => {
                    clauses.push((Occur::MustNot, r));
                    need(Verify::LongTokens, &mut verify);
                }
                None => need(Verify::All, &mut verify),
            },
            (_, false) => {
                for tok in &t.tokens {
                    if let Some(r) = word(tok) {
                        clauses.push((Occur::Must, or_long(f, r)));
                    }
                }
                need(Verify::All, &mut verify);
            }
            (_, true) => need(Verify::All, &mut verify),
        }
    }
    let query: Box<dyn Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    };
    Plan { query, verify }
}

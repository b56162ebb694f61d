//! Turns a [`LogQuery`] into a tantivy query that finds the candidates, and says which
//! candidates must be verified exactly against the stored record. Label matchers and
//! one-word filters are answered exactly by the index (the message index is
//! case-sensitive, so a term containing the word means the line contains it); phrases,
//! regex line filters and matchers that match the empty string are verified. A filter
//! with `token=token` in its literal text narrows with the partition's `key=value` pair
//! terms where it has them (see [`super::schema::LogTokenizer`]); partitions written
//! before them are planned with the message tokens alone.

use argus_core::query::{FilterOp, LabelMatcher, LogQuery, MatchOp};
use std::ops::Bound;
use std::sync::Arc;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::schema::{is_hex_token, Fields, TextFields, LONG_TOKEN_MARK, MAX_TOKEN_BYTES};

mod terms;
#[cfg(test)]
mod tests;

use terms::{regex_terms, substring_exact, substring_pairs};

/// Which candidates need an exact check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// The index answers exactly.
    None,
    /// Only documents with an over-long token (not in the index), and those that match
    /// [`Plan::marked`].
    LongTokens,
    /// Every candidate.
    All,
}

/// A query plan for one partition schema.
pub struct Plan {
    pub query: Box<dyn Query>,
    pub verify: Verify,
    /// Matchers on the column labels (node, stream, level), checked while collecting.
    pub columns: Vec<LabelMatcher>,
    /// What verification must still check: the line filters, free text, and the matchers
    /// the index could not answer exactly.
    pub check: Arc<LogQuery>,
    /// With [`Verify::LongTokens`], the other documents to verify: those with a pair value
    /// too long for the index on a key that a pair filter names (`\u{2}status=\u{1}`).
    pub marked: Option<Box<dyn Query>>,
}

/// Labels kept in columns rather than as terms (see [`Fields::node`]).
pub const COLUMN_LABELS: [&str; 3] = ["node", "stream", "level"];

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

/// A regex over the message terms that can match it: a pattern around a token with a
/// non-hex character can only match word terms; otherwise both dictionaries are searched.
/// `closed` says the pattern is the token itself (no `.*`), whose class decides alone.
fn message_regex(f: &TextFields, tok: &str, pattern: &str, closed: bool) -> Option<Box<dyn Query>> {
    let hex = is_hex_token(tok);
    if closed || !hex {
        return regex(if hex { f.message_hex } else { f.message }, pattern);
    }
    let words = regex(f.message, pattern)?;
    let hexes = regex(f.message_hex, pattern)?;
    Some(Box::new(BooleanQuery::new(vec![
        (Occur::Should, words),
        (Occur::Should, hexes),
    ])))
}

/// The exact message term `tok`.
fn message_term(f: &TextFields, tok: &str) -> Box<dyn Query> {
    term(
        if is_hex_token(tok) {
            f.message_hex
        } else {
            f.message
        },
        tok,
    )
}

/// What the index can do for one line filter.
struct FilterClauses {
    /// Clauses every matching line satisfies.
    must: Vec<Box<dyn Query>>,
    /// When `must` answers the filter exactly but for over-long tokens and the documents of
    /// this query (see [`Plan::marked`]).
    marked: Option<Box<dyn Query>>,
}

/// Candidate clauses for a substring that must occur in the message: each token of it, the
/// first one open to the left and the last open to the right. Where the partition has pair
/// terms, two tokens joined by `=` become one pair clause instead (it implies both); a
/// substring that is exactly one pair is answered exactly ([`FilterClauses::marked`]).
fn substring_clauses(f: &TextFields, text: &str) -> FilterClauses {
    let toks: Vec<(usize, &str)> = argus_core::text::tokens(text).collect();
    let mut covered = vec![false; toks.len()];
    let mut out = Vec::new();
    let mut marked = None;
    if let Some(pairs) = f.pairs {
        let mut added = 0;
        for (pat, [k, v]) in substring_pairs(text, &toks) {
            if let Some(q) = regex(pairs, &pat) {
                out.push(or_long(f, q));
                covered[k] = true;
                covered[v] = true;
                added += 1;
            }
        }
        marked = substring_exact(text, &toks, added).and_then(|m| regex(pairs, &m));
    }
    for (i, (off, tok)) in toks.into_iter().enumerate() {
        if tok.len() > MAX_TOKEN_BYTES || covered[i] {
            continue;
        }
        let open_start = off == 0;
        let open_end = off + tok.len() == text.len();
        let e = regex::escape(tok);
        let q = match (open_start, open_end) {
            (true, true) => message_regex(f, tok, &format!(".*{e}.*"), false),
            (true, false) => message_regex(f, tok, &format!(".*{e}"), false),
            (false, true) => message_regex(f, tok, &format!("{e}.*"), false),
            (false, false) => Some(message_term(f, tok)),
        };
        if let Some(q) = q {
            out.push(or_long(f, q));
        }
    }
    FilterClauses { must: out, marked }
}

/// Candidate clauses for a regex line filter (see [`terms::RegexTerms`]): the pair clauses
/// where the partition has pair terms, and the token clauses of the runs they do not
/// cover; a regex that is exactly one pair is answered exactly ([`FilterClauses::marked`]).
fn regex_clauses(f: &TextFields, re: &str) -> FilterClauses {
    let terms = regex_terms(re);
    let mut out = Vec::new();
    let mut covered = Vec::new();
    let mut marked = None;
    if let Some(pairs) = f.pairs {
        for (pat, runs) in &terms.pairs {
            if let Some(q) = regex(pairs, pat) {
                out.push(or_long(f, q));
                covered.extend_from_slice(runs);
            }
        }
        if out.len() == 1 {
            marked = terms.exact.as_deref().and_then(|m| regex(pairs, m));
        }
    }
    for (pat, word, run) in terms.tokens {
        if covered.contains(&run) {
            continue;
        }
        let q = if word {
            regex(f.message, &pat)
        } else {
            match (regex(f.message, &pat), regex(f.message_hex, &pat)) {
                (Some(a), Some(b)) => Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Should, a),
                    (Occur::Should, b),
                ])) as Box<dyn Query>),
                _ => None,
            }
        };
        if let Some(q) = q {
            out.push(or_long(f, q));
        }
    }
    FilterClauses { must: out, marked }
}

fn or_long(fields: &TextFields, q: Box<dyn Query>) -> Box<dyn Query> {
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
        _ => return None,
    })
}

impl Verify {
    /// Raises the requirement to `v` (`All` wins over `LongTokens` over `None`).
    pub fn need(&mut self, v: Verify) {
        if v == Verify::All || *self == Verify::None {
            *self = v;
        }
    }
}

/// `start_ns <= field <= end_ns` on an i64 fast field.
pub fn time_range(field: Field, start_ns: i64, end_ns: i64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_i64(field, start_ns)),
        Bound::Included(Term::from_field_i64(field, end_ns)),
    ))
}

/// The clause that answers a label matcher exactly from a raw-term field whose terms are
/// `<prefix><value>`; `None` when the index cannot (the matcher matches the empty string,
/// which absent values also do, or its regex does not compile for the term dictionary):
/// then candidates must be verified.
pub fn matcher_clause(
    field: Field,
    prefix: &str,
    m: &LabelMatcher,
) -> Option<(Occur, Box<dyn Query>)> {
    let empty = m.matches_empty();
    let re = || regex(field, &format!("{}(?:{})", regex::escape(prefix), m.value));
    match m.op {
        MatchOp::Eq if !m.value.is_empty() => {
            Some((Occur::Must, term(field, &format!("{prefix}{}", m.value))))
        }
        MatchOp::Neq if !m.value.is_empty() => {
            Some((Occur::MustNot, term(field, &format!("{prefix}{}", m.value))))
        }
        MatchOp::Re if !empty => re().map(|r| (Occur::Must, r)),
        MatchOp::Nre if !empty => re().map(|r| (Occur::MustNot, r)),
        _ => None,
    }
}

/// Adds the candidate clauses of the line filters and free-text terms of `q` over the
/// message fields, raising `verify` to what the index cannot answer exactly.
pub fn message_clauses(
    f: &TextFields,
    q: &LogQuery,
    clauses: &mut Vec<(Occur, Box<dyn Query>)>,
    verify: &mut Verify,
) {
    let mut marked = Vec::new();
    message_clauses_marked(f, q, clauses, verify, &mut marked);
    if !marked.is_empty() {
        // The caller has no way to verify only the marked documents.
        verify.need(Verify::All);
    }
}

/// [`message_clauses`], with the queries of the documents that [`Verify::LongTokens`]
/// must verify besides those with over-long tokens (see [`Plan::marked`]).
fn message_clauses_marked(
    f: &TextFields,
    q: &LogQuery,
    clauses: &mut Vec<(Occur, Box<dyn Query>)>,
    verify: &mut Verify,
    marked: &mut Vec<Box<dyn Query>>,
) {
    for filter in &q.filters {
        let text = filter.text.as_str();
        let single = argus_core::text::is_single_token(text) && text.len() <= MAX_TOKEN_BYTES;
        match filter.op {
            FilterOp::Contains if single => {
                match message_regex(f, text, &format!(".*{}.*", regex::escape(text)), false) {
                    Some(r) => {
                        clauses.push((Occur::Must, or_long(f, r)));
                        verify.need(Verify::LongTokens);
                    }
                    None => verify.need(Verify::All),
                }
            }
            FilterOp::NotContains if single => {
                match message_regex(f, text, &format!(".*{}.*", regex::escape(text)), false) {
                    Some(r) => {
                        clauses.push((Occur::MustNot, r));
                        verify.need(Verify::LongTokens);
                    }
                    None => verify.need(Verify::All),
                }
            }
            FilterOp::Contains | FilterOp::Regex => {
                let fc = if filter.op == FilterOp::Contains {
                    substring_clauses(f, text)
                } else {
                    regex_clauses(f, text)
                };
                clauses.extend(fc.must.into_iter().map(|c| (Occur::Must, c)));
                match fc.marked {
                    Some(m) => {
                        marked.push(m);
                        verify.need(Verify::LongTokens);
                    }
                    None => verify.need(Verify::All),
                }
            }
            _ => verify.need(Verify::All),
        }
    }
    for t in &q.free {
        let long = t.tokens.iter().any(|tok| tok.len() > MAX_TOKEN_BYTES);
        if t.tokens.is_empty() || long {
            verify.need(Verify::All);
            continue;
        }
        let word = |tok: &str| message_regex(f, tok, &format!("(?i){}", regex::escape(tok)), true);
        match (t.tokens.len(), t.negated) {
            (1, false) => match word(&t.tokens[0]) {
                Some(r) => {
                    clauses.push((Occur::Must, or_long(f, r)));
                    verify.need(Verify::LongTokens);
                }
                None => verify.need(Verify::All),
            },
            (1, true) => match word(&t.tokens[0]) {
                Some(r) => {
                    clauses.push((Occur::MustNot, r));
                    verify.need(Verify::LongTokens);
                }
                None => verify.need(Verify::All),
            },
            (_, false) => {
                for tok in &t.tokens {
                    if let Some(r) = word(tok) {
                        clauses.push((Occur::Must, or_long(f, r)));
                    }
                }
                verify.need(Verify::All);
            }
            (_, true) => verify.need(Verify::All),
        }
    }
}

/// The conjunction of `clauses` (everything when there are none).
pub fn conjunction(clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    }
}

/// Builds the plan for `q` over `[start_ns, end_ns]`.
pub fn build(f: &Fields, q: &LogQuery, start_ns: i64, end_ns: i64) -> Plan {
    let mut clauses = vec![(Occur::Must, time_range(f.timestamp, start_ns, end_ns))];
    let mut verify = Verify::None;
    let mut columns = Vec::new();
    let mut unverified = Vec::new();
    for m in &q.matchers {
        if COLUMN_LABELS.contains(&m.name.as_str()) {
            columns.push(m.clone());
            continue;
        }
        let (field, prefix) = match label_field(f, &m.name) {
            Some(field) => (field, String::new()),
            None => (f.labels, format!("{}=", m.name)),
        };
        match matcher_clause(field, &prefix, m) {
            Some(c) => clauses.push(c),
            None => {
                unverified.push(m.clone());
                verify.need(Verify::All);
            }
        }
    }
    let mut marked = Vec::new();
    message_clauses_marked(&f.text(), q, &mut clauses, &mut verify, &mut marked);
    let marked = (!marked.is_empty()).then(|| {
        Box::new(BooleanQuery::new(
            marked.into_iter().map(|m| (Occur::Should, m)).collect(),
        )) as Box<dyn Query>
    });
    Plan {
        query: conjunction(clauses),
        verify,
        columns,
        check: Arc::new(LogQuery {
            matchers: unverified,
            filters: q.filters.clone(),
            free: q.free.clone(),
        }),
        marked,
    }
}

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

use super::schema::{is_hex_token, Fields, LONG_TOKEN_MARK, MAX_TOKEN_BYTES};

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

/// A regex over the message terms that can match it: a pattern around a token with a
/// non-hex character can only match word terms; otherwise both dictionaries are searched.
/// `closed` says the pattern is the token itself (no `.*`), whose class decides alone.
fn message_regex(f: &Fields, tok: &str, pattern: &str, closed: bool) -> Option<Box<dyn Query>> {
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
fn message_term(f: &Fields, tok: &str) -> Box<dyn Query> {
    term(
        if is_hex_token(tok) {
            f.message_hex
        } else {
            f.message
        },
        tok,
    )
}

/// Candidate clauses for a substring that must occur in the message: each token of it, the
/// first one open to the left and the last open to the right.
fn substring_clauses(f: &Fields, text: &str) -> Vec<Box<dyn Query>> {
    let mut out = Vec::new();
    for (off, tok) in argus_core::text::tokens(text) {
        if tok.len() > MAX_TOKEN_BYTES {
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
    out
}

/// Literal runs every match of `re` must contain (top-level concatenation only).
fn required_literals(re: &str) -> Vec<String> {
    use regex_syntax::hir::{Hir, HirKind};
    let Ok(hir) = regex_syntax::Parser::new().parse(re) else {
        return Vec::new();
    };
    fn lit(h: &Hir) -> Option<&[u8]> {
        match h.kind() {
            HirKind::Literal(l) => Some(&l.0),
            _ => None,
        }
    }
    let parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(v) => v.iter().collect(),
        HirKind::Literal(_) => vec![&hir],
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    for p in parts {
        match lit(p) {
            Some(b) => run.extend_from_slice(b),
            None => {
                if let Ok(s) = String::from_utf8(std::mem::take(&mut run)) {
                    out.push(s);
                }
            }
        }
    }
    if let Ok(s) = String::from_utf8(run) {
        out.push(s);
    }
    out.retain(|s| argus_core::text::tokens(s).next().is_some());
    out
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
                match message_regex(f, text, &format!(".*{}.*", regex::escape(text)), false) {
                    Some(r) => {
                        clauses.push((Occur::Must, or_long(f, r)));
                        need(Verify::LongTokens, &mut verify);
                    }
                    None => need(Verify::All, &mut verify),
                }
            }
            FilterOp::NotContains if single => {
                match message_regex(f, text, &format!(".*{}.*", regex::escape(text)), false) {
                    Some(r) => {
                        clauses.push((Occur::MustNot, r));
                        need(Verify::LongTokens, &mut verify);
                    }
                    None => need(Verify::All, &mut verify),
                }
            }
            FilterOp::Contains => {
                for c in substring_clauses(f, text) {
                    clauses.push((Occur::Must, c));
                }
                need(Verify::All, &mut verify);
            }
            FilterOp::Regex => {
                for lit in required_literals(text) {
                    for c in substring_clauses(f, &lit) {
                        clauses.push((Occur::Must, c));
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
        let word = |tok: &str| message_regex(f, tok, &format!("(?i){}", regex::escape(tok)), true);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_literals_of_regexes() {
        assert_eq!(required_literals(r"status=5\d\d"), ["status=5"]);
        assert_eq!(
            required_literals(r"GET /api/.*timeout"),
            ["GET /api/", "timeout"]
        );
        assert!(required_literals(r"error|warn").is_empty());
        assert!(required_literals(r"(?i)error").is_empty());
        assert!(required_literals(r"\d+").is_empty());
        assert!(required_literals(r"(").is_empty());
    }
}

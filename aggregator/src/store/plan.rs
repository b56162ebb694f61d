//! Turns a [`LogQuery`] into a tantivy query that finds the candidates, and says which
//! candidates must be verified exactly against the stored record. Label matchers and
//! one-word filters are answered exactly by the index (the message index is
//! case-sensitive, so a term containing the word means the line contains it); phrases,
//! regex line filters and matchers that match the empty string are verified.

use argus_core::query::{FilterOp, LabelMatcher, LogQuery, MatchOp};
use std::ops::Bound;
use std::sync::Arc;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::schema::{is_hex_token, Fields, TextFields, LONG_TOKEN_MARK, MAX_TOKEN_BYTES};

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
    /// Matchers on the column labels (node, stream, level), checked while collecting.
    pub columns: Vec<LabelMatcher>,
    /// What verification must still check: the line filters, free text, and the matchers
    /// the index could not answer exactly.
    pub check: Arc<LogQuery>,
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

/// Candidate clauses for a substring that must occur in the message: each token of it, the
/// first one open to the left and the last open to the right.
fn substring_clauses(f: &TextFields, text: &str) -> Vec<Box<dyn Query>> {
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

/// One element of a regex seen as a sequence of characters.
enum Atom {
    /// A literal character.
    Char(char),
    /// A class or repetition that only matches token characters, as regex text.
    TokenClass(String),
    /// Anything else: may or may not split tokens.
    Unknown,
}

/// Whether every character of a (small) class is a token character.
fn class_is_token_only(c: &regex_syntax::hir::Class) -> bool {
    use regex_syntax::hir::Class;
    match c {
        Class::Unicode(u) => u.ranges().iter().all(|r| {
            let (a, b) = (r.start() as u32, r.end() as u32);
            b - a <= 1024
                && (a..=b).all(|x| char::from_u32(x).is_none_or(argus_core::text::is_token_char))
        }),
        Class::Bytes(by) => by.ranges().iter().all(|r| {
            (r.start()..=r.end()).all(|x| x < 0x80 && argus_core::text::is_token_char(x as char))
        }),
    }
}

fn atoms(h: &regex_syntax::hir::Hir, out: &mut Vec<Atom>) {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Concat(v) => v.iter().for_each(|x| atoms(x, out)),
        HirKind::Capture(c) => match c.sub.kind() {
            HirKind::Concat(_) | HirKind::Literal(_) => atoms(&c.sub, out),
            _ => atoms_single(&c.sub, out),
        },
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => out.extend(s.chars().map(Atom::Char)),
            Err(_) => out.push(Atom::Unknown),
        },
        _ => atoms_single(h, out),
    }
}

fn atoms_single(h: &regex_syntax::hir::Hir, out: &mut Vec<Atom>) {
    use regex_syntax::hir::HirKind;
    let token_only = match h.kind() {
        HirKind::Class(c) => class_is_token_only(c),
        HirKind::Repetition(r) => {
            matches!(r.sub.kind(), HirKind::Class(c) if class_is_token_only(c))
        }
        _ => false,
    };
    out.push(if token_only {
        Atom::TokenClass(h.to_string())
    } else {
        Atom::Unknown
    });
}

/// Term regexes every match of the line regex `re` implies: each run of token characters
/// with at least one literal character becomes a regex over the message terms, open on a
/// side unless a literal separator bounds it there. `status=5\d\d` gives `.*status` and
/// `5[0-9][0-9].*`.
fn regex_term_patterns(re: &str) -> Vec<(String, bool)> {
    let Ok(hir) = regex_syntax::Parser::new().parse(re) else {
        return Vec::new();
    };
    let mut seq = Vec::new();
    atoms(&hir, &mut seq);
    if !matches!(
        hir.kind(),
        regex_syntax::hir::HirKind::Concat(_) | regex_syntax::hir::HirKind::Literal(_)
    ) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        let is_tok = |a: &Atom| match a {
            Atom::Char(c) => argus_core::text::is_token_char(*c),
            Atom::TokenClass(_) => true,
            Atom::Unknown => false,
        };
        if !is_tok(&seq[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < seq.len() && is_tok(&seq[i]) {
            i += 1;
        }
        let closed_left = start > 0 && matches!(seq[start - 1], Atom::Char(_));
        let closed_right = i < seq.len() && matches!(seq[i], Atom::Char(_));
        let mut pat = String::new();
        let mut literal = false;
        let mut word = false;
        for a in &seq[start..i] {
            match a {
                Atom::Char(c) => {
                    literal = true;
                    word |= !c.is_ascii_hexdigit();
                    pat.push_str(&regex::escape(c.encode_utf8(&mut [0u8; 4])));
                }
                Atom::TokenClass(t) => pat.push_str(&format!("(?:{t})")),
                Atom::Unknown => {}
            }
        }
        if !literal {
            continue;
        }
        let pat = format!(
            "{}{pat}{}",
            if closed_left { "" } else { ".*" },
            if closed_right { "" } else { ".*" }
        );
        out.push((pat, word));
    }
    out
}

/// Candidate clauses for a regex line filter (see [`regex_term_patterns`]).
fn regex_clauses(f: &TextFields, re: &str) -> Vec<Box<dyn Query>> {
    let mut out = Vec::new();
    for (pat, word) in regex_term_patterns(re) {
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
    out
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
            FilterOp::Contains => {
                for c in substring_clauses(f, text) {
                    clauses.push((Occur::Must, c));
                }
                verify.need(Verify::All);
            }
            FilterOp::Regex => {
                for c in regex_clauses(f, text) {
                    clauses.push((Occur::Must, c));
                }
                verify.need(Verify::All);
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
    message_clauses(&f.text(), q, &mut clauses, &mut verify);
    Plan {
        query: conjunction(clauses),
        verify,
        columns,
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

    #[test]
    fn term_patterns_of_regexes() {
        let pats = |re: &str| {
            regex_term_patterns(re)
                .into_iter()
                .map(|p| p.0)
                .collect::<Vec<_>>()
        };
        let full = |p: &str| regex::Regex::new(&format!("^(?:{p})$")).expect("valid term regex");
        let p = pats(r"status=5\d\d");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], ".*status");
        let p1 = full(&p[1]);
        for t in ["503", "5031", "5٠٣"] {
            assert!(p1.is_match(t), "{t}");
        }
        for t in ["404", "5", "50", "x503"] {
            assert!(!p1.is_match(t), "{t}");
        }
        assert_eq!(pats(r"GET /api/.*timeout"), [".*GET", "api", ".*timeout.*"]);
        let p = pats(r"took \d+ms");
        assert_eq!(p[0], ".*took");
        assert!(
            full(&p[1]).is_match("12ms")
                && full(&p[1]).is_match("12msx")
                && !full(&p[1]).is_match("ms")
        );
        assert!(pats(r"error|warn").is_empty());
        assert!(pats(r"\d+").is_empty());
        assert!(pats(r"(").is_empty());
        assert!(pats(r"(?i)err").is_empty());
    }
}

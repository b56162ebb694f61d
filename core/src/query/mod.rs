//! argus' log query language: a LogQL log query (stream selector plus line filters) or
//! free text over the message.
//!
//! # LogQL form
//!
//! A query starting with `{` (after leading whitespace) is a LogQL log query:
//!
//! ```text
//! {namespace="prod", app.kubernetes.io/name=~"api|web", level!="debug"} |= "timeout" !~ `retry \d+`
//! ```
//!
//! - label matchers `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`, separated by `,`
//!   (a trailing `,` is accepted, as in PromQL); `{}` matches every record. Label names
//!   are `[a-zA-Z_][a-zA-Z0-9_./-]*`. An absent label behaves as the empty string, as in
//!   Prometheus: `{x=""}` and `{x!="a"}` match records without `x`. Label regexes are
//!   fully anchored (`^(?:re)$`).
//! - line filters `|= "text"` / `!= "text"` (case-sensitive substring) and `|~ "re"` /
//!   `!~ "re"` (unanchored regex, matches anywhere in the message).
//! - strings are double-quoted with the escapes `\"`, `\\`, `\n`, `\t`, `\r`, `\a`, `\b`,
//!   `\f`, `\v`, `\uXXXX` and `\UXXXXXXXX`, or backtick-quoted raw strings without escapes.
//!   Regexes use the syntax of the `regex` crate (RE2-like).
//!
//! # Free text
//!
//! Any other query is free text: whitespace-separated words that must all occur in the
//! message, `"quoted phrases"` whose tokens must occur consecutively, and `-word` /
//! `-"phrase"` exclusions. Matching is by whole tokens (see [`crate::text::tokens`]) and
//! case-insensitive; a word made of several tokens (`user-42`, `10.0.0.1`) is a phrase.
//! Words without any token (`-`, `"..."`) are ignored and an empty query matches
//! everything.

mod matcher;
mod parse;

use std::fmt;
use std::str::FromStr;

pub use parse::parse;

/// A parsed query: either label matchers plus line filters, or free-text terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogQuery {
    /// The stream selector's label matchers; all must match.
    pub matchers: Vec<LabelMatcher>,
    /// Line filters applied to the message, in query order; all must match.
    pub filters: Vec<LineFilter>,
    /// Free-text terms; non-empty only for free-text queries.
    pub free: Vec<FreeTerm>,
}

/// One label matcher of a stream selector, such as `namespace=~"prod|staging"`.
///
/// Build it with [`LabelMatcher::new`] (or [`parse`]), which compiles the regex; the
/// public fields are meant for inspection.
#[derive(Debug, Clone)]
pub struct LabelMatcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or, for [`MatchOp::Re`] / [`MatchOp::Nre`], the regex as written.
    pub value: String,
    /// `^(?:value)$`, compiled, for `Re` / `Nre`.
    regex: Option<regex::Regex>,
}

/// The comparison of a [`LabelMatcher`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MatchOp {
    /// `=`: equal.
    Eq,
    /// `!=`: not equal.
    Neq,
    /// `=~`: the whole value matches the regex.
    Re,
    /// `!~`: the whole value does not match the regex.
    Nre,
}

/// One line filter, such as `|= "timeout"`.
///
/// Build it with [`LineFilter::new`] (or [`parse`]), which compiles the regex; the public
/// fields are meant for inspection.
#[derive(Debug, Clone)]
pub struct LineFilter {
    /// The filter operator.
    pub op: FilterOp,
    /// The substring or, for [`FilterOp::Regex`] / [`FilterOp::NotRegex`], the regex.
    pub text: String,
    /// The compiled (unanchored) regex for `Regex` / `NotRegex`.
    regex: Option<regex::Regex>,
}

/// The operator of a [`LineFilter`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FilterOp {
    /// `|=`: the line contains the text (case-sensitive).
    Contains,
    /// `!=`: the line does not contain the text.
    NotContains,
    /// `|~`: the regex matches somewhere in the line.
    Regex,
    /// `!~`: the regex matches nowhere in the line.
    NotRegex,
}

/// One free-text word or phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeTerm {
    /// The term's tokens, lowercased char by char (`char::to_lowercase`); a word with
    /// several tokens is a phrase.
    pub tokens: Vec<String>,
    /// Whether the term excludes (`-word`) instead of requiring.
    pub negated: bool,
}

/// Why a query does not parse.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("parse error at position {pos}: {message}")]
pub struct QueryError {
    /// Byte offset into the query where the problem was found.
    pub pos: usize,
    /// What was wrong (lowercase, no trailing period).
    pub message: String,
}

impl FromStr for LogQuery {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl PartialEq for LabelMatcher {
    /// Compares name, operator and value (the regex is derived from them).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for LabelMatcher {}

impl PartialEq for LineFilter {
    /// Compares operator and text (the regex is derived from them).
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op && self.text == other.text
    }
}

impl Eq for LineFilter {}

impl MatchOp {
    /// The operator as written in a query.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Neq => "!=",
            MatchOp::Re => "=~",
            MatchOp::Nre => "!~",
        }
    }
}

impl FilterOp {
    /// The operator as written in a query.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterOp::Contains => "|=",
            FilterOp::NotContains => "!=",
            FilterOp::Regex => "|~",
            FilterOp::NotRegex => "!~",
        }
    }
}

/// Writes `s` as a double-quoted string that [`parse`] reads back unchanged.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() && (c as u32) <= 0xFFFF => write!(f, "\\u{:04x}", c as u32)?,
            c if c.is_control() => write!(f, "\\U{:08x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for LogQuery {
    /// Renders the query in a canonical form that parses back to an equal query: a free
    /// text query when `free` is non-empty, a LogQL query otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.free.is_empty() {
            for (i, term) in self.free.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                if term.negated {
                    f.write_str("-")?;
                }
                write!(f, "\"{}\"", term.tokens.join(" "))?;
            }
            return Ok(());
        }
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}{}", m.name, m.op.as_str())?;
            write_quoted(f, &m.value)?;
        }
        f.write_str("}")?;
        for filter in &self.filters {
            write!(f, " {} ", filter.op.as_str())?;
            write_quoted(f, &filter.text)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::record::LogRecord;
    use std::collections::BTreeMap;

    fn record(namespace: &str, labels: &[(&str, &str)], message: &str) -> LogRecord {
        LogRecord {
            namespace: namespace.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
                .into(),
            message: message.to_string(),
            ..LogRecord::default()
        }
    }

    #[test]
    fn end_to_end_matching() {
        let rec = record(
            "prod",
            &[("app", "api-server"), ("app.kubernetes.io/name", "api")],
            "GET /users/42 took 1500ms: Timeout talking to db-7",
        );
        // (query, expected match)
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("   ", true),
            ("{}", true),
            ("{namespace=\"prod\"}", true),
            ("{namespace=\"pro\"}", false),
            // label regexes are fully anchored
            ("{app=~\"api\"}", false),
            ("{app=~\"api.*\"}", true),
            ("{app=~\"api-server|web\"}", true),
            ("{app!~\"api\"}", true),
            ("{app!~\"api.*\"}", false),
            ("{app.kubernetes.io/name=\"api\"}", true),
            // absent labels behave as ""
            ("{missing=\"\"}", true),
            ("{missing!=\"a\"}", true),
            ("{missing=\"a\"}", false),
            ("{missing=~\".*\"}", true),
            ("{missing=~\".+\"}", false),
            ("{missing!~\".+\"}", true),
            ("{namespace=\"\"}", false),
            // line regexes are unanchored, substring filters case-sensitive
            ("{} |~ \"took \\\\d+ms\"", true),
            ("{} |~ `took \\d+ms`", true),
            ("{} |~ `^took`", false),
            ("{} !~ `^took`", true),
            ("{} |= \"Timeout\"", true),
            ("{} |= \"timeout\"", false),
            ("{} != \"timeout\"", true),
            ("{} != \"Timeout\"", false),
            ("{} |= \"Timeout\" |= \"db-7\" != \"panic\"", true),
            ("{} |= \"Timeout\" |= \"db-8\"", false),
            ("{namespace=\"dev\"} |= \"Timeout\"", false),
            // free text: case-insensitive whole tokens
            ("timeout", true),
            ("TIMEOUT users", true),
            ("time", false),
            ("timeout -db", false),
            ("timeout -database", true),
            ("db-7", true),
            ("DB-7", true),
            ("db-8", false),
            ("\"took 1500ms\"", true),
            ("\"1500ms took\"", false),
            ("\"users 42\"", true),
            ("-\"users 42\"", false),
            ("-\"users 43\" get", true),
            ("- ...", true),
        ];
        for &(query, want) in cases {
            let q = parse(query).unwrap();
            assert_eq!(q.matches_record(&rec), want, "query {query:?}");
        }
    }

    #[test]
    fn from_str_and_error_display() {
        let q: LogQuery = "{a=\"b\"}".parse().unwrap();
        assert_eq!(q.matchers.len(), 1);
        let err = "{a=\"b\"".parse::<LogQuery>().unwrap_err();
        assert_eq!(err.to_string(), "parse error at position 0: expected \"}\"");
    }

    #[test]
    fn display_is_canonical() {
        let cases: &[(&str, &str)] = &[
            ("{}", "{}"),
            (
                "{ a = \"x\\ty\" ,b=~`\\d`} |=\"q\\\"\" !~ `z`",
                "{a=\"x\\ty\", b=~\"\\\\d\"} |= \"q\\\"\" !~ \"z\"",
            ),
            ("Foo  -bar-baz", "\"foo\" -\"bar baz\""),
        ];
        for &(query, want) in cases {
            let q = parse(query).unwrap();
            assert_eq!(q.to_string(), want, "query {query:?}");
            assert_eq!(parse(want).unwrap(), q, "query {query:?}");
        }
    }
}

//! Matching: constructors that compile the regexes, and the per-record tests run on every
//! candidate line at search time (written not to allocate).

use super::{FilterOp, FreeTerm, LabelMatcher, LineFilter, LogQuery, MatchOp};
use crate::record::LogRecord;
use crate::text::tokens;
use regex::Regex;

impl LabelMatcher {
    /// Builds a matcher, compiling `value` as a fully anchored regex (`^(?:value)$`, as
    /// Prometheus does) for [`MatchOp::Re`] / [`MatchOp::Nre`].
    pub fn new(
        name: impl Into<String>,
        op: MatchOp,
        value: impl Into<String>,
    ) -> Result<Self, regex::Error> {
        let value = value.into();
        let regex = match op {
            MatchOp::Re | MatchOp::Nre => {
                // Validate the pattern alone first: wrapping an unbalanced pattern such
                // as `a)|(b` would otherwise compile to something else.
                Regex::new(&value)?;
                Some(Regex::new(&format!("^(?:{value})$"))?)
            }
            MatchOp::Eq | MatchOp::Neq => None,
        };
        Ok(Self {
            name: name.into(),
            op,
            value,
            regex,
        })
    }

    /// Whether the label value matches; an absent label (`None`) behaves as `""`.
    #[inline]
    pub fn matches(&self, value: Option<&str>) -> bool {
        let v = value.unwrap_or("");
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Neq => v != self.value,
            MatchOp::Re => self.regex_match(v),
            MatchOp::Nre => !self.regex_match(v),
        }
    }

    /// Whether the empty string, hence an absent label, matches.
    pub fn matches_empty(&self) -> bool {
        self.matches(None)
    }

    /// The compiled anchored regex, for [`MatchOp::Re`] / [`MatchOp::Nre`].
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref()
    }

    /// The regex test; falls back to equality if `op` was changed to a regex operator
    /// after construction (no regex compiled).
    fn regex_match(&self, v: &str) -> bool {
        match &self.regex {
            Some(re) => re.is_match(v),
            None => v == self.value,
        }
    }
}

impl LineFilter {
    /// Builds a filter, compiling `text` as an unanchored regex for [`FilterOp::Regex`] /
    /// [`FilterOp::NotRegex`].
    pub fn new(op: FilterOp, text: impl Into<String>) -> Result<Self, regex::Error> {
        let text = text.into();
        let regex = match op {
            FilterOp::Regex | FilterOp::NotRegex => Some(Regex::new(&text)?),
            FilterOp::Contains | FilterOp::NotContains => None,
        };
        Ok(Self { op, text, regex })
    }

    /// Whether the line passes the filter: for `NotContains` / `NotRegex`, whether it
    /// does NOT contain / match.
    #[inline]
    pub fn matches(&self, line: &str) -> bool {
        match self.op {
            FilterOp::Contains => line.contains(self.text.as_str()),
            FilterOp::NotContains => !line.contains(self.text.as_str()),
            FilterOp::Regex => self.regex_match(line),
            FilterOp::NotRegex => !self.regex_match(line),
        }
    }

    /// The compiled regex, for [`FilterOp::Regex`] / [`FilterOp::NotRegex`].
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref()
    }

    /// The regex test; falls back to a substring test if `op` was changed to a regex
    /// operator after construction (no regex compiled).
    fn regex_match(&self, line: &str) -> bool {
        match &self.regex {
            Some(re) => re.is_match(line),
            None => line.contains(self.text.as_str()),
        }
    }
}

/// Lowercases `token` char by char, the way free-text matching compares.
fn lowercase(token: &str) -> String {
    token.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `token` (any case) equals `lowered` (already lowercased by [`lowercase`]).
#[inline]
fn eq_lowered(token: &str, lowered: &str) -> bool {
    if token.is_ascii() && lowered.is_ascii() {
        token.eq_ignore_ascii_case(lowered)
    } else {
        token
            .chars()
            .flat_map(char::to_lowercase)
            .eq(lowered.chars())
    }
}

impl FreeTerm {
    /// Builds a term from a word or phrase: its tokens (per [`crate::text::tokens`]),
    /// lowercased.
    pub fn new(text: &str, negated: bool) -> Self {
        Self {
            tokens: tokens(text).map(|(_, t)| lowercase(t)).collect(),
            negated,
        }
    }

    /// Whether the term's tokens occur consecutively in `tokens`, the token sequence of a
    /// message, compared case-insensitively (the tokens may be lowercased already or
    /// not). Ignores `negated`; a term without tokens occurs everywhere.
    pub fn matches<T: AsRef<str>>(&self, tokens: &[T]) -> bool {
        let n = self.tokens.len();
        if n == 0 {
            return true;
        }
        tokens.windows(n).any(|window| {
            window
                .iter()
                .zip(&self.tokens)
                .all(|(t, want)| eq_lowered(t.as_ref(), want))
        })
    }

    /// Like [`FreeTerm::matches`] over the tokens of `message`, without allocating: the
    /// form [`LogQuery::matches`] uses.
    pub fn matches_text(&self, message: &str) -> bool {
        let Some((first, rest)) = self.tokens.split_first() else {
            return true;
        };
        tokens(message).any(|(off, token)| {
            if !eq_lowered(token, first) {
                return false;
            }
            // The tail starts right after this token, so it yields the next tokens.
            let tail = message.get(off + token.len()..).unwrap_or("");
            let mut next = tokens(tail);
            rest.iter()
                .all(|want| next.next().is_some_and(|(_, t)| eq_lowered(t, want)))
        })
    }
}

impl LogQuery {
    /// Whether a record satisfies the whole query: every matcher (via
    /// [`LogRecord::label`]), every line filter on `record.message`, every free term
    /// (negated ones must not match).
    pub fn matches_record(&self, record: &LogRecord) -> bool {
        self.matches(|name| record.label(name), &record.message)
    }

    /// Same as [`LogQuery::matches_record`], given a label lookup and the message (for
    /// stores whose labels differ from [`LogRecord`]'s).
    pub fn matches<'v>(&self, label: impl Fn(&str) -> Option<&'v str>, message: &str) -> bool {
        self.matchers.iter().all(|m| m.matches(label(&m.name)))
            && self.filters.iter().all(|f| f.matches(message))
            && self
                .free
                .iter()
                .all(|t| t.tokens.is_empty() || t.matches_text(message) != t.negated)
    }

    /// Whether the query has no matcher, filter nor free term, so matches every record.
    pub fn is_match_all(&self) -> bool {
        self.matchers.is_empty() && self.filters.is_empty() && self.free.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn label_matchers() {
        use MatchOp::*;
        // (op, value, label value, expected)
        let cases: &[(MatchOp, &str, Option<&str>, bool)] = &[
            (Eq, "prod", Some("prod"), true),
            (Eq, "prod", Some("Prod"), false),
            (Eq, "prod", None, false),
            (Eq, "", None, true),
            (Eq, "", Some(""), true),
            (Neq, "a", None, true),
            (Neq, "a", Some("a"), false),
            (Neq, "", None, false),
            (Re, "api", Some("api"), true),
            (Re, "api", Some("api-server"), false),
            (Re, "api", Some("my-api"), false),
            (Re, "api.*", Some("api-server"), true),
            (Re, "a|b", Some("b"), true),
            (Re, "a|b", Some("ab"), false),
            (Re, ".*", None, true),
            (Re, ".+", None, false),
            (Re, "(?i)PROD", Some("prod"), true),
            (Nre, "api", Some("api-server"), true),
            (Nre, "api.*", Some("api-server"), false),
            (Nre, ".+", None, true),
        ];
        for &(op, value, label, want) in cases {
            let m = LabelMatcher::new("x", op, value).unwrap();
            assert_eq!(m.matches(label), want, "{op:?} {value:?} on {label:?}");
            assert_eq!(m.matches_empty(), m.matches(Some("")));
        }
    }

    #[test]
    fn regex_accessors() {
        let m = LabelMatcher::new("x", MatchOp::Re, "a|b").unwrap();
        assert_eq!(m.regex().unwrap().as_str(), "^(?:a|b)$");
        assert!(LabelMatcher::new("x", MatchOp::Eq, "(")
            .unwrap()
            .regex()
            .is_none());
        assert!(LabelMatcher::new("x", MatchOp::Re, "a)|(b").is_err());
        let f = LineFilter::new(FilterOp::Regex, "a|b").unwrap();
        assert_eq!(f.regex().unwrap().as_str(), "a|b");
        assert!(LineFilter::new(FilterOp::Contains, "(")
            .unwrap()
            .regex()
            .is_none());
        assert!(LineFilter::new(FilterOp::NotRegex, "(").is_err());
    }

    #[test]
    fn line_filters() {
        use FilterOp::*;
        let line = "level=error msg=\"Timeout after 30s\"";
        // (op, text, expected)
        let cases: &[(FilterOp, &str, bool)] = &[
            (Contains, "Timeout", true),
            (Contains, "timeout", false),
            (Contains, "", true),
            (Contains, "after 30s", true),
            (NotContains, "timeout", true),
            (NotContains, "Timeout", false),
            (Regex, "after \\d+s", true),
            (Regex, "^level", true),
            (Regex, "^msg", false),
            (Regex, "err", true),
            (Regex, "(?i)TIMEOUT", true),
            (NotRegex, "^msg", true),
            (NotRegex, "\\d", false),
        ];
        for &(op, text, want) in cases {
            let f = LineFilter::new(op, text).unwrap();
            assert_eq!(f.matches(line), want, "{op:?} {text:?}");
        }
    }

    #[test]
    fn free_terms() {
        let message = "User-42 logged in from 10.0.0.1 via ÉCOLE_Portal: Connection RESET by peer";
        // (term text, expected)
        let cases: &[(&str, bool)] = &[
            ("user", true),
            ("USER", true),
            ("use", false),
            ("user-42", true),
            ("user 42", true),
            ("42-user", false),
            ("10.0.0.1", true),
            ("10.0.0.2", false),
            ("0.0", true),
            ("connection reset", true),
            ("reset connection", false),
            ("connection by", false),
            ("in from", true),
            ("école_portal", true),
            ("École_PORTAL", true),
            ("école", false),
            ("peer", true),
            ("peers", false),
            ("...", true),
        ];
        let lowered: Vec<String> = tokens(message).map(|(_, t)| lowercase(t)).collect();
        let raw: Vec<&str> = tokens(message).map(|(_, t)| t).collect();
        for &(text, want) in cases {
            let term = FreeTerm::new(text, false);
            assert_eq!(term.matches_text(message), want, "{text:?}");
            assert_eq!(term.matches(&lowered), want, "{text:?} on lowered tokens");
            assert_eq!(term.matches(&raw), want, "{text:?} on raw tokens");
        }
    }

    #[test]
    fn free_term_tokens_are_lowercased() {
        let term = FreeTerm::new("GET /API/v1 Straße", true);
        assert_eq!(term.tokens, ["get", "api", "v1", "straße"]);
        assert!(term.negated);
        assert!(FreeTerm::new("- ...", false).tokens.is_empty());
    }

    #[test]
    fn query_matches_with_lookup() {
        let labels = [("app", "web"), ("env", "prod")];
        let lookup = |name: &str| labels.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        // (query, message, expected)
        let cases: &[(&str, &str, bool)] = &[
            ("{app=\"web\"}", "", true),
            ("{app=\"web\", env!=\"prod\"}", "", false),
            ("{app=~\"w.*\", zone=\"\"} |= \"ok\"", "all ok", true),
            ("{app=~\"w.*\", zone=\"\"} |= \"ok\"", "all OK", false),
            ("ok", "all OK", true),
            ("ok -all", "all OK", false),
            ("\"all ok\"", "ALL, ok!", true),
        ];
        for &(query, message, want) in cases {
            let q = super::super::parse(query).unwrap();
            assert_eq!(q.matches(lookup, message), want, "{query:?} on {message:?}");
        }
    }

    #[test]
    fn match_all() {
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("{}", true),
            ("  ... ", true),
            ("x", false),
            ("{a=\"\"}", false),
            ("{} |= \"\"", false),
        ];
        for &(query, want) in cases {
            let q = super::super::parse(query).unwrap();
            assert_eq!(q.is_match_all(), want, "{query:?}");
        }
    }
}

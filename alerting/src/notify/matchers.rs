//! Alertmanager's label matchers (`pkg/labels`): `=`, `!=`, `=~`, `!~` with regexes
//! anchored as `^(?:re)$` (no `s` flag, unlike Prometheus), a missing label matching as
//! the empty string; the `matchers:` string syntax of Alertmanager 0.25's
//! `ParseMatcher`/`ParseMatchers`; the printed form used in route keys; and the
//! `{name, value, isRegex, isEqual}` shape of the v2 API.

use std::cmp::Ordering;
use std::fmt;

use argus_core::series::Labels;
use regex::Regex;
use serde_json::{json, Value};

/// The operator of a matcher, in Alertmanager's order (`MatchType`), which sorting uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regexp,
    /// `!~`
    NotRegexp,
}

impl MatchType {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    /// `=~` and `!~`.
    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regexp | MatchType::NotRegexp)
    }

    /// `=` and `=~` (the API's `isEqual`).
    pub fn is_equal(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regexp)
    }
}

/// A matcher that cannot be built or parsed; the message is Alertmanager's where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MatcherError(pub String);

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The operator.
    pub kind: MatchType,
    /// The value, or the regex source as written (unanchored).
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Matcher) -> bool {
        self.name == o.name && self.kind == o.kind && self.value == o.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// `labels.NewMatcher`: compiles regexes as `^(?:value)$`.
    pub fn new(
        kind: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        let value = value.into();
        let re = if kind.is_regex() {
            Some(compile_anchored(&value)?)
        } else {
            None
        };
        Ok(Matcher {
            name: name.into(),
            kind,
            value,
            re,
        })
    }

    /// An `=` matcher (never fails).
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            name: name.into(),
            kind: MatchType::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// `labels.ParseMatcher`: `name op value`, the value optionally in double quotes with
    /// `\"`, `\n` and `\\` escapes; whitespace around the tokens is dropped.
    pub fn parse(s: &str) -> Result<Matcher, MatcherError> {
        let bad = || MatcherError(format!("bad matcher format: {s}"));
        let rest = trim_go_space_start(s);
        let name_len = rest
            .bytes()
            .enumerate()
            .take_while(|&(i, c)| {
                c == b'_' || c == b':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
            .count();
        if name_len == 0 {
            return Err(bad());
        }
        let name = &rest[..name_len];
        let rest = trim_go_space_start(&rest[name_len..]);
        let (kind, op_len) = if rest.starts_with("=~") {
            (MatchType::Regexp, 2)
        } else if rest.starts_with('=') {
            (MatchType::Equal, 1)
        } else if rest.starts_with("!=") {
            (MatchType::NotEqual, 2)
        } else if rest.starts_with("!~") {
            (MatchType::NotRegexp, 2)
        } else {
            return Err(bad());
        };
        let raw = trim_go_space_end(trim_go_space_start(&rest[op_len..]));
        let value = unescape_value(raw)?;
        Matcher::new(kind, name, value)
    }

    /// Whether a label value (empty when the label is absent) matches.
    pub fn matches_value(&self, v: &str) -> bool {
        match self.kind {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regexp => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchType::NotRegexp => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Whether the matcher matches the label set (a missing label is the empty string).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.name).unwrap_or(""))
    }

    /// The v2 API's shape: `{name, value, isRegex, isEqual}`.
    pub fn to_api(&self) -> Value {
        json!({
            "name": self.name,
            "value": self.value,
            "isRegex": self.kind.is_regex(),
            "isEqual": self.kind.is_equal(),
        })
    }

    /// From the v2 API's shape; `name`, `value` and `isRegex` are required, `isEqual`
    /// defaults to true. Errors name the field (`name`, `isRegex`, …).
    pub fn from_api(v: &Value) -> Result<Matcher, MatcherError> {
        let obj = v
            .as_object()
            .ok_or_else(|| MatcherError("must be an object".into()))?;
        let string = |k: &str| match obj.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) => Err(MatcherError(format!("{k} is required"))),
            Some(_) => Err(MatcherError(format!("{k} must be a string"))),
        };
        let boolean = |k: &str, default: Option<bool>| match obj.get(k) {
            Some(Value::Bool(b)) => Ok(*b),
            None | Some(Value::Null) => {
                default.ok_or_else(|| MatcherError(format!("{k} is required")))
            }
            Some(_) => Err(MatcherError(format!("{k} must be a boolean"))),
        };
        let name = string("name")?;
        let value = string("value")?;
        let is_regex = boolean("isRegex", None)?;
        let is_equal = boolean("isEqual", Some(true))?;
        let kind = match (is_equal, is_regex) {
            (true, false) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (false, true) => MatchType::NotRegexp,
        };
        Matcher::new(kind, name, value)
    }

    /// Alertmanager's `Matchers.Less`: by name, then value, then operator.
    pub fn sort_cmp(&self, o: &Matcher) -> Ordering {
        (&self.name, &self.value, self.kind).cmp(&(&o.name, &o.value, o.kind))
    }
}

/// `name op "value"` with OpenMetrics escaping of the value (`\\`, `\n`, `\"`), as
/// Alertmanager prints matchers in route keys.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.kind.as_str())?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '"' => f.write_str("\\\"")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Compiles `^(?:re)$`, the way Alertmanager anchors matcher regexes.
fn compile_anchored(re: &str) -> Result<Regex, MatcherError> {
    Regex::new(&format!("^(?:{re})$")).map_err(|e| {
        MatcherError(format!(
            "error parsing regexp {re:?}: {}",
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
        ))
    })
}

/// Go's `\s` in RE2 (ASCII only, no vertical tab).
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

fn trim_go_space_start(s: &str) -> &str {
    s.trim_start_matches(is_go_space)
}

fn trim_go_space_end(s: &str) -> &str {
    s.trim_end_matches(is_go_space)
}

/// The value part of `ParseMatcher`: an optional leading `"` demands a trailing one;
/// `\n`, `\"` and `\\` are escapes, other backslashes are literal; an unescaped `"`
/// elsewhere is an error.
fn unescape_value(raw_value: &str) -> Result<String, MatcherError> {
    let unescaped_quote = || {
        MatcherError(format!(
            "matcher value contains unescaped double quote: {raw_value}"
        ))
    };
    let (raw, mut expect_trailing_quote) = match raw_value.strip_prefix('"') {
        Some(r) => (r, true),
        None => (raw_value, false),
    };
    let mut value = String::with_capacity(raw.len());
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            // Go compares the byte index with the byte length here.
            '\\' if i < raw.len() - 1 => escaped = true,
            '\\' => value.push('\\'),
            '"' => {
                if !expect_trailing_quote || i < raw.len() - 1 {
                    return Err(unescaped_quote());
                }
                expect_trailing_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    Ok(value)
}

/// `labels.ParseMatchers`: a comma-separated list, optionally in braces; commas inside
/// double quotes do not split; a trailing comma is allowed.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens: Vec<String> = Vec::new();
    let mut token = String::new();
    let (mut inside_quotes, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !inside_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            // Inside quotes a comma is kept and leaves `escaped` as it was (as in Go).
            ',' => {}
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    inside_quotes = !inside_quotes;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens.iter().map(|t| Matcher::parse(t)).collect()
}

/// Sorts as Alertmanager's `sort.Sort(labels.Matchers)`.
pub fn sort_matchers(ms: &mut [Matcher]) {
    ms.sort_by(Matcher::sort_cmp);
}

/// Whether every matcher matches.
pub fn matches_all(ms: &[Matcher], labels: &Labels) -> bool {
    ms.iter().all(|m| m.matches(labels))
}

/// `labels.Matchers.String()`: `{a="1",b=~"x"}` (no space after the comma).
pub fn matchers_string(ms: &[Matcher]) -> String {
    let mut s = String::from("{");
    for (i, m) in ms.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&m.to_string());
    }
    s.push('}');
    s
}

/// The v2 API's `filter` semantics (`matchFilterLabels`) over a name → value map: a
/// filter with an empty value is skipped when the label is absent (`=`, `=~`) or present
/// (`!=`, `!~`); otherwise the filter must match the value (empty when absent).
pub fn filter_matches<'a>(filters: &[Matcher], get: impl Fn(&str) -> Option<&'a str>) -> bool {
    filters.iter().all(|m| {
        let v = get(&m.name);
        let skip = m.value.is_empty()
            && match m.kind {
                MatchType::NotEqual | MatchType::NotRegexp => v.is_some(),
                MatchType::Equal | MatchType::Regexp => v.is_none(),
            };
        skip || m.matches_value(v.unwrap_or(""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: MatchType, n: &str, v: &str) -> Matcher {
        Matcher::new(kind, n, v).expect("matcher")
    }

    #[test]
    fn parse_matcher_table() {
        use MatchType::*;
        let ok = [
            ("foo=bar", m(Equal, "foo", "bar")),
            ("foo=\"bar\"", m(Equal, "foo", "bar")),
            ("  foo  !=  \"bar\"  ", m(NotEqual, "foo", "bar")),
            ("foo=~\"a|b\"", m(Regexp, "foo", "a|b")),
            ("foo!~a.*", m(NotRegexp, "foo", "a.*")),
            ("foo=", m(Equal, "foo", "")),
            ("foo=\"\"", m(Equal, "foo", "")),
            ("a:b_1=x", m(Equal, "a:b_1", "x")),
            // `=~` wins over `=` followed by `~`.
            ("foo=~bar", m(Regexp, "foo", "bar")),
            ("foo= ~bar", m(Equal, "foo", "~bar")),
            ("foo=\"a\\\"b\"", m(Equal, "foo", "a\"b")),
            ("foo=\"a\\nb\"", m(Equal, "foo", "a\nb")),
            ("foo=\"a\\\\b\"", m(Equal, "foo", "a\\b")),
            // A spurious escape is a literal backslash.
            ("foo=\"a\\xb\"", m(Equal, "foo", "a\\xb")),
            ("foo=a\\", m(Equal, "foo", "a\\")),
            ("foo=a b", m(Equal, "foo", "a b")),
            ("foo=é", m(Equal, "foo", "é")),
        ];
        for (s, want) in ok {
            let got = Matcher::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(got, want, "{s}");
        }
        let bad = [
            ("foo", "bad matcher format: foo"),
            ("", "bad matcher format: "),
            ("1foo=bar", "bad matcher format: 1foo=bar"),
            ("foo-bar=x", "bad matcher format: foo-bar=x"),
            (
                "foo=\"bar",
                "matcher value contains unescaped double quote: \"bar",
            ),
            (
                "foo=b\"ar",
                "matcher value contains unescaped double quote: b\"ar",
            ),
            (
                "foo=\"b\"ar\"",
                "matcher value contains unescaped double quote: \"b\"ar\"",
            ),
            (
                "foo=\"bar\\\"",
                "matcher value contains unescaped double quote: \"bar\\\"",
            ),
        ];
        for (s, want) in bad {
            assert_eq!(
                Matcher::parse(s).map_err(|e| e.0),
                Err(want.to_string()),
                "{s}"
            );
        }
        assert!(Matcher::parse("foo=~\"(\"")
            .expect_err("bad regex")
            .0
            .starts_with("error parsing regexp \"(\""));
    }

    #[test]
    fn parse_matchers_lists() {
        use MatchType::*;
        let got = parse_matchers("{foo = \"bar\", dings != \"bums\", }").expect("parse");
        assert_eq!(
            got,
            vec![m(Equal, "foo", "bar"), m(NotEqual, "dings", "bums")]
        );
        let got = parse_matchers("foo=bar,dings!=bums").expect("parse");
        assert_eq!(got.len(), 2);
        let got = parse_matchers(r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#)
            .expect("parse");
        assert_eq!(
            got,
            vec![m(
                Equal,
                "quote",
                "She said: \"Hi, ladies! That's gender-neutral…\""
            )]
        );
        let got = parse_matchers(r#"statuscode=~"5..", a=~"b,c""#).expect("parse");
        assert_eq!(got[1], m(Regexp, "a", "b,c"));
        assert_eq!(parse_matchers("").expect("empty"), vec![]);
        assert_eq!(parse_matchers("{}").expect("empty"), vec![]);
        assert!(parse_matchers("a=b,,c=d").is_err());
    }

    #[test]
    fn matching_is_anchored_and_missing_is_empty() {
        use MatchType::*;
        let l = Labels::new([("job", "api"), ("code", "500")]);
        assert!(m(Regexp, "code", "5..").matches(&l));
        assert!(!m(Regexp, "code", "5").matches(&l));
        assert!(!m(Regexp, "job", "a|x").matches(&l));
        assert!(m(Regexp, "job", "a.*|x").matches(&l));
        assert!(m(NotRegexp, "job", "ap").matches(&l));
        assert!(m(Equal, "missing", "").matches(&l));
        assert!(m(NotEqual, "missing", "x").matches(&l));
        assert!(m(Regexp, "missing", ".*").matches(&l));
        assert!(!m(NotEqual, "missing", "").matches(&l));
        // No `s` flag: `.` does not match a newline, as in Go's default.
        let nl = Labels::new([("m", "a\nb")]);
        assert!(!m(Regexp, "m", "a.b").matches(&nl));
    }

    #[test]
    fn printed_and_sorted_as_alertmanager() {
        use MatchType::*;
        let mut ms = vec![
            m(Regexp, "team", "a|b"),
            m(NotEqual, "env", ""),
            m(Equal, "a1", "v"),
            m(Equal, "env", ""),
            m(Equal, "svc", "x\"y\\z\n\té"),
        ];
        sort_matchers(&mut ms);
        assert_eq!(
            matchers_string(&ms),
            "{a1=\"v\",env=\"\",env!=\"\",svc=\"x\\\"y\\\\z\\n\té\",team=~\"a|b\"}"
        );
        assert_eq!(matchers_string(&[]), "{}");
    }

    #[test]
    fn api_shape_round_trip() {
        use MatchType::*;
        for k in [Equal, NotEqual, Regexp, NotRegexp] {
            let a = m(k, "n", "v");
            assert_eq!(Matcher::from_api(&a.to_api()).expect("round trip"), a);
        }
        let v = json!({"name": "a", "value": "b", "isRegex": false});
        assert_eq!(Matcher::from_api(&v).expect("default isEqual").kind, Equal);
        let v = json!({"name": "a", "value": "b"});
        assert_eq!(
            Matcher::from_api(&v).map_err(|e| e.0),
            Err("isRegex is required".into())
        );
        let v = json!({"name": "a", "value": "(", "isRegex": true});
        assert!(Matcher::from_api(&v).is_err());
    }

    #[test]
    fn filter_semantics_of_the_api() {
        use MatchType::*;
        let get = |k: &str| match k {
            "a" => Some("1"),
            _ => None,
        };
        assert!(filter_matches(&[m(Equal, "a", "1")], get));
        assert!(!filter_matches(&[m(Equal, "a", "2")], get));
        // Empty value: skipped when absent for =, when present for !=.
        assert!(filter_matches(&[m(Equal, "b", "")], get));
        assert!(!filter_matches(&[m(Equal, "a", "")], get));
        assert!(filter_matches(&[m(NotEqual, "a", "")], get));
        assert!(!filter_matches(&[m(NotEqual, "b", "")], get));
        assert!(filter_matches(&[m(Regexp, "a", "1|2")], get));
        assert!(!filter_matches(&[m(Regexp, "b", "x")], get));
    }
}

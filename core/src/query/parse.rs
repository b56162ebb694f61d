//! The query parser: a hand-written scanner over the query text that reports byte
//! positions and never panics.

use super::{FilterOp, FreeTerm, LabelMatcher, LineFilter, LogQuery, MatchOp, QueryError};

/// Parses a query: a LogQL log query when it starts with `{` (after whitespace), free
/// text otherwise. See the [module docs](super) for the language.
pub fn parse(query: &str) -> Result<LogQuery, QueryError> {
    let mut p = Parser { src: query, pos: 0 };
    p.skip_ws();
    if p.peek() == Some('{') {
        p.log_query()
    } else {
        p.free_text()
    }
}

/// At most this many label matchers, line filters or free-text terms in one query. Each
/// becomes index work in every partition searched (a `|= "x"` filter a term-dictionary
/// walk): 16 000 filters kept an event search busy for 10 s. Real queries use a handful.
pub const MAX_CLAUSES: usize = 64;

/// At most this many words in the free-text terms of a query, phrases included.
pub const MAX_FREE_TOKENS: usize = 256;

/// Builds an error; `message` must be lowercase without a trailing period.
fn error<T>(pos: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        pos,
        message: message.into(),
    })
}

/// One line of the regex crate's (multi-line) error message: the `error: ...` line of a
/// syntax error, or the whole message with a lowercase start and no trailing period.
fn describe_regex_error(err: &regex::Error) -> String {
    let text = err.to_string();
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or_else(|| text.trim());
    let line = line.trim_end_matches('.');
    let mut chars = line.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "invalid regex".to_string(),
    }
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next char; always on a char boundary.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Consumes `s` if the rest starts with it.
    fn eat(&mut self, s: &str) -> bool {
        let found = self.rest().starts_with(s);
        if found {
            self.pos += s.len();
        }
        found
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    /// `{ matchers } filters`, the cursor on `{`.
    fn log_query(&mut self) -> Result<LogQuery, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let mut matchers = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return error(open, "expected \"}\""),
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {}
            }
            if matchers.len() == MAX_CLAUSES {
                return error(
                    self.pos,
                    format!("too many label matchers: at most {MAX_CLAUSES}"),
                );
            }
            matchers.push(self.label_matcher()?);
            self.skip_ws();
            match self.peek() {
                None => return error(open, "expected \"}\""),
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => return error(self.pos, "expected \",\" or \"}\" after label matcher"),
            }
        }
        let mut filters = Vec::new();
        loop {
            self.skip_ws();
            if self.peek().is_none() {
                break;
            }
            if filters.len() == MAX_CLAUSES {
                return error(
                    self.pos,
                    format!("too many line filters: at most {MAX_CLAUSES}"),
                );
            }
            filters.push(self.line_filter()?);
        }
        Ok(LogQuery {
            matchers,
            filters,
            free: Vec::new(),
        })
    }

    /// `name op "value"`.
    fn label_matcher(&mut self) -> Result<LabelMatcher, QueryError> {
        let name = self.label_name()?;
        self.skip_ws();
        let op = if self.eat("=~") {
            MatchOp::Re
        } else if self.eat("!~") {
            MatchOp::Nre
        } else if self.eat("!=") {
            MatchOp::Neq
        } else if self.eat("=") {
            MatchOp::Eq
        } else {
            return error(
                self.pos,
                format!("expected \"=\", \"!=\", \"=~\" or \"!~\" after label name \"{name}\""),
            );
        };
        self.skip_ws();
        let value_pos = self.pos;
        let value = self.string(op.as_str())?;
        LabelMatcher::new(name, op, value.as_str())
            .map_err(|e| invalid_regex(value_pos, &value, &e))
    }

    /// `[a-zA-Z_][a-zA-Z0-9_./-]*`.
    fn label_name(&mut self) -> Result<String, QueryError> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            Some('=' | '!' | '~') => return error(start, "empty label name"),
            Some(c) => return error(start, format!("expected label name, found {c:?}")),
            None => return error(start, "expected label name"),
        }
        let len = self
            .rest()
            .bytes()
            .take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
            .count();
        self.pos += len;
        Ok(self.src.get(start..self.pos).unwrap_or("").to_string())
    }

    /// `op "text"` after the selector.
    fn line_filter(&mut self) -> Result<LineFilter, QueryError> {
        let op = if self.eat("|=") {
            FilterOp::Contains
        } else if self.eat("!=") {
            FilterOp::NotContains
        } else if self.eat("|~") {
            FilterOp::Regex
        } else if self.eat("!~") {
            FilterOp::NotRegex
        } else {
            return error(
                self.pos,
                "expected a line filter (\"|=\", \"!=\", \"|~\" or \"!~\") or the end of the query",
            );
        };
        self.skip_ws();
        let text_pos = self.pos;
        let text = self.string(op.as_str())?;
        LineFilter::new(op, text.as_str()).map_err(|e| invalid_regex(text_pos, &text, &e))
    }

    /// A double-quoted or backtick string; `after` names the preceding operator.
    fn string(&mut self, after: &str) -> Result<String, QueryError> {
        match self.peek() {
            Some('"') => self.quoted(),
            Some('`') => self.raw(),
            _ => error(self.pos, format!("expected string after \"{after}\"")),
        }
    }

    /// `"..."` with Go escapes, the cursor on the opening quote.
    fn quoted(&mut self) -> Result<String, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return error(open, "unterminated string");
            };
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let esc = self.pos - 1;
                    let Some(e) = self.bump() else {
                        return error(open, "unterminated string");
                    };
                    let decoded = match e {
                        '"' => '"',
                        '\\' => '\\',
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'v' => '\u{b}',
                        'u' => self.unicode_escape(esc, 4)?,
                        'U' => self.unicode_escape(esc, 8)?,
                        other => return error(esc, format!("unknown escape \"\\{other}\"")),
                    };
                    out.push(decoded);
                }
                c => out.push(c),
            }
        }
    }

    /// The `digits` hex digits of a `\u` / `\U` escape starting at `esc`.
    fn unicode_escape(&mut self, esc: usize, digits: usize) -> Result<char, QueryError> {
        let hex = self.rest().get(..digits).unwrap_or("");
        if hex.len() != digits || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return error(
                esc,
                format!("invalid unicode escape: expected {digits} hex digits"),
            );
        }
        self.pos += digits;
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) => Ok(c),
            None => error(esc, "invalid unicode escape: not a unicode scalar value"),
        }
    }

    /// `` `...` `` without escapes, the cursor on the opening backtick.
    fn raw(&mut self) -> Result<String, QueryError> {
        let open = self.pos;
        let body = self.rest().get(1..).unwrap_or("");
        match body.find('`') {
            Some(end) => {
                self.pos += 1 + end + 1;
                Ok(body[..end].to_string())
            }
            None => error(open, "unterminated string"),
        }
    }

    /// Free text: words, `"phrases"`, `-word`, `-"phrase"`.
    fn free_text(&mut self) -> Result<LogQuery, QueryError> {
        let mut free: Vec<FreeTerm> = Vec::new();
        let mut tokens = 0;
        loop {
            self.skip_ws();
            let Some(c) = self.peek() else { break };
            let start = self.pos;
            let mut negated = false;
            if c == '-' {
                let next = self.rest().get(1..).and_then(|r| r.chars().next());
                if next.is_some_and(|n| !n.is_whitespace()) {
                    negated = true;
                    self.pos += 1;
                }
            }
            let term = if self.peek() == Some('"') {
                FreeTerm::new(&self.phrase()?, negated)
            } else {
                let word = self.rest();
                let len = word.find(char::is_whitespace).unwrap_or(word.len());
                self.pos += len;
                FreeTerm::new(word.get(..len).unwrap_or(""), negated)
            };
            if !term.tokens.is_empty() {
                tokens += term.tokens.len();
                if free.len() == MAX_CLAUSES {
                    return error(
                        start,
                        format!("too many free-text terms: at most {MAX_CLAUSES}"),
                    );
                }
                if tokens > MAX_FREE_TOKENS {
                    return error(
                        start,
                        format!("too many words in the free text: at most {MAX_FREE_TOKENS}"),
                    );
                }
                free.push(term);
            }
        }
        Ok(LogQuery {
            matchers: Vec::new(),
            filters: Vec::new(),
            free,
        })
    }

    /// A free-text `"phrase"`, the cursor on the opening quote; `\` takes the next char
    /// literally.
    fn phrase(&mut self) -> Result<String, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return error(open, "unterminated string"),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => return error(open, "unterminated string"),
                },
                Some(c) => out.push(c),
            }
        }
    }
}

fn invalid_regex(pos: usize, re: &str, err: &regex::Error) -> QueryError {
    QueryError {
        pos,
        message: format!("invalid regex {re:?}: {}", describe_regex_error(err)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(name: &str, op: MatchOp, value: &str) -> LabelMatcher {
        LabelMatcher::new(name, op, value).unwrap()
    }

    fn f(op: FilterOp, text: &str) -> LineFilter {
        LineFilter::new(op, text).unwrap()
    }

    fn t(tokens: &[&str], negated: bool) -> FreeTerm {
        FreeTerm {
            tokens: tokens.iter().map(|s| s.to_string()).collect(),
            negated,
        }
    }

    fn q(matchers: Vec<LabelMatcher>, filters: Vec<LineFilter>, free: Vec<FreeTerm>) -> LogQuery {
        LogQuery {
            matchers,
            filters,
            free,
        }
    }

    #[test]
    fn valid_logql() {
        use FilterOp::*;
        use MatchOp::*;
        let cases: &[(&str, LogQuery)] = &[
            ("{}", q(vec![], vec![], vec![])),
            ("  { }  ", q(vec![], vec![], vec![])),
            ("{a=\"b\"}", q(vec![m("a", Eq, "b")], vec![], vec![])),
            (
                "{a=\"1\",b!=\"2\",c=~\"3.*\",d!~\"4|5\"}",
                q(
                    vec![
                        m("a", Eq, "1"),
                        m("b", Neq, "2"),
                        m("c", Re, "3.*"),
                        m("d", Nre, "4|5"),
                    ],
                    vec![],
                    vec![],
                ),
            ),
            (
                "\n{ a = \"1\" ,\tb !=\"2\" , } ",
                q(vec![m("a", Eq, "1"), m("b", Neq, "2")], vec![], vec![]),
            ),
            (
                "{app.kubernetes.io/name=\"api\", pod-template-hash=\"x\", _x9=\"\"}",
                q(
                    vec![
                        m("app.kubernetes.io/name", Eq, "api"),
                        m("pod-template-hash", Eq, "x"),
                        m("_x9", Eq, ""),
                    ],
                    vec![],
                    vec![],
                ),
            ),
            (
                r#"{a="q\"b\\c\nd\te\rf\u00e9\U0001F600"}"#,
                q(
                    vec![m("a", Eq, "q\"b\\c\nd\te\rf\u{e9}\u{1F600}")],
                    vec![],
                    vec![],
                ),
            ),
            (
                "{a=~`\\d+\"`}",
                q(vec![m("a", Re, "\\d+\"")], vec![], vec![]),
            ),
            (
                "{a=\"é 世界\"}",
                q(vec![m("a", Eq, "é 世界")], vec![], vec![]),
            ),
            (
                "{a=\"b\"} |= \"x\" != \"y\" |~ \"z+\" !~ `\\w`",
                q(
                    vec![m("a", Eq, "b")],
                    vec![
                        f(Contains, "x"),
                        f(NotContains, "y"),
                        f(Regex, "z+"),
                        f(NotRegex, "\\w"),
                    ],
                    vec![],
                ),
            ),
            (
                "{}|=\"x\"|=`y`!=\"\"",
                q(
                    vec![],
                    vec![f(Contains, "x"), f(Contains, "y"), f(NotContains, "")],
                    vec![],
                ),
            ),
            ("{ } |~ \"\\\\d\"", q(vec![], vec![f(Regex, "\\d")], vec![])),
        ];
        for (query, want) in cases {
            assert_eq!(parse(query), Ok(want.clone()), "query {query:?}");
        }
    }

    #[test]
    fn valid_free_text() {
        let cases: &[(&str, Vec<FreeTerm>)] = &[
            ("", vec![]),
            (" \t\n", vec![]),
            ("error", vec![t(&["error"], false)]),
            (
                "Error  TIMEOUT",
                vec![t(&["error"], false), t(&["timeout"], false)],
            ),
            ("user-42", vec![t(&["user", "42"], false)]),
            ("10.0.0.1", vec![t(&["10", "0", "0", "1"], false)]),
            (
                "\"Connection Reset\"",
                vec![t(&["connection", "reset"], false)],
            ),
            ("-debug", vec![t(&["debug"], true)]),
            ("-\"GET /health\"", vec![t(&["get", "health"], true)]),
            ("- ... \"!!\" x", vec![t(&["x"], false)]),
            ("--x", vec![t(&["x"], true)]),
            ("a\"b c\"", vec![t(&["a", "b"], false), t(&["c"], false)]),
            ("\"say \\\"hi\\\"\"", vec![t(&["say", "hi"], false)]),
            ("ÉCOLE", vec![t(&["école"], false)]),
            ("x {a=\"b\"}", vec![t(&["x"], false), t(&["a", "b"], false)]),
        ];
        for (query, want) in cases {
            assert_eq!(
                parse(query),
                Ok(q(vec![], vec![], want.clone())),
                "query {query:?}"
            );
        }
    }

    #[test]
    fn invalid_queries() {
        // (query, position, message)
        let cases: &[(&str, usize, &str)] = &[
            ("{", 0, "expected \"}\""),
            ("  {a=\"b\"", 2, "expected \"}\""),
            ("{a=\"b\",", 0, "expected \"}\""),
            (
                "{namespace \"x\"}",
                11,
                "expected \"=\", \"!=\", \"=~\" or \"!~\" after label name \"namespace\"",
            ),
            ("{a==\"b\"}", 3, "expected string after \"=\""),
            ("{a=b}", 3, "expected string after \"=\""),
            ("{a=}", 3, "expected string after \"=\""),
            ("{=\"b\"}", 1, "empty label name"),
            ("{!~\"b\"}", 1, "empty label name"),
            ("{9a=\"b\"}", 1, "expected label name, found '9'"),
            ("{a=\"b\",,}", 7, "expected label name, found ','"),
            ("{a=\"b\" c=\"d\"}", 7, "expected \",\" or \"}\" after label matcher"),
            ("{a=\"b}", 3, "unterminated string"),
            ("{a=`b}", 3, "unterminated string"),
            ("{a=\"b\\", 3, "unterminated string"),
            ("{a=\"\\d\"}", 4, "unknown escape \"\\d\""),
            ("{a=\"\\u12\"}", 4, "invalid unicode escape: expected 4 hex digits"),
            (
                "{a=\"\\ud800\"}",
                4,
                "invalid unicode escape: not a unicode scalar value",
            ),
            ("{a=~\"(\"}", 4, "invalid regex \"(\": unclosed group"),
            ("{a=~\"a)|(b\"}", 4, "invalid regex \"a)|(b\": unopened group"),
            ("{} |~ \"[z-a]\"", 6, "invalid regex \"[z-a]\": invalid character class range, the start must be <= the end"),
            (
                "{} x",
                3,
                "expected a line filter (\"|=\", \"!=\", \"|~\" or \"!~\") or the end of the query",
            ),
            (
                "{} |= \"a\" garbage",
                10,
                "expected a line filter (\"|=\", \"!=\", \"|~\" or \"!~\") or the end of the query",
            ),
            (
                "{} | json",
                3,
                "expected a line filter (\"|=\", \"!=\", \"|~\" or \"!~\") or the end of the query",
            ),
            ("{} |=", 5, "expected string after \"|=\""),
            ("{} != x", 6, "expected string after \"!=\""),
            ("{} }", 3, "expected a line filter (\"|=\", \"!=\", \"|~\" or \"!~\") or the end of the query"),
            ("foo \"bar", 4, "unterminated string"),
            ("foo -\"bar\\\"", 5, "unterminated string"),
        ];
        for &(query, pos, message) in cases {
            let want = QueryError {
                pos,
                message: message.to_string(),
            };
            assert_eq!(parse(query), Err(want), "query {query:?}");
        }
    }

    #[test]
    fn regex_error_mentions_the_regex_crate_message() {
        let err = parse("{} |~ \"(\"").unwrap_err();
        assert_eq!(err.pos, 6);
        assert!(err.message.starts_with("invalid regex \"(\": "), "{err}");
        assert!(!err.message.contains('\n'), "{err}");
        // too big to compile: an error, not a panic
        let err = parse("{} |~ `\\w{1000}{1000}`").unwrap_err();
        assert_eq!(err.pos, 6, "{err}");
    }

    #[test]
    fn clause_counts_are_capped_with_the_position_of_the_first_one_too_many() {
        let filters = |n: usize| format!("{{a=\"b\"}}{}", " |= \"x\"".repeat(n));
        assert!(parse(&filters(MAX_CLAUSES)).is_ok());
        let e = parse(&filters(MAX_CLAUSES + 1)).expect_err("too many filters");
        assert_eq!(
            e.pos,
            "{a=\"b\"}".len() + MAX_CLAUSES * " |= \"x\"".len() + 1
        );
        assert!(e.message.contains("too many line filters"), "{}", e.message);

        let matchers = |n: usize| {
            let m: Vec<String> = (0..n).map(|i| format!("l{i}=\"v\"")).collect();
            format!("{{{}}}", m.join(","))
        };
        assert!(parse(&matchers(MAX_CLAUSES)).is_ok());
        let e = parse(&matchers(MAX_CLAUSES + 1)).expect_err("too many matchers");
        assert!(
            e.message.contains("too many label matchers"),
            "{}",
            e.message
        );

        assert!(parse(&"w ".repeat(MAX_CLAUSES)).is_ok());
        let e = parse(&"w ".repeat(MAX_CLAUSES + 1)).expect_err("too many terms");
        assert_eq!(e.pos, 2 * MAX_CLAUSES);
        let phrase = |n: usize| format!("\"{}\"", "w ".repeat(n).trim_end());
        assert!(parse(&phrase(MAX_FREE_TOKENS)).is_ok());
        let e = parse(&phrase(MAX_FREE_TOKENS + 1)).expect_err("too many words");
        assert_eq!(e.pos, 0);
        assert!(e.message.contains("too many words"), "{}", e.message);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_language_chars(s in "[{}\"=~!|\\\\` a-z,.\\-/_`]{0,40}") {
            let _ = parse(&s);
        }

        #[test]
        fn errors_point_into_the_query(s in "[{}\"=~!|\\\\` a-z,é]{0,30}") {
            if let Err(e) = parse(&s) {
                prop_assert!(e.pos <= s.len());
                prop_assert!(s.is_char_boundary(e.pos));
            }
        }

        #[test]
        fn display_round_trips(s in "\\{[a-c]{1,2}(=|!=|=~|!~)\"[a-z.*\\\\n]{0,5}\"\\}( (\\|=|!=|\\|~|!~) `[a-z.+é]{0,4}`){0,3}") {
            if let Ok(q) = parse(&s) {
                prop_assert_eq!(parse(&q.to_string()), Ok(q));
            }
        }

        #[test]
        fn free_text_display_round_trips(s in "[a-zA-Z0-9 \"\\-.é]{0,30}") {
            if let Ok(q) = parse(&s) {
                prop_assert_eq!(parse(&q.to_string()), Ok(q));
            }
        }
    }
}

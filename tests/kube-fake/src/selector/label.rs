//! Label selectors (`labelSelector=`), after `k8s.io/apimachinery/pkg/labels`: `k=v`,
//! `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, joined by `,`.

use serde_json::Value;

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    NotEq,
    In,
    NotIn,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

fn lex(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | '>' | '<' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    '>' => Token::Gt,
                    _ => Token::Lt,
                });
            }
            '=' => {
                chars.next();
                if chars.peek() == Some(&'=') {
                    chars.next();
                }
                tokens.push(Token::Eq);
            }
            '!' => {
                chars.next();
                if chars.peek() == Some(&'=') {
                    chars.next();
                    tokens.push(Token::NotEq);
                } else {
                    tokens.push(Token::Not);
                }
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "()!,=<>".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(match word.as_str() {
                    "in" => Token::In,
                    "notin" => Token::NotIn,
                    _ => Token::Ident(word),
                });
            }
        }
    }
    tokens
}

/// Parse error, worded like the API server's (`unable to parse requirement: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct ParseError(String);

impl LabelSelector {
    /// Parses `labelSelector`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let tokens = lex(input);
        let mut requirements = Vec::new();
        let mut pos = 0;
        while pos < tokens.len() {
            let (requirement, next) = parse_requirement(&tokens, pos)?;
            requirements.push(requirement);
            pos = next;
            match tokens.get(pos) {
                None => break,
                Some(Token::Comma) => {
                    pos += 1;
                    if pos == tokens.len() {
                        return Err(ParseError("found '', expected: identifier".into()));
                    }
                }
                Some(other) => {
                    return Err(ParseError(format!(
                        "found '{}', expected: ',' or 'end of string'",
                        describe(other)
                    )))
                }
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether this selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether the object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|r| {
            let value = label(&r.key);
            match r.op {
                Op::In => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                Op::NotIn => value.is_none_or(|v| r.values.iter().all(|x| x != v)),
                Op::Exists => value.is_some(),
                Op::DoesNotExist => value.is_none(),
                Op::Gt | Op::Lt => {
                    let (Some(have), Some(want)) = (
                        value.and_then(|v| v.parse::<i64>().ok()),
                        r.values.first().and_then(|v| v.parse::<i64>().ok()),
                    ) else {
                        return false;
                    };
                    if r.op == Op::Gt {
                        have > want
                    } else {
                        have < want
                    }
                }
            }
        })
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Ident(s) => s.clone(),
        Token::Not => "!".into(),
        Token::Eq => "=".into(),
        Token::NotEq => "!=".into(),
        Token::In => "in".into(),
        Token::NotIn => "notin".into(),
        Token::Gt => ">".into(),
        Token::Lt => "<".into(),
        Token::Open => "(".into(),
        Token::Close => ")".into(),
        Token::Comma => ",".into(),
    }
}

fn parse_requirement(tokens: &[Token], mut pos: usize) -> Result<(Requirement, usize), ParseError> {
    let negated = tokens.get(pos) == Some(&Token::Not);
    if negated {
        pos += 1;
    }
    let key = match tokens.get(pos) {
        Some(Token::Ident(key)) => key.clone(),
        Some(other) => {
            return Err(ParseError(format!(
                "found '{}', expected: !, identifier, or 'end of string'",
                describe(other)
            )))
        }
        None => return Err(ParseError("found '', expected: identifier".into())),
    };
    validate_key(&key)?;
    pos += 1;
    if negated {
        return Ok((requirement(key, Op::DoesNotExist, vec![]), pos));
    }
    let op = match tokens.get(pos) {
        None | Some(Token::Comma) => return Ok((requirement(key, Op::Exists, vec![]), pos)),
        Some(Token::Eq) => Op::In,
        Some(Token::NotEq) => Op::NotIn,
        Some(Token::In) => Op::In,
        Some(Token::NotIn) => Op::NotIn,
        Some(Token::Gt) => Op::Gt,
        Some(Token::Lt) => Op::Lt,
        Some(other) => {
            return Err(ParseError(format!(
                "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                describe(other)
            )))
        }
    };
    let set_form = matches!(tokens.get(pos), Some(Token::In | Token::NotIn));
    pos += 1;
    if !set_form {
        // A single value, possibly empty (`k=` selects an empty value).
        let value = match tokens.get(pos) {
            Some(Token::Ident(v)) => {
                pos += 1;
                v.clone()
            }
            None | Some(Token::Comma) => String::new(),
            Some(other) => {
                return Err(ParseError(format!(
                    "found '{}', expected: identifier",
                    describe(other)
                )))
            }
        };
        if matches!(op, Op::Gt | Op::Lt) && value.parse::<i64>().is_err() {
            return Err(ParseError(format!(
                "for 'Gt', 'Lt' operators, the value must be an integer: {value:?}"
            )));
        }
        validate_value(&key, &value)?;
        return Ok((requirement(key, op, vec![value]), pos));
    }
    if tokens.get(pos) != Some(&Token::Open) {
        return Err(ParseError(format!(
            "found '{}', expected: '('",
            tokens.get(pos).map(describe).unwrap_or_default()
        )));
    }
    pos += 1;
    let mut values = Vec::new();
    loop {
        match tokens.get(pos) {
            Some(Token::Ident(v)) => {
                validate_value(&key, v)?;
                values.push(v.clone());
                pos += 1;
            }
            Some(Token::Comma) | Some(Token::Close) => values.push(String::new()),
            other => {
                return Err(ParseError(format!(
                    "found '{}', expected: ',', ')' or identifier",
                    other.map(describe).unwrap_or_default()
                )))
            }
        }
        match tokens.get(pos) {
            Some(Token::Comma) => pos += 1,
            Some(Token::Close) => {
                pos += 1;
                break;
            }
            other => {
                return Err(ParseError(format!(
                    "found '{}', expected: ',' or ')'",
                    other.map(describe).unwrap_or_default()
                )))
            }
        }
    }
    Ok((requirement(key, op, values), pos))
}

fn requirement(key: String, op: Op, values: Vec<String>) -> Requirement {
    Requirement { key, op, values }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(is_name_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn validate_key(key: &str) -> Result<(), ParseError> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    if prefix_ok && valid_name(name) {
        Ok(())
    } else {
        Err(ParseError(format!(
            "key: Invalid value: {key:?}: name part must consist of alphanumeric characters, \
             '-', '_' or '.', and must start and end with an alphanumeric character"
        )))
    }
}

fn validate_value(key: &str, value: &str) -> Result<(), ParseError> {
    if value.is_empty() || valid_name(value) {
        Ok(())
    } else {
        Err(ParseError(format!(
            "values[0][{key}]: Invalid value: {value:?}: a valid label must be an empty string \
             or consist of alphanumeric characters, '-', '_' or '.', and must start and end \
             with an alphanumeric character"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "labels": labels}})
    }

    #[test]
    fn table_of_selectors() {
        let cart = obj(json!({"app": "cart", "tier": "web", "rev": "3"}));
        let db = obj(json!({"app": "db"}));
        let none = json!({"metadata": {"name": "bare"}});
        // (selector, matches cart, matches db, matches unlabelled)
        let cases = [
            ("", true, true, true),
            ("app=cart", true, false, false),
            ("app==cart", true, false, false),
            ("app!=cart", false, true, true),
            ("app in (cart, db)", true, true, false),
            ("app notin (cart)", false, true, true),
            ("tier", true, false, false),
            ("!tier", false, true, true),
            ("app=cart,tier=web", true, false, false),
            ("app=cart, !tier", false, false, false),
            ("rev>2", true, false, false),
            ("rev<2", false, false, false),
            ("example.com/team", false, false, false),
            ("app in (cart,)", true, false, false),
        ];
        for (selector, c, d, n) in cases {
            let s = LabelSelector::parse(selector).expect(selector);
            assert_eq!(
                (s.matches(&cart), s.matches(&db), s.matches(&none)),
                (c, d, n),
                "{selector}"
            );
        }
    }

    #[test]
    fn rejects_malformed_selectors() {
        for bad in [
            "app=cart,",
            "app in cart",
            "app in (cart",
            "=cart",
            "a b",
            "rev>x",
            "app=-bad",
            "Bad Key=1",
        ] {
            let err = LabelSelector::parse(bad).expect_err(bad);
            assert!(
                err.to_string().starts_with("unable to parse requirement"),
                "{bad}: {err}"
            );
        }
    }
}

//! Label matchers (`=`, `!=`, `=~`, `!~`) with Prometheus' semantics: regexes are fully
//! anchored, and a missing label matches as the empty string.

use regex::Regex;

use super::Labels;

#[derive(Debug, Clone)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Re(Regex),
    NotRe(Regex),
}

/// `name op "value"`.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    /// The value or the regex source as written.
    pub value: String,
}

/// A regex a matcher cannot use.
#[derive(Debug, thiserror::Error)]
#[error("invalid regex {regex:?} in matcher for label {name:?}: {message}")]
pub struct MatcherError {
    pub name: String,
    pub regex: String,
    pub message: String,
}

impl Matcher {
    pub fn equal(name: &str, value: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
        }
    }

    pub fn not_equal(name: &str, value: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op: MatchOp::NotEqual,
            value: value.into(),
        }
    }

    /// `=~` (`negate`: `!~`), anchored at both ends.
    pub fn regex(name: &str, re: &str, negate: bool) -> Result<Matcher, MatcherError> {
        let compiled = Regex::new(&format!("^(?s:{re})$")).map_err(|e| MatcherError {
            name: name.into(),
            regex: re.into(),
            message: e.to_string(),
        })?;
        Ok(Matcher {
            name: name.into(),
            op: if negate {
                MatchOp::NotRe(compiled)
            } else {
                MatchOp::Re(compiled)
            },
            value: re.into(),
        })
    }

    /// Whether a label value (empty when the label is absent) matches.
    pub fn matches(&self, v: &str) -> bool {
        match &self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Re(r) => r.is_match(v),
            MatchOp::NotRe(r) => !r.is_match(v),
        }
    }

    /// Whether the matcher matches the empty string (then series without the label match).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    pub fn matches_labels(&self, l: &Labels) -> bool {
        self.matches(l.get(&self.name).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_regex_and_absent_labels() {
        let l = Labels::new([("job", "node"), ("__name__", "up")]);
        assert!(Matcher::regex("job", "no.*", false)
            .expect("re")
            .matches_labels(&l));
        assert!(!Matcher::regex("job", "no", false)
            .expect("re")
            .matches_labels(&l));
        assert!(Matcher::regex("job", "no", true)
            .expect("re")
            .matches_labels(&l));
        assert!(Matcher::equal("env", "").matches_labels(&l));
        assert!(!Matcher::not_equal("env", "").matches_labels(&l));
        assert!(Matcher::regex("x", "(", false).is_err());
    }
}

//! The tokenizer shared by the full-text index and the exact query verifier: a token is a
//! maximal run of alphanumeric characters (Unicode) or `_`. Case is kept: the index is
//! case-sensitive so that a one-word `|=` filter is answered exactly from it.

/// Whether `c` belongs to a token.
#[inline]
pub fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Iterates over the tokens of `text` with their byte offsets.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, pos: 0 }
}

/// Iterator returned by [`tokens`].
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        // ASCII fast path, falling back to char decoding for non-ASCII bytes.
        let mut start = None;
        let mut i = self.pos;
        while i < bytes.len() {
            let b = bytes[i];
            let (is_tok, width) = if b < 0x80 {
                (b.is_ascii_alphanumeric() || b == b'_', 1)
            } else {
                let c = self.text[i..].chars().next().unwrap_or(' ');
                (is_token_char(c), c.len_utf8())
            };
            match (is_tok, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    self.pos = i + width;
                    return Some((s, &self.text[s..i]));
                }
                _ => {}
            }
            i += width;
        }
        self.pos = bytes.len();
        start.map(|s| (s, &self.text[s..]))
    }
}

/// Whether the whole string is one token (non-empty, token characters only).
pub fn is_single_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_punctuation_and_keeps_case() {
        let got: Vec<_> = tokens("GET /api/v1?x=Foo_bar 200 héllo-wörld")
            .map(|t| t.1)
            .collect();
        assert_eq!(
            got,
            ["GET", "api", "v1", "x", "Foo_bar", "200", "héllo", "wörld"]
        );
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "a  bb,ccc";
        for (off, tok) in tokens(text) {
            assert_eq!(&text[off..off + tok.len()], tok);
        }
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("...").count(), 0);
    }

    #[test]
    fn single_token() {
        assert!(is_single_token("error_42"));
        assert!(!is_single_token("error 42"));
        assert!(!is_single_token(""));
    }
}

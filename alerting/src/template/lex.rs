//! The lexer of Go's `text/template` (delimiters `{{ }}`, trim markers `{{- ` and ` -}}`,
//! comments, and the tokens inside actions), with Go's byte positions and error texts.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Bool,
    Char,
    CharConstant,
    Assign,
    Declare,
    Field,
    Identifier,
    LeftParen,
    RightParen,
    Number,
    Pipe,
    RawString,
    String,
    Variable,
    Dot,
    // keywords
    Break,
    Continue,
    Define,
    Block,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
    Eof,
}

/// A token: kind, text, byte offset and line (1-based) in the template text.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    pub val: String,
    pub pos: usize,
    pub line: usize,
}

impl Item {
    /// As Go's `item.String()` prints a token in "unexpected" errors.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Eof => "EOF".into(),
            Kind::Break
            | Kind::Continue
            | Kind::Define
            | Kind::Block
            | Kind::Else
            | Kind::End
            | Kind::If
            | Kind::Nil
            | Kind::Range
            | Kind::Template
            | Kind::With => format!("<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let short: String = self.val.chars().take(10).collect();
                format!("{}...", crate::gofmt::quote(&short))
            }
            _ => crate::gofmt::quote(&self.val),
        }
    }
}

/// A lexing error: message and line.
#[derive(Debug, Clone)]
pub struct LexError {
    pub msg: String,
    pub line: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits a template into tokens.
pub fn lex(input: &str) -> Result<Vec<Item>, LexError> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        items: Vec::new(),
        paren_depth: 0,
    };
    l.run()?;
    Ok(l.items)
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    items: Vec<Item>,
    paren_depth: i32,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
        if c == '\n' {
            self.line -= 1;
        }
    }

    fn emit(&mut self, kind: Kind) {
        self.items.push(Item {
            kind,
            val: self.input[self.start..self.pos].to_string(),
            pos: self.start,
            line: self.start_line,
        });
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    /// Moves over `n` bytes without emitting (line counting included).
    fn skip(&mut self, n: usize) {
        self.line += self.input[self.pos..self.pos + n].matches('\n').count();
        self.pos += n;
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            msg: msg.into(),
            line: self.start_line,
        })
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            // Text up to the next "{{".
            match self.rest().find(LEFT) {
                Some(x) => {
                    let after = &self.rest()[x + LEFT.len()..];
                    let trim = has_left_trim(after);
                    let text_end = self.pos + x;
                    let mut end = text_end;
                    if trim {
                        end = self.input[..text_end]
                            .trim_end_matches([' ', '\t', '\r', '\n'])
                            .len()
                            .max(self.pos);
                    }
                    if end > self.pos {
                        self.items.push(Item {
                            kind: Kind::Text,
                            val: self.input[self.pos..end].to_string(),
                            pos: self.pos,
                            line: self.line,
                        });
                    }
                    self.line += self.input[self.pos..text_end].matches('\n').count();
                    self.pos = text_end;
                    self.start = self.pos;
                    self.start_line = self.line;
                    self.left_delim(trim)?;
                }
                None => {
                    if self.pos < self.input.len() {
                        self.start = self.pos;
                        self.start_line = self.line;
                        self.pos = self.input.len();
                        self.emit(Kind::Text);
                    }
                    self.items.push(Item {
                        kind: Kind::Eof,
                        val: String::new(),
                        pos: self.input.len(),
                        line: self.line,
                    });
                    return Ok(());
                }
            }
        }
    }

    fn left_delim(&mut self, trim: bool) -> Result<(), LexError> {
        self.pos += LEFT.len();
        let after_marker = if trim { 2 } else { 0 };
        if self.input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            self.ignore();
            return self.comment();
        }
        self.emit(Kind::LeftDelim);
        if trim {
            self.pos += after_marker;
            self.ignore();
        }
        self.paren_depth = 0;
        self.inside_action()
    }

    fn comment(&mut self) -> Result<(), LexError> {
        let Some(x) = self.rest().find("*/") else {
            return self.err("unclosed comment");
        };
        self.skip(x + 2);
        let (is_delim, trim) = self.at_right_delim();
        if !is_delim {
            return self.err("comment ends before closing delimiter");
        }
        self.finish_right_delim(trim, false);
        Ok(())
    }

    /// Whether the input is at `}}` or ` -}}`.
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        let b = r.as_bytes();
        if b.len() >= 2 && is_space(b[0]) && b[1] == b'-' && r[2..].starts_with(RIGHT) {
            return (true, true);
        }
        (r.starts_with(RIGHT), false)
    }

    fn finish_right_delim(&mut self, trim: bool, emit: bool) {
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT.len();
        if emit {
            self.emit(Kind::RightDelim);
        } else {
            self.ignore();
        }
        if trim {
            let skip = self.rest().len()
                - self
                    .rest()
                    .trim_start_matches([' ', '\t', '\r', '\n'])
                    .len();
            self.skip(skip);
        }
    }

    fn inside_action(&mut self) -> Result<(), LexError> {
        loop {
            let (delim, trim) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    self.finish_right_delim(trim, true);
                    return Ok(());
                }
                return self.err("unclosed left paren");
            }
            let Some(c) = self.next() else {
                return self.err("unclosed action");
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    // Spaces up to (not into) a right trim marker.
                    loop {
                        let (d, _) = self.at_right_delim();
                        if d {
                            break;
                        }
                        match self.peek() {
                            Some(c) if is_space(c as u8) && c.is_ascii() => {
                                self.next();
                            }
                            _ => break,
                        }
                    }
                    // The space before " -}}" belongs to the marker.
                    if self.pos > self.start {
                        self.emit(Kind::Space);
                    }
                }
                '=' => self.emit(Kind::Assign),
                ':' => {
                    if self.next() != Some('=') {
                        return self.err("expected :=");
                    }
                    self.emit(Kind::Declare);
                }
                '|' => self.emit(Kind::Pipe),
                '"' => self.quote()?,
                '`' => {
                    let Some(x) = self.rest().find('`') else {
                        return self.err("unterminated raw quoted string");
                    };
                    let end = self.pos + x + 1;
                    while self.pos < end {
                        self.next();
                    }
                    self.emit(Kind::RawString);
                }
                '$' => self.field_or_variable(Kind::Variable)?,
                '\'' => self.char_const()?,
                '.' => {
                    if matches!(self.peek(), Some('0'..='9')) {
                        self.backup('.');
                        self.number()?;
                    } else {
                        self.field_or_variable(Kind::Field)?;
                    }
                }
                '+' | '-' | '0'..='9' => {
                    self.backup(c);
                    self.number()?;
                }
                '(' => {
                    self.emit(Kind::LeftParen);
                    self.paren_depth += 1;
                }
                ')' => {
                    self.emit(Kind::RightParen);
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.err("unexpected right paren");
                    }
                }
                c if is_alnum(c) => {
                    self.backup(c);
                    self.identifier()?;
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
                c => return self.err(format!("unrecognized character in action: {}", go_u(c))),
            }
        }
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if c.is_ascii() && is_space(c as u8) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn identifier(&mut self) -> Result<(), LexError> {
        while let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
            } else {
                break;
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return self.err(format!("bad character {}", go_u(c)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match word {
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "block" => Kind::Block,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "nil" => Kind::Nil,
            "range" => Kind::Range,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit(kind);
        Ok(())
    }

    fn field_or_variable(&mut self, kind: Kind) -> Result<(), LexError> {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return Ok(());
        }
        while let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
            } else {
                break;
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            return self.err(format!("bad character {}", go_u(c)));
        }
        self.emit(kind);
        Ok(())
    }

    fn quote(&mut self) -> Result<(), LexError> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    None | Some('\n') => return self.err("unterminated quoted string"),
                    Some(_) => {}
                },
                None | Some('\n') => return self.err("unterminated quoted string"),
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        Ok(())
    }

    fn char_const(&mut self) -> Result<(), LexError> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    None | Some('\n') => return self.err("unterminated character constant"),
                    Some(_) => {}
                },
                None | Some('\n') => return self.err("unterminated character constant"),
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::CharConstant);
        Ok(())
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn number(&mut self) -> Result<(), LexError> {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if matches!(self.peek(), Some(c) if is_alnum(c)) {
            self.next();
            return self.err(format!(
                "bad number syntax: {:?}",
                &self.input[self.start..self.pos]
            ));
        }
        self.emit(Kind::Number);
        Ok(())
    }
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1])
}

/// Go's `%#U`: `U+0041 'A'`.
fn go_u(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        lex(s)
            .expect("lex")
            .into_iter()
            .map(|i| (i.kind, i.val))
            .collect()
    }

    #[test]
    fn trim_markers_and_comments() {
        let k = kinds("a  {{- 1 -}}  b {{/* c */}}x");
        assert_eq!(
            k,
            vec![
                (Kind::Text, "a".into()),
                (Kind::LeftDelim, "{{".into()),
                (Kind::Number, "1".into()),
                (Kind::RightDelim, "}}".into()),
                (Kind::Text, "b ".into()),
                (Kind::Text, "x".into()),
                (Kind::Eof, "".into()),
            ]
        );
    }

    #[test]
    fn action_tokens() {
        let k = kinds("{{ $x := .Labels.a | printf \"%s\" `r` }}");
        let ks: Vec<Kind> = k.iter().map(|x| x.0).collect();
        assert_eq!(
            ks,
            vec![
                Kind::LeftDelim,
                Kind::Space,
                Kind::Variable,
                Kind::Space,
                Kind::Declare,
                Kind::Space,
                Kind::Field,
                Kind::Field,
                Kind::Space,
                Kind::Pipe,
                Kind::Space,
                Kind::Identifier,
                Kind::Space,
                Kind::String,
                Kind::Space,
                Kind::RawString,
                Kind::Space,
                Kind::RightDelim,
                Kind::Eof
            ]
        );
        assert!(lex("{{ \"abc }}").is_err());
        assert!(lex("{{ 1 ").is_err());
    }
}

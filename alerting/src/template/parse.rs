//! The parser of Go's `text/template`: actions, pipelines, variables, `if`/`else if`/`with`/
//! `range`/`break`/`continue`, with Go's checks (undefined variables and functions are
//! parse errors) and Go's messages. `define`, `template` and `block` are not supported:
//! Prometheus expands one template at a time and never defines named ones.

use super::lex::{lex, Item, Kind};

/// A list of nodes.
pub type List = Vec<Node>;

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If(Control),
    With(Control),
    Range(Control),
    Break,
    Continue,
}

/// `if`, `with` or `range` with its body and optional `else`.
#[derive(Debug, Clone)]
pub struct Control {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// A pipeline, with the variables it declares (`$x :=`) or assigns (`$x =`).
#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One stage of a pipeline.
#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.A.B`
    Field(usize, Vec<String>),
    /// `$x.A.B` (the first element is the variable's name with its `$`).
    Variable(usize, Vec<String>),
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number(usize, Number),
    String(usize, String, String),
    /// A function name.
    Identifier(usize, String),
    /// `(pipeline)`
    Pipe(usize, Box<Pipe>),
    /// `(pipeline).A.B`
    Chain(usize, Box<Arg>, Vec<String>),
}

/// A numeric constant as Go keeps it: the text and the kinds it fits.
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub float: Option<f64>,
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field(p, _)
            | Arg::Variable(p, _)
            | Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::String(p, _, _)
            | Arg::Identifier(p, _)
            | Arg::Pipe(p, _)
            | Arg::Chain(p, _, _) => *p,
        }
    }
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Field(_, ids) => {
                for i in ids {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable(_, ids) => f.write_str(&ids.join(".")),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::String(_, quoted, _) => f.write_str(quoted),
            Arg::Identifier(_, n) => f.write_str(n),
            Arg::Pipe(_, p) => write!(f, "({p})"),
            Arg::Chain(_, n, fields) => {
                match n.as_ref() {
                    Arg::Pipe(_, p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.is_assign { "=" } else { ":=" }
            )?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A parse error: message and line.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub msg: String,
    pub line: usize,
}

type PResult<T> = Result<T, ParseError>;

/// Parses `text`; `has_func` says which function names exist.
pub fn parse(text: &str, has_func: &dyn Fn(&str) -> bool) -> PResult<List> {
    let items = lex(text).map_err(|e| ParseError {
        msg: e.msg,
        line: e.line,
    })?;
    let mut p = Parser {
        items,
        i: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        has_func,
    };
    let mut list = Vec::new();
    loop {
        let t = p.peek();
        match t.kind {
            Kind::Eof => break,
            Kind::LeftDelim => {
                let delim = p.next();
                let n = p.action()?;
                match n {
                    Parsed::Node(n) => list.push(n),
                    Parsed::End(line) | Parsed::Else(line, _) => {
                        let what = if matches!(n, Parsed::End(_)) {
                            "{{end}}"
                        } else {
                            "{{else}}"
                        };
                        let _ = delim;
                        return Err(ParseError {
                            msg: format!("unexpected {what}"),
                            line,
                        });
                    }
                }
            }
            _ => {
                let t = p.next();
                list.push(Node::Text(t.val));
            }
        }
    }
    Ok(list)
}

enum Parsed {
    Node(Node),
    End(usize),
    /// `{{else}}`, or `{{else if ...` (true: the `if` is still to be read).
    Else(usize, bool),
}

struct Parser<'a> {
    items: Vec<Item>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
}

impl Parser<'_> {
    fn peek(&self) -> Item {
        self.items[self.i.min(self.items.len() - 1)].clone()
    }

    fn next(&mut self) -> Item {
        let t = self.peek();
        if self.i < self.items.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let save = self.i;
        let t = self.next_non_space();
        self.i = save;
        t
    }

    fn err<T>(&self, line: usize, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            msg: msg.into(),
            line,
        })
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.kind != kind {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn unexpected<T>(&self, t: &Item, context: &str) -> PResult<T> {
        if t.kind == Kind::Eof {
            return self.err(t.line, format!("unexpected EOF in {context}"));
        }
        self.err(t.line, format!("unexpected {} in {context}", t.describe()))
    }

    /// After `{{`.
    fn action(&mut self) -> PResult<Parsed> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block | Kind::Define | Kind::Template => self.err(
                t.line,
                format!("{{{{{}}}}} is not supported in alert templates", t.val),
            ),
            Kind::Break | Kind::Continue => {
                if self.range_depth == 0 {
                    return self.err(t.line, format!("{{{{{}}}}} outside {{{{range}}}}", t.val));
                }
                let is_break = t.kind == Kind::Break;
                self.expect(Kind::RightDelim, &t.val)?;
                Ok(Parsed::Node(if is_break {
                    Node::Break
                } else {
                    Node::Continue
                }))
            }
            Kind::Else => {
                if self.peek_non_space().kind == Kind::If {
                    return Ok(Parsed::Else(t.line, true));
                }
                self.expect(Kind::RightDelim, "else")?;
                Ok(Parsed::Else(t.line, false))
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                Ok(Parsed::End(t.line))
            }
            Kind::If => Ok(Parsed::Node(Node::If(self.control("if")?))),
            Kind::Range => Ok(Parsed::Node(Node::Range(self.control("range")?))),
            Kind::With => Ok(Parsed::Node(Node::With(self.control("with")?))),
            _ => {
                self.backup();
                let pipe = self.pipeline("command", Kind::RightDelim)?;
                Ok(Parsed::Node(Node::Action(pipe)))
            }
        }
    }

    /// The body of a control structure up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(List, Parsed)> {
        let mut list = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                Kind::Eof => return self.err(t.line, "unexpected EOF"),
                Kind::LeftDelim => {
                    self.next();
                    match self.action()? {
                        Parsed::Node(n) => list.push(n),
                        other => return Ok((list, other)),
                    }
                }
                _ => {
                    let t = self.next();
                    list.push(Node::Text(t.val));
                }
            }
        }
    }

    fn control(&mut self, context: &str) -> PResult<Control> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let else_list = match next {
            Parsed::End(_) => None,
            Parsed::Else(_, true) if context == "if" => {
                // `{{else if ...}}`: an `if` inside the else branch; one {{end}} ends both.
                self.next_non_space();
                let inner = self.control("if")?;
                Some(vec![Node::If(inner)])
            }
            Parsed::Else(line, true) => {
                return self.err(line, "unexpected <if> in input");
            }
            Parsed::Else(_, false) => {
                let (else_list, next) = self.item_list()?;
                match next {
                    Parsed::End(_) => Some(else_list),
                    Parsed::Else(line, _) => {
                        return self.err(line, "expected end; found {{else}}");
                    }
                    Parsed::Node(_) => None,
                }
            }
            Parsed::Node(_) => None,
        };
        self.vars.truncate(nvars);
        Ok(Control {
            pipe,
            list,
            else_list,
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations.
        if self.peek_non_space().kind == Kind::Variable {
            let save = self.i;
            let v = self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    if pipe.is_assign && !self.vars.contains(&v.val) {
                        return self.err(v.line, format!("undefined variable {:?}", v.val));
                    }
                    pipe.decl.push(v.val.clone());
                    if !pipe.is_assign {
                        self.vars.push(v.val);
                    }
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context != "range" {
                        return self.err(next.line, format!("too many declarations in {context}"));
                    }
                    let v2 = self.next_non_space();
                    if v2.kind != Kind::Variable {
                        return self.err(v2.line, "range can only initialize variables");
                    }
                    let d = self.next_non_space();
                    if d.kind != Kind::Declare && d.kind != Kind::Assign {
                        return self.unexpected(&d, "range");
                    }
                    pipe.decl.push(v2.val.clone());
                    self.vars.push(v2.val);
                }
                _ => self.i = save,
            }
        }
        loop {
            let t = self.next_non_space();
            if t.kind == end {
                if pipe.cmds.is_empty() {
                    return self.err(t.line, format!("missing value for {context}"));
                }
                for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                    if matches!(
                        c.args.first(),
                        Some(
                            Arg::Bool(..)
                                | Arg::Dot(_)
                                | Arg::Nil(_)
                                | Arg::Number(..)
                                | Arg::String(..)
                        )
                    ) {
                        return self.err(
                            t.line,
                            format!("non executable command in pipeline stage {}", i + 1),
                        );
                    }
                }
                return Ok(pipe);
            }
            match t.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    fn command(&mut self) -> PResult<Command> {
        let start = self.peek_non_space();
        let mut cmd = Command {
            pos: start.pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            // Skip spaces before the operand.
            while self.peek().kind == Kind::Space {
                self.next();
            }
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err(start.line, "empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        // Go gives the chained node the position of its first chained field.
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let f = self.next();
            fields.push(f.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field(_, mut ids) => {
                ids.extend(fields);
                Arg::Field(chain_pos, ids)
            }
            Arg::Variable(_, mut ids) => {
                ids.extend(fields);
                Arg::Variable(chain_pos, ids)
            }
            Arg::Bool(..) | Arg::String(..) | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                let line = self.peek().line;
                return self.err(
                    line,
                    format!("unexpected . after term {:?}", node.to_string()),
                );
            }
            other => Arg::Chain(chain_pos, Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.kind {
            Kind::Identifier => {
                if !(self.has_func)(&t.val) {
                    return self.err(t.line, format!("function {:?} not defined", t.val));
                }
                Arg::Identifier(t.pos, t.val)
            }
            Kind::Dot => Arg::Dot(t.pos),
            Kind::Nil => Arg::Nil(t.pos),
            Kind::Variable => {
                if !self.vars.contains(&t.val) {
                    return self.err(t.line, format!("undefined variable {:?}", t.val));
                }
                Arg::Variable(t.pos, vec![t.val])
            }
            Kind::Field => Arg::Field(t.pos, vec![t.val[1..].to_string()]),
            Kind::Bool => Arg::Bool(t.pos, t.val == "true"),
            Kind::CharConstant | Kind::Number => {
                let n = number(&t.val, t.kind == Kind::CharConstant).ok_or_else(|| ParseError {
                    msg: format!("illegal number syntax: {:?}", t.val),
                    line: t.line,
                })?;
                Arg::Number(t.pos, n)
            }
            Kind::LeftParen => {
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                Arg::Pipe(t.pos, Box::new(p))
            }
            Kind::String | Kind::RawString => {
                let v = unquote(&t.val).ok_or_else(|| ParseError {
                    msg: format!("invalid syntax: {}", t.val),
                    line: t.line,
                })?;
                Arg::String(t.pos, t.val, v)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// A Go number or character constant.
fn number(text: &str, is_char: bool) -> Option<Number> {
    if is_char {
        let v = unquote_char(text)?;
        return Some(Number {
            text: text.to_string(),
            int: Some(i64::from(u32::from(v))),
            float: Some(f64::from(u32::from(v))),
        });
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    }
    .map(|v| if neg { -v } else { v });
    let float = if lower.starts_with("0x") {
        int.map(|v| v as f64)
    } else {
        clean.parse::<f64>().ok()
    };
    if int.is_none() && float.is_none() {
        return None;
    }
    Some(Number {
        text: text.to_string(),
        int,
        float: float.or(int.map(|v| v as f64)),
    })
}

/// Unquotes a Go string literal (`"..."` with escapes, or a raw `` `...` ``).
pub fn unquote(s: &str) -> Option<String> {
    if let Some(raw) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Some(raw.replace('\r', ""));
    }
    let body = s.strip_prefix('"')?.strip_suffix('"')?;
    unescape(body)
}

fn unquote_char(s: &str) -> Option<char> {
    let body = s.strip_prefix('\'')?.strip_suffix('\'')?;
    let u = unescape(body)?;
    let mut it = u.chars();
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

fn unescape(body: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next()?;
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| it.next()).collect();
                if hex.len() != n {
                    return None;
                }
                let v = u32::from_str_radix(&hex, 16).ok()?;
                if e == 'x' {
                    // A byte; Go strings may hold invalid UTF-8, ours may not.
                    out.push(char::from_u32(v)?);
                } else {
                    out.push(char::from_u32(v)?);
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + it.next()?.to_digit(8)?;
                }
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<List, String> {
        parse(s, &|f| matches!(f, "printf" | "humanize" | "eq")).map_err(|e| e.msg)
    }

    #[test]
    fn go_parse_errors() {
        assert_eq!(
            p("{{ nope }}").expect_err("must fail"),
            "function \"nope\" not defined"
        );
        assert_eq!(
            p("{{ $x }}").expect_err("must fail"),
            "undefined variable \"$x\""
        );
        assert_eq!(
            p("{{ if }}").expect_err("must fail"),
            "missing value for if"
        );
        assert_eq!(p("{{ end }}").expect_err("must fail"), "unexpected {{end}}");
        assert_eq!(p("{{ if 1 }}").expect_err("must fail"), "unexpected EOF");
        assert_eq!(
            p("{{ 1 | 2 }}").expect_err("must fail"),
            "non executable command in pipeline stage 2"
        );
        assert!(p("{{ $x := 1 }}{{ $x }}").is_ok());
        assert!(p("{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}").is_err());
        assert!(p("{{ range $k, $v := . }}{{ $k }}{{ $v }}{{ else }}x{{ end }}").is_ok());
        assert!(p("{{ if 1 }}a{{ else if 2 }}b{{ else }}c{{ end }}").is_ok());
        assert!(p("{{ break }}").is_err());
    }

    #[test]
    fn node_strings() {
        let l = p("{{ printf \"%.2f\" (humanize .Value) | eq $.A.b }}").expect("parse");
        let Node::Action(pipe) = &l[0] else {
            panic!("action")
        };
        assert_eq!(
            pipe.to_string(),
            "printf \"%.2f\" (humanize .Value) | eq $.A.b"
        );
    }
}

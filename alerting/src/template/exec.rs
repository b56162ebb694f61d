//! The executor of Go's `text/template` with `missingkey=zero`, as Prometheus runs alert
//! templates: variables and their scopes, fields of maps and structs, pipelines, Go's
//! argument typing, `and`/`or` short-circuits, `if`/`with`/`range`/`break`/`continue`.

use std::rc::Rc;

use super::amdata;
use super::funcs::{self, Param};
use super::parse::{Arg, Command, List, Node, Number, Pipe};
use super::value::{Sample, Value};
use super::FuncContext;

/// An execution error: the node it happened at and Go's message.
#[derive(Debug, Clone)]
pub struct ExecError {
    pub pos: usize,
    pub node: String,
    pub msg: String,
}

type R<T> = Result<T, ExecError>;

enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct State<'a> {
    pub ctx: &'a FuncContext<'a>,
    pub vars: Vec<(String, Value)>,
    pub out: String,
}

fn err<T>(pos: usize, node: &dyn std::fmt::Display, msg: impl Into<String>) -> R<T> {
    Err(ExecError {
        pos,
        node: node.to_string(),
        msg: msg.into(),
    })
}

impl State<'_> {
    pub fn run(&mut self, dot: &Value, list: &List) -> R<()> {
        self.walk_list(dot, list).map(|_| ())
    }

    fn walk_list(&mut self, dot: &Value, list: &List) -> R<Flow> {
        for n in list {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node) -> R<Flow> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.out.push_str(&v.sprint());
                }
            }
            Node::If(c) | Node::With(c) => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, &c.pipe)?;
                let r = if v.truth() {
                    let d = if matches!(node, Node::With(_)) {
                        &v
                    } else {
                        dot
                    };
                    self.walk_list(d, &c.list)
                } else if let Some(e) = &c.else_list {
                    self.walk_list(dot, e)
                } else {
                    Ok(Flow::Normal)
                };
                self.vars.truncate(mark);
                return r;
            }
            Node::Range(c) => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, &c.pipe)?;
                let items: Vec<(Value, Value)> = match &v {
                    Value::Samples(s) => s
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (Value::Int(i as i64), Value::Sample(Rc::new(x.clone()))))
                        .collect(),
                    Value::StrMap(m) => m
                        .iter()
                        .map(|(k, x)| (Value::Str(k.clone()), Value::Str(x.clone())))
                        .collect(),
                    Value::AnyMap(m) => m
                        .iter()
                        .map(|(k, x)| (Value::Str(k.clone()), x.clone()))
                        .collect(),
                    Value::Kv(m) => m
                        .iter()
                        .map(|(k, x)| (Value::Str(k.clone()), Value::Str(x.clone())))
                        .collect(),
                    Value::List(_, v) => v
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                        .collect(),
                    Value::Missing | Value::NilSample => Vec::new(),
                    other => {
                        return err(
                            c.pipe.pos,
                            &c.pipe,
                            format!("range can't iterate over {}", other.sprint()),
                        )
                    }
                };
                let n = c.pipe.decl.len();
                let mut res = Ok(Flow::Normal);
                for (k, elem) in &items {
                    // The declared variables are the last ones pushed by the pipeline.
                    let base = self.vars.len();
                    if n == 1 {
                        self.vars[base - 1].1 = elem.clone();
                    } else if n == 2 {
                        self.vars[base - 2].1 = k.clone();
                        self.vars[base - 1].1 = elem.clone();
                    }
                    let inner = self.vars.len();
                    let r = self.walk_list(elem, &c.list);
                    self.vars.truncate(inner);
                    match r {
                        Ok(Flow::Break) => break,
                        Ok(_) => {}
                        Err(e) => {
                            res = Err(e);
                            break;
                        }
                    }
                }
                if items.is_empty() {
                    if let Some(e) = &c.else_list {
                        res = self.walk_list(dot, e);
                    }
                }
                self.vars.truncate(mark);
                res?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> R<Value> {
        let mut val: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, val.take())?;
            val = Some(v);
        }
        let val = val.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = val.clone();
                }
            } else {
                self.vars.push((name.clone(), val.clone()));
            }
        }
        Ok(val)
    }

    fn not_a_function(&self, cmd: &Command, fin: &Option<Value>) -> R<()> {
        if cmd.args.len() > 1 || fin.is_some() {
            return err(
                cmd.pos,
                cmd,
                format!("can't give argument to non-function {}", cmd.args[0]),
            );
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Command, fin: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Identifier(_, name) => return self.eval_function(dot, name, cmd, fin),
            Arg::Field(..) | Arg::Variable(..) | Arg::Chain(..) => {
                if cmd.args.len() > 1 || fin.is_some() {
                    if let Some(v) = self.eval_method(dot, cmd, &fin)? {
                        return Ok(v);
                    }
                }
                self.not_a_function(cmd, &fin)?;
                return self.eval_any(dot, first);
            }
            Arg::Pipe(_, p) => {
                self.not_a_function(cmd, &fin)?;
                return self.eval_pipeline_scoped(dot, p);
            }
            _ => {}
        }
        self.not_a_function(cmd, &fin)?;
        match first {
            Arg::Nil(p) => err(*p, first, "nil is not a command"),
            _ => self.eval_any(dot, first),
        }
    }

    /// `.X.Method arg…` on Alertmanager's data types (`.CommonLabels.Remove …`,
    /// `.StartsAt.Format "…"`); `None` when the last name is no method taking arguments.
    fn eval_method(&mut self, dot: &Value, cmd: &Command, fin: &Option<Value>) -> R<Option<Value>> {
        let first = &cmd.args[0];
        let (recv, name) = match first {
            Arg::Field(p, ids) if !ids.is_empty() => {
                let (last, rest) = ids.split_last().unwrap_or((&ids[0], &[]));
                (self.fields(dot.clone(), rest, *p, first)?, last)
            }
            Arg::Variable(p, ids) if ids.len() >= 2 => {
                let (last, rest) = ids.split_last().unwrap_or((&ids[0], &[]));
                let v = self.var(&rest[0]);
                (self.fields(v, &rest[1..], *p, first)?, last)
            }
            Arg::Chain(p, inner, ids) if !ids.is_empty() => {
                let (last, rest) = ids.split_last().unwrap_or((&ids[0], &[]));
                let v = self.eval_any(dot, inner)?;
                (self.fields(v, rest, *p, first)?, last)
            }
            _ => return Ok(None),
        };
        if !amdata::has_method(&recv, name) {
            return Ok(None);
        }
        let mut vals = Vec::with_capacity(cmd.args.len());
        for a in &cmd.args[1..] {
            vals.push(self.eval_any(dot, a)?);
        }
        if let Some(f) = fin {
            vals.push(f.clone());
        }
        amdata::method(&recv, name, &vals)
            .map(Some)
            .or_else(|m| err(cmd.pos, cmd, format!("error calling {name}: {m}")))
    }

    /// A parenthesized pipeline: its declarations do not outlive it.
    fn eval_pipeline_scoped(&mut self, dot: &Value, p: &Pipe) -> R<Value> {
        self.eval_pipeline(dot, p)
    }

    fn var(&self, name: &str) -> Value {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Missing)
    }

    /// An operand evaluated for an `interface{}` parameter (Go's `evalEmptyInterface`).
    fn eval_any(&mut self, dot: &Value, arg: &Arg) -> R<Value> {
        match arg {
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Value::Missing),
            Arg::Number(p, n) => ideal_constant(*p, arg, n),
            Arg::String(_, _, s) => Ok(Value::Str(s.clone())),
            Arg::Field(p, ids) => self.fields(dot.clone(), ids, *p, arg),
            Arg::Variable(p, ids) => {
                let v = self.var(&ids[0]);
                self.fields(v, &ids[1..], *p, arg)
            }
            Arg::Pipe(_, pipe) => self.eval_pipeline_scoped(dot, pipe),
            Arg::Chain(p, inner, ids) => {
                let v = self.eval_any(dot, inner)?;
                self.fields(v, ids, *p, arg)
            }
            Arg::Identifier(_, name) => {
                let cmd = Command {
                    pos: arg.pos(),
                    args: vec![arg.clone()],
                };
                self.eval_function(dot, name, &cmd, None)
            }
        }
    }

    fn fields(&self, mut v: Value, ids: &[String], pos: usize, node: &Arg) -> R<Value> {
        for id in ids {
            v = field(&v, id).or_else(|m| err(pos, node, m))?;
        }
        Ok(v)
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        cmd: &Command,
        fin: Option<Value>,
    ) -> R<Value> {
        let Some(sig) = funcs::signature(name) else {
            return err(cmd.pos, cmd, format!("{name:?} is not a defined function"));
        };
        let args = &cmd.args[1..];
        let nargs = args.len() + usize::from(fin.is_some());
        let want = sig.params.len();
        if (sig.variadic && nargs < want - 1) || (!sig.variadic && nargs != want) {
            let w = if sig.variadic {
                format!("at least {}", want - 1)
            } else {
                want.to_string()
            };
            return err(
                cmd.pos,
                cmd,
                format!("wrong number of args for {name}: want {w} got {nargs}"),
            );
        }
        // `and` and `or` stop at the first argument that decides.
        if name == "and" || name == "or" {
            let mut last = Value::Missing;
            for a in args {
                last = self.eval_any(dot, a)?;
                if last.truth() != (name == "and") {
                    return Ok(last);
                }
            }
            if let Some(f) = fin {
                last = f;
            }
            return Ok(last);
        }
        let mut vals = Vec::with_capacity(nargs);
        for (i, a) in args.iter().enumerate() {
            let p = sig.params[i.min(want - 1)];
            vals.push(self.eval_arg(dot, a, p)?);
        }
        if let Some(f) = fin {
            let p = sig.params[args.len().min(want - 1)];
            vals.push(check_type(f, p).or_else(|m| err(cmd.pos, cmd, m))?);
        }
        funcs::call(name, &vals, self.ctx)
            .or_else(|m| err(cmd.pos, cmd, format!("error calling {name}: {m}")))
    }

    fn eval_arg(&mut self, dot: &Value, a: &Arg, p: Param) -> R<Value> {
        match (p, a) {
            (Param::Any, _) => self.eval_any(dot, a),
            (Param::Str, Arg::String(_, _, s)) => Ok(Value::Str(s.clone())),
            (Param::Str, Arg::Number(pos, _) | Arg::Bool(pos, _)) => {
                err(*pos, a, format!("expected string; found {a}"))
            }
            (Param::Sample | Param::Samples, Arg::Nil(_)) => Ok(null_of(p)),
            (_, Arg::Nil(pos)) => err(*pos, a, format!("cannot assign nil to {}", param_name(p))),
            _ => {
                let v = self.eval_any(dot, a)?;
                check_type(v, p).or_else(|m| err(a.pos(), a, m))
            }
        }
    }
}

fn param_name(p: Param) -> &'static str {
    match p {
        Param::Any => "interface {}",
        Param::Str => "string",
        Param::Sample => "*template.sample",
        Param::Samples => "template.queryResult",
    }
}

fn null_of(p: Param) -> Value {
    match p {
        Param::Samples => Value::Samples(Rc::new(Vec::new())),
        _ => Value::NilSample,
    }
}

/// Go's `validateType`: a value handed to a parameter of another type is an error.
fn check_type(v: Value, p: Param) -> Result<Value, String> {
    let ok = match (&v, p) {
        (_, Param::Any) => true,
        (Value::Str(_), Param::Str) => true,
        (Value::Sample(_) | Value::NilSample, Param::Sample) => true,
        (Value::Samples(_), Param::Samples) => true,
        (Value::Missing, Param::Sample | Param::Samples) => return Ok(null_of(p)),
        (Value::Missing, _) => return Err(format!("invalid value; expected {}", param_name(p))),
        _ => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(format!(
            "wrong type for value; expected {}; got {}",
            param_name(p),
            v.type_name()
        ))
    }
}

/// A number constant as an `interface{}` argument: an int unless written as a float.
fn ideal_constant(pos: usize, node: &Arg, n: &Number) -> R<Value> {
    let t = &n.text;
    let is_hex = t
        .trim_start_matches(['+', '-'])
        .to_ascii_lowercase()
        .starts_with("0x");
    if !is_hex && !t.starts_with('\'') && t.contains(['.', 'e', 'E', 'p', 'P']) {
        if let Some(f) = n.float {
            return Ok(Value::Float(f));
        }
    }
    if let Some(i) = n.int {
        return Ok(Value::Int(i));
    }
    if let Some(f) = n.float {
        if t.contains(['.', 'e', 'E']) {
            return Ok(Value::Float(f));
        }
        return err(pos, node, format!("{t} overflows int"));
    }
    err(pos, node, format!("{t} is not a number"))
}

/// `.name` of a value, with `missingkey=zero`.
fn field(v: &Value, name: &str) -> Result<Value, String> {
    Ok(match v {
        Value::Missing => Value::Missing,
        Value::StrMap(m) => Value::Str(m.get(name).cloned().unwrap_or_default()),
        Value::AnyMap(m) => m.get(name).cloned().unwrap_or(Value::Missing),
        Value::Data(d) => match name {
            "Labels" => Value::StrMap(Rc::new(d.labels.clone())),
            "ExternalLabels" => Value::StrMap(Rc::new(d.external_labels.clone())),
            "ExternalURL" => Value::Str(d.external_url.clone()),
            "Value" => Value::Float(d.value),
            _ => {
                return Err(format!(
                    "can't evaluate field {name} in type {}",
                    v.type_name()
                ))
            }
        },
        Value::Sample(s) => sample_field(s, name)?,
        Value::List(..) | Value::Kv(_) | Value::Struct(..) | Value::ZonedTime(_) => {
            amdata::field(v, name)?
        }
        Value::NilSample => {
            return Err(format!("nil pointer evaluating *template.sample.{name}"));
        }
        Value::Time(ns) => match name {
            "Unix" => Value::Int(ns.div_euclid(1_000_000_000)),
            "UnixMilli" => Value::Int(ns.div_euclid(1_000_000)),
            "UnixNano" => Value::Int(*ns),
            "UTC" | "Local" => Value::Time(*ns),
            "String" => Value::Str(v.sprint()),
            _ => {
                return Err(format!("can't evaluate field {name} in type *time.Time"));
            }
        },
        other => {
            return Err(format!(
                "can't evaluate field {name} in type {}",
                other.type_name()
            ))
        }
    })
}

fn sample_field(s: &Sample, name: &str) -> Result<Value, String> {
    Ok(match name {
        "Labels" => Value::StrMap(Rc::new(s.labels.clone())),
        "Value" => Value::Float(s.value),
        _ => {
            return Err(format!(
                "can't evaluate field {name} in type *template.sample"
            ))
        }
    })
}

//! Prometheus' alert templates: the subset of Go's `text/template` that rule labels and
//! annotations use (`{{ $labels.instance }}`, `{{ $value | humanize }}`, `if`/`range`/`with`,
//! pipelines, `printf`, …) with Prometheus' functions, executed the way Prometheus does it
//! (`missingkey=zero`, the `$labels`/`$externalLabels`/`$externalURL`/`$value` variables
//! declared by a prefix, so positions in messages are Prometheus' too).

mod amdata;
mod exec;
mod funcs;
mod lex;
mod parse;
mod printf;
mod timefmt;
mod value;

use std::rc::Rc;

pub use amdata::pair;
pub use funcs::{humanize, humanize1024, humanize_duration, query_escape};
pub use timefmt::{format_layout, ZonedTime, ZERO_TIME_SECS};
pub use value::{sorted_pairs, AlertData, ListKind, Sample, Value};

/// Runs a PromQL query at the template's evaluation time (the `query` function).
pub type QueryFn<'a> = dyn Fn(&str) -> Result<Vec<Sample>, String> + 'a;

/// What template functions may reach outside the template.
#[derive(Default, Clone, Copy)]
pub struct FuncContext<'a> {
    /// `query`; without it `query` fails.
    pub query: Option<&'a QueryFn<'a>>,
    /// What `externalURL` and `pathPrefix` return: the server's external URL. promtool
    /// has none, and there these functions fail with Go's nil-pointer message.
    pub external_url: Option<&'a str>,
}

/// The definitions Prometheus puts before every alert template.
const ALERT_DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// A template that failed, with Go's message (`template: NAME:LINE: …` or
/// `template: NAME:LINE:COL: executing "NAME" at <NODE>: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template: {name}:{line}: {msg}")]
    Parse {
        name: String,
        line: usize,
        msg: String,
    },
    #[error("template: {name}:{line}:{col}: executing {name:?} at <{node}>: {msg}")]
    Exec {
        name: String,
        line: usize,
        col: usize,
        node: String,
        msg: String,
    },
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    text: String,
    nodes: parse::List,
}

impl Template {
    /// Parses `text` as a Prometheus alert template; `name` appears in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
        Template::parse_with(name, text, &funcs::in_prometheus)
    }

    /// Parses `text` as an Alertmanager notification template: Go's builtins and
    /// Alertmanager's functions (`toUpper`, `join`, `stringSlice`, `date`, `tz`, …), for
    /// data built from [`Value::Struct`], [`Value::Kv`], [`Value::List`] and
    /// [`Value::ZonedTime`]. `define`/`template` are not supported.
    pub fn parse_notification(name: &str, text: &str) -> Result<Template, TemplateError> {
        Template::parse_with(name, text, &amdata::in_alertmanager)
    }

    fn parse_with(
        name: &str,
        text: &str,
        has_func: &dyn Fn(&str) -> bool,
    ) -> Result<Template, TemplateError> {
        let nodes = parse::parse(text, has_func).map_err(|e| TemplateError::Parse {
            name: name.to_string(),
            line: e.line,
            msg: e.msg,
        })?;
        Ok(Template {
            name: name.to_string(),
            text: text.to_string(),
            nodes,
        })
    }

    /// Executes the template with `data` as dot (and `$`).
    pub fn execute(&self, data: &Value, ctx: &FuncContext) -> Result<String, TemplateError> {
        let mut st = exec::State {
            ctx,
            vars: vec![("$".to_string(), data.clone())],
            out: String::new(),
        };
        st.run(data, &self.nodes).map_err(|e| {
            let before = &self.text[..e.pos.min(self.text.len())];
            let line = 1 + before.matches('\n').count();
            let col = match before.rfind('\n') {
                Some(i) => e.pos - i - 1,
                None => e.pos,
            };
            TemplateError::Exec {
                name: self.name.clone(),
                line,
                col,
                node: e.node,
                msg: e.msg,
            }
        })?;
        Ok(st.out)
    }
}

/// The name Prometheus gives the templates of alerting rule `alert`.
pub fn alert_template_name(alert: &str) -> String {
    format!("__alert_{alert}")
}

/// Checks that a label or annotation template of alerting rule `alert` parses, as
/// `promtool check rules` does.
pub fn check_alert_template(alert: &str, text: &str) -> Result<(), TemplateError> {
    Template::parse(&alert_template_name(alert), &format!("{ALERT_DEFS}{text}")).map(|_| ())
}

/// Expands a label or annotation template of alerting rule `alert` for one alert.
/// On failure Prometheus puts `<error expanding template: …>` in the value: see
/// [`expand_alert_or_error`].
pub fn expand_alert(
    alert: &str,
    text: &str,
    data: &AlertData,
    ctx: &FuncContext,
) -> Result<String, String> {
    let name = alert_template_name(alert);
    let t = Template::parse(&name, &format!("{ALERT_DEFS}{text}"))
        .map_err(|e| format!("error parsing template {name}: {e}"))?;
    t.execute(&Value::Data(Rc::new(data.clone())), ctx)
        .map_err(|e| format!("error executing template {name}: {e}"))
}

/// [`expand_alert`], with Prometheus' replacement text on failure.
pub fn expand_alert_or_error(
    alert: &str,
    text: &str,
    data: &AlertData,
    ctx: &FuncContext,
) -> String {
    // Most labels and annotations are plain text: no need to parse them.
    if !text.contains("{{") {
        return text.to_string();
    }
    match expand_alert(alert, text, data, ctx) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(alert, error = %e, "expanding alert template failed");
            format!("<error expanding template: {e}>")
        }
    }
}

#[cfg(test)]
mod tests;

//! What the integrations share: the request they build, how a response is judged, where
//! a URL comes from (inline secret or `*_file`), and the title/text of chat messages —
//! the user's Go templates or argus' defaults — cut to a vendor's size limit.

use std::sync::Arc;

use argus_core::tz::Zone;

use super::data::template_data;
use super::http_config::read_secret_file;
use super::message::{self, Flavor};
use crate::notify::Notification;
use crate::notify::Secret;
use crate::template::{FuncContext, Template};

/// An HTTP request to a receiver. The URL may hold a key: `Debug` does not print it.
#[derive(Clone)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("url", &"<secret>")
            .field(
                "headers",
                &self.headers.iter().map(|h| &h.0).collect::<Vec<_>>(),
            )
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

/// How a delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// Worth retrying (transport error, 5xx).
    Retry(String),
    /// The receiver asks to slow down (429, a vendor's rate-limit code): retried later.
    RateLimited(String),
    /// Retrying cannot help (4xx, a vendor's error code).
    Permanent(String),
}

/// The verdict from the HTTP status alone; `None` for 2xx, where the vendor's body decides.
pub fn http_verdict(status: u16, body: &[u8]) -> Option<Verdict> {
    let msg = || format!("HTTP {status}{}", body_snippet(body));
    match status {
        200..=299 => None,
        429 => Some(Verdict::RateLimited(msg())),
        500..=599 => Some(Verdict::Retry(msg())),
        _ => Some(Verdict::Permanent(msg())),
    }
}

/// `: <first 200 characters of the body>` (one line), or nothing for an empty body.
pub fn body_snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let s = s.trim();
    if s.is_empty() {
        return String::new();
    }
    let mut out: String = s.chars().take(200).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!(": {}", out.replace(['\n', '\r'], " "))
}

/// Judges a chat vendor's JSON answer: success when the first of `code_fields` present is
/// 0, rate-limited when it is one of `rate_codes`, else a permanent error with the
/// vendor's message.
pub fn json_code_verdict(
    vendor: &str,
    body: &[u8],
    code_fields: &[&str],
    msg_fields: &[&str],
    rate_codes: &[i64],
) -> Verdict {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Verdict::Permanent(format!(
            "unexpected {vendor} response{}",
            body_snippet(body)
        ));
    };
    let code = code_fields
        .iter()
        .find_map(|f| v.get(*f).and_then(serde_json::Value::as_i64));
    let msg = msg_fields
        .iter()
        .find_map(|f| v.get(*f).and_then(serde_json::Value::as_str))
        .unwrap_or("");
    match code {
        Some(0) => Verdict::Success,
        Some(c) if rate_codes.contains(&c) => {
            Verdict::RateLimited(format!("{vendor} error {c}: {msg}"))
        }
        Some(c) => Verdict::Permanent(format!("{vendor} error {c}: {msg}")),
        None => Verdict::Permanent(format!(
            "unexpected {vendor} response{}",
            body_snippet(body)
        )),
    }
}

/// Checks that a configured URL is an absolute http(s) URL. The error never shows it.
pub fn check_url(field: &str, url: &str) -> Result<(), String> {
    let ok = url
        .parse::<hyper::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
    match ok {
        Some(_) => Ok(()),
        None => Err(format!(
            "{field}: not an absolute http or https URL (value not shown)"
        )),
    }
}

/// Where an integration's URL comes from.
#[derive(Debug, Clone)]
pub enum UrlSource {
    Inline(Secret),
    /// A file read at every delivery (`url_file`, `api_url_file`): the field name, the path.
    File(&'static str, String),
}

impl UrlSource {
    /// From the config's `url` and `url_file`: exactly one must be set. `field` names them
    /// (`url` → `url`/`url_file`).
    pub fn from_config(
        field: &'static str,
        file_field: &'static str,
        url: &Option<Secret>,
        file: &Option<String>,
    ) -> Result<UrlSource, String> {
        match (url, file) {
            (Some(_), Some(_)) => Err(format!(
                "{field}: at most one of {field} and {file_field} must be configured"
            )),
            (Some(u), None) => {
                check_url(field, u.expose())?;
                Ok(UrlSource::Inline(u.clone()))
            }
            (None, Some(f)) if !f.is_empty() => Ok(UrlSource::File(file_field, f.clone())),
            _ => Err(format!("{field}: missing (set {field} or {file_field})")),
        }
    }

    /// The URL now.
    pub async fn resolve(&self) -> Result<String, String> {
        match self {
            UrlSource::Inline(s) => Ok(s.expose().to_string()),
            UrlSource::File(field, path) => {
                let u = read_secret_file(path, field).await?;
                check_url(field, &u)?;
                Ok(u)
            }
        }
    }
}

/// A template field of an integration, parsed; the error names the field.
pub fn parse_template(field: &str, text: &Option<String>) -> Result<Option<Template>, String> {
    match text {
        None => Ok(None),
        Some(t) => Template::parse_notification(field, t)
            .map(Some)
            .map_err(|e| format!("{field}: {e}")),
    }
}

/// The time zone of an integration; the error names the field.
pub fn load_zone(time_zone: &str) -> Result<Arc<Zone>, String> {
    Zone::load(time_zone).map_err(|e| format!("time_zone: {e}"))
}

/// Executes a notification template with `.Alerts` limited to the first `k` alerts.
pub fn execute(
    t: &Template,
    n: &Notification,
    k: usize,
    zone: &Arc<Zone>,
) -> Result<String, String> {
    let k = k.min(n.alerts.len());
    t.execute(
        &template_data(n, &n.alerts[..k], zone),
        &FuncContext::default(),
    )
    .map_err(|e| e.to_string())
}

/// Executes `t`; when `cost` of the output is over `limit`, renders it again with fewer
/// alerts (the most that fit, found by bisection) and appends "and N more"; as a last
/// resort cuts the output on a character boundary.
pub fn render_fit(
    t: &Template,
    n: &Notification,
    zone: &Arc<Zone>,
    flavor: Flavor,
    limit: usize,
    cost: &dyn Fn(&str) -> usize,
) -> Result<String, String> {
    let total = n.alerts.len();
    let full = execute(t, n, total, zone)?;
    if cost(&full) <= limit {
        return Ok(full);
    }
    let with_k = |k: usize| -> Result<String, String> {
        Ok(execute(t, n, k, zone)? + &message::more_line(flavor, total - k))
    };
    // The largest k < total whose output fits.
    let (mut lo, mut hi) = (0usize, total);
    let mut best: Option<String> = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let out = with_k(mid)?;
        if cost(&out) <= limit {
            best = Some(out);
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    match best {
        Some(b) => Ok(b),
        None => {
            let more = message::more_line(flavor, total);
            let zero = execute(t, n, 0, zone)?;
            Ok(message::cut_to(&zero, limit.saturating_sub(cost(&more)), cost) + &more)
        }
    }
}

/// The title and text of a chat integration: the user's templates or argus' defaults, in
/// the integration's time zone.
#[derive(Debug, Clone)]
pub struct ChatTexts {
    pub title: Option<Template>,
    pub text: Option<Template>,
    pub zone: Arc<Zone>,
    pub flavor: Flavor,
}

impl ChatTexts {
    pub fn new(
        title: &Option<String>,
        text_field: &str,
        text: &Option<String>,
        time_zone: &str,
        flavor: Flavor,
    ) -> Result<ChatTexts, String> {
        Ok(ChatTexts {
            title: parse_template("title", title)?,
            text: parse_template(text_field, text)?,
            zone: load_zone(time_zone)?,
            flavor,
        })
    }

    /// The title: the `title` template or `[FIRING:n] …`, cut to `limit` characters.
    pub fn title(&self, n: &Notification, limit_chars: usize) -> Result<String, String> {
        let t = match &self.title {
            Some(t) => execute(t, n, n.alerts.len(), &self.zone)?,
            None => message::default_title(n),
        };
        Ok(message::cut_to(&t, limit_chars, &|s: &str| {
            s.chars().count()
        }))
    }

    /// The body: the `text` template as is, or argus' default (with the title as a
    /// heading when `heading`), fitted to `limit` by `cost`.
    pub fn body(
        &self,
        n: &Notification,
        heading: Option<&str>,
        limit: usize,
        cost: &dyn Fn(&str) -> usize,
    ) -> Result<String, String> {
        if let Some(t) = &self.text {
            return render_fit(t, n, &self.zone, self.flavor, limit, cost);
        }
        let Some(h) = heading else {
            return Ok(message::default_text(
                n,
                &self.zone,
                self.flavor,
                false,
                limit,
                cost,
            ));
        };
        let head = match self.flavor {
            Flavor::Slack => format!("*{h}*"),
            _ => format!("### {h}"),
        };
        let sep = if self.flavor == Flavor::DingTalk {
            "\n\n"
        } else {
            "\n"
        };
        let room = limit.saturating_sub(cost(&head) + cost(sep));
        let rest = message::default_text(n, &self.zone, self.flavor, false, room, cost);
        Ok(format!("{head}{sep}{rest}"))
    }
}

/// The JSON-encoded length of a string's content (what it adds to a JSON body).
pub fn json_len(s: &str) -> usize {
    serde_json::to_string(s)
        .map(|j| j.len() - 2)
        .unwrap_or(s.len() * 6)
}

/// The number of Unicode scalar values (Slack's "characters").
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Replaces every occurrence of the secrets (and of URL query values that look like
/// keys) in a message with `<secret>`, in case a receiver echoes them in an error.
pub fn redact(msg: &str, secrets: &[&str]) -> String {
    let mut out = msg.to_string();
    let mut all: Vec<String> = Vec::new();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        all.push(s.to_string());
        if let Some((_, q)) = s.split_once('?') {
            all.extend(
                q.split('&')
                    .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_string()))
                    .filter(|v| v.len() >= 8),
            );
        }
        if let Ok(u) = s.parse::<hyper::Uri>() {
            if u.path().len() >= 8 {
                all.push(u.path().to_string());
            }
        }
    }
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in all {
        out = out.replace(&s, "<secret>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_from_status_and_vendor_codes() {
        assert_eq!(http_verdict(204, b""), None);
        assert!(matches!(
            http_verdict(429, b""),
            Some(Verdict::RateLimited(_))
        ));
        assert!(
            matches!(http_verdict(503, b"busy"), Some(Verdict::Retry(m)) if m == "HTTP 503: busy")
        );
        assert!(matches!(http_verdict(400, b""), Some(Verdict::Permanent(m)) if m == "HTTP 400"));
        assert!(matches!(
            http_verdict(302, b""),
            Some(Verdict::Permanent(_))
        ));
        let v = |b: &str| {
            json_code_verdict(
                "DingTalk",
                b.as_bytes(),
                &["errcode"],
                &["errmsg"],
                &[130101],
            )
        };
        assert_eq!(v(r#"{"errcode":0,"errmsg":"ok"}"#), Verdict::Success);
        assert!(
            matches!(v(r#"{"errcode":130101,"errmsg":"send too fast"}"#), Verdict::RateLimited(m) if m == "DingTalk error 130101: send too fast")
        );
        assert!(matches!(
            v(r#"{"errcode":310000,"errmsg":"sign not match"}"#),
            Verdict::Permanent(_)
        ));
        assert!(
            matches!(v("<html>"), Verdict::Permanent(m) if m.starts_with("unexpected DingTalk response"))
        );
    }

    #[test]
    fn urls_are_checked_without_showing_them() {
        assert!(check_url(
            "url",
            "https://oapi.dingtalk.com/robot/send?access_token=abc"
        )
        .is_ok());
        let e = check_url("url", "oapi.dingtalk.com/robot/send?access_token=abc").expect_err("bad");
        assert!(!e.contains("abc"), "{e}");
        let e = UrlSource::from_config("url", "url_file", &None, &None).expect_err("missing");
        assert_eq!(e, "url: missing (set url or url_file)");
    }

    #[test]
    fn redaction_hides_urls_keys_and_secrets() {
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4";
        let msg = format!("bad key 693axxx6-7aoc-4bc4 for {url} (SEC123456)");
        let r = redact(&msg, &[url, "SEC123456"]);
        assert_eq!(r, "bad key <secret> for <secret> (<secret>)");
    }
}

//! argus' default chat messages: a subject with the status and counts, then one block
//! per alert (alertname, severity, where — namespace/pod, node or service —, summary,
//! description, start time in the integration's time zone, and links to the runbook, to
//! the argus UI with the pod's logs around the start, and to the alert's source). Blocks
//! are whole: a message cut to a vendor's size limit ends with "and N more".

use std::fmt::Write as _;

use argus_core::tz::Zone;

use crate::notify::{Alert, Notification};
use crate::template::ZonedTime;

use super::data::alert_status;
use super::sign::url_encode;

/// How a chat renders text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// DingTalk markdown: paragraphs need blank lines, `<font color=#…>`.
    DingTalk,
    /// WeCom markdown: `<font color="warning|info">`.
    WeCom,
    /// Feishu card markdown: `<font color='red|green'>`.
    Feishu,
    /// Slack mrkdwn: `*bold*`, `<url|text>`, `&<>` escaped.
    Slack,
}

impl Flavor {
    fn line_break(self) -> &'static str {
        match self {
            Flavor::DingTalk => "\n\n",
            _ => "\n",
        }
    }

    fn separator(self) -> &'static str {
        match self {
            Flavor::DingTalk => "\n\n---\n\n",
            _ => "\n\n",
        }
    }

    fn text(self, s: &str) -> String {
        match self {
            Flavor::Slack => s
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
            _ => s.to_string(),
        }
    }

    fn bold(self, s: &str) -> String {
        match self {
            Flavor::Slack => format!("*{}*", self.text(s)),
            _ => format!("**{s}**"),
        }
    }

    fn link(self, text: &str, url: &str) -> String {
        match self {
            Flavor::Slack => format!("<{}|{text}>", url.replace('|', "%7C").replace('>', "%3E")),
            _ => format!("[{text}]({})", url.replace(')', "%29").replace(' ', "%20")),
        }
    }

    fn status(self, firing: bool) -> String {
        let word = if firing { "FIRING" } else { "RESOLVED" };
        match (self, firing) {
            (Flavor::DingTalk, true) => format!("<font color=#FF0000>{word}</font>"),
            (Flavor::DingTalk, false) => format!("<font color=#008000>{word}</font>"),
            (Flavor::WeCom, true) => format!("<font color=\"warning\">{word}</font>"),
            (Flavor::WeCom, false) => format!("<font color=\"info\">{word}</font>"),
            (Flavor::Feishu, true) => format!("<font color='red'>{word}</font>"),
            (Flavor::Feishu, false) => format!("<font color='green'>{word}</font>"),
            (Flavor::Slack, _) => word.to_string(),
        }
    }
}

/// The firing and resolved counts.
pub fn counts(n: &Notification) -> (usize, usize) {
    let firing = n.alerts.iter().filter(|a| !a.resolved_at(n.now_ms)).count();
    (firing, n.alerts.len() - firing)
}

/// `[FIRING:2] <group label values>`, `[FIRING:2, RESOLVED:1] …` or `[RESOLVED:3] …`.
pub fn default_title(n: &Notification) -> String {
    let (firing, resolved) = counts(n);
    let status = match (firing, resolved) {
        (f, 0) => format!("FIRING:{f}"),
        (0, r) => format!("RESOLVED:{r}"),
        (f, r) => format!("FIRING:{f}, RESOLVED:{r}"),
    };
    let mut what: Vec<&str> = n.group_labels.iter().map(|l| l.value.as_str()).collect();
    let common = n.common_labels();
    if what.is_empty() {
        if let Some(a) = common.get("alertname") {
            what.push(a);
        }
    }
    if what.is_empty() {
        format!("[{status}] {} alerts", n.alerts.len())
    } else {
        format!("[{status}] {}", what.join(" "))
    }
}

/// The argus UI showing the logs of the alert's pod from 15 minutes before its start to 15
/// minutes after: `<external_url>/#query=<{namespace="…",pod="…"}>&range=custom&start=…&end=…`.
/// `None` without an external URL or a `pod` label.
pub fn logs_link(external_url: &str, a: &Alert) -> Option<String> {
    let base = external_url.trim_end_matches('/');
    let pod = a.labels.get("pod")?;
    if base.is_empty() {
        return None;
    }
    let quote = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    let selector = match a.labels.get("namespace") {
        Some(ns) => format!("{{namespace=\"{}\",pod=\"{}\"}}", quote(ns), quote(pod)),
        None => format!("{{pod=\"{}\"}}", quote(pod)),
    };
    let start = a.starts_at_ms.div_euclid(1000);
    Some(format!(
        "{base}/#query={}&range=custom&start={}&end={}",
        url_encode(&selector),
        start - 900,
        start + 900
    ))
}

/// Where the alert is: `namespace/pod`, the node, the service or the instance.
fn location(a: &Alert) -> Option<(&'static str, String)> {
    let l = |n: &str| a.labels.get(n).filter(|v| !v.is_empty());
    let with_ns = |v: &str| match l("namespace") {
        Some(ns) => format!("{ns}/{v}"),
        None => v.to_string(),
    };
    if let Some(p) = l("pod") {
        return Some(("Pod", with_ns(p)));
    }
    if let Some(n) = l("node") {
        return Some(("Node", n.to_string()));
    }
    if let Some(s) = l("service") {
        return Some(("Service", with_ns(s)));
    }
    if let Some(ns) = l("namespace") {
        return Some(("Namespace", ns.to_string()));
    }
    l("instance").map(|i| ("Instance", i.to_string()))
}

/// `2006-01-02 15:04:05 MST` in `zone`.
pub fn format_time(ms: i64, zone: &std::sync::Arc<Zone>) -> String {
    ZonedTime::from_unix_ms(ms, zone.clone())
        .in_zone(zone.clone())
        .format("2006-01-02 15:04:05 MST")
}

/// One alert's block.
pub fn alert_block(
    a: &Alert,
    n: &Notification,
    zone: &std::sync::Arc<Zone>,
    flavor: Flavor,
) -> String {
    let firing = alert_status(a, n.now_ms) == "firing";
    let br = flavor.line_break();
    let mut out = String::new();
    let name = a.labels.get("alertname").unwrap_or("alert");
    out.push_str(&flavor.bold(name));
    if let Some(sev) = a.labels.get("severity").filter(|s| !s.is_empty()) {
        let _ = write!(out, " · {}", flavor.text(sev));
    }
    let _ = write!(out, " · {}", flavor.status(firing));
    if let Some((what, v)) = location(a) {
        let _ = write!(out, "{br}{what}: {}", flavor.text(&v));
    }
    for (key, label) in [("summary", "Summary"), ("description", "Description")] {
        if let Some(v) = a.annotations.get(key).filter(|v| !v.trim().is_empty()) {
            let _ = write!(out, "{br}{label}: {}", flavor.text(v.trim()));
        }
    }
    let _ = write!(out, "{br}Started: {}", format_time(a.starts_at_ms, zone));
    if !firing {
        let _ = write!(out, " · Resolved: {}", format_time(a.ends_at_ms, zone));
    }
    let mut links = Vec::new();
    let runbook = a
        .annotations
        .get("runbook_url")
        .or_else(|| a.annotations.get("runbook"))
        .filter(|u| !u.is_empty());
    if let Some(u) = runbook {
        links.push(flavor.link("Runbook", u));
    }
    if let Some(u) = logs_link(&n.external_url, a) {
        links.push(flavor.link("Logs", &u));
    }
    if !a.generator_url.is_empty() {
        links.push(flavor.link("Source", &a.generator_url));
    }
    if !links.is_empty() {
        let _ = write!(out, "{br}{}", links.join(" | "));
    }
    out
}

/// The "and N more" line that ends a cut message.
pub fn more_line(flavor: Flavor, n: usize) -> String {
    format!("{}and {n} more", flavor.separator())
}

/// The default message body: an optional heading with the subject, then whole alert
/// blocks while `cost` of the result stays within `limit`, then "and N more".
pub fn default_text(
    n: &Notification,
    zone: &std::sync::Arc<Zone>,
    flavor: Flavor,
    heading: bool,
    limit: usize,
    cost: &dyn Fn(&str) -> usize,
) -> String {
    let mut out = String::new();
    if heading {
        let title = default_title(n);
        match flavor {
            Flavor::Slack => out.push_str(&flavor.bold(&title)),
            _ => {
                out.push_str("### ");
                out.push_str(&title);
            }
        }
    }
    let total = n.alerts.len();
    for (i, a) in n.alerts.iter().enumerate() {
        let block = alert_block(a, n, zone, flavor);
        let mut candidate = out.clone();
        if !candidate.is_empty() {
            candidate.push_str(flavor.separator());
        }
        candidate.push_str(&block);
        let rest = total - i - 1;
        let reserve = if rest > 0 {
            cost(&more_line(flavor, rest))
        } else {
            0
        };
        if cost(&candidate) + reserve > limit {
            let more = more_line(flavor, total - i);
            if out.is_empty() {
                // Not even one block fits: a cut block beats none.
                return cut_to(&candidate, limit.saturating_sub(cost(&more)), cost) + &more;
            }
            out.push_str(&more);
            return out;
        }
        out = candidate;
    }
    out
}

/// The longest prefix of `s`, ending on a character boundary, whose cost is at most
/// `limit`, with `…` appended when cut.
pub fn cut_to(s: &str, limit: usize, cost: &dyn Fn(&str) -> usize) -> String {
    if cost(s) <= limit {
        return s.to_string();
    }
    let ell = cost("…");
    let mut end = s.len().min(limit);
    loop {
        while end > 0 && !s.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 || cost(&s[..end]) + ell <= limit {
            break;
        }
        // Shrink by the overshoot (at least one byte).
        let over = cost(&s[..end]) + ell - limit;
        end = end.saturating_sub(over.max(1));
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::Labels;

    fn alert(i: usize, end: i64) -> Alert {
        Alert {
            labels: Labels::new([
                ("alertname", "PodCrashLooping"),
                ("namespace", "shop"),
                ("pod", &format!("api-{i}")),
                ("severity", "critical"),
            ]),
            annotations: [
                ("summary".to_string(), "容器反复重启".to_string()),
                (
                    "description".to_string(),
                    "Pod restarted 5 times".to_string(),
                ),
                (
                    "runbook_url".to_string(),
                    "https://runbooks/crash".to_string(),
                ),
            ]
            .into(),
            starts_at_ms: 1_700_000_000_000,
            ends_at_ms: end,
            generator_url: "http://prom:9090/graph?g0.expr=x".into(),
            updated_at_ms: 0,
        }
    }

    fn notification(k: usize) -> Notification {
        Notification {
            receiver: "r".into(),
            group_key: "{}:{}".into(),
            group_labels: Labels::new([("alertname", "PodCrashLooping")]),
            alerts: (0..k).map(|i| alert(i, 0)).collect(),
            external_url: "https://argus.example/".into(),
            now_ms: 1_700_000_500_000,
        }
    }

    #[test]
    fn default_message_has_everything() {
        let n = notification(1);
        let zone = Zone::load("+08:00").expect("zone");
        let text = default_text(&n, &zone, Flavor::WeCom, true, 4096, &str::len);
        assert!(
            text.starts_with("### [FIRING:1] PodCrashLooping\n"),
            "{text}"
        );
        for want in [
            "**PodCrashLooping** · critical · <font color=\"warning\">FIRING</font>",
            "Pod: shop/api-0",
            "Summary: 容器反复重启",
            "Description: Pod restarted 5 times",
            "Started: 2023-11-15 06:13:20 +0800",
            "[Runbook](https://runbooks/crash)",
            "[Source](http://prom:9090/graph?g0.expr=x)",
            "[Logs](https://argus.example/#query=%7Bnamespace%3D%22shop%22%2Cpod%3D%22api-0%22%7D&range=custom&start=1699999100&end=1700000900)",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let slack = default_text(&n, &zone, Flavor::Slack, false, 40_000, &str::len);
        assert!(
            slack.contains("<https://runbooks/crash|Runbook>"),
            "{slack}"
        );
        assert!(
            slack.starts_with("*PodCrashLooping* · critical · FIRING"),
            "{slack}"
        );
    }

    #[test]
    fn titles_count_firing_and_resolved() {
        let mut n = notification(3);
        assert_eq!(default_title(&n), "[FIRING:3] PodCrashLooping");
        n.alerts[0].ends_at_ms = 1_700_000_100_000;
        assert_eq!(default_title(&n), "[FIRING:2, RESOLVED:1] PodCrashLooping");
        for a in &mut n.alerts {
            a.ends_at_ms = 1_700_000_100_000;
        }
        assert_eq!(default_title(&n), "[RESOLVED:3] PodCrashLooping");
        n.group_labels = Labels::default();
        assert_eq!(default_title(&n), "[RESOLVED:3] PodCrashLooping");
        let text = default_text(&n, &Zone::utc(), Flavor::DingTalk, false, 20_000, &str::len);
        assert!(text.contains("Resolved: 2023-11-14 22:15:00 UTC"), "{text}");
        assert!(
            text.contains("<font color=#008000>RESOLVED</font>"),
            "{text}"
        );
    }

    #[test]
    fn long_groups_keep_whole_alerts() {
        let n = notification(200);
        let text = default_text(&n, &Zone::utc(), Flavor::WeCom, true, 4096, &str::len);
        assert!(text.len() <= 4096, "{}", text.len());
        let shown = text.matches("**PodCrashLooping**").count();
        assert!(shown > 3 && shown < 200, "{shown}");
        assert!(
            text.ends_with(&format!("\n\nand {} more", 200 - shown)),
            "{}",
            &text[text.len() - 40..]
        );
        // Every shown block is complete: it has its links line.
        assert_eq!(text.matches("[Runbook]").count(), shown);
    }

    #[test]
    fn cuts_never_split_characters() {
        let s = "告警".repeat(100);
        for limit in 0..40 {
            let c = cut_to(&s, limit, &str::len);
            assert!(c.len() <= limit.max(3), "{limit}: {}", c.len());
            assert!(c.ends_with('…'));
        }
        assert_eq!(cut_to("short", 10, &str::len), "short");
    }
}

//! The Prometheus configs the docs give users are valid: every ```yaml block of
//! `docs/http-api.md` that starts with `scrape_configs:` passes the real
//! `promtool check config`. Debian's Prometheus 2.42 is built without the Kubernetes
//! service discovery, so `kubernetes_sd_configs: [{role: pod}]` is checked as a static
//! target list there; everything else (relabelling, regexes, paths, fields) is checked as
//! written.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn yaml_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line.trim_start()) {
            (None, "```yaml") => cur = Some(String::new()),
            (Some(_), "```") => out.extend(cur.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn documented_prometheus_scrape_configs_pass_promtool() {
    let md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/http-api.md")).unwrap();
    let configs: Vec<String> = yaml_blocks(&md)
        .into_iter()
        .filter(|b| b.starts_with("scrape_configs:"))
        .collect();
    assert!(configs.len() >= 2, "the docs' scrape configs: {configs:?}");
    let dir = tempfile::tempdir().unwrap();
    for (i, c) in configs.iter().enumerate() {
        let path = dir.path().join(format!("prometheus-{i}.yml"));
        let checked = c.replace(
            "kubernetes_sd_configs: [{role: pod}]",
            "static_configs: [{targets: [\"pod:9401\"]}]",
        );
        std::fs::write(&path, checked).unwrap();
        let out = Command::new("promtool")
            .args(["check", "config"])
            .arg(&path)
            .output()
            .expect("promtool (Debian prometheus) must be installed");
        assert!(
            out.status.success(),
            "promtool rejects the docs' config #{i}:\n{c}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

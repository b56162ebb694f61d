use super::*;
use crate::notify::Secret;

const FULL: &str = r#"
global:
  resolve_timeout: 1m
  slack_api_url: https://hooks.slack.example/T0/B0/XXXX
  smtp_smarthost: localhost:25
  smtp_from: am@example.org
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_key: k
  wechat_api_secret: s
  victorops_api_key: v
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
  http_config:
    basic_auth: {username: u, password: hunter2}
templates: []
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: ['severity="critical"', 'team=~"a|b"']
    receiver: crit
    continue: true
    routes:
    - match: {svc: api}
      group_by: ['...']
  - match_re: {team: 'ops.*'}
    receiver: ops
    group_wait: 10s
    group_interval: 1m
    repeat_interval: 1h
receivers:
- name: default
  webhook_configs:
  - url: http://127.0.0.1:1/hook
- name: crit
  slack_configs:
  - api_url: https://hooks.slack.example/secret
- name: ops
  webhook_configs:
inhibit_rules:
- source_matchers: [severity="critical"]
  target_match: {severity: warning}
  equal: [alertname]
"#;

fn parse(y: &str) -> Result<Config, String> {
    Config::parse(y, "am.yml")
}

fn err(y: &str) -> String {
    parse(y).expect_err("should fail")
}

#[test]
fn full_config_loads() {
    let c = parse(FULL).expect("valid");
    assert_eq!(c.global.resolve_timeout_ms, 60_000);
    assert_eq!(
        c.global.slack_api_url.as_ref().map(Secret::expose),
        Some("https://hooks.slack.example/T0/B0/XXXX")
    );
    assert_eq!(c.route.receiver.as_deref(), Some("default"));
    assert_eq!(c.route.routes.len(), 2);
    let crit = &c.route.routes[0];
    assert!(crit.continue_);
    assert_eq!(
        crit.matchers
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>(),
        ["severity=\"critical\"", "team=~\"a|b\""]
    );
    assert!(crit.routes[0].group_by_all);
    assert_eq!(c.route.routes[1].group_wait_ms, Some(10_000));
    assert_eq!(c.route.routes[1].repeat_interval_ms, Some(3_600_000));
    assert_eq!(
        c.route.routes[1].all_matchers()[0].to_string(),
        "team=~\"^(?:ops.*)$\""
    );
    assert_eq!(c.receivers.len(), 3);
    assert!(c.receiver("ops").is_some());
    assert_eq!(c.inhibit_rules.len(), 1);
    assert_eq!(c.inhibit_rules[0].equal, ["alertname"]);
    assert_eq!(
        c.inhibit_rules[0].target()[0].to_string(),
        "severity=\"warning\""
    );
}

#[test]
fn defaults_and_empty_sections() {
    let c = parse("route: {receiver: r}\nreceivers: [{name: r}]\n").expect("valid");
    assert_eq!(c.global.resolve_timeout_ms, 300_000);
    assert!(c.inhibit_rules.is_empty());
    // `group_by: []` inherits (Alertmanager keeps the list nil).
    let c = parse("route: {receiver: r, group_by: []}\nreceivers: [{name: r}]\n").expect("ok");
    assert_eq!(c.route.group_by, None);
}

#[test]
fn unknown_fields_name_their_path_and_line() {
    let y = "route:\n  receiver: r\n  routes:\n  - receiver: r\n  - receiver: r\n    grup_by: [a]\nreceivers:\n- name: r\n";
    assert_eq!(err(y), "am.yml:6: route.routes[1].grup_by: unknown field");
    assert_eq!(
        err("foo: 1\nroute: {receiver: r}\nreceivers: [{name: r}]\n"),
        "am.yml:1: foo: unknown field"
    );
    assert_eq!(
        err("global: {smtp_nope: 1}\nroute: {receiver: r}\n"),
        "am.yml:1: global.smtp_nope: unknown field"
    );
    let e = err("route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{urll: x}]}]\n");
    assert!(
        e.starts_with("am.yml:2: receivers[0]: receiver \"r\": "),
        "{e}"
    );
    assert!(e.contains("unknown field `urll`"), "{e}");
}

#[test]
fn unsupported_receivers_and_features() {
    let y = "route: {receiver: ops}\nreceivers:\n- name: ops\n  email_configs: [{to: a@b}]\n";
    assert_eq!(
        err(y),
        "am.yml:4: receiver \"ops\": email_configs is not supported by argus (supported: webhook_configs, slack_configs, dingtalk_configs, wecom_configs, feishu_configs)"
    );
    for kind in UNSUPPORTED_KINDS {
        let y = format!("route: {{receiver: r}}\nreceivers:\n- name: r\n  {kind}: [{{}}]\n");
        assert!(
            err(&y).contains(&format!("{kind} is not supported by argus")),
            "{kind}"
        );
    }
    assert_eq!(
        err("templates: ['/etc/am/*.tmpl']\nroute: {receiver: r}\nreceivers: [{name: r}]\n"),
        "am.yml:1: templates: custom template files are not supported; set title/text per receiver"
    );
    assert_eq!(
        err("time_intervals: [{name: x}]\nroute: {receiver: r}\nreceivers: [{name: r}]\n"),
        "am.yml:1: time_intervals: time_intervals are not supported by argus"
    );
    assert!(
        err("mute_time_intervals: [{name: x}]\nroute: {receiver: r}\n")
            .contains("mute_time_intervals are not supported")
    );
    assert!(err(
        "route: {receiver: r, routes: [{mute_time_intervals: [x]}]}\nreceivers: [{name: r}]\n"
    )
    .contains("route.routes[0].mute_time_intervals: time intervals are not supported"));
    // Empty lists are fine.
    parse("time_intervals: []\nmute_time_intervals:\ntemplates:\nroute: {receiver: r}\nreceivers: [{name: r}]\n")
        .expect("empty is fine");
}

#[test]
fn validation_as_alertmanager() {
    let cases = [
        ("receivers: [{name: r}]\n", "am.yml: route: no routes provided"),
        ("route: {group_by: [a]}\nreceivers: [{name: r}]\n", "am.yml:1: route: root route must specify a default receiver"),
        ("route: {receiver: r, matchers: [a=b]}\nreceivers: [{name: r}]\n", "am.yml:1: route: root route must not have any matchers"),
        ("route: {receiver: r, match: {a: b}}\nreceivers: [{name: r}]\n", "am.yml:1: route: root route must not have any matchers"),
        ("route: {receiver: x}\nreceivers: [{name: r}]\n", "am.yml:1: route.receiver: undefined receiver \"x\" used in route"),
        ("route:\n  receiver: r\n  routes:\n  - receiver: nope\nreceivers: [{name: r}]\n", "am.yml:4: route.routes[0].receiver: undefined receiver \"nope\" used in route"),
        ("route: {receiver: r}\nreceivers: [{name: r}, {name: r}]\n", "am.yml:2: receivers[1].name: notification config name \"r\" is not unique"),
        ("route: {receiver: r}\nreceivers: [{webhook_configs: []}]\n", "am.yml:2: receivers[0]: missing name in receiver"),
        ("route: {receiver: r, group_by: [a-b]}\nreceivers: [{name: r}]\n", "am.yml:1: route.group_by[0]: invalid label name \"a-b\" in group_by list"),
        ("route: {receiver: r, group_by: [a, a]}\nreceivers: [{name: r}]\n", "am.yml:1: route.group_by[1]: duplicated label \"a\" in group_by"),
        ("route: {receiver: r, group_by: [a, '...']}\nreceivers: [{name: r}]\n", "am.yml:1: route.group_by: cannot have wildcard group_by (`...`) and other other labels at the same time"),
        ("route: {receiver: r, group_interval: 0s}\nreceivers: [{name: r}]\n", "am.yml:1: route.group_interval: group_interval cannot be zero"),
        ("route: {receiver: r, repeat_interval: 0}\nreceivers: [{name: r}]\n", "am.yml:1: route.repeat_interval: repeat_interval cannot be zero"),
        ("route: {receiver: r, group_wait: 1.5m}\nreceivers: [{name: r}]\n", "am.yml:1: route.group_wait: not a valid duration string: \"1.5m\""),
        ("route: {receiver: r, routes: [{match: {a-b: c}}]}\nreceivers: [{name: r}]\n", "am.yml:1: route.routes[0].match.a-b: invalid label name \"a-b\""),
        ("route: {receiver: r, routes: [{matchers: ['a=\"b']}]}\nreceivers: [{name: r}]\n", "am.yml:1: route.routes[0].matchers[0]: matcher value contains unescaped double quote: \"b"),
        ("route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{equal: [a-b]}]\n", "am.yml:3: inhibit_rules[0].equal[0]: \"a-b\" is not a valid label name"),
        ("route: {receiver: r, continue: yes please}\nreceivers: [{name: r}]\n", "am.yml:1: route.continue: must be true or false, found a string"),
        ("global: {slack_api_url: a, slack_api_url_file: b}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", "am.yml:1: global: at most one of slack_api_url & slack_api_url_file must be configured"),
    ];
    for (y, want) in cases {
        assert_eq!(err(y), want, "{y}");
    }
    assert!(
        err("route: {receiver: r, routes: [{match_re: {a: '('}}]}\nreceivers: [{name: r}]\n")
            .starts_with("am.yml:1: route.routes[0].match_re.a: error parsing regexp")
    );
    assert!(err("route: [").starts_with("am.yml: "));
}

#[test]
fn redacted_yaml_hides_secrets_and_reloads() {
    let c = parse(FULL).expect("valid");
    let y = c.redacted_yaml();
    assert!(!y.contains("XXXX"), "{y}");
    assert!(!y.contains("hunter2"), "{y}");
    assert!(!y.contains("hooks.slack.example/secret"), "{y}");
    assert!(!y.contains("127.0.0.1:1/hook"), "{y}");
    assert!(y.contains("<secret>"), "{y}");
    assert!(y.contains("resolve_timeout: 1m"), "{y}");
    // With the secrets filled in again it is a valid config with the same routing.
    let again = parse(&y.replace("<secret>", "http://x/")).expect("redacted config parses");
    assert_eq!(again.route, c.route);
    assert_eq!(again.inhibit_rules, c.inhibit_rules);
}

#[test]
fn merge_keys_and_null_lists() {
    let y = "x: &d {group_wait: 1s}\n";
    // Unknown top-level key `x` still fails: anchors need a known home.
    assert!(err(y).contains("x: unknown field"));
    let y = "route:\n  receiver: r\n  routes:\n  - &base {receiver: r, group_wait: 1s}\n  - <<: *base\n    group_interval: 2m\nreceivers: [{name: r}]\n";
    let c = parse(y).expect("merge keys");
    assert_eq!(c.route.routes[1].group_wait_ms, Some(1_000));
    assert_eq!(c.route.routes[1].group_interval_ms, Some(120_000));
}

#[test]
fn receivers_are_validated_at_load() {
    let slack = "route: {receiver: s}\nreceivers:\n- name: s\n  slack_configs: [{channel: '#x'}]\n";
    let e = err(slack);
    assert!(e.starts_with("am.yml:3: receiver \"s\""), "{e}");
    // Slack falls back to the global URL.
    parse(&format!(
        "global: {{slack_api_url: 'https://hooks.slack.com/services/T/B/X'}}\n{slack}"
    ))
    .expect("global slack url");
    let e = err("global: {http_config: {tls_config: {insecure_skip_verify: true}}}\nroute: {receiver: r}\nreceivers: [{name: r}]\n");
    assert!(
        e.starts_with("am.yml:1: global: http_config.tls_config: not supported"),
        "{e}"
    );
}

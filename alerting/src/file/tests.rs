use super::*;

const BAD: &str = r#"groups:
- name: g
  rules:
  - record: job:up
    expr: sum(up
  - record: 1bad
    alert: X
    expr: up
    labels:
      "bad-name": x
  - alert: Y
    expr: up
    for: 5m
- name: g
  interval: 1m
  rules:
  - expr: up
  - record: r
    expr: up
    annotations: {a: b}
    for: 1m
- name: ""
  rules: []
"#;

#[test]
fn errors_as_promtool_prints_them() {
    let errs = parse_rules("bad.yml", BAD).expect_err("invalid");
    let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
    // promtool 2.42's output for the same file; only the parser's own message differs.
    assert!(got[0].starts_with(
        "bad.yml: 5:11: group \"g\", rule 1, \"job:up\": could not parse expression: "
    ));
    assert_eq!(
        &got[1..],
        [
            "bad.yml: 6:13: 7:12: group \"g\", rule 2, \"X\": only one of 'record' and 'alert' must be set",
            "bad.yml: 6:13: group \"g\", rule 2, \"X\": invalid recording rule name: 1bad",
            "bad.yml: group \"g\", rule 2, \"X\": invalid label name: bad-name",
            "bad.yml: 14:3: groupname: \"g\" is repeated in the same file",
            "bad.yml: 0:0: group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set",
            "bad.yml: 18:13: group \"g\", rule 2, \"r\": invalid field 'annotations' in recording rule",
            "bad.yml: 18:13: group \"g\", rule 2, \"r\": invalid field 'for' in recording rule",
            "bad.yml: 22:3: Groupname must not be empty",
        ]
    );
    assert_eq!(errs[1].line, Some(6));
}

#[test]
fn strict_fields_durations_and_templates() {
    let e =
        parse_rules("f.yml", "groups:\n- name: g\n  foo: 1\n  rules: []\n").expect_err("unknown");
    assert_eq!(e[0].line, Some(3), "{}", e[0]);
    assert!(e[0].to_string().contains("unknown field `foo`"), "{}", e[0]);
    let e = parse_rules(
        "f.yml",
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5\n",
    )
    .expect_err("bare number");
    assert!(
        e[0].to_string()
            .contains("not a valid duration string: \"5\""),
        "{}",
        e[0]
    );
    let e = parse_rules(
        "f.yml",
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      x: '{{ nonexist }}'\n",
    )
    .expect_err("template");
    assert_eq!(
        e[0].to_string(),
        "f.yml: group \"g\", rule 1, \"A\": annotation \"x\": template: __alert_A:1: function \"nonexist\" not defined"
    );
    let ok = parse_rules(
        "f.yml",
        "groups:\n- name: g\n  interval: 30s\n  limit: 10\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    labels: {severity: 1}\n",
    )
    .expect("valid");
    let r = &ok.groups[0].rules[0];
    assert_eq!(r.for_.ms(), 300_000);
    assert_eq!(r.labels["severity"], "1");
    assert_eq!(ok.groups[0].interval.map(PromDuration::ms), Some(30_000));
    assert!(parse_rules("e.yml", "").expect("empty").groups.is_empty());
    assert!(parse_rules("e.yml", "# only a comment\n")
        .expect("empty")
        .groups
        .is_empty());
}

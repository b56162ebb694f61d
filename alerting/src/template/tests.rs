//! Template outputs compared with what Prometheus 2.42 prints for the same templates.

use std::collections::BTreeMap;

use super::*;

fn data(value: f64) -> AlertData {
    AlertData {
        labels: [("instance", "node-1:9100"), ("job", "node")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        external_labels: [("cluster".to_string(), "prod".to_string())]
            .into_iter()
            .collect(),
        external_url: "http://testhost:9090/path/prefix".into(),
        value,
    }
}

fn q(s: &str) -> Result<Vec<Sample>, String> {
    match s {
        "metric" => Ok(vec![
            Sample {
                labels: [
                    ("instance".to_string(), "b".to_string()),
                    ("__name__".into(), "metric".into()),
                ]
                .into_iter()
                .collect(),
                value: 11.0,
            },
            Sample {
                labels: [("instance".to_string(), "a".to_string())]
                    .into_iter()
                    .collect(),
                value: 10.0,
            },
        ]),
        "empty" => Ok(vec![]),
        "1.5" => Ok(vec![Sample {
            labels: BTreeMap::new(),
            value: 1.5,
        }]),
        other => Err(format!("unknown query {other}")),
    }
}

fn expand(text: &str, value: f64) -> Result<String, String> {
    let query: &QueryFn = &q;
    let ctx = FuncContext {
        query: Some(query),
        external_url: Some("http://testhost:9090/path/prefix"),
    };
    expand_alert("Test", text, &data(value), &ctx)
}

fn ok(text: &str, value: f64) -> String {
    expand(text, value).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn prometheus_template_outputs() {
    let cases: &[(&str, f64, &str)] = &[
        ("{{ 1 }}", 0.0, "1"),
        ("{{ $value }}", 1e6, "1e+06"),
        ("{{ $value }}", 0.5, "0.5"),
        ("{{ .Value }}", 123456789.0, "1.23456789e+08"),
        ("{{ $labels.instance }} of {{ .Labels.job }}", 0.0, "node-1:9100 of node"),
        ("{{ $labels.missing }}|", 0.0, "|"),
        ("{{ $externalLabels.cluster }}", 0.0, "prod"),
        ("{{ $externalURL }}", 0.0, "http://testhost:9090/path/prefix"),
        ("{{ humanize 1234567.0 }}", 0.0, "1.235M"),
        ("{{ $value | humanize }}", 1234567.0, "1.235M"),
        ("{{ \"1234567\" | humanize }}", 0.0, "1.235M"),
        ("{{ 1 | humanize }}", 0.0, "1"),
        ("{{ humanize1024 1048576.0 }}", 0.0, "1Mi"),
        ("{{ humanizeDuration 3661 }}", 0.0, "1h 1m 1s"),
        ("{{ 899.99 | humanizeDuration }}", 0.0, "14m 59s"),
        ("{{ .12345 | humanizeDuration }}", 0.0, "123.5ms"),
        ("{{ humanizePercentage 0.1234567 }}", 0.0, "12.35%"),
        ("{{ 1435065584.128 | humanizeTimestamp }}", 0.0, "2015-06-23 13:19:44.128 +0000 UTC"),
        ("{{ toTime 1435065584.128 }}", 0.0, "2015-06-23 13:19:44.128 +0000 UTC"),
        ("{{ (toTime 1435065584.128).Unix }}", 0.0, "1435065584"),
        ("{{ \"aa bb CC\" | title }}", 0.0, "Aa Bb CC"),
        ("{{ \"aa bb CC\" | toUpper }}", 0.0, "AA BB CC"),
        ("{{ \"aa bb CC\" | toLower }}", 0.0, "aa bb cc"),
        ("{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}", 0.0, "true false"),
        ("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", 0.0, "xa"),
        ("{{ with args \"a\" 2 }}{{ .arg0 }}{{ .arg1 }}{{ end }}", 0.0, "a2"),
        ("{{ \"<b>\" | safeHtml }}", 0.0, "<b>"),
        ("{{ externalURL }} {{ pathPrefix }}", 0.0, "http://testhost:9090/path/prefix /path/prefix"),
        ("{{ parseDuration \"1h2m10ms\" }}", 0.0, "3720.01"),
        ("{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}", 0.0, "3720.01"),
        ("{{ \"foo.example.com:12345\" | stripPort }}", 0.0, "foo.example.com"),
        ("{{ \"foo.example.com:12345\" | stripDomain }}", 0.0, "foo:12345"),
        ("{{ range query \"1.5\" }}{{ .Value }}{{ end }}", 0.0, "1.5"),
        ("{{ query \"metric\" | first | label \"instance\" }}", 0.0, "b"),
        ("{{ query \"metric\" | first | value }}", 0.0, "11"),
        ("{{ range query \"metric\" | sortByLabel \"instance\" }}{{ .Labels.instance }}:{{ .Value }} {{ end }}", 0.0, "a:10 b:11 "),
        ("{{ with query \"empty\" }}{{ . }}{{ else }}none{{ end }}", 0.0, "none"),
        ("{{ if gt $value 80.0 }}high{{ else if gt $value 50.0 }}mid{{ else }}low{{ end }}", 60.0, "mid"),
        ("{{ if and (eq $labels.job \"node\") (ne $labels.instance \"x\") }}y{{ end }}", 0.0, "y"),
        ("{{ if or (eq 1 2) (not false) }}y{{ end }}", 0.0, "y"),
        ("{{ len $labels }} {{ index $labels \"job\" }}", 0.0, "2 node"),
        ("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", 0.0, "instance=node-1:9100;job=node;"),
        ("{{ range $labels }}{{ . }},{{ end }}", 0.0, "node-1:9100,node,"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", 0.0, "2"),
        ("a  {{- \"b\" -}}  c", 0.0, "abc"),
        ("{{/* comment */}}x", 0.0, "x"),
        ("{{ printf \"%s is %.1f%%\" $labels.job $value }}", 99.44, "node is 99.4%"),
        ("{{ $value | printf \"%.2f\" }}", 0.0, "0.00"),
        ("{{ printf \"%d\" 5 }} {{ printf \"%v\" $value }}", 2.0, "5 2"),
        ("{{ $labels }}", 0.0, "map[instance:node-1:9100 job:node]"),
        ("{{ print 1 2 \"a\" \"b\" 3 }}", 0.0, "1 2ab3"),
        ("{{ range query \"metric\" }}{{ if eq .Labels.instance \"a\" }}{{ break }}{{ end }}{{ .Value }}{{ end }}", 0.0, "11"),
        ("{{ \"a b\" | urlquery }} {{ \"<a>\" | html }}", 0.0, "a+b &lt;a&gt;"),
        ("{{ 1e6 }} {{ 0x10 }} {{ 'a' }}", 0.0, "1e+06 16 97"),
        ("{{ graphLink \"up == 0\" }}", 0.0, "/graph?g0.expr=up+%3D%3D+0&g0.tab=0"),
    ];
    for (text, v, want) in cases {
        assert_eq!(ok(text, *v), *want, "template {text}");
    }
}

#[test]
fn errors_like_prometheus() {
    // The exact text promtool 2.42 prints in an annotation for this template.
    let e = expand("{{ humanize \"x\" }}", 0.0).expect_err("must fail");
    assert_eq!(
        e,
        "error executing template __alert_Test: template: __alert_Test:1:115: executing \"__alert_Test\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax"
    );
    assert_eq!(
        check_alert_template("A", "{{ nonexist }}")
            .expect_err("must fail")
            .to_string(),
        "template: __alert_A:1: function \"nonexist\" not defined"
    );
    assert_eq!(
        check_alert_template("A", "{{ $x }}")
            .expect_err("must fail")
            .to_string(),
        "template: __alert_A:1: undefined variable \"$x\""
    );
    assert_eq!(
        check_alert_template("A", "{{ if }}")
            .expect_err("must fail")
            .to_string(),
        "template: __alert_A:1: missing value for if"
    );
    assert_eq!(
        check_alert_template("A", "{{ end }}")
            .expect_err("must fail")
            .to_string(),
        "template: __alert_A:1: unexpected {{end}}"
    );
    assert_eq!(
        check_alert_template("A", "{{ \"unterminated }}")
            .expect_err("must fail")
            .to_string(),
        "template: __alert_A:1: unterminated quoted string"
    );
    assert!(check_alert_template("A", "{{ .Foo }}").is_ok());
    let e = expand("{{ if gt $value 10 }}x{{ end }}", 0.0).expect_err("must fail");
    assert!(
        e.ends_with("error calling gt: incompatible types for comparison"),
        "{e}"
    );
    let e = expand("{{ query \"empty\" | first }}", 0.0).expect_err("must fail");
    assert!(
        e.ends_with("error calling first: first() called on vector with no elements"),
        "{e}"
    );
    let e = expand("{{ .Foo }}", 0.0).expect_err("must fail");
    assert!(e.contains("can't evaluate field Foo"), "{e}");
    let e = expand("{{ title 1.5 }}", 0.0).expect_err("must fail");
    assert!(e.contains("expected string; found 1.5"), "{e}");
    let e = expand("{{ $value | title }}", 0.0).expect_err("must fail");
    assert!(
        e.contains("wrong type for value; expected string; got float64"),
        "{e}"
    );
    let e = expand_alert("T", "{{ pathPrefix }}", &data(0.0), &FuncContext::default())
        .expect_err("must fail");
    assert!(e.ends_with("error calling pathPrefix: runtime error: invalid memory address or nil pointer dereference"), "{e}");
    assert!(expand_alert_or_error(
        "Test",
        "{{ humanize \"x\" }}",
        &data(0.0),
        &FuncContext::default()
    )
    .starts_with("<error expanding template: error executing template __alert_Test"));
}

//! Differential tests against Prometheus' own `promtool` (2.42, the Debian `prometheus`
//! package): every unit test file under `tests/rules/` must pass both `promtool test rules`
//! and `argus_alerting::unittest`, every file under `tests/rules/failing/` must fail both,
//! and `promtool check rules` and `argus_alerting::check` must agree on every rule file
//! (`tests/rules/rulefiles/` valid, `tests/rules/invalid/` invalid). Where the two print
//! the same text, the text is compared too.
//!
//! promtool is required: without it these tests fail (CI installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use argus_alerting::{check, unittest};

/// Files whose failure messages quote a parser (PromQL or series notation): argus' parser
/// words them differently, so only the verdict is compared.
const PARSER_MESSAGES: &[&str] = &[
    "bad_rule_file.test.yml",
    "bad_series.test.yml",
    "bad_duration.yml",
    "bad_expr.yml",
    "unknown_field.yml",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules")
}

fn files(sub: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir().join(sub))
        .unwrap_or_else(|e| panic!("reading tests/rules/{sub}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Runs promtool in `tests/rules` (so both tools print the same relative paths).
fn promtool(args: &[&str]) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir())
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool is required for these tests (apt-get install prometheus): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn relative(p: &Path) -> String {
    p.strip_prefix(dir())
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// argus' verdict and output for a test file, run from `tests/rules` like promtool.
fn argus_test(rel: &str) -> (bool, String) {
    let r = unittest::test_file(&dir().join(rel));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    r.write(&mut out, &mut err).expect("write");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    )
    .replace(&format!("{}/", dir().display()), "");
    (r.passed(), text)
}

fn argus_check(rel: &str) -> (bool, String) {
    let r = check::check_files(&[dir().join(rel)]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    r.write(&mut out, &mut err).expect("write");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    )
    .replace(&format!("{}/", dir().display()), "");
    (r.exit_code() == 0, text)
}

fn same_text(rel: &str) -> bool {
    !PARSER_MESSAGES.iter().any(|f| rel.ends_with(f))
}

#[test]
fn promtool_is_installed() {
    let (ok, text) = promtool(&["--version"]);
    assert!(ok, "promtool --version failed: {text}");
}

#[test]
fn passing_unit_tests_pass_both() {
    let good = files("", ".test.yml");
    assert!(
        good.len() >= 8,
        "want at least 8 passing test files, have {}",
        good.len()
    );
    for f in good {
        let rel = relative(&f);
        let (p_ok, p_text) = promtool(&["test", "rules", &rel]);
        let (a_ok, a_text) = argus_test(&rel);
        assert!(p_ok, "promtool fails {rel}:\n{p_text}");
        assert!(a_ok, "argus fails {rel}:\n{a_text}");
        assert_eq!(a_text, p_text, "{rel}");
    }
}

#[test]
fn failing_unit_tests_fail_both() {
    let bad = files("failing", ".test.yml");
    assert!(
        bad.len() >= 3,
        "want at least 3 failing test files, have {}",
        bad.len()
    );
    for f in bad {
        let rel = relative(&f);
        let (p_ok, p_text) = promtool(&["test", "rules", &rel]);
        let (a_ok, a_text) = argus_test(&rel);
        assert!(!p_ok, "promtool passes {rel}:\n{p_text}");
        assert!(!a_ok, "argus passes {rel}:\n{a_text}");
        if same_text(&rel) {
            assert_eq!(a_text, p_text, "{rel}");
        }
    }
}

#[test]
fn rule_file_checks_agree() {
    let valid = files("rulefiles", ".yml");
    let invalid = files("invalid", ".yml");
    assert!(invalid.len() >= 3);
    for (f, want_ok) in valid
        .iter()
        .map(|f| (f, true))
        .chain(invalid.iter().map(|f| (f, false)))
    {
        let rel = relative(f);
        let (p_ok, p_text) = promtool(&["check", "rules", &rel]);
        let (a_ok, a_text) = argus_check(&rel);
        assert_eq!(p_ok, want_ok, "promtool on {rel}:\n{p_text}");
        assert_eq!(a_ok, want_ok, "argus on {rel}:\n{a_text}");
        if same_text(&rel) {
            assert_eq!(a_text, p_text, "{rel}");
        }
    }
}

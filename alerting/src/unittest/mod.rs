//! `argus rules test FILE...`: rule unit tests in `promtool test rules`' file format and
//! semantics (input series in the expanding notation, rules evaluated step by step from 0
//! to the last `eval_time` at `evaluation_interval`, alerts and PromQL results compared
//! exactly), reported in promtool's words on the same streams with the same exit codes.

mod notation;
mod runner;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::duration::PromDuration;

pub use notation::{expand_values, parse_metric};

/// A unit test file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitTestFile {
    /// Rule files (globs), relative to the test file.
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Step of the rule evaluation; default 1m.
    #[serde(default)]
    pub evaluation_interval: Option<PromDuration>,
    /// Order in which groups are evaluated at each step (groups not named come first).
    #[serde(default)]
    pub group_eval_order: Vec<String>,
    #[serde(default)]
    pub tests: Vec<TestGroup>,
}

/// Input series and the tests run on them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestGroup {
    /// Time between two values of the input series. promtool 2.42 has no default: without
    /// it every value lands at time 0 (and the first one wins); argus does the same.
    #[serde(default)]
    pub interval: Option<PromDuration>,
    #[serde(default)]
    pub input_series: Vec<InputSeries>,
    #[serde(default)]
    pub alert_rule_test: Vec<AlertTestCase>,
    #[serde(default)]
    pub promql_expr_test: Vec<PromqlTestCase>,
    /// `$externalLabels` of the templates.
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// `$externalURL` of the templates.
    #[serde(default)]
    pub external_url: String,
    /// Printed with failures.
    #[serde(default)]
    pub name: String,
}

/// One input series: `metric{labels}` and its values in the expanding notation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSeries {
    #[serde(default)]
    pub series: String,
    #[serde(default, deserialize_with = "scalar_string")]
    pub values: String,
}

/// The alerts expected firing at `eval_time`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTestCase {
    #[serde(default)]
    pub eval_time: PromDuration,
    #[serde(default)]
    pub alertname: String,
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlert>,
}

/// An expected alert: its labels (`alertname` is added) and annotations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    #[serde(default)]
    pub exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub exp_annotations: BTreeMap<String, String>,
}

/// A PromQL query and the samples it must return at `eval_time`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromqlTestCase {
    #[serde(default)]
    pub expr: String,
    #[serde(default)]
    pub eval_time: PromDuration,
    #[serde(default)]
    pub exp_samples: Vec<ExpSample>,
}

/// An expected sample.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpSample {
    #[serde(default)]
    pub labels: String,
    #[serde(default)]
    pub value: f64,
}

fn scalar_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_yaml::Value::deserialize(d)?;
    Ok(match v {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Null => String::new(),
        _ => return Err(serde::de::Error::custom("values must be a string")),
    })
}

/// The outcome of one test file.
#[derive(Debug, Clone, Default)]
pub struct TestFileResult {
    pub path: PathBuf,
    /// Warnings (rule file patterns that match nothing).
    pub warnings: Vec<String>,
    /// Failures, each in promtool's words; empty when the file passed.
    pub errors: Vec<String>,
}

impl TestFileResult {
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }

    /// Writes the result as promtool does (`Unit Testing:  FILE`, `  SUCCESS` /
    /// `  FAILED:` and the failures on stderr).
    pub fn write(&self, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Unit Testing:  {}", self.path.display())?;
        for w in &self.warnings {
            writeln!(err, "{w}")?;
        }
        if self.errors.is_empty() {
            writeln!(out, "  SUCCESS")?;
        } else {
            writeln!(err, "  FAILED:")?;
            for e in &self.errors {
                writeln!(err, "{e}")?;
                writeln!(out)?;
            }
        }
        writeln!(out)
    }
}

/// Go's `filepath.Clean`, lexically: `a/../b/./c` → `b/c` (promtool prints rule files so).
fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Runs one test file.
pub fn test_file(path: &Path) -> TestFileResult {
    let mut res = TestFileResult {
        path: path.to_path_buf(),
        ..TestFileResult::default()
    };
    let content = match std::fs::read_to_string(path) {
        Ok(c) => c,
        Err(e) => {
            res.errors.push(format!("{}: {e}", path.display()));
            return res;
        }
    };
    let file: UnitTestFile = match serde_yaml::from_str::<Option<UnitTestFile>>(&content) {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            res.errors.push(format!("yaml: {e}"));
            return res;
        }
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut rule_files = Vec::new();
    for pattern in &file.rule_files {
        let full = if pattern.is_empty() || Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            clean(&base.join(pattern))
        };
        let pat = full.display().to_string();
        match glob::glob(&pat) {
            Ok(paths) => {
                let mut m: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
                m.sort();
                if m.is_empty() {
                    res.warnings
                        .push(format!("  WARNING: no file match pattern {pat}"));
                }
                rule_files.extend(m);
            }
            Err(e) => {
                res.errors.push(format!("{pat}: {e}"));
                return res;
            }
        }
    }
    let interval_ms = file
        .evaluation_interval
        .map(PromDuration::ms)
        .filter(|ms| *ms > 0)
        .unwrap_or(60_000);
    let mut order: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in file.group_eval_order.iter().enumerate() {
        if order.insert(g, i).is_some() {
            res.errors
                .push(format!("group name repeated in evaluation order: {g}"));
            return res;
        }
    }
    for tg in &file.tests {
        res.errors
            .extend(runner::run_group(tg, interval_ms, &order, &rule_files));
    }
    res
}

/// Runs the test files, prints the results to stdout and stderr like promtool, and returns
/// the exit code: 0 when every file passed, 1 otherwise.
pub fn run_tests(paths: &[PathBuf]) -> i32 {
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut failed = false;
    for p in paths {
        let r = test_file(p);
        failed |= !r.passed();
        if r.write(&mut out, &mut err).is_err() {
            return 1;
        }
    }
    i32::from(failed)
}

//! `argus rules check FILE...`: validates rule files and reports like `promtool check
//! rules` (same lines on the same streams, same exit codes; duplicate rules are a lint
//! warning that does not fail the check).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::file::{load_file, RuleFile};

/// The verdict on one file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    pub path: PathBuf,
    /// Rules found (when the file is valid).
    pub rules: usize,
    /// Errors: the file is invalid.
    pub errors: Vec<String>,
    /// Lint findings (duplicate rules): reported, but the file passes.
    pub lint: Option<String>,
}

/// The verdict on all files.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub files: Vec<FileCheck>,
}

impl CheckReport {
    /// Whether every file is valid (lint findings allowed).
    pub fn ok(&self) -> bool {
        self.files.iter().all(|f| f.errors.is_empty())
    }

    /// promtool's exit code: 1 when a file is invalid, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.ok() {
            0
        } else {
            1
        }
    }

    /// Writes the report as promtool does: progress and successes to `out`, failures to
    /// `err`.
    pub fn write(&self, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.files {
            writeln!(out, "Checking {}", f.path.display())?;
            if !f.errors.is_empty() || f.lint.is_some() {
                writeln!(err, "  FAILED:")?;
                for e in &f.errors {
                    writeln!(err, "{e}")?;
                }
                if let Some(l) = &f.lint {
                    writeln!(err, "{l}")?;
                }
            } else {
                writeln!(out, "  SUCCESS: {} rules found", f.rules)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

/// Checks each file.
pub fn check_files(paths: &[PathBuf]) -> CheckReport {
    CheckReport {
        files: paths.iter().map(|p| check_file(p)).collect(),
    }
}

/// Checks the files, prints the report to stdout and stderr and returns the exit code.
pub fn run_check(paths: &[PathBuf]) -> i32 {
    let report = check_files(paths);
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    if report.write(&mut out, &mut err).is_err() {
        return 1;
    }
    report.exit_code()
}

fn check_file(path: &Path) -> FileCheck {
    match load_file(path) {
        Ok(rf) => FileCheck {
            path: path.to_path_buf(),
            rules: rf.groups.iter().map(|g| g.rules.len()).sum(),
            errors: Vec::new(),
            lint: duplicates(&rf),
        },
        Err(errs) => FileCheck {
            path: path.to_path_buf(),
            rules: 0,
            errors: errs.iter().map(ToString::to_string).collect(),
            lint: None,
        },
    }
}

/// promtool's duplicate-rules lint: rules with the same name and the same labels.
fn duplicates(rf: &RuleFile) -> Option<String> {
    let mut rules: Vec<(&str, &BTreeMap<String, String>)> = rf
        .groups
        .iter()
        .flat_map(|g| g.rules.iter().map(|r| (r.name(), &r.labels)))
        .collect();
    rules.sort();
    let mut dups: Vec<(&str, &BTreeMap<String, String>)> = Vec::new();
    for w in rules.windows(2) {
        if w[0] == w[1] && dups.last() != Some(&w[1]) {
            dups.push(w[1]);
        }
    }
    if dups.is_empty() {
        return None;
    }
    let mut msg = format!("lint error {} duplicate rule(s) found.\n", dups.len());
    for (metric, labels) in dups {
        msg.push_str(&format!("Metric: {metric}\nLabel(s):\n"));
        for (k, v) in labels {
            msg.push_str(&format!("\t{k}: {v}\n"));
        }
    }
    msg.push_str("Might cause inconsistency while recording expressions");
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(files: &[(&str, &str)]) -> (String, String, i32) {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(n, c)| {
                let p = dir.path().join(n);
                std::fs::write(&p, c).expect("write");
                p
            })
            .collect();
        let r = check_files(&paths);
        let (mut o, mut e) = (Vec::new(), Vec::new());
        r.write(&mut o, &mut e).expect("write");
        let strip = |b: Vec<u8>| {
            String::from_utf8_lossy(&b).replace(&format!("{}/", dir.path().display()), "")
        };
        (strip(o), strip(e), r.exit_code())
    }

    #[test]
    fn promtool_output() {
        let (o, e, code) = run(&[(
            "ok.yml",
            "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n  - alert: B\n    expr: up == 0\n",
        )]);
        assert_eq!(o, "Checking ok.yml\n  SUCCESS: 2 rules found\n\n");
        assert_eq!((e.as_str(), code), ("", 0));

        let (o, e, code) = run(&[(
            "dup.yml",
            "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n  - record: a\n    expr: up\n",
        )]);
        assert_eq!(o, "Checking dup.yml\n\n");
        assert_eq!(
            e,
            "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: a\nLabel(s):\nMight cause inconsistency while recording expressions\n"
        );
        assert_eq!(code, 0);

        let (_, e, code) = run(&[(
            "bad.yml",
            "groups:\n- name: g\n  rules:\n  - alert: Y\n    expr: up\n    for: 5\n",
        )]);
        assert_eq!(e, "  FAILED:\nbad.yml: yaml: groups[0].rules[0].for: not a valid duration string: \"5\" at line 6 column 10\n");
        assert_eq!(code, 1);
    }
}

//! `/proc/vmstat`: node_exporter's `vmstat` collector with its default field filter
//! `^(oom_kill|pgpg|pswp|pg.*fault).*` (`node_vmstat_pgmajfault`, `node_vmstat_pgpgin`, …;
//! untyped, as node_exporter declares them).

use super::read::{parse_f64, read_into, text};
use super::{valid_metric_name, Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// node_exporter's default `--collector.vmstat.fields`, without a regex: the pattern is
/// anchored at the start only.
pub(super) fn default_field(name: &str) -> bool {
    name.starts_with("oom_kill")
        || name.starts_with("pgpg")
        || name.starts_with("pswp")
        || name
            .strip_prefix("pg")
            .is_some_and(|rest| rest.contains("fault"))
}

/// The selected `(field, value)` pairs; malformed lines are skipped.
pub(super) fn parse(text: &str) -> Vec<(&str, f64)> {
    let mut fields = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !default_field(name) {
            continue;
        }
        if let Some(v) = parse_f64(value) {
            fields.push((name, v));
        }
    }
    fields
}

pub(super) fn collect(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("vmstat");
    read_into(&path, buf)?;
    let text = text(buf);
    let mut seen = std::collections::HashSet::new();
    for (field, value) in parse(&text) {
        let name = format!("node_vmstat_{field}");
        if !valid_metric_name(&name) || !seen.insert(field) {
            continue;
        }
        out.single(
            &name,
            Kind::Untyped,
            &format!("/proc/vmstat information field {field}."),
            value,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_default_fields() {
        for yes in [
            "oom_kill",
            "pgpgin",
            "pgpgout",
            "pswpin",
            "pgfault",
            "pgmajfault",
        ] {
            assert!(default_field(yes), "{yes}");
        }
        for no in [
            "nr_free_pages",
            "thp_fault_alloc",
            "pgsteal_kswapd",
            "xpgfault",
            "pg",
        ] {
            assert!(!default_field(no), "{no}");
        }
    }

    #[test]
    fn parses_vmstat() {
        let text = "nr_free_pages 2200271\npgpgin 17668417\npgmajfault 44831\n\
                    pgfault x\noom_kill\npswpout 0\n";
        assert_eq!(
            parse(text),
            vec![
                ("pgpgin", 17668417.0),
                ("pgmajfault", 44831.0),
                ("pswpout", 0.0)
            ]
        );
    }
}

//! `/proc/meminfo`: node_exporter's `meminfo` collector, one gauge per field
//! (`node_memory_MemTotal_bytes`, `node_memory_Active_anon_bytes`, `node_memory_HugePages_Total`, …).

use super::read::{parse_f64, read_into, text};
use super::{valid_metric_name, Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// Parses `/proc/meminfo` into `(field, value)` as node_exporter names them: `Active(anon)`
/// becomes `Active_anon`, and fields in kB are multiplied by 1024 and get a `_bytes` suffix.
/// Lines that do not parse are skipped.
pub(super) fn parse(text: &str) -> Vec<(String, f64)> {
    let mut fields = Vec::with_capacity(64);
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        // A third field is the unit (always kB); more fields make the line invalid.
        let unit = parts.next().is_some();
        if parts.next().is_some() {
            continue;
        }
        let Some(mut value) = parse_f64(value) else {
            continue;
        };
        // node_exporter drops the last character (the colon) whatever it is.
        let mut key = match key.char_indices().last() {
            Some((i, _)) => key[..i].to_string(),
            None => continue,
        };
        // `\((.*)\)` → `_$1`: from the first `(` to the last `)`.
        if let (Some(open), Some(close)) = (key.find('('), key.rfind(')')) {
            if open < close {
                key = format!(
                    "{}_{}{}",
                    &key[..open],
                    &key[open + 1..close],
                    &key[close + 1..]
                );
            }
        }
        if unit {
            value *= 1024.0;
            key.push_str("_bytes");
        }
        fields.push((key, value));
    }
    fields
}

pub(super) fn collect(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("meminfo");
    read_into(&path, buf)?;
    let fields = parse(&text(buf));
    if fields.is_empty() {
        return Err(Error::parse(&path, "no fields"));
    }
    let mut seen = std::collections::HashSet::with_capacity(fields.len());
    for (key, value) in &fields {
        let name = format!("node_memory_{key}");
        if !valid_metric_name(&name) || !seen.insert(name.clone()) {
            continue;
        }
        let kind = if key.ends_with("_total") {
            Kind::Counter
        } else {
            Kind::Gauge
        };
        out.single(
            &name,
            kind,
            &format!("Memory information field {key}."),
            *value,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meminfo() {
        let text = "MemTotal:       24668864 kB\n\
                    Active(anon):      12345 kB\n\
                    HugePages_Total:       0\n\
                    Hugepagesize:       2048 kB\n\
                    \n\
                    Broken: x kB\n\
                    Odd line with many fields\n";
        assert_eq!(
            parse(text),
            vec![
                ("MemTotal_bytes".to_string(), 24668864.0 * 1024.0),
                ("Active_anon_bytes".to_string(), 12345.0 * 1024.0),
                ("HugePages_Total".to_string(), 0.0),
                ("Hugepagesize_bytes".to_string(), 2097152.0),
            ]
        );
    }

    #[test]
    fn writes_gauges() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("meminfo"),
            "MemTotal: 2 kB\nMemTotal: 3 kB\nBad(: 1\n",
        )
        .expect("write");
        let paths = HostPaths {
            procfs: dir.path().to_path_buf(),
            ..HostPaths::default()
        };
        let mut e = Exposition::new(crate::metrics::expo::Format::Text);
        collect(&paths, &mut Vec::new(), &mut e).expect("collect");
        assert_eq!(
            e.finish(),
            "# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n\
             # TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 2048\n"
        );
    }
}

//! `/proc/loadavg`: node_exporter's `loadavg` collector (`node_load1`, `node_load5`,
//! `node_load15`).

use super::read::{parse_f64, read_into, text};
use super::{Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// The 1, 5 and 15 minute load averages.
pub(super) fn parse(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_ascii_whitespace();
    let mut loads = [0.0; 3];
    for slot in &mut loads {
        *slot = parse_f64(fields.next()?)?;
    }
    Some(loads)
}

pub(super) fn collect(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("loadavg");
    read_into(&path, buf)?;
    let [l1, l5, l15] =
        parse(&text(buf)).ok_or_else(|| Error::parse(&path, "unexpected content"))?;
    out.single("node_load1", Kind::Gauge, "1m load average.", l1);
    out.single("node_load5", Kind::Gauge, "5m load average.", l5);
    out.single("node_load15", Kind::Gauge, "15m load average.", l15);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loadavg() {
        assert_eq!(
            parse("0.08 0.61 1.53 1/80 24826\n"),
            Some([0.08, 0.61, 1.53])
        );
        assert_eq!(parse("0.08 0.61\n"), None);
        assert_eq!(parse("0.08 x 1\n"), None);
        assert_eq!(parse(""), None);
    }
}

//! Network interfaces: node_exporter's `netdev` collector
//! (`node_network_{receive,transmit}_*_total{device}` from `/proc/net/dev`) and the
//! `node_network_up{device}` series of its `netclass` collector (`/sys/class/net/<dev>/operstate`).
//!
//! node_exporter 1.5 reads the counters over rtnetlink and maps them back to the
//! `/proc/net/dev` columns (its `legacy()` mapping), so the values are the same; the one
//! netlink-only counter, `rx_nohandler`, is read from `/sys/class/net/<dev>/statistics`.
//! Upstream excludes no device by default (Debian's package excludes `lo`).

use super::read::{read_into, read_trimmed, read_u64, text};
use super::{Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// `/proc/net/dev` columns, in file order, as node_exporter names them.
const COLUMNS: [&str; 16] = [
    "receive_bytes",
    "receive_packets",
    "receive_errs",
    "receive_drop",
    "receive_fifo",
    "receive_frame",
    "receive_compressed",
    "receive_multicast",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errs",
    "transmit_drop",
    "transmit_fifo",
    "transmit_colls",
    "transmit_carrier",
    "transmit_compressed",
];

/// One interface's counters from `/proc/net/dev`.
#[derive(Debug, PartialEq)]
pub(crate) struct NetDev<'a> {
    pub name: &'a str,
    pub counters: [u64; 16],
}

/// Parses `/proc/net/dev`; the two header lines and malformed lines are skipped.
pub(crate) fn parse_net_dev(text: &str) -> Vec<NetDev<'_>> {
    let mut devs = Vec::new();
    for line in text.lines() {
        let Some(colon) = line.rfind(':') else {
            continue;
        };
        let name = line[..colon].trim();
        if name.is_empty() {
            continue;
        }
        let mut counters = [0u64; 16];
        let mut fields = line[colon + 1..].split_ascii_whitespace();
        let mut ok = true;
        for slot in &mut counters {
            match fields.next().and_then(|f| f.parse::<u64>().ok()) {
                Some(v) => *slot = v,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            devs.push(NetDev { name, counters });
        }
    }
    devs
}

pub(super) fn collect_netdev(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    small: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("net/dev");
    read_into(&path, buf)?;
    let text = text(buf);
    let devs = parse_net_dev(&text);
    if devs.is_empty() {
        return Err(Error::parse(&path, "no network devices found"));
    }
    let class = paths.sysfs.join("class/net");
    let nohandler: Vec<Option<u64>> = devs
        .iter()
        .map(|d| read_u64(&class.join(d.name).join("statistics/rx_nohandler"), small).ok())
        .collect();
    for (i, key) in COLUMNS.iter().enumerate() {
        let name = format!("node_network_{key}_total");
        out.family(
            &name,
            Kind::Counter,
            &format!("Network device statistic {key}."),
        );
        for d in &devs {
            let v = d.counters.get(i).copied().unwrap_or(0);
            out.sample(&name, &[("device", d.name)], v as f64);
        }
    }
    if nohandler.iter().any(Option::is_some) {
        let name = "node_network_receive_nohandler_total";
        out.family(
            name,
            Kind::Counter,
            "Network device statistic receive_nohandler.",
        );
        for (d, v) in devs.iter().zip(&nohandler) {
            if let Some(v) = v {
                out.sample(name, &[("device", d.name)], *v as f64);
            }
        }
    }
    Ok(())
}

/// `node_network_up` for every entry of `/sys/class/net` except plain files
/// (`bonding_masters`), like node_exporter's netclass collector.
pub(super) fn collect_netclass(
    paths: &HostPaths,
    small: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let dir = paths.sysfs.join("class/net");
    let entries = std::fs::read_dir(&dir).map_err(|e| super::read::io_error(&dir, &e))?;
    let mut devices: Vec<(String, bool)> = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let up = read_trimmed(&entry.path().join("operstate"), small).is_ok_and(|s| s == "up");
        devices.push((name, up));
    }
    devices.sort();
    if devices.is_empty() {
        return Ok(());
    }
    let name = "node_network_up";
    out.family(
        name,
        Kind::Gauge,
        "Value is 1 if operstate is 'up', 0 otherwise.",
    );
    for (device, up) in &devices {
        out.sample(name, &[("device", device)], if *up { 1.0 } else { 0.0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::expo::Format;

    const NET_DEV: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 48164041730 1300833    0    0    0     0          0         0 48164041730 1300833    0    0    0     0       0          0
  eth0: 259217952    8167    1    2    3     4          5         6   559685    5263    7    8    9    10      11         12
 bad0: 1 2 3
weird:name: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
";

    #[test]
    fn parses_proc_net_dev() {
        let devs = parse_net_dev(NET_DEV);
        assert_eq!(devs.len(), 3);
        assert_eq!(devs[0].name, "lo");
        assert_eq!(devs[0].counters[0], 48164041730);
        assert_eq!(
            devs[1],
            NetDev {
                name: "eth0",
                counters: [259217952, 8167, 1, 2, 3, 4, 5, 6, 559685, 5263, 7, 8, 9, 10, 11, 12]
            }
        );
        // The name ends at the last colon, as in procfs.
        assert_eq!(devs[2].name, "weird:name");
    }

    #[test]
    fn writes_netdev_and_netclass() {
        let dir = tempfile::tempdir().expect("tempdir");
        let proc = dir.path().join("proc");
        let sys = dir.path().join("sys");
        std::fs::create_dir_all(proc.join("net")).expect("mkdir");
        std::fs::write(proc.join("net/dev"), NET_DEV).expect("write");
        let net = sys.join("class/net");
        for (dev, state) in [("eth0", "up\n"), ("lo", "unknown\n")] {
            std::fs::create_dir_all(net.join(dev).join("statistics")).expect("mkdir");
            std::fs::write(net.join(dev).join("operstate"), state).expect("write");
        }
        std::fs::write(net.join("eth0/statistics/rx_nohandler"), "3\n").expect("write");
        std::fs::write(net.join("bonding_masters"), "\n").expect("write");
        let paths = HostPaths {
            procfs: proc,
            sysfs: sys,
            ..HostPaths::default()
        };
        let mut e = Exposition::new(Format::Text);
        let (mut buf, mut small) = (Vec::new(), Vec::new());
        collect_netdev(&paths, &mut buf, &mut small, &mut e).expect("netdev");
        collect_netclass(&paths, &mut small, &mut e).expect("netclass");
        let body = e.finish();
        for line in [
            "node_network_receive_bytes_total{device=\"lo\"} 48164041730\n",
            "node_network_transmit_carrier_total{device=\"eth0\"} 11\n",
            "node_network_receive_multicast_total{device=\"eth0\"} 6\n",
            "node_network_receive_nohandler_total{device=\"eth0\"} 3\n",
            "node_network_up{device=\"eth0\"} 1\n",
            "node_network_up{device=\"lo\"} 0\n",
        ] {
            assert!(body.contains(line), "missing {line:?} in\n{body}");
        }
        assert!(!body.contains("bonding_masters"));
        assert!(!body.contains("node_network_receive_nohandler_total{device=\"lo\"}"));
    }
}

//! `/proc/net/netstat`, `/proc/net/snmp` and `/proc/net/snmp6`: node_exporter's `netstat`
//! collector with its default field filter (`node_netstat_Tcp_RetransSegs`,
//! `node_netstat_TcpExt_TCPSynRetrans`, …; untyped, as node_exporter declares them).

use std::io;

use super::read::{io_error, parse_f64, read_into, read_raw, text};
use super::{valid_metric_name, Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// node_exporter 1.5's default `--collector.netstat.fields`, without a regex:
/// `^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$`
pub(super) fn default_field(key: &str) -> bool {
    match key.split_once('_') {
        Some((proto, name)) => default_field_of(proto, name),
        None => false,
    }
}

/// [`default_field`] of `<proto>_<name>` without building the key; `proto` is cut at its
/// first `_` when it has one.
fn default_field_of(proto: &str, name: &str) -> bool {
    if let Some((head, tail)) = proto.split_once('_') {
        return default_field(&format!("{head}_{tail}_{name}"));
    }
    // `.*_(InErrors|InErrs)`: the `_` may be the separator or inside the name.
    if matches!(name, "InErrors" | "InErrs")
        || name.ends_with("_InErrors")
        || name.ends_with("_InErrs")
    {
        return true;
    }
    match proto {
        "Ip" => name == "Forwarding",
        "Ip6" | "IpExt" => matches!(name, "InOctets" | "OutOctets"),
        "Icmp" | "Icmp6" => matches!(name, "InMsgs" | "OutMsgs"),
        "TcpExt" => {
            name.starts_with("Listen")
                || name.starts_with("Syncookies")
                || matches!(name, "TCPSynRetrans" | "TCPTimeouts")
        }
        "Tcp" => matches!(
            name,
            "ActiveOpens"
                | "InSegs"
                | "OutSegs"
                | "OutRsts"
                | "PassiveOpens"
                | "RetransSegs"
                | "CurrEstab"
        ),
        "Udp" | "Udp6" => matches!(
            name,
            "InDatagrams" | "OutDatagrams" | "NoPorts" | "RcvbufErrors" | "SndbufErrors"
        ),
        _ => false,
    }
}

/// One statistic: protocol (`Tcp`, `TcpExt`, `Udp6`, …), field name and value.
pub(super) type Stat<'a> = (&'a str, &'a str, f64);

/// Parses the header/value line pairs of `/proc/net/netstat` and `/proc/net/snmp`
/// (`Tcp: ActiveOpens …` followed by `Tcp: 19467 …`). A pair whose field counts differ
/// makes the file invalid, as in node_exporter.
pub(super) fn parse_pairs(text: &str) -> Result<Vec<Stat<'_>>, String> {
    let mut stats = Vec::new();
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        if names.is_empty() {
            continue;
        }
        let values = lines.next().unwrap_or("");
        let names: Vec<&str> = names.split(' ').collect();
        let values: Vec<&str> = values.split(' ').collect();
        let Some(proto) = names.first().and_then(|p| p.strip_suffix(':')) else {
            return Err(format!("malformed header line {:?}", names.join(" ")));
        };
        if names.len() != values.len() {
            return Err(format!("field count mismatch for {proto}"));
        }
        for (name, value) in names.iter().zip(&values).skip(1) {
            let v = parse_f64(value)
                .ok_or_else(|| format!("invalid value {value:?} for {proto}{name}"))?;
            stats.push((proto, *name, v));
        }
    }
    Ok(stats)
}

/// Parses `/proc/net/snmp6` (`Ip6InReceives  2`): the protocol is the name up to and
/// including its first `6`. Lines without a `6` are skipped.
pub(super) fn parse_snmp6(text: &str) -> Result<Vec<Stat<'_>>, String> {
    let mut stats = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(key), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some(six) = key.find('6') else { continue };
        let (proto, name) = key.split_at(six + 1);
        let v = parse_f64(value).ok_or_else(|| format!("invalid value {value:?} for {key}"))?;
        stats.push((proto, name, v));
    }
    Ok(stats)
}

pub(super) fn collect(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let mut selected: Vec<(String, String, f64)> = Vec::with_capacity(48);
    let mut keep = |proto: &str, name: &str, v: f64| {
        if default_field_of(proto, name) {
            selected.push((format!("{proto}_{name}"), format!("{proto}{name}"), v));
        }
    };
    for file in ["net/netstat", "net/snmp"] {
        let path = paths.procfs.join(file);
        read_into(&path, buf)?;
        let content = text(buf);
        let stats = parse_pairs(&content).map_err(|m| Error::parse(&path, m))?;
        for (proto, name, v) in stats {
            keep(proto, name, v);
        }
    }
    // Missing when IPv6 is disabled.
    let path = paths.procfs.join("net/snmp6");
    match read_raw(&path, buf) {
        Ok(()) => {
            let content = text(buf);
            let stats = parse_snmp6(&content).map_err(|m| Error::parse(&path, m))?;
            for (proto, name, v) in stats {
                keep(proto, name, v);
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&path, &e)),
    }
    let mut seen = std::collections::HashSet::new();
    for (key, stat, v) in &selected {
        let name = format!("node_netstat_{key}");
        if !valid_metric_name(&name) || !seen.insert(key) {
            continue;
        }
        out.single(&name, Kind::Untyped, &format!("Statistic {stat}."), *v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_default_fields() {
        for yes in [
            "Tcp_RetransSegs",
            "Tcp_OutSegs",
            "Tcp_CurrEstab",
            "TcpExt_TCPSynRetrans",
            "TcpExt_ListenDrops",
            "TcpExt_SyncookiesSent",
            "TcpExt_TCPTimeouts",
            "Ip_Forwarding",
            "IpExt_InOctets",
            "Ip6_OutOctets",
            "Icmp6_InMsgs",
            "Udp6_NoPorts",
            "UdpLite_InErrors",
            "Tcp_InErrs",
            "_InErrors",
        ] {
            assert!(default_field(yes), "{yes}");
        }
        for no in [
            "Tcp_RtoMin",
            "TcpExt_TCPOFOQueue",
            "Ip_DefaultTTL",
            "IcmpMsg_InType3",
            "UdpLite_InDatagrams",
            "Ip6_InReceives",
            "Tcp_InErrsX",
            "Forwarding",
        ] {
            assert!(!default_field(no), "{no}");
        }
    }

    #[test]
    fn parses_pairs() {
        let text = "Tcp: RtoAlgorithm MaxConn RetransSegs\nTcp: 1 -1 183\n\
                    Udp: InDatagrams\nUdp: 812\n";
        assert_eq!(
            parse_pairs(text),
            Ok(vec![
                ("Tcp", "RtoAlgorithm", 1.0),
                ("Tcp", "MaxConn", -1.0),
                ("Tcp", "RetransSegs", 183.0),
                ("Udp", "InDatagrams", 812.0),
            ])
        );
        assert!(parse_pairs("Tcp: A B\nTcp: 1\n").is_err());
        assert!(parse_pairs("Tcp: A\nTcp: x\n").is_err());
        assert!(parse_pairs("Tcp: A\n").is_err());
    }

    #[test]
    fn parses_snmp6() {
        let text = "Ip6InReceives                   \t2\nUdpLite6InErrors 0\nNoSix 1\n\n";
        assert_eq!(
            parse_snmp6(text),
            Ok(vec![
                ("Ip6", "InReceives", 2.0),
                ("UdpLite6", "InErrors", 0.0)
            ])
        );
    }

    #[test]
    fn writes_selected_fields() {
        let dir = tempfile::tempdir().expect("tempdir");
        let net = dir.path().join("net");
        std::fs::create_dir_all(&net).expect("mkdir");
        std::fs::write(
            net.join("netstat"),
            "TcpExt: TCPSynRetrans TCPOFOQueue\nTcpExt: 4 5\n",
        )
        .expect("write");
        std::fs::write(
            net.join("snmp"),
            "Tcp: OutSegs RetransSegs RtoMin\nTcp: 10 2 200\n",
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
            "# HELP node_netstat_TcpExt_TCPSynRetrans Statistic TcpExtTCPSynRetrans.\n\
             # TYPE node_netstat_TcpExt_TCPSynRetrans untyped\n\
             node_netstat_TcpExt_TCPSynRetrans 4\n\
             # HELP node_netstat_Tcp_OutSegs Statistic TcpOutSegs.\n\
             # TYPE node_netstat_Tcp_OutSegs untyped\nnode_netstat_Tcp_OutSegs 10\n\
             # HELP node_netstat_Tcp_RetransSegs Statistic TcpRetransSegs.\n\
             # TYPE node_netstat_Tcp_RetransSegs untyped\nnode_netstat_Tcp_RetransSegs 2\n"
        );
    }
}

//! Pod network counters from `/proc/<pid>/net/dev` of a process inside the pod's network
//! namespace, as cAdvisor reads them (no `setns`): loopback and host-side interfaces
//! (`veth*`, `docker*`, `nerdctl*`) are skipped. Pods on the host network share the
//! host's namespace; their interfaces are the node's and are not repeated per pod.

use std::path::Path;

/// Counters of one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

const IGNORED: [&str; 4] = ["lo", "veth", "docker", "nerdctl"];

/// The interfaces seen by `pid`, or None when it is gone or shares the host's namespace.
pub fn read(procfs: &Path, pid: u32) -> Option<Vec<Interface>> {
    let ns = std::fs::read_link(procfs.join(format!("{pid}/ns/net"))).ok();
    let host = std::fs::read_link(procfs.join("1/ns/net")).ok();
    if ns.is_some() && ns == host {
        return None;
    }
    let text = std::fs::read_to_string(procfs.join(format!("{pid}/net/dev"))).ok()?;
    Some(parse(&text))
}

/// The pod-relevant interfaces of a `/proc/net/dev` (parsed as the node collector does).
pub fn parse(text: &str) -> Vec<Interface> {
    crate::metrics::node::parse_net_dev(text)
        .into_iter()
        .filter(|d| !IGNORED.iter().any(|p| d.name.starts_with(p)))
        .map(
            |crate::metrics::node::NetDev { name, counters: f }| Interface {
                name: name.to_string(),
                rx_bytes: f[0],
                rx_packets: f[1],
                rx_errors: f[2],
                rx_dropped: f[3],
                tx_bytes: f[8],
                tx_packets: f[9],
                tx_errors: f[10],
                tx_dropped: f[11],
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_net_dev() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\nveth12: 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5\n short: 1 2\n";
        assert_eq!(
            parse(text),
            [Interface {
                name: "eth0".into(),
                rx_bytes: 1000,
                rx_packets: 10,
                rx_errors: 1,
                rx_dropped: 2,
                tx_bytes: 2000,
                tx_packets: 20,
                tx_errors: 3,
                tx_dropped: 4,
            }]
        );
    }
}

//! argus' `node_*` series against the real node_exporter on this machine.
//!
//! Starts `/usr/bin/prometheus-node-exporter` (Debian's `prometheus-node-exporter`, 1.5;
//! override with `ARGUS_NODE_EXPORTER`) on a free loopback port with upstream's default
//! flags for the collectors argus implements, scrapes it, runs `NodeCollector::collect`
//! right after, and compares the two expositions: the same families with the same types
//! and label sets, static values equal, counters within a tolerance. A missing
//! node_exporter binary fails the test. When `promtool` is installed, argus' output must
//! not draw lints that node_exporter's own output does not.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use argus_collector::metrics::expo::{Exposition, Format};
use argus_collector::metrics::node::NodeCollector;
use argus_collector::metrics::HostPaths;

/// The node_exporter collectors argus implements (also the `collector` label values).
const COLLECTORS: [&str; 16] = [
    "cpu",
    "stat",
    "meminfo",
    "loadavg",
    "vmstat",
    "filesystem",
    "netdev",
    "netclass",
    "diskstats",
    "filefd",
    "conntrack",
    "netstat",
    "uname",
    "time",
    "timex",
    "pressure",
];

/// Upstream node_exporter 1.5 defaults, passed explicitly because distributions patch
/// some of them (Debian excludes `lo` from netdev and `/run`, `/mnt`, `/media` from
/// filesystem).
const UPSTREAM_FLAGS: [&str; 4] = [
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
    "--collector.diskstats.device-exclude=^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$",
    "--collector.netdev.device-exclude=",
];

/// The "Node series" list of docs' metrics.md: each one node_exporter emits here must be
/// emitted by argus with the same series.
const CONTRACT: &[&str] = &[
    "node_cpu_seconds_total",
    "node_load1",
    "node_load5",
    "node_load15",
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemFree_bytes",
    "node_memory_Buffers_bytes",
    "node_memory_Cached_bytes",
    "node_memory_Slab_bytes",
    "node_memory_SwapTotal_bytes",
    "node_memory_SwapFree_bytes",
    "node_vmstat_pgmajfault",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_free_bytes",
    "node_filesystem_files",
    "node_filesystem_files_free",
    "node_filesystem_readonly",
    "node_filesystem_device_error",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_network_receive_packets_total",
    "node_network_transmit_packets_total",
    "node_network_receive_errs_total",
    "node_network_transmit_errs_total",
    "node_network_receive_drop_total",
    "node_network_transmit_drop_total",
    "node_network_up",
    "node_disk_reads_completed_total",
    "node_disk_writes_completed_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_disk_io_time_seconds_total",
    "node_disk_io_time_weighted_seconds_total",
    "node_filefd_allocated",
    "node_filefd_maximum",
    "node_timex_offset_seconds",
    "node_timex_sync_status",
    "node_timex_maxerror_seconds",
    "node_nf_conntrack_entries",
    "node_nf_conntrack_entries_limit",
    "node_netstat_Tcp_RetransSegs",
    "node_netstat_Tcp_OutSegs",
    "node_netstat_TcpExt_TCPSynRetrans",
    "node_uname_info",
    "node_time_seconds",
    "node_boot_time_seconds",
    "node_context_switches_total",
    "node_intr_total",
    "node_procs_running",
    "node_procs_blocked",
    "node_pressure_cpu_waiting_seconds_total",
    "node_pressure_memory_waiting_seconds_total",
    "node_pressure_memory_stalled_seconds_total",
    "node_pressure_io_waiting_seconds_total",
    "node_pressure_io_stalled_seconds_total",
];

/// node_exporter families argus deliberately does not write (see the node module docs):
/// the netclass attributes beyond `node_network_up` (about 20 sysfs reads per interface
/// per scrape) and the time zone offset (needs the zone database).
fn not_implemented(name: &str) -> bool {
    const NETCLASS: &[&str] = &[
        "node_network_address_assign_type",
        "node_network_carrier",
        "node_network_carrier_changes_total",
        "node_network_carrier_down_changes_total",
        "node_network_carrier_up_changes_total",
        "node_network_device_id",
        "node_network_dormant",
        "node_network_flags",
        "node_network_iface_id",
        "node_network_iface_link",
        "node_network_iface_link_mode",
        "node_network_info",
        "node_network_mtu_bytes",
        "node_network_name_assign_type",
        "node_network_net_dev_group",
        "node_network_protocol_type",
        "node_network_speed_bytes",
        "node_network_transmit_queue_length",
    ];
    NETCLASS.contains(&name) || name == "node_time_zone_offset_seconds"
}

type Labels = BTreeMap<String, String>;

/// A parsed text exposition: family types and the series of each metric name.
#[derive(Debug, Default)]
struct Parsed {
    types: BTreeMap<String, String>,
    series: BTreeMap<String, BTreeMap<Labels, f64>>,
    /// Problems of the format itself (repeated families or series, samples before TYPE).
    problems: Vec<String>,
}

impl Parsed {
    fn label_sets(&self, name: &str) -> BTreeSet<&Labels> {
        self.series
            .get(name)
            .map(|s| s.keys().collect())
            .unwrap_or_default()
    }
}

/// A small parser of the text format 0.0.4, enough for node_exporter's output.
fn parse(body: &str, who: &str) -> Parsed {
    let mut p = Parsed::default();
    let mut current: Option<String> = None;
    for (n, line) in body.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap_or_default().to_string();
            let kind = parts.next().unwrap_or_default().to_string();
            if p.types.insert(name.clone(), kind).is_some() {
                p.problems
                    .push(format!("{who}: family {name} declared twice"));
            }
            current = Some(name);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, labels, rest) = match line.find(['{', ' ']) {
            Some(i) if line.as_bytes()[i] == b'{' => {
                let (labels, after) = parse_labels(&line[i + 1..])
                    .unwrap_or_else(|| panic!("{who}: bad labels on line {}: {line}", n + 1));
                (&line[..i], labels, after)
            }
            Some(i) => (&line[..i], Labels::new(), &line[i..]),
            None => panic!("{who}: bad line {}: {line}", n + 1),
        };
        let value = rest.split_whitespace().next().unwrap_or_default();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("{who}: bad value on line {}: {line}", n + 1)),
        };
        if current.as_deref() != Some(name) {
            p.problems
                .push(format!("{who}: sample of {name} outside its family block"));
        }
        let series = p.series.entry(name.to_string()).or_default();
        if series.insert(labels.clone(), value).is_some() {
            p.problems
                .push(format!("{who}: series {name}{labels:?} repeated"));
        }
    }
    p
}

/// Parses `a="x",b="y"}` and returns the labels and the text after `}`.
fn parse_labels(s: &str) -> Option<(Labels, &str)> {
    let mut labels = Labels::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].to_string();
        rest = rest[eq + 1..].strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(name, value);
        rest = &rest[end + 1..];
    }
}

/// Kills node_exporter when the test ends, however it ends.
struct Exporter(Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exporter_binary() -> PathBuf {
    let path = std::env::var_os("ARGUS_NODE_EXPORTER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus-node-exporter"));
    assert!(
        path.is_file(),
        "node_exporter not found at {} (install Debian's prometheus-node-exporter or set \
         ARGUS_NODE_EXPORTER); this comparison must not be skipped",
        path.display()
    );
    path
}

fn start_exporter() -> (Exporter, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut cmd = Command::new(exporter_binary());
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.disable-exporter-metrics")
        .arg("--collector.disable-defaults")
        .args(COLLECTORS.iter().map(|c| format!("--collector.{c}")))
        .args(UPSTREAM_FLAGS)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().expect("start node_exporter");
    let exporter = Exporter(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "node_exporter did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (exporter, port)
}

fn scrape(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to node_exporter");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n")
        .expect("send request");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("read response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("HTTP response without a header end");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "node_exporter answered {head}"
    );
    body.to_string()
}

fn collect_argus(collector: &NodeCollector) -> String {
    let mut out = Exposition::new(Format::Text);
    collector.collect(&mut out);
    out.finish()
}

/// Allowed difference between node_exporter's value `ne` and argus' `ar` for a series
/// read a few milliseconds later; `None` means the values are not compared.
fn tolerance(name: &str, labels: &Labels, ne: f64, ne_body_len: usize) -> Option<f64> {
    let rel = |r: f64, min: f64| Some((ne.abs() * r).max(min));
    let exact = Some(0.0);
    match name {
        // Static for the life of the machine (or of the mount).
        "node_memory_MemTotal_bytes"
        | "node_memory_SwapTotal_bytes"
        | "node_filesystem_size_bytes"
        | "node_filesystem_files"
        | "node_filesystem_readonly"
        | "node_filesystem_device_error"
        | "node_filefd_maximum"
        | "node_nf_conntrack_entries_limit"
        | "node_uname_info"
        | "node_network_up"
        | "node_disk_info"
        | "node_disk_filesystem_info"
        | "node_disk_device_mapper_info"
        | "node_time_clocksource_available_info"
        | "node_time_clocksource_current_info"
        | "node_timex_sync_status"
        | "node_timex_tick_seconds"
        | "node_timex_loop_time_constant"
        | "node_timex_tai_offset_seconds"
        | "node_cpu_isolated"
        | "node_scrape_collector_success" => exact,
        "node_boot_time_seconds" => Some(1.0),
        "node_time_seconds" => Some(10.0),
        "node_cpu_seconds_total" | "node_cpu_guest_seconds_total" => Some(2.0),
        n if n.starts_with("node_pressure_") => Some(2.0),
        "node_timex_maxerror_seconds" | "node_timex_estimated_error_seconds" => Some(0.5),
        n if n.starts_with("node_memory_") && n.ends_with("_bytes") => rel(0.05, 64.0 * 1048576.0),
        n if n.starts_with("node_filesystem_") => rel(0.02, 256.0 * 1048576.0),
        n if n.starts_with("node_network_") && n.ends_with("_bytes_total") => {
            // The scrape of node_exporter itself crosses `lo` between the two reads.
            let scrape = if labels.get("device").map(String::as_str) == Some("lo") {
                4.0 * ne_body_len as f64
            } else {
                0.0
            };
            Some((ne * 0.02).max(256.0 * 1024.0) + scrape)
        }
        n if n.starts_with("node_network_") => rel(0.02, 2000.0),
        n if n.starts_with("node_disk_") && n.contains("bytes") => rel(0.05, 256.0 * 1048576.0),
        n if n.starts_with("node_disk_") && n.contains("seconds") => rel(0.05, 10.0),
        n if n.starts_with("node_disk_") => rel(0.05, 10000.0),
        n if n.starts_with("node_netstat_") || n.starts_with("node_vmstat_") => rel(0.05, 10000.0),
        "node_context_switches_total" | "node_intr_total" | "node_forks_total" => {
            rel(0.05, 100000.0)
        }
        n if n.starts_with("node_nf_conntrack_stat_") => rel(0.05, 1000.0),
        _ => None,
    }
}

fn compare(ne: &Parsed, ar: &Parsed, ne_body_len: usize) -> Vec<String> {
    let mut diffs: Vec<String> = Vec::new();
    diffs.extend(ar.problems.iter().cloned());

    let ne_names: BTreeSet<&String> = ne
        .series
        .keys()
        .filter(|n| n.starts_with("node_") && *n != "node_exporter_build_info")
        .collect();
    let ar_names: BTreeSet<&String> = ar.series.keys().collect();

    for name in CONTRACT {
        if ne.series.contains_key(*name) && !ar.series.contains_key(*name) {
            diffs.push(format!(
                "contract family {name}: node_exporter has it, argus does not"
            ));
        }
    }
    for name in ne_names.difference(&ar_names) {
        if !not_implemented(name) {
            diffs.push(format!("family {name}: only node_exporter has it"));
        }
    }
    for name in ar_names.difference(&ne_names) {
        diffs.push(format!("family {name}: only argus has it"));
    }
    for name in ne_names.intersection(&ar_names) {
        let (nt, at) = (ne.types.get(*name), ar.types.get(*name));
        if nt != at {
            diffs.push(format!(
                "family {name}: TYPE {nt:?} in node_exporter, {at:?} in argus"
            ));
        }
        let (nl, al) = (ne.label_sets(name), ar.label_sets(name));
        for l in nl.difference(&al) {
            diffs.push(format!("{name}: series {l:?} only in node_exporter"));
        }
        for l in al.difference(&nl) {
            diffs.push(format!("{name}: series {l:?} only in argus"));
        }
        let (Some(ns), Some(as_)) = (ne.series.get(*name), ar.series.get(*name)) else {
            continue;
        };
        for (labels, nv) in ns {
            let Some(av) = as_.get(labels) else { continue };
            let Some(tol) = tolerance(name, labels, *nv, ne_body_len) else {
                continue;
            };
            if (nv - av).abs() > tol {
                diffs.push(format!(
                    "{name}{labels:?}: node_exporter {nv}, argus {av} (allowed difference {tol})"
                ));
            }
        }
    }
    diffs
}

#[test]
fn node_series_match_node_exporter() {
    let (exporter, port) = start_exporter();
    let collector = NodeCollector::new(HostPaths::default());
    // Warm up both (first scrapes open files, start the statfs worker).
    let _ = scrape(port);
    let _ = collect_argus(&collector);

    let ne_body = scrape(port);
    let ar_body = collect_argus(&collector);
    drop(exporter);

    // For debugging: ARGUS_NODE_DUMP=<dir> keeps both bodies.
    if let Some(dir) = std::env::var_os("ARGUS_NODE_DUMP") {
        let dir = PathBuf::from(dir);
        std::fs::write(dir.join("node_exporter.prom"), &ne_body).expect("dump");
        std::fs::write(dir.join("argus.prom"), &ar_body).expect("dump");
    }

    let ne = parse(&ne_body, "node_exporter");
    let ar = parse(&ar_body, "argus");
    assert!(ne.problems.is_empty(), "{:?}", ne.problems);
    assert!(
        ne.series.contains_key("node_cpu_seconds_total"),
        "node_exporter output looks wrong:\n{ne_body}"
    );
    let diffs = compare(&ne, &ar, ne_body.len());
    assert!(
        diffs.is_empty(),
        "argus' node series differ from node_exporter's ({} differences):\n  {}",
        diffs.len(),
        diffs.join("\n  ")
    );

    let contract_seen = CONTRACT
        .iter()
        .filter(|n| ne.series.contains_key(**n))
        .count();
    println!(
        "compared {} families ({} of {} contract families present here), {} argus series",
        ne.series.len(),
        contract_seen,
        CONTRACT.len(),
        ar.series.values().map(BTreeMap::len).sum::<usize>()
    );

    promtool_lints_match(&ne_body, &ar_body);

    // One scrape's cost, reported not asserted.
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let start = Instant::now();
            let _ = collect_argus(&collector);
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "NodeCollector::collect: min {:?}, median {:?}, max {:?} over {} runs; argus {} bytes, node_exporter {} bytes",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1],
        times.len(),
        ar_body.len(),
        ne_body.len(),
    );
}

/// `promtool check metrics` lints, without the ones about families only node_exporter has.
fn promtool_lints(promtool: &str, body: &str) -> BTreeSet<String> {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = body.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("promtool output");
    let _ = writer.join();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn promtool_lints_match(ne_body: &str, ar_body: &str) {
    let promtool = std::env::var("ARGUS_PROMTOOL").unwrap_or_else(|_| "/usr/bin/promtool".into());
    if !std::path::Path::new(&promtool).is_file() {
        println!("promtool not found at {promtool}; lint comparison skipped");
        return;
    }
    let ne = promtool_lints(&promtool, ne_body);
    let ar = promtool_lints(&promtool, ar_body);
    let extra: Vec<&String> = ar.difference(&ne).collect();
    assert!(
        extra.is_empty(),
        "promtool reports on argus' node output what it does not report on node_exporter's:\n  {}",
        extra
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    println!(
        "promtool: {} lints on argus' output, {} on node_exporter's, none new",
        ar.len(),
        ne.len()
    );
}

#[test]
fn parser_reads_escapes_and_repeats() {
    let p = parse(
        "# TYPE a gauge\na{x=\"q\\\"\\\\\\n\",y=\"\"} 1\na{y=\"\",x=\"q\\\"\\\\\\n\"} 2\n",
        "t",
    );
    let labels: Labels = [("x", "q\"\\\n"), ("y", "")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(p.series["a"][&labels], 2.0);
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
}

#[test]
fn comparison_reports_each_difference() {
    let ne = parse(
        "# TYPE node_a gauge\nnode_a{d=\"x\"} 1\n\
         # TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 10\n\
         # TYPE node_b counter\nnode_b 1\n\
         # TYPE node_time_zone_offset_seconds gauge\nnode_time_zone_offset_seconds 0\n",
        "ne",
    );
    let ar = parse(
        "# TYPE node_a counter\nnode_a{d=\"y\"} 1\n\
         # TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 11\n\
         # TYPE node_c gauge\nnode_c 1\n",
        "ar",
    );
    let diffs = compare(&ne, &ar, 0);
    for expected in [
        "family node_b: only node_exporter has it",
        "family node_c: only argus has it",
        "family node_a: TYPE",
        "node_a: series {\"d\": \"x\"} only in node_exporter",
        "node_a: series {\"d\": \"y\"} only in argus",
        "node_memory_MemTotal_bytes{}: node_exporter 10, argus 11",
    ] {
        assert!(
            diffs.iter().any(|d| d.starts_with(expected)),
            "missing {expected:?} in {diffs:#?}"
        );
    }
    assert_eq!(diffs.len(), 6, "{diffs:#?}");
}

//! node_exporter's small collectors: `filefd` (`/proc/sys/fs/file-nr`), `conntrack`
//! (`/proc/sys/net/netfilter/nf_conntrack_{count,max}`, `/proc/net/stat/nf_conntrack`),
//! `uname` (`uname(2)`), `time` (the clock and `/sys/devices/system/clocksource`) and
//! `pressure` (`/proc/pressure/{cpu,io,memory}`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::read::{io_error, read_into, read_raw, read_trimmed, read_u64, text};
use super::{Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// `file-nr`: allocated, unused (always 0 since 2.6), maximum.
pub(super) fn parse_file_nr(text: &str) -> Option<(f64, f64)> {
    let mut fields = text.split_ascii_whitespace();
    let allocated = fields.next()?.parse::<u64>().ok()?;
    let _unused = fields.next()?;
    let maximum = fields.next()?.parse::<u64>().ok()?;
    Some((allocated as f64, maximum as f64))
}

pub(super) fn collect_filefd(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("sys/fs/file-nr");
    read_into(&path, buf)?;
    let (allocated, maximum) =
        parse_file_nr(&text(buf)).ok_or_else(|| Error::parse(&path, "unexpected content"))?;
    out.single(
        "node_filefd_allocated",
        Kind::Gauge,
        "File descriptor statistics: allocated.",
        allocated,
    );
    out.single(
        "node_filefd_maximum",
        Kind::Gauge,
        "File descriptor statistics: maximum.",
        maximum,
    );
    Ok(())
}

/// `/proc/net/stat/nf_conntrack` columns node_exporter reports, by position (the header
/// names changed across kernels, the positions did not), with their family and help.
const CONNTRACK_STATS: [(usize, &str, &str); 8] = [
    (
        2,
        "node_nf_conntrack_stat_found",
        "Number of searched entries which were successful.",
    ),
    (
        4,
        "node_nf_conntrack_stat_invalid",
        "Number of packets seen which can not be tracked.",
    ),
    (
        5,
        "node_nf_conntrack_stat_ignore",
        "Number of packets seen which are already connected to a conntrack entry.",
    ),
    (
        8,
        "node_nf_conntrack_stat_insert",
        "Number of entries inserted into the list.",
    ),
    (
        9,
        "node_nf_conntrack_stat_insert_failed",
        "Number of entries for which list insertion was attempted but failed.",
    ),
    (
        10,
        "node_nf_conntrack_stat_drop",
        "Number of packets dropped due to conntrack failure.",
    ),
    (
        11,
        "node_nf_conntrack_stat_early_drop",
        "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.",
    ),
    (
        16,
        "node_nf_conntrack_stat_search_restart",
        "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
    ),
];

/// Sums the per-CPU hexadecimal rows of `/proc/net/stat/nf_conntrack` (after the header)
/// for [`CONNTRACK_STATS`]. Every row must have the 17 columns.
pub(super) fn parse_conntrack_stat(text: &str) -> Result<[u64; 8], String> {
    let mut sums = [0u64; 8];
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() != 17 {
            return Err(format!("expected 17 fields, got {}", fields.len()));
        }
        for (sum, (col, _, _)) in sums.iter_mut().zip(CONNTRACK_STATS) {
            let field = fields.get(col).copied().unwrap_or("");
            let v = u64::from_str_radix(field, 16).map_err(|e| format!("{field:?}: {e}"))?;
            *sum = sum.wrapping_add(v);
        }
    }
    Ok(sums)
}

pub(super) fn collect_conntrack(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let netfilter = paths.procfs.join("sys/net/netfilter");
    let count_path = netfilter.join("nf_conntrack_count");
    let count = read_u64(&count_path, buf).map_err(|e| io_error(&count_path, &e))?;
    out.single(
        "node_nf_conntrack_entries",
        Kind::Gauge,
        "Number of currently allocated flow entries for connection tracking.",
        count as f64,
    );
    let max_path = netfilter.join("nf_conntrack_max");
    let max = read_u64(&max_path, buf).map_err(|e| io_error(&max_path, &e))?;
    out.single(
        "node_nf_conntrack_entries_limit",
        Kind::Gauge,
        "Maximum size of connection tracking table.",
        max as f64,
    );
    let path = paths.procfs.join("net/stat/nf_conntrack");
    read_raw(&path, buf).map_err(|e| io_error(&path, &e))?;
    let sums = parse_conntrack_stat(&text(buf)).map_err(|m| Error::parse(&path, m))?;
    for (sum, (_, name, help)) in sums.iter().zip(CONNTRACK_STATS) {
        out.single(name, Kind::Gauge, help, *sum as f64);
    }
    Ok(())
}

pub(super) fn collect_uname(out: &mut Exposition) -> Result<(), Error> {
    let u = rustix::system::uname();
    let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    let (sysname, release, version) = (s(u.sysname()), s(u.release()), s(u.version()));
    let (machine, nodename, domainname) = (s(u.machine()), s(u.nodename()), s(u.domainname()));
    out.family(
        "node_uname_info",
        Kind::Gauge,
        "Labeled system information as provided by the uname system call.",
    );
    out.sample(
        "node_uname_info",
        &[
            ("sysname", &sysname),
            ("release", &release),
            ("version", &version),
            ("machine", &machine),
            ("nodename", &nodename),
            ("domainname", &domainname),
        ],
        1.0,
    );
    Ok(())
}

/// `node_time_seconds` and the clocksource info series. node_exporter's
/// `node_time_zone_offset_seconds` is not written: it needs the local time zone database.
pub(super) fn collect_time(
    paths: &HostPaths,
    small: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as f64 / 1e9)
        .unwrap_or(0.0);
    out.single(
        "node_time_seconds",
        Kind::Gauge,
        "System time in seconds since epoch (1970).",
        now,
    );

    let dir = paths.sysfs.join("devices/system/clocksource");
    let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, &e))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("clocksource")
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    names.sort();
    let mut available: Vec<(String, String)> = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let device = i.to_string();
        let avail_path = dir.join(name).join("available_clocksource");
        let avail = read_trimmed(&avail_path, small).map_err(|e| io_error(&avail_path, &e))?;
        for cs in avail.split_ascii_whitespace() {
            available.push((device.clone(), cs.to_string()));
        }
        let cur_path = dir.join(name).join("current_clocksource");
        let cur = read_trimmed(&cur_path, small).map_err(|e| io_error(&cur_path, &e))?;
        current.push((device, cur.to_string()));
    }
    for (name, help, rows) in [
        (
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
            &available,
        ),
        (
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            &current,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        out.family(name, Kind::Gauge, help);
        for (device, cs) in rows {
            out.sample(name, &[("clocksource", cs), ("device", device)], 1.0);
        }
    }
    Ok(())
}

/// The `total=` (microseconds) of the `some` and `full` lines of a PSI file.
pub(super) fn parse_psi(text: &str) -> (Option<u64>, Option<u64>) {
    let (mut some, mut full) = (None, None);
    for line in text.lines() {
        let mut fields = line.split(' ');
        let slot = match fields.next() {
            Some("some") => &mut some,
            Some("full") => &mut full,
            _ => continue,
        };
        *slot = fields
            .find_map(|f| f.strip_prefix("total="))
            .and_then(|v| v.parse::<u64>().ok());
    }
    (some, full)
}

pub(super) fn collect_pressure(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    // node_exporter divides twice; kept for bit-identical values.
    let seconds = |us: u64| us as f64 / 1000.0 / 1000.0;
    for resource in ["cpu", "io", "memory"] {
        let path = paths.procfs.join("pressure").join(resource);
        read_into(&path, buf)?;
        let (some, full) = parse_psi(&text(buf));
        let some = some.ok_or_else(|| Error::parse(&path, "no \"some\" line"))?;
        match resource {
            "cpu" => out.single(
                "node_pressure_cpu_waiting_seconds_total",
                Kind::Counter,
                "Total time in seconds that processes have waited for CPU time",
                seconds(some),
            ),
            "io" => {
                out.single(
                    "node_pressure_io_waiting_seconds_total",
                    Kind::Counter,
                    "Total time in seconds that processes have waited due to IO congestion",
                    seconds(some),
                );
                let full = full.ok_or_else(|| Error::parse(&path, "no \"full\" line"))?;
                out.single(
                    "node_pressure_io_stalled_seconds_total",
                    Kind::Counter,
                    "Total time in seconds no process could make progress due to IO congestion",
                    seconds(full),
                );
            }
            _ => {
                out.single(
                    "node_pressure_memory_waiting_seconds_total",
                    Kind::Counter,
                    "Total time in seconds that processes have waited for memory",
                    seconds(some),
                );
                let full = full.ok_or_else(|| Error::parse(&path, "no \"full\" line"))?;
                out.single(
                    "node_pressure_memory_stalled_seconds_total",
                    Kind::Counter,
                    "Total time in seconds no process could make progress due to memory congestion",
                    seconds(full),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::expo::Format;

    #[test]
    fn parses_file_nr() {
        assert_eq!(parse_file_nr("342\t0\t2466165\n"), Some((342.0, 2466165.0)));
        assert_eq!(parse_file_nr("342\t0\n"), None);
        assert_eq!(parse_file_nr("x 0 1\n"), None);
    }

    #[test]
    fn sums_conntrack_stats() {
        let text = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n\
            00000010  00000000 00000001 00000000 00000002 00000003 00000000 00000000 00000004 00000005 00000006 00000007 00000000  00000000 00000000 00000000 0000000a\n\
            00000010  00000000 0000000f 00000000 00000002 00000003 00000000 00000000 00000004 00000005 00000006 00000007 00000000  00000000 00000000 00000000 00000001\n";
        assert_eq!(
            parse_conntrack_stat(text),
            Ok([16, 4, 6, 8, 10, 12, 14, 11])
        );
        assert!(parse_conntrack_stat("h\n1 2 3\n").is_err());
        assert!(parse_conntrack_stat(&format!("h\n{}\n", ["zz"; 17].join(" "))).is_err());
    }

    #[test]
    fn parses_psi() {
        let text = "some avg10=0.70 avg60=0.41 avg300=5.04 total=1372309746\n\
                    full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        assert_eq!(parse_psi(text), (Some(1372309746), Some(0)));
        assert_eq!(
            parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"),
            (Some(5), None)
        );
        assert_eq!(parse_psi("some total=x\n"), (None, None));
    }

    #[test]
    fn writes_pressure_and_conntrack() {
        let dir = tempfile::tempdir().expect("tempdir");
        let proc = dir.path();
        std::fs::create_dir_all(proc.join("pressure")).expect("mkdir");
        let psi = "some avg10=0.70 avg60=0.41 avg300=5.04 total=1372309746\n\
                   full avg10=0.00 avg60=0.00 avg300=0.00 total=75585966\n";
        for r in ["cpu", "io", "memory"] {
            std::fs::write(proc.join("pressure").join(r), psi).expect("write");
        }
        std::fs::create_dir_all(proc.join("sys/net/netfilter")).expect("mkdir");
        std::fs::write(proc.join("sys/net/netfilter/nf_conntrack_count"), "7\n").expect("w");
        std::fs::write(proc.join("sys/net/netfilter/nf_conntrack_max"), "262144\n").expect("w");
        let paths = HostPaths {
            procfs: proc.to_path_buf(),
            ..HostPaths::default()
        };
        let mut e = Exposition::new(Format::Text);
        collect_pressure(&paths, &mut Vec::new(), &mut e).expect("pressure");
        // No net/stat/nf_conntrack: the two entry gauges are still written.
        assert!(collect_conntrack(&paths, &mut Vec::new(), &mut e).is_err());
        let body = e.finish();
        for line in [
            // Same float as node_exporter's total/1000.0/1000.0.
            "node_pressure_cpu_waiting_seconds_total 1372.3097460000001\n",
            "node_pressure_io_stalled_seconds_total 75.585966\n",
            "node_pressure_memory_waiting_seconds_total 1372.3097460000001\n",
            "node_nf_conntrack_entries 7\n",
            "node_nf_conntrack_entries_limit 262144\n",
        ] {
            assert!(body.contains(line), "missing {line:?} in\n{body}");
        }
        assert!(!body.contains("node_pressure_cpu_stalled"));
    }

    #[test]
    fn writes_uname_and_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cs = dir.path().join("devices/system/clocksource/clocksource0");
        std::fs::create_dir_all(&cs).expect("mkdir");
        std::fs::write(cs.join("available_clocksource"), "tsc kvm-clock \n").expect("w");
        std::fs::write(cs.join("current_clocksource"), "tsc\n").expect("w");
        let paths = HostPaths {
            sysfs: dir.path().to_path_buf(),
            ..HostPaths::default()
        };
        let mut e = Exposition::new(Format::Text);
        collect_uname(&mut e).expect("uname");
        collect_time(&paths, &mut Vec::new(), &mut e).expect("time");
        let body = e.finish();
        assert!(body.contains("node_uname_info{sysname=\"Linux\","));
        assert!(body.contains(
            "node_time_clocksource_available_info{clocksource=\"kvm-clock\",device=\"0\"} 1\n"
        ));
        assert!(body
            .contains("node_time_clocksource_current_info{clocksource=\"tsc\",device=\"0\"} 1\n"));
        assert!(body.contains("node_time_seconds 1"));
    }
}

//! Block devices: node_exporter's `diskstats` collector (`node_disk_*{device}` from
//! `/proc/diskstats`, milliseconds → seconds, 512-byte sectors → bytes) with its default
//! device exclusion, plus `node_disk_info` and the udev-derived info series read from
//! `<rootfs>/run/udev/data/b<major>:<minor>`.

use std::collections::HashMap;

use super::read::{parse_f64, read_into, read_raw, text};
use super::{Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// Sectors in `/proc/diskstats` are always 512 bytes, whatever the device's block size.
const SECTOR_BYTES: f64 = 512.0;
const SECONDS_PER_TICK: f64 = 0.001;

/// The statistics after the device name, in file order: family, help, type, scale.
const STATS: [(&str, &str, Kind, f64); 17] = [
    (
        "node_disk_reads_completed_total",
        "The total number of reads completed successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_reads_merged_total",
        "The total number of reads merged.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
        Kind::Counter,
        SECTOR_BYTES,
    ),
    (
        "node_disk_read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        Kind::Counter,
        SECONDS_PER_TICK,
    ),
    (
        "node_disk_writes_completed_total",
        "The total number of writes completed successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_writes_merged_total",
        "The number of writes merged.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
        Kind::Counter,
        SECTOR_BYTES,
    ),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        Kind::Counter,
        SECONDS_PER_TICK,
    ),
    (
        "node_disk_io_now",
        "The number of I/Os currently in progress.",
        Kind::Gauge,
        1.0,
    ),
    (
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        Kind::Counter,
        SECONDS_PER_TICK,
    ),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        Kind::Counter,
        SECONDS_PER_TICK,
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_discards_merged_total",
        "The total number of discards merged.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_discarded_sectors_total",
        "The total number of sectors discarded successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        Kind::Counter,
        SECONDS_PER_TICK,
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        Kind::Counter,
        SECONDS_PER_TICK,
    ),
];

/// One `/proc/diskstats` line.
#[derive(Debug, PartialEq)]
pub(super) struct DiskStats<'a> {
    pub major: u32,
    pub minor: u32,
    pub name: &'a str,
    /// The statistics present on this kernel (11, 15 or 17 of them).
    pub stats: Vec<u64>,
}

/// Parses `/proc/diskstats`, keeping lines with at least the 11 classic statistics.
pub(super) fn parse(text: &str) -> Vec<DiskStats<'_>> {
    let mut disks = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(major), Some(minor), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u32>(), minor.parse::<u32>()) else {
            continue;
        };
        // Like Sscanf: stop at the first field that does not parse.
        let stats: Vec<u64> = fields
            .map_while(|f| f.parse::<u64>().ok())
            .take(STATS.len())
            .collect();
        if stats.len() < 11 {
            continue;
        }
        disks.push(DiskStats {
            major,
            minor,
            name,
            stats,
        });
    }
    disks
}

/// node_exporter 1.5's default `--collector.diskstats.device-exclude`,
/// `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`: partitions and pseudo devices.
pub(super) fn excluded_device(name: &str) -> bool {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if base.len() == name.len() {
        return false; // `\d+$` needs at least one trailing digit
    }
    let b = base.as_bytes();
    match b {
        b"ram" | b"loop" | b"fd" => true,
        [b'h' | b's' | b'v', b'd', c] => c.is_ascii_lowercase(),
        [b'x', b'v', b'd', c] => c.is_ascii_lowercase(),
        _ => is_nvme_partition_base(base),
    }
}

/// `nvme\d+n\d+p`
fn is_nvme_partition_base(base: &str) -> bool {
    let Some(rest) = base.strip_prefix("nvme") else {
        return false;
    };
    let Some(rest) = rest.strip_suffix('p') else {
        return false;
    };
    let Some((ctrl, ns)) = rest.split_once('n') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(ctrl) && digits(ns)
}

/// The `E:KEY=VALUE` properties of a udev database file.
pub(super) fn parse_udev(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("E:"))
        .filter_map(|l| l.split_once('='))
        .collect()
}

pub(super) fn collect(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    small: &mut Vec<u8>,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("diskstats");
    read_into(&path, buf)?;
    let content = text(buf);
    let disks: Vec<DiskStats<'_>> = parse(&content)
        .into_iter()
        .filter(|d| !excluded_device(d.name))
        .collect();

    for (i, (name, help, kind, scale)) in STATS.iter().enumerate() {
        let mut first = true;
        for d in &disks {
            let Some(v) = d.stats.get(i) else { continue };
            if first {
                out.family(name, *kind, help);
                first = false;
            }
            out.sample(name, &[("device", d.name)], *v as f64 * scale);
        }
    }

    // udev properties: one small file per device; a missing file gives empty labels.
    let udev_dir = paths.rootfs.join("run/udev/data");
    let udev: Vec<Udev> = disks
        .iter()
        .map(|d| {
            let file = udev_dir.join(format!("b{}:{}", d.major, d.minor));
            match read_raw(&file, small) {
                Ok(()) => parse_udev(&text(small))
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                Err(_) => Udev::new(),
            }
        })
        .collect();
    write_udev(&disks, &udev, out);
    Ok(())
}

type Udev = HashMap<String, String>;

fn prop<'a>(udev: &'a Udev, key: &str) -> &'a str {
    udev.get(key).map_or("", String::as_str)
}

/// `node_disk_info` for every device, and the series node_exporter adds when udev knows a
/// filesystem, a device-mapper name or ATA properties.
fn write_udev(disks: &[DiskStats<'_>], udev: &[Udev], out: &mut Exposition) {
    let rows: Vec<(&DiskStats<'_>, &Udev)> = disks.iter().zip(udev).collect();
    if rows.is_empty() {
        return;
    }
    let name = "node_disk_info";
    out.family(name, Kind::Gauge, "Info of /sys/block/<block_device>.");
    for (d, u) in &rows {
        let (major, minor) = (d.major.to_string(), d.minor.to_string());
        let labels = [
            ("device", d.name),
            ("major", &major),
            ("minor", &minor),
            ("path", prop(u, "ID_PATH")),
            ("wwn", prop(u, "ID_WWN")),
            ("model", prop(u, "ID_MODEL")),
            ("serial", prop(u, "ID_SERIAL_SHORT")),
            ("revision", prop(u, "ID_REVISION")),
        ];
        out.sample(name, &labels, 1.0);
    }

    let with = |key: &str| -> Vec<&(&DiskStats<'_>, &Udev)> {
        rows.iter()
            .filter(|(_, u)| !prop(u, key).is_empty())
            .collect()
    };
    let fs = with("ID_FS_TYPE");
    if !fs.is_empty() {
        let name = "node_disk_filesystem_info";
        out.family(name, Kind::Gauge, "Info about disk filesystem.");
        for (d, u) in fs {
            let labels = [
                ("device", d.name),
                ("type", prop(u, "ID_FS_TYPE")),
                ("usage", prop(u, "ID_FS_USAGE")),
                ("uuid", prop(u, "ID_FS_UUID")),
                ("version", prop(u, "ID_FS_VERSION")),
            ];
            out.sample(name, &labels, 1.0);
        }
    }
    let dm = with("DM_NAME");
    if !dm.is_empty() {
        let name = "node_disk_device_mapper_info";
        out.family(name, Kind::Gauge, "Info about disk device mapper.");
        for (d, u) in dm {
            let labels = [
                ("device", d.name),
                ("name", prop(u, "DM_NAME")),
                ("uuid", prop(u, "DM_UUID")),
                ("vg_name", prop(u, "DM_VG_NAME")),
                ("lv_name", prop(u, "DM_LV_NAME")),
                ("lv_layer", prop(u, "DM_LV_LAYER")),
            ];
            out.sample(name, &labels, 1.0);
        }
    }
    let ata = with("ID_ATA");
    for (key, name, help) in [
        (
            "ID_ATA_WRITE_CACHE",
            "node_disk_ata_write_cache",
            "ATA disk has a write cache.",
        ),
        (
            "ID_ATA_WRITE_CACHE_ENABLED",
            "node_disk_ata_write_cache_enabled",
            "ATA disk has its write cache enabled.",
        ),
        (
            "ID_ATA_ROTATION_RATE_RPM",
            "node_disk_ata_rotation_rate_rpm",
            "ATA disk rotation rate in RPMs (0 for SSDs).",
        ),
    ] {
        let values: Vec<(&str, f64)> = ata
            .iter()
            .filter_map(|(d, u)| Some((d.name, parse_f64(u.get(key)?)?)))
            .collect();
        if values.is_empty() {
            continue;
        }
        out.family(name, Kind::Gauge, help);
        for (device, v) in values {
            out.sample(name, &[("device", device)], v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::expo::Format;

    const DISKSTATS: &str = "\
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 1328960 18477 35337882 1530335 1306110 113375 244670264 534059 0 233192 2142602 340949 56 219374152 54158 337109 24049
 254       1 vda1 1 2 3 4 5 6 7 8 9 10 11
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8       0 sda 1 2 3 4 5 6 7 8 9 10 11
   8       16 sdb 1 2 3
";

    #[test]
    fn parses_diskstats() {
        let d = parse(DISKSTATS);
        assert_eq!(d.len(), 5);
        assert_eq!(d[1].name, "vda");
        assert_eq!((d[1].major, d[1].minor), (254, 0));
        assert_eq!(d[1].stats.len(), 17);
        assert_eq!(d[1].stats[2], 35337882);
        assert_eq!(d[4].stats, (1..=11).collect::<Vec<u64>>());
    }

    #[test]
    fn default_device_exclusions() {
        for dev in [
            "ram0",
            "loop12",
            "fd0",
            "sda1",
            "hdb2",
            "vda1",
            "xvda1",
            "nvme0n1p1",
            "nvme10n2p3",
        ] {
            assert!(excluded_device(dev), "{dev}");
        }
        for dev in [
            "sda", "vda", "xvda", "nvme0n1", "zram0", "dm-0", "md0", "sdaa1", "nvme0n1p", "loop",
            "mmcblk0",
        ] {
            assert!(!excluded_device(dev), "{dev}");
        }
    }

    #[test]
    fn parses_udev_properties() {
        let p = parse_udev("S:disk/by-id/x\nE:ID_MODEL=Some Disk\nE:ID_WWN=a=b\nE:BAD\nI:1\n");
        assert_eq!(p.get("ID_MODEL"), Some(&"Some Disk"));
        assert_eq!(p.get("ID_WWN"), Some(&"a=b"));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn writes_families() {
        let dir = tempfile::tempdir().expect("tempdir");
        let proc = dir.path().join("proc");
        let udev = dir.path().join("run/udev/data");
        std::fs::create_dir_all(&proc).expect("mkdir");
        std::fs::create_dir_all(&udev).expect("mkdir");
        std::fs::write(proc.join("diskstats"), DISKSTATS).expect("write");
        std::fs::write(
            udev.join("b8:0"),
            "E:ID_ATA=1\nE:ID_ATA_ROTATION_RATE_RPM=0\nE:ID_SERIAL_SHORT=S1\nE:ID_FS_TYPE=ext4\n",
        )
        .expect("write");
        let paths = HostPaths {
            procfs: proc,
            rootfs: dir.path().to_path_buf(),
            ..HostPaths::default()
        };
        let mut e = Exposition::new(Format::Text);
        collect(&paths, &mut Vec::new(), &mut Vec::new(), &mut e).expect("collect");
        let body = e.finish();
        for line in [
            "node_disk_read_bytes_total{device=\"vda\"} 18092995584\n",
            "node_disk_read_time_seconds_total{device=\"vda\"} 1530.335\n",
            "node_disk_discarded_sectors_total{device=\"vda\"} 219374152\n",
            "node_disk_flush_requests_time_seconds_total{device=\"vda\"} 24.049\n",
            "node_disk_io_time_weighted_seconds_total{device=\"sda\"} 0.011\n",
            "node_disk_reads_completed_total{device=\"zram0\"} 0\n",
            "node_disk_info{device=\"sda\",major=\"8\",minor=\"0\",path=\"\",wwn=\"\",model=\"\",serial=\"S1\",revision=\"\"} 1\n",
            "node_disk_filesystem_info{device=\"sda\",type=\"ext4\",usage=\"\",uuid=\"\",version=\"\"} 1\n",
            "node_disk_ata_rotation_rate_rpm{device=\"sda\"} 0\n",
        ] {
            assert!(body.contains(line), "missing {line:?} in\n{body}");
        }
        assert!(!body.contains("loop0") && !body.contains("vda1") && !body.contains("sdb"));
        // sda has only the 11 classic fields: no discard series for it.
        assert!(!body.contains("node_disk_discards_completed_total{device=\"sda\"}"));
        assert!(!body.contains("node_disk_ata_write_cache"));
    }
}

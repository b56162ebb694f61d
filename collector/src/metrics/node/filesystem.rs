//! Mounted filesystems: node_exporter's `filesystem` collector
//! (`node_filesystem_{size,free,avail}_bytes`, `_files`, `_files_free`, `_readonly`,
//! `_device_error`, labelled `device`, `fstype`, `mountpoint`).
//!
//! The mount table is `<procfs>/1/mountinfo` (init's mount namespace, as node_exporter reads
//! `/proc/1/mounts` with `--path.rootfs`), falling back to `<procfs>/self/mountinfo` when
//! procfs hides pid 1. Sizes come from `statfs(<rootfs>/<mountpoint>)`; the reported
//! mount point has the rootfs prefix stripped. Excluded mount points and filesystem types
//! are never `statfs`ed.

use std::collections::HashSet;
use std::io;

use super::read::{io_error, read_raw, text};
use super::statfs::{FsUsage, Outcome, StatfsRunner};
use super::{Error, HostPaths};
use crate::metrics::expo::{Exposition, Kind};

/// One line of `mountinfo`, in node_exporter's terms.
#[derive(Debug, PartialEq)]
pub(super) struct Mount<'a> {
    /// The mount source (`/dev/sda1`, `tmpfs`, …), as the kernel escapes it.
    pub device: &'a str,
    /// The mount point with `\040` and `\011` unescaped (node_exporter unescapes only these).
    pub mount_point: String,
    pub fs_type: &'a str,
    /// `ro` among the mount's or the superblock's options (what `/proc/mounts` shows).
    pub read_only: bool,
}

/// Parses `mountinfo`: `id parent maj:min root mountpoint opts [optional…] - fstype source superopts`.
/// Malformed lines are skipped.
pub(super) fn parse_mountinfo(text: &str) -> Vec<Mount<'_>> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let mut fields = line.split(' ').filter(|f| !f.is_empty());
        let (Some(mount_point), Some(opts)) = (fields.nth(4), fields.next()) else {
            continue;
        };
        // Optional fields end with a lone "-".
        if !fields.by_ref().any(|f| f == "-") {
            continue;
        }
        let (Some(fs_type), Some(device)) = (fields.next(), fields.next()) else {
            continue;
        };
        let super_opts = fields.next().unwrap_or("");
        let has_ro = |o: &str| o.split(',').any(|o| o == "ro");
        mounts.push(Mount {
            device,
            mount_point: mount_point.replace("\\040", " ").replace("\\011", "\t"),
            fs_type,
            read_only: has_ro(opts) || has_ro(super_opts),
        });
    }
    mounts
}

/// node_exporter 1.5's default `--collector.filesystem.mount-points-exclude`,
/// `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`.
pub(super) fn excluded_mount_point(mp: &str) -> bool {
    let Some(rest) = mp.strip_prefix('/') else {
        return false;
    };
    for dir in ["dev", "proc", "sys"] {
        if let Some(after) = rest.strip_prefix(dir) {
            if after.is_empty() || after.starts_with('/') {
                return true;
            }
        }
    }
    // `<dir>/.+($|/)`: anything non-empty after the prefix (`.` stops at a newline).
    for dir in [
        "run/credentials/",
        "var/lib/docker/",
        "var/lib/containers/storage/",
    ] {
        if let Some(after) = rest.strip_prefix(dir) {
            if !after.is_empty() && !after.starts_with('\n') {
                return true;
            }
        }
    }
    false
}

/// node_exporter 1.5's default `--collector.filesystem.fs-types-exclude`.
pub(super) fn excluded_fs_type(fs_type: &str) -> bool {
    matches!(
        fs_type,
        "autofs"
            | "binfmt_misc"
            | "bpf"
            | "cgroup"
            | "cgroup2"
            | "configfs"
            | "debugfs"
            | "devpts"
            | "devtmpfs"
            | "fusectl"
            | "hugetlbfs"
            | "iso9660"
            | "mqueue"
            | "nsfs"
            | "overlay"
            | "proc"
            | "procfs"
            | "pstore"
            | "rpc_pipefs"
            | "securityfs"
            | "selinuxfs"
            | "squashfs"
            | "sysfs"
            | "tracefs"
    )
}

/// node_exporter's `rootfsStripPrefix`: a plain string prefix strip (not path-aware), `/`
/// when nothing is left.
pub(super) fn strip_rootfs(mount_point: &str, rootfs: &str) -> String {
    if rootfs == "/" {
        return mount_point.to_string();
    }
    match mount_point.strip_prefix(rootfs) {
        Some("") => "/".to_string(),
        Some(rest) => rest.to_string(),
        None => mount_point.to_string(),
    }
}

struct FsStat {
    device: String,
    mount_point: String,
    fs_type: String,
    read_only: bool,
    usage: Option<FsUsage>,
}

pub(super) fn collect(
    paths: &HostPaths,
    buf: &mut Vec<u8>,
    runner: &mut StatfsRunner,
    out: &mut Exposition,
) -> Result<(), Error> {
    let path = paths.procfs.join("1/mountinfo");
    if let Err(e) = read_raw(&path, buf) {
        if e.kind() != io::ErrorKind::NotFound {
            return Err(io_error(&path, &e));
        }
        tracing::debug!("reading root mounts failed, falling back to system mounts");
        let fallback = paths.procfs.join("self/mountinfo");
        read_raw(&fallback, buf).map_err(|e| io_error(&fallback, &e))?;
    }
    let rootfs = paths.rootfs.to_string_lossy();
    let rootfs = match rootfs.trim_end_matches('/') {
        "" => "/",
        r => r,
    };
    let text = text(buf);
    let mut seen: HashSet<(&str, String, &str)> = HashSet::new();
    let mut stats = Vec::new();
    for m in parse_mountinfo(&text) {
        let mount_point = strip_rootfs(&m.mount_point, rootfs);
        if excluded_mount_point(&mount_point) || excluded_fs_type(m.fs_type) {
            continue;
        }
        // node_exporter reports one series per label set; the first mount wins here.
        if !seen.insert((m.device, mount_point.clone(), m.fs_type)) {
            continue;
        }
        let target = paths.rootfs.join(mount_point.trim_start_matches('/'));
        let usage = match runner.stat(&mount_point, &target) {
            Outcome::Ok(u) => Some(u),
            Outcome::Failed(e) => {
                tracing::debug!(path = %target.display(), error = %e, "error on statfs() system call");
                None
            }
            Outcome::Stuck => None,
        };
        stats.push(FsStat {
            device: m.device.to_string(),
            mount_point,
            fs_type: m.fs_type.to_string(),
            read_only: m.read_only,
            usage,
        });
    }
    write(&stats, out);
    Ok(())
}

fn labels(s: &FsStat) -> [(&'static str, &str); 3] {
    [
        ("device", s.device.as_str()),
        ("fstype", s.fs_type.as_str()),
        ("mountpoint", s.mount_point.as_str()),
    ]
}

fn write(stats: &[FsStat], out: &mut Exposition) {
    if stats.is_empty() {
        return;
    }
    let name = "node_filesystem_device_error";
    out.family(
        name,
        Kind::Gauge,
        "Whether an error occurred while getting statistics for the given device.",
    );
    for s in stats {
        let v = if s.usage.is_some() { 0.0 } else { 1.0 };
        out.sample(name, &labels(s), v);
    }
    // A filesystem whose statfs failed gets only device_error, as in node_exporter 1.5.
    type Field = fn(&FsUsage, bool) -> f64;
    let families: [(&str, &str, Field); 6] = [
        (
            "node_filesystem_size_bytes",
            "Filesystem size in bytes.",
            |u, _| u.size,
        ),
        (
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
            |u, _| u.free,
        ),
        (
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            |u, _| u.avail,
        ),
        (
            "node_filesystem_files",
            "Filesystem total file nodes.",
            |u, _| u.files,
        ),
        (
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
            |u, _| u.files_free,
        ),
        (
            "node_filesystem_readonly",
            "Filesystem read-only status.",
            |_, ro| if ro { 1.0 } else { 0.0 },
        ),
    ];
    if !stats.iter().any(|s| s.usage.is_some()) {
        return;
    }
    for (name, help, field) in families {
        out.family(name, Kind::Gauge, help);
        for s in stats {
            if let Some(u) = &s.usage {
                out.sample(name, &labels(s), field(u, s.read_only));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::expo::Format;
    use std::time::Duration;

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
28 27 0:25 / /mnt/a\\040b ro,nosuid - tmpfs tmp\\040fs rw,size=4k
29 27 0:26 / /data rw master:2 shared:3 - xfs /dev/sdb1 ro,attr2
30 27 0:27 / /run/credentials/x.service rw - ramfs ramfs rw
31 27 0:28 / /var/lib/docker/overlay2/abc/merged rw - xfs /dev/sdc rw
32 27 0:29 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
broken line
33 27 0:30 / /nodash rw ext4 /dev/x rw
";

    #[test]
    fn parses_mountinfo() {
        let m = parse_mountinfo(MOUNTINFO);
        assert_eq!(m.len(), 7);
        assert_eq!(
            m[1],
            Mount {
                device: "/dev/vda",
                mount_point: "/".to_string(),
                fs_type: "ext4",
                read_only: false
            }
        );
        assert_eq!(
            m[2],
            Mount {
                device: "tmp\\040fs",
                mount_point: "/mnt/a b".to_string(),
                fs_type: "tmpfs",
                read_only: true
            }
        );
        // Read-only superblock.
        assert!(m[3].read_only);
        assert_eq!(m[3].device, "/dev/sdb1");
    }

    #[test]
    fn default_exclusions() {
        for mp in [
            "/dev",
            "/dev/shm",
            "/proc",
            "/sys/fs/cgroup",
            "/run/credentials/x.service",
            "/var/lib/docker/overlay2/x/merged",
            "/var/lib/containers/storage/overlay",
        ] {
            assert!(excluded_mount_point(mp), "{mp}");
        }
        for mp in [
            "/",
            "/devices",
            "/run",
            "/run/credentials",
            "/var/lib/docker",
            "/var/lib/kubelet/pods/x/volumes",
            "/home",
            "dev",
        ] {
            assert!(!excluded_mount_point(mp), "{mp}");
        }
        assert!(excluded_fs_type("cgroup2") && excluded_fs_type("overlay"));
        assert!(!excluded_fs_type("tmpfs") && !excluded_fs_type("ext4"));
    }

    #[test]
    fn strips_rootfs_like_node_exporter() {
        assert_eq!(strip_rootfs("/home", "/"), "/home");
        assert_eq!(strip_rootfs("/host/home", "/host"), "/home");
        assert_eq!(strip_rootfs("/host", "/host"), "/");
        // A plain string prefix, as in node_exporter.
        assert_eq!(strip_rootfs("/hostdata", "/host"), "data");
        assert_eq!(strip_rootfs("/boot", "/host"), "/boot");
    }

    #[test]
    fn writes_families_and_device_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("data")).expect("mkdir");
        let proc = dir.path().join("proc");
        std::fs::create_dir_all(proc.join("self")).expect("mkdir");
        // No 1/mountinfo: falls back to self/mountinfo.
        std::fs::write(
            proc.join("self/mountinfo"),
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
             2 1 8:2 / /data ro - xfs /dev/sdb rw\n\
             3 1 8:2 / /data rw - xfs /dev/sdb rw\n\
             4 1 8:3 / /gone rw - xfs /dev/sdc rw\n\
             5 1 0:3 / /proc rw - proc proc rw\n",
        )
        .expect("write");
        let paths = HostPaths {
            procfs: proc,
            sysfs: dir.path().join("sys"),
            cgroupfs: dir.path().join("cg"),
            rootfs: root,
        };
        let mut runner = StatfsRunner::new(Duration::from_secs(5));
        let mut e = Exposition::new(Format::Text);
        collect(&paths, &mut Vec::new(), &mut runner, &mut e).expect("collect");
        let body = e.finish();
        let has = |s: &str| body.contains(s);
        assert!(has(
            "node_filesystem_device_error{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
        ));
        assert!(has(
            "node_filesystem_readonly{device=\"/dev/sdb\",fstype=\"xfs\",mountpoint=\"/data\"} 1\n"
        ));
        assert!(has(
            "node_filesystem_device_error{device=\"/dev/sdc\",fstype=\"xfs\",mountpoint=\"/gone\"} 1\n"
        ));
        assert!(!has("mountpoint=\"/gone\"} 0"));
        assert!(!has("/proc"));
        assert_eq!(
            body.matches("node_filesystem_readonly{").count(),
            2,
            "{body}"
        );
        assert_eq!(body.matches("# TYPE").count(), 7);
    }
}

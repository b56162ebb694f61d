//! Finds log files: the live files matching the globs, and their rotated siblings
//! (`0.log.20261126-101500` from kubelet, `0.log.1`, `0.log.2` from logrotate) that may
//! still hold unread data. Compressed rotations (`.gz`) are ignored.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use super::path::split_rotation;

/// A file found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    /// Directory and live name: files of one group are read oldest first.
    pub group: (PathBuf, String),
    pub order: Order,
    /// Last modification, nanoseconds since the epoch: rotated files are read oldest first
    /// by it (names alone cannot order kubelet and logrotate rotations in one directory).
    pub mtime_ns: i128,
}

/// The key that orders the files of a group, oldest first: rotated files by modification
/// time then name, the live file last.
pub fn age_key(order: &Order, mtime_ns: i128) -> (bool, i128, Order) {
    let live = *order == Order::Live;
    (live, if live { 0 } else { mtime_ns }, order.clone())
}

/// Age order within a group: rotated files (oldest first), then the live file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    /// logrotate's numbered copies: a larger number is older.
    Numbered(u64),
    /// kubelet's timestamped renames, or any other suffix, ordered by name.
    Named(String),
    Live,
}

impl Order {
    fn rank(&self) -> u8 {
        match self {
            Order::Numbered(_) => 0,
            Order::Named(_) => 1,
            Order::Live => 2,
        }
    }
}

impl PartialOrd for Order {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Order {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Order::Numbered(a), Order::Numbered(b)) => b.cmp(a),
            (Order::Named(a), Order::Named(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn order_of(suffix: Option<&str>) -> Order {
    match suffix {
        None => Order::Live,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Order::Numbered(n),
            Err(_) => Order::Named(s.to_string()),
        },
    }
}

fn ignored(name: &str) -> bool {
    name.ends_with(".gz")
        || name.ends_with(".tmp")
        || name.ends_with(".zst")
        || name.ends_with(".bz2")
}

/// Expands the globs and adds rotated siblings; sorted by group, then age.
pub fn scan(globs: &[String]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for g in globs {
        let Ok(paths) = glob::glob(g) else { continue };
        for p in paths.flatten() {
            if let Some(dir) = p.parent() {
                if !dirs.iter().any(|d| d == dir) {
                    dirs.push(dir.to_path_buf());
                }
            }
            push(&mut out, p);
        }
    }
    // Rotated siblings of the live files found.
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if ignored(name) {
                continue;
            }
            if let (base, Some(_)) = split_rotation(name) {
                if out.iter().any(|c| c.group.0 == dir && c.group.1 == base) {
                    push(&mut out, dir.join(name));
                }
            }
        }
    }
    out.sort_by(|a, b| {
        a.group
            .cmp(&b.group)
            .then_with(|| age_key(&a.order, a.mtime_ns).cmp(&age_key(&b.order, b.mtime_ns)))
    });
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn push(out: &mut Vec<Candidate>, path: PathBuf) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    if ignored(name) {
        return;
    }
    let (base, suffix) = split_rotation(name);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let group = (dir, base.to_string());
    let order = order_of(suffix);
    let mtime_ns = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    out.push(Candidate {
        path,
        group,
        order,
        mtime_ns,
    });
}

/// The directories to watch with inotify: the literal prefix of each glob.
pub fn watch_roots(globs: &[String]) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for g in globs {
        let mut root = PathBuf::new();
        for comp in Path::new(g).components() {
            let s = comp.as_os_str().to_string_lossy();
            if s.contains(['*', '?', '[']) {
                break;
            }
            root.push(comp);
        }
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_live_and_rotated_in_age_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = dir.path().join("pods/ns_pod_uid/app");
        std::fs::create_dir_all(&c).expect("mkdir");
        // Modification times set explicitly (seconds after a base): the order of writes
        // here says nothing, since the kernel's timestamps are coarser than these writes.
        let base = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
        for (f, age) in [
            ("0.log", 50),
            ("0.log.20261126-101500", 40),
            ("0.log.20261126-091500", 30),
            ("0.log.1", 20),
            ("0.log.2", 10),
            ("0.log.3.gz", 0),
            ("1.log", 5),
        ] {
            let path = c.join(f);
            std::fs::write(&path, "x\n").expect("write");
            let file = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open");
            file.set_modified(base + std::time::Duration::from_secs(age))
                .expect("set mtime");
        }
        let glob = format!("{}/pods/*/*/*.log", dir.path().display());
        let got: Vec<String> = scan(std::slice::from_ref(&glob))
            .iter()
            .map(|c| {
                c.path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(
            got,
            [
                "0.log.2",
                "0.log.1",
                "0.log.20261126-091500",
                "0.log.20261126-101500",
                "0.log",
                "1.log"
            ]
        );
        assert_eq!(watch_roots(&[glob]), [dir.path().join("pods")]);
    }
}

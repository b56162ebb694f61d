//! Kubernetes metadata from kubelet's log layout:
//! `pods/<namespace>_<pod>_<uid>/<container>/<restart>.log[.<rotation>]` and the
//! `containers/<pod>_<namespace>_<container>-<id>.log` links that name container ids.

use std::collections::HashMap;
use std::path::Path;

/// What the path of a log file says about its container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileMeta {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub container: String,
    pub restart_count: u32,
    /// Container id from the `containers/` links (empty when unknown).
    pub container_id: String,
    /// The live path of the file (`…/0.log`) as discovered.
    pub path: String,
}

/// Splits a file name into its live base and rotation suffix: `0.log.20261126-101500` →
/// (`0.log`, Some(`20261126-101500`)); `0.log` → (`0.log`, None).
pub fn split_rotation(name: &str) -> (&str, Option<&str>) {
    match name.find(".log.") {
        Some(i) => (&name[..i + 4], Some(&name[i + 5..])),
        None => (name, None),
    }
}

/// Metadata from a path under `pods/`; fields stay empty where the layout differs.
pub fn parse(path: &Path) -> FileMeta {
    let mut meta = FileMeta {
        path: path.display().to_string(),
        ..FileMeta::default()
    };
    let Some([pod_dir, container, file]) = last3(path) else {
        return meta;
    };
    let (base, _) = split_rotation(file);
    if let Some(stem) = base.strip_suffix(".log") {
        meta.restart_count = stem.parse().unwrap_or(0);
    }
    let mut parts = pod_dir.splitn(3, '_');
    if let (Some(ns), Some(pod), Some(uid)) = (parts.next(), parts.next(), parts.next()) {
        meta.namespace = ns.to_string();
        meta.pod = pod.to_string();
        meta.pod_uid = uid.to_string();
        meta.container = container.to_string();
    }
    meta
}

/// Container ids by `<pod dir>/<container>/<file>` read from the `containers/` links.
#[derive(Debug, Default)]
pub struct ContainerIds {
    by_target: HashMap<String, String>,
}

impl ContainerIds {
    /// Reads `<log_root>/containers`; a missing directory gives an empty map.
    pub fn load(log_root: &Path) -> ContainerIds {
        let mut by_target = HashMap::new();
        let Ok(dir) = std::fs::read_dir(log_root.join("containers")) else {
            return ContainerIds { by_target };
        };
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name.strip_suffix(".log") else {
                continue;
            };
            let Some(dash) = stem.rfind('-') else {
                continue;
            };
            let id = &stem[dash + 1..];
            let Ok(target) = std::fs::read_link(entry.path()) else {
                continue;
            };
            if let Some(key) = tail_key(&target) {
                by_target.insert(key, id.to_string());
            }
        }
        ContainerIds { by_target }
    }

    /// The id of the container writing `path` (a live or rotated file).
    pub fn lookup(&self, path: &Path) -> Option<&str> {
        let key = tail_key(path)?;
        let (base, _) = split_rotation(&key);
        self.by_target.get(base).map(String::as_str)
    }
}

/// The last three components of a path (pod dir, container, file), when they are UTF-8.
fn last3(path: &Path) -> Option<[&str; 3]> {
    let mut it = path.components().rev().map(|c| c.as_os_str().to_str());
    let (file, container, pod_dir) = (it.next()??, it.next()??, it.next()??);
    Some([pod_dir, container, file])
}

fn tail_key(path: &Path) -> Option<String> {
    last3(path).map(|[p, c, f]| format!("{p}/{c}/{f}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubelet_paths() {
        let m = parse(Path::new(
            "/var/log/pods/shop_cart-7d9c8b6f5-x2k4p_0f8e2a4c-1b2c-4d5e-8f90-123456789abc/cart/3.log",
        ));
        assert_eq!(m.namespace, "shop");
        assert_eq!(m.pod, "cart-7d9c8b6f5-x2k4p");
        assert_eq!(m.pod_uid, "0f8e2a4c-1b2c-4d5e-8f90-123456789abc");
        assert_eq!(m.container, "cart");
        assert_eq!(m.restart_count, 3);

        let m = parse(Path::new("/var/log/pods/a_b_c/app/0.log.20261126-101500"));
        assert_eq!((m.namespace.as_str(), m.restart_count), ("a", 0));

        let m = parse(Path::new("/tmp/x.log"));
        assert_eq!(m.namespace, "");
        assert_eq!(m.path, "/tmp/x.log");
    }

    #[test]
    fn splits_rotations() {
        assert_eq!(split_rotation("0.log"), ("0.log", None));
        assert_eq!(split_rotation("0.log.1"), ("0.log", Some("1")));
        assert_eq!(
            split_rotation("12.log.20261126-101500"),
            ("12.log", Some("20261126-101500"))
        );
    }

    #[test]
    fn reads_container_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pod = dir.path().join("pods/ns_pod_uid/app");
        std::fs::create_dir_all(&pod).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("containers")).expect("mkdir");
        std::fs::write(pod.join("0.log"), "").expect("write");
        std::os::unix::fs::symlink(
            "/var/log/pods/ns_pod_uid/app/0.log",
            dir.path().join("containers/pod_ns_app-abc123.log"),
        )
        .expect("symlink");
        let ids = ContainerIds::load(dir.path());
        assert_eq!(ids.lookup(&pod.join("0.log")), Some("abc123"));
        assert_eq!(ids.lookup(&pod.join("0.log.1")), Some("abc123"));
        assert_eq!(ids.lookup(&pod.join("1.log")), None);
    }
}

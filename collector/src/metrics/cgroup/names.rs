//! Kubernetes names for cgroups without the CRI socket:
//!
//! - pod uid → namespace/pod from kubelet's `<log-root>/pods/<namespace>_<pod>_<uid>`;
//! - container id → namespace/pod/container from the
//!   `<log-root>/containers/<pod>_<namespace>_<container>-<id>.log` links;
//! - container id → image, runtime name and whether it is the pod sandbox from the
//!   runtime's OCI bundle under `--rootfs` (containerd's
//!   `run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json`, CRI-O's
//!   `run/containers/storage/overlay-containers/<id>/userdata/config.json`, docker's
//!   `var/lib/docker/containers/<id>/config.v2.json`), read once per container.
//!
//! The directories are re-read only when their modification time changes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Names of a container from its log link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkNames {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// What the runtime's bundle says about a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    pub image: String,
    /// The runtime's name for it (cAdvisor's `name` label); empty when it is the id.
    pub name: String,
    pub container: Option<String>,
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub sandbox: bool,
}

/// Resolves pod uids and container ids to names.
#[derive(Debug)]
pub struct Names {
    log_root: PathBuf,
    rootfs: PathBuf,
    pods: HashMap<String, (String, String)>,
    containers: HashMap<String, LinkNames>,
    bundles: HashMap<String, Option<Bundle>>,
    pods_mtime: Option<SystemTime>,
    containers_mtime: Option<SystemTime>,
}

impl Names {
    pub fn new(log_root: &Path, rootfs: &Path) -> Names {
        Names {
            log_root: log_root.to_path_buf(),
            rootfs: rootfs.to_path_buf(),
            pods: HashMap::new(),
            containers: HashMap::new(),
            bundles: HashMap::new(),
            pods_mtime: None,
            containers_mtime: None,
        }
    }

    /// Re-reads the log directories that changed since the last call.
    pub fn refresh(&mut self) {
        let pods_dir = self.log_root.join("pods");
        let m = mtime(&pods_dir);
        if m.is_none() || m != self.pods_mtime {
            self.pods_mtime = m;
            self.pods = read_pods(&pods_dir);
        }
        let links_dir = self.log_root.join("containers");
        let m = mtime(&links_dir);
        if m.is_none() || m != self.containers_mtime {
            self.containers_mtime = m;
            self.containers = read_links(&links_dir);
        }
    }

    /// (namespace, pod) of a pod uid.
    pub fn pod(&self, uid: &str) -> Option<&(String, String)> {
        self.pods.get(uid)
    }

    /// Names of a container from the log links.
    pub fn link(&self, id: &str) -> Option<&LinkNames> {
        self.containers.get(id)
    }

    /// The runtime bundle of a container (read once, then cached).
    pub fn bundle(&mut self, id: &str) -> Option<&Bundle> {
        if !self.bundles.contains_key(id) {
            let b = read_bundle(&self.rootfs, id);
            self.bundles.insert(id.to_string(), b);
        }
        self.bundles.get(id).and_then(Option::as_ref)
    }

    /// Forgets the bundles of containers that are gone.
    pub fn retain_bundles(&mut self, live: &HashSet<&str>) {
        self.bundles.retain(|id, _| live.contains(id.as_str()));
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).ok()?.modified().ok()
}

fn read_pods(dir: &Path) -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let mut parts = name.splitn(3, '_');
        if let (Some(ns), Some(pod), Some(uid)) = (parts.next(), parts.next(), parts.next()) {
            out.insert(uid.to_string(), (ns.to_string(), pod.to_string()));
        }
    }
    out
}

fn read_links(dir: &Path) -> HashMap<String, LinkNames> {
    let mut out = HashMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some((id, names)) = parse_link(name) {
            out.insert(id.to_string(), names);
        }
    }
    out
}

/// `<pod>_<namespace>_<container>-<id>.log` (names cannot hold `_`; the id is the last
/// `-` token).
fn parse_link(name: &str) -> Option<(&str, LinkNames)> {
    let stem = name.strip_suffix(".log")?;
    let (rest, id) = stem.rsplit_once('-')?;
    let mut parts = rest.splitn(3, '_');
    let (pod, ns, container) = (parts.next()?, parts.next()?, parts.next()?);
    Some((
        id,
        LinkNames {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
        },
    ))
}

/// Bundle files are a few KiB; anything larger is not one.
const MAX_BUNDLE: u64 = 4 << 20;

fn read_bundle(rootfs: &Path, id: &str) -> Option<Bundle> {
    let read = |p: PathBuf| -> Option<serde_json::Value> {
        let f = std::fs::File::open(&p).ok()?;
        if f.metadata().ok()?.len() > MAX_BUNDLE {
            return None;
        }
        match serde_json::from_reader(std::io::BufReader::new(f)) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!(path = %p.display(), error = %e, "unreadable runtime bundle");
                None
            }
        }
    };
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let containerd = rootfs.join(format!(
        "run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json"
    ));
    if let Some(v) = read(containerd) {
        let a = v.get("annotations")?;
        return Some(Bundle {
            image: s(a, "io.kubernetes.cri.image-name").unwrap_or_default(),
            name: String::new(),
            sandbox: s(a, "io.kubernetes.cri.container-type").as_deref() == Some("sandbox"),
            container: s(a, "io.kubernetes.cri.container-name"),
            namespace: s(a, "io.kubernetes.cri.sandbox-namespace"),
            pod: s(a, "io.kubernetes.cri.sandbox-name"),
        });
    }
    let crio = rootfs.join(format!(
        "run/containers/storage/overlay-containers/{id}/userdata/config.json"
    ));
    if let Some(v) = read(crio) {
        let a = v.get("annotations")?;
        let sandbox = s(a, "io.kubernetes.cri-o.ContainerType").as_deref() == Some("sandbox");
        return Some(Bundle {
            image: s(a, "io.kubernetes.cri-o.ImageName").unwrap_or_default(),
            name: s(a, "io.kubernetes.cri-o.ContainerName").unwrap_or_default(),
            sandbox,
            container: if sandbox {
                Some("POD".into())
            } else {
                s(a, "io.kubernetes.container.name")
            },
            namespace: s(a, "io.kubernetes.pod.namespace"),
            pod: s(a, "io.kubernetes.pod.name"),
        });
    }
    let docker = rootfs.join(format!("var/lib/docker/containers/{id}/config.v2.json"));
    if let Some(v) = read(docker) {
        let cfg = v.get("Config")?;
        let labels = cfg.get("Labels").cloned().unwrap_or_default();
        return Some(Bundle {
            image: s(cfg, "Image").unwrap_or_default(),
            name: s(&v, "Name")
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            sandbox: s(&labels, "io.kubernetes.docker.type").as_deref() == Some("podsandbox"),
            container: s(&labels, "io.kubernetes.container.name"),
            namespace: s(&labels, "io.kubernetes.pod.namespace"),
            pod: s(&labels, "io.kubernetes.pod.name"),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_links() {
        let (id, n) = parse_link("web-7d4_shop_nginx-abc123.log").expect("link");
        assert_eq!(id, "abc123");
        assert_eq!(
            n,
            LinkNames {
                namespace: "shop".into(),
                pod: "web-7d4".into(),
                container: "nginx".into()
            }
        );
        assert_eq!(parse_link("nope.txt"), None);
        assert_eq!(parse_link("a_b-1.log"), None);
    }

    #[test]
    fn reads_bundles_of_each_runtime() {
        let d = tempfile::tempdir().expect("tempdir");
        let w = |rel: String, body: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, body).expect("write");
        };
        w(
            "run/containerd/io.containerd.runtime.v2.task/k8s.io/c1/config.json".into(),
            r#"{"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"app","io.kubernetes.cri.image-name":"nginx:1.27","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.sandbox-name":"web"}}"#,
        );
        w(
            "run/containers/storage/overlay-containers/c2/userdata/config.json".into(),
            r#"{"annotations":{"io.kubernetes.cri-o.ContainerType":"sandbox","io.kubernetes.cri-o.ContainerName":"k8s_POD_web_shop_u_0","io.kubernetes.cri-o.ImageName":""}}"#,
        );
        w(
            "var/lib/docker/containers/c3/config.v2.json".into(),
            r#"{"Name":"/k8s_app_web_shop_u_1","Config":{"Image":"redis:7","Labels":{"io.kubernetes.docker.type":"container","io.kubernetes.container.name":"app"}}}"#,
        );
        w(
            "run/containerd/io.containerd.runtime.v2.task/k8s.io/c4/config.json".into(),
            "{not json",
        );
        let mut n = Names::new(d.path(), d.path());
        let b = n.bundle("c1").cloned().expect("containerd");
        assert_eq!(b.image, "nginx:1.27");
        assert_eq!(b.container.as_deref(), Some("app"));
        assert!(!b.sandbox);
        let b = n.bundle("c2").cloned().expect("crio");
        assert!(b.sandbox);
        assert_eq!(b.container.as_deref(), Some("POD"));
        assert_eq!(b.name, "k8s_POD_web_shop_u_0");
        let b = n.bundle("c3").cloned().expect("docker");
        assert_eq!(
            (b.image.as_str(), b.name.as_str()),
            ("redis:7", "k8s_app_web_shop_u_1")
        );
        assert_eq!(n.bundle("c4"), None);
        assert_eq!(n.bundle("missing"), None);
    }
}

//! What a cgroup path says about Kubernetes: the node-allocatable root (`/kubepods` or
//! `/kubepods.slice`), the QoS cgroups, pod cgroups (by uid) and container cgroups (by
//! runtime id), under both kubelet cgroup drivers:
//!
//! - cgroupfs: `/kubepods/burstable/pod<uid>/<id>` (CRI-O: `crio-<id>`);
//! - systemd: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope`
//!   (also `crio-<id>.scope`, `docker-<id>.scope`); `_` in the uid stands for `-`.
//!
//! Guaranteed pods sit directly under the root. Static pods have a 32-hex uid.

/// The Kubernetes role of a cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The machine: `/`.
    Machine,
    /// `/kubepods` or `/kubepods.slice`.
    Kubepods,
    /// `burstable` or `besteffort`.
    Qos,
    Pod {
        uid: String,
    },
    Container {
        pod_uid: String,
        id: String,
    },
}

/// The role of the cgroup at `path` (relative to the hierarchy root, starting with `/`),
/// or None for a cgroup argus does not report (system services, conmon, sub-cgroups
/// inside a container).
pub fn classify(path: &str) -> Option<Role> {
    if path == "/" {
        return Some(Role::Machine);
    }
    let mut parts = path.strip_prefix('/')?.split('/');
    let root = parts.next()?;
    let systemd = match root {
        "kubepods" => false,
        "kubepods.slice" => true,
        _ => return None,
    };
    let Some(mut next) = parts.next() else {
        return Some(Role::Kubepods);
    };
    if is_qos(next, systemd) {
        match parts.next() {
            Some(n) => next = n,
            None => return Some(Role::Qos),
        }
    }
    let uid = pod_uid(next, systemd)?;
    let Some(c) = parts.next() else {
        return Some(Role::Pod { uid });
    };
    if parts.next().is_some() {
        return None;
    }
    let id = container_id(c, systemd)?;
    Some(Role::Container {
        pod_uid: uid,
        id: id.to_string(),
    })
}

fn is_qos(part: &str, systemd: bool) -> bool {
    if systemd {
        matches!(
            part,
            "kubepods-burstable.slice" | "kubepods-besteffort.slice"
        )
    } else {
        matches!(part, "burstable" | "besteffort")
    }
}

fn pod_uid(part: &str, systemd: bool) -> Option<String> {
    let uid = if systemd {
        let stem = part.strip_suffix(".slice")?;
        let at = stem.rfind("-pod")?;
        if !stem[..at].starts_with("kubepods") {
            return None;
        }
        stem[at + 4..].replace('_', "-")
    } else {
        part.strip_prefix("pod")?.to_string()
    };
    let ok = (32..=36).contains(&uid.len())
        && uid
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-');
    ok.then_some(uid)
}

/// The 64-hex runtime id in a container cgroup's name.
fn container_id(part: &str, systemd: bool) -> Option<&str> {
    let id = if systemd {
        let stem = part.strip_suffix(".scope")?;
        ["cri-containerd-", "crio-", "docker-"]
            .iter()
            .find_map(|p| stem.strip_prefix(p))?
    } else {
        part.strip_prefix("crio-").unwrap_or(part)
    };
    let ok = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "3426a9c5-53d6-4e2b-9d3c-0123456789ab";
    const ID: &str = "f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7f0d7";

    fn pod() -> Option<Role> {
        Some(Role::Pod { uid: UID.into() })
    }
    fn ctr() -> Option<Role> {
        Some(Role::Container {
            pod_uid: UID.into(),
            id: ID.into(),
        })
    }

    #[test]
    fn cgroupfs_driver() {
        assert_eq!(classify("/"), Some(Role::Machine));
        assert_eq!(classify("/kubepods"), Some(Role::Kubepods));
        assert_eq!(classify("/kubepods/burstable"), Some(Role::Qos));
        assert_eq!(classify(&format!("/kubepods/burstable/pod{UID}")), pod());
        assert_eq!(classify(&format!("/kubepods/pod{UID}")), pod());
        assert_eq!(
            classify(&format!("/kubepods/besteffort/pod{UID}/{ID}")),
            ctr()
        );
        assert_eq!(classify(&format!("/kubepods/pod{UID}/crio-{ID}")), ctr());
        assert_eq!(classify(&format!("/kubepods/pod{UID}/{ID}/sub")), None);
        assert_eq!(
            classify(&format!("/kubepods/pod{UID}/crio-conmon-{ID}")),
            None
        );
        assert_eq!(classify("/system.slice/kubelet.service"), None);
        assert_eq!(classify("/kubepods/podnothex"), None);
    }

    #[test]
    fn systemd_driver() {
        let u = UID.replace('-', "_");
        assert_eq!(classify("/kubepods.slice"), Some(Role::Kubepods));
        assert_eq!(
            classify("/kubepods.slice/kubepods-besteffort.slice"),
            Some(Role::Qos)
        );
        let burst =
            format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{u}.slice");
        assert_eq!(classify(&burst), pod());
        assert_eq!(
            classify(&format!("{burst}/cri-containerd-{ID}.scope")),
            ctr()
        );
        assert_eq!(classify(&format!("{burst}/crio-{ID}.scope")), ctr());
        assert_eq!(classify(&format!("{burst}/docker-{ID}.scope")), ctr());
        assert_eq!(classify(&format!("{burst}/crio-conmon-{ID}.scope")), None);
        assert_eq!(classify(&format!("{burst}/crio-{ID}")), None);
        let guaranteed = format!("/kubepods.slice/kubepods-pod{u}.slice");
        assert_eq!(classify(&guaranteed), pod());
        // Static pods: a 32-hex config hash as uid.
        assert_eq!(
            classify("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod03671a0313f5acf27bef3683009923f8.slice"),
            Some(Role::Pod { uid: "03671a0313f5acf27bef3683009923f8".into() })
        );
    }
}

//! Which cgroup hierarchy is mounted under `--cgroupfs`: the unified v2 tree, v1 with one
//! mount per controller (`cpu`, `cpuacct` or the combined `cpu,cpuacct`, `memory`, `blkio`,
//! `pids`), or the hybrid layout (v1 controllers plus a cgroup2 mount at `unified`, which
//! holds no resource controllers and is only read for pressure). Stats are read from
//! where the controllers are.

use std::path::{Path, PathBuf};

/// The mounted hierarchies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Everything under one cgroup2 root.
    V2 { root: PathBuf },
    /// One directory per v1 controller (None when that controller is not mounted).
    V1 {
        cpu: Option<PathBuf>,
        cpuacct: Option<PathBuf>,
        memory: Option<PathBuf>,
        blkio: Option<PathBuf>,
        pids: Option<PathBuf>,
        /// The cgroup2 mount of the hybrid layout.
        unified: Option<PathBuf>,
    },
}

impl Layout {
    /// Detects the layout under `cgroupfs`; None when no hierarchy is found there.
    pub fn detect(cgroupfs: &Path) -> Option<Layout> {
        if cgroupfs.join("cgroup.controllers").is_file() {
            return Some(Layout::V2 {
                root: cgroupfs.to_path_buf(),
            });
        }
        let find = |name: &str| -> Option<PathBuf> {
            let direct = cgroupfs.join(name);
            if direct.join("cgroup.procs").is_file() {
                return Some(direct);
            }
            // A combined mount without the usual symlinks, e.g. `cpu,cpuacct`.
            let rd = std::fs::read_dir(cgroupfs).ok()?;
            rd.flatten().map(|e| e.path()).find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.split(',').any(|c| c == name))
                    && p.join("cgroup.procs").is_file()
            })
        };
        let layout = Layout::V1 {
            cpu: find("cpu"),
            cpuacct: find("cpuacct"),
            memory: find("memory"),
            blkio: find("blkio"),
            pids: find("pids"),
            unified: Some(cgroupfs.join("unified"))
                .filter(|u| u.join("cgroup.controllers").is_file()),
        };
        match &layout {
            Layout::V1 {
                cpu: None,
                cpuacct: None,
                memory: None,
                ..
            } => None,
            _ => Some(layout),
        }
    }

    /// `v2`, `v1` or `hybrid`, as reported in the collector's health series.
    pub fn name(&self) -> &'static str {
        match self {
            Layout::V2 { .. } => "v2",
            Layout::V1 { unified: None, .. } => "v1",
            Layout::V1 { .. } => "hybrid",
        }
    }

    /// The hierarchy whose directories are walked to find cgroups.
    pub fn primary(&self) -> Option<&Path> {
        match self {
            Layout::V2 { root } => Some(root),
            Layout::V1 {
                memory,
                cpu,
                cpuacct,
                ..
            } => memory.as_deref().or(cpu.as_deref()).or(cpuacct.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, "").expect("write");
    }

    #[test]
    fn detects_the_three_layouts() {
        let d = tempfile::tempdir().expect("tempdir");
        assert_eq!(Layout::detect(d.path()), None);

        let v2 = d.path().join("v2");
        touch(&v2.join("cgroup.controllers"));
        assert_eq!(Layout::detect(&v2).map(|l| l.name()), Some("v2"));

        let v1 = d.path().join("v1");
        touch(&v1.join("cpu,cpuacct/cgroup.procs"));
        touch(&v1.join("memory/cgroup.procs"));
        let l = Layout::detect(&v1).expect("v1");
        assert_eq!(l.name(), "v1");
        assert_eq!(l.primary(), Some(v1.join("memory").as_path()));
        match &l {
            Layout::V1 { cpu, cpuacct, .. } => {
                assert_eq!(cpu.as_deref(), Some(v1.join("cpu,cpuacct").as_path()));
                assert_eq!(cpuacct, cpu);
            }
            Layout::V2 { .. } => panic!("not v2"),
        }
        touch(&v1.join("unified/cgroup.controllers"));
        assert_eq!(Layout::detect(&v1).map(|l| l.name()), Some("hybrid"));
    }
}

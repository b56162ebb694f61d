//! What the collector exposes to Prometheus on `--listen`:
//!
//! - [`cgroup`]: cAdvisor-compatible `container_*` series read from the cgroup tree;
//! - [`node`]: node_exporter-compatible `node_*` series read from procfs, sysfs and the
//!   mounted filesystems;
//! - [`logs`]: series derived from the log lines the tailer reads;
//! - [`health`]: the collector's own `argus_collector_*` series;
//! - [`expo`]: the text formats they are written in.

pub mod cgroup;
pub mod expo;
pub mod health;
pub mod logs;
pub mod node;

use std::path::PathBuf;

pub use health::{CollectorMetrics, PodWatchMetrics};

/// Where the host's pseudo-filesystems are mounted (the DaemonSet mounts them under
/// `/host/...`; tests point them at fixtures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub procfs: PathBuf,
    pub sysfs: PathBuf,
    pub cgroupfs: PathBuf,
    pub rootfs: PathBuf,
}

impl Default for HostPaths {
    fn default() -> Self {
        HostPaths {
            procfs: PathBuf::from("/proc"),
            sysfs: PathBuf::from("/sys"),
            cgroupfs: PathBuf::from("/sys/fs/cgroup"),
            rootfs: PathBuf::from("/"),
        }
    }
}

//! What each simulated container is besides its logs: its image, port, resource requests
//! and limits, and how much CPU and memory it uses. The simulated cluster puts these in
//! the pod specs; the simulated cgroup tree uses them, under the same limits.

use super::workloads::Kind;

const MI: u64 = 1024 * 1024;

/// A simulated container's image, resources and usage.
#[derive(Debug, Clone, Copy)]
pub(super) struct Profile {
    pub(super) image: &'static str,
    /// The port it serves (None: no Service).
    pub(super) port: Option<u16>,
    pub(super) cpu_request_milli: u64,
    /// None: no CPU limit (no CFS quota).
    pub(super) cpu_limit_milli: Option<u64>,
    pub(super) memory_request: u64,
    pub(super) memory_limit: u64,
    /// Average CPU use, in cores.
    pub(super) cpu_cores: f64,
    /// Memory in use around which it fluctuates (the crash-looping program leaks from
    /// this up to its limit).
    pub(super) memory: u64,
    /// Threads.
    pub(super) threads: u64,
}

/// The profile of a simulated program.
pub(super) fn profile(kind: Kind) -> Profile {
    let p = |image, port, req_m, lim_m, req_mi: u64, lim_mi: u64, cores, mem_mi: u64, threads| {
        Profile {
            image,
            port,
            cpu_request_milli: req_m,
            cpu_limit_milli: lim_m,
            memory_request: req_mi * MI,
            memory_limit: lim_mi * MI,
            cpu_cores: cores,
            memory: mem_mi * MI,
            threads,
        }
    };
    match kind {
        Kind::Nginx => p(
            "nginx:1.27.3",
            Some(80),
            100,
            Some(500),
            64,
            128,
            0.05,
            24,
            5,
        ),
        Kind::Api => p(
            "ghcr.io/example/api:2.8.1",
            Some(8080),
            250,
            Some(1000),
            256,
            512,
            0.12,
            180,
            24,
        ),
        Kind::Sidecar => p(
            "envoyproxy/envoy:v1.32.1",
            None,
            50,
            Some(200),
            64,
            128,
            0.02,
            40,
            12,
        ),
        // Runs near its CPU limit: throttled, as CPUThrottlingHigh looks for.
        Kind::Worker => p(
            "ghcr.io/example/worker:1.12.0",
            None,
            200,
            Some(250),
            256,
            384,
            0.24,
            300,
            16,
        ),
        Kind::Crashy => p(
            "ghcr.io/example/payments-sync:1.4.2",
            Some(8080),
            100,
            Some(500),
            64,
            256,
            0.08,
            40,
            9,
        ),
        Kind::Cart => p(
            "ghcr.io/example/cart:3.2.0",
            Some(8080),
            250,
            Some(1000),
            512,
            1024,
            0.15,
            620,
            40,
        ),
        Kind::Checkout => p(
            "ghcr.io/example/checkout:1.9.4",
            Some(8080),
            250,
            Some(1000),
            384,
            768,
            0.10,
            410,
            36,
        ),
        Kind::CoreDns => p(
            "registry.k8s.io/coredns/coredns:v1.11.3",
            Some(53),
            100,
            None,
            70,
            170,
            0.01,
            22,
            11,
        ),
    }
}

/// `100m`, `1` as Kubernetes writes CPU quantities.
pub(super) fn cpu_quantity(milli: u64) -> String {
    if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// `64Mi`, `1Gi` as Kubernetes writes memory quantities.
pub(super) fn memory_quantity(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * MI) {
        format!("{}Gi", bytes / (1024 * MI))
    } else {
        format!("{}Mi", bytes / MI)
    }
}

//! Child processes killed on drop, and their CPU time and peak RSS from /proc.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http;

/// A running `argus` subprocess; killed (and reaped) when dropped.
pub struct Proc {
    pub name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Starts `argus <args…>` with stdout and stderr going to `log`.
    pub fn spawn(name: &'static str, argus: &Path, args: &[String], log: &Path) -> Result<Proc> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = Command::new(argus)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {} {}", argus.display(), args.join(" ")))?;
        Ok(Proc {
            name,
            child,
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited, quoting the end of its log.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(st) = self.child.try_wait()? {
            bail!(
                "{} exited ({st}); last log lines:\n{}",
                self.name,
                self.log_tail(20)
            );
        }
        Ok(())
    }

    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// User + system CPU seconds of all its threads so far.
    pub fn cpu_secs(&self) -> Result<f64> {
        cpu_secs(&format!("/proc/{}/stat", self.pid()))
    }

    /// Peak resident set (VmHWM) in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let kib: f64 = s
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("VmHWM missing")?;
        Ok(kib / 1024.0)
    }

    /// Waits until `GET /metrics` on `addr` answers, failing if the process dies.
    pub fn wait_ready(&mut self, addr: SocketAddr, timeout: Duration) -> Result<()> {
        let t0 = Instant::now();
        loop {
            self.check_alive()?;
            if let Ok((200, _)) = http::get(addr, "/metrics", Duration::from_secs(2)) {
                return Ok(());
            }
            if t0.elapsed() > timeout {
                bail!(
                    "{} did not answer on http://{addr}/metrics within {timeout:?}; log:\n{}",
                    self.name,
                    self.log_tail(20)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clk_tck() -> f64 {
    // getconf CLK_TCK is 100 on Linux (USER_HZ is fixed by the kernel ABI).
    100.0
}

/// utime + stime of a /proc/<pid>/stat file, in seconds.
pub fn cpu_secs(stat_path: &str) -> Result<f64> {
    let s = std::fs::read_to_string(stat_path).with_context(|| format!("reading {stat_path}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = s
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("bad stat format")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime 15.
    let ticks = |i: usize| -> Result<f64> {
        f.get(i - 3)
            .context("short stat")?
            .parse::<f64>()
            .context("bad stat field")
    };
    Ok((ticks(14)? + ticks(15)?) / clk_tck())
}

/// CPU seconds of this (bench) process.
pub fn self_cpu_secs() -> Result<f64> {
    cpu_secs("/proc/self/stat")
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

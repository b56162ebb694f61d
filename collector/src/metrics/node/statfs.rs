//! `statfs(2)` under a timeout. A hung network mount blocks `statfs` indefinitely; like
//! node_exporter, a mount point whose call did not return in time is marked stuck and
//! reported as a device error, without another call, until the pending call returns.
//!
//! Calls run on one long-lived worker thread. When a call times out the worker is left
//! blocked in the kernel (it exits once the call returns) and the next call gets a fresh
//! worker, so one stuck mount does not stall the others.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The numbers node_exporter derives from `statfs(2)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct FsUsage {
    pub size: f64,
    pub free: f64,
    pub avail: f64,
    pub files: f64,
    pub files_free: f64,
}

/// Result of one call.
#[derive(Debug, PartialEq)]
pub(super) enum Outcome {
    Ok(FsUsage),
    Failed(String),
    /// Timed out now or earlier, and not returned yet.
    Stuck,
}

type StatFn = fn(&Path) -> io::Result<FsUsage>;

/// Runs `statfs(2)` calls with a timeout; see the module docs.
#[derive(Debug)]
pub(super) struct StatfsRunner {
    timeout: Duration,
    statfs: StatFn,
    worker: Option<Worker>,
    /// Mount points (label values) with a call still pending after its timeout.
    stuck: Arc<Mutex<HashSet<String>>>,
}

#[derive(Debug)]
struct Worker {
    jobs: Sender<Job>,
    results: Receiver<io::Result<FsUsage>>,
}

#[derive(Debug)]
struct Job {
    key: String,
    path: PathBuf,
    /// Set, under the `stuck` lock, when the call returned.
    done: Arc<AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `statfs(2)`, scaled the way node_exporter does (`blocks × bsize` as floats).
pub(super) fn statfs(path: &Path) -> io::Result<FsUsage> {
    let s = rustix::fs::statfs(path)?;
    let bsize = s.f_bsize as f64;
    Ok(FsUsage {
        size: s.f_blocks as f64 * bsize,
        free: s.f_bfree as f64 * bsize,
        avail: s.f_bavail as f64 * bsize,
        files: s.f_files as f64,
        files_free: s.f_ffree as f64,
    })
}

impl StatfsRunner {
    pub fn new(timeout: Duration) -> StatfsRunner {
        StatfsRunner::with_fn(timeout, statfs)
    }

    fn with_fn(timeout: Duration, statfs: StatFn) -> StatfsRunner {
        StatfsRunner {
            timeout,
            statfs,
            worker: None,
            stuck: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// `statfs(path)` for the mount point `key`.
    pub fn stat(&mut self, key: &str, path: &Path) -> Outcome {
        if lock(&self.stuck).contains(key) {
            return Outcome::Stuck;
        }
        if self.worker.is_none() {
            match spawn_worker(self.statfs, Arc::clone(&self.stuck)) {
                Ok(w) => self.worker = Some(w),
                // No thread to spare: call without the timeout rather than not at all.
                Err(_) => return to_outcome((self.statfs)(path)),
            }
        }
        let Some(worker) = &self.worker else {
            return Outcome::Failed("no statfs worker".to_string());
        };
        let done = Arc::new(AtomicBool::new(false));
        let job = Job {
            key: key.to_string(),
            path: path.to_path_buf(),
            done: Arc::clone(&done),
        };
        if worker.jobs.send(job).is_err() {
            self.worker = None;
            return Outcome::Failed("statfs worker exited".to_string());
        }
        let (outcome, keep_worker) = match worker.results.recv_timeout(self.timeout) {
            Ok(r) => (to_outcome(r), true),
            Err(RecvTimeoutError::Timeout) => {
                let mut stuck = lock(&self.stuck);
                if done.load(Ordering::Acquire) {
                    // It returned just now; its result is being sent.
                    drop(stuck);
                    match worker.results.recv_timeout(Duration::from_secs(1)) {
                        Ok(r) => (to_outcome(r), true),
                        Err(_) => (Outcome::Failed("statfs worker lost".to_string()), false),
                    }
                } else {
                    tracing::debug!(
                        mountpoint = key,
                        "mount point timed out, it is being labeled as stuck and will not be monitored"
                    );
                    stuck.insert(key.to_string());
                    (Outcome::Stuck, false)
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                (Outcome::Failed("statfs worker exited".to_string()), false)
            }
        };
        if !keep_worker {
            // Dropping the channels lets the abandoned thread exit once its call returns.
            self.worker = None;
        }
        outcome
    }
}

fn to_outcome(r: io::Result<FsUsage>) -> Outcome {
    match r {
        Ok(u) => Outcome::Ok(u),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn spawn_worker(statfs: StatFn, stuck: Arc<Mutex<HashSet<String>>>) -> io::Result<Worker> {
    let (jobs, job_rx) = mpsc::channel::<Job>();
    let (result_tx, results) = mpsc::channel();
    std::thread::Builder::new()
        .name("argus-statfs".to_string())
        .spawn(move || {
            for job in job_rx {
                let r = statfs(&job.path);
                {
                    let mut stuck = lock(&stuck);
                    job.done.store(true, Ordering::Release);
                    if stuck.remove(&job.key) {
                        tracing::debug!(
                            mountpoint = %job.key,
                            "mount point has recovered, monitoring will resume"
                        );
                    }
                }
                if result_tx.send(r).is_err() {
                    return;
                }
            }
        })?;
    Ok(Worker { jobs, results })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn fake(path: &Path) -> io::Result<FsUsage> {
        if path.ends_with("slow") {
            std::thread::sleep(Duration::from_millis(400));
        }
        if path.ends_with("missing") {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(FsUsage {
            size: 1.0,
            free: 2.0,
            avail: 3.0,
            files: 4.0,
            files_free: 5.0,
        })
    }

    #[test]
    fn stuck_mounts_are_skipped_until_they_recover() {
        let mut r = StatfsRunner::with_fn(Duration::from_millis(100), fake);
        let ok = |o: &Outcome| matches!(o, Outcome::Ok(u) if u.files_free == 5.0);
        assert!(ok(&r.stat("/a", Path::new("/a"))));
        assert!(matches!(
            r.stat("/m", Path::new("/missing")),
            Outcome::Failed(_)
        ));

        let start = Instant::now();
        assert_eq!(r.stat("/slow", Path::new("/slow")), Outcome::Stuck);
        assert!(start.elapsed() < Duration::from_millis(350));
        // Marked stuck: no new call, no wait.
        let start = Instant::now();
        assert_eq!(r.stat("/slow", Path::new("/slow")), Outcome::Stuck);
        assert!(start.elapsed() < Duration::from_millis(50));
        // Other mounts keep working on a fresh worker.
        assert!(ok(&r.stat("/a", Path::new("/a"))));

        // Once the pending call returns the mount is monitored again.
        std::thread::sleep(Duration::from_millis(500));
        assert!(!lock(&r.stuck).contains("/slow"));
        assert!(ok(&r.stat("/b", Path::new("/b"))));
    }

    #[test]
    fn real_statfs_of_root() {
        let u = statfs(Path::new("/")).expect("statfs /");
        assert!(u.size > 0.0 && u.avail <= u.size);
        assert!(statfs(Path::new("/nonexistent/path")).is_err());
    }
}

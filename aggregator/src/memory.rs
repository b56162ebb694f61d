//! Gives the memory that queries free back to the operating system.
//!
//! A heavy PromQL query (a `query_range` over 100k series, a rule group) allocates
//! hundreds of MiB of short-lived buffers on several threads. glibc's malloc keeps what
//! they free in its per-thread arenas, so the process' resident memory stays at the peak
//! of the heaviest query ever run. After work that allocates much, and once nothing of it
//! is running, [`run`] asks malloc to return free pages (`malloc_trim(0)`): resident
//! memory goes back to what the stores hold. Measured by `argus-bench tsdb` (README).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

static PENDING: AtomicBool = AtomicBool::new(false);
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// Marks allocation-heavy work in progress; when dropped, a trim is due once nothing else
/// is in progress.
#[must_use = "the work is over when the guard is dropped"]
pub struct Busy(());

/// A guard for one piece of allocation-heavy work (a query, a rule evaluation round, a
/// snapshot).
pub fn busy() -> Busy {
    BUSY.fetch_add(1, SeqCst);
    Busy(())
}

impl Drop for Busy {
    fn drop(&mut self) {
        PENDING.store(true, SeqCst);
        BUSY.fetch_sub(1, SeqCst);
    }
}

/// Whether a trim is due now: work ended since the last trim and none is running.
fn due() -> bool {
    BUSY.load(SeqCst) == 0 && PENDING.swap(false, SeqCst)
}

/// Trims every `every` when due, until the task is aborted.
pub async fn run(every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if due() {
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    }
}

/// Returns free heap pages to the OS; true when malloc released any.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn trim() -> bool {
    // SAFETY: malloc_trim(3) takes a padding size and touches only malloc's own state,
    // under its arena locks; it is safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_is_due_after_work_once_none_runs() {
        // The statics are shared with other tests of this binary: none of them use Busy.
        let _ = due();
        assert!(!due(), "nothing happened");
        let a = busy();
        let b = busy();
        drop(a);
        assert!(!due(), "b still runs");
        drop(b);
        assert!(due());
        assert!(!due(), "once per burst of work");
    }

    #[test]
    fn trimming_returns_freed_memory() {
        fn rss_kib() -> u64 {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    let l = s.lines().find(|l| l.starts_with("VmRSS:"))?;
                    l.split_whitespace().nth(1)?.parse().ok()
                })
                .unwrap_or(0)
        }
        if !cfg!(all(target_os = "linux", target_env = "gnu")) {
            return;
        }
        // Many small blocks (below the mmap threshold) on another thread's arena, touched,
        // then nine in ten freed: the survivors pin the heap, so glibc keeps the freed
        // pages between them until trimmed. A query's buffers freed around its result.
        let kept = std::thread::spawn(|| {
            let mut blocks: Vec<Vec<u8>> = (0..200_000).map(|i| vec![i as u8; 1000]).collect();
            let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(10).map(std::mem::take).collect();
            drop(blocks);
            kept
        })
        .join()
        .unwrap_or_default();
        let before = rss_kib();
        trim();
        let after = rss_kib();
        assert_eq!(kept.len(), 20_000);
        assert!(
            after + 50 * 1024 < before,
            "RSS {before} KiB before trim, {after} KiB after"
        );
    }
}

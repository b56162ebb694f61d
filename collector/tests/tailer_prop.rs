//! Property: under any sequence of appends, kubelet renames, logrotate copytruncates,
//! lost acks and restarts, the tailer delivers every line exactly once (after the
//! aggregator's (fingerprint, offset) dedup) and in order.
#![allow(clippy::unwrap_used)]

use argus_collector::logs::checkpoint::CheckpointStore;
use argus_collector::logs::{Batch, Tailer, TailerConfig};
use argus_collector::ReadFrom;
use proptest::prelude::*;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Append(usize),
    /// A line written in two CRI pieces (P then F), possibly across polls.
    AppendPartial,
    Rename,
    CopyTruncate,
    /// logrotate's copy seen half-written by a poll, then finished and the live file truncated.
    CopyTruncateSlow,
    PollAck,
    PollLostAck,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..20).prop_map(Op::Append),
        1 => Just(Op::AppendPartial),
        1 => Just(Op::Rename),
        1 => Just(Op::CopyTruncate),
        1 => Just(Op::CopyTruncateSlow),
        3 => Just(Op::PollAck),
        1 => Just(Op::PollLostAck),
        1 => Just(Op::Restart),
    ]
}

struct World {
    root: PathBuf,
    live: PathBuf,
    next_line: usize,
    rotations: usize,
    store: Arc<CheckpointStore>,
    tailer: Tailer,
    /// The aggregator's view: highest offset per fingerprint, and accepted lines in order.
    hwm: HashMap<u64, u64>,
    got: Vec<String>,
    /// Every line has the same timestamp, so files can start with identical first lines.
    identical_times: bool,
    /// Checkpoints are written after every poll, as if the periodic flush always came
    /// before a crash.
    flush_always: bool,
}

fn cfg(root: &Path) -> TailerConfig {
    TailerConfig {
        globs: vec![format!("{}/pods/*/*/*.log", root.display())],
        log_root: root.to_path_buf(),
        max_line: 64 * 1024,
        read_from: ReadFrom::Beginning,
        partial_timeout: Duration::from_secs(3600),
    }
}

impl World {
    /// One container's log directory with an empty live file and a fresh tailer.
    fn new(root: &Path) -> World {
        let root = root.to_path_buf();
        let live = root.join("pods/ns_pod_uid/app/0.log");
        std::fs::create_dir_all(live.parent().unwrap()).unwrap();
        std::fs::File::create(&live).unwrap();
        let store = Arc::new(CheckpointStore::open(&root.join("ckpt")).unwrap());
        let tailer = Tailer::new(cfg(&root), store.clone());
        World {
            root,
            live,
            next_line: 0,
            rotations: 0,
            store,
            tailer,
            hwm: HashMap::new(),
            got: Vec::new(),
            identical_times: false,
            flush_always: false,
        }
    }

    /// Identical first lines everywhere, and the periodic flush always ahead of a crash: the
    /// in-place-rewrite checks must then tell files apart by their bytes alone.
    fn adversarial(root: &Path) -> World {
        let mut w = World::new(root);
        w.identical_times = true;
        w.flush_always = true;
        w
    }

    fn append(&mut self, text: &str) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.live)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn poll(&mut self, ack: bool) {
        if self.tailer.rescan() {
            self.store.persist().unwrap();
        }
        loop {
            let mut b = Batch::default();
            let full = self.tailer.read(&mut b, 4096);
            for c in &b.chunks {
                for r in &c.records {
                    let h = self.hwm.entry(c.fingerprint).or_insert(0);
                    if r.offset > *h {
                        *h = r.offset;
                        self.got.push(r.message.clone());
                    }
                }
            }
            if ack {
                for (fp, off, tail) in &b.checkpoints {
                    self.store.advance(*fp, *off, *tail);
                }
                // The flusher's periodic write; a lost ack models a crash before it.
                self.store.persist().unwrap();
            } else if self.flush_always {
                self.store.persist().unwrap();
            }
            if !full {
                break;
            }
        }
    }

    /// The runtime's timestamp of piece `k` of line `n`: distinct per line, as real CRI
    /// timestamps are; the adversarial world gives every line the same one.
    fn ts(&self, n: usize, k: usize) -> String {
        if self.identical_times {
            "2026-11-26T10:15:00Z".to_string()
        } else {
            format!("2026-11-26T10:15:00.{:09}Z", 2 * n + k)
        }
    }

    /// logrotate's numbered copies move up by one (`0.log.1` → `0.log.2` …); returns the dir.
    fn shift_numbered(&self) -> PathBuf {
        let dir = self.live.parent().unwrap().to_path_buf();
        for n in (1..50).rev() {
            let from = dir.join(format!("0.log.{n}"));
            if from.exists() {
                std::fs::rename(&from, dir.join(format!("0.log.{}", n + 1))).unwrap();
            }
        }
        dir
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Append(n) => {
                let mut s = String::new();
                for _ in 0..*n {
                    let ts = self.ts(self.next_line, 1);
                    s.push_str(&format!("{ts} stdout F line-{}\n", self.next_line));
                    self.next_line += 1;
                }
                self.append(&s);
            }
            Op::AppendPartial => {
                let n = self.next_line;
                self.next_line += 1;
                let (t0, t1) = (self.ts(n, 0), self.ts(n, 1));
                self.append(&format!("{t0} stdout P line-\n{t1} stdout F {n}\n"));
            }
            Op::Rename => {
                self.rotations += 1;
                let to = self
                    .live
                    .with_file_name(format!("0.log.20261126-10{:04}", self.rotations));
                if self.live.exists() {
                    std::fs::rename(&self.live, to).unwrap();
                }
                std::fs::File::create(&self.live).unwrap();
            }
            Op::CopyTruncate => {
                let dir = self.shift_numbered();
                if self.live.exists() {
                    std::fs::copy(&self.live, dir.join("0.log.1")).unwrap();
                    truncate(&self.live);
                }
            }
            Op::CopyTruncateSlow => {
                let dir = self.shift_numbered();
                if self.live.exists() {
                    let data = std::fs::read(&self.live).unwrap();
                    let copy = dir.join("0.log.1");
                    std::fs::write(&copy, &data[..data.len() / 2]).unwrap();
                    self.poll(true);
                    let mut f = OpenOptions::new().append(true).open(&copy).unwrap();
                    f.write_all(&data[data.len() / 2..]).unwrap();
                    truncate(&self.live);
                }
            }
            Op::PollAck => self.poll(true),
            Op::PollLostAck => self.poll(false),
            Op::Restart => {
                let store = Arc::new(CheckpointStore::open(&self.root.join("ckpt")).unwrap());
                self.tailer = Tailer::new(cfg(&self.root), store.clone());
                self.store = store;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_line_once_in_order(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut w = World::new(dir.path());
        for op in &ops {
            w.apply(op);
        }
        w.poll(true);
        w.poll(true);
        let want: Vec<String> = (0..w.next_line).map(|i| format!("line-{i}")).collect();
        prop_assert_eq!(w.got, want);
    }
}

#[test]
fn copytruncate_rewritten_with_identical_first_line_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::adversarial(dir.path());
    for op in [
        Op::AppendPartial,
        Op::PollAck,
        Op::CopyTruncate,
        Op::AppendPartial,
        Op::PollAck,
    ] {
        w.apply(&op);
    }
    assert_eq!(w.got, ["line-0", "line-1"]);
}

fn run(ops: &[Op]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::adversarial(dir.path());
    for op in ops {
        w.apply(op);
    }
    w.poll(true);
    w.poll(true);
    w.got
}

#[test]
fn lost_ack_restart_then_copytruncate_with_identical_first_line_loses_nothing() {
    let got = run(&[
        Op::AppendPartial,
        Op::PollLostAck,
        Op::CopyTruncate,
        Op::AppendPartial,
        Op::Append(1),
        Op::Restart,
    ]);
    assert_eq!(got, ["line-0", "line-1", "line-2"]);
}

#[test]
fn renamed_file_with_a_known_first_line_is_not_held_back_as_a_copy() {
    let got = run(&[
        Op::AppendPartial,
        Op::Rename,
        Op::PollLostAck,
        Op::AppendPartial,
        Op::Restart,
        Op::Rename,
        Op::Append(1),
    ]);
    assert_eq!(got, ["line-0", "line-1", "line-2"]);
}

#[test]
fn mixed_rotation_styles_are_read_oldest_first() {
    let got = run(&[Op::Append(1), Op::Rename, Op::Append(1), Op::CopyTruncate]);
    assert_eq!(got, ["line-0", "line-1"]);
}

fn truncate(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

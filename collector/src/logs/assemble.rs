//! Turns the lines of one file into records: detects the format (CRI or docker json-file)
//! on the first line, merges partial pieces (CRI `P`, docker lines without `\n`), caps the
//! message size, replaces invalid UTF-8 and detects the level.

use argus_core::{Level, Stream};
use std::time::{Duration, Instant};

use super::{cri, docker};
use argus_core::level;

/// The marker appended to a message cut at the line-size cap.
pub const TRUNCATED_MARK: &str = " [truncated]";

/// One record ready to ship.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    pub timestamp_ns: i64,
    pub stream: Stream,
    pub level: Level,
    pub message: String,
    /// End offset of the record's last line in the file: with the file's fingerprint, the
    /// record's idempotency key.
    pub offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Cri,
    Docker,
}

#[derive(Debug)]
struct Pending {
    timestamp_ns: i64,
    start_offset: u64,
    message: Vec<u8>,
    truncated: bool,
    last_piece: Instant,
}

/// Per-file assembly state.
#[derive(Debug)]
pub struct Assembler {
    format: Option<Format>,
    pending: [Option<Pending>; 2],
    max_line: usize,
}

fn slot(s: Stream) -> usize {
    match s {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

impl Assembler {
    pub fn new(max_line: usize) -> Assembler {
        Assembler {
            format: None,
            pending: [None, None],
            max_line,
        }
    }

    /// The detected format, once a line was seen.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// The offset a checkpoint may safely name: the start of the oldest unfinished partial,
    /// or `read_offset` when none is pending.
    pub fn safe_offset(&self, read_offset: u64) -> u64 {
        self.pending
            .iter()
            .flatten()
            .map(|p| p.start_offset)
            .min()
            .map_or(read_offset, |s| s.min(read_offset))
    }

    /// Feeds one line (without `\n`) spanning `[start, end)` of the file. `truncated` says
    /// the line was longer than the cap and only its head is given.
    pub fn line(
        &mut self,
        line: &[u8],
        start: u64,
        end: u64,
        truncated: bool,
        now: Instant,
        out: &mut Vec<Emitted>,
    ) {
        let format = *self.format.get_or_insert_with(|| {
            if line.first() == Some(&b'{') {
                Format::Docker
            } else {
                Format::Cri
            }
        });
        let parsed = match format {
            Format::Cri => {
                cri::parse(line).map(|l| (l.timestamp_ns, l.stream, l.partial, l.message.into()))
            }
            Format::Docker => docker::parse(line).map(|l| {
                let msg: std::borrow::Cow<'_, [u8]> = match l.message {
                    std::borrow::Cow::Borrowed(s) => s.as_bytes().into(),
                    std::borrow::Cow::Owned(s) => s.into_bytes().into(),
                };
                (l.timestamp_ns, l.stream, l.partial, msg)
            }),
        };
        let Some((ts, stream, partial, msg)) = parsed else {
            // Not in the file's format: keep the raw line rather than lose it.
            let ts = argus_core::time::now_ns();
            out.push(self.finish(ts, Stream::Stdout, line, truncated, end));
            return;
        };
        let ts = if ts == 0 {
            argus_core::time::now_ns()
        } else {
            ts
        };
        let i = slot(stream);
        match (&mut self.pending[i], partial) {
            (Some(p), _) => {
                let room = self.max_line.saturating_sub(p.message.len());
                if msg.len() > room || truncated {
                    p.truncated = true;
                }
                p.message.extend_from_slice(&msg[..msg.len().min(room)]);
                p.last_piece = now;
                if !partial {
                    if let Some(p) = self.pending[i].take() {
                        out.push(self.finish(p.timestamp_ns, stream, &p.message, p.truncated, end));
                    }
                }
            }
            (None, true) => {
                let keep = msg.len().min(self.max_line);
                self.pending[i] = Some(Pending {
                    timestamp_ns: ts,
                    start_offset: start,
                    message: msg[..keep].to_vec(),
                    truncated: truncated || keep < msg.len(),
                    last_piece: now,
                });
            }
            (None, false) => out.push(self.finish(ts, stream, &msg, truncated, end)),
        }
    }

    /// Emits partials whose continuation has not come within `timeout`; `read_offset` is
    /// where reading stopped (the records' key offset).
    pub fn flush_stale(
        &mut self,
        now: Instant,
        timeout: Duration,
        read_offset: u64,
        out: &mut Vec<Emitted>,
    ) {
        for (i, stream) in [(0, Stream::Stdout), (1, Stream::Stderr)] {
            let stale = self.pending[i]
                .as_ref()
                .is_some_and(|p| now.duration_since(p.last_piece) >= timeout);
            if stale {
                if let Some(p) = self.pending[i].take() {
                    out.push(self.finish(
                        p.timestamp_ns,
                        stream,
                        &p.message,
                        p.truncated,
                        read_offset,
                    ));
                }
            }
        }
    }

    /// Drops unfinished partials (the file was truncated or replaced).
    pub fn reset(&mut self) {
        self.pending = [None, None];
    }

    fn finish(&self, ts: i64, stream: Stream, msg: &[u8], truncated: bool, offset: u64) -> Emitted {
        let msg = &msg[..msg.len().min(self.max_line)];
        let mut message = match std::str::from_utf8(msg) {
            Ok(s) => s.to_string(),
            Err(_) => String::from_utf8_lossy(msg).into_owned(),
        };
        if truncated {
            message.push_str(TRUNCATED_MARK);
        }
        let level = level::detect(&message);
        Emitted {
            timestamp_ns: ts,
            stream,
            level,
            message,
            offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(a: &mut Assembler, lines: &[&str]) -> Vec<Emitted> {
        let mut out = Vec::new();
        let mut off = 0u64;
        let now = Instant::now();
        for l in lines {
            let end = off + l.len() as u64 + 1;
            a.line(l.as_bytes(), off, end, false, now, &mut out);
            off = end;
        }
        out
    }

    #[test]
    fn merges_cri_partials_per_stream() {
        let mut a = Assembler::new(1024);
        let out = feed(
            &mut a,
            &[
                "2016-10-06T00:17:09Z stdout P hello ",
                "2016-10-06T00:17:10Z stderr F oops",
                "2016-10-06T00:17:11Z stdout P big ",
                "2016-10-06T00:17:12Z stdout F world",
            ],
        );
        assert_eq!(a.format(), Some(Format::Cri));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].message, "oops");
        assert_eq!(out[0].stream, Stream::Stderr);
        assert_eq!(out[1].message, "hello big world");
        assert_eq!(out[1].timestamp_ns, 1_475_713_029_000_000_000);
        assert!(out[0].offset < out[1].offset);
    }

    #[test]
    fn safe_offset_stops_at_pending_partial() {
        let mut a = Assembler::new(1024);
        let out = feed(
            &mut a,
            &[
                "2016-10-06T00:17:09Z stdout F a",
                "2016-10-06T00:17:09Z stdout P b",
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(a.safe_offset(1000), out[0].offset);
        let mut out = Vec::new();
        a.flush_stale(
            Instant::now() + Duration::from_secs(10),
            Duration::from_secs(1),
            99,
            &mut out,
        );
        assert_eq!(out[0].message, "b");
        assert_eq!(out[0].offset, 99);
        assert_eq!(a.safe_offset(1000), 1000);
    }

    #[test]
    fn docker_partials_and_levels() {
        let mut a = Assembler::new(1024);
        let out = feed(
            &mut a,
            &[
                r#"{"log":"ERROR half ","stream":"stdout","time":"2016-10-06T00:17:09Z"}"#,
                r#"{"log":"done\n","stream":"stdout","time":"2016-10-06T00:17:10Z"}"#,
                r#"{"log":"{\"level\":\"warn\"}\n","stream":"stderr","time":"2016-10-06T00:17:10Z"}"#,
            ],
        );
        assert_eq!(a.format(), Some(Format::Docker));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].message, "ERROR half done");
        assert_eq!(out[0].level, Level::Error);
        assert_eq!(out[1].level, Level::Warn);
    }

    #[test]
    fn caps_merged_lines_and_marks_them() {
        let mut a = Assembler::new(10);
        let out = feed(
            &mut a,
            &[
                "2016-10-06T00:17:09Z stdout P 0123456",
                "2016-10-06T00:17:09Z stdout F 789abcdef",
            ],
        );
        assert_eq!(out[0].message, format!("0123456789{TRUNCATED_MARK}"));
    }

    #[test]
    fn malformed_lines_are_kept_raw_and_invalid_utf8_replaced() {
        let mut a = Assembler::new(1024);
        let mut out = Vec::new();
        a.line(
            b"2016-10-06T00:17:09Z stdout F ok",
            0,
            10,
            false,
            Instant::now(),
            &mut out,
        );
        a.line(
            b"garbage \xff line",
            10,
            20,
            false,
            Instant::now(),
            &mut out,
        );
        assert_eq!(out[1].message, "garbage \u{fffd} line");
    }
}

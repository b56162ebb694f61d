//! The log record: one line (or one merged multi-part line) of a container's output.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Which stream of the container wrote the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stream {
    #[default]
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// Parses `stdout` / `stderr`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Stream> {
        match s {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// Severity detected from the line (`unknown` when nothing says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Level {
    #[default]
    Unknown,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Unknown => "unknown",
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Maps the spellings found in the wild (`ERROR`, `err`, `warning`, `E`, `crit`, …).
    pub fn parse(s: &str) -> Level {
        let s = s.trim();
        if s.len() > 12 {
            return Level::Unknown;
        }
        let mut buf = [0u8; 12];
        for (i, b) in s.bytes().enumerate() {
            buf[i] = b.to_ascii_lowercase();
        }
        match &buf[..s.len()] {
            b"trace" | b"trc" | b"t" => Level::Trace,
            b"debug" | b"dbg" | b"d" => Level::Debug,
            b"info" | b"inf" | b"i" | b"notice" | b"information" | b"informational" => Level::Info,
            b"warn" | b"warning" | b"wrn" | b"w" => Level::Warn,
            b"error" | b"err" | b"e" | b"eror" => Level::Error,
            b"fatal" | b"critical" | b"crit" | b"panic" | b"emerg" | b"emergency" | b"alert"
            | b"f" | b"c" => Level::Fatal,
            _ => Level::Unknown,
        }
    }
}

/// Where a collector read a record: the idempotency key of collector records is
/// (node, fingerprint, offset), `offset` being the end of the record's last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourcePos {
    pub fingerprint: u64,
    pub offset: u64,
}

/// One log record with its Kubernetes metadata. The metadata is shared (`Arc`) by the
/// records of one stream, so cloning a record for each line of a batch costs reference
/// counts, not allocations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRecord {
    /// Time written by the runtime, nanoseconds since the unix epoch.
    pub timestamp_ns: i64,
    pub stream: Stream,
    pub level: Level,
    pub message: String,
    pub namespace: Arc<str>,
    pub pod: Arc<str>,
    pub pod_uid: Arc<str>,
    pub container: Arc<str>,
    pub restart_count: u32,
    pub node: Arc<str>,
    pub file_path: Arc<str>,
    /// Pod labels and other stream labels (from Loki clients, OTLP resource attributes).
    pub labels: Arc<BTreeMap<String, String>>,
    /// Set for records read from a file by a collector.
    pub source: Option<SourcePos>,
}

impl LogRecord {
    /// The value of a query label: the fixed fields first, then `labels`.
    pub fn label(&self, name: &str) -> Option<&str> {
        let v = match name {
            "namespace" => &self.namespace,
            "pod" => &self.pod,
            "container" => &self.container,
            "node" => &self.node,
            "stream" => return Some(self.stream.as_str()),
            "level" => return Some(self.level.as_str()),
            _ => return self.labels.get(name).map(String::as_str),
        };
        Some(v)
    }
}

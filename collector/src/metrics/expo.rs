//! Prometheus exposition: text format 0.0.4 and OpenMetrics 1.0 text, written straight
//! into one buffer (no per-series allocation). A family is declared once with
//! [`Exposition::family`] and followed by all its samples; callers group by family.

use std::fmt::Write as _;

/// Which text format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`
    Text,
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
}

impl Format {
    /// The format a scraper asked for in its `Accept` header.
    pub fn negotiate(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// node_exporter's untyped series (`unknown` in OpenMetrics).
    Untyped,
}

/// Size of the chunks a body is built in: a large body (a node with hundreds of
/// containers gives megabytes) never needs one contiguous buffer, nor its re-allocations.
const CHUNK: usize = 256 * 1024;

/// Where full chunks go as they are written: `Some(chunk)`, then `None` at the end.
/// Returns false once the receiver is gone (the rest is then discarded).
pub type Sink = Box<dyn FnMut(Option<String>) -> bool + Send>;

/// A buffer of families and samples in one format.
pub struct Exposition {
    buf: String,
    done: Vec<String>,
    format: Format,
    sink: Option<Sink>,
    closed: bool,
}

impl std::fmt::Debug for Exposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exposition")
            .field("format", &self.format)
            .field("buffered", &self.buf.len())
            .field("chunks", &self.done.len())
            .field("streaming", &self.sink.is_some())
            .finish()
    }
}

impl Exposition {
    pub fn new(format: Format) -> Self {
        Exposition {
            buf: String::with_capacity(CHUNK + 4096),
            done: Vec::new(),
            format,
            sink: None,
            closed: false,
        }
    }

    /// An exposition that hands each full chunk to `sink` as soon as it is written, so a
    /// multi-megabyte body is never in memory at once.
    pub fn streaming(format: Format, sink: Sink) -> Self {
        Exposition {
            sink: Some(sink),
            ..Exposition::new(format)
        }
    }

    fn end_line(&mut self) {
        self.buf.push('\n');
        if self.buf.len() >= CHUNK {
            let full = std::mem::replace(&mut self.buf, String::with_capacity(CHUNK + 4096));
            self.emit(full);
        }
    }

    fn emit(&mut self, chunk: String) {
        match self.sink.as_mut() {
            None => self.done.push(chunk),
            Some(_) if self.closed => {}
            Some(sink) => self.closed = !sink(Some(chunk)),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Starts a family: its `# HELP` and `# TYPE` lines. In OpenMetrics a counter family
    /// is named without its `_total` suffix; a counter whose name lacks the suffix is
    /// declared `unknown` there, as the format requires.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let (name, kind) = match (self.format, kind) {
            (Format::OpenMetrics, Kind::Counter) => match name.strip_suffix("_total") {
                Some(base) => (base, "counter"),
                None => (name, "unknown"),
            },
            (Format::OpenMetrics, Kind::Untyped) => (name, "unknown"),
            (_, Kind::Counter) => (name, "counter"),
            (_, Kind::Gauge) => (name, "gauge"),
            (Format::Text, Kind::Untyped) => (name, "untyped"),
        };
        self.buf.push_str("# HELP ");
        self.buf.push_str(name);
        self.buf.push(' ');
        for c in help.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\n' => self.buf.push_str("\\n"),
                '"' if self.format == Format::OpenMetrics => self.buf.push_str("\\\""),
                c => self.buf.push(c),
            }
        }
        self.buf.push_str("\n# TYPE ");
        self.buf.push_str(name);
        self.buf.push(' ');
        self.buf.push_str(kind);
        self.end_line();
    }

    /// One sample of the current family. Labels are written in the order given.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.buf.push_str(name);
        if !labels.is_empty() {
            self.buf.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                self.buf.push_str(k);
                self.buf.push_str("=\"");
                escape_label(&mut self.buf, v);
                self.buf.push('"');
            }
            self.buf.push('}');
        }
        self.buf.push(' ');
        write_value(&mut self.buf, value);
        self.end_line();
    }

    /// One sample whose usual labels are already written (escaped, comma-separated, as
    /// by [`write_labels`]), followed by `extra` labels.
    pub fn sample_pre(&mut self, name: &str, pre: &str, extra: &[(&str, &str)], value: f64) {
        self.buf.push_str(name);
        self.buf.push('{');
        self.buf.push_str(pre);
        for (k, v) in extra {
            self.buf.push(',');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_label(&mut self.buf, v);
            self.buf.push('"');
        }
        self.buf.push_str("} ");
        write_value(&mut self.buf, value);
        self.end_line();
    }

    /// A family with a single unlabelled sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// The finished body (OpenMetrics ends with `# EOF`).
    pub fn finish(self) -> String {
        self.finish_chunks().concat()
    }

    /// The finished body in chunks, in order (for a streaming exposition: what was not
    /// handed to the sink, i.e. nothing; the sink gets the last chunk and `None`).
    pub fn finish_chunks(mut self) -> Vec<String> {
        if self.format == Format::OpenMetrics {
            self.buf.push_str("# EOF\n");
        }
        let last = std::mem::take(&mut self.buf);
        self.emit(last);
        if let Some(sink) = self.sink.as_mut() {
            if !self.closed {
                sink(None);
            }
        }
        self.done
    }
}

/// Labels written once for many samples: `a="x",b="y"` (escaped).
pub fn write_labels(labels: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        escape_label(&mut s, v);
        s.push('"');
    }
    s
}

fn escape_label(buf: &mut String, v: &str) {
    if !v.contains(['\\', '"', '\n']) {
        buf.push_str(v);
        return;
    }
    for c in v.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '"' => buf.push_str("\\\""),
            '\n' => buf.push_str("\\n"),
            c => buf.push(c),
        }
    }
}

/// Integers exactly, other values in the shortest form that reads back the same.
fn write_value(buf: &mut String, v: f64) {
    if v.is_nan() {
        buf.push_str("NaN");
    } else if v.is_infinite() {
        buf.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == v.trunc() && v.abs() < 1e15 {
        let _ = write!(buf, "{}", v as i64);
    } else if v.abs() >= 1e15 || v.abs() < 1e-4 {
        let _ = write!(buf, "{v:e}");
    } else {
        let _ = write!(buf, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let mut e = Exposition::new(Format::Text);
        e.family("x_total", Kind::Counter, "Some \\ help\nhere.");
        e.sample("x_total", &[("a", "q\"uo\\te\n"), ("b", "")], 3.0);
        e.sample("x_total", &[], 0.25);
        e.single("g", Kind::Gauge, "G.", 1.5e18);
        e.single("u", Kind::Untyped, "U.", f64::NAN);
        assert_eq!(
            e.finish(),
            "# HELP x_total Some \\\\ help\\nhere.\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"uo\\\\te\\n\",b=\"\"} 3\nx_total 0.25\n\
             # HELP g G.\n# TYPE g gauge\ng 1.5e18\n\
             # HELP u U.\n# TYPE u untyped\nu NaN\n"
        );
    }

    #[test]
    fn openmetrics_format() {
        let mut e = Exposition::new(Format::OpenMetrics);
        e.family("x_total", Kind::Counter, "X.");
        e.sample("x_total", &[("a", "1")], 1.0);
        e.single("node_vmstat_pgmajfault", Kind::Counter, "P.", 7.0);
        e.single("g", Kind::Gauge, "G.", -0.000001);
        assert_eq!(
            e.finish(),
            "# HELP x X.\n# TYPE x counter\nx_total{a=\"1\"} 1\n\
             # HELP node_vmstat_pgmajfault P.\n# TYPE node_vmstat_pgmajfault unknown\n\
             node_vmstat_pgmajfault 7\n# HELP g G.\n# TYPE g gauge\ng -1e-6\n# EOF\n"
        );
    }

    #[test]
    fn large_bodies_come_in_chunks_that_join_to_the_same_text() {
        let mut e = Exposition::new(Format::Text);
        let pre = write_labels(&[("id", "/kubepods/\"x\""), ("pod", "p")]);
        e.family("m", Kind::Gauge, "M.");
        for i in 0..20_000 {
            e.sample_pre("m", &pre, &[("device", "/dev/sda")], f64::from(i));
        }
        let chunks = e.finish_chunks();
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.ends_with('\n')));
        let text = chunks.concat();
        assert_eq!(text.lines().count(), 20_002);
        assert!(
            text.contains("m{id=\"/kubepods/\\\"x\\\"\",pod=\"p\",device=\"/dev/sda\"} 19999\n")
        );
    }

    #[test]
    fn streaming_hands_out_chunks_as_they_fill_and_stops_when_the_receiver_leaves() {
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Option<usize>>::new()));
        let g = got.clone();
        let mut e = Exposition::streaming(
            Format::OpenMetrics,
            Box::new(move |c| {
                g.lock().expect("lock").push(c.map(|c| c.len()));
                true
            }),
        );
        let pre = write_labels(&[("id", "/x")]);
        e.family("m", Kind::Gauge, "M.");
        for i in 0..60_000 {
            e.sample_pre("m", &pre, &[], f64::from(i));
        }
        assert!(
            got.lock().expect("lock").len() >= 2,
            "chunks sent before the end"
        );
        assert!(e.finish_chunks().is_empty());
        let got = got.lock().expect("lock").clone();
        assert_eq!(got.last(), Some(&None), "end marker");
        assert_eq!(got.iter().filter(|c| c.is_none()).count(), 1);

        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c2 = calls.clone();
        let mut e = Exposition::streaming(
            Format::Text,
            Box::new(move |_| {
                c2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                false
            }),
        );
        for i in 0..60_000 {
            e.sample_pre("m", &pre, &[], f64::from(i));
        }
        e.finish_chunks();
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "nothing after a refusal"
        );
    }

    #[test]
    fn negotiates() {
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(
            Format::negotiate(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
            )),
            Format::OpenMetrics
        );
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
    }
}

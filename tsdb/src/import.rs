//! `argus tsdb import FILE --data-dir DIR`: backfills the store from an OpenMetrics text
//! file with timestamps (what `promtool tsdb create-blocks-from openmetrics` reads),
//! printing a progress line, and ends with a snapshot so the data is durable.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use argus_core::series::Labels;

use crate::textparse::{parse_line, parse_value, Flavor};
use crate::{io_err, Db, Error, Options, Result};

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub samples: u64,
    pub series: u64,
    pub rejected: u64,
}

/// Imports `file` into the store at `data_dir`; `progress` gets a line now and then.
pub fn import(file: &Path, data_dir: &Path, progress: &mut dyn Write) -> Result<Imported> {
    let f = std::fs::File::open(file).map_err(io_err(file))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let db = Db::open_for_import(
        data_dir,
        Options {
            retention: Duration::MAX,
        },
    )?;
    let mut reader = BufReader::with_capacity(1 << 20, f);
    let mut line = String::new();
    let (mut lineno, mut read) = (0usize, 0u64);
    let mut batch: Vec<(Labels, i64, f64)> = Vec::with_capacity(100_000);
    let mut out = Imported::default();
    let mut last = Instant::now();
    let started = Instant::now();
    let mut prev_series: Option<(String, Labels)> = None;
    let flush = |db: &Db, batch: &mut Vec<(Labels, i64, f64)>, out: &mut Imported| -> Result<()> {
        let r = db.append(batch)?;
        out.samples += r.samples as u64;
        out.series += r.new_series as u64;
        out.rejected += (r.out_of_order + r.duplicate) as u64;
        batch.clear();
        Ok(())
    };
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(io_err(file))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        read += n as u64;
        // Lines of one series follow each other: when the series part (all but the value
        // and the timestamp) repeats, only those two fields are parsed.
        let trimmed = line.trim_end();
        if let (Some(prev), Some((series, value, ts))) = (&prev_series, split_tail(trimmed)) {
            if prev.0 == series {
                if let (Some(v), Some(t)) = (parse_value(value), parse_seconds(ts)) {
                    batch.push((prev.1.clone(), t, v));
                    if batch.len() >= 100_000 {
                        flush(&db, &mut batch, &mut out)?;
                    }
                    continue;
                }
            }
        }
        let p = parse_line(&line, Flavor::OpenMetrics, lineno)
            .map_err(|e| Error::Invalid(format!("{}: {e}", file.display())))?;
        let Some(p) = p else { continue };
        let Some(ts) = p.timestamp else {
            return Err(Error::Invalid(format!(
                "{}: line {lineno}: sample without a timestamp (import needs them)",
                file.display()
            )));
        };
        prev_series = split_tail(trimmed).map(|(s, _, _)| (s.to_string(), p.labels.clone()));
        batch.push((p.labels, ts, p.value));
        if batch.len() >= 100_000 {
            flush(&db, &mut batch, &mut out)?;
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let _ = writeln!(
                progress,
                "imported {} samples, {} series ({:.0}% of {:.1} MiB)",
                out.samples,
                out.series,
                read as f64 * 100.0 / total.max(1) as f64,
                total as f64 / (1 << 20) as f64
            );
        }
    }
    flush(&db, &mut batch, &mut out)?;
    db.snapshot()?;
    let _ = writeln!(
        progress,
        "imported {} samples, {} series in {:.1}s ({} rejected: out of order or duplicate)",
        out.samples,
        out.series,
        started.elapsed().as_secs_f64(),
        out.rejected
    );
    Ok(out)
}

/// `series value timestamp` → its three parts (None without two trailing fields).
fn split_tail(line: &str) -> Option<(&str, &str, &str)> {
    let (rest, ts) = line.rsplit_once(' ')?;
    let (series, value) = rest.rsplit_once(' ')?;
    (!series.is_empty() && !series.starts_with('#')).then_some((series, value, ts))
}

fn parse_seconds(s: &str) -> Option<i64> {
    let v: f64 = s.parse().ok()?;
    v.is_finite().then(|| (v * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_core::series::{Matcher, SeriesSource};

    #[test]
    fn imports_openmetrics_with_timestamps() {
        let d = tempfile::tempdir().expect("tempdir");
        let f = d.path().join("data.om");
        std::fs::write(
            &f,
            "# TYPE http_requests counter\nhttp_requests_total{code=\"200\"} 1 1700000000\n\
             http_requests_total{code=\"200\"} 5 1700000015\n\
             http_requests_total{code=\"500\"} 2 1700000015.5\n# EOF\n",
        )
        .expect("write");
        let mut progress = Vec::new();
        let r = import(&f, &d.path().join("db"), &mut progress).expect("import");
        assert_eq!((r.samples, r.series), (3, 2));
        assert!(String::from_utf8_lossy(&progress).contains("imported 3 samples"));
        let db = Db::open(&d.path().join("db"), Options::default()).expect("open");
        let got = db.select(&[Matcher::equal("code", "500")], i64::MIN, i64::MAX);
        assert_eq!(got[0].samples[0].t, 1_700_000_015_500);

        // A bad value on a repeated series is caught by the full parser, with its line.
        std::fs::write(
            &f,
            "x{a=\"1\"} 1 100\nx{a=\"1\"} 2 115\nx{a=\"1\"} bad 130\n",
        )
        .expect("write");
        let e = import(&f, &d.path().join("db3"), &mut Vec::new()).expect_err("bad value");
        assert!(
            e.to_string().contains("line 3") && e.to_string().contains("bad"),
            "{e}"
        );
        std::fs::write(&f, "x 1\n").expect("write");
        let e = import(&f, &d.path().join("db2"), &mut Vec::new()).expect_err("no ts");
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}

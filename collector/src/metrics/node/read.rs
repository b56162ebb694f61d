//! File reading and the small parsing helpers the node collectors share.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::Error;

/// Reads the whole file into `buf` (cleared first). procfs files report size 0, so this
/// reads until EOF instead of trusting the metadata.
pub(super) fn read_into(path: &Path, buf: &mut Vec<u8>) -> Result<(), Error> {
    buf.clear();
    read_raw(path, buf).map_err(|e| io_error(path, &e))
}

/// Like [`read_into`] with the `io::Error` kept, for callers that treat "not found" apart.
pub(super) fn read_raw(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    File::open(path)?.read_to_end(buf)?;
    Ok(())
}

pub(super) fn io_error(path: &Path, e: &io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The buffer as text; invalid UTF-8 (never seen in procfs, possible in mount paths) is
/// replaced rather than rejected.
pub(super) fn text(buf: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(buf)
}

/// Reads a one-value sysfs/procfs attribute, trimmed of surrounding whitespace.
pub(super) fn read_trimmed<'a>(path: &Path, buf: &'a mut Vec<u8>) -> io::Result<&'a str> {
    read_raw(path, buf)?;
    let s = std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(s.trim())
}

/// Reads an unsigned decimal attribute, as node_exporter's `readUintFromFile`.
pub(super) fn read_u64(path: &Path, buf: &mut Vec<u8>) -> io::Result<u64> {
    let s = read_trimmed(path, buf)?;
    s.parse::<u64>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{s:?}: {e}")))
}

/// Parses a number the way Go's `strconv.ParseFloat` accepts the values procfs prints
/// (decimal integers and fractions, optionally signed).
pub(super) fn parse_f64(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| !v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_attributes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("attr");
        std::fs::write(&path, " 42\n").expect("write");
        let mut buf = Vec::new();
        assert_eq!(read_u64(&path, &mut buf).expect("u64"), 42);
        assert_eq!(read_trimmed(&path, &mut buf).expect("str"), "42");
        read_into(&path, &mut buf).expect("read");
        assert_eq!(text(&buf), " 42\n");
        let missing = dir.path().join("missing");
        assert!(read_into(&missing, &mut buf).is_err());
        std::fs::write(&path, "x\n").expect("write");
        assert!(read_u64(&path, &mut buf).is_err());
    }

    #[test]
    fn parses_floats() {
        assert_eq!(parse_f64("1.5"), Some(1.5));
        assert_eq!(parse_f64("-1"), Some(-1.0));
        assert_eq!(parse_f64("x"), None);
        assert_eq!(parse_f64("NaN"), None);
    }
}

//! The CRI log line format written by containerd and CRI-O:
//! `<RFC3339Nano> <stdout|stderr> <P|F> <message>`.

use argus_core::Stream;

/// One parsed CRI line; `message` borrows from the input.
#[derive(Debug, PartialEq)]
pub struct CriLine<'a> {
    pub timestamp_ns: i64,
    pub stream: Stream,
    /// `P`: a piece of a longer line that continues in the next line.
    pub partial: bool,
    pub message: &'a [u8],
}

/// Parses one line (without its `\n`). `None` when it is not a CRI line.
pub fn parse(line: &[u8]) -> Option<CriLine<'_>> {
    let sp1 = memchr::memchr(b' ', line)?;
    let ts = std::str::from_utf8(&line[..sp1]).ok()?;
    let timestamp_ns = argus_core::time::parse_rfc3339(ts)?;
    let rest = &line[sp1 + 1..];
    let (stream, rest) = if let Some(r) = rest.strip_prefix(b"stdout ") {
        (Stream::Stdout, r)
    } else if let Some(r) = rest.strip_prefix(b"stderr ") {
        (Stream::Stderr, r)
    } else {
        return None;
    };
    // The tag may carry more flags after a colon (`F:x`); only P/F matter.
    let tag_end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let tag = &rest[..tag_end];
    let partial = match tag.first() {
        Some(b'P') => true,
        Some(b'F') => false,
        _ => return None,
    };
    if tag.len() > 1 && tag[1] != b':' {
        return None;
    }
    let message = rest.get(tag_end + 1..).unwrap_or(&[]);
    Some(CriLine {
        timestamp_ns,
        stream,
        partial,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cri_lines() {
        let ok = [
            (
                "2016-10-06T00:17:09.669794202Z stdout F log content 1",
                1_475_713_029_669_794_202,
                Stream::Stdout,
                false,
                "log content 1",
            ),
            (
                "2016-10-06T00:17:09.669794203Z stderr P part",
                1_475_713_029_669_794_203,
                Stream::Stderr,
                true,
                "part",
            ),
            (
                "2016-10-06T00:17:09Z stdout F ",
                1_475_713_029_000_000_000,
                Stream::Stdout,
                false,
                "",
            ),
            (
                "2016-10-06T00:17:09Z stdout F",
                1_475_713_029_000_000_000,
                Stream::Stdout,
                false,
                "",
            ),
            (
                "2016-10-06T02:17:09+02:00 stdout F:x  two  spaces ",
                1_475_713_029_000_000_000,
                Stream::Stdout,
                false,
                " two  spaces ",
            ),
        ];
        for (line, ts, stream, partial, msg) in ok {
            let got = parse(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(got.timestamp_ns, ts, "{line}");
            assert_eq!(got.stream, stream, "{line}");
            assert_eq!(got.partial, partial, "{line}");
            assert_eq!(got.message, msg.as_bytes(), "{line}");
        }
        let bad = [
            "",
            "hello world",
            "2016-10-06T00:17:09Z stdin F x",
            "2016-10-06T00:17:09Z stdout X x",
            "2016-10-06T00:17:09Z stdout FF x",
            "not-a-time stdout F x",
            "2016-10-06T00:17:09Z",
            "{\"log\":\"x\"}",
        ];
        for line in bad {
            assert!(parse(line.as_bytes()).is_none(), "{line}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&line);
        }
    }
}

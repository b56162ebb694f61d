//! docker's json-file log driver: `{"log":"…\n","stream":"stdout","time":"…"}`. A `log`
//! value without a trailing `\n` is a piece of a longer line (docker splits at 16 KiB).

use argus_core::Stream;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    log: Cow<'a, str>,
    #[serde(default, borrow)]
    stream: Cow<'a, str>,
    #[serde(default, borrow)]
    time: Cow<'a, str>,
}

/// One parsed docker json-file line.
#[derive(Debug, PartialEq)]
pub struct DockerLine<'a> {
    /// 0 when the line had no parseable `time`.
    pub timestamp_ns: i64,
    pub stream: Stream,
    /// The `log` value did not end with `\n`: the line continues in the next record.
    pub partial: bool,
    /// The message without its trailing `\n`.
    pub message: Cow<'a, str>,
}

/// Parses one line (without the file's `\n`). `None` when it is not a docker json line.
pub fn parse(line: &[u8]) -> Option<DockerLine<'_>> {
    let raw: Raw<'_> = serde_json::from_slice(line).ok()?;
    let stream = Stream::parse(&raw.stream).unwrap_or(Stream::Stdout);
    let timestamp_ns = argus_core::time::parse_rfc3339(&raw.time).unwrap_or(0);
    let (partial, message) = match raw.log {
        Cow::Borrowed(s) => match s.strip_suffix('\n') {
            Some(m) => (false, Cow::Borrowed(m)),
            None => (true, Cow::Borrowed(s)),
        },
        Cow::Owned(mut s) => {
            let partial = !s.ends_with('\n');
            if !partial {
                s.pop();
            }
            (partial, Cow::Owned(s))
        }
    };
    Some(DockerLine {
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
    fn parses_docker_lines() {
        let l = parse(
            br#"{"log":"hello \"world\"\n","stream":"stderr","time":"2016-10-06T00:17:09.5Z"}"#,
        )
        .expect("valid line");
        assert_eq!(l.message, "hello \"world\"");
        assert_eq!(l.stream, Stream::Stderr);
        assert!(!l.partial);
        assert_eq!(l.timestamp_ns, 1_475_713_029_500_000_000);

        let l = parse(br#"{"log":"piece","stream":"stdout","time":"2016-10-06T00:17:09Z"}"#)
            .expect("valid line");
        assert!(l.partial);
        assert_eq!(l.message, "piece");

        let l = parse(br#"{"log":"x\n"}"#).expect("minimal line");
        assert_eq!(l.timestamp_ns, 0);
        assert_eq!(l.stream, Stream::Stdout);

        for bad in [
            &b""[..],
            b"{",
            b"plain text",
            b"{\"stream\":\"stdout\"}",
            b"{\"log\":5}",
        ] {
            assert!(parse(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&line);
        }
    }
}

//! Severity detection from the message: JSON fields (`level`, `severity`, `lvl`), logfmt
//! (`level=`), klog headers (`E1126 10:15:00…`) and a leading `ERROR`/`WARN`/`INFO`/`DEBUG`
//! token. Cheap byte scans, no JSON parse: it runs on every line.

use crate::Level;
use memchr::memmem;

const JSON_KEYS: [&[u8]; 3] = [b"\"level\"", b"\"severity\"", b"\"lvl\""];
const LOGFMT_KEYS: [&[u8]; 3] = [b"level=", b"lvl=", b"severity="];

/// Detects the level of a log message; [`Level::Unknown`] when nothing says.
pub fn detect(msg: &str) -> Level {
    let b = msg.as_bytes();
    let first = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let b = &b[first..];
    if b.first() == Some(&b'{') {
        for key in JSON_KEYS {
            if let Some(l) = json_value(b, key) {
                return l;
            }
        }
        return Level::Unknown;
    }
    if let Some(l) = leading_token(b) {
        return l;
    }
    for key in LOGFMT_KEYS {
        if let Some(l) = logfmt_value(b, key) {
            return l;
        }
    }
    Level::Unknown
}

fn json_value(b: &[u8], key: &[u8]) -> Option<Level> {
    let at = memmem::find(b, key)? + key.len();
    let rest = skip_ws(&b[at..]);
    let rest = skip_ws(rest.strip_prefix(b":")?);
    if let Some(s) = rest.strip_prefix(b"\"") {
        let end = memchr::memchr(b'"', s)?;
        return known(Level::parse(std::str::from_utf8(&s[..end]).ok()?));
    }
    // Numeric levels (pino / bunyan): 10 trace … 60 fatal.
    let end = rest
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    match std::str::from_utf8(&rest[..end])
        .ok()?
        .parse::<u32>()
        .ok()?
    {
        10 => Some(Level::Trace),
        20 => Some(Level::Debug),
        30 => Some(Level::Info),
        40 => Some(Level::Warn),
        50 => Some(Level::Error),
        60 => Some(Level::Fatal),
        _ => None,
    }
}

fn logfmt_value(b: &[u8], key: &[u8]) -> Option<Level> {
    let mut from = 0;
    while let Some(i) = memmem::find(&b[from..], key) {
        let at = from + i;
        if at == 0 || b[at - 1] == b' ' || b[at - 1] == b'\t' {
            let rest = &b[at + key.len()..];
            let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
            let end = rest
                .iter()
                .position(|c| matches!(c, b' ' | b'"' | b'\t'))
                .unwrap_or(rest.len());
            return known(Level::parse(std::str::from_utf8(&rest[..end]).ok()?));
        }
        from = at + key.len();
    }
    None
}

/// `ERROR …`, `[WARN] …`, `WARNING: …`, `2026-11-26 10:00:00 INFO …` is not attempted;
/// klog's `E1126 10:15:00.000000 …` is.
fn leading_token(b: &[u8]) -> Option<Level> {
    let t = b.strip_prefix(b"[").unwrap_or(b);
    let end = t
        .iter()
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(t.len());
    let word = &t[..end];
    if word.len() == 5
        && matches!(word[0], b'I' | b'W' | b'E' | b'F')
        && word[1..].iter().all(u8::is_ascii_digit)
        && t.get(end) == Some(&b' ')
    {
        return Some(match word[0] {
            b'I' => Level::Info,
            b'W' => Level::Warn,
            b'E' => Level::Error,
            _ => Level::Fatal,
        });
    }
    if word.len() < 4 || !word.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    // Upper case or capitalised only: "Error connecting" is prose, "ERROR connecting" is a level.
    if !word.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    known(Level::parse(std::str::from_utf8(word).ok()?))
}

fn known(l: Level) -> Option<Level> {
    (l != Level::Unknown).then_some(l)
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_levels() {
        let cases = [
            (r#"{"level":"error","msg":"x"}"#, Level::Error),
            (r#"{"msg":"x", "severity" : "WARNING"}"#, Level::Warn),
            (r#"{"lvl":"dbug"}"#, Level::Unknown),
            (r#"{"lvl":"debug"}"#, Level::Debug),
            (r#"{"level":50,"msg":"pino"}"#, Level::Error),
            (r#"{"msg":"no level"}"#, Level::Unknown),
            ("level=info msg=\"started\"", Level::Info),
            ("ts=1 level=\"warn\" msg=x", Level::Warn),
            ("ts=1 loglevel=warn", Level::Unknown),
            ("ERROR job 99 failed", Level::Error),
            ("[WARN] disk almost full", Level::Warn),
            ("WARNING: deprecated", Level::Warn),
            ("INFO processed", Level::Info),
            ("DEBUG x", Level::Debug),
            ("Error connecting to db", Level::Unknown),
            (
                "E1126 10:15:00.000000       1 reflector.go:1] failed",
                Level::Error,
            ),
            ("I1126 10:15:00.000000       1 main.go:1] ok", Level::Info),
            ("GET /index.html 200", Level::Unknown),
            ("", Level::Unknown),
            ("   ", Level::Unknown),
        ];
        for (msg, want) in cases {
            assert_eq!(detect(msg), want, "{msg}");
        }
    }
}

//! Time as the runtimes write it and as Prometheus' API takes it: RFC3339 (any fraction,
//! `Z` or an offset) and unix seconds with a fraction. Times are `i64` nanoseconds since the
//! unix epoch throughout argus.

use thiserror::Error;

/// A time string that is neither RFC3339 nor unix seconds.
#[derive(Debug, Error, PartialEq)]
#[error("cannot parse {input:?} as a time: want RFC3339 or unix seconds")]
pub struct TimeError {
    pub input: String,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm); `m` is
/// 1 to 12.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp as i64 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1 to 12, day 1 to 31) of a day since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parses an RFC3339 timestamp (`2026-11-26T10:15:00.123456789Z`, `…+02:00`, a space for
/// `T` and a lowercase `z` accepted) into nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)? as i64;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let min = digits(b, 14, 2)?;
    let sec = digits(b, 17, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + (b[i] - b'0') as i64;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let oh = digits(b, i + 1, 2)? as i64;
            if b.get(i + 3) != Some(&b':') {
                return None;
            }
            let om = digits(b, i + 4, 2)? as i64;
            i += 6;
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + (hour * 3600 + min * 60 + sec) as i64 - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Formats nanoseconds since the epoch as RFC3339 with nanoseconds, trailing zeros of the
/// fraction removed (Go's `time.RFC3339Nano`, which Loki and Kubernetes use).
pub fn format_rfc3339_nano(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        y,
        m,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Parses a time as Prometheus' HTTP API takes it: unix seconds (with a fraction) or RFC3339.
pub fn parse_api_time(s: &str) -> Result<i64, TimeError> {
    let err = || TimeError {
        input: s.to_string(),
    };
    let t = s.trim();
    if let Ok(v) = t.parse::<f64>() {
        if !v.is_finite() || v.abs() > 9.2e9 {
            return Err(err());
        }
        let secs = v.trunc() as i64;
        let nanos = ((v - v.trunc()) * 1e9).round() as i64;
        return Ok(secs * 1_000_000_000 + nanos);
    }
    parse_rfc3339(t).ok_or_else(err)
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_variants() {
        let cases = [
            ("1970-01-01T00:00:00Z", Some(0)),
            (
                "2016-10-06T00:17:09.669794202Z",
                Some(1_475_713_029_669_794_202),
            ),
            ("2016-10-06T00:17:09.6Z", Some(1_475_713_029_600_000_000)),
            ("2016-10-06T02:17:09+02:00", Some(1_475_713_029_000_000_000)),
            ("2016-10-05T23:17:09-01:00", Some(1_475_713_029_000_000_000)),
            ("2016-10-06 00:17:09Z", Some(1_475_713_029_000_000_000)),
            ("1969-12-31T23:59:59.5Z", Some(-500_000_000)),
            (
                "2016-10-06T00:17:09.1234567891Z",
                Some(1_475_713_029_123_456_789),
            ),
            ("2016-10-06T00:17:09", None),
            ("2016-10-06T00:17:09.Z", None),
            ("2016-13-06T00:17:09Z", None),
            ("2016-10-06T00:17:09Zjunk", None),
            ("garbage", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_rfc3339(input), want, "{input}");
        }
    }

    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(format_rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339_nano(1_475_713_029_669_794_202),
            "2016-10-06T00:17:09.669794202Z"
        );
        assert_eq!(
            format_rfc3339_nano(1_475_713_029_600_000_000),
            "2016-10-06T00:17:09.6Z"
        );
        assert_eq!(format_rfc3339_nano(-500_000_000), "1969-12-31T23:59:59.5Z");
    }

    #[test]
    fn api_times() {
        assert_eq!(
            parse_api_time("1475713029.5"),
            Ok(1_475_713_029_500_000_000)
        );
        assert_eq!(parse_api_time("1475713029"), Ok(1_475_713_029_000_000_000));
        assert_eq!(
            parse_api_time("2016-10-06T00:17:09Z"),
            Ok(1_475_713_029_000_000_000)
        );
        assert!(parse_api_time("yesterday").is_err());
        assert!(parse_api_time("NaN").is_err());
    }

    proptest::proptest! {
        #[test]
        fn format_then_parse_round_trips(ns in -2_000_000_000_000_000_000i64..4_000_000_000_000_000_000i64) {
            proptest::prop_assert_eq!(parse_rfc3339(&format_rfc3339_nano(ns)), Some(ns));
        }
    }
}

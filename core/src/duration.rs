//! Durations as Prometheus writes them (`500ms`, `5m`, `1h30m`, `7d`, `2w`, `1y`); plain
//! numbers are seconds, as the HTTP API's `step` takes them.

use std::time::Duration;
use thiserror::Error;

/// A duration string that Prometheus would not accept either.
#[derive(Debug, Error, PartialEq)]
#[error("cannot parse {input:?} as a duration: want e.g. 30s, 5m, 1h30m, 7d")]
pub struct DurationError {
    pub input: String,
}

/// Formats a duration as Prometheus prints them (`15s`, `1m30s`, `2h`, `500ms`, `0s`).
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 365 * 86_400_000u128),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// Parses a Prometheus duration, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        input: s.to_string(),
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = t.parse::<f64>() {
        if !secs.is_finite() || !(0.0..=1e12).contains(&secs) {
            return Err(err());
        }
        return Ok(Duration::from_secs_f64(secs));
    }
    let b = t.as_bytes();
    let mut i = 0;
    let mut total_ms: u128 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(err());
        }
        let n: u128 = t[start..i].parse().map_err(|_| err())?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit_ms: u128 = match &t[ustart..i] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return Err(err()),
        };
        total_ms = total_ms
            .checked_add(n.checked_mul(unit_ms).ok_or_else(err)?)
            .ok_or_else(err)?;
    }
    u64::try_from(total_ms)
        .map(Duration::from_millis)
        .map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(Duration::from_secs(15)), "15s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn prometheus_durations() {
        let ok = [
            ("500ms", 500),
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("7d", 604_800_000),
            ("2w", 1_209_600_000),
            ("15", 15_000),
            ("1.5", 1_500),
        ];
        for (input, ms) in ok {
            assert_eq!(
                parse_duration(input),
                Ok(Duration::from_millis(ms)),
                "{input}"
            );
        }
        for bad in ["", "5x", "m", "-1", "1h-5m", "NaN"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

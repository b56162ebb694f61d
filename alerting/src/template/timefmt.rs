//! Go's `time.Time` as Alertmanager's notification templates see it: an instant with a
//! location, printed by `String()` and by `Format` with Go's reference-time layouts
//! (`2006-01-02 15:04:05 MST`).

use std::sync::Arc;

use argus_core::tz::{civil_from_days, days_from_civil, Zone};

/// Unix seconds of Go's zero time, 0001-01-01 00:00:00 UTC.
pub const ZERO_TIME_SECS: i64 = -62_135_596_800;

/// A `time.Time`: an instant, the location it is shown in and what `.Local` means (the
/// integration's `time_zone`).
#[derive(Debug, Clone, PartialEq)]
pub struct ZonedTime {
    pub secs: i64,
    pub nanos: u32,
    pub zone: Arc<Zone>,
    pub local: Arc<Zone>,
}

impl ZonedTime {
    /// The instant `ms` milliseconds after the epoch, in UTC; `0` is Go's zero time (an
    /// unset `EndsAt`).
    pub fn from_unix_ms(ms: i64, local: Arc<Zone>) -> ZonedTime {
        let (secs, nanos) = if ms == 0 {
            (ZERO_TIME_SECS, 0)
        } else {
            (
                ms.div_euclid(1000),
                (ms.rem_euclid(1000) * 1_000_000) as u32,
            )
        };
        ZonedTime {
            secs,
            nanos,
            zone: Zone::utc(),
            local,
        }
    }

    /// Go's `IsZero`.
    pub fn is_zero(&self) -> bool {
        self.secs == ZERO_TIME_SECS && self.nanos == 0
    }

    /// The same instant shown in `zone`.
    pub fn in_zone(&self, zone: Arc<Zone>) -> ZonedTime {
        ZonedTime {
            zone,
            ..self.clone()
        }
    }

    /// The instant `ns` nanoseconds later (Go's `Add`).
    pub fn add_ns(&self, ns: i64) -> ZonedTime {
        let total = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos) + i128::from(ns);
        ZonedTime {
            secs: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as u32,
            ..self.clone()
        }
    }

    /// Go's `Time.String()`.
    pub fn string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let (offset, abbrev) = self.zone.offset_at(self.secs);
        format_layout(layout, self.secs, self.nanos, offset, abbrev)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    /// Numeric zone; `z` prints `Z` for UTC; the digits: 2 (`-07`), 4, 5 (`-07:00`), 6, 8.
    Offset {
        z: bool,
        colon: bool,
        secs: bool,
        mins: bool,
    },
    /// Fractional seconds: the separator, the digit count, whether trailing zeros go.
    Frac(u8, usize, bool),
}

/// The next layout element at `i` and its length, as Go's `nextStdChunk` finds it.
fn std_at(l: &[u8], i: usize) -> Option<(Std, usize)> {
    let at = |s: &str| l[i..].starts_with(s.as_bytes());
    let lower_after = |n: usize| l.get(i + n).is_some_and(u8::is_ascii_lowercase);
    let c = l[i];
    let next = l.get(i + 1).copied();
    Some(match c {
        b'J' if at("January") => (Std::LongMonth, 7),
        b'J' if at("Jan") && !lower_after(3) => (Std::Month, 3),
        b'M' if at("Monday") => (Std::LongWeekDay, 6),
        b'M' if at("Mon") && !lower_after(3) => (Std::WeekDay, 3),
        b'M' if at("MST") => (Std::TZ, 3),
        b'0' if matches!(next, Some(b'1'..=b'6')) => (
            [
                Std::ZeroMonth,
                Std::ZeroDay,
                Std::ZeroHour12,
                Std::ZeroMinute,
                Std::ZeroSecond,
                Std::Year,
            ][usize::from(next.unwrap_or(b'1') - b'1')],
            2,
        ),
        b'0' if at("002") => (Std::ZeroYearDay, 3),
        b'1' if next == Some(b'5') => (Std::Hour, 2),
        b'1' => (Std::NumMonth, 1),
        b'2' if at("2006") => (Std::LongYear, 4),
        b'2' => (Std::Day, 1),
        b'_' if at("_2") && !at("_2006") => (Std::UnderDay, 2),
        b'_' if at("__2") => (Std::UnderYearDay, 3),
        b'3' => (Std::Hour12, 1),
        b'4' => (Std::Minute, 1),
        b'5' => (Std::Second, 1),
        b'P' if next == Some(b'M') => (Std::PM, 2),
        b'p' if next == Some(b'm') => (Std::Pm, 2),
        b'-' | b'Z' => {
            let z = c == b'Z';
            let forms: [(&str, bool, bool, bool); 5] = [
                ("070000", false, true, true),
                ("07:00:00", true, true, true),
                ("0700", false, false, true),
                ("07:00", true, false, true),
                ("07", false, false, false),
            ];
            let rest = &l[i + 1..];
            let (f, colon, secs, mins) = forms
                .into_iter()
                .find(|(f, ..)| rest.starts_with(f.as_bytes()))?;
            (
                Std::Offset {
                    z,
                    colon,
                    secs,
                    mins,
                },
                1 + f.len(),
            )
        }
        b'.' | b',' if matches!(next, Some(b'0' | b'9')) => {
            let d = next.unwrap_or(b'0');
            let n = l[i + 1..].iter().take_while(|&&x| x == d).count();
            if l.get(i + 1 + n).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            (Std::Frac(c, n, d == b'9'), 1 + n)
        }
        _ => return None,
    })
}

fn pad(out: &mut String, v: i64, width: usize, fill: char) {
    let s = v.unsigned_abs().to_string();
    if v < 0 {
        out.push('-');
    }
    for _ in s.len()..width {
        out.push(fill);
    }
    out.push_str(&s);
}

/// Formats the instant `secs`.`nanos` at UTC offset `offset` with Go layout `layout`.
pub fn format_layout(layout: &str, secs: i64, nanos: u32, offset: i32, abbrev: &str) -> String {
    let local = secs + i64::from(offset);
    let days = local.div_euclid(86400);
    let sod = local.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    let (hour, min, sec) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let weekday = (days + 4).rem_euclid(7) as usize;
    let yday = days - days_from_civil(year, 1, 1) + 1;
    let l = layout.as_bytes();
    let mut out = String::with_capacity(layout.len() + 10);
    let mut lit = 0;
    let mut i = 0;
    while i < l.len() {
        let Some((std, n)) = std_at(l, i) else {
            i += 1;
            continue;
        };
        out.push_str(&layout[lit..i]);
        i += n;
        lit = i;
        match std {
            Std::LongMonth => out.push_str(MONTHS[month as usize - 1]),
            Std::Month => out.push_str(&MONTHS[month as usize - 1][..3]),
            Std::NumMonth => pad(&mut out, i64::from(month), 0, '0'),
            Std::ZeroMonth => pad(&mut out, i64::from(month), 2, '0'),
            Std::LongWeekDay => out.push_str(DAYS[weekday]),
            Std::WeekDay => out.push_str(&DAYS[weekday][..3]),
            Std::Day => pad(&mut out, i64::from(day), 0, '0'),
            Std::UnderDay => pad(&mut out, i64::from(day), 2, ' '),
            Std::ZeroDay => pad(&mut out, i64::from(day), 2, '0'),
            Std::UnderYearDay => pad(&mut out, yday, 3, ' '),
            Std::ZeroYearDay => pad(&mut out, yday, 3, '0'),
            Std::Hour => pad(&mut out, hour, 2, '0'),
            Std::Hour12 | Std::ZeroHour12 => {
                let h = match hour % 12 {
                    0 => 12,
                    h => h,
                };
                pad(&mut out, h, if std == Std::Hour12 { 0 } else { 2 }, '0');
            }
            Std::Minute => pad(&mut out, min, 0, '0'),
            Std::ZeroMinute => pad(&mut out, min, 2, '0'),
            Std::Second => pad(&mut out, sec, 0, '0'),
            Std::ZeroSecond => pad(&mut out, sec, 2, '0'),
            Std::LongYear => pad(&mut out, year, 4, '0'),
            Std::Year => pad(&mut out, year.rem_euclid(100), 2, '0'),
            Std::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Std::TZ => {
                if abbrev.is_empty() {
                    push_offset(&mut out, offset, false, false, true);
                } else {
                    out.push_str(abbrev);
                }
            }
            Std::Offset {
                z,
                colon,
                secs,
                mins,
            } => {
                if z && offset == 0 {
                    out.push('Z');
                } else {
                    push_offset(&mut out, offset, colon, secs, mins);
                }
            }
            Std::Frac(sep, digits, trim) => {
                let all = format!("{nanos:09}");
                let mut f = &all[..digits.min(9)];
                if trim {
                    f = f.trim_end_matches('0');
                }
                if !f.is_empty() {
                    out.push(sep as char);
                    out.push_str(f);
                }
            }
        }
    }
    out.push_str(&layout[lit..]);
    out
}

fn push_offset(out: &mut String, offset: i32, colon: bool, secs: bool, mins: bool) {
    out.push(if offset < 0 { '-' } else { '+' });
    let a = i64::from(offset.unsigned_abs());
    pad(out, a / 3600, 2, '0');
    if mins {
        if colon {
            out.push(':');
        }
        pad(out, a % 3600 / 60, 2, '0');
    }
    if secs {
        if colon {
            out.push(':');
        }
        pad(out, a % 60, 2, '0');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64, zone: &str) -> ZonedTime {
        ZonedTime::from_unix_ms(ms, Zone::utc()).in_zone(Zone::load(zone).expect("zone"))
    }

    #[test]
    fn go_layouts() {
        // 2024-02-29 13:04:05.120 UTC, a Thursday.
        let ms = days_from_civil(2024, 2, 29) * 86_400_000 + 47_045_120;
        let u = t(ms, "UTC");
        assert_eq!(u.string(), "2024-02-29 13:04:05.12 +0000 UTC");
        assert_eq!(u.format(time_rfc3339_nano()), "2024-02-29T13:04:05.12Z");
        assert_eq!(
            u.format("Mon Jan _2 15:04:05.000 2006"),
            "Thu Feb 29 13:04:05.120 2024"
        );
        assert_eq!(
            u.format("Monday, January 2, 06 3:4:5 PM pm 002 __2"),
            "Thursday, February 29, 24 1:4:5 PM pm 060  60"
        );
        let sh = t(ms, "+08:00");
        assert_eq!(sh.format("2006-01-02 15:04:05"), "2024-02-29 21:04:05");
        assert_eq!(sh.string(), "2024-02-29 21:04:05.12 +0800 +0800");
        assert_eq!(sh.format("Z07:00 -07 -070000"), "+08:00 +08 +080000");
        // Words that merely start like a layout element stay text.
        assert_eq!(u.format("Janitor Month"), "Janitor Month");
    }

    #[test]
    fn zero_time_and_add() {
        let z = ZonedTime::from_unix_ms(0, Zone::utc());
        assert!(z.is_zero());
        assert_eq!(z.string(), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(z.format(time_rfc3339_nano()), "0001-01-01T00:00:00Z");
        let a = ZonedTime::from_unix_ms(1000, Zone::utc()).add_ns(8 * 3_600_000_000_000);
        assert_eq!(a.format("15:04:05"), "08:00:01");
    }

    fn time_rfc3339_nano() -> &'static str {
        "2006-01-02T15:04:05.999999999Z07:00"
    }
}

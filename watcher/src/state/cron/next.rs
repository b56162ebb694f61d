//! `Schedule::next`: robfig/cron v3's `SpecSchedule.Next` walk (month, day, hour, minute,
//! second, wrapping back to the month when a field overflows), on Unix seconds with the
//! wall-clock arithmetic of Go's `time.Date`/`AddDate` in the schedule's zone, so
//! daylight-saving gaps and repeats resolve the way KSM resolves them.

use std::sync::Arc;

use argus_core::tz::{self, civil_from_days, days_from_civil};

use super::{Kind, Schedule, Spec, STAR};

/// The UTC offsets of a time zone.
pub trait Zone {
    /// Seconds east of UTC at Unix time `unix`.
    fn offset_at(&self, unix: i64) -> i32;
}

/// An IANA zone read from zoneinfo, with its daylight-saving transitions.
impl Zone for tz::Zone {
    fn offset_at(&self, unix: i64) -> i32 {
        tz::Zone::offset_at(self, unix).0
    }
}

/// The zone a `CRON_TZ=` name stands for, as KSM's Go (`time.LoadLocation`) finds it.
#[derive(Debug, Clone)]
pub enum NamedZone {
    /// A zone that never changes offset, known without a zoneinfo file.
    Fixed(FixedZone),
    /// A zone from the system's zoneinfo.
    Tzif(Arc<tz::Zone>),
}

impl Zone for NamedZone {
    fn offset_at(&self, unix: i64) -> i32 {
        match self {
            NamedZone::Fixed(z) => z.offset_at(unix),
            NamedZone::Tzif(z) => Zone::offset_at(z.as_ref(), unix),
        }
    }
}

impl NamedZone {
    /// The zone named `name`: the UTC aliases and `Etc/GMT±N` without IO
    /// ([`FixedZone::by_name`], so they work where no tzdata is installed), every other
    /// name from the system's zoneinfo through [`tz::Zone::load`], which reads a file once
    /// per name for the life of the process (found or not), so a CronJob rendered on every
    /// scrape costs a map lookup. Offsets such as `+08:00` are not zone names to Go and
    /// are refused, as KSM refuses them.
    pub fn load(name: &str) -> Result<NamedZone, tz::Error> {
        if let Some(z) = FixedZone::by_name(name) {
            return Ok(NamedZone::Fixed(z));
        }
        if name.starts_with(['+', '-']) {
            return Err(tz::Error::Invalid(name.to_string()));
        }
        tz::Zone::load(name).map(NamedZone::Tzif)
    }
}

/// A zone with one offset for all time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedZone(pub i32);

impl Zone for FixedZone {
    fn offset_at(&self, _unix: i64) -> i32 {
        self.0
    }
}

impl FixedZone {
    /// UTC.
    pub const UTC: FixedZone = FixedZone(0);

    /// The IANA zones that never change offset: the UTC and GMT aliases and
    /// `Etc/GMT±N` (POSIX signs: `Etc/GMT+5` is five hours behind UTC). `Local` is UTC,
    /// as in kube-state-metrics' container image. `None` for every other name.
    pub fn by_name(name: &str) -> Option<FixedZone> {
        const UTC_NAMES: [&str; 20] = [
            "",
            "UTC",
            "Local",
            "Etc/UTC",
            "UCT",
            "Etc/UCT",
            "Universal",
            "Etc/Universal",
            "Zulu",
            "Etc/Zulu",
            "GMT",
            "Etc/GMT",
            "GMT0",
            "Etc/GMT0",
            "GMT+0",
            "Etc/GMT+0",
            "GMT-0",
            "Etc/GMT-0",
            "Greenwich",
            "Etc/Greenwich",
        ];
        if UTC_NAMES.contains(&name) {
            return Some(FixedZone::UTC);
        }
        let rest = name.strip_prefix("Etc/GMT")?;
        let (sign, hours) = match rest.as_bytes().first()? {
            b'+' => (-1, &rest[1..]),
            b'-' => (1, &rest[1..]),
            _ => return None,
        };
        if hours.starts_with('0') || !hours.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let hours: i32 = hours.parse().ok()?;
        let max = if sign < 0 { 12 } else { 14 };
        (1..=max)
            .contains(&hours)
            .then_some(FixedZone(sign * hours * 3600))
    }
}

/// Wall-clock fields of an instant in a zone.
#[derive(Debug, Clone, Copy)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32,
}

fn civil(unix: i64, zone: &dyn Zone) -> Civil {
    let local = unix + i64::from(zone.offset_at(unix));
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
        weekday: (days + 4).rem_euclid(7) as u32, // 1970-01-01 was a Thursday
    }
}

/// Go's `time.Date(year, month, day, hour, min, sec, 0, zone)`: out-of-range fields
/// normalize (month 13 is January of the next year, day 32 the next month's 1st), and a
/// wall time in a daylight-saving gap or overlap resolves as Go resolves it: the offset
/// in effect at the wall time read as UTC, corrected once by the offset in effect at the
/// instant that gives.
pub(super) fn date(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    min: i64,
    sec: i64,
    zone: &dyn Zone,
) -> i64 {
    let m0 = month - 1;
    let (year, month) = (year + m0.div_euclid(12), m0.rem_euclid(12) + 1);
    // `month` is 1 to 12 here.
    let days = days_from_civil(year, month as u32, 1) + day - 1;
    let local = days * 86_400 + hour * 3600 + min * 60 + sec;
    let guess = zone.offset_at(local);
    local - i64::from(zone.offset_at(local - i64::from(guess)))
}

fn has(bits: u64, value: u32) -> bool {
    bits & (1 << value) != 0
}

fn day_matches(s: &Spec, c: &Civil) -> bool {
    let dom = has(s.dom, c.day);
    let dow = has(s.dow, c.weekday);
    if s.dom & STAR != 0 || s.dow & STAR != 0 {
        dom && dow
    } else {
        dom || dow
    }
}

impl Schedule {
    /// The first activation strictly after Unix time `after` (whole seconds, as object
    /// timestamps are), reading the fields in `zone`; `None` when the schedule has no
    /// activation within five years (robfig returns Go's zero time then).
    pub fn next(&self, after: i64, zone: &dyn Zone) -> Option<i64> {
        match self.kind {
            Kind::Every(secs) => Some(after + secs),
            Kind::Spec(s) => spec_next(&s, after, zone),
        }
    }
}

fn spec_next(s: &Spec, after: i64, zone: &dyn Zone) -> Option<i64> {
    // The upcoming second.
    let mut t = after + 1;
    let mut added = false;
    let year_limit = civil(t, zone).year + 5;
    'wrap: loop {
        let mut c = civil(t, zone);
        if c.year > year_limit {
            return None;
        }
        while !has(s.month, c.month) {
            if !added {
                added = true;
                t = date(c.year, c.month.into(), 1, 0, 0, 0, zone);
                c = civil(t, zone);
            }
            t = date(
                c.year,
                i64::from(c.month) + 1,
                c.day.into(),
                c.hour.into(),
                c.minute.into(),
                c.second.into(),
                zone,
            );
            c = civil(t, zone);
            if c.month == 1 {
                continue 'wrap;
            }
        }
        while !day_matches(s, &c) {
            if !added {
                added = true;
                t = date(c.year, c.month.into(), c.day.into(), 0, 0, 0, zone);
                c = civil(t, zone);
            }
            t = date(
                c.year,
                c.month.into(),
                i64::from(c.day) + 1,
                c.hour.into(),
                c.minute.into(),
                c.second.into(),
                zone,
            );
            c = civil(t, zone);
            // Midnight may not exist (a DST change at 00:00): back to 0h, or on to the
            // next day's 0h from 23h.
            if c.hour != 0 {
                t += if c.hour > 12 {
                    i64::from(24 - c.hour) * 3600
                } else {
                    -i64::from(c.hour) * 3600
                };
                c = civil(t, zone);
            }
            if c.day == 1 {
                continue 'wrap;
            }
        }
        while !has(s.hour, c.hour) {
            if !added {
                added = true;
                t = date(
                    c.year,
                    c.month.into(),
                    c.day.into(),
                    c.hour.into(),
                    0,
                    0,
                    zone,
                );
            }
            t += 3600;
            c = civil(t, zone);
            if c.hour == 0 {
                continue 'wrap;
            }
        }
        while !has(s.minute, c.minute) {
            if !added {
                added = true;
                t -= t.rem_euclid(60);
            }
            t += 60;
            c = civil(t, zone);
            if c.minute == 0 {
                continue 'wrap;
            }
        }
        while !has(s.second, c.second) {
            // `t` is already a whole second: Go's `Truncate(time.Second)` is a no-op.
            added = true;
            t += 1;
            c = civil(t, zone);
            if c.second == 0 {
                continue 'wrap;
            }
        }
        return Some(t);
    }
}

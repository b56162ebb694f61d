//! Cron schedules as kube-state-metrics evaluates them for
//! `kube_cronjob_next_schedule_time`: the syntax of robfig/cron v3's `ParseStandard` (what
//! KSM and the CronJob controller use) and its `Next`, second for second.
//!
//! - Five fields `minute hour day-of-month month day-of-week`, each a comma list of `*`
//!   or `?`, `N`, `N-M`, with an optional `/step` (`N/step` means `N-max/step`); months
//!   `jan`–`dec` and days `sun`–`sat` by name (any case); day-of-week is `0`–`6`.
//! - The day rule of cron: when both day fields are restricted (neither starts with `*`
//!   or `?`, or has a step above 1), a day matches if either does; otherwise both must.
//! - Descriptors `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`,
//!   `@hourly`, and `@every <Go duration>` (a fixed delay, whole seconds, at least 1 s).
//! - A `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix names the zone the fields are read in;
//!   KSM writes `spec.timeZone` that way. [`Schedule::next`] takes the zone's offsets from
//!   the caller ([`Zone`]); [`NamedZone::load`] resolves a name as Go does, IANA zones
//!   with daylight saving (`Europe/Berlin`) from the system's zoneinfo
//!   ([`argus_core::tz`]). Wall times that a daylight-saving change skips or repeats
//!   behave as in robfig: a skipped time does not run that day, a repeated one runs twice.
//!
//! Malformed input is an error naming the part at fault (KSM panics on those).

mod next;

pub use next::{FixedZone, NamedZone, Zone};

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    kind: Kind,
    /// The zone of a `CRON_TZ=`/`TZ=` prefix.
    zone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Spec(Spec),
    /// `@every`: seconds between runs.
    Every(i64),
}

/// Bit sets of the allowed values of each field (bit `n` for value `n`), with
/// [`STAR`] set when the field was written as `*` or `?` without a step above 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spec {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
}

/// Set in a field's bits when it was a star (robfig's `starBit`).
const STAR: u64 = 1 << 63;

/// Why a schedule could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty cron schedule")]
    Empty,
    #[error("time zone prefix without a schedule in {0:?}")]
    ZoneWithoutSchedule(String),
    #[error("expected exactly 5 fields, found {found} in {spec:?}")]
    FieldCount { found: usize, spec: String },
    #[error("unrecognized descriptor {0:?}")]
    Descriptor(String),
    #[error("invalid duration {0:?} in @every")]
    Duration(String),
    #[error("invalid number {0:?}")]
    Number(String),
    #[error("too many hyphens in {0:?}")]
    Hyphens(String),
    #[error("too many slashes in {0:?}")]
    Slashes(String),
    #[error("{value} out of range {min}-{max} in {expr:?}")]
    OutOfRange {
        value: u32,
        min: u32,
        max: u32,
        expr: String,
    },
    #[error("range start beyond its end in {0:?}")]
    Reversed(String),
    #[error("step must be positive in {0:?}")]
    ZeroStep(String),
}

/// The values a field may take, and its names.
struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value of `names[0]`.
    first_name: u32,
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
    first_name: 0,
};
const MINUTES: Bounds = SECONDS;
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
    first_name: 0,
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
    first_name: 0,
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    first_name: 1,
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    first_name: 0,
};

impl Schedule {
    /// Parses `spec` as robfig/cron v3's `ParseStandard` does.
    pub fn parse(spec: &str) -> Result<Schedule, ParseError> {
        if spec.is_empty() {
            return Err(ParseError::Empty);
        }
        let mut spec = spec;
        let mut zone = None;
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let space = spec
                .find(' ')
                .ok_or_else(|| ParseError::ZoneWithoutSchedule(spec.to_string()))?;
            let eq = spec.find('=').unwrap_or(0);
            zone = Some(spec[eq + 1..space].to_string());
            spec = spec[space..].trim();
        }
        let kind = if spec.starts_with('@') {
            descriptor(spec)?
        } else {
            let fields: Vec<&str> = spec.split_whitespace().collect();
            let [minute, hour, dom, month, dow] = fields[..] else {
                return Err(ParseError::FieldCount {
                    found: fields.len(),
                    spec: spec.to_string(),
                });
            };
            Kind::Spec(Spec {
                second: field("0", &SECONDS)?,
                minute: field(minute, &MINUTES)?,
                hour: field(hour, &HOURS)?,
                dom: field(dom, &DOM)?,
                month: field(month, &MONTHS)?,
                dow: field(dow, &DOW)?,
            })
        };
        Ok(Schedule { kind, zone })
    }

    /// The zone named by a `CRON_TZ=`/`TZ=` prefix, if any (`None`: the evaluating
    /// process' local zone, which is UTC for kube-state-metrics' container image).
    pub fn zone(&self) -> Option<&str> {
        self.zone.as_deref()
    }
}

fn all(b: &Bounds) -> u64 {
    bits(b.min, b.max, 1) | STAR
}

fn descriptor(spec: &str) -> Result<Kind, ParseError> {
    // Second 0 and minute 0 always; bit 0 is hour 0 and Sunday, bit 1 the 1st and January.
    let spec_of = |hour: u64, dom: u64, month: u64, dow: u64| {
        Kind::Spec(Spec {
            second: 1,
            minute: 1,
            hour,
            dom,
            month,
            dow,
        })
    };
    Ok(match spec {
        "@yearly" | "@annually" => spec_of(1, 1 << 1, 1 << 1, all(&DOW)),
        "@monthly" => spec_of(1, 1 << 1, all(&MONTHS), all(&DOW)),
        "@weekly" => spec_of(1, all(&DOM), all(&MONTHS), 1),
        "@daily" | "@midnight" => spec_of(1, all(&DOM), all(&MONTHS), all(&DOW)),
        "@hourly" => spec_of(all(&HOURS), all(&DOM), all(&MONTHS), all(&DOW)),
        _ => {
            let Some(d) = spec.strip_prefix("@every ") else {
                return Err(ParseError::Descriptor(spec.to_string()));
            };
            let ns = go_duration(d).ok_or_else(|| ParseError::Duration(d.to_string()))?;
            // robfig's `Every`: at least a second, truncated to whole seconds.
            Kind::Every((ns.max(1_000_000_000) / 1_000_000_000) as i64)
        }
    })
}

/// A comma list of ranges; empty items are skipped.
fn field(text: &str, b: &Bounds) -> Result<u64, ParseError> {
    let mut out = 0;
    for expr in text.split(',').filter(|e| !e.is_empty()) {
        out |= range(expr, b)?;
    }
    Ok(out)
}

/// `*`, `?`, `N` or `N-M`, with an optional `/step`.
fn range(expr: &str, b: &Bounds) -> Result<u64, ParseError> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end, mut extra) = if low_high[0] == "*" || low_high[0] == "?" {
        (b.min, b.max, STAR)
    } else {
        let start = int_or_name(low_high[0], b)?;
        let end = match low_high[..] {
            [_] => start,
            [_, high] => int_or_name(high, b)?,
            _ => return Err(ParseError::Hyphens(expr.to_string())),
        };
        (start, end, 0)
    };
    let step = match range_and_step[..] {
        [_] => 1,
        [_, step] => {
            let step = int(step)?;
            if single {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(ParseError::Slashes(expr.to_string())),
    };
    let out_of_range = |value| ParseError::OutOfRange {
        value,
        min: b.min,
        max: b.max,
        expr: expr.to_string(),
    };
    if start < b.min {
        return Err(out_of_range(start));
    }
    if end > b.max {
        return Err(out_of_range(end));
    }
    if start > end {
        return Err(ParseError::Reversed(expr.to_string()));
    }
    if step == 0 {
        return Err(ParseError::ZeroStep(expr.to_string()));
    }
    Ok(bits(start, end, step) | extra)
}

fn bits(min: u32, max: u32, step: u32) -> u64 {
    (min..=max)
        .step_by(step as usize)
        .fold(0, |acc, v| acc | 1 << v)
}

fn int_or_name(text: &str, b: &Bounds) -> Result<u32, ParseError> {
    let lower = text.to_ascii_lowercase();
    match b.names.iter().position(|n| *n == lower) {
        Some(i) => Ok(b.first_name + i as u32),
        None => int(text),
    }
}

/// Go's `strconv.Atoi` for a non-negative number (a leading `+` is accepted).
fn int(text: &str) -> Result<u32, ParseError> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ParseError::Number(text.to_string()));
    }
    // Values past the field maxima are rejected by the range check; saturate instead of
    // failing so that error names the bound.
    Ok(digits
        .parse::<u64>()
        .map_or(u32::MAX, |v| v.min(u64::from(u32::MAX)) as u32))
}

/// Go's `time.ParseDuration` in nanoseconds (negative durations clamp to 0, which
/// `@every` raises to a second anyway); `None` when malformed or out of range.
fn go_duration(text: &str) -> Option<u64> {
    const LIMIT: u64 = 1 << 63;
    let (neg, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s.starts_with('.') || s.starts_with(|c: char| c.is_ascii_digit())) {
            return None;
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for c in s[..int_len].bytes() {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            if v > LIMIT {
                return None;
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut frac_len) = (0u64, 1f64, 0);
        if let Some(rest) = s.strip_prefix('.') {
            frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in rest[..frac_len].bytes() {
                if overflow || frac > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                frac = frac * 10 + u64::from(c - b'0');
                scale *= 10.0;
            }
            s = &rest[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return None;
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if frac > 0 {
            // Go computes the fraction in float64, as here.
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return None;
            }
        }
        total = total.checked_add(v).filter(|t| *t <= LIMIT)?;
    }
    if neg {
        return Some(0);
    }
    (total < LIMIT).then_some(total)
}

#[cfg(test)]
mod tests;

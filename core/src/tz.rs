//! Time zones: IANA zones read from the system's zoneinfo files (TZif, RFC 8536, with the
//! POSIX TZ rule of the footer for times past the last transition), and fixed offsets
//! written `+08:00`. The alerting templates and receivers format times in them; the
//! watcher evaluates CronJob schedules in them.
//!
//! Zones are looked up by name once: [`Zone::load`] keeps what it read (and what it could
//! not find) for the life of the process, so callers that resolve the same name on every
//! scrape or notification read no file after the first time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// Where zoneinfo files are looked for, after `$ZONEINFO` (Go's list).
const ZONE_DIRS: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/usr/lib/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/etc/zoneinfo",
];

/// How many names [`Zone::load`] remembers. The tz database has about 600; the bound only
/// matters when names come from outside (an alert label), and past it lookups still work,
/// they just read the file again.
const CACHE_LIMIT: usize = 4096;

/// Why a zone could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Starts like an offset (`+`, `-`) but is not `±HH[[:]MM]` within ±14:59.
    #[error("invalid UTC offset {0:?} (want ±HH:MM)")]
    Offset(String),
    /// Not a name the tz database could have (empty parts, `..`, odd characters).
    #[error("unknown time zone {0:?}")]
    Invalid(String),
    /// No zoneinfo file of that name in any of the directories.
    #[error("unknown time zone {0:?} (no zoneinfo file in $ZONEINFO or {dir}; install tzdata or use an offset like +08:00)", dir = ZONE_DIRS[0])]
    NotFound(String),
    /// The zoneinfo file is not valid TZif.
    #[error("time zone {name:?}: {}: {reason}", .path.display())]
    Tzif {
        /// The zone's name.
        name: String,
        /// The file read.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// A time zone: its name and the UTC offset and abbreviation at any instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    name: String,
    rules: Rules,
}

#[derive(Debug, Clone, PartialEq)]
enum Rules {
    /// A fixed offset (seconds east of UTC) and its abbreviation ("" prints as `+0800`).
    Fixed(i32, String),
    Tzif(Tzif),
}

/// One local time type of a TZif file.
#[derive(Debug, Clone, PartialEq)]
struct LocalType {
    offset: i32,
    abbrev: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Tzif {
    /// Transition instants (Unix seconds), ascending.
    times: Vec<i64>,
    /// The local type index in effect from each transition.
    idx: Vec<u8>,
    types: Vec<LocalType>,
    /// The POSIX TZ rule for instants after the last transition.
    footer: Option<Posix>,
}

impl Zone {
    /// UTC.
    pub fn utc() -> Arc<Zone> {
        static UTC: OnceLock<Arc<Zone>> = OnceLock::new();
        UTC.get_or_init(|| {
            Arc::new(Zone {
                name: "UTC".into(),
                rules: Rules::Fixed(0, "UTC".into()),
            })
        })
        .clone()
    }

    /// A zone by name: `UTC` (or empty), a fixed offset (`+08:00`, `-0530`, `+08`), or an
    /// IANA name (`Asia/Shanghai`) read from the zoneinfo directory. IANA names are read
    /// once: later calls with the same name return the same zone, or the same error,
    /// without touching the file system.
    pub fn load(name: &str) -> Result<Arc<Zone>, Error> {
        if name.is_empty() || name == "UTC" {
            return Ok(Zone::utc());
        }
        if let Some(off) = parse_fixed(name) {
            return Ok(Arc::new(Zone {
                name: name.to_string(),
                rules: Rules::Fixed(off?, String::new()),
            }));
        }
        type Cache = Mutex<HashMap<String, Result<Arc<Zone>, Error>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(z) = cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return z;
        }
        let z = load_iana(name).map(Arc::new);
        if let Ok(mut c) = cache.lock() {
            if c.len() < CACHE_LIMIT {
                c.insert(name.to_string(), z.clone());
            }
        }
        z
    }

    /// The name it was loaded by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset (seconds east of UTC) and abbreviation at Unix time `secs`.
    pub fn offset_at(&self, secs: i64) -> (i32, &str) {
        match &self.rules {
            Rules::Fixed(off, abbr) => (*off, abbr),
            Rules::Tzif(t) => t.lookup(secs),
        }
    }
}

/// `Some(Ok(seconds))` for `±HH[[:]MM]`, `Some(Err)` when it starts like one but is bad,
/// `None` when it is no offset at all.
fn parse_fixed(s: &str) -> Option<Result<i32, Error>> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = s[1..].replacen(':', "", 1);
    let bad = || Err(Error::Offset(s.to_string()));
    if !(rest.len() == 2 || rest.len() == 4) || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Some(bad());
    }
    let h: i32 = rest[..2].parse().unwrap_or(99);
    let m: i32 = if rest.len() == 4 {
        rest[2..].parse().unwrap_or(99)
    } else {
        0
    };
    if h > 14 || m > 59 {
        return Some(bad());
    }
    Some(Ok(sign * (h * 3600 + m * 60)))
}

fn load_iana(name: &str) -> Result<Zone, Error> {
    let valid = name.split('/').all(|part| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
    });
    if !valid {
        return Err(Error::Invalid(name.to_string()));
    }
    let mut dirs: Vec<String> = Vec::new();
    if let Ok(d) = std::env::var("ZONEINFO") {
        if !d.is_empty() {
            dirs.push(d);
        }
    }
    dirs.extend(ZONE_DIRS.iter().map(|d| d.to_string()));
    for d in &dirs {
        let path = std::path::Path::new(d).join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            let t = parse_tzif(&bytes).map_err(|reason| Error::Tzif {
                name: name.to_string(),
                path,
                reason,
            })?;
            return Ok(Zone {
                name: name.to_string(),
                rules: Rules::Tzif(t),
            });
        }
    }
    Err(Error::NotFound(name.to_string()))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
        let Some(end) = end else {
            return Err("truncated TZif data".into());
        };
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// Parses a TZif file (versions 1 to 4).
fn parse_tzif(b: &[u8]) -> Result<Tzif, String> {
    let mut r = Reader { b, pos: 0 };
    let header = |r: &mut Reader| -> Result<(u8, [usize; 6]), String> {
        if r.take(4)? != b"TZif" {
            return Err("not a TZif file".into());
        }
        let version = r.take(1)?[0];
        r.take(15)?;
        let mut counts = [0usize; 6];
        for c in &mut counts {
            *c = r.u32()? as usize;
        }
        Ok((version, counts))
    };
    let (version, mut counts) = header(&mut r)?;
    let v1 = version == 0;
    if !v1 {
        // Skip the version 1 block: the 64-bit block that follows has the full data.
        let [isut, isstd, leap, time, typ, chars] = counts;
        r.take(time * 5 + typ * 6 + chars + leap * 8 + isstd + isut)?;
        counts = header(&mut r)?.1;
    }
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts;
    let tsize = if v1 { 4 } else { 8 };
    let mut times = Vec::with_capacity(timecnt);
    for _ in 0..timecnt {
        let s = r.take(tsize)?;
        times.push(if v1 {
            i64::from(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        } else {
            i64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
        });
    }
    let idx = r.take(timecnt)?.to_vec();
    let mut raw_types = Vec::with_capacity(typecnt);
    for _ in 0..typecnt {
        let s = r.take(6)?;
        raw_types.push((i32::from_be_bytes([s[0], s[1], s[2], s[3]]), s[5] as usize));
    }
    let chars = r.take(charcnt)?;
    r.take(leap * (tsize + 4) + isstd + isut)?;
    if typecnt == 0 || idx.iter().any(|&i| i as usize >= typecnt) {
        return Err("invalid local time type".into());
    }
    let types = raw_types
        .into_iter()
        .map(|(offset, ai)| {
            let rest = chars.get(ai..).unwrap_or_default();
            let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
            LocalType {
                offset,
                abbrev: String::from_utf8_lossy(&rest[..end]).into_owned(),
            }
        })
        .collect();
    let footer = if v1 {
        None
    } else {
        let rest = &b[r.pos..];
        let text = String::from_utf8_lossy(rest);
        let tz = text.trim_matches('\n');
        if tz.is_empty() {
            None
        } else {
            Some(Posix::parse(tz).ok_or_else(|| format!("invalid TZ rule {tz:?}"))?)
        }
    };
    Ok(Tzif {
        times,
        idx,
        types,
        footer,
    })
}

impl Tzif {
    fn lookup(&self, secs: i64) -> (i32, &str) {
        let ty = |i: usize| {
            let t = &self.types[i];
            (t.offset, t.abbrev.as_str())
        };
        match self.times.binary_search(&secs) {
            Err(0) => ty(0),
            Ok(i) => ty(self.idx[i] as usize),
            Err(i) if i == self.times.len() => match &self.footer {
                Some(p) => p.lookup(secs),
                None => ty(self.idx[i - 1] as usize),
            },
            Err(i) => ty(self.idx[i - 1] as usize),
        }
    }
}

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`).
#[derive(Debug, Clone, PartialEq)]
struct Posix {
    std: LocalType,
    dst: Option<(LocalType, Rule, i32, Rule, i32)>,
}

/// The day a DST change happens.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// `Jn`: day 1..365, February 29th never counted.
    Julian(i32),
    /// `n`: day 0..365, leap days counted.
    Day(i32),
    /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month(i32, i32, i32),
}

impl Posix {
    fn parse(s: &str) -> Option<Posix> {
        let mut p = s.as_bytes();
        let std_name = take_name(&mut p)?;
        let std_off = -take_offset(&mut p)?;
        let std = LocalType {
            offset: std_off,
            abbrev: std_name,
        };
        if p.is_empty() {
            return Some(Posix { std, dst: None });
        }
        let dst_name = take_name(&mut p)?;
        let dst_off = if p.first().is_some_and(|c| *c != b',') {
            -take_offset(&mut p)?
        } else {
            std_off + 3600
        };
        // Without rules the US rules of 2007 apply.
        let (r1, t1, r2, t2) = if p.is_empty() {
            (Rule::Month(3, 2, 0), 7200, Rule::Month(11, 1, 0), 7200)
        } else {
            p = p.strip_prefix(b",")?;
            let (r1, t1) = take_rule(&mut p)?;
            p = p.strip_prefix(b",")?;
            let (r2, t2) = take_rule(&mut p)?;
            (r1, t1, r2, t2)
        };
        if !p.is_empty() {
            return None;
        }
        Some(Posix {
            std,
            dst: Some((
                LocalType {
                    offset: dst_off,
                    abbrev: dst_name,
                },
                r1,
                t1,
                r2,
                t2,
            )),
        })
    }

    fn lookup(&self, secs: i64) -> (i32, &str) {
        let Some((dst, r1, t1, r2, t2)) = &self.dst else {
            return (self.std.offset, &self.std.abbrev);
        };
        let year = civil_from_days((secs + i64::from(self.std.offset)).div_euclid(86400)).0;
        // Rule times are local: the start in standard time, the end in daylight time.
        let start = rule_day(year, *r1) * 86400 + i64::from(*t1) - i64::from(self.std.offset);
        let end = rule_day(year, *r2) * 86400 + i64::from(*t2) - i64::from(dst.offset);
        let in_dst = if start < end {
            secs >= start && secs < end
        } else {
            !(secs >= end && secs < start)
        };
        if in_dst {
            (dst.offset, &dst.abbrev)
        } else {
            (self.std.offset, &self.std.abbrev)
        }
    }
}

fn take_name(p: &mut &[u8]) -> Option<String> {
    let (name, rest) = if let Some(r) = p.strip_prefix(b"<") {
        let end = r.iter().position(|&c| c == b'>')?;
        (&r[..end], &r[end + 1..])
    } else {
        let end = p
            .iter()
            .position(|c| !c.is_ascii_alphabetic())
            .unwrap_or(p.len());
        (&p[..end], &p[end..])
    };
    if name.len() < 3 && !p.starts_with(b"<") {
        return None;
    }
    *p = rest;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// `[+-]hh[:mm[:ss]]` as seconds (hours up to 167 for rule times).
fn take_offset(p: &mut &[u8]) -> Option<i32> {
    let mut sign = 1;
    if let Some(&c) = p.first() {
        if c == b'+' || c == b'-' {
            if c == b'-' {
                sign = -1;
            }
            *p = &p[1..];
        }
    }
    let mut total = 0;
    for (i, mult) in [3600, 60, 1].into_iter().enumerate() {
        if i > 0 {
            match p.strip_prefix(b":") {
                Some(r) => *p = r,
                None => break,
            }
        }
        let n = p.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 3 {
            return None;
        }
        let v: i32 = std::str::from_utf8(&p[..n]).ok()?.parse().ok()?;
        *p = &p[n..];
        total += v * mult;
    }
    Some(sign * total)
}

fn take_num(p: &mut &[u8]) -> Option<i32> {
    let n = p.iter().take_while(|c| c.is_ascii_digit()).count();
    let v = std::str::from_utf8(&p[..n]).ok()?.parse().ok()?;
    *p = &p[n..];
    Some(v)
}

fn take_rule(p: &mut &[u8]) -> Option<(Rule, i32)> {
    let rule = match p.first()? {
        b'J' => {
            *p = &p[1..];
            Rule::Julian(take_num(p)?)
        }
        b'M' => {
            *p = &p[1..];
            let m = take_num(p)?;
            *p = p.strip_prefix(b".")?;
            let w = take_num(p)?;
            *p = p.strip_prefix(b".")?;
            let d = take_num(p)?;
            if !(1..=12).contains(&m) || !(1..=5).contains(&w) || d > 6 {
                return None;
            }
            Rule::Month(m, w, d)
        }
        _ => Rule::Day(take_num(p)?),
    };
    let time = match p.strip_prefix(b"/") {
        Some(r) => {
            *p = r;
            take_offset(p)?
        }
        None => 7200,
    };
    Some((rule, time))
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days since 1970-01-01 of the day a rule names in `year`.
fn rule_day(year: i64, r: Rule) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    match r {
        Rule::Julian(n) => {
            let n = i64::from(n);
            jan1 + n - 1 + i64::from(is_leap(year) && n >= 60)
        }
        Rule::Day(n) => jan1 + i64::from(n),
        Rule::Month(m, w, d) => {
            let first = days_from_civil(year, m as u32, 1);
            let wd_first = (first + 4).rem_euclid(7);
            let mut day = (i64::from(d) - wd_first).rem_euclid(7) + 7 * (i64::from(w) - 1);
            let len = days_in_month(year, m as u32);
            while day >= len {
                day -= 7;
            }
            first + day
        }
    }
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

pub use crate::time::{civil_from_days, days_from_civil};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets() {
        let z = Zone::load("+08:00").expect("zone");
        assert_eq!(z.offset_at(0), (8 * 3600, ""));
        assert_eq!(Zone::load("-0530").expect("zone").offset_at(0).0, -19800);
        assert_eq!(Zone::load("UTC").expect("zone").offset_at(5), (0, "UTC"));
        assert!(Zone::load("+25:00").is_err());
        assert!(Zone::load("+8").is_err());
        assert!(Zone::load("Mars/Olympus").is_err());
        assert!(Zone::load("../etc/passwd").is_err());
        assert_eq!(
            Zone::load("+8").expect_err("bad offset").to_string(),
            "invalid UTC offset \"+8\" (want ±HH:MM)"
        );
        assert!(Zone::load("Mars/Olympus")
            .expect_err("no such zone")
            .to_string()
            .starts_with("unknown time zone \"Mars/Olympus\" (no zoneinfo file"));
    }

    /// A TZif version 1 file with no transitions and one local type: UTC+1, `ARG`.
    fn one_type_tzif() -> Vec<u8> {
        // Magic, version 1 (a zero byte), 15 reserved bytes; then the isut, isstd, leap,
        // time, type and char counts.
        let mut b = b"TZif".to_vec();
        b.extend([0u8; 16]);
        for n in [0u32, 0, 0, 0, 1, 4] {
            b.extend(n.to_be_bytes());
        }
        b.extend(3600i32.to_be_bytes());
        b.extend([0, 0]); // not DST, abbreviation at 0
        b.extend(b"ARG\0");
        b
    }

    /// A zone is read from its file once: removing the file afterwards changes nothing,
    /// and neither does creating one for a name that was not found.
    #[test]
    fn zones_are_read_once_per_name() {
        let dir = std::env::temp_dir().join(format!("argus-tz-{}", std::process::id()));
        let area = dir.join("Argus");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&area).expect("mkdir");
        // Only this test loads `Argus/…` names; other tests fall through to the system.
        std::env::set_var("ZONEINFO", &dir);
        std::fs::write(area.join("Cached"), one_type_tzif()).expect("write zone");
        let first = Zone::load("Argus/Cached").expect("zone");
        assert_eq!(first.offset_at(0), (3600, "ARG"));
        std::fs::remove_file(area.join("Cached")).expect("remove zone");
        let again = Zone::load("Argus/Cached").expect("cached zone");
        assert!(Arc::ptr_eq(&first, &again));

        let missing = Zone::load("Argus/Later").expect_err("no file yet");
        assert_eq!(missing, Error::NotFound("Argus/Later".into()));
        std::fs::write(area.join("Later"), one_type_tzif()).expect("write zone");
        assert_eq!(Zone::load("Argus/Later"), Err(missing));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn posix_rules() {
        let p = Posix::parse("CET-1CEST,M3.5.0,M10.5.0/3").expect("rule");
        // 2024-03-31 01:00 UTC is the change to summer time.
        let change = days_from_civil(2024, 3, 31) * 86400 + 3600;
        assert_eq!(p.lookup(change - 1), (3600, "CET"));
        assert_eq!(p.lookup(change), (7200, "CEST"));
        // 2024-10-27 01:00 UTC back to winter time.
        let back = days_from_civil(2024, 10, 27) * 86400 + 3600;
        assert_eq!(p.lookup(back - 1), (7200, "CEST"));
        assert_eq!(p.lookup(back), (3600, "CET"));
        // Southern hemisphere: Sydney, DST from October to April.
        let s = Posix::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").expect("rule");
        assert_eq!(s.lookup(days_from_civil(2024, 1, 15) * 86400).0, 39600);
        assert_eq!(s.lookup(days_from_civil(2024, 7, 15) * 86400).0, 36000);
        let n = Posix::parse("<+0545>-5:45").expect("rule");
        assert_eq!(n.lookup(0), (20700, "+0545"));
        assert!(Posix::parse("CST-8junk,").is_none());
    }

    #[test]
    fn civil_days_roundtrip() {
        for d in [-800_000i64, -1, 0, 59, 10_957, 19_782, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn system_zoneinfo_when_installed() {
        // Skipped where the system has no tzdata (minimal containers).
        if !std::path::Path::new("/usr/share/zoneinfo/Asia/Shanghai").exists() {
            return;
        }
        let sh = Zone::load("Asia/Shanghai").expect("zone");
        assert_eq!(sh.offset_at(1_700_000_000), (28800, "CST"));
        let be = Zone::load("Europe/Berlin").expect("zone");
        assert_eq!(be.offset_at(1_700_000_000), (3600, "CET"));
        assert_eq!(be.offset_at(1_690_000_000), (7200, "CEST"));
        // Far past the last transition: the footer rule.
        assert_eq!(be.offset_at(4_102_444_800 + 180 * 86400), (7200, "CEST"));
    }
}

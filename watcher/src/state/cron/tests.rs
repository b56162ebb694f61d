use super::next::date;
use super::*;

/// `YYYY-MM-DDTHH:MM:SSZ` as Unix seconds.
fn ts(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().expect("fixture time");
    date(
        n(0..4),
        n(5..7),
        n(8..10),
        n(11..13),
        n(14..16),
        n(17..19),
        &FixedZone::UTC,
    )
}

fn next_utc(spec: &str, after: &str) -> Option<i64> {
    Schedule::parse(spec)
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
        .next(ts(after), &FixedZone::UTC)
}

#[test]
fn next_activation_in_utc() {
    let cases: &[(&str, &str, &str)] = &[
        // Steps from `*`; strictly after the given time.
        (
            "*/15 * * * *",
            "2025-06-01T10:07:30Z",
            "2025-06-01T10:15:00Z",
        ),
        (
            "*/15 * * * *",
            "2025-06-01T10:15:00Z",
            "2025-06-01T10:30:00Z",
        ),
        (
            "*/15 * * * *",
            "2025-06-01T23:59:59Z",
            "2025-06-02T00:00:00Z",
        ),
        // Weekdays at 9 (2025-06-06 is a Friday).
        (
            "0 9 * * 1-5",
            "2025-06-06T09:00:00Z",
            "2025-06-09T09:00:00Z",
        ),
        (
            "0 9 * * 1-5",
            "2025-06-07T08:00:00Z",
            "2025-06-09T09:00:00Z",
        ),
        (
            "0 9 * * 1-5",
            "2025-06-09T08:59:59Z",
            "2025-06-09T09:00:00Z",
        ),
        (
            "0 9 * * mon-FRI",
            "2025-06-06T09:00:00Z",
            "2025-06-09T09:00:00Z",
        ),
        // Macros (2025-06-01 is a Sunday).
        ("@hourly", "2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"),
        ("@daily", "2025-06-01T10:00:00Z", "2025-06-02T00:00:00Z"),
        ("@midnight", "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"),
        ("@weekly", "2025-06-01T00:00:00Z", "2025-06-08T00:00:00Z"),
        ("@monthly", "2025-01-31T12:00:00Z", "2025-02-01T00:00:00Z"),
        ("@yearly", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("@annually", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z"),
        // Day of month OR day of week when both are restricted: the 1st or a Monday.
        ("0 0 1 * 1", "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"),
        ("0 0 1 * 1", "2025-06-28T00:00:00Z", "2025-06-30T00:00:00Z"),
        ("0 0 1 * 1", "2025-06-30T00:00:00Z", "2025-07-01T00:00:00Z"),
        // A star (or `?`) on either makes it AND: the 1st only, Mondays only.
        ("0 0 1 * *", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"),
        ("0 0 * * 1", "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"),
        ("0 0 1 * ?", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"),
        // `*/10` is not a star (step above 1): the 1st, 11th, 21st, 31st OR Mondays …
        (
            "0 0 */10 * 1",
            "2025-06-01T00:00:00Z",
            "2025-06-02T00:00:00Z",
        ),
        // … while `*/1` still is: Mondays that are also any day.
        (
            "0 0 */1 * 1",
            "2025-06-03T00:00:00Z",
            "2025-06-09T00:00:00Z",
        ),
        // Feb 29 only in leap years; Feb 30 never (within robfig's five years).
        ("0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 29 2 *", "2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"),
        // Names in any case, lists and ranges (2025-07-01 is a Tuesday).
        (
            "30 4 * jan,JUL sun-tue",
            "2025-06-01T00:00:00Z",
            "2025-07-01T04:30:00Z",
        ),
        (
            "5-20/5 */6 * * *",
            "2025-06-01T06:20:00Z",
            "2025-06-01T12:05:00Z",
        ),
        (
            "10/20 * * * *",
            "2025-06-01T10:31:00Z",
            "2025-06-01T10:50:00Z",
        ),
        (
            "0,30 8,20 * * *",
            "2025-06-01T08:30:00Z",
            "2025-06-01T20:00:00Z",
        ),
        ("0 0 31 * *", "2025-05-31T00:00:00Z", "2025-07-31T00:00:00Z"),
        // `+5` is a number to Go's `strconv.Atoi`; empty list items are skipped.
        ("+5 * * * *", "2025-06-01T10:00:00Z", "2025-06-01T10:05:00Z"),
        (
            "1,,2 * * * *",
            "2025-06-01T10:01:00Z",
            "2025-06-01T10:02:00Z",
        ),
    ];
    for (spec, after, want) in cases {
        assert_eq!(
            next_utc(spec, after),
            Some(ts(want)),
            "{spec} after {after}"
        );
    }
    assert_eq!(next_utc("0 0 30 2 *", "2025-01-01T00:00:00Z"), None);
    assert_eq!(next_utc("0 0 31 4,6 *", "2025-01-01T00:00:00Z"), None);
}

#[test]
fn every_is_a_fixed_delay_in_whole_seconds() {
    let t = ts("2025-06-01T10:00:00Z");
    for (spec, delay) in [
        ("@every 1h30m", 5400),
        ("@every 90s", 90),
        ("@every 1.5s", 1),
        ("@every 500ms", 1),
        ("@every 0", 1),
        ("@every .5h", 1800),
        ("@every 0.3h", 1080),
        ("@every 2h45m30.5s", 9930),
    ] {
        let s = Schedule::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(s.next(t, &FixedZone::UTC), Some(t + delay), "{spec}");
    }
    for bad in ["@every 5", "@every", "@every  1h", "@every 1x", "@every ."] {
        assert!(Schedule::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn time_zone_prefix() {
    let s = Schedule::parse("CRON_TZ=Etc/GMT-2 0 9 * * *").expect("parses");
    assert_eq!(s.zone(), Some("Etc/GMT-2"));
    let zone = FixedZone::by_name("Etc/GMT-2").expect("fixed zone");
    assert_eq!(zone, FixedZone(7200));
    // 09:00 at UTC+2 is 07:00 UTC.
    assert_eq!(
        s.next(ts("2025-06-01T07:00:00Z"), &zone),
        Some(ts("2025-06-02T07:00:00Z"))
    );
    let s = Schedule::parse("TZ=UTC   @daily").expect("parses");
    assert_eq!(s.zone(), Some("UTC"));
    assert_eq!(Schedule::parse("0 * * * *").expect("parses").zone(), None);
    assert_eq!(FixedZone::by_name("Etc/GMT+5"), Some(FixedZone(-5 * 3600)));
    assert_eq!(FixedZone::by_name("Etc/Zulu"), Some(FixedZone::UTC));
    for other in [
        "Europe/Berlin",
        "Etc/GMT+13",
        "Etc/GMT-15",
        "Etc/GMT+05",
        "utc",
    ] {
        assert_eq!(FixedZone::by_name(other), None, "{other}");
    }
}

#[test]
fn malformed_schedules_are_errors() {
    for bad in [
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 7",
        "5-1 * * * *",
        "*/0 * * * *",
        "1-2-3 * * * *",
        "1/2/3 * * * *",
        "x * * * *",
        "-1 * * * *",
        "* * * * monday",
        "@fortnightly",
        "@daily ",
        "CRON_TZ=UTC",
    ] {
        assert!(Schedule::parse(bad).is_err(), "{bad:?} parsed");
    }
    let e = Schedule::parse("* * * * 7").expect_err("dow 7");
    assert_eq!(e.to_string(), "7 out of range 0-6 in \"7\"");
}

/// Offsets that change at given instants (a stand-in for a zoneinfo file).
struct Transitions {
    initial: i32,
    changes: Vec<(i64, i32)>,
}

impl Zone for Transitions {
    fn offset_at(&self, unix: i64) -> i32 {
        self.changes
            .iter()
            .rev()
            .find(|(at, _)| unix >= *at)
            .map_or(self.initial, |(_, off)| *off)
    }
}

/// Central European time in 2025: UTC+1, UTC+2 from 03-30 01:00Z to 10-26 01:00Z.
fn berlin_2025() -> Transitions {
    Transitions {
        initial: 3600,
        changes: vec![
            (ts("2025-03-30T01:00:00Z"), 7200),
            (ts("2025-10-26T01:00:00Z"), 3600),
        ],
    }
}

#[test]
fn daylight_saving_as_robfig() {
    let zone = berlin_2025();
    let s = Schedule::parse("30 2 * * *").expect("parses");
    let next = |after: &str| s.next(ts(after), &zone);
    // Ordinary days: 02:30 local.
    assert_eq!(
        next("2025-03-28T01:30:00Z"),
        Some(ts("2025-03-29T01:30:00Z"))
    );
    // 02:30 does not exist on 03-30: that day is skipped.
    assert_eq!(
        next("2025-03-29T01:30:00Z"),
        Some(ts("2025-03-31T00:30:00Z"))
    );
    // 02:30 happens twice on 10-26, and both fire.
    assert_eq!(
        next("2025-10-25T00:30:00Z"),
        Some(ts("2025-10-26T00:30:00Z"))
    );
    assert_eq!(
        next("2025-10-26T00:30:00Z"),
        Some(ts("2025-10-26T01:30:00Z"))
    );
    assert_eq!(
        next("2025-10-26T01:30:00Z"),
        Some(ts("2025-10-27T01:30:00Z"))
    );
}

#[test]
fn missing_midnight_as_go_date() {
    // São Paulo 2018: 11-04 00:00 local became 01:00 (UTC-3 to UTC-2 at 03:00Z).
    let zone = Transitions {
        initial: -3 * 3600,
        changes: vec![(ts("2018-11-04T03:00:00Z"), -2 * 3600)],
    };
    // Go's Date picks 23:00 of the day before for the missing midnight …
    assert_eq!(
        date(2018, 11, 4, 0, 0, 0, &zone),
        ts("2018-11-04T02:00:00Z")
    );
    // … which robfig's day walk moves on to 01:00.
    let s = Schedule::parse("0 1 4 11 *").expect("parses");
    assert_eq!(
        s.next(ts("2018-11-01T00:00:00Z"), &zone),
        Some(ts("2018-11-04T03:00:00Z"))
    );
}

#[test]
fn go_date_normalizes() {
    let utc = &FixedZone::UTC;
    assert_eq!(date(2025, 13, 1, 0, 0, 0, utc), ts("2026-01-01T00:00:00Z"));
    assert_eq!(date(2025, 2, 29, 0, 0, 0, utc), ts("2025-03-01T00:00:00Z"));
    assert_eq!(date(2024, 2, 29, 0, 0, 0, utc), ts("2024-02-29T00:00:00Z"));
    assert_eq!(date(1970, 1, 1, 0, 0, 0, utc), 0);
    assert_eq!(date(1969, 12, 31, 23, 59, 59, utc), -1);
}

/// Whether the system has the zoneinfo files the zone tests read (minimal containers
/// have none; there those tests only check that the zone is refused).
fn have_tzdata() -> bool {
    std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists()
        && std::path::Path::new("/usr/share/zoneinfo/America/New_York").exists()
}

fn next_in(spec: &str, zone: &str, after: &str) -> Option<i64> {
    let zone = NamedZone::load(zone).unwrap_or_else(|e| panic!("{zone}: {e}"));
    Schedule::parse(spec)
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
        .next(ts(after), &zone)
}

#[test]
fn zone_names_as_go_loads_them() {
    let fixed = |name: &str| match NamedZone::load(name) {
        Ok(NamedZone::Fixed(z)) => Some(z),
        _ => None,
    };
    assert_eq!(fixed("Etc/GMT-2"), Some(FixedZone(7200)));
    assert_eq!(fixed("Local"), Some(FixedZone::UTC));
    assert_eq!(fixed(""), Some(FixedZone::UTC));
    // Go reads an offset as a file name, and finds none.
    for bad in ["+08:00", "-05", "Mars/Olympus", "../etc/passwd"] {
        assert!(NamedZone::load(bad).is_err(), "{bad}");
    }
    if !have_tzdata() {
        assert!(NamedZone::load("Europe/Berlin").is_err());
        return;
    }
    // Read once: the second load is the same zone, not a second read.
    let (Ok(NamedZone::Tzif(a)), Ok(NamedZone::Tzif(b))) = (
        NamedZone::load("Europe/Berlin"),
        NamedZone::load("Europe/Berlin"),
    ) else {
        panic!("Europe/Berlin is a zoneinfo zone");
    };
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}

/// `30 2 * * *` in Europe/Berlin around 2026's changes. 02:30 does not exist on 03-29
/// (02:00 CET is 03:00 CEST, at 01:00Z): robfig skips that day. It exists twice on 10-25
/// (03:00 CEST is 02:00 CET again, at 01:00Z): robfig runs at both.
/// Expected instants from Python's zoneinfo, e.g. `python3 -c 'from datetime import
/// datetime as d; from zoneinfo import ZoneInfo as Z; print(d(2026,10,25,2,30,
/// tzinfo=Z("Europe/Berlin"),fold=1).timestamp())'` (fold=0 is the first 02:30, in
/// CEST), and checked with `TZ=Europe/Berlin date -d @1774830600`.
#[test]
fn europe_berlin_across_daylight_saving() {
    if !have_tzdata() {
        eprintln!("no tzdata installed: skipped");
        return;
    }
    let cases = [
        // 02:30 CET, an ordinary day.
        ("2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z"),
        // 03-29 02:30 is in the gap: next is 03-30 02:30 CEST.
        ("2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"),
        ("2026-03-29T00:00:00Z", "2026-03-30T00:30:00Z"),
        // 10-25: 02:30 CEST, then 02:30 CET an hour later, then 10-26 02:30 CET.
        ("2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"),
        ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"),
        ("2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"),
    ];
    for (after, want) in cases {
        assert_eq!(
            next_in("30 2 * * *", "Europe/Berlin", after),
            Some(ts(want)),
            "after {after}"
        );
    }
    // The same through the prefix KSM writes for `spec.timeZone`.
    let s = Schedule::parse("CRON_TZ=Europe/Berlin 30 2 * * *").expect("parses");
    let zone = NamedZone::load(s.zone().expect("zone")).expect("loads");
    assert_eq!(
        s.next(ts("2026-03-28T01:30:00Z"), &zone),
        Some(ts("2026-03-30T00:30:00Z"))
    );
}

/// `0 9 * * 1-5` in America/New_York over 2026's changes (03-08 and 11-01, both
/// Sundays): Friday 09:00 to Monday 09:00 is 71 hours in March and 73 in November.
/// Expected instants from Python's zoneinfo (`datetime(2026,3,9,9,
/// tzinfo=ZoneInfo("America/New_York")).timestamp()`), checked with
/// `TZ=America/New_York date -d @1773061200`.
#[test]
fn america_new_york_weekdays_across_daylight_saving() {
    if !have_tzdata() {
        eprintln!("no tzdata installed: skipped");
        return;
    }
    let cases = [
        // Fri 03-06 09:00 EST → Mon 03-09 09:00 EDT.
        ("2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z"),
        ("2026-03-08T12:00:00Z", "2026-03-09T13:00:00Z"),
        // Fri 10-30 09:00 EDT → Mon 11-02 09:00 EST.
        ("2026-10-30T13:00:00Z", "2026-11-02T14:00:00Z"),
        // Tue 11-03 08:59 EST → 09:00 the same day.
        ("2026-11-03T13:59:00Z", "2026-11-03T14:00:00Z"),
    ];
    for (after, want) in cases {
        assert_eq!(
            next_in("0 9 * * 1-5", "America/New_York", after),
            Some(ts(want)),
            "after {after}"
        );
    }
}

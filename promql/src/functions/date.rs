//! Calendar functions (`year`, `month`, `day_of_month`, ...) on Unix seconds, in UTC.

/// The function for `name`, from Unix seconds to its value.
pub(super) fn function(name: &str) -> fn(i64) -> f64 {
    match name {
        "year" => |t| civil(t).0 as f64,
        "month" => |t| civil(t).1 as f64,
        "day_of_month" => |t| civil(t).2 as f64,
        "day_of_week" => |t| (days(t) + 4).rem_euclid(7) as f64,
        "day_of_year" => |t| {
            let (y, m, d) = civil(t);
            (days_from_civil(y, m, d) - days_from_civil(y, 1, 1) + 1) as f64
        },
        "days_in_month" => |t| {
            let (y, m, _) = civil(t);
            days_in_month(y, m) as f64
        },
        "hour" => |t| (t.rem_euclid(86_400) / 3600) as f64,
        _ => |t| (t.rem_euclid(3600) / 60) as f64, // minute
    }
}

fn days(t: i64) -> i128 {
    i128::from(t.div_euclid(86_400))
}

/// (year, month 1-12, day 1-31) of a Unix time (proleptic Gregorian calendar).
fn civil(t: i64) -> (i128, i128, i128) {
    let z = days(t) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i128, m: i128) -> i128 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let t = 1_709_214_300;
        assert_eq!(function("year")(t), 2024.0);
        assert_eq!(function("month")(t), 2.0);
        assert_eq!(function("day_of_month")(t), 29.0);
        assert_eq!(function("day_of_week")(t), 4.0);
        assert_eq!(function("day_of_year")(t), 60.0);
        assert_eq!(function("days_in_month")(t), 29.0);
        assert_eq!(function("hour")(t), 13.0);
        assert_eq!(function("minute")(t), 45.0);
        // Before the epoch: 1969-12-31T23:59:59Z, a Wednesday.
        assert_eq!(function("year")(-1), 1969.0);
        assert_eq!(function("day_of_week")(-1), 3.0);
        assert_eq!(function("hour")(-1), 23.0);
    }
}

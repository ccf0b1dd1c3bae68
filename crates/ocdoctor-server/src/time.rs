//! Wall-clock times as the database stores them (Unix milliseconds, UTC) and as pages show
//! them; civil dates by Howard Hinnant's algorithms, so no time-zone database is needed.

use std::time::{SystemTime, UNIX_EPOCH};

pub const DAY_MS: i64 = 86_400_000;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Days since 1970-01-01 of a time.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `(year, month, day)` of a day number.
pub fn civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day number of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2024-05-01`
pub fn date(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2024-05-01T12:34:56Z`
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let tod = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(secs.div_euclid(86_400)),
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

/// A `since` filter: `YYYY-MM-DD` (UTC midnight), or `<n>d` / `<n>h` before `now`.
/// Returns Unix milliseconds, or `None` when the text is neither.
pub fn parse_since(text: &str, now: i64) -> Option<i64> {
    let text = text.trim();
    if let Some(n) = text.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        return (0..=36_500).contains(&n).then(|| now - n * DAY_MS);
    }
    if let Some(n) = text.strip_suffix('h').and_then(|n| n.parse::<i64>().ok()) {
        return (0..=876_000).contains(&n).then(|| now - n * 3_600_000);
    }
    let mut parts = text.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for day in [-1, 0, 1, 365, 10_957, 19_000, 20_000, 2_932_896] {
            let (y, m, d) = civil(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_since("2023-11-14", 0), Some(1_699_920_000_000));
        assert_eq!(parse_since("7d", 10 * DAY_MS), Some(3 * DAY_MS));
        assert_eq!(parse_since("yesterday", 0), None);
        assert_eq!(parse_since("2023-13-01", 0), None);
    }
}

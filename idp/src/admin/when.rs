//! Instants and durations as an operator writes them (issue #12: `idp audit search --since`,
//! `idp client rotate-secret --overlap 24h`, `registration-token --ttl 1h`).

use super::AdminError;

/// `2026-12-01` (UTC midnight), `2026-12-01T10:30:00Z` (UTC only), or Unix seconds.
pub fn parse_instant(raw: &str) -> Result<i64, AdminError> {
    let raw = raw.trim();
    let invalid =
        || AdminError::Invalid(format!("{raw:?} is not a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds)"));
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse().map_err(|_| invalid());
    }
    let (date, time) = match raw.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(invalid)?)),
        None => (raw, None),
    };
    let date = super::parse_birth_date(date).map_err(|_| invalid())?;
    let number = |s: &str| s.parse::<i64>().map_err(|_| invalid());
    let (y, m, d) = (number(&date[0..4])?, number(&date[5..7])?, number(&date[8..10])?);
    let seconds = match time {
        None => 0,
        Some(t) => {
            let parts: Vec<&str> = t.split(':').collect();
            let [h, min, s] = parts[..] else { return Err(invalid()) };
            if [h, min, s].iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
                return Err(invalid());
            }
            let (h, min, s) = (number(h)?, number(min)?, number(s)?);
            if h > 23 || min > 59 || s > 59 {
                return Err(invalid());
            }
            h * 3600 + min * 60 + s
        }
    };
    Ok(days_from_civil(y, m, d) * 86_400 + seconds)
}

/// `90`, `90s`, `15m`, `24h`, `7d`: seconds.
pub fn parse_duration(raw: &str) -> Result<i64, AdminError> {
    let raw = raw.trim();
    let invalid = || AdminError::Invalid(format!("{raw:?} is not a duration (e.g. 86400, 90s, 15m, 24h, 7d)"));
    let (digits, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => raw.split_at(i),
        None => (raw, ""),
    };
    let n: i64 = digits.parse().map_err(|_| invalid())?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    n.checked_mul(factor).filter(|v| *v <= crate::config::MAX_DURATION).ok_or_else(invalid)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, the inverse of
/// `clock::rfc3339`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_dates_utc_times_or_unix_seconds() {
        assert_eq!(parse_instant("1970-01-01").unwrap(), 0);
        assert_eq!(parse_instant("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000);
        assert_eq!(parse_instant("2000-02-29").unwrap(), 951_782_400);
        assert_eq!(parse_instant("1700000000").unwrap(), 1_700_000_000);
        for bad in
            ["2023-11-14T22:13:20", "2023-11-14T22:13:20+01:00", "2023-02-30", "yesterday", "", "2023-11-14T24:00:00Z"]
        {
            assert!(parse_instant(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn durations_take_an_optional_unit() {
        assert_eq!(parse_duration("86400").unwrap(), 86_400);
        assert_eq!(parse_duration("24h").unwrap(), 86_400);
        assert_eq!(parse_duration("15m").unwrap(), 900);
        assert_eq!(parse_duration("7d").unwrap(), 604_800);
        assert_eq!(parse_duration("0").unwrap(), 0);
        for bad in ["", "h", "-5", "1w", "1.5h", "99999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

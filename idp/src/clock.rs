//! Time is injected: flows take `now` from a `Clock`, only the edge reads the real one, so
//! expiry is testable without sleeping (STYLE.md §5).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, the only time unit stored anywhere.
pub type UnixTime = i64;

pub trait Clock: Send + Sync {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// A clock the tests move by hand; it starts at the real time so Redis TTLs stay sensible.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn starting_now() -> Self {
        Self(AtomicI64::new(SystemClock.now()))
    }
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::SeqCst)
    }
}

/// `2026-11-22T22:10:34Z`: for people reading the CLI's output (proleptic Gregorian calendar,
/// H. Hinnant's `civil_from_days`).
pub fn rfc3339(t: UnixTime) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The Unix time at the start (00:00 UTC) of the day `YYYY-MM-DD`; `None` for anything else,
/// including days that do not exist (`2026-02-30`). H. Hinnant's `days_from_civil`.
pub fn day_start(day: &str) -> Option<UnixTime> {
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num =
        |r: std::ops::Range<usize>| day.get(r).filter(|p| p.bytes().all(|c| c.is_ascii_digit()))?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let t = days * 86_400;
    // A day past the end of its month lands in the next one: not the day asked for.
    rfc3339(t).starts_with(day).then_some(t)
}

/// The portal's time zone (`time_zone`, issue #13, decision 0019): the times shown to people,
/// in pages and mails, are local times of this zone. Its rules come from the tz database
/// bundled in the binary (jiff), so summer time and future rule changes need no code here.
#[derive(Clone, Debug)]
pub struct LocalTimeZone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl LocalTimeZone {
    /// The zone the portals serve unless configured otherwise.
    pub const DEFAULT: &str = "Europe/Paris";

    /// An IANA zone name (`Europe/Paris`, `America/Cayenne`); `None` when the tz database has
    /// no such zone.
    pub fn parse(name: &str) -> Option<Self> {
        let tz = jiff::tz::db().get(name).ok()?;
        Some(Self { name: name.to_owned(), tz })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The place the zone is named after, as people say "Paris time": `Paris`, `New York`.
    pub fn city(&self) -> String {
        self.name.rsplit('/').next().unwrap_or(&self.name).replace('_', " ")
    }

    fn format(&self, t: UnixTime, pattern: &str) -> String {
        match jiff::Timestamp::from_second(t) {
            Ok(at) => at.to_zoned(self.tz.clone()).strftime(pattern).to_string(),
            // Out of jiff's range (years beyond ±9999): no stored time is.
            Err(_) => rfc3339(t),
        }
    }

    /// `YYYY-MM-DDTHH:MM`, local time (the fields the mails' patterns pick from).
    pub fn local_iso(&self, t: UnixTime) -> String {
        self.format(t, "%Y-%m-%dT%H:%M")
    }

    /// `HH:MM`, local time.
    pub fn time(&self, t: UnixTime) -> String {
        self.format(t, "%H:%M")
    }

    /// `DD/MM/YYYY HH:MM`, local time.
    pub fn date_time(&self, t: UnixTime) -> String {
        self.format(t, "%d/%m/%Y %H:%M")
    }

    /// `DD/MM/YYYY HH:MM CET`: local time with the zone's abbreviation, for tables.
    pub fn date_time_abbreviated(&self, t: UnixTime) -> String {
        self.format(t, "%d/%m/%Y %H:%M %Z")
    }
}

impl Default for LocalTimeZone {
    fn default() -> Self {
        // The bundled database always has it; UTC is only the compiler's fallback.
        Self::parse(Self::DEFAULT).unwrap_or(Self { name: Self::DEFAULT.to_owned(), tz: jiff::tz::TimeZone::UTC })
    }
}

#[cfg(test)]
mod tests {
    use super::LocalTimeZone;

    fn paris() -> LocalTimeZone {
        LocalTimeZone::parse("Europe/Paris").unwrap()
    }

    #[test]
    fn paris_times_follow_summer_time() {
        // 2026-01-15T12:00:00Z is 13:00 in Paris; 2026-07-15T12:00:00Z is 14:00.
        assert_eq!(paris().time(1_768_478_400), "13:00");
        assert_eq!(paris().time(1_784_116_800), "14:00");
        assert_eq!(paris().date_time(1_784_116_800), "15/07/2026 14:00");
    }

    #[test]
    fn paris_clocks_go_forward_at_01_00_utc_on_the_last_sunday_of_march() {
        // 2026-03-29T00:59:59Z is still winter time, 01:00:00Z already summer time.
        assert_eq!(paris().date_time_abbreviated(1_774_745_999), "29/03/2026 01:59 CET");
        assert_eq!(paris().date_time_abbreviated(1_774_746_000), "29/03/2026 03:00 CEST");
    }

    #[test]
    fn paris_clocks_go_back_at_01_00_utc_on_the_last_sunday_of_october() {
        // 2026-10-25T00:59:59Z is 02:59 summer time; one second later, 02:00 winter time.
        assert_eq!(paris().date_time_abbreviated(1_792_889_999), "25/10/2026 02:59 CEST");
        assert_eq!(paris().date_time_abbreviated(1_792_890_000), "25/10/2026 02:00 CET");
    }

    #[test]
    fn other_zones_have_their_own_rules() {
        // Cayenne has no summer time: UTC-3 all year.
        let cayenne = LocalTimeZone::parse("America/Cayenne").unwrap();
        assert_eq!(cayenne.time(1_784_116_800), "09:00");
        assert_eq!(cayenne.time(1_768_478_400), "09:00");
        assert_eq!(LocalTimeZone::parse("America/New_York").unwrap().city(), "New York");
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(LocalTimeZone::parse("Europe/Atlantis").is_none());
        assert!(LocalTimeZone::parse("").is_none());
        assert_eq!(LocalTimeZone::default().name(), "Europe/Paris");
    }

    #[test]
    fn day_start_reads_calendar_days_and_refuses_others() {
        assert_eq!(super::day_start("1970-01-01"), Some(0));
        assert_eq!(super::day_start("2000-02-29"), Some(951_782_400));
        assert_eq!(super::day_start("2026-02-30"), None);
        assert_eq!(super::day_start("2026-1-01"), None);
        assert_eq!(super::day_start("tomorrow"), None);
    }

    #[test]
    fn rfc3339_formats_unix_times_in_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}

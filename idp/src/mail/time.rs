//! Times in mails, in the portal's time zone and the mail's language (issue #13, item 12):
//! the contexts carry Unix times and the templates format them with the `time` and
//! `date_time` filters, whose patterns are catalog texts (`mail_time_format`: "14 h 35" in
//! French, "14:35" in English; `mail_date_time_format`).
//!
//! The portal's zone is Europe/Paris, computed here without a time-zone database (CET, CEST
//! from the last Sunday of March to the last Sunday of October, at 01:00 UTC both ways). A
//! configurable zone (a `time_zone` setting backed by a tz crate) replaces `portal_local`.

use std::collections::HashMap;

/// The portal's local time of `t`, as seconds since 1970-01-01 00:00 local.
pub fn portal_local(t: i64) -> i64 {
    let year = year_of(t);
    let summer = (last_sunday_01utc(year, 3)..last_sunday_01utc(year, 10)).contains(&t);
    t + if summer { 7200 } else { 3600 }
}

/// The fields a pattern may use: `{Y}`, `{m}`, `{d}` (two digits), `{H}`, `{M}` (two digits).
fn fill(pattern: &str, t: i64) -> String {
    let iso = crate::clock::rfc3339(portal_local(t));
    pattern
        .replace("{Y}", &iso[..4])
        .replace("{m}", &iso[5..7])
        .replace("{d}", &iso[8..10])
        .replace("{H}", &iso[11..13])
        .replace("{M}", &iso[14..16])
}

/// `{{ until | time(t=t) }}` and `{{ expires | date_time(t=t) }}`: the Unix time `value` in
/// the portal's zone, with the catalog's pattern (`mail_time_format`, `mail_date_time_format`).
pub(super) fn filter(
    pattern_key: &'static str,
) -> impl Fn(&tera::Value, &HashMap<String, tera::Value>) -> tera::Result<tera::Value> + Send + Sync {
    move |value, args| {
        let t = value.as_i64().ok_or_else(|| tera::Error::msg(format!("{pattern_key}: {value} is not a Unix time")))?;
        let pattern = args
            .get("t")
            .and_then(|t| t.get(pattern_key))
            .and_then(|p| p.as_str())
            .ok_or_else(|| tera::Error::msg(format!("{pattern_key}: missing t= or the catalog key")))?;
        Ok(tera::Value::String(fill(pattern, t)))
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn year_of(t: i64) -> i64 {
    crate::clock::rfc3339(t)[..4].parse().unwrap_or(1970)
}

/// The Unix time of 01:00 UTC on the last Sunday of `month` (March or October: 31 days).
fn last_sunday_01utc(year: i64, month: i64) -> i64 {
    let last = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: weekday 0 = Sunday is (days + 4) mod 7.
    let sunday = last - (last + 4).rem_euclid(7);
    sunday * 86_400 + 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_time_follows_paris_summer_time() {
        let hm = |t| fill("{H}:{M}", t);
        // 2026-01-15T12:00:00Z is 13:00 in Paris; 2026-07-15T12:00:00Z is 14:00.
        assert_eq!(hm(1_768_478_400), "13:00");
        assert_eq!(hm(1_784_116_800), "14:00");
        // 2026-03-29T00:59:59Z (winter) and 01:00:00Z (summer).
        assert_eq!(hm(1_774_745_999), "01:59");
        assert_eq!(hm(1_774_746_000), "03:00");
        // 2026-10-25T01:00:00Z: back to winter time.
        assert_eq!(hm(1_792_890_000), "02:00");
        assert_eq!(fill("{d}/{m}/{Y} {H}:{M}", 1_784_116_800), "15/07/2026 14:00");
    }

    #[test]
    fn the_filters_take_the_pattern_from_the_catalog() {
        let mut args = HashMap::new();
        args.insert("t".to_owned(), serde_json::json!({ "mail_time_format": "{H} h {M}" }));
        let time = filter("mail_time_format");
        assert_eq!(time(&tera::Value::from(1_784_116_800_i64), &args).unwrap(), tera::Value::from("14 h 00"));
        assert!(time(&tera::Value::from("soon"), &args).is_err());
        assert!(filter("mail_date_time_format")(&tera::Value::from(0), &args).is_err());
    }
}

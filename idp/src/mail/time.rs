//! Times in mails, in the portal's time zone and the mail's language (issue #13, item 12):
//! the contexts carry Unix times and the templates format them with the `time` and
//! `date_time` filters, whose patterns are catalog texts (`mail_time_format`: "14 h 35" in
//! French, "14:35" in English; `mail_date_time_format`).
//!
//! The portal's zone is the `time_zone` setting (`clock::LocalTimeZone`, jiff's bundled tz
//! database, decision 0019).

use std::collections::HashMap;

use crate::clock::LocalTimeZone;

/// The fields a pattern may use: `{Y}`, `{m}`, `{d}` (two digits), `{H}`, `{M}` (two digits).
fn fill(pattern: &str, t: i64, zone: &LocalTimeZone) -> String {
    let iso = zone.local_iso(t);
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
    zone: LocalTimeZone,
) -> impl Fn(&tera::Value, &HashMap<String, tera::Value>) -> tera::Result<tera::Value> + Send + Sync {
    move |value, args| {
        let t = value.as_i64().ok_or_else(|| tera::Error::msg(format!("{pattern_key}: {value} is not a Unix time")))?;
        let pattern = args
            .get("t")
            .and_then(|t| t.get(pattern_key))
            .and_then(|p| p.as_str())
            .ok_or_else(|| tera::Error::msg(format!("{pattern_key}: missing t= or the catalog key")))?;
        Ok(tera::Value::String(fill(pattern, t, &zone)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_time_follows_paris_summer_time() {
        let paris = LocalTimeZone::default();
        let hm = |t| fill("{H}:{M}", t, &paris);
        // 2026-01-15T12:00:00Z is 13:00 in Paris; 2026-07-15T12:00:00Z is 14:00.
        assert_eq!(hm(1_768_478_400), "13:00");
        assert_eq!(hm(1_784_116_800), "14:00");
        // 2026-03-29T00:59:59Z (winter) and 01:00:00Z (summer).
        assert_eq!(hm(1_774_745_999), "01:59");
        assert_eq!(hm(1_774_746_000), "03:00");
        // 2026-10-25T01:00:00Z: back to winter time.
        assert_eq!(hm(1_792_890_000), "02:00");
        assert_eq!(fill("{d}/{m}/{Y} {H}:{M}", 1_784_116_800, &paris), "15/07/2026 14:00");
        // Another portal's zone: 14:00 in Paris in July is 09:00 in Cayenne (UTC-3).
        let cayenne = LocalTimeZone::parse("America/Cayenne").unwrap();
        assert_eq!(fill("{H}:{M}", 1_784_116_800, &cayenne), "09:00");
    }

    #[test]
    fn the_filters_take_the_pattern_from_the_catalog() {
        let mut args = HashMap::new();
        args.insert("t".to_owned(), serde_json::json!({ "mail_time_format": "{H} h {M}" }));
        let time = filter("mail_time_format", LocalTimeZone::default());
        assert_eq!(time(&tera::Value::from(1_784_116_800_i64), &args).unwrap(), tera::Value::from("14 h 00"));
        assert!(time(&tera::Value::from("soon"), &args).is_err());
        assert!(filter("mail_date_time_format", LocalTimeZone::default())(&tera::Value::from(0), &args).is_err());
    }
}

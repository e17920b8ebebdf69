//! User-interface languages: French first, English second. Negotiated from `ui_locales`
//! (OpenID Connect Core §3.1.2.1), then `Accept-Language`, then French.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    #[serde(rename = "fr")]
    Fr,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// `fr`, `fr-FR`, `EN_gb` … ; anything else is not ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `ui_locales` is a space-separated list in order of preference.
    pub fn from_ui_locales(list: &str) -> Option<Lang> {
        list.split_whitespace().find_map(Lang::from_tag)
    }

    /// RFC 9110 §12.5.4, by quality then order; `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (index, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((bq, bi, _)) => q > bq || (q == bq && index < bi),
            };
            if better {
                best = Some((q, index, lang));
            }
        }
        best.map(|(_, _, lang)| lang)
    }

    /// The CLDR plural category of `n` in this language, as the catalogs name it: French says
    /// "0 essai restant" and "1 essai restant" (`one` covers 0 and 1), English "1 attempt left"
    /// but "0 attempts left".
    pub fn plural_category(self, n: u64) -> &'static str {
        match (self, n) {
            (Lang::Fr, 0 | 1) | (Lang::En, 1) => "one",
            _ => "other",
        }
    }

    pub fn negotiate(explicit: Option<&str>, ui_locales: Option<&str>, accept: Option<&str>) -> Lang {
        explicit
            .and_then(Lang::from_tag)
            .or_else(|| ui_locales.and_then(Lang::from_ui_locales))
            .or_else(|| accept.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn french_is_the_default() {
        assert_eq!(Lang::negotiate(None, None, None), Lang::Fr);
        assert_eq!(Lang::negotiate(None, None, Some("de-DE")), Lang::Fr);
    }

    #[test]
    fn ui_locales_win_over_accept_language() {
        assert_eq!(Lang::negotiate(None, Some("de en-GB"), Some("fr")), Lang::En);
    }

    #[test]
    fn accept_language_quality_is_respected() {
        assert_eq!(Lang::from_accept_language("fr;q=0.4, en;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("en;q=0, fr"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}

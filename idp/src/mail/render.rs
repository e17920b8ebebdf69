//! Mail rendering from the theme: `themes/<theme>/mail/<name>.html` and `.txt` (Tera; the
//! default theme's when a theme has none), with the theme's message catalogs as `t`, exactly as
//! the pages have them. The subject is the catalog key `mail_<name>_subject`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::OutgoingMail;
use crate::domain::Lang;
use crate::theme::{DEFAULT_THEME, ThemeError, Themes};

/// Every mail the server sends; each must exist in the default theme, in both formats.
pub const MAILS: &[&str] = &[
    "account_locked",
    "password_changed",
    "provisional_password",
    "activation",
    "password_expiry_warning",
    "recovery_code",
    "recovery_link",
    "identifier_reminder",
    "identifier_renewal",
    "missing_secret",
];

pub struct MailRenderer {
    themes: Arc<Themes>,
    default_theme: String,
    /// Per theme: the default theme's mail templates with the theme's own on top.
    tera: HashMap<String, tera::Tera>,
}

impl std::fmt::Debug for MailRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailRenderer").finish_non_exhaustive()
    }
}

fn load_err(theme: &str, message: String) -> ThemeError {
    ThemeError::Load { theme: theme.to_owned(), message }
}

fn read_mail_dir(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut files = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(files);
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.insert(entry.file_name().to_string_lossy().into_owned(), text);
        }
    }
    Ok(files)
}

impl MailRenderer {
    /// Loads the themes of `dir` (catalogs) and their `mail/` folders; a missing mail template
    /// of the default theme fails the start.
    pub fn load(dir: &Path, default_theme: &str) -> Result<Self, ThemeError> {
        let themes = Arc::new(Themes::load(dir)?);
        let base = read_mail_dir(&dir.join(DEFAULT_THEME).join("mail")).map_err(|m| load_err(DEFAULT_THEME, m))?;
        for name in MAILS.iter() {
            for ext in ["html", "txt"] {
                if !base.contains_key(&format!("{name}.{ext}")) {
                    return Err(load_err(DEFAULT_THEME, format!("missing mail template mail/{name}.{ext}")));
                }
            }
        }
        let mut tera = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(|e| load_err("*", format!("{}: {e}", dir.display())))? {
            let Ok(entry) = entry else { continue };
            let Ok(name) = entry.file_name().into_string() else { continue };
            if !entry.path().is_dir() || !themes.has_theme(&name) {
                continue;
            }
            let mut templates = base.clone();
            if name != DEFAULT_THEME {
                templates.extend(read_mail_dir(&entry.path().join("mail")).map_err(|m| load_err(&name, m))?);
            }
            let mut t = tera::Tera::default();
            // Counted texts ("15 minutes", "1 minute") as in the pages (issue #13, item 5).
            t.register_filter("plural", crate::theme::plural_filter);
            t.add_raw_templates(templates.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
                .map_err(|e| load_err(&name, format!("mail templates: {e}")))?;
            tera.insert(name, t);
        }
        Ok(Self { themes, default_theme: default_theme.to_owned(), tera })
    }

    /// Renders mail `name` for `to`, in `theme` (the default theme when `None` or unknown).
    pub fn render<C: Serialize>(
        &self,
        theme: Option<&str>,
        lang: Lang,
        name: &str,
        to: &str,
        context: &C,
    ) -> Result<OutgoingMail, ThemeError> {
        let theme = theme.filter(|t| self.tera.contains_key(*t)).unwrap_or(&self.default_theme);
        let render_err = |message: String| ThemeError::Render { page: format!("mail/{name}"), message };
        let tera = self
            .tera
            .get(theme)
            .or_else(|| self.tera.get(DEFAULT_THEME))
            .ok_or_else(|| render_err("no mail templates loaded".into()))?;
        let mut ctx = tera::Context::from_serialize(context).map_err(|e| render_err(e.to_string()))?;
        ctx.insert("t", &self.themes.catalog(theme, lang));
        ctx.insert("lang", lang.code());
        let html = tera.render(&format!("{name}.html"), &ctx).map_err(|e| render_err(e.to_string()))?;
        let text = tera.render(&format!("{name}.txt"), &ctx).map_err(|e| render_err(e.to_string()))?;
        let subject = self.themes.text(theme, lang, &format!("mail_{name}_subject"));
        Ok(OutgoingMail { to: to.to_owned(), subject, text, html, message_id: None })
    }
}

/// Context of `account_locked`.
#[derive(Debug, Serialize)]
pub struct AccountLocked {
    pub name: String,
    /// `HH:MM`, Paris time.
    pub until: String,
    pub reset_url: String,
}

/// Paris local time of `t` (CET, CEST from the last Sunday of March to the last Sunday of
/// October, at 01:00 UTC both ways): the portals serve France, and the mails say so.
fn paris_local(t: i64) -> i64 {
    let year = year_of(t);
    let summer = (last_sunday_01utc(year, 3)..last_sunday_01utc(year, 10)).contains(&t);
    t + if summer { 7200 } else { 3600 }
}

/// `HH:MM`, Paris time.
pub fn paris_time(t: i64) -> String {
    let secs = paris_local(t).rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// `DD/MM/YYYY HH:MM`, Paris time.
pub fn paris_date_time(t: i64) -> String {
    let iso = crate::clock::rfc3339(paris_local(t));
    format!("{}/{}/{} {}", &iso[8..10], &iso[5..7], &iso[..4], &iso[11..16])
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

    fn renderer() -> MailRenderer {
        MailRenderer::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes"), "default").unwrap()
    }

    #[test]
    fn paris_time_follows_summer_time() {
        // 2026-01-15T12:00:00Z is 13:00 in Paris; 2026-07-15T12:00:00Z is 14:00.
        assert_eq!(paris_time(1_768_478_400), "13:00");
        assert_eq!(paris_time(1_784_116_800), "14:00");
        // 2026-03-29T00:59:59Z (winter) and 01:00:00Z (summer).
        assert_eq!(paris_time(1_774_745_999), "01:59");
        assert_eq!(paris_time(1_774_746_000), "03:00");
        // 2026-10-25T01:00:00Z: back to winter time.
        assert_eq!(paris_time(1_792_890_000), "02:00");
        assert_eq!(paris_date_time(1_784_116_800), "15/07/2026 14:00");
    }

    #[test]
    fn the_lock_mail_renders_in_french_and_english_with_both_parts() {
        let r = renderer();
        let ctx = AccountLocked {
            name: "Alice <Martin>".into(),
            until: "12:34".into(),
            reset_url: "https://idp.example/recovery/password".into(),
        };
        let fr = r.render(None, Lang::Fr, "account_locked", "alice@example.org", &ctx).unwrap();
        assert!(fr.subject.contains("verrouillé"), "{}", fr.subject);
        assert!(fr.text.contains("jusqu'à 12:34") && fr.text.contains("https://idp.example/recovery/password"));
        assert!(fr.html.contains("12:34") && fr.html.contains("Alice &lt;Martin&gt;"));
        let en = r.render(Some("region"), Lang::En, "account_locked", "alice@example.org", &ctx).unwrap();
        assert!(en.subject.contains("locked"), "{}", en.subject);
        assert!(en.text.contains("until 12:34"), "{}", en.text);
    }

    #[test]
    fn the_missing_secret_mail_renders_the_seed_message_in_french_and_english() {
        let r = renderer();
        let ctx = serde_json::json!({
            "name": "Paul Roux", "login": "pro.neuf", "flow": "password",
            "support": "0 800 74 74 00", "support_url": "https://support.example/contact",
        });
        let fr = r.render(None, Lang::Fr, "missing_secret", "pro@example.org", &ctx).unwrap();
        assert_eq!(fr.subject, "Votre demande n'a pas pu aboutir");
        assert!(
            fr.text.contains("L'ensemble des secrets (question/réponse secrètes) n'étant pas renseigné"),
            "{}",
            fr.text
        );
        assert!(fr.text.contains("réinitialisation du mot de passe") && fr.text.contains("pro.neuf"), "{}", fr.text);
        let html = fr.html.replace("&#x2F;", "/");
        assert!(html.contains("0 800 74 74 00") && html.contains("href=\"https://support.example/contact\""), "{html}");
        let identifier = serde_json::json!({
            "name": "Paul Roux", "login": "pro.neuf", "flow": "identifier", "support": "+33 800 74 74 00", "support_url": "",
        });
        let en = r.render(None, Lang::En, "missing_secret", "pro@example.org", &identifier).unwrap();
        assert_eq!(en.subject, "Your request could not be completed");
        assert!(en.text.contains("A username reminder was requested for the account pro.neuf."), "{}", en.text);
        assert!(en.text.contains("have not been set") && en.text.contains("+33 800 74 74 00"), "{}", en.text);
        assert!(!en.html.contains("href=\"\""), "no empty support link: {}", en.html);
    }
}

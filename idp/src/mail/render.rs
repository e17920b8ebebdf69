//! Mail rendering from the theme: `themes/<theme>/mail/<name>.html` and `.txt` (Tera; the
//! default theme's when a theme has none), with the theme's message catalogs as `t`, exactly as
//! the pages have them. The subject is the catalog key `mail_<name>_subject`.
//!
//! The HTML part extends `mail/layout.html` (issue #13, item 12): a 600 px table layout with
//! the portal's name (`t.brand`) on its primary colour, every rule inline (`s.<name>`, from
//! `palette::MailStyles`), since mail clients drop `<style>` and CSS variables; the text part
//! stays. Times are Unix times formatted by the `time` and `date_time` filters (`time`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::OutgoingMail;
use super::palette::{MailPalette, MailStyles};
use crate::clock::LocalTimeZone;
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
    /// Per theme: its palette, from its stylesheet.
    styles: HashMap<String, (MailPalette, MailStyles)>,
    /// The city of the portal's time zone, as the mails say "Paris time" (`{zone}` in
    /// `mail_account_locked_time_zone`); the `time` filters convert into that zone.
    time_zone_city: String,
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

/// The palette of `theme`: the default stylesheet's custom properties, then the theme's own.
fn palette_of(themes: &Themes, theme: &str) -> MailPalette {
    let sheet = |name: &str| {
        themes
            .static_file(name, "style.css")
            .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
            .unwrap_or_default()
    };
    let default = sheet(DEFAULT_THEME);
    let own = if theme == DEFAULT_THEME { String::new() } else { sheet(theme) };
    MailPalette::from_stylesheets(&[&default, &own])
}

impl MailRenderer {
    /// Loads the themes of `dir` (catalogs) and their `mail/` folders; a missing mail template
    /// of the default theme fails the start.
    pub fn load(dir: &Path, default_theme: &str, time_zone: &LocalTimeZone) -> Result<Self, ThemeError> {
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
        let mut styles = HashMap::new();
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
            t.register_filter("time", super::time::filter("mail_time_format", time_zone.clone()));
            t.register_filter("date_time", super::time::filter("mail_date_time_format", time_zone.clone()));
            t.add_raw_templates(templates.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
                .map_err(|e| load_err(&name, format!("mail templates: {e}")))?;
            let palette = palette_of(&themes, &name);
            styles.insert(name.clone(), (palette.clone(), MailStyles::of(&palette)));
            tera.insert(name, t);
        }
        Ok(Self { themes, default_theme: default_theme.to_owned(), tera, styles, time_zone_city: time_zone.city() })
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
        ctx.insert("time_zone", &self.time_zone_city);
        if let Some((palette, styles)) = self.styles.get(theme) {
            ctx.insert("palette", palette);
            ctx.insert("s", styles);
        }
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
    /// Unix time; the template shows it in the portal's zone (`time` filter).
    pub until: i64,
    pub reset_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-07-15T12:00:00Z: 14:00 in Paris (summer time).
    const JULY_NOON_UTC: i64 = 1_784_116_800;

    fn renderer() -> MailRenderer {
        let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
        MailRenderer::load(&themes, "default", &LocalTimeZone::default()).unwrap()
    }

    /// A context with every variable any mail uses.
    fn context() -> serde_json::Value {
        serde_json::json!({
            "name": "Alice <Martin>", "login": "alice.martin", "logins": ["alice.martin", "alice.martin2"],
            "until": JULY_NOON_UTC, "expires": JULY_NOON_UTC, "when": JULY_NOON_UTC,
            "reset_url": "https://idp.example/recovery/password", "recovery_url": "https://idp.example/recovery/password",
            "activation_url": "https://idp.example/activate?token=T0k3n", "renew_url": "https://idp.example/renew?t=R",
            "change_url": "https://idp.example/account/password", "sign_in_url": "https://idp.example/account",
            "link": "https://idp.example/recovery/password/link?h=H&c=C", "code": "482913", "password": "Pr0v-1s10n",
            "minutes": 15, "reason": "recovery", "recovery": true,
            "flow": "password", "support": "0 800 74 74 00", "support_url": "https://support.example/contact",
        })
    }

    #[test]
    fn every_mail_is_themed_html_with_inline_styles_and_a_text_part_in_both_languages() {
        let r = renderer();
        let themes = Themes::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes")).unwrap();
        for (theme, primary) in [("default", "#1f3a93"), ("region", "#00665e")] {
            for lang in Lang::ALL {
                let brand = themes.text(theme, lang, "brand");
                for name in MAILS {
                    let mail = r.render(Some(theme), lang, name, "alice@example.org", &context()).unwrap();
                    let at = format!("{name} ({theme}, {})", lang.code());
                    assert!(mail.html.contains(&format!("<html lang=\"{}\">", lang.code())), "{at}: {}", mail.html);
                    let brand_html = tera::escape_html(&brand);
                    assert!(mail.html.contains(&brand_html), "{at}: the portal's name {brand} is missing");
                    assert!(mail.html.contains(&format!("background-color:{primary};")), "{at}: no {primary} header");
                    assert!(mail.html.contains("max-width:600px"), "{at}: not the 600 px layout");
                    let lower = mail.html.to_ascii_lowercase();
                    assert!(!lower.contains("<style") && !lower.contains("class="), "{at}: styling mail clients drop");
                    assert!(!lower.contains("var(--"), "{at}: a CSS variable mail clients ignore");
                    assert!(!mail.html.contains("{{") && !mail.html.contains("{%"), "{at}: unrendered Tera");
                    for tag in ["<p", "<a ", "<strong", "<td", "<code", "<ul"] {
                        for element in mail.html.match_indices(tag) {
                            let rest = &mail.html[element.0..];
                            let open = &rest[..rest.find('>').unwrap()];
                            assert!(open.contains("style=\""), "{at}: {open}> has no inline style");
                        }
                    }
                    assert!(mail.text.contains(&brand), "{at}: the text part lacks the portal's name");
                    assert!(
                        !mail.text.contains('<') || mail.text.contains("Alice <Martin>"),
                        "{at}: HTML in the text part"
                    );
                    assert!(!mail.subject.starts_with("mail_"), "{at}: no subject text");
                    let greeting = themes.text(theme, lang, "mail_greeting");
                    assert!(mail.text.starts_with(&greeting) && mail.html.contains(&greeting), "{at}: not in {lang:?}");
                }
            }
        }
    }

    #[test]
    fn a_mail_is_in_the_language_it_is_rendered_in() {
        let r = renderer();
        let fr = r.render(None, Lang::Fr, "recovery_link", "alice@example.org", &context()).unwrap();
        let en = r.render(None, Lang::En, "recovery_link", "alice@example.org", &context()).unwrap();
        assert_eq!(fr.subject, "Réinitialisation de votre mot de passe");
        assert!(fr.text.contains("Ce lien a une durée de validité de 15 minutes."), "{}", fr.text);
        assert!(en.text.contains("15 minutes") && !en.text.contains("Bonjour"), "{}", en.text);
        assert!(en.html.contains("<html lang=\"en\">") && !en.html.contains("Bonjour"));
    }

    #[test]
    fn times_in_mails_are_in_the_portal_time_zone_and_the_mail_language() {
        let r = renderer();
        let ctx = AccountLocked {
            name: "Alice <Martin>".into(),
            until: JULY_NOON_UTC,
            reset_url: "https://idp.example/recovery/password".into(),
        };
        let fr = r.render(None, Lang::Fr, "account_locked", "alice@example.org", &ctx).unwrap();
        assert!(fr.subject.contains("verrouillé"), "{}", fr.subject);
        assert!(fr.text.contains("jusqu'à 14\u{a0}h\u{a0}00 (heure de Paris)"), "{}", fr.text);
        assert!(fr.text.contains("https://idp.example/recovery/password"));
        assert!(fr.html.contains("14\u{a0}h\u{a0}00") && fr.html.contains("Alice &lt;Martin&gt;"), "{}", fr.html);
        let en = r.render(Some("region"), Lang::En, "account_locked", "alice@example.org", &ctx).unwrap();
        assert!(en.subject.contains("locked"), "{}", en.subject);
        assert!(en.text.contains("until 14:00 (Paris time)"), "{}", en.text);
        // A date in winter: UTC+1. 2026-01-15T12:00:00Z.
        let mut winter = context();
        winter["when"] = 1_768_478_400.into();
        let fr = r.render(None, Lang::Fr, "password_changed", "alice@example.org", &winter).unwrap();
        assert!(fr.text.contains("modifié le 15/01/2026 à 13\u{a0}h\u{a0}00 (heure de Paris)"), "{}", fr.text);
        let en = r.render(None, Lang::En, "password_changed", "alice@example.org", &winter).unwrap();
        assert!(en.text.contains("2026-01-15 at 13:00 (Paris time)"), "{}", en.text);
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

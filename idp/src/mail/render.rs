//! Mail rendering from the theme: `themes/<theme>/mail/<name>.html` and `.txt` (Tera; the
//! default theme's when a theme has none), with the theme's message catalogs as `t`, exactly as
//! the pages have them. The subject is the catalog key `mail_<name>_subject`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::OutgoingMail;
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
];

pub struct MailRenderer {
    themes: Arc<Themes>,
    default_theme: String,
    /// Per theme: the default theme's mail templates with the theme's own on top.
    tera: HashMap<String, tera::Tera>,
    /// The city of the portal's time zone, as the mails say "Paris time" (`{zone}` in
    /// `mail_account_locked_time_zone`); the times themselves come converted (`LocalTimeZone`).
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
        Ok(Self { themes, default_theme: default_theme.to_owned(), tera, time_zone_city: time_zone.city() })
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
    /// `HH:MM`, in the portal's time zone.
    pub until: String,
    pub reset_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> MailRenderer {
        MailRenderer::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes"),
            "default",
            &LocalTimeZone::default(),
        )
        .unwrap()
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
        assert!(fr.text.contains("12:34 (heure de Paris)."), "the portal's zone is named: {}", fr.text);
        assert!(fr.html.contains("12:34") && fr.html.contains("Alice &lt;Martin&gt;"));
        let en = r.render(Some("region"), Lang::En, "account_locked", "alice@example.org", &ctx).unwrap();
        assert!(en.subject.contains("locked"), "{}", en.subject);
        assert!(en.text.contains("until 12:34"), "{}", en.text);
    }
}

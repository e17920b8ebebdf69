//! Themes: Tera templates, message catalogs and static files, one folder per theme under
//! `themes/`. `default` is complete; another theme holds only what it overrides and is loaded
//! on top of it. Everything is read once at start; a missing page template or catalog key
//! fails the start, not a user's request.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::domain::Lang;

pub const DEFAULT_THEME: &str = "default";

/// Every page the server renders; each must exist in the default theme.
pub const PAGES: &[&str] = &[
    "login.html",
    "consent.html",
    "error.html",
    "logout_confirm.html",
    "logged_out.html",
    "account.html",
    "account_password.html",
    "account_secret_question.html",
    "select_account.html",
    "form_post.html",
    "first_login.html",
    "activate.html",
    "recovery_select.html",
    "recovery_support.html",
    "recovery_password.html",
    "recovery_identifier.html",
    "access_denied.html",
    "admin_not_authorised.html",
    "admin_groups.html",
    "admin_group.html",
    "admin_clients.html",
    "admin_client_form.html",
    "admin_client_secret.html",
    "admin_client_confirm.html",
    "admin_audit.html",
    "admin_dashboard.html",
    "admin_users.html",
    "admin_user.html",
    "admin_user_confirm.html",
];

/// Catalog keys the Rust code looks up itself (templates use their own).
pub const REQUIRED_KEYS: &[&str] = &[
    "brand",
    "error_title",
    "error_unknown_client",
    "error_invalid_redirect_uri",
    "error_invalid_request",
    "error_request_expired",
    "error_csrf",
    "error_cross_site",
    "error_internal",
    "error_unavailable",
    "error_request_timeout",
    "error_not_found",
    "error_bad_request",
    "error_method",
    "error_logout_redirect",
    "error_payload_too_large",
    "error_too_many_requests",
    "cas_error_unknown_service",
    "login_failed",
    "login_busy",
    "login_locked",
    "recovery_throttled",
    "identifier_sms_failed",
    "login_required_field",
    "first_login_expired",
    "account_session_closed",
    "account_password_changed",
    "account_secret_question_changed",
    "account_application_revoked",
    "account_browser_on_os",
    "account_browser_unknown",
    "account_current_password_wrong",
    "account_current_password_locked",
    "account_current_password_required",
    "scope_openid",
    "scope_profile",
    "scope_email",
    "scope_address",
    "scope_phone",
    "scope_offline_access",
    "page_title_login",
    "page_title_consent",
    "page_title_error",
    "page_title_logout",
    "page_title_logged_out",
    "page_title_account",
    // The mails' `time` and `date_time` filters (`mail::time`, issue #13, item 12).
    "mail_time_format",
    "mail_date_time_format",
    // The administration console (issue #12, `web::handlers::admin_console`).
    "admin_error_forbidden",
    "admin_notice_client_updated",
    "admin_notice_client_deleted",
    "admin_notice_user_unlocked",
    "admin_notice_user_reset_sent",
    "admin_notice_user_activation_sent",
    "admin_notice_user_secret_question_reset",
    "admin_notice_user_sessions_ended",
    "admin_notice_user_updated",
    "admin_notice_user_disabled",
    "admin_notice_user_enabled",
    "admin_notice_user_deleted",
    "admin_notice_user_role_set",
    "admin_notice_group_created",
    "admin_notice_member_added",
    "admin_notice_member_removed",
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme {theme}: {message}")]
    Load { theme: String, message: String },
    #[error("rendering {page}: {message}")]
    Render { page: String, message: String },
}

pub struct StaticFile {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

struct Theme {
    tera: tera::Tera,
    catalogs: HashMap<Lang, BTreeMap<String, String>>,
    statics: HashMap<String, StaticFile>,
}

pub struct Themes {
    themes: HashMap<String, Theme>,
}

/// Variables every page gets besides its own context.
#[derive(Clone, Debug)]
pub struct PageFrame {
    pub lang: Lang,
    pub theme: String,
    /// The same page in the other language, or empty.
    pub lang_switch_url: String,
}

impl Themes {
    /// Loads `default` and every other folder of `dir` on top of it.
    pub fn load(dir: &Path) -> Result<Self, ThemeError> {
        let err = |theme: &str, message: String| ThemeError::Load { theme: theme.to_owned(), message };
        let default_dir = dir.join(DEFAULT_THEME);
        let base_templates = read_dir_files(&default_dir.join("templates")).map_err(|m| err(DEFAULT_THEME, m))?;
        let base_catalogs = read_catalogs(&default_dir.join("i18n")).map_err(|m| err(DEFAULT_THEME, m))?;
        for page in PAGES.iter().chain(["base.html"].iter()) {
            if !base_templates.contains_key(*page) {
                return Err(err(DEFAULT_THEME, format!("missing template {page}")));
            }
        }
        for lang in Lang::ALL {
            let catalog = base_catalogs
                .get(&lang)
                .ok_or_else(|| err(DEFAULT_THEME, format!("missing i18n/{}.toml", lang.code())))?;
            if let Some(missing) = REQUIRED_KEYS.iter().find(|k| !catalog.contains_key(**k)) {
                return Err(err(DEFAULT_THEME, format!("i18n/{}.toml lacks the key {missing}", lang.code())));
            }
        }
        let base_statics = read_statics(&default_dir.join("static")).map_err(|m| err(DEFAULT_THEME, m))?;
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| err("*", format!("{}: {e}", dir.display())))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        let mut themes = HashMap::new();
        for name in names {
            let theme_dir = dir.join(&name);
            let mut templates = base_templates.clone();
            let mut catalogs = base_catalogs.clone();
            let mut statics = HashMap::new();
            if name != DEFAULT_THEME {
                templates.extend(read_dir_files(&theme_dir.join("templates")).map_err(|m| err(&name, m))?);
                for (lang, overrides) in read_catalogs(&theme_dir.join("i18n")).map_err(|m| err(&name, m))? {
                    catalogs.entry(lang).or_default().extend(overrides);
                }
                statics = read_statics(&theme_dir.join("static")).map_err(|m| err(&name, m))?;
            } else {
                for (file, data) in &base_statics {
                    statics.insert(
                        file.clone(),
                        StaticFile { content_type: data.content_type, bytes: data.bytes.clone() },
                    );
                }
            }
            let mut tera = tera::Tera::default();
            tera.register_filter("plural", plural_filter);
            tera.add_raw_templates(templates.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
                .map_err(|e| err(&name, format!("templates: {}", tera_message(&e))))?;
            themes.insert(name, Theme { tera, catalogs, statics });
        }
        Ok(Self { themes })
    }

    fn theme(&self, name: &str) -> &Theme {
        self.themes
            .get(name)
            .or_else(|| self.themes.get(DEFAULT_THEME))
            .unwrap_or_else(|| unreachable!("the default theme is loaded at start"))
    }

    pub fn has_theme(&self, name: &str) -> bool {
        self.themes.contains_key(name)
    }

    /// A catalog text; the key itself if absent (never fails a page).
    pub fn text(&self, theme: &str, lang: Lang, key: &str) -> String {
        self.theme(theme).catalogs.get(&lang).and_then(|c| c.get(key)).cloned().unwrap_or_else(|| key.to_owned())
    }

    /// A counted text: the catalog's `KEY_one` or `KEY_other` (by `lang`'s plural rule), with
    /// `{n}` replaced by `n`. Templates have the same as the `plural` filter.
    pub fn plural(&self, theme: &str, lang: Lang, key: &str, n: u64) -> String {
        let full = format!("{key}_{}", lang.plural_category(n));
        self.text(theme, lang, &full).replace("{n}", &n.to_string())
    }

    /// The merged catalog of `theme` in `lang` (the mails' `t`, as the pages have it).
    pub fn catalog(&self, theme: &str, lang: Lang) -> Option<&BTreeMap<String, String>> {
        self.theme(theme).catalogs.get(&lang)
    }

    /// A static file of `theme`, or of the default theme when the theme does not override it.
    pub fn static_file(&self, theme: &str, file: &str) -> Option<&StaticFile> {
        self.themes.get(theme).and_then(|t| t.statics.get(file)).or_else(|| self.theme(DEFAULT_THEME).statics.get(file))
    }

    pub fn render<C: Serialize>(&self, page: &str, frame: &PageFrame, context: &C) -> Result<String, ThemeError> {
        let render_err = |message: String| ThemeError::Render { page: page.to_owned(), message };
        let theme = self.theme(&frame.theme);
        let theme_name = if self.themes.contains_key(&frame.theme) { frame.theme.as_str() } else { DEFAULT_THEME };
        let mut ctx = tera::Context::from_serialize(context).map_err(|e| render_err(tera_message(&e)))?;
        ctx.insert("t", &theme.catalogs.get(&frame.lang));
        ctx.insert("lang", frame.lang.code());
        ctx.insert("other_lang", frame.lang.other().code());
        ctx.insert("lang_switch_url", &frame.lang_switch_url);
        ctx.insert("theme", theme_name);
        ctx.insert("static_base", &format!("/static/{theme_name}"));
        theme.tera.render(page, &ctx).map_err(|e| render_err(tera_message(&e)))
    }
}

/// `{{ n | plural(t=t, key="attempts_left", lang=lang) }}`: the counted text of
/// [`Themes::plural`] for templates (a filter sees only its arguments, hence `t` and `lang`).
pub(crate) fn plural_filter(value: &tera::Value, args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let n = value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| tera::Error::msg(format!("plural: {value} is not a count")))?;
    let arg = |name: &str| args.get(name).ok_or_else(|| tera::Error::msg(format!("plural: missing {name}=")));
    let key = arg("key")?.as_str().ok_or_else(|| tera::Error::msg("plural: key= is not a string"))?;
    let lang = arg("lang")?.as_str().and_then(Lang::from_tag).unwrap_or_default();
    let full = format!("{key}_{}", lang.plural_category(n));
    let text = arg("t")?.get(&full).and_then(|v| v.as_str()).unwrap_or(&full);
    Ok(tera::Value::String(text.replace("{n}", &n.to_string())))
}

/// Tera nests the useful message in the error's sources.
fn tera_message(e: &tera::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

fn read_dir_files(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut files = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(files);
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.insert(name, text);
        }
    }
    Ok(files)
}

/// `i18n/<lang>.toml`, plus every `i18n/<lang>/*.toml` (one file per feature, e.g.
/// `i18n/fr/first_login.toml`), merged; a key defined twice for one language is an error.
fn read_catalogs(dir: &Path) -> Result<HashMap<Lang, BTreeMap<String, String>>, String> {
    let mut catalogs = HashMap::new();
    for lang in Lang::ALL {
        let mut files = vec![dir.join(format!("{}.toml", lang.code()))];
        if let Ok(entries) = std::fs::read_dir(dir.join(lang.code())) {
            let mut parts: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            parts.sort();
            files.extend(parts);
        }
        let mut catalog = BTreeMap::new();
        let mut found = false;
        for path in files.iter().filter(|p| p.exists()) {
            found = true;
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let part: BTreeMap<String, String> =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            for (key, value) in part {
                if catalog.insert(key.clone(), value).is_some() {
                    return Err(format!("{}: the key {key} is defined twice", path.display()));
                }
            }
        }
        if found {
            catalogs.insert(lang, catalog);
        }
    }
    Ok(catalogs)
}

fn read_statics(dir: &Path) -> Result<HashMap<String, StaticFile>, String> {
    let mut statics = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(statics);
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let content_type = match path.extension().and_then(|e| e.to_str()) {
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("ico") => "image/x-icon",
            Some("woff2") => "font/woff2",
            _ => continue,
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        statics.insert(name, StaticFile { content_type, bytes });
    }
    Ok(statics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn themes() -> Themes {
        Themes::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes")).unwrap()
    }

    #[test]
    fn counted_texts_follow_each_language_plural_rule() {
        let t = themes();
        let left = |lang, n| t.plural("default", lang, "recovery_code_attempts_left", n);
        assert_eq!(left(Lang::Fr, 0), "0 essai restant.");
        assert_eq!(left(Lang::Fr, 1), "1 essai restant.");
        assert_eq!(left(Lang::Fr, 4), "4 essais restants.");
        assert_eq!(left(Lang::En, 0), "0 attempts left.");
        assert_eq!(left(Lang::En, 1), "1 attempt left.");
        let mut args = HashMap::new();
        args.insert("key".to_owned(), tera::Value::from("recovery_code_attempts_left"));
        args.insert("lang".to_owned(), tera::Value::from("en"));
        args.insert("t".to_owned(), serde_json::to_value(t.catalog("default", Lang::En)).unwrap());
        assert_eq!(plural_filter(&tera::Value::from(3), &args).unwrap(), tera::Value::from("3 attempts left."));
    }

    #[test]
    fn the_shipped_themes_load_with_every_page_and_key() {
        let t = themes();
        assert!(t.has_theme("default") && t.has_theme("region"));
        assert_eq!(t.text("default", Lang::Fr, "login_failed"), "Identifiant ou mot de passe incorrect.");
    }

    #[test]
    fn a_theme_overrides_only_what_it_has() {
        let t = themes();
        assert_ne!(t.text("region", Lang::Fr, "brand"), t.text("default", Lang::Fr, "brand"));
        assert_eq!(t.text("region", Lang::Fr, "login_failed"), t.text("default", Lang::Fr, "login_failed"));
        let region_css = t.static_file("region", "style.css").unwrap();
        let default_css = t.static_file("default", "style.css").unwrap();
        assert_ne!(region_css.bytes, default_css.bytes);
        assert_eq!(t.static_file("region", "app.js").unwrap().bytes, t.static_file("default", "app.js").unwrap().bytes);
    }

    #[test]
    fn pages_are_escaped() {
        let t = themes();
        let frame = PageFrame { lang: Lang::En, theme: "default".into(), lang_switch_url: String::new() };
        let ctx = serde_json::json!({"title": "T", "message": "<script>alert(1)</script>", "code": ""});
        let html = t.render("error.html", &frame, &ctx).unwrap();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>alert"));
        assert!(html.contains("lang=\"en\""));
    }
}

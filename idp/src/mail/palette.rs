//! The colours of a themed mail, read from the theme's own stylesheet (`static/style.css`, the
//! `--color-*` custom properties of the pages, issue #13 item 12): a theme declares its palette
//! once and its pages and mails follow it. Mail clients strip `<style>` and ignore CSS
//! variables, so the mails get the resolved values written into `style` attributes
//! (`MailStyles`). Only plain hex colours are taken; anything else keeps the default's.

use std::collections::BTreeMap;

use serde::Serialize;

/// The resolved colours a mail uses; the fallbacks are the default theme's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailPalette {
    pub primary: String,
    pub on_primary: String,
    pub text: String,
    pub muted: String,
    pub background: String,
    pub surface: String,
    pub border: String,
}

impl Default for MailPalette {
    fn default() -> Self {
        Self {
            primary: "#1f3a93".into(),
            on_primary: "#ffffff".into(),
            text: "#161616".into(),
            muted: "#3a3a3a".into(),
            background: "#f6f6f6".into(),
            surface: "#ffffff".into(),
            border: "#dddddd".into(),
        }
    }
}

impl MailPalette {
    /// The palette of a theme whose stylesheets are `sheets`, in cascade order (the default
    /// theme's first, then the theme's own, which `@import`s it and overrides some properties).
    pub fn from_stylesheets(sheets: &[&str]) -> Self {
        let mut vars = BTreeMap::new();
        for sheet in sheets {
            vars.extend(custom_properties(sheet));
        }
        let fallback = Self::default();
        let pick = |name: &str, fallback: String| resolve(&vars, name).unwrap_or(fallback);
        Self {
            primary: pick("color-primary", fallback.primary),
            on_primary: pick("color-on-primary", fallback.on_primary),
            text: pick("color-text", fallback.text),
            muted: pick("color-text-muted", fallback.muted),
            background: pick("color-background", fallback.background),
            surface: pick("color-surface", fallback.surface),
            border: pick("color-border-light", fallback.border),
        }
    }
}

/// `--name: value;` declarations of a stylesheet, comments removed; the last one wins.
fn custom_properties(css: &str) -> BTreeMap<String, String> {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start + 2..].split_once("*/").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let mut vars = BTreeMap::new();
    for declaration in text.split([';', '{', '}']) {
        if let Some((name, value)) = declaration.trim().split_once(':')
            && let Some(name) = name.trim().strip_prefix("--")
        {
            vars.insert(name.to_owned(), value.trim().to_owned());
        }
    }
    vars
}

/// The hex colour property `name` resolves to, following `var(--other)` a few times.
fn resolve(vars: &BTreeMap<String, String>, name: &str) -> Option<String> {
    let mut value = vars.get(name)?;
    for _ in 0..4 {
        if is_hex_colour(value) {
            return Some(value.to_ascii_lowercase());
        }
        let inner = value.strip_prefix("var(--")?.strip_suffix(')')?;
        value = vars.get(inner.trim())?;
    }
    None
}

fn is_hex_colour(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The inline `style` attributes the mail templates use, as `s.<name>`: every rule is spelt
/// out on the element, since mail clients drop `<style>` and classes. No value holds a `/`
/// or a quote (Tera's HTML escaping would mangle them).
#[derive(Clone, Debug, Serialize)]
pub struct MailStyles {
    pub body: String,
    pub outer: String,
    pub card: String,
    pub header: String,
    pub content: String,
    pub footer: String,
    pub p: String,
    pub strong: String,
    pub link: String,
    pub button_cell: String,
    pub button: String,
    pub code: String,
    pub small: String,
    pub list: String,
}

const FONT: &str = "font-family:Arial,Helvetica,sans-serif";
const MONO: &str = "font-family:Consolas,Menlo,Courier New,monospace";

impl MailStyles {
    pub fn of(p: &MailPalette) -> Self {
        Self {
            body: format!("margin:0;padding:0;background-color:{};", p.background),
            outer: format!("width:100%;background-color:{};", p.background),
            card: format!("width:100%;max-width:600px;background-color:{};border:1px solid {};", p.surface, p.border),
            header: format!(
                "background-color:{};color:{};padding:20px 32px;{FONT};font-size:20px;line-height:28px;font-weight:bold;",
                p.primary, p.on_primary
            ),
            content: format!("padding:32px;{FONT};font-size:16px;line-height:24px;color:{};", p.text),
            footer: format!(
                "padding:16px 32px 24px;border-top:1px solid {};{FONT};font-size:13px;line-height:20px;color:{};",
                p.border, p.muted
            ),
            p: format!("margin:0 0 16px;{FONT};font-size:16px;line-height:24px;color:{};", p.text),
            strong: format!("font-weight:bold;color:{};", p.text),
            link: format!("color:{};text-decoration:underline;", p.primary),
            button_cell: format!("background-color:{};border-radius:4px;", p.primary),
            button: format!(
                "display:inline-block;padding:12px 24px;{FONT};font-size:16px;line-height:20px;font-weight:bold;color:{};background-color:{};text-decoration:none;border-radius:4px;",
                p.on_primary, p.primary
            ),
            code: format!(
                "display:inline-block;padding:8px 16px;{MONO};font-size:24px;line-height:32px;letter-spacing:4px;font-weight:bold;color:{};background-color:{};border:1px solid {};",
                p.text, p.background, p.border
            ),
            small: format!(
                "margin:0 0 16px;{FONT};font-size:13px;line-height:20px;color:{};word-break:break-all;",
                p.muted
            ),
            list: format!("margin:0 0 16px;padding-left:24px;{FONT};font-size:16px;line-height:24px;color:{};", p.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_theme_stylesheet_overrides_the_default_palette_and_var_references_resolve() {
        let default = ":root { --color-primary: #1F3A93; /* 10:1 */ --color-on-primary: #ffffff;\n\
                       --color-header-accent: var(--color-primary); --color-text: #161616; }";
        let region = "@import url(\"../default/style.css\");\n:root {\n  --color-primary: #00665e; /* teal */\n}";
        assert_eq!(MailPalette::from_stylesheets(&[default]).primary, "#1f3a93");
        let palette = MailPalette::from_stylesheets(&[default, region]);
        assert_eq!(palette.primary, "#00665e");
        assert_eq!(palette.text, "#161616");
        // Missing or unusable values keep the default's.
        let odd = ":root { --color-primary: red; --color-text: var(--nowhere); }";
        assert_eq!(MailPalette::from_stylesheets(&[odd]), MailPalette::default());
    }

    #[test]
    fn styles_hold_no_character_the_html_escaping_would_mangle() {
        let styles = serde_json::to_value(MailStyles::of(&MailPalette::default())).unwrap();
        for (name, value) in styles.as_object().unwrap() {
            let value = value.as_str().unwrap();
            assert!(!value.contains(['/', '"', '\'', '<', '>', '&']), "s.{name} = {value}");
        }
    }
}

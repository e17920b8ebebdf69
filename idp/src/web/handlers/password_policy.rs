//! `GET /password-policy?user_type=<id>`: the effective password policy of a user type as JSON,
//! with the French and English text of each rule and of the strength levels, for the page's
//! generator (themes/default/static/password.js). The page judges nothing itself: the
//! checklist and the meter come from `POST /password/check` (`password_check`), the same
//! `account::policy::evaluate` as every flow that sets a password (decision 0018). Also the
//! context of `password_fields.html` and the sentences of a refusal.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::password_check::FormKind;
use crate::account::password_change::ChangeError;
use crate::account::{password_check, policy, strength_feedback};
use crate::domain::user_type::{Localized, PasswordPolicy};
use crate::domain::{Lang, User};
use crate::theme::Themes;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::View;

#[derive(Deserialize)]
pub struct PolicyQuery {
    user_type: Option<String>,
}

#[derive(Serialize)]
struct RuleJson {
    rule: &'static str,
    value: Option<u32>,
    label: Localized,
}

#[derive(Serialize)]
struct PolicyJson<'a> {
    user_type: &'a str,
    min_length: u32,
    max_length: u32,
    min_lowercase: u32,
    min_uppercase: u32,
    min_digits: u32,
    min_symbols: u32,
    min_strength: u8,
    rules: Vec<RuleJson>,
    /// Five labels, score 0 to 4: "Très faible" … "Excellente".
    strength_labels: Localized5,
}

#[derive(Serialize)]
struct Localized5 {
    fr: Vec<String>,
    en: Vec<String>,
}

pub async fn password_policy_get(State(state): State<AppState>, Query(q): Query<PolicyQuery>) -> Response {
    let types = &state.services.user_types;
    let user_type = match q.user_type.as_deref() {
        None | Some("") => types.default_type(),
        Some(id) => match types.get(id) {
            Some(t) => t,
            None => {
                return (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "unknown_user_type" })))
                    .into_response();
            }
        },
    };
    let theme = user_type.theme.as_deref().unwrap_or(&state.default_theme);
    let themes = &state.themes;
    let text = |lang: Lang| move |key: &str| themes.text(theme, lang, key);
    let p = &user_type.password_policy;
    let rules = policy::rules(p)
        .into_iter()
        .map(|r| {
            let label = Localized {
                fr: policy::label(text(Lang::Fr), Lang::Fr, r.key, r.value),
                en: policy::label(text(Lang::En), Lang::En, r.key, r.value),
            };
            RuleJson { rule: r.key, value: r.value, label }
        })
        .collect();
    let levels = |lang| (0..5).map(|i| text(lang)(&format!("password_strength_{i}"))).collect();
    let body = PolicyJson {
        user_type: &user_type.id,
        min_length: p.min_length,
        max_length: p.max_length,
        min_lowercase: p.min_lowercase,
        min_uppercase: p.min_uppercase,
        min_digits: p.min_digits,
        min_symbols: p.min_symbols,
        min_strength: p.min_strength,
        rules,
        strength_labels: Localized5 { fr: levels(Lang::Fr), en: levels(Lang::En) },
    };
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(body)).into_response()
}

/// One rule of `password_fields.html`, in the page's language.
#[derive(Serialize)]
pub struct PageRule {
    pub rule: &'static str,
    pub value: Option<u32>,
    pub label: String,
}

/// The `password_rules` of `password_fields.html`: what a page that sets a password lists.
pub fn page_rules(themes: &Themes, theme: &str, lang: Lang, p: &PasswordPolicy) -> Vec<PageRule> {
    let text = |key: &str| themes.text(theme, lang, key);
    policy::rules(p)
        .into_iter()
        .map(|r| PageRule { rule: r.key, value: r.value, label: policy::label(text, lang, r.key, r.value) })
        .collect()
}

/// The context of `password_fields.html` for `user` (flattened into a page's context): the
/// rules of the user's type in the page's language (without the history line when the account
/// has no history yet: activation, first login of a new account), what the live check needs
/// (`POST /password/check`: which form this is; the page sends its form's `csrf`, and `token`
/// for an activation link), and the
/// server's messages after a refusal.
#[derive(Serialize, Default)]
pub struct PasswordFields {
    pub password_rules: Vec<PageRule>,
    pub password_policy_url: String,
    pub password_check_url: &'static str,
    pub password_check_form: &'static str,
    pub password_errors: Vec<String>,
}

impl PasswordFields {
    pub async fn for_user(
        state: &AppState,
        view: &View,
        user: &User,
        form: FormKind,
        password_errors: Vec<String>,
    ) -> Result<Self, AppError> {
        let s = &state.services;
        let user_type = s.user_types.of(&user.user_type);
        let query = serde_urlencoded::to_string([("user_type", user_type.id.as_str())]).unwrap_or_default();
        let mut password_rules = page_rules(&state.themes, &view.theme, view.lang, &user_type.password_policy);
        if !password_check::has_history(s, user, form == FormKind::Activation).await? {
            password_rules.retain(|r| r.rule != "history");
        }
        Ok(Self {
            password_rules,
            password_policy_url: format!("/password-policy?{query}"),
            password_check_url: "/password/check",
            password_check_form: form.as_str(),
            password_errors,
        })
    }
}

/// zxcvbn's advice on a password that fails the strength rule, in the page's language: its
/// warning and suggestions, or a general sentence when it has none (a password scoring 3 under
/// a policy asking for 4).
pub fn strength_advice(feedback: &policy::Feedback, text: impl Fn(&str) -> String) -> Vec<String> {
    if feedback.is_empty() {
        return vec![text(strength_feedback::GENERIC_KEY)];
    }
    feedback.keys().map(text).collect()
}

/// One sentence per failed rule, saying what to change: the strength rule is explained by
/// zxcvbn's advice (issue #13, item 4), never by its label "Une force d'au moins 2 sur 4".
pub fn violation_messages(
    violations: &[policy::Violation],
    feedback: &policy::Feedback,
    text: impl Fn(&str) -> String,
    lang: Lang,
) -> Vec<String> {
    let mut out = Vec::new();
    for v in violations {
        match v {
            policy::Violation::TooWeak { .. } => out.extend(strength_advice(feedback, &text)),
            other => out.push(other.message(&text, lang)),
        }
    }
    out
}

/// What a page says of a refused new password: one message per failed rule, or the mismatch
/// of the confirmation, in the page's language and theme. Nothing for the other errors (the
/// page shows its own).
pub fn refusal_messages(state: &AppState, view: &View, refused: &ChangeError) -> Vec<String> {
    let text = |key: &str| state.text(view, key);
    match refused {
        ChangeError::Mismatch => vec![text("password_mismatch")],
        ChangeError::Policy(violations, feedback) => violation_messages(violations, feedback, text, view.lang),
        ChangeError::Gone | ChangeError::Infra(_) => Vec::new(),
    }
}

//! `POST /password/check` (issue #13, item 3; decision 0018, "one judge"): the verdict of the
//! server on a password being typed, for the page's checklist and meter
//! (themes/default/static/password.js). JSON in:
//! `{"form": "first_login" | "account" | "activation" | "recovery", "csrf": "…",
//!   "token": "…" (activation only: the link's), "password": "…", "lang": "fr" | "en"}`;
//! JSON out: each rule line's verdict (`met`: true, false, or null for the history, which only
//! the submission checks), zxcvbn's score 0-4 with its label, zxcvbn's feedback as catalog
//! keys, and the sentences the page shows (the same ones a refused submission shows).
//!
//! Protected like the form it serves: same origin (the router's rule for every POST), the
//! page's CSRF token for the flow the browser is in, and `account::password_check::admit` per
//! flow and per address. The account judged is the flow's, from the server side; the request
//! names only which kind of page it comes from.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account as account_page;
use crate::account::csrf::{self, Context};
use crate::account::password_check;
use crate::account::policy::{self, Evaluation};
use crate::account::recovery::{self, FlowKind, Step};
use crate::account::{activation, first_login as first_login_flow};
use crate::domain::{Lang, User};
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;

/// Which password form the page is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    FirstLogin,
    Account,
    Activation,
    Recovery,
}

impl FormKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstLogin => "first_login",
            Self::Account => "account",
            Self::Activation => "activation",
            Self::Recovery => "recovery",
        }
    }
}

#[derive(Deserialize)]
struct CheckRequest {
    form: FormKind,
    csrf: String,
    #[serde(default)]
    token: String,
    password: String,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Serialize)]
struct RuleVerdict {
    rule: &'static str,
    met: Option<bool>,
}

#[derive(Serialize)]
struct CheckResponse {
    /// No rule fails (the history apart: `met` null).
    acceptable: bool,
    score: u8,
    strength_label: String,
    rules: Vec<RuleVerdict>,
    /// zxcvbn's advice as catalog keys (`account::strength_feedback`).
    feedback: policy::Feedback,
    /// What to change, in the page's language: zxcvbn's advice when the strength rule fails.
    advice: Vec<String>,
    /// One sentence per failed rule, as a refused submission says them.
    messages: Vec<String>,
}

/// An error body in the manner of RFC 6749 §5.2.
fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({ "error": code, "error_description": description });
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")))
}

/// The account of the password form the browser is on, and the server's own id of that form's
/// flow (the rate limit's key), once the request's CSRF token is this browser's for it.
enum Located {
    Form(Box<User>, String),
    NoForm,
    BadToken,
}

async fn locate(state: &AppState, browser: &Browser, req: &CheckRequest) -> Result<Located, AppError> {
    let s = &state.services;
    let csrf_cookie = browser.cookie(state.cookies.csrf);
    let valid = |context: &Context<'_>| csrf::is_valid(&s.csrf_key, csrf_cookie, Some(&req.csrf), context);
    let (user, flow_key, ok) = match req.form {
        FormKind::FirstLogin => {
            let Some(secret) = browser.cookie(state.cookies.first_login) else { return Ok(Located::NoForm) };
            let Some((pending, user)) = first_login_flow::load(s, secret).await? else { return Ok(Located::NoForm) };
            let ok = valid(&Context::FirstLogin { flow_id: &pending.id });
            (user, format!("first-login:{}", pending.id), ok)
        }
        FormKind::Account => {
            let Some(signed) = account_page::signed_in(state, browser).await? else { return Ok(Located::NoForm) };
            let ok = valid(&signed.csrf_context());
            let key = format!("account:{}", signed.cookie_digest);
            (signed.user, key, ok)
        }
        FormKind::Activation => {
            let Some(user) = activation::pending(s, &req.token).await? else { return Ok(Located::NoForm) };
            let ok = valid(&Context::Activation { token: &req.token });
            (user, format!("activation:{}", crate::crypto::digest(&req.token)), ok)
        }
        FormKind::Recovery => {
            let Some(secret) = browser.cookie(state.cookies.recovery) else { return Ok(Located::NoForm) };
            let Some(flow) = recovery::load(s, secret, FlowKind::Password).await? else { return Ok(Located::NoForm) };
            // Only the new-password step has proven who the person is; before it, judging
            // against the matched account's login would say something about that account.
            if flow.step != Step::NewPassword {
                return Ok(Located::NoForm);
            }
            let ok = valid(&Context::Recovery { flow_id: &flow.id });
            let Some(user) = recovery::password::user_of(s, &flow).await? else { return Ok(Located::NoForm) };
            (user, format!("recovery:{}", flow.id), ok)
        }
    };
    Ok(if ok { Located::Form(Box::new(user), flow_key) } else { Located::BadToken })
}

pub async fn password_check_post(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    if !is_json(&headers) {
        return Ok(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", "the body must be application/json"));
    }
    let Ok(req) = serde_json::from_slice::<CheckRequest>(&body) else {
        return Ok(error(StatusCode::BAD_REQUEST, "invalid_request", "the body is not a password check request"));
    };
    let (user, flow_key) = match locate(&state, &browser, &req).await? {
        Located::Form(user, key) => (user, key),
        // One answer for both: no oracle on which flows exist.
        Located::NoForm | Located::BadToken => {
            return Ok(error(StatusCode::FORBIDDEN, "access_denied", "no password form of this browser matches"));
        }
    };
    let s = &state.services;
    if !password_check::admit(s, &flow_key, &browser.ip).await? {
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "slow_down", "too many password checks; wait a little");
        if let Ok(value) = s.password_checks.window.to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let lang = req.lang.as_deref().and_then(Lang::from_tag).unwrap_or(Lang::Fr);
    let user_type = s.user_types.of(&user.user_type);
    let theme = user_type.theme.as_deref().unwrap_or(&state.default_theme);
    let text = |key: &str| state.themes.text(theme, lang, key);
    let evaluation = password_check::judge(s, &user, &req.password);
    let rules = policy::rules(&user_type.password_policy)
        .into_iter()
        .map(|r| RuleVerdict { rule: r.key, met: evaluation.is_met(r.key) })
        .collect();
    let body = CheckResponse {
        acceptable: evaluation.violations.is_empty(),
        score: evaluation.score,
        strength_label: text(&format!("password_strength_{}", evaluation.score)),
        rules,
        advice: advice(&evaluation, text),
        messages: super::password_policy::violation_messages(&evaluation.violations, &evaluation.feedback, text, lang),
        feedback: evaluation.feedback,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response())
}

/// zxcvbn's advice, when the strength rule is what fails.
fn advice(evaluation: &Evaluation, text: impl Fn(&str) -> String) -> Vec<String> {
    if evaluation.violations.iter().any(|v| matches!(v, policy::Violation::TooWeak { .. })) {
        super::password_policy::strength_advice(&evaluation.feedback, text)
    } else {
        Vec::new()
    }
}

//! The login page, for any protocol. Its core (`show`, `submit`) knows nothing of what the
//! sign-in is for: a protocol's handler builds a `LoginTarget` (the `Continuation`, the client,
//! where the form posts) and calls them; the sign-in itself is `account::signin`, and what it
//! resumes is mapped back to its protocol by `resume`. `/login?request_id=` (OpenID Connect,
//! `login_get`/`login_post`) is one such handler, `/cas/login` another.
//!
//! POST checks the credentials (one generic failure message), then either sends the browser
//! through the first-login steps it owes (`/first-login`, issue #4) or starts the session and
//! resumes what the sign-in was for.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::resume::{self, WhenGone};
use super::{PostedForm, field, parse_params, see_other};
use crate::account::csrf::Context;
use crate::account::lockout;
use crate::account::signin::{self, Attempt, Continuation, SignInOutcome};
use crate::domain::user_type::UserType;
use crate::domain::{Client, Lang, Secret};
use crate::oidc::authorize;
use crate::web::AppState;
use crate::web::browser::{Browser, set_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

/// The path of the OpenID Connect login page.
const OIDC_FORM: &str = "/login";

/// What a login page signs in for, and how its form comes back: everything the core needs,
/// built by each protocol's handler from its own pending state.
#[derive(Clone, Debug)]
pub struct LoginTarget {
    /// What to resume once signed in.
    pub continuation: Continuation,
    /// The relying party: theme, name on the page, audit.
    pub client: Client,
    pub ui_locales: Option<String>,
    /// The identifier to fill in (OpenID Connect `login_hint`).
    pub login_hint: Option<String>,
    /// The path the form posts to (`/login`, `/cas/login`); the page's language switch points
    /// there too. Part of the CSRF context.
    pub form_path: &'static str,
    /// The fields that name what the sign-in resumes, as the handler reads them back from the
    /// POST (`PostedForm::locator`) to rebuild this target: hidden in the form, in the language
    /// switch URL, and (encoded) the CSRF context's locator. Prefer the server's own ids (a
    /// pending request id): a token is then good for that pending state only.
    pub locator: Vec<(&'static str, String)>,
    /// The query the "forgotten password / identifier" links carry (without `lang`), so that a
    /// recovery comes back here: `request_id=…` for OpenID Connect, `client_id=…` otherwise.
    pub recovery_query: Vec<(&'static str, String)>,
    /// Where the browser may be sent once signed in (CSP `form-action`), e.g. the origin of the
    /// redirect URI.
    pub redirect_origin: Option<String>,
}

impl LoginTarget {
    /// The locator as one string, for the CSRF context.
    fn csrf_locator(&self) -> String {
        serde_urlencoded::to_string(&self.locator).unwrap_or_default()
    }

    /// This page in `lang`, keeping the theme's `user_type` (`hinted_type`).
    fn url_in(&self, lang: Lang, user_type: Option<&str>) -> String {
        let mut pairs = self.locator.clone();
        pairs.extend(user_type.map(|id| ("user_type", id.to_owned())));
        query_url(self.form_path, &pairs, lang)
    }
}

fn query_url(path: &str, pairs: &[(&'static str, String)], lang: Lang) -> String {
    format!("{path}?{}", query_of(pairs, lang))
}

/// `pairs`, then `lang`, as a query string.
fn query_of(pairs: &[(&'static str, String)], lang: Lang) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.push(("lang", lang.code()));
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[derive(Serialize)]
struct HiddenField<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct LoginPage<'a> {
    csrf: String,
    /// Where the form posts, and its query (`lang`, the theme's `user_type`).
    form_action: &'a str,
    form_query: String,
    hidden: Vec<HiddenField<'a>>,
    /// The recovery links' query, `lang` included (the paths are the template's).
    recovery_query: String,
    login: &'a str,
    error: String,
    /// Set with the lock message (issue #13): the whole minutes left, for
    /// "Réessayez dans {n} minutes" and the link to recovery.
    locked_minutes: Option<i64>,
    client_name: &'a str,
}

/// What the page says above the form after a POST.
#[derive(Clone, Copy)]
enum Notice<'a> {
    /// A catalog key (the generic failure, a required field, busy).
    Error(&'a str),
    /// "Le compte a été verrouillé…", the minutes left and a link to recovery.
    Locked { minutes: i64 },
}

/// The `user_type` of the page's URL, whose theme the page takes when its client has none: a
/// recovery's "Continuer" names the type it was shown for, so that the flow ends in the theme it
/// was shown in (issue #13). It changes nothing else.
fn hinted_type<'a>(state: &'a AppState, browser: &Browser) -> Option<&'a UserType> {
    let pairs: Vec<(String, String)> =
        browser.query.as_deref().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
    let (_, id) = pairs.into_iter().find(|(k, _)| k == "user_type")?;
    state.services.user_types.get(&id).filter(|t| t.theme.is_some())
}

/// The page's theme and language: the client's theme, else the theme of the hinted user type,
/// else that of the type the client preselects for its recoveries.
fn view_of(state: &AppState, browser: &Browser, target: &LoginTarget) -> View {
    let types = &state.services.user_types;
    let hinted = hinted_type(state, browser);
    let preselected = target.client.settings.recovery_user_type.as_deref().and_then(|id| types.get(id));
    let mut view = View::with_user_type(
        state,
        browser,
        Some(&target.client),
        target.ui_locales.as_deref(),
        hinted.or(preselected),
    );
    // The page shown after a failed attempt answers a POST: its language switch must still
    // name what the sign-in is for.
    view.lang_switch_url = target.url_in(view.lang.other(), hinted.map(|t| t.id.as_str()));
    view
}

fn render(state: &AppState, browser: &Browser, target: &LoginTarget, login: &str, notice: Option<Notice>) -> Response {
    let view = view_of(state, browser, target);
    let locator = target.csrf_locator();
    let (csrf, set) = state.form_token(browser, &Context::Login { form: target.form_path, locator: &locator });
    let hint: Vec<(&'static str, String)> =
        hinted_type(state, browser).map(|t| ("user_type", t.id.clone())).into_iter().collect();
    let page = LoginPage {
        csrf,
        form_action: target.form_path,
        form_query: query_of(&hint, view.lang),
        hidden: target.locator.iter().map(|(name, value)| HiddenField { name, value }).collect(),
        recovery_query: query_of(&target.recovery_query, view.lang),
        login,
        error: match notice {
            Some(Notice::Error(key)) => state.text(&view, key),
            Some(Notice::Locked { .. }) => state.text(&view, "login_locked"),
            None => String::new(),
        },
        locked_minutes: match notice {
            Some(Notice::Locked { minutes }) => Some(minutes),
            _ => None,
        },
        client_name: &target.client.name,
    };
    let status = if notice.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    state.page(status, &view, "login.html", &page, target.redirect_origin.as_deref(), with_cookies(set))
}

/// The login page for `target`, the identifier filled in from its hint.
pub fn show(state: &AppState, browser: &Browser, target: &LoginTarget) -> Response {
    render(state, browser, target, target.login_hint.as_deref().unwrap_or_default(), None)
}

/// The login form posted for `target` (the handler rebuilt it from the form's locator): the
/// CSRF check, the sign-in (`account::signin`), then the page again, the first-login steps, or
/// what the sign-in resumes (`resume`).
pub async fn submit(
    state: &AppState,
    browser: &Browser,
    target: &LoginTarget,
    form: PostedForm,
) -> Result<Response, AppError> {
    let locator = target.csrf_locator();
    let params = form.check(state, Context::Login { form: target.form_path, locator: &locator })?;
    let login = field(&params, "login")?.unwrap_or_default();
    if field(&params, "forgot")? == Some("password") {
        return Ok(forgot_password(state, browser, target, login));
    }
    let password = field(&params, "password")?.unwrap_or_default();
    if login.trim().is_empty() || password.is_empty() {
        return Ok(render(state, browser, target, login, Some(Notice::Error("login_required_field"))));
    }
    let info = browser.client_info();
    // The first-login steps go on in the language of the page the form was on (its `?lang=`,
    // else the request's `ui_locales`, else the browser's), not only the request's (issue #13,
    // item 8).
    let page_lang = browser.lang(target.ui_locales.as_deref()).code();
    let attempt = Attempt {
        continuation: &target.continuation,
        client_id: &target.client.id,
        ui_locales: Some(page_lang),
        info: &info,
        previous_session: browser.cookie(state.cookies.session),
        lockout: lockout::page_lockout(&state.services, Some(&target.client.settings)),
    };
    match signin::sign_in_with_password(&state.services, &attempt, login, &Secret::new(password)).await? {
        SignInOutcome::Failed => Ok(render(state, browser, target, login, Some(Notice::Error("login_failed")))),
        SignInOutcome::Locked { until } => {
            let minutes = lockout::minutes_left(until, state.services.now());
            Ok(render(state, browser, target, login, Some(Notice::Locked { minutes })))
        }
        SignInOutcome::Busy => {
            // RFC 6585 §4: 429 Too Many Requests, with when to come back.
            let mut page = render(state, browser, target, login, Some(Notice::Error("login_busy")));
            *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            page.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("2"));
            Ok(page)
        }
        SignInOutcome::FirstLogin { flow_secret } => {
            let mut response = see_other("/first-login");
            response.headers_mut().extend(with_cookies([super::first_login::flow_cookie(state, &flow_secret)]));
            Ok(response)
        }
        SignInOutcome::SignedIn(signed_in) => {
            let cookie = session_cookie(state, &signed_in.cookie_secret);
            resume::resume(state, browser, &signed_in, vec![cookie], WhenGone::ExpiredPage).await
        }
    }
}

/// "Mot de passe perdu ?", a button of the login form (Bonus Eco: "je saisis mon login et je
/// clique sur le lien"): to the password recovery of this sign-in with the typed identifier as
/// its `login_hint`, so it carries over without JavaScript (issue #13). Whatever was typed in
/// the password field is dropped unread.
fn forgot_password(state: &AppState, browser: &Browser, target: &LoginTarget, login: &str) -> Response {
    let lang = view_of(state, browser, target).lang;
    let mut pairs = target.recovery_query.clone();
    let login = login.trim();
    if !login.is_empty() {
        pairs.push(("login_hint", login.to_owned()));
    }
    see_other(&query_url("/recovery/password", &pairs, lang))
}

/// `Set-Cookie` of a session that just started (`account::signin::SignedIn`).
pub fn session_cookie(state: &AppState, secret: &Secret) -> String {
    set_cookie(state.cookies.session, secret.expose(), state.cookies.secure, None)
}

/// The login page of a pending OpenID Connect authorization request.
async fn oidc_target(state: &AppState, request_id: Option<&str>) -> Result<LoginTarget, AppError> {
    let Some((request, client)) = authorize::pending(&state.services, request_id.unwrap_or_default()).await? else {
        return Err(AppError::expired());
    };
    Ok(LoginTarget {
        continuation: Continuation::Authorization { request_id: request.id.clone() },
        locator: vec![("request_id", request.id.clone())],
        recovery_query: vec![("request_id", request.id.clone())],
        form_path: OIDC_FORM,
        redirect_origin: origin_of(&request.redirect_uri),
        ui_locales: request.ui_locales,
        login_hint: request.login_hint,
        client,
    })
}

pub async fn login_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let target = oidc_target(&state, field(&params, "request_id")?).await?;
    Ok(show(&state, &browser, &target))
}

pub async fn login_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let target = oidc_target(&state, form.locator("request_id")?).await?;
    submit(&state, &browser, &target, form).await
}

//! The login page: GET shows it for a pending authorization request, POST checks the
//! credentials (one generic failure message), then either sends the browser through the
//! first-login steps it owes (`/first-login`, issue #4) or starts the session and resumes the
//! authorization.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::authorize::respond;
use super::{PostedForm, field, parse_params, see_other};
use crate::account::csrf::Context;
use crate::account::first_login;
use crate::account::login::{self, LoginOutcome};
use crate::domain::{Client, Lang, Secret};
use crate::oidc::authorize::{self, AuthRequest};
use crate::session::{self, BrowserSession};
use crate::web::AppState;
use crate::web::browser::{Browser, set_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

#[derive(Serialize)]
struct LoginPage<'a> {
    csrf: String,
    request_id: &'a str,
    login: &'a str,
    error: String,
    client_name: &'a str,
}

async fn pending(
    state: &AppState,
    browser: &Browser,
    request_id: Option<&str>,
) -> Result<(AuthRequest, Client, View), AppError> {
    let Some((request, client)) = authorize::pending(&state.services, request_id.unwrap_or_default()).await? else {
        return Err(AppError::expired());
    };
    let mut view = View::new(state, browser, Some(&client), request.ui_locales.as_deref());
    // The page shown after a failed attempt answers a POST: its language switch must still
    // name the pending request.
    view.lang_switch_url = login_url(&request.id, view.lang.other());
    Ok((request, client, view))
}

/// The login page of a pending request, in `lang`.
fn login_url(request_id: &str, lang: Lang) -> String {
    let query = serde_urlencoded::to_string([("request_id", request_id), ("lang", lang.code())]).unwrap_or_default();
    format!("/login?{query}")
}

fn render(
    state: &AppState,
    browser: &Browser,
    view: &View,
    request: &AuthRequest,
    client: &Client,
    login: &str,
    error: Option<&str>,
) -> Response {
    let (csrf, set) = state.form_token(browser, &Context::Login { request_id: &request.id });
    let page = LoginPage {
        csrf,
        request_id: &request.id,
        login,
        error: error.map(|key| state.text(view, key)).unwrap_or_default(),
        client_name: &client.name,
    };
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    state.page(status, view, "login.html", &page, origin_of(&request.redirect_uri).as_deref(), with_cookies(set))
}

pub async fn login_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let (request, client, view) = pending(&state, &browser, field(&params, "request_id")?).await?;
    let hint = request.login_hint.clone().unwrap_or_default();
    Ok(render(&state, &browser, &view, &request, &client, &hint, None))
}

pub async fn login_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let (request, client, view) = pending(&state, &browser, form.locator("request_id")?).await?;
    let params = form.check(&state, Context::Login { request_id: &request.id })?;
    let login = field(&params, "login")?.unwrap_or_default();
    let password = field(&params, "password")?.unwrap_or_default();
    if login.trim().is_empty() || password.is_empty() {
        return Ok(render(&state, &browser, &view, &request, &client, login, Some("login_required_field")));
    }
    let (user, password_expired) =
        match login::authenticate(&state.services, login, &Secret::new(password), &browser.client_info(), &client.id)
            .await?
        {
            LoginOutcome::Success { user, password_expired } => (user, password_expired),
            LoginOutcome::Failed => {
                tracing::info!(client_id = %client.id, "sign-in failed");
                return Ok(render(&state, &browser, &view, &request, &client, login, Some("login_failed")));
            }
            LoginOutcome::Busy => {
                // RFC 6585 §4: 429 Too Many Requests, with when to come back.
                let mut page = render(&state, &browser, &view, &request, &client, login, Some("login_busy"));
                *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                page.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("2"));
                return Ok(page);
            }
        };
    // Issue #4: a provisional or expired password, a secret question, terms or a captcha still
    // owed come first, on their own pages; the session starts when they are done.
    let s = &state.services;
    if let Some((secret, _)) =
        first_login::start(s, &user, password_expired, &request.id, &client.id, request.ui_locales.as_deref()).await?
    {
        tracing::info!(client_id = %client.id, "sign-in continues with the first-login steps");
        let mut response = see_other("/first-login");
        response.headers_mut().extend(with_cookies([super::first_login::flow_cookie(&state, &secret)]));
        return Ok(response);
    }
    first_login::activate(s, &user, &browser.client_info()).await?;
    let (new_session, cookie) = start_session(&state, &browser, &user.id).await?;
    tracing::info!(client_id = %client.id, sid = %new_session.sid, "sign-in succeeded");
    let outcome = authorize::resume_after_login(s, &request.id, &new_session).await?;
    respond(&state, &browser, outcome, vec![cookie]).await
}

/// Starts the session of a user who just signed in on this browser (`amr` `pwd`); returns it
/// and its `Set-Cookie`. A new session id at every sign-in (no session fixation); the browser's
/// previous session ends.
pub async fn start_session(
    state: &AppState,
    browser: &Browser,
    user_id: &str,
) -> Result<(BrowserSession, String), AppError> {
    if let Some(old) = super::authorize::current_session(state, browser).await? {
        session::end(&state.services, &old).await?;
    }
    let (secret, new_session) = session::create(&state.services, user_id, &["pwd"], &browser.client_info()).await?;
    let cookie = set_cookie(state.cookies.session, secret.expose(), state.cookies.secure, None);
    Ok((new_session, cookie))
}

//! The CAS 3.0 endpoints under /cas (`crate::cas`): thin handlers, each extracting the request,
//! calling one `cas` function and mapping its outcome: a redirect, an auto-posted form
//! (`method=POST`), a themed page, or the XML/JSON/text answer of a validation endpoint.
//!
//! SHIM (until the generic sign-in is merged): `cas_login_post` and the login page rendered by
//! `sign_in` are the provider's own form for a CAS sign-in; they go once /cas/login renders
//! the generic login page.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::authorize::current_session;
use super::login::start_session;
use super::{PostedForm, field, see_other};
use crate::account::csrf::Context;
use crate::account::first_login;
use crate::account::login::{self, LoginOutcome as Authenticated};
use crate::account::signin::Continuation;
use crate::cas::login::{self as cas_login, LoginOutcome, Refusal};
use crate::cas::validate::{self, Answer, Endpoint};
use crate::cas::{proxy, signin_shim, single_logout};
use crate::domain::{Client, Secret};
use crate::session;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

/// GET /cas/login (§2.1).
pub async fn cas_login_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let session = current_session(&state, &browser).await?;
    let outcome = cas_login::start(
        &state.services,
        query.as_deref().unwrap_or_default(),
        session.as_ref(),
        &browser.client_info(),
    )
    .await?;
    respond(&state, &browser, outcome, Vec::new()).await
}

/// Maps a CAS login outcome to a response; `cookies` are Set-Cookie values to send along.
pub async fn respond(
    state: &AppState,
    browser: &Browser,
    outcome: LoginOutcome,
    cookies: Vec<String>,
) -> Result<Response, AppError> {
    match outcome {
        LoginOutcome::Refused(Refusal::InvalidRequest) => {
            Err(AppError::page(StatusCode::BAD_REQUEST, "error_invalid_request"))
        }
        LoginOutcome::Refused(Refusal::UnknownService) => {
            Err(AppError::page(StatusCode::BAD_REQUEST, "cas_error_unknown_service"))
        }
        LoginOutcome::Refused(Refusal::Denied { client, session }) => {
            super::access_denied::page_for_service(state, browser, &client, &session, cookies).await
        }
        LoginOutcome::Redirect(url) => {
            let mut response = see_other(&url);
            response.headers_mut().extend(with_cookies(cookies));
            Ok(response)
        }
        LoginOutcome::FormPost { action, fields } => {
            Ok(super::select_account::form_post_page(state, browser, action, fields, with_cookies(cookies)))
        }
        LoginOutcome::AlreadySignedIn => Ok(see_other("/account")),
        LoginOutcome::SignIn { continuation, client } => {
            sign_in(state, browser, &continuation, client.as_deref()).await
        }
    }
}

#[derive(Serialize)]
struct LoginPage<'a> {
    csrf: String,
    request_id: &'a str,
    login: &'a str,
    error: String,
    client_name: &'a str,
    form_action: &'static str,
}

/// SHIM: the login page for a CAS sign-in (the OpenID Connect login template, posting here).
async fn sign_in(
    state: &AppState,
    browser: &Browser,
    continuation: &Continuation,
    client: Option<&Client>,
) -> Result<Response, AppError> {
    let id = signin_shim::keep(&state.services, continuation).await?;
    Ok(render_login(state, browser, &id, client, "", None))
}

fn render_login(
    state: &AppState,
    browser: &Browser,
    id: &str,
    client: Option<&Client>,
    login: &str,
    error: Option<&str>,
) -> Response {
    let view = View::new(state, browser, client, None);
    let (csrf, set) = state.form_token(browser, &Context::Login { request_id: id });
    let page = LoginPage {
        csrf,
        request_id: id,
        login,
        error: error.map(|key| state.text(&view, key)).unwrap_or_default(),
        client_name: client.map(|c| c.name.as_str()).unwrap_or_default(),
        form_action: "/cas/login",
    };
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    state.page(status, &view, "login.html", &page, None, with_cookies(set))
}

/// POST /cas/login (SHIM): the provider's own login form for a CAS sign-in (§2.2, credential
/// acceptor).
pub async fn cas_login_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let s = &state.services;
    let id = form.locator("request_id")?.unwrap_or_default().to_owned();
    let Some(continuation) = signin_shim::find(s, &id).await? else { return Err(AppError::expired()) };
    let params = form.check(&state, Context::Login { request_id: &id })?;
    let client = match continuation.client_id() {
        Some(client_id) => s.store.client(client_id).await.map_err(crate::services::InfraError::from)?,
        None => None,
    };
    let login_name = field(&params, "login")?.unwrap_or_default();
    let password = field(&params, "password")?.unwrap_or_default();
    if login_name.trim().is_empty() || password.is_empty() {
        return Ok(render_login(&state, &browser, &id, client.as_ref(), login_name, Some("login_required_field")));
    }
    let client_id = client.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let user =
        match login::authenticate(s, login_name, &Secret::new(password), &browser.client_info(), &client_id).await? {
            Authenticated::Success { user, password_expired } => {
                if !first_login::owed(s, &user, password_expired, false).await?.is_empty() {
                    // The first-login steps need the generic sign-in (not merged yet).
                    return Err(AppError::page(StatusCode::FORBIDDEN, "cas_error_first_login"));
                }
                user
            }
            Authenticated::Failed => {
                return Ok(render_login(&state, &browser, &id, client.as_ref(), login_name, Some("login_failed")));
            }
            Authenticated::Busy => {
                let mut page = render_login(&state, &browser, &id, client.as_ref(), login_name, Some("login_busy"));
                *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
                return Ok(page);
            }
        };
    first_login::activate(s, &user, &browser.client_info()).await?;
    let (new_session, cookie) = start_session(&state, &browser, &user.id).await?;
    signin_shim::forget(s, &id).await?;
    let outcome = match continuation {
        Continuation::Cas { client_id, service, post, .. } => {
            cas_login::resume(s, &client_id, &service, post, &new_session, &browser.client_info()).await?
        }
        _ => LoginOutcome::AlreadySignedIn,
    };
    let mut response = respond(&state, &browser, outcome, Vec::new()).await?;
    response.headers_mut().extend(with_cookies([cookie]));
    Ok(response)
}

fn answer(a: Answer) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(a.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    (StatusCode::OK, headers, a.body).into_response()
}

async fn validate_at(
    state: &AppState,
    browser: &Browser,
    endpoint: Endpoint,
    query: Option<String>,
) -> Result<Response, AppError> {
    let a = validate::validate(&state.services, endpoint, query.as_deref().unwrap_or_default(), &browser.client_info())
        .await?;
    Ok(answer(a))
}

/// GET /cas/validate (CAS 1.0, §2.4).
pub async fn cas_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::Validate, query).await
}

/// GET /cas/serviceValidate (CAS 2.0, §2.5).
pub async fn cas_service_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::ServiceValidate, query).await
}

/// GET /cas/proxyValidate (CAS 2.0, §2.6).
pub async fn cas_proxy_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::ProxyValidate, query).await
}

/// GET /cas/p3/serviceValidate (CAS 3.0, §2.8).
pub async fn cas_p3_service_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::P3ServiceValidate, query).await
}

/// GET /cas/p3/proxyValidate (CAS 3.0, §2.9).
pub async fn cas_p3_proxy_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::P3ProxyValidate, query).await
}

/// GET /cas/proxy (§2.7).
pub async fn cas_proxy_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let a = proxy::proxy(&state.services, query.as_deref().unwrap_or_default(), &browser.client_info()).await?;
    Ok(answer(a))
}

/// GET /cas/logout (§2.3): ends the browser session (every protocol is told: OpenID Connect
/// back- and front-channel logout, CAS single logout), then back to `service` if a client
/// registered it, else the logged-out page. A GET, as the specification has it: the session
/// cookie is `SameSite=Lax`, so another site can only end it through a visible top-level
/// navigation to this page, never from an image or a script.
pub async fn cas_logout_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let s = &state.services;
    let query = query.unwrap_or_default();
    let mut frames = Vec::new();
    if let Some(current) = current_session(&state, &browser).await? {
        frames = session::end(s, &current).await?;
        single_logout::record_logout(s, &current, &query, &browser.client_info()).await?;
    }
    let cookies = vec![clear_cookie(state.cookies.session, state.cookies.secure)];
    let location = single_logout::redirect_after(s, &query).await?;
    let view = View::new(&state, &browser, None, None);
    Ok(super::logout::after_sign_out(&state, &view, "", &frames, location.as_deref(), cookies))
}

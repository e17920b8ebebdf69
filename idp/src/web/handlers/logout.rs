//! The end-session endpoint (RP-Initiated Logout 1.0), its confirmation page and the
//! logged-out page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::authorize::current_session;
use super::{PostedForm, field, form_body, parse_params, see_other};
use crate::account::csrf::Context;
use crate::oidc::authorize::PageError;
use crate::oidc::logout::{self, LogoutDecision, LogoutRequest};
use crate::oidc::params::Params;
use crate::session;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

#[derive(Serialize)]
struct ConfirmPage<'a> {
    csrf: String,
    logout_id: &'a str,
    client_name: &'a str,
}

#[derive(Serialize)]
struct LoggedOutPage<'a> {
    client_name: &'a str,
    /// Front-channel logout iframes (OpenID Connect Front-Channel Logout 1.0 §2).
    frontchannel: Vec<&'a str>,
    /// Where the application asked to return, when the page is shown first for the iframes.
    continue_url: Option<&'a str>,
}

pub async fn logout_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    handle(&state, &browser, &params).await
}

pub async fn logout_post(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = form_body(&headers, &body)?;
    handle(&state, &browser, &params).await
}

async fn handle(state: &AppState, browser: &Browser, params: &Params) -> Result<Response, AppError> {
    let session = current_session(state, browser).await?;
    let ui_locales = params.get("ui_locales").ok().flatten();
    match logout::validate(&state.services, params, session.as_ref(), &browser.ip).await? {
        LogoutDecision::Page(PageError::InvalidRedirectUri) => Err(AppError::Page {
            // Not the sign-in wording: the catalog has a message for the address after sign-out.
            status: StatusCode::BAD_REQUEST,
            key: "error_logout_redirect",
            code: "invalid_redirect_uri".to_owned(),
            view: Some(View::new(state, browser, None, ui_locales)),
        }),
        LogoutDecision::Page(err) => {
            let view = View::new(state, browser, None, ui_locales);
            Err(AppError::from_page_error(err, Some(view)))
        }
        LogoutDecision::Proceed(request) => sign_out(state, browser, &request).await,
        LogoutDecision::Confirm { logout_id, request } => {
            let client = logout::client_of(&state.services, &request).await?;
            let view = View::new(state, browser, client.as_ref(), request.ui_locales.as_deref());
            let sid = session.as_ref().map(|s| s.sid.as_str());
            let (csrf, set) = state.form_token(browser, &Context::LogoutConfirm { logout_id: &logout_id, sid });
            let page = ConfirmPage {
                csrf,
                logout_id: &logout_id,
                client_name: request.client_name.as_deref().unwrap_or_default(),
            };
            let target = request.post_logout_redirect_uri.as_deref().and_then(origin_of);
            Ok(state.page(StatusCode::OK, &view, "logout_confirm.html", &page, target.as_deref(), with_cookies(set)))
        }
    }
}

pub async fn logout_confirm_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    // The token names the session the page was shown to: a planted pair cannot end another.
    let logout_id = form.locator("logout_id")?.unwrap_or_default().to_owned();
    let session = current_session(&state, &browser).await?;
    let sid = session.as_ref().map(|s| s.sid.as_str());
    let params = form.check(&state, Context::LogoutConfirm { logout_id: &logout_id, sid })?;
    let Some(request) = logout::confirmed(&state.services, &logout_id).await? else {
        return Err(AppError::expired());
    };
    match field(&params, "decision")? {
        Some("logout") => sign_out(&state, &browser, &request).await,
        // The user stays signed in; back to the application if it said where, else home page.
        Some("cancel") => Ok(see_other(&logout::redirect_after(&request).unwrap_or_else(|| "/account".to_owned()))),
        _ => Err(AppError::page(StatusCode::BAD_REQUEST, "error_bad_request")),
    }
}

async fn sign_out(state: &AppState, browser: &Browser, request: &LogoutRequest) -> Result<Response, AppError> {
    let mut frames = Vec::new();
    if let Some(current) = current_session(state, browser).await? {
        frames = session::end(&state.services, &current).await?;
        tracing::info!(sid = %current.sid, "signed out");
    }
    let cookies = vec![clear_cookie(state.cookies.session, state.cookies.secure)];
    let location = logout::redirect_after(request);
    let client = logout::client_of(&state.services, request).await?;
    let view = View::new(state, browser, client.as_ref(), request.ui_locales.as_deref());
    let client_name = request.client_name.as_deref().unwrap_or_default();
    Ok(after_sign_out(state, &view, client_name, &frames, location.as_deref(), cookies))
}

/// The answer once a session has ended (RP-initiated logout, /cas/logout): straight to
/// `location` when there are no front-channel iframes to load (Front-Channel Logout 1.0), else
/// the logged-out page with the iframes, leading on to `location` if there is one.
pub fn after_sign_out(
    state: &AppState,
    view: &View,
    client_name: &str,
    frames: &[session::LogoutFrame],
    location: Option<&str>,
    cookies: Vec<String>,
) -> Response {
    if let Some(location) = location
        && frames.is_empty()
    {
        let mut response = see_other(location);
        response.headers_mut().extend(with_cookies(cookies));
        return response;
    }
    let page = LoggedOutPage {
        client_name,
        frontchannel: frames.iter().map(|f| f.url.as_str()).collect(),
        continue_url: location,
    };
    let mut origins: Vec<String> = frames.iter().map(|f| f.origin.clone()).collect();
    origins.sort();
    origins.dedup();
    state.page_with_frames(StatusCode::OK, view, "logged_out.html", &page, None, &origins, with_cookies(cookies))
}

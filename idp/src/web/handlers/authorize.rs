//! GET and POST /authorize, and the mapping of an authorization `Outcome` to a response, shared
//! with the login and consent pages.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::{form_body, parse_params, see_other};
use crate::account::session::{self, BrowserSession};
use crate::oidc::authorize::{self, Outcome};
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

pub async fn authorize_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    start(&state, &browser, &params).await
}

/// OpenID Connect Core §3.1.2.1: the authorization endpoint MUST support POST too.
pub async fn authorize_post(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = form_body(&headers, &body)?;
    start(&state, &browser, &params).await
}

async fn start(state: &AppState, browser: &Browser, params: &Params) -> Result<Response, AppError> {
    let session = current_session(state, browser).await?;
    let outcome = authorize::start(&state.services, params, session.as_ref()).await?;
    respond(state, browser, outcome, Vec::new())
}

/// The signed-in browser session, if the cookie names a live one.
pub async fn current_session(state: &AppState, browser: &Browser) -> Result<Option<BrowserSession>, AppError> {
    match browser.cookie(state.cookies.session) {
        Some(secret) => Ok(session::from_cookie(&state.services, secret).await?),
        None => Ok(None),
    }
}

/// Turns an authorization outcome into a redirect or an error page; `cookies` are Set-Cookie
/// values to send along (a new session).
pub fn respond(
    state: &AppState,
    browser: &Browser,
    outcome: Outcome,
    cookies: Vec<String>,
) -> Result<Response, AppError> {
    let location = match outcome {
        Outcome::Page(err) => {
            let view = View::new(state, browser, None, None);
            return Err(AppError::from_page_error(err, Some(view)));
        }
        Outcome::Redirect(url) => url,
        Outcome::FormPost { action, fields } => {
            return Ok(super::select_account::form_post_page(state, browser, action, fields, with_cookies(cookies)));
        }
        Outcome::Login(request, _) => format!("/login?request_id={}", request.id),
        Outcome::Consent(request, _) => format!("/consent?request_id={}", request.id),
        Outcome::SelectAccount(request, _) => format!("/select_account?request_id={}", request.id),
    };
    let mut response = see_other(&location);
    response.headers_mut().extend(with_cookies(cookies));
    Ok(response.into_response())
}

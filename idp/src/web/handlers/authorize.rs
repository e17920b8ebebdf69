//! GET and POST /authorize, and the mapping of an authorization `Outcome` to a response, shared
//! with the login and consent pages.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::{form_body, parse_params, see_other};
use crate::account::csrf::Context;
use crate::oidc::authorize::{self, Outcome};
use crate::oidc::params::Params;
use crate::services::InfraError;
use crate::session::{self, BrowserSession};
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
    let outcome = authorize::start(&state.services, params, session.as_ref(), &browser.ip).await?;
    respond(state, browser, outcome, Vec::new()).await
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
pub async fn respond(
    state: &AppState,
    browser: &Browser,
    outcome: Outcome,
    cookies: Vec<String>,
) -> Result<Response, AppError> {
    let location = match outcome {
        // Themed for the query's client and in its ui_locales by the error pages (issue #13).
        Outcome::Page(err) => return Err(AppError::from_page_error(err, None)),
        Outcome::Redirect(url) => url,
        Outcome::FormPost { action, fields, page_for } => {
            let client = state.services.store.client(&page_for.client_id).await.map_err(InfraError::from)?;
            let view = View::new(state, browser, client.as_ref(), page_for.ui_locales.as_deref());
            let headers = with_cookies(cookies);
            return Ok(super::select_account::form_post_page(state, view, action, fields, headers));
        }
        Outcome::Login(request, _) => with_lang(format!("/login?request_id={}", request.id), browser),
        Outcome::Consent(request, _) => with_lang(format!("/consent?request_id={}", request.id), browser),
        Outcome::SelectAccount(request, _) => with_lang(format!("/select_account?request_id={}", request.id), browser),
        Outcome::AccessDenied(request, client, session) => {
            return super::access_denied::page(state, browser, &request, &client, &session, cookies).await;
        }
    };
    let mut response = see_other(&location);
    response.headers_mut().extend(with_cookies(cookies));
    Ok(response.into_response())
}

/// `url` with the `lang` the authorization request's own URL carried (a portal's link in the
/// language of its page, or a person's switch), when it names a language this IdP speaks: the
/// pages that follow keep it (issue #13, item 8). `ui_locales` travels in the request itself.
fn with_lang(url: String, browser: &Browser) -> String {
    match browser.lang_param.as_deref().and_then(crate::domain::Lang::from_tag) {
        Some(lang) => format!("{url}&lang={}", lang.code()),
        None => url,
    }
}

/// A page about a pending authorization request shown to the signed-in user (consent,
/// account choice): the request, its client, the user's name, the view and a CSRF token bound
/// to the request and the session.
pub struct SignedInRequest {
    pub request: crate::oidc::authorize::AuthRequest,
    pub client: crate::domain::Client,
    pub user_name: String,
    pub view: View,
    pub csrf: String,
    /// Set-Cookie for a CSRF cookie made now, if the browser had none.
    pub set_cookie: Option<String>,
}

/// Loads the request named by `?request_id=`; `Err` holds the answer when there is no page to
/// show: the request expired (themed error) or nobody is signed in (back to the login page).
pub async fn signed_in_request(
    state: &AppState,
    browser: &Browser,
    query: Option<&str>,
) -> Result<Result<SignedInRequest, Response>, AppError> {
    let params = super::parse_params(query.unwrap_or_default())?;
    let request_id = super::field(&params, "request_id")?.unwrap_or_default();
    let Some((request, client)) = authorize::pending(&state.services, request_id).await? else {
        return Err(AppError::expired());
    };
    let Some(session) = current_session(state, browser).await? else {
        return Ok(Err(see_other(&format!("/login?request_id={}", request.id))));
    };
    let user = session::user(&state.services, &session).await?;
    let view = View::new(state, browser, Some(&client), request.ui_locales.as_deref());
    let (csrf, set_cookie) =
        state.form_token(browser, &Context::SignedInRequest { request_id: &request.id, sid: &session.sid });
    Ok(Ok(SignedInRequest {
        csrf,
        user_name: user.map(|u| u.display_name()).unwrap_or_default(),
        request,
        client,
        view,
        set_cookie,
    }))
}

/// The form of a page about a pending request posted by the signed-in user (consent, account
/// choice): the request id and the session, once the token is checked against both. `Err`
/// holds the answer when nobody is signed in any more: the login page, as the GET would answer
/// (nothing is changed before the check).
pub async fn signed_in_form(
    state: &AppState,
    browser: &Browser,
    form: super::PostedForm,
) -> Result<Result<(Params, String, BrowserSession), Response>, AppError> {
    let request_id = form.locator("request_id")?.unwrap_or_default().to_owned();
    let Some(session) = current_session(state, browser).await? else {
        let query = serde_urlencoded::to_string([("request_id", request_id.as_str())]).unwrap_or_default();
        return Ok(Err(see_other(&format!("/login?{query}"))));
    };
    let params = form.check(state, Context::SignedInRequest { request_id: &request_id, sid: &session.sid })?;
    Ok(Ok((params, request_id, session)))
}

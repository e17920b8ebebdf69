//! The page of a refusal by an application's authorisation rule (issue #11,
//! `account::authorization`): "you do not have the permissions required…", the application,
//! the support contact of the user's type, a sign-out button and a way back. Status 403.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::account::csrf::Context;
use crate::domain::Client;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::logout::{self, LogoutDecision};
use crate::oidc::params::Params;
use crate::session::BrowserSession;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

#[derive(Serialize)]
struct AccessDeniedPage {
    client_name: String,
    support: String,
    support_url: String,
    /// The sign-out form (the RP-initiated logout confirmation, already confirmed by the
    /// button): empty when none could be prepared (too many pending requests).
    logout_id: String,
    csrf: String,
    /// The application's site (the origin of its redirect URI), when it has one.
    back_url: String,
}

/// `cookies`: Set-Cookie values to send along (the session of a sign-in that just ended here:
/// the user is signed in, and may sign out from this page).
pub async fn page(
    state: &AppState,
    browser: &Browser,
    request: &AuthRequest,
    client: &Client,
    session: &BrowserSession,
    cookies: Vec<String>,
) -> Result<Response, AppError> {
    let back_url = origin_of(&request.redirect_uri).filter(|o| o.starts_with("http")).unwrap_or_default();
    show(state, browser, client, session, request.ui_locales.as_deref(), back_url, cookies).await
}

/// The same page for a CAS service (`cas::login`): no authorization request, and the way back
/// is the site of the client's first CAS service.
pub async fn page_for_service(
    state: &AppState,
    browser: &Browser,
    client: &Client,
    session: &BrowserSession,
    cookies: Vec<String>,
) -> Result<Response, AppError> {
    let back_url = client.settings.cas_services.first().and_then(|s| origin_of(s)).unwrap_or_default();
    show(state, browser, client, session, None, back_url, cookies).await
}

async fn show(
    state: &AppState,
    browser: &Browser,
    client: &Client,
    session: &BrowserSession,
    ui_locales: Option<&str>,
    back_url: String,
    mut cookies: Vec<String>,
) -> Result<Response, AppError> {
    let s = &state.services;
    let user = crate::session::user(s, session).await?;
    let user_type = user.as_ref().and_then(|u| s.user_types.get(&u.user_type));
    let mut view = View::new(state, browser, Some(client), ui_locales);
    // A language link would repeat the form that led here: none on this page.
    view.lang_switch_url = String::new();
    let (support, support_url) = s.recovery.support_for(user_type, view.lang);
    // Sign-out goes through the provider's logout confirmation, which this button answers.
    let params = Params::from_pairs(vec![("client_id".into(), client.id.clone())]);
    let (logout_id, csrf) = match logout::validate(s, &params, Some(session), &browser.ip).await? {
        LogoutDecision::Confirm { logout_id, .. } => {
            let (csrf, set) =
                state.form_token(browser, &Context::LogoutConfirm { logout_id: &logout_id, sid: Some(&session.sid) });
            cookies.extend(set);
            (logout_id, csrf)
        }
        _ => (String::new(), String::new()),
    };
    let page = AccessDeniedPage { client_name: client.name.clone(), support, support_url, logout_id, csrf, back_url };
    Ok(state.page(StatusCode::FORBIDDEN, &view, "access_denied.html", &page, None, with_cookies(cookies)))
}

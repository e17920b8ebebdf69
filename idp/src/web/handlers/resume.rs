//! What a sign-in resumes, by protocol: `account::signin` hands back a `Continuation` (plain
//! data, so that `account/` knows no protocol), and this is the one place that maps each variant
//! to the protocol that owns it. The login and first-login pages end here, whatever the sign-in
//! was for.

use axum::response::Response;

use super::authorize::respond;
use super::see_other;
use crate::account::signin::{Continuation, SignedIn};
use crate::cas;
use crate::cas::login::{LoginOutcome, Refusal};
use crate::oidc::authorize;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{origin_of, with_cookies};

/// What to answer when the protocol no longer holds what the sign-in was for (an authorization
/// request that expired meanwhile).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenGone {
    /// The protocol's own "expired" page (the login page, which loaded it a moment ago).
    ExpiredPage,
    /// The account space: the user is signed in now, so somewhere useful rather than an error
    /// (the first-login steps, which can outlast the request).
    AccountSpace,
}

/// Resumes what `signed_in` was for; `cookies` (the new session's, …) go with the answer.
pub async fn resume(
    state: &AppState,
    browser: &Browser,
    signed_in: &SignedIn,
    cookies: Vec<String>,
    when_gone: WhenGone,
) -> Result<Response, AppError> {
    let s = &state.services;
    match &signed_in.continuation {
        Continuation::Authorization { request_id } => {
            if when_gone == WhenGone::AccountSpace && authorize::pending(s, request_id).await?.is_none() {
                return Ok(redirect("/account", cookies));
            }
            let outcome = authorize::resume_after_login(s, request_id, &signed_in.session).await?;
            respond(state, browser, outcome, cookies).await
        }
        Continuation::AccountSpace => Ok(redirect("/account", cookies)),
        Continuation::Cas { client_id, service, post, .. } => {
            let info = browser.client_info();
            let outcome = cas::login::resume(s, client_id, service, *post, &signed_in.session, &info).await?;
            if when_gone == WhenGone::AccountSpace && outcome == LoginOutcome::Refused(Refusal::UnknownService) {
                return Ok(redirect("/account", cookies));
            }
            super::cas::respond(state, browser, outcome, cookies).await
        }
    }
}

/// Where the browser may be sent at the end of the sign-in (CSP `form-action` of the pages
/// before it: the last first-login step); `None` for this provider's own pages, or when what
/// the sign-in resumes has expired.
pub async fn redirect_origin(state: &AppState, continuation: &Continuation) -> Result<Option<String>, AppError> {
    match continuation {
        Continuation::Authorization { request_id } => Ok(authorize::pending(&state.services, request_id)
            .await?
            .and_then(|(request, _)| origin_of(&request.redirect_uri))),
        Continuation::AccountSpace => Ok(None),
        Continuation::Cas { service, .. } => Ok(origin_of(service)),
    }
}

fn redirect(location: &str, cookies: Vec<String>) -> Response {
    let mut response = see_other(location);
    response.headers_mut().extend(with_cookies(cookies));
    response
}

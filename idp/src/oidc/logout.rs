//! RP-Initiated Logout 1.0 (the end_session_endpoint). With a valid `id_token_hint` for the
//! current session the user is signed out at once; otherwise a themed page asks to confirm
//! (§2: the OP SHOULD ask the user when the request cannot be trusted). A
//! `post_logout_redirect_uri` is only followed when it is registered for the client (exact
//! match, §3); else the user gets the logged-out page.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::authorize::{PageError, redirect_with};
use super::params::Params;
use super::pending_limits as limits;
use crate::crypto;
use crate::domain::Client;
use crate::ephemeral;
use crate::services::{InfraError, Services};
use crate::session::BrowserSession;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogoutRequest {
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

#[derive(Debug)]
pub enum LogoutDecision {
    Page(PageError),
    /// Ask the user; the request is kept under this id.
    Confirm {
        logout_id: String,
        request: LogoutRequest,
    },
    /// Sign out now.
    Proceed(LogoutRequest),
}

fn key(id: &str) -> String {
    format!("logout:{id}")
}

/// A logout request as read from its parameters, before its client is loaded (`parse`).
#[derive(Clone, Debug, PartialEq)]
pub struct LogoutParams {
    /// The claims of a valid `id_token_hint` of this provider.
    pub hint: Option<Value>,
    /// The `client_id`, or the hint's `aud`.
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

/// The parameters of a logout request, the hint verified; `Err` is the page to show. Reads no
/// store (the fuzz target `logout` calls it, then `request_for` with a client of its own).
pub fn parse(s: &Services, params: &Params) -> Result<LogoutParams, PageError> {
    let bad = |m: &str| PageError::InvalidRequest(m.to_owned());
    let get = |n: &str| params.get(n).map(|v| v.map(str::to_owned));
    // What a confirmation keeps has the bounds of a pending authorization request.
    let bounded = |n: &str, max: usize| params.get_at_most(n, max).map(|v| v.map(str::to_owned));
    let (Ok(hint), Ok(client_id), Ok(redirect), Ok(state), Ok(ui_locales)) = (
        get("id_token_hint"),
        get("client_id"),
        get("post_logout_redirect_uri"),
        bounded("state", limits::MAX_STATE),
        bounded("ui_locales", limits::MAX_UI_LOCALES),
    ) else {
        return Err(bad("repeated or oversized parameter"));
    };
    // The hint is our own ID token: signature checked, expiry ignored (§2: it may have expired).
    let hint = match hint {
        None => None,
        Some(token) => match s.keys.verify(&token) {
            Ok(claims) if claims["iss"] == s.issuer.as_str() => Some(claims),
            _ => return Err(bad("id_token_hint is not a valid ID token of this provider")),
        },
    };
    let hint_aud = hint.as_ref().and_then(|c| c["aud"].as_str().map(str::to_owned));
    let client_id = match (client_id, hint_aud) {
        (Some(a), Some(b)) if a != b => return Err(bad("client_id does not match the id_token_hint")),
        (a, b) => a.or(b),
    };
    Ok(LogoutParams { hint, client_id, post_logout_redirect_uri: redirect, state, ui_locales })
}

/// The request once `parsed.client_id` was looked up (`client`: `None` when unknown or not
/// named); `Err` is the page to show: an unknown client, or a redirect URI it did not register.
pub fn request_for(parsed: &LogoutParams, client: Option<&Client>) -> Result<LogoutRequest, PageError> {
    if parsed.client_id.is_some() && client.is_none() {
        return Err(PageError::UnknownClient);
    }
    if let Some(uri) = &parsed.post_logout_redirect_uri
        && !client.is_some_and(|c| c.has_post_logout_redirect_uri(uri))
    {
        return Err(PageError::InvalidRedirectUri);
    }
    Ok(LogoutRequest {
        client_id: client.map(|c| c.id.clone()),
        client_name: client.map(|c| c.name.clone()),
        post_logout_redirect_uri: parsed.post_logout_redirect_uri.clone(),
        state: parsed.state.clone(),
        ui_locales: parsed.ui_locales.clone(),
    })
}

/// Whether the hint allows signing out without asking: it names the current session (`sid`)
/// or its user (`session_sub`, the `sub` the hint's client sees), or there is no session.
pub fn hint_is_trusted(hint: Option<&Value>, session: Option<&BrowserSession>, session_sub: Option<&str>) -> bool {
    hint.is_some_and(|claims| match session {
        None => true,
        Some(sess) => claims["sid"] == sess.sid.as_str() || claims["sub"] == session_sub.unwrap_or_default(),
    })
}

/// `ip` is the browser's address: a confirmation page keeps the request, and counts against
/// the per-address limit on pending records (decision 0013).
pub async fn validate(
    s: &Services,
    params: &Params,
    session: Option<&BrowserSession>,
    ip: &str,
) -> Result<LogoutDecision, InfraError> {
    let parsed = match parse(s, params) {
        Ok(parsed) => parsed,
        Err(page) => return Ok(LogoutDecision::Page(page)),
    };
    let client: Option<Client> = match &parsed.client_id {
        Some(id) => s.store.client(id).await?,
        None => None,
    };
    let request = match request_for(&parsed, client.as_ref()) {
        Ok(request) => request,
        Err(page) => return Ok(LogoutDecision::Page(page)),
    };
    // The hint's `sub` is the one its client saw (pairwise or public, OpenID Connect Core §8).
    let session_sub = match (session, &client) {
        (Some(sess), Some(c)) => Some(super::subject::for_client(s, &sess.user_id, c).await?),
        (Some(sess), None) => Some(sess.user_id.clone()),
        (None, _) => None,
    };
    if hint_is_trusted(parsed.hint.as_ref(), session, session_sub.as_deref()) {
        return Ok(LogoutDecision::Proceed(request));
    }
    if !limits::admit(s, ip).await? {
        return Ok(LogoutDecision::Page(PageError::TooManyRequests));
    }
    let logout_id = crypto::random_token(24);
    ephemeral::put_json(s.ephemeral.as_ref(), &key(&logout_id), &request, Duration::from_secs(600)).await?;
    Ok(LogoutDecision::Confirm { logout_id, request })
}

/// The request behind a confirmation page, once.
pub async fn confirmed(s: &Services, logout_id: &str) -> Result<Option<LogoutRequest>, InfraError> {
    if logout_id.is_empty() || logout_id.len() > 64 {
        return Ok(None);
    }
    Ok(ephemeral::take_json(s.ephemeral.as_ref(), &key(logout_id)).await?)
}

/// The client that asked for the logout, if it named one that is still registered: the theme
/// of the confirmation and logged-out pages.
pub async fn client_of(s: &Services, request: &LogoutRequest) -> Result<Option<Client>, InfraError> {
    match &request.client_id {
        Some(id) => Ok(s.store.client(id).await?),
        None => Ok(None),
    }
}

/// Where to send the user after signing out, if the client asked and may.
/// Without a state the registered URI is used exactly as registered (no stray `?`).
pub fn redirect_after(request: &LogoutRequest) -> Option<String> {
    request.post_logout_redirect_uri.as_ref().map(|uri| redirect_with(uri, &[("state", request.state.as_deref())]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_redirect_or_a_client_id_needs_a_known_client() {
        let parsed = LogoutParams {
            hint: None,
            client_id: None,
            post_logout_redirect_uri: Some("https://rp.example/bye".into()),
            state: None,
            ui_locales: None,
        };
        assert_eq!(request_for(&parsed, None), Err(PageError::InvalidRedirectUri));
        let named = LogoutParams { client_id: Some("gone".into()), ..parsed };
        assert_eq!(request_for(&named, None), Err(PageError::UnknownClient));
    }

    #[test]
    fn without_a_session_only_a_valid_hint_is_trusted() {
        assert!(hint_is_trusted(Some(&json!({"sid": "s1"})), None, None));
        assert!(!hint_is_trusted(None, None, None));
    }
}

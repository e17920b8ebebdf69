//! Tokens that end with the browser session they were issued in (issue #10, OpenID Connect Core
//! §11). A grant without `offline_access` exists because the user is signed in: its access
//! tokens (and, for a client registered with `session_refresh_tokens`, its refresh tokens)
//! stop working when that session ends, whichever way it ends: sign-out at /logout, closed from
//! /account, a new sign-in in the same browser, a password change or an administrator reset
//! (`sessions_not_before`), expiry. An `offline_access` grant is meant to outlive the session
//! and does.
//!
//! How: the token carries the session id (`sid`), and every use checks that the session is
//! still live, from the same records the browser's own cookie is checked against (the session
//! in the ephemeral store, the user's `sessions_not_before`). Nothing is written when a session
//! ends, so there is no second write that could fail or race with an issuance: the token is
//! dead in the same instant as the session, on every node. The cost is one read of the session
//! per use (introspection, userinfo, refresh) of a session-bound token.

use super::OAuthError;
use crate::domain::{Scopes, User};
use crate::services::Services;
use crate::session::{self, BrowserSession};

/// Whether tokens of a grant with `scopes` end with the session (no `offline_access`).
pub fn is_session_bound(scopes: &Scopes) -> bool {
    !scopes.contains("offline_access")
}

/// The session `sid` if it is still live for `user`: unexpired, the user's, and not
/// invalidated by a password change or reset since.
pub async fn live_session(s: &Services, sid: &str, user: &User) -> Result<Option<BrowserSession>, OAuthError> {
    let session = session::by_sid(s, sid).await?;
    Ok(session.filter(|sess| sess.user_id == user.id && sess.is_valid_for(user)))
}

/// Whether a token bound to session `sid` (`None`: bound to none) may still be used by `user`.
pub async fn is_live(s: &Services, sid: Option<&str>, user: &User) -> Result<bool, OAuthError> {
    match sid {
        None => Ok(true),
        Some(sid) => Ok(live_session(s, sid, user).await?.is_some()),
    }
}

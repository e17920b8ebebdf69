//! Browser sessions (single sign-on), kept in the ephemeral store, and what happens when one
//! ends. The cookie holds a random secret; the store key is its SHA-256 (`sid`), so a dump of the
//! store does not hold cookies. `sid` is also the OpenID Connect session id (`sid` claim) and the
//! handle shown in /account.
//!
//! This module sits below every protocol (issue #11): it imports none. A protocol that must tell
//! its applications when a session ends (OpenID Connect back- and front-channel logout, CAS
//! single logout) implements `SessionEndListener`, and `app.rs` registers it in
//! `Services::session_listeners`; `end` calls each of them once, for the one request that took
//! the session.

pub mod delivery;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::domain::{Secret, User};
use crate::ephemeral::{self, ttl_until};
use crate::services::{InfraError, Services};

/// One iframe of the page that ends a session (OpenID Connect Front-Channel Logout 1.0 §2, or
/// any protocol whose applications are told through the browser).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutFrame {
    pub url: String,
    /// `scheme://host[:port]`, for the page's `frame-src`.
    pub origin: String,
}

/// What a protocol does when a browser session ends: queue its back-channel notices (durable,
/// retried) and return the front-channel frames for the page that ends it, if it shows one.
#[async_trait::async_trait]
pub trait SessionEndListener: Send + Sync {
    async fn session_ended(&self, s: &Services, ended: &BrowserSession) -> Result<Vec<LogoutFrame>, InfraError>;
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BrowserSession {
    pub sid: String,
    pub user_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub user_agent: String,
    pub ip: String,
    /// Clients that received tokens in this session (for logout propagation).
    pub clients: Vec<String>,
    /// When the user last proved a credential in this session: `auth_time`, or later if they
    /// changed their password from it (`confirm`). A session is dead once this is before the
    /// user's `sessions_not_before` (password change, provisional password, issue #4).
    #[serde(default)]
    pub confirmed_at: i64,
}

impl BrowserSession {
    /// Not disabled, and no password change or reset since the user last proved a credential
    /// here. Tokens bound to the session use the same rule (`oidc::session_bound`).
    pub fn is_valid_for(&self, user: &User) -> bool {
        !user.disabled && self.confirmed_at.max(self.auth_time) >= user.sessions_not_before
    }
}

fn key(sid: &str) -> String {
    format!("session:{sid}")
}

fn user_key(user_id: &str) -> String {
    format!("user_sessions:{user_id}")
}

/// Where the request came from, for the sessions list; truncated, never trusted for security.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub user_agent: String,
    pub ip: String,
    /// The language of the page the request came from (`None`: no page, e.g. a job or the
    /// command line): a mail the request sends to its own user is in it (issue #13, item 12).
    pub lang: Option<crate::domain::Lang>,
}

/// Starts a session after a successful sign-in; returns the cookie secret.
pub async fn create(
    s: &Services,
    user_id: &str,
    amr: &[&str],
    info: &ClientInfo,
) -> Result<(Secret, BrowserSession), InfraError> {
    let now = s.now();
    let secret = crypto::random_token(32);
    let session = BrowserSession {
        sid: crypto::digest(&secret),
        user_id: user_id.to_owned(),
        auth_time: now,
        amr: amr.iter().map(|a| (*a).to_owned()).collect(),
        created_at: now,
        expires_at: now + s.lifetimes.session,
        user_agent: info.user_agent.chars().take(200).collect(),
        ip: info.ip.chars().take(64).collect(),
        clients: Vec::new(),
        confirmed_at: now,
    };
    save(s, &session).await?;
    s.ephemeral.set_add(&user_key(user_id), &session.sid, Duration::from_secs(s.lifetimes.session as u64)).await?;
    Ok((Secret::new(secret), session))
}

async fn save(s: &Services, session: &BrowserSession) -> Result<(), InfraError> {
    ephemeral::put_json(s.ephemeral.as_ref(), &key(&session.sid), session, ttl_until(session.expires_at, s.now()))
        .await?;
    Ok(())
}

/// The live session for a cookie secret, if any: unexpired, and still valid for its user (not
/// disabled, no password change since); an invalid one is ended on the way.
pub async fn from_cookie(s: &Services, secret: &str) -> Result<Option<BrowserSession>, InfraError> {
    if secret.len() != 43 {
        return Ok(None);
    }
    let Some(session) = by_sid(s, &crypto::digest(secret)).await? else {
        return Ok(None);
    };
    match s.store.user_by_id(&session.user_id).await? {
        Some(user) if session.is_valid_for(&user) => Ok(Some(session)),
        _ => {
            end(s, &session).await?;
            Ok(None)
        }
    }
}

/// The user signed in with `session` (`None` once the account is gone).
pub async fn user(s: &Services, session: &BrowserSession) -> Result<Option<User>, InfraError> {
    Ok(s.store.user_by_id(&session.user_id).await?)
}

/// The session of the browser that just changed the password stays valid: it is confirmed now.
pub async fn confirm(s: &Services, session: &BrowserSession) -> Result<(), InfraError> {
    let Some(mut current) = by_sid(s, &session.sid).await? else {
        return Ok(());
    };
    current.confirmed_at = s.now();
    save(s, &current).await
}

pub async fn by_sid(s: &Services, sid: &str) -> Result<Option<BrowserSession>, InfraError> {
    let session: Option<BrowserSession> = ephemeral::get_json(s.ephemeral.as_ref(), &key(sid)).await?;
    Ok(session.filter(|sess| sess.expires_at > s.now()))
}

pub async fn remember_client(s: &Services, session: &BrowserSession, client_id: &str) -> Result<(), InfraError> {
    if session.clients.iter().any(|c| c == client_id) {
        return Ok(());
    }
    let mut updated = session.clone();
    updated.clients.push(client_id.to_owned());
    save(s, &updated).await
}

/// Ends a browser session for every client of it, whatever the reason (sign-out, a new sign-in
/// in the same browser, closed from /account): this is the one way a session ends. The session
/// is taken atomically, so when two requests end it together only one propagates. Clients with
/// Every registered `SessionEndListener` is then told (OpenID Connect: a logout token through the
/// durable queue for back-channel clients, iframes for front-channel ones, issue #3); the frames
/// are returned for the page that ends it, if it shows one.
pub async fn end(s: &Services, session: &BrowserSession) -> Result<Vec<LogoutFrame>, InfraError> {
    let taken: Option<BrowserSession> = ephemeral::take_json(s.ephemeral.as_ref(), &key(&session.sid)).await?;
    s.ephemeral.set_remove(&user_key(&session.user_id), &session.sid).await?;
    // The stored copy is the freshest (clients are added to it as they get codes).
    let Some(ended) = taken else {
        return Ok(Vec::new());
    };
    let mut frames = Vec::new();
    for listener in &s.session_listeners {
        frames.extend(listener.session_ended(s, &ended).await?);
    }
    Ok(frames)
}

/// The user's live sessions, newest first; forgets the ones that expired and ends the ones a
/// password change invalidated.
pub async fn list_for_user(s: &Services, user_id: &str) -> Result<Vec<BrowserSession>, InfraError> {
    let user = s.store.user_by_id(user_id).await?;
    let mut live = Vec::new();
    for sid in s.ephemeral.set_members(&user_key(user_id)).await? {
        match by_sid(s, &sid).await? {
            Some(session) if session.user_id == user_id => match &user {
                Some(u) if session.is_valid_for(u) => live.push(session),
                _ => {
                    end(s, &session).await?;
                }
            },
            _ => s.ephemeral.set_remove(&user_key(user_id), &sid).await?,
        }
    }
    live.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    Ok(live)
}

/// Ends every session of the user, valid or not, through `end` (an administrator disabling or
/// erasing the account, issue #12); how many were live.
pub async fn end_all_for_user(s: &Services, user_id: &str) -> Result<usize, InfraError> {
    let mut ended = 0;
    for sid in s.ephemeral.set_members(&user_key(user_id)).await? {
        match by_sid(s, &sid).await? {
            Some(session) if session.user_id == user_id => {
                end(s, &session).await?;
                ended += 1;
            }
            _ => s.ephemeral.set_remove(&user_key(user_id), &sid).await?,
        }
    }
    Ok(ended)
}

//! Sign-in as one flow, for every protocol (issue #11): authenticate → the first-login steps the
//! account owes → end the browser's previous session → start the new one. A protocol that needs
//! someone signed in hands over a `Continuation`: plain data saying what to resume once the
//! session exists. It is stored with the first-login and recovery flows instead of a raw
//! authorization request id, so nothing in `account/` needs to know any protocol; `web/` maps
//! each variant back to the protocol that resumes it.
//!
//! The pages (login form, first-login steps) are in `web::handlers::login` and
//! `web::handlers::first_login`; they only extract the form, call `sign_in_with_password` or
//! `finish_first_login`, and map the `SignInOutcome`.

use serde::{Deserialize, Serialize};

use super::first_login::{self, PendingSignIn};
use super::lockout;
use super::login::{self, LoginOutcome};
use crate::domain::{Secret, User};
use crate::services::{InfraError, Services};
use crate::session::{self, BrowserSession, ClientInfo};

/// What to resume once the user is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Continuation {
    /// An OpenID Connect authorization request waiting in the ephemeral store
    /// (`oidc::authorize::pending`).
    Authorization { request_id: String },
    /// The account space (/account): nothing else to resume.
    AccountSpace,
    /// A CAS login (`cas::login`): issue a service ticket for `service` (a URL registered by
    /// `client_id`) after the authorisation gate. `renew`: the ticket must say it came from a
    /// fresh sign-in. `post`: answer with a form the browser posts (`method=POST`).
    Cas { client_id: String, service: String, renew: bool, post: bool },
}

impl Continuation {
    /// The OpenID Connect request to resume, if that is what this continues.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Continuation::Authorization { request_id } => Some(request_id),
            Continuation::AccountSpace | Continuation::Cas { .. } => None,
        }
    }

    /// The registered client this sign-in is for (theme, name on the pages), when the
    /// continuation itself names one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Continuation::Cas { client_id, .. } => Some(client_id),
            Continuation::Authorization { .. } | Continuation::AccountSpace => None,
        }
    }
}

/// One sign-in attempt: what it is for and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// What to resume once signed in; stored with the first-login flow when steps are owed.
    pub continuation: &'a Continuation,
    /// The relying party the sign-in is for: audit, and the theme of the first-login pages.
    pub client_id: &'a str,
    /// The languages the relying party asked for, for the first-login pages.
    pub ui_locales: Option<&'a str>,
    pub info: &'a ClientInfo,
    /// The cookie secret of the browser's current session, if it sent one: that session ends
    /// when the new one starts.
    pub previous_session: Option<&'a str>,
    /// What the login page tells of a locked identifier, and by which rule (issue #13;
    /// `lockout::page_lockout` of the relying party).
    pub lockout: lockout::PageLockout,
}

/// A session that just started, and what it resumes.
#[derive(Debug)]
pub struct SignedIn {
    pub session: BrowserSession,
    /// The new session's cookie secret (the cookie is the caller's business).
    pub cookie_secret: Secret,
    pub continuation: Continuation,
}

/// How a sign-in with identifier and password ended.
#[derive(Debug)]
pub enum SignInOutcome {
    /// Wrong credentials, or an account that cannot sign in: one generic answer
    /// (`account::login`).
    Failed,
    /// A failure on a page that tells: the typed identifier is locked until `until` (issue #13;
    /// the same whether or not an account has it).
    Locked {
        until: i64,
    },
    /// Too many sign-ins in flight from this address: nothing was checked; try again shortly.
    Busy,
    /// The password is right but the account owes first-login steps (issue #4): the flow named
    /// by `flow_secret` (a cookie) holds the continuation until `finish_first_login`.
    FirstLogin {
        flow_secret: Secret,
    },
    SignedIn(Box<SignedIn>),
}

/// Sign-in with identifier and password: authenticate, then either the first-login steps the
/// account owes, or the new session at once (the browser's previous one ends).
pub async fn sign_in_with_password(
    s: &Services,
    attempt: &Attempt<'_>,
    login: &str,
    password: &Secret,
) -> Result<SignInOutcome, InfraError> {
    let client_id = attempt.client_id;
    let outcome = login::authenticate_on_page(s, login, password, attempt.info, client_id, attempt.lockout).await?;
    let (user, password_expired) = match outcome {
        LoginOutcome::Success { user, password_expired } => (user, password_expired),
        LoginOutcome::Failed => {
            tracing::info!(%client_id, "sign-in failed");
            return Ok(SignInOutcome::Failed);
        }
        LoginOutcome::Locked { until } => {
            tracing::info!(%client_id, "sign-in failed: the typed identifier is locked (told)");
            return Ok(SignInOutcome::Locked { until });
        }
        LoginOutcome::Busy => return Ok(SignInOutcome::Busy),
    };
    // Issue #4: a provisional or expired password, a secret question, terms or a captcha still
    // owed come first, on their own pages; the session starts when they are done.
    if let Some((flow_secret, _)) =
        first_login::start(s, &user, password_expired, attempt.continuation, client_id, attempt.ui_locales).await?
    {
        tracing::info!(%client_id, "sign-in continues with the first-login steps");
        return Ok(SignInOutcome::FirstLogin { flow_secret });
    }
    first_login::activate(s, &user, attempt.info).await?;
    let (cookie_secret, session) = start_session(s, &user, attempt.info, attempt.previous_session).await?;
    tracing::info!(%client_id, sid = %session.sid, "sign-in succeeded");
    Ok(SignInOutcome::SignedIn(Box::new(SignedIn {
        session,
        cookie_secret,
        continuation: attempt.continuation.clone(),
    })))
}

/// No first-login step is left: the flow ends (single use, so two tabs cannot both sign in),
/// the account is activated and the session starts as after `sign_in_with_password`. `None`
/// when another request already finished the flow.
pub async fn finish_first_login(
    s: &Services,
    pending: &PendingSignIn,
    user: &User,
    info: &ClientInfo,
    previous_session: Option<&str>,
) -> Result<Option<SignedIn>, InfraError> {
    let Some(done) = first_login::finish(s, pending, user, info).await? else {
        return Ok(None);
    };
    let (cookie_secret, session) = start_session(s, user, info, previous_session).await?;
    tracing::info!(client_id = %done.client_id, sid = %session.sid, "sign-in succeeded after the first-login steps");
    Ok(Some(SignedIn { session, cookie_secret, continuation: done.continuation }))
}

/// Starts the session of a user who just proved their password on this browser (`amr` `pwd`).
/// A new session id at every sign-in (no session fixation); the browser's previous session
/// ends, for every protocol that registered a listener (`session::end`).
async fn start_session(
    s: &Services,
    user: &User,
    info: &ClientInfo,
    previous_session: Option<&str>,
) -> Result<(Secret, BrowserSession), InfraError> {
    if let Some(secret) = previous_session
        && let Some(old) = session::from_cookie(s, secret).await?
    {
        session::end(s, &old).await?;
    }
    session::create(s, &user.id, &["pwd"], info).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_is_stored_as_tagged_json() {
        let c = Continuation::Authorization { request_id: "r1".into() };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"kind":"authorization","request_id":"r1"}"#);
        assert_eq!(serde_json::from_str::<Continuation>(&json).unwrap(), c);
        let cas = Continuation::Cas {
            client_id: "ent".into(),
            service: "https://ent.example/".into(),
            renew: true,
            post: false,
        };
        assert_eq!(serde_json::from_str::<Continuation>(&serde_json::to_string(&cas).unwrap()).unwrap(), cas);
        assert_eq!(cas.request_id(), None);
        assert_eq!(cas.client_id(), Some("ent"));
    }
}

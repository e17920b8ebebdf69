//! Sign-in with identifier and password: one generic failure whatever went wrong (unknown
//! identifier, wrong password, locked or disabled account, expired provisional password), with
//! the same work done in every case. Every attempt that reaches an account is audited.
//!
//! Before any of that (issue #10), two gates that look at the address only, so that their
//! answer is the same whatever the account: an address blocked by the per-address limit is
//! refused at once (no lookup, no hash, no audit row: only a log line, the failures that led to
//! the block were audited), and an address with too many verifications in flight on this node
//! waits its turn, then is told to try again (`in_flight`).
//!
//! One exception to the generic failure (issue #13, decision 0020): on a page that tells
//! (`lockout::PageLockout`), a typed identifier that itself failed the page's `max_failures`
//! times gets `Locked`, whether or not an account has it.

use serde_json::json;

use super::lockout::{AddressGate, PageLockout};
use super::{audit, lockout};
use crate::domain::{Login, Secret, User};
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;

#[derive(Debug)]
pub enum LoginOutcome {
    /// The credentials are right. `password_expired`: older than the user type's
    /// `max_age_days`; with `user.must_change_password` (provisional password) and the other
    /// first-login steps, the caller decides what comes before the session
    /// (`account::first_login`).
    Success {
        user: Box<User>,
        password_expired: bool,
    },
    Failed,
    /// A failure on a page that tells (issue #13): the typed identifier failed the page's
    /// `max_failures` times and its lock ends at `until` (whether or not an account has it).
    Locked {
        until: i64,
    },
    /// Too many sign-ins in flight from this address: nothing was checked; try again shortly.
    Busy,
}

/// `client_id`: the relying party the sign-in is for (audit only). Counts the typed identifier
/// under the installation's page rule (`lockout::page_lockout` without a client).
pub async fn authenticate(
    s: &Services,
    login: &str,
    password: &Secret,
    info: &ClientInfo,
    client_id: &str,
) -> Result<LoginOutcome, InfraError> {
    authenticate_on_page(s, login, password, info, client_id, lockout::page_lockout(s, None)).await
}

/// `authenticate` on a login page whose lockout is `page`.
pub async fn authenticate_on_page(
    s: &Services,
    login: &str,
    password: &Secret,
    info: &ClientInfo,
    client_id: &str,
    page: PageLockout,
) -> Result<LoginOutcome, InfraError> {
    let AddressGate::Open(address) = lockout::check_address(s, &info.ip).await? else {
        return Ok(LoginOutcome::Failed);
    };
    // Held to the end: the verification, and the rehash after a success, take one turn.
    let Ok(_turn) = s.login_in_flight.turn(address.source()).await else {
        tracing::warn!(ip = %info.ip, "sign-in refused: too many sign-ins in flight from this address");
        return Ok(LoginOutcome::Busy);
    };
    // The address may have been blocked while this attempt waited for its turn: the attempts
    // queued behind a flood are then refused unverified too.
    let AddressGate::Open(address) = lockout::check_address(s, &info.ip).await? else {
        return Ok(LoginOutcome::Failed);
    };
    let user = match Login::parse(login) {
        Ok(login) => s.store.user_by_login(login.as_str()).await?,
        Err(_) => None,
    };
    // Issue #13: the typed identifier's own series, read before and counted after, account or not.
    let series = lockout::identifier_begin(s, login, page.rule).await?;
    // Lockout (issue #4): a refused attempt verifies the dummy hash instead.
    let attempt = lockout::begin_at(s, user.as_ref(), address).await?;
    let admitted = attempt.is_admitted();
    let hash = user.as_ref().filter(|_| admitted).map(|u| u.password_hash.as_str());
    let matched = s.passwords.verify(password, hash).await?;
    let now = s.now();
    let refusal = match &user {
        None => Some("unknown"),
        Some(_) if !admitted => Some("locked"),
        Some(_) if !matched => Some("password"),
        Some(u) if u.disabled => Some("disabled"),
        Some(u) if u.must_change_password && u.provisional_expires_at.is_some_and(|t| t <= now) => {
            Some("provisional_expired")
        }
        Some(_) => None,
    };
    // The lockout counts wrong passwords only: a right but expired provisional password, or a
    // disabled account, is refused without locking the account.
    let succeeded = matched && user.as_ref().is_some_and(|u| !u.disabled);
    lockout::finish(s, attempt, user.as_ref(), succeeded, info.lang).await?;
    let identifier_locked_until = lockout::identifier_finish(s, series, succeeded).await?;
    match (refusal, user) {
        (Some(reason), user) => {
            // An unknown identifier is recorded without it: it may be a password typed in the
            // wrong field.
            let detail = json!({ "client_id": client_id, "reason": reason });
            audit::record(s, user.as_ref().map(|u| u.id.as_str()), audit::SIGN_IN_FAILED, info, detail).await?;
            match identifier_locked_until {
                // Decided by the identifier's series and the page alone: the same for an
                // unknown identifier and an account.
                Some(until) if page.tell => Ok(LoginOutcome::Locked { until }),
                _ => Ok(LoginOutcome::Failed),
            }
        }
        (None, Some(user)) => {
            audit::record(s, Some(&user.id), audit::SIGN_IN, info, json!({ "client_id": client_id })).await?;
            let password_expired = super::password_age::after_sign_in(s, &user, password).await?;
            Ok(LoginOutcome::Success { user: Box::new(user), password_expired })
        }
        (None, None) => Ok(LoginOutcome::Failed), // not reached: no account is a refusal
    }
}

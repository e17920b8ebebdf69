//! The steps between a right password and a session (issue #4): forced password change
//! (provisional password, or expired one), secret question, terms, captcha. Which steps a user
//! still owes is computed from the stored account state every time, so a flow abandoned
//! half-way resumes cleanly at the next sign-in; only what the store cannot tell (the steps
//! shown in "Étape n sur m", the captcha passed in this flow) lives in the pending sign-in.
//!
//! The pending sign-in is kept in the ephemeral store under the SHA-256 of a random secret that
//! the browser holds in a cookie, like a session; it is not a session (no token can be issued
//! from it) and it dies when the steps are done (`finish`, single use), after `LIFETIME_SECONDS`,
//! or as soon as the account's password changes elsewhere or the account is disabled.
//! The pages live in `web::handlers::first_login`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::password_change::{self, ChangeError, Reason};
use super::secret_question::{self, SecretQuestionError};
use super::{audit, captcha};
use crate::crypto;
use crate::domain::user_type::CaptchaKind;
use crate::domain::{Secret, User};
use crate::ephemeral::{get_json, put_json, take_json, ttl_until};
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;

/// How long the steps can take, from the sign-in (as long as an authorization request lives).
pub const LIFETIME_SECONDS: i64 = 30 * 60;
/// The captcha form's purpose (`account::captcha`): a challenge issued for another form fails.
pub const CAPTCHA_PURPOSE: &str = "first_login";
/// How long one step's POST holds the flow (see `lock`).
const LOCK_TTL: Duration = Duration::from_secs(60);

/// One first-login step, in the order they are asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// A new password: the provisional one must go, or the current one expired.
    Password,
    /// The user type asks for a secret question and the user has none.
    SecretQuestion,
    /// The user type has terms the user has not accepted yet.
    Terms,
    /// The user type asks for a captcha at the first sign-in.
    Captcha,
}

impl Step {
    /// The name the page's hidden `step` field carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::SecretQuestion => "secret_question",
            Self::Terms => "terms",
            Self::Captcha => "captcha",
        }
    }
}

/// A sign-in waiting for its first-login steps.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingSignIn {
    /// Digest of the cookie secret (the store key).
    pub id: String,
    pub user_id: String,
    /// The authorization request to resume at the end.
    pub request_id: String,
    /// Its client, for the theme and the name on the pages even if the request expires.
    pub client_id: String,
    pub ui_locales: Option<String>,
    /// The steps owed at the sign-in, for "Étape n sur m".
    pub steps: Vec<Step>,
    /// The password was older than the user type allows at the sign-in.
    pub password_expired: bool,
    /// The password was changed in this flow.
    pub password_changed: bool,
    pub captcha_passed: bool,
    /// When the user last proved a credential in this flow: the sign-in, or the new password.
    /// A password set elsewhere afterwards (`sessions_not_before`) ends the flow.
    pub authenticated_at: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

impl PendingSignIn {
    /// Step `n` of `m` (1-based) for the page; a step that was not owed at the sign-in (the
    /// account changed meanwhile) is counted at the end.
    pub fn progress(&self, step: Step) -> (usize, usize) {
        match self.steps.iter().position(|s| *s == step) {
            Some(i) => (i + 1, self.steps.len()),
            None => (self.steps.len() + 1, self.steps.len() + 1),
        }
    }

    /// Why the password step changes the password.
    pub fn password_reason(&self, user: &User) -> Reason {
        if user.must_change_password { Reason::FirstLogin } else { Reason::Expired }
    }
}

fn key(id: &str) -> String {
    format!("first_login:{id}")
}

fn lock_key(id: &str) -> String {
    format!("first_login_lock:{id}")
}

/// The steps `user` still owes, in order. `password_expired`: the password was found expired
/// at the sign-in and not changed since.
pub async fn owed(
    s: &Services,
    user: &User,
    password_expired: bool,
    captcha_passed: bool,
) -> Result<Vec<Step>, InfraError> {
    let user_type = s.user_types.of(&user.user_type);
    let mut steps = Vec::new();
    if user.must_change_password || password_expired {
        steps.push(Step::Password);
    }
    if user_type.secret_question && secret_question::question_of(s, &user.id).await?.is_none() {
        steps.push(Step::SecretQuestion);
    }
    if user_type.terms.is_some() && user.terms_accepted_at.is_none() {
        steps.push(Step::Terms);
    }
    if user_type.captcha != CaptchaKind::None && user.activated_at.is_none() && !captcha_passed {
        steps.push(Step::Captcha);
    }
    Ok(steps)
}

/// The steps still owed in this flow.
pub async fn remaining(s: &Services, pending: &PendingSignIn, user: &User) -> Result<Vec<Step>, InfraError> {
    owed(s, user, pending.password_expired && !pending.password_changed, pending.captcha_passed).await
}

/// After a right password: `None` when no step is owed (the caller signs the user in, after
/// `activate`), else the pending sign-in and the cookie secret that names it.
pub async fn start(
    s: &Services,
    user: &User,
    password_expired: bool,
    request_id: &str,
    client_id: &str,
    ui_locales: Option<&str>,
) -> Result<Option<(Secret, PendingSignIn)>, InfraError> {
    let steps = owed(s, user, password_expired, false).await?;
    if steps.is_empty() {
        return Ok(None);
    }
    let now = s.now();
    let secret = crypto::random_token(32);
    let pending = PendingSignIn {
        id: crypto::digest(&secret),
        user_id: user.id.clone(),
        request_id: request_id.to_owned(),
        client_id: client_id.to_owned(),
        ui_locales: ui_locales.map(str::to_owned),
        steps,
        password_expired,
        password_changed: false,
        captcha_passed: false,
        authenticated_at: now,
        created_at: now,
        expires_at: now + LIFETIME_SECONDS,
    };
    save(s, &pending).await?;
    Ok(Some((Secret::new(secret), pending)))
}

async fn save(s: &Services, pending: &PendingSignIn) -> Result<(), InfraError> {
    put_json(s.ephemeral.as_ref(), &key(&pending.id), pending, ttl_until(pending.expires_at, s.now())).await?;
    Ok(())
}

/// The live pending sign-in of a cookie secret and its user; `None` when the secret is unknown,
/// malformed or expired, the account is gone or disabled, or its password changed elsewhere.
pub async fn load(s: &Services, secret: &str) -> Result<Option<(PendingSignIn, User)>, InfraError> {
    if secret.len() != 43 {
        return Ok(None);
    }
    let pending: Option<PendingSignIn> = get_json(s.ephemeral.as_ref(), &key(&crypto::digest(secret))).await?;
    let Some(pending) = pending.filter(|p| p.expires_at > s.now()) else {
        return Ok(None);
    };
    match s.store.user_by_id(&pending.user_id).await? {
        Some(user) if !user.disabled && pending.authenticated_at >= user.sessions_not_before => {
            Ok(Some((pending, user)))
        }
        _ => Ok(None),
    }
}

/// Holds the flow for one step's POST, so that two tabs posting at once cannot both run a step
/// (two password changes): false when another request holds it. Release with `unlock`; a
/// crashed holder's lock expires after a minute.
pub async fn lock(s: &Services, pending: &PendingSignIn) -> Result<bool, InfraError> {
    Ok(s.ephemeral.incr(&lock_key(&pending.id), LOCK_TTL).await? == 1)
}

pub async fn unlock(s: &Services, pending: &PendingSignIn) -> Result<(), InfraError> {
    s.ephemeral.delete(&lock_key(&pending.id)).await?;
    Ok(())
}

/// The password step, through the one password-change path. No browser session exists yet, so
/// every session of the user ends.
pub async fn change_password(
    s: &Services,
    pending: &mut PendingSignIn,
    user: &User,
    new: &Secret,
    confirm: &Secret,
    info: &ClientInfo,
) -> Result<(), ChangeError> {
    let ctx =
        password_change::Context { reason: pending.password_reason(user), info, keep_sid: None, redeem_token: None };
    password_change::change(s, user, new, confirm, &ctx).await?;
    // The change moved `sessions_not_before` to now: this flow holds the new password.
    pending.password_changed = true;
    pending.authenticated_at = s.now();
    save(s, pending).await?;
    Ok(())
}

/// The secret question step.
pub async fn set_secret_question(
    s: &Services,
    user: &User,
    question: &str,
    answer: &Secret,
    info: &ClientInfo,
) -> Result<(), SecretQuestionError> {
    secret_question::set(s, &user.id, question, answer).await?;
    audit::record(s, Some(&user.id), audit::SECRET_QUESTION_SET, info, json!({ "context": "first_login" })).await?;
    Ok(())
}

/// The terms step (the caller checked the box was ticked).
pub async fn accept_terms(s: &Services, user: &User, info: &ClientInfo) -> Result<(), InfraError> {
    s.store.accept_terms(&user.id, s.now()).await?;
    audit::record(s, Some(&user.id), audit::TERMS_ACCEPTED, info, json!({})).await
}

/// The captcha step: true when the answer is right (the challenge is consumed either way).
pub async fn pass_captcha(
    s: &Services,
    pending: &mut PendingSignIn,
    challenge_id: &str,
    answer: &str,
) -> Result<bool, InfraError> {
    if !captcha::verify(s, challenge_id, CAPTCHA_PURPOSE, answer).await? {
        return Ok(false);
    }
    pending.captcha_passed = true;
    save(s, pending).await?;
    Ok(true)
}

/// Ends the flow once no step is left: takes the pending sign-in (single use, so two tabs cannot
/// both sign in) and activates the account. `None` when another request already finished it.
pub async fn finish(
    s: &Services,
    pending: &PendingSignIn,
    user: &User,
    info: &ClientInfo,
) -> Result<Option<PendingSignIn>, InfraError> {
    let taken: Option<PendingSignIn> = take_json(s.ephemeral.as_ref(), &key(&pending.id)).await?;
    if taken.is_none() {
        return Ok(None);
    }
    activate(s, user, info).await?;
    Ok(taken)
}

/// The first-login steps are done (or none were owed): records it the first time.
pub async fn activate(s: &Services, user: &User, info: &ClientInfo) -> Result<(), InfraError> {
    if user.activated_at.is_some() {
        return Ok(());
    }
    s.store.mark_activated(&user.id, s.now()).await?;
    audit::record(s, Some(&user.id), audit::ACTIVATED, info, json!({})).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(steps: Vec<Step>) -> PendingSignIn {
        PendingSignIn {
            id: "d".into(),
            user_id: "u".into(),
            request_id: "r".into(),
            client_id: "c".into(),
            ui_locales: None,
            steps,
            password_expired: false,
            password_changed: false,
            captcha_passed: false,
            authenticated_at: 0,
            created_at: 0,
            expires_at: 1,
        }
    }

    #[test]
    fn progress_counts_the_steps_owed_at_the_sign_in() {
        let p = pending(vec![Step::Password, Step::SecretQuestion, Step::Terms, Step::Captcha]);
        assert_eq!(p.progress(Step::Password), (1, 4));
        assert_eq!(p.progress(Step::Captcha), (4, 4));
    }

    #[test]
    fn a_step_that_appeared_since_the_sign_in_comes_last() {
        let p = pending(vec![Step::Password]);
        assert_eq!(p.progress(Step::Terms), (2, 2));
    }

    #[test]
    fn step_names_are_stable() {
        let names: Vec<_> =
            [Step::Password, Step::SecretQuestion, Step::Terms, Step::Captcha].iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["password", "secret_question", "terms", "captcha"]);
        assert_eq!(serde_json::to_string(&Step::SecretQuestion).unwrap(), "\"secret_question\"");
    }
}

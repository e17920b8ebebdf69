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
//! The pages live in `web::handlers::first_login`; the sign-in around the steps (what starts
//! the flow, the session at the end) in `account::signin`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::password_change::{self, ChangeError, Reason};
use super::secret_question::{self, SecretQuestionError};
use super::signin::Continuation;
use super::{audit, captcha};
use crate::crypto;
use crate::domain::user_type::{CaptchaKind, UserType};
use crate::domain::{Client, Secret, User};
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
#[serde(try_from = "StoredPendingSignIn")]
pub struct PendingSignIn {
    /// Digest of the cookie secret (the store key).
    pub id: String,
    pub user_id: String,
    /// What to resume at the end (`account::signin`).
    pub continuation: Continuation,
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

/// A pending sign-in as stored, including those written before the `Continuation` (issue #11),
/// which named the authorization request to resume in `request_id`: they stay readable for
/// their 30 minutes across an upgrade.
#[derive(Deserialize)]
struct StoredPendingSignIn {
    id: String,
    user_id: String,
    #[serde(default)]
    continuation: Option<Continuation>,
    #[serde(default)]
    request_id: Option<String>,
    client_id: String,
    ui_locales: Option<String>,
    steps: Vec<Step>,
    password_expired: bool,
    password_changed: bool,
    captcha_passed: bool,
    authenticated_at: i64,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<StoredPendingSignIn> for PendingSignIn {
    type Error = &'static str;

    fn try_from(stored: StoredPendingSignIn) -> Result<Self, Self::Error> {
        let continuation = match (stored.continuation, stored.request_id) {
            (Some(continuation), _) => continuation,
            (None, Some(request_id)) => Continuation::Authorization { request_id },
            (None, None) => return Err("a pending sign-in without a continuation"),
        };
        Ok(PendingSignIn {
            id: stored.id,
            user_id: stored.user_id,
            continuation,
            client_id: stored.client_id,
            ui_locales: stored.ui_locales,
            steps: stored.steps,
            password_expired: stored.password_expired,
            password_changed: stored.password_changed,
            captcha_passed: stored.captcha_passed,
            authenticated_at: stored.authenticated_at,
            created_at: stored.created_at,
            expires_at: stored.expires_at,
        })
    }
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
    if terms_owed(user_type, user) {
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
/// `activate`), else the pending sign-in, holding `continuation`, and the cookie secret that
/// names it. `account::signin` calls it.
pub async fn start(
    s: &Services,
    user: &User,
    password_expired: bool,
    continuation: &Continuation,
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
        continuation: continuation.clone(),
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
    let version = s.user_types.of(&user.user_type).terms_version.as_deref();
    s.store.accept_terms(&user.id, s.now(), version).await?;
    audit::record(s, Some(&user.id), audit::TERMS_ACCEPTED, info, json!({ "version": version })).await
}

/// Whether the user must (again) accept their type's terms: never accepted, or, when the terms
/// carry a version, accepted in another version or before versions were recorded (issue #13,
/// item 10: a new version is asked at the next sign-in).
pub fn terms_owed(user_type: &UserType, user: &User) -> bool {
    match (&user_type.terms, &user_type.terms_version) {
        (None, _) => false,
        (Some(_), None) => user.terms_accepted_at.is_none(),
        (Some(_), Some(version)) => {
            user.terms_accepted_at.is_none() || user.terms_version.as_deref() != Some(version.as_str())
        }
    }
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

/// The client the flow is for (theme and name on the pages, even once what it resumes has
/// expired); `None` when it was deleted meanwhile.
pub async fn client(s: &Services, pending: &PendingSignIn) -> Result<Option<Client>, InfraError> {
    Ok(s.store.client(&pending.client_id).await?)
}

/// Where the flow stands once a step changed the account.
#[derive(Debug)]
pub enum AfterStep {
    /// The account disappeared meanwhile.
    Gone,
    /// Another step is owed.
    Owed,
    /// Nothing is owed any more: the account as it is now, for `signin::finish_first_login`.
    Done(Box<User>),
}

/// What is owed after a step, from the store again (the step changed the account).
pub async fn after_step(s: &Services, pending: &PendingSignIn) -> Result<AfterStep, InfraError> {
    let Some(user) = s.store.user_by_id(&pending.user_id).await? else {
        return Ok(AfterStep::Gone);
    };
    if remaining(s, pending, &user).await?.is_empty() {
        Ok(AfterStep::Done(Box::new(user)))
    } else {
        Ok(AfterStep::Owed)
    }
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
            continuation: Continuation::Authorization { request_id: "r".into() },
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
    fn a_pending_sign_in_is_stored_with_its_continuation() {
        let mut p = pending(vec![Step::Terms]);
        p.continuation = Continuation::AccountSpace;
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["continuation"], serde_json::json!({ "kind": "account_space" }));
        assert!(json.get("request_id").is_none(), "no raw request id any more: {json}");
        assert_eq!(serde_json::from_value::<PendingSignIn>(json).unwrap(), p);
    }

    #[test]
    fn a_pending_sign_in_stored_before_the_continuation_resumes_its_authorization_request() {
        let mut json = serde_json::to_value(pending(vec![Step::Password])).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("continuation");
        object.insert("request_id".into(), "req-7".into());
        let loaded: PendingSignIn = serde_json::from_value(json).unwrap();
        assert_eq!(loaded.continuation, Continuation::Authorization { request_id: "req-7".into() });
    }

    #[test]
    fn a_pending_sign_in_without_anything_to_resume_does_not_load() {
        let mut json = serde_json::to_value(pending(vec![])).unwrap();
        json.as_object_mut().unwrap().remove("continuation");
        assert!(serde_json::from_value::<PendingSignIn>(json).is_err());
    }

    #[test]
    fn step_names_are_stable() {
        let names: Vec<_> =
            [Step::Password, Step::SecretQuestion, Step::Terms, Step::Captcha].iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["password", "secret_question", "terms", "captcha"]);
        assert_eq!(serde_json::to_string(&Step::SecretQuestion).unwrap(), "\"secret_question\"");
    }
}

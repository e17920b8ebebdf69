//! The forgotten password (issue #5), free of the web framework: the first page accepted
//! (`begin`: rate limits, identification, the flow), the secret question (`answer`), what the
//! user type sends (`deliver`: a security code, a single-use link, or a provisional password),
//! the code typed on the page (`verify_code`, `resend_code`), the link opened on any device
//! (`open_link`, `resend_link`), and the new password (`set_password`, through the one
//! password-change path). Nothing is sent for an unknown account, for several accounts of one
//! address, or after a wrong secret answer; the flow goes on just the same. The entry points of
//! a POST (`begin`, `act`, `renew_link`) check the captcha first and pad their answer time
//! (`gate`); `act` decides which action the flow's step accepts.

use serde::Serialize;
use serde_json::json;

use super::gate::{self, CaptchaAnswer, CaptchaRefusal};
use super::{CAPTCHA_PASSWORD, Finished, Flow, FlowKind, IdentifyInput, Limit, Origin, QuestionStep, Step};
use crate::account::password_change::{self, ChangeError, Changed, Context, Reason};
use crate::account::{activation, audit};
use crate::crypto;
use crate::domain::user_type::PasswordRecovery;
use crate::domain::{Secret, User};
use crate::mail::notify;
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;
use crate::store::UserToken;

/// `user_tokens.purpose` of recovery codes and links.
pub const PURPOSE: &str = "recovery_password";
/// "Renvoyer le code" works at most once per this many seconds.
pub const RESEND_INTERVAL: i64 = 30;

/// What the first page led to.
pub enum Begun {
    /// The captcha refused the request (nothing else was done).
    Captcha(CaptchaRefusal),
    /// A rate limit refused the request (nothing else was done).
    Throttled(Limit),
    /// The flow, saved at its next step, and the cookie secret naming it.
    Started { secret: Secret, flow: Box<Flow> },
}

/// The first page (CSRF checked by the caller): the type's captcha, then counts the request,
/// identifies the account and starts the flow at its first step. Several accounts behind one
/// e-mail address are treated as none: a password belongs to one account.
pub async fn begin(
    s: &Services,
    user_type: &str,
    input: &IdentifyInput,
    captcha: &CaptchaAnswer,
    origin: &Origin,
    info: &ClientInfo,
) -> Result<Begun, InfraError> {
    gate::padded(s, begin_now(s, user_type, input, captcha, origin, info)).await
}

async fn begin_now(
    s: &Services,
    user_type: &str,
    input: &IdentifyInput,
    captcha: &CaptchaAnswer,
    origin: &Origin,
    info: &ClientInfo,
) -> Result<Begun, InfraError> {
    let rule = s.user_types.of(user_type).recovery.clone();
    if let Err(refused) = gate::check_captcha(s, &info.ip, rule.captcha, CAPTCHA_PASSWORD, captcha).await? {
        return Ok(Begun::Captcha(refused));
    }
    let typed = super::normalize_identifier(&input.identifier);
    let email = typed.contains('@').then_some(typed.as_str());
    if let Err(refused) = super::count_request(s, Some(&typed), email, &info.ip).await? {
        let detail = json!({ "flow": "password", "limit": refused.limit.as_str() });
        super::audit_refusal(s, None, info, &refused, detail).await?;
        return Ok(Begun::Throttled(refused.limit));
    }
    let mut users = super::identify(s, &rule, user_type, input).await?;
    if users.len() != 1 {
        users.clear();
    }
    let known = users.first().map(|u| u.id.clone());
    audit::record(
        s,
        known.as_deref(),
        audit::RECOVERY_STARTED,
        info,
        json!({ "flow": "password", "user_type": user_type, "known": known.is_some() }),
    )
    .await?;
    let (secret, mut flow) =
        super::start(s, FlowKind::Password, user_type, &typed, &users, Step::SecretQuestion, origin).await?;
    after_identification(s, &mut flow, info).await?;
    Ok(Begun::Started { secret, flow: Box::new(flow) })
}

/// The step after identification: the secret question (the account's, or a decoy), the
/// support message when the type requires a question the account never set, or the delivery.
async fn after_identification(s: &Services, flow: &mut Flow, info: &ClientInfo) -> Result<(), InfraError> {
    match super::question_step(s, flow, info).await? {
        QuestionStep::SecretsMissing => {
            flow.step = Step::SecretsMissing;
            super::save(s, flow).await
        }
        QuestionStep::Ask => {
            flow.step = Step::SecretQuestion;
            super::save(s, flow).await
        }
        QuestionStep::Skip => deliver(s, flow, info).await,
    }
}

/// Checks the secret answer. A wrong one is recorded, and the flow goes on as if it were right
/// but with no account behind it: nothing will be sent (Bonus Eco: "Procédure terminée").
pub async fn answer(s: &Services, flow: &mut Flow, answer: &Secret, info: &ClientInfo) -> Result<(), InfraError> {
    if !super::answer_is_right(s, flow, answer).await? {
        audit::record(s, flow.single_user(), audit::RECOVERY_SECRET_FAILED, info, json!({ "flow": "password" }))
            .await?;
        flow.user_ids.clear();
    }
    deliver(s, flow, info).await
}

/// Sends what the user type sends and moves the flow to the page that follows.
async fn deliver(s: &Services, flow: &mut Flow, info: &ClientInfo) -> Result<(), InfraError> {
    let method = s.user_types.of(&flow.user_type).recovery.password;
    let user = match flow.single_user() {
        Some(id) => s.store.user_by_id(id).await?.filter(|u| !u.disabled),
        None => None,
    };
    match method {
        PasswordRecovery::Code | PasswordRecovery::Link => {
            if let Some(user) = &user {
                send_code(s, user, &flow.handle, method, info).await?;
            }
            flow.step = if method == PasswordRecovery::Code { Step::Code } else { Step::MailSent };
            flow.code_sent_at = Some(s.now());
            flow.code_failures = 0;
        }
        PasswordRecovery::Provisional => {
            if let Some(user) = &user {
                activation::send_provisional(s, user, info, activation::ProvisionalReason::Recovery).await?;
            }
            flow.step = Step::MailSent;
        }
        // The selector shows the support page for these types; a flow never gets here.
        PasswordRecovery::None => flow.step = Step::MailSent,
    }
    super::save(s, flow).await
}

/// Context of the `recovery_code` and `recovery_link` mails.
#[derive(Serialize)]
struct CodeMail<'a> {
    name: String,
    login: &'a str,
    code: &'a str,
    link: String,
    minutes: i64,
    expires: i64,
}

/// A new code for the flow named `handle` (the user's earlier code or link stops working),
/// e-mailed with the link holding it.
async fn send_code(
    s: &Services,
    user: &User,
    handle: &str,
    method: PasswordRecovery,
    info: &ClientInfo,
) -> Result<(), InfraError> {
    let code = super::new_code();
    let now = s.now();
    let expires_at = now + s.recovery.code_lifetime;
    let token = UserToken {
        digest: super::code_digest(handle, &code),
        user_id: user.id.clone(),
        purpose: PURPOSE.to_owned(),
        created_at: now,
        expires_at,
        attempts: 0,
    };
    s.store.insert_user_token(&token).await?;
    let query = serde_urlencoded::to_string([("h", handle), ("c", code.as_str())]).unwrap_or_default();
    let context = CodeMail {
        name: user.display_name(),
        login: &user.login,
        code: &code,
        link: s.endpoint(&format!("/recovery/password/link?{query}")),
        minutes: s.recovery.code_lifetime / 60,
        expires: expires_at,
    };
    let (mail, method_name) = match method {
        PasswordRecovery::Link => ("recovery_link", "link"),
        _ => ("recovery_code", "code"),
    };
    notify::send(s, user, info.lang, mail, &context).await;
    audit::record(s, Some(&user.id), audit::RECOVERY_SENT, info, json!({ "method": method_name })).await
}

/// What a typed code did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeOutcome {
    /// Right: the flow is at the new password.
    Right,
    /// Wrong, with this many attempts left.
    Wrong(i64),
    /// The code no longer works (expired, or too many wrong attempts): send a new one.
    Dead,
}

/// Checks the code typed on the page. An unknown account's flow counts its failures itself, so
/// it dies at the same count as a real code.
pub async fn verify_code(
    s: &Services,
    flow: &mut Flow,
    code: &str,
    info: &ClientInfo,
) -> Result<CodeOutcome, InfraError> {
    let now = s.now();
    let max = s.recovery.max_code_attempts;
    let expired = flow.code_sent_at.is_none_or(|at| now >= at + s.recovery.code_lifetime);
    let outcome = match flow.single_user().map(str::to_owned) {
        Some(user_id) => {
            let digest = super::code_digest(&flow.handle, code);
            let typed_ok = code.trim().len() == 6 && code.trim().bytes().all(|b| b.is_ascii_digit());
            match s.store.user_token(&digest, PURPOSE, now).await? {
                Some(token) if typed_ok && token.user_id == user_id => {
                    flow.proven_token = Some((digest, PURPOSE.to_owned()));
                    flow.step = Step::NewPassword;
                    CodeOutcome::Right
                }
                _ => {
                    let left = s.store.fail_user_token(&user_id, PURPOSE, max).await?;
                    audit::record(
                        s,
                        Some(&user_id),
                        audit::RECOVERY_CODE_FAILED,
                        info,
                        json!({ "attempts_left": left }),
                    )
                    .await?;
                    if left > 0 && !expired { CodeOutcome::Wrong(left) } else { CodeOutcome::Dead }
                }
            }
        }
        None => {
            flow.code_failures += 1;
            let left = (max - flow.code_failures).max(0);
            if left > 0 && !expired { CodeOutcome::Wrong(left) } else { CodeOutcome::Dead }
        }
    };
    super::save(s, flow).await?;
    Ok(outcome)
}

/// What "Renvoyer le code" did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resent {
    Sent,
    /// Asked again within `RESEND_INTERVAL`: nothing new was sent.
    TooSoon,
    Throttled(Limit),
}

/// A new code for the flow (the old one dies), counted against the rate limits.
pub async fn resend_code(s: &Services, flow: &mut Flow, info: &ClientInfo) -> Result<Resent, InfraError> {
    let now = s.now();
    if flow.code_sent_at.is_some_and(|at| now < at + RESEND_INTERVAL) {
        return Ok(Resent::TooSoon);
    }
    let email = flow.identifier.contains('@').then(|| flow.identifier.clone());
    if let Err(refused) = super::count_request(s, Some(&flow.identifier), email.as_deref(), &info.ip).await? {
        let detail = json!({ "flow": "password", "limit": refused.limit.as_str() });
        super::audit_refusal(s, None, info, &refused, detail).await?;
        return Ok(Resent::Throttled(refused.limit));
    }
    deliver(s, flow, info).await?;
    Ok(Resent::Sent)
}

/// What a link `?h=…&c=…` is.
pub enum LinkState {
    /// Unexpired and unused: the new-password page may be shown.
    Valid(UserToken),
    /// Expired but known: a new link may be sent to its owner.
    Expired(UserToken),
    /// Unknown, used, or killed by wrong codes.
    Invalid,
}

/// Reads a link without consuming it (mail scanners open links before people do).
pub async fn link_state(s: &Services, handle: &str, code: &str) -> Result<LinkState, InfraError> {
    let shaped = handle.len() == 43 && code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    if !shaped {
        return Ok(LinkState::Invalid);
    }
    let digest = super::code_digest(handle, code);
    if let Some(token) = s.store.user_token(&digest, PURPOSE, s.now()).await? {
        return Ok(LinkState::Valid(token));
    }
    Ok(match s.store.user_token_any(&digest, PURPOSE).await? {
        Some(token) => LinkState::Expired(token),
        None => LinkState::Invalid,
    })
}

/// A valid link opened in a browser: a new flow there, at the new password, holding the token
/// that the change will redeem. `None` when the account is gone or disabled.
pub async fn open_link(s: &Services, token: &UserToken) -> Result<Option<(Secret, Flow)>, InfraError> {
    let Some(user) = s.store.user_by_id(&token.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let users = [user];
    let (secret, mut flow) = super::start(
        s,
        FlowKind::Password,
        &users[0].user_type,
        &users[0].login,
        &users,
        Step::NewPassword,
        &Origin::default(),
    )
    .await?;
    flow.proven_token = Some((token.digest.clone(), PURPOSE.to_owned()));
    super::save(s, &flow).await?;
    Ok(Some((secret, flow)))
}

/// "Recevoir un nouveau lien": a fresh link to the owner of an expired one, counted against
/// the rate limits. False when refused (limit) or the account is gone.
pub async fn resend_link(s: &Services, token: &UserToken, info: &ClientInfo) -> Result<bool, InfraError> {
    let Some(user) = s.store.user_by_id(&token.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(false);
    };
    if let Err(refused) = super::count_request(s, Some(&user.login), None, &info.ip).await? {
        let detail = json!({ "flow": "password", "limit": refused.limit.as_str() });
        super::audit_refusal(s, None, info, &refused, detail).await?;
        return Ok(false);
    }
    let handle = crypto::random_token(32);
    send_code(s, &user, &handle, PasswordRecovery::Link, info).await?;
    Ok(true)
}

/// The new password, through the one password-change path: it redeems the proven code or link
/// in the same transaction, lifts a lockout and sends the confirmation mail. On success the
/// flow is at `Waiting` (a propagation to follow) or `Done`, with what the last page shows.
pub async fn set_password(
    s: &Services,
    flow: &mut Flow,
    new: &Secret,
    confirm: &Secret,
    info: &ClientInfo,
) -> Result<Changed, ChangeError> {
    let (Some(user_id), Some((digest, purpose))) = (flow.single_user(), flow.proven_token.clone()) else {
        return Err(ChangeError::Gone);
    };
    let Some(user) = s.store.user_by_id(user_id).await.map_err(InfraError::from)?.filter(|u| !u.disabled) else {
        return Err(ChangeError::Gone);
    };
    let ctx = Context { reason: Reason::Recovery, info, keep_sid: None, redeem_token: Some((&digest, &purpose)) };
    let changed = password_change::change(s, &user, new, confirm, &ctx).await?;
    flow.proven_token = None;
    flow.outcome = Some(Finished {
        masked_login: super::mask_login(&user.login),
        masked_email: super::mask_email(&user.email),
        new_identifier: None,
    });
    flow.propagation_id = changed.propagation_id.clone();
    if flow.propagation_id.is_some() {
        // The waiting page gives up after the propagation timeout (`waiting_is_over`); the flow
        // lives on for the success page shown then.
        flow.step = Step::Waiting;
        flow.waiting_until = Some(s.now() + s.recovery.propagation_timeout);
        flow.expires_at = flow.expires_at.max(s.now() + s.recovery.propagation_timeout + AFTER_WAIT);
    } else {
        flow.step = Step::Done;
    }
    super::save(s, flow).await?;
    Ok(changed)
}

/// How long a flow outlives the propagation timeout, for its success page.
pub const AFTER_WAIT: i64 = 120;

/// On the waiting page: whether to stop waiting (the receiver acknowledged the change, or the
/// propagation timeout passed since it). Moves the flow to `Done` then; the boolean says
/// whether the receiver was late (the success page adds a note).
pub async fn waiting_is_over(s: &Services, flow: &mut Flow) -> Result<Option<bool>, InfraError> {
    let delivered = match flow.propagation_id.as_deref() {
        Some(id) => super::propagation::status(s, id).await? == super::propagation::PropagationStatus::Delivered,
        None => true,
    };
    let timed_out = flow.waiting_until.is_none_or(|until| s.now() >= until);
    if !delivered && !timed_out {
        return Ok(None);
    }
    flow.step = Step::Done;
    flow.propagation_id = None;
    super::save(s, flow).await?;
    Ok(Some(!delivered))
}

/// The user the single account of a flow is (for the policy page).
pub async fn user_of(s: &Services, flow: &Flow) -> Result<Option<User>, InfraError> {
    match flow.single_user() {
        Some(id) => Ok(s.store.user_by_id(id).await?.filter(|u| !u.disabled)),
        None => Ok(None),
    }
}

/// A POST on a flow's page, as the form names it.
pub enum Action {
    /// "Annuler": the flow ends.
    Cancel,
    /// The secret answer.
    Answer(Secret),
    /// "Vérifier le code".
    Verify(String),
    /// "Renvoyer le code".
    Resend,
    /// The new password, twice.
    SetPassword { new: Secret, confirm: Secret },
    /// Anything else (an unknown action).
    Other,
}

/// What an action did; `Moved`: show the flow where it now stands.
pub enum Acted {
    Moved,
    /// The flow ended ("Annuler"): back to where it came from.
    Cancelled,
    Code(CodeOutcome),
    Resent(Resent),
    /// The account or the proven code went away meanwhile: the flow ended.
    PasswordGone,
    /// The policy refused the new password (never `Gone` or `Infra`).
    PasswordRefused(ChangeError),
}

/// One action on `flow`, if its step accepts it: an action of another step (back button, a
/// second tab) changes nothing and shows the flow where it stands. The answer is padded like
/// every recovery POST.
pub async fn act(s: &Services, flow: &mut Flow, action: Action, info: &ClientInfo) -> Result<Acted, InfraError> {
    gate::padded(s, act_now(s, flow, action, info)).await
}

async fn act_now(s: &Services, flow: &mut Flow, action: Action, info: &ClientInfo) -> Result<Acted, InfraError> {
    Ok(match (action, flow.step) {
        (Action::Cancel, _) => {
            super::end(s, flow).await?;
            Acted::Cancelled
        }
        (Action::Answer(secret), Step::SecretQuestion) => {
            answer(s, flow, &secret, info).await?;
            Acted::Moved
        }
        (Action::Verify(code), Step::Code) => match verify_code(s, flow, &code, info).await? {
            CodeOutcome::Right => Acted::Moved,
            outcome => Acted::Code(outcome),
        },
        (Action::Resend, Step::Code) => Acted::Resent(resend_code(s, flow, info).await?),
        (Action::SetPassword { new, confirm }, Step::NewPassword) => {
            match set_password(s, flow, &new, &confirm, info).await {
                Ok(_) => Acted::Moved,
                Err(ChangeError::Gone) => {
                    super::end(s, flow).await?;
                    Acted::PasswordGone
                }
                Err(ChangeError::Infra(e)) => return Err(e),
                Err(refused) => Acted::PasswordRefused(refused),
            }
        }
        _ => Acted::Moved,
    })
}

/// "Recevoir un nouveau lien" on the page of the link `?h=…&c=…`: a new link to its owner when
/// it expired, nothing otherwise; padded, so the answer is the same whether a mail went or not.
pub async fn renew_link(s: &Services, handle: &str, code: &str, info: &ClientInfo) -> Result<(), InfraError> {
    gate::padded(s, async {
        if let LinkState::Expired(token) = link_state(s, handle, code).await? {
            resend_link(s, &token, info).await?;
        }
        Ok(())
    })
    .await
}

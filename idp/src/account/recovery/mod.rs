//! Self-service recovery (issue #5), free of the web framework: the forgotten password
//! (`password`: security code, single-use link or provisional password) and the forgotten
//! identifier (`identifier`: reminder by e-mail, or the consular renewal), the propagation of a
//! recovered password to downstream systems (`propagation`), and what they share, here:
//!
//! - the **flow**: a recovery in progress, kept in the ephemeral store under the SHA-256 of a
//!   random secret the browser holds in a cookie (as the first-login steps do); it expires after
//!   `recovery.flow_lifetime`;
//! - **identification**: what a person remembers (login, e-mail, alternate identifier with the
//!   date of birth) → the matching accounts of the chosen user type, never shown;
//! - **neutrality**: a flow goes on exactly the same way when no account matched (a decoy
//!   secret question, a code page, "Procédure terminée, merci de vérifier votre boîte aux
//!   lettres"), nothing is sent, and every POST answers after the same minimum time
//!   (`gate::padded`, inside the flow functions, after the first page's captcha: `gate`);
//! - **rate limits** per identifier, per e-mail address and per IP address, counted in the
//!   ephemeral store so that every node shares them;
//! - **one-time secrets**: 6-digit codes bound to a random flow handle, so a link holding the
//!   handle and the code works from another device, stored as digests in `user_tokens` (single
//!   use, expiring, dead after `recovery.max_code_attempts` wrong guesses);
//! - **masking** of what the success page shows ("c…@…mail.com").
//!
//! Which step comes after which, and which action a step accepts, is decided here too
//! (`password::act`, `identifier::act`); `web/` only maps the outcomes to pages.

pub mod gate;
pub mod identifier;
pub mod password;
pub mod propagation;

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::audit;
use super::secret_question::{self, Outcome};
use super::signin::Continuation;
use crate::crypto;
use crate::domain::user_type::{IdentifyBy, MissingSecretNotice, RecoveryRule};
use crate::domain::{Client, Lang, Secret, User};
use crate::ephemeral::{get_json, put_json, ttl_until};
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;

/// The captcha purposes of the two first pages (`account::captcha`).
pub const CAPTCHA_PASSWORD: &str = "recovery_password";
pub const CAPTCHA_IDENTIFIER: &str = "recovery_identifier";

/// Which recovery a flow is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    Password,
    Identifier,
}

/// Where a flow stands. Each recovery uses the steps it needs, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The account's secret question (or a decoy when no account matched).
    SecretQuestion,
    /// The type requires a secret question and the account never set one: the support message
    /// (Bonus Eco: "L'ensemble des secrets … n'étant pas renseigné …").
    SecretsMissing,
    /// Type the security code received by e-mail ("Renvoyer le code", "Vérifier le code",
    /// "Annuler").
    Code,
    /// Nothing more to do here: "Procédure terminée, merci de vérifier votre boîte aux lettres"
    /// (link sent, provisional password sent, identifier sent; or nothing sent).
    MailSent,
    /// The consular variant: the code received by SMS.
    SmsCode,
    /// The new password (the policy page).
    NewPassword,
    /// The change is being propagated downstream ("Veuillez patienter").
    Waiting,
    /// Finished: the success page (masked identifier and e-mail, "Continuer"), or the new
    /// identifier shown once.
    Done,
}

/// A recovery in progress.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    /// Digest of the cookie secret (the store key).
    pub id: String,
    pub kind: FlowKind,
    /// The user type chosen in the selector (or preselected).
    pub user_type: String,
    /// The matching accounts, oldest first; empty when none matched. Never shown as such.
    pub user_ids: Vec<String>,
    /// What the person typed to be found, normalised (rate limits, decoy question).
    pub identifier: String,
    pub step: Step,
    /// Random handle naming this flow in links (with a code); not the cookie secret.
    pub handle: String,
    /// Wrong codes typed so far (the unknown case dies at the same count as a real code).
    pub code_failures: i64,
    /// When the last code or link was sent (throttles "Renvoyer le code").
    pub code_sent_at: Option<i64>,
    /// The one-time token (digest, purpose) proven in this flow, redeemed by the final write.
    pub proven_token: Option<(String, String)>,
    /// What to go back to once recovered (an authorization request), its client (theme,
    /// name) and languages. Flows stored before issue #11 held a bare `request_id`: it is read
    /// as `Continuation::Authorization` (`continuation_or_request_id`).
    #[serde(default, alias = "request_id", deserialize_with = "continuation_or_request_id")]
    pub continuation: Option<Continuation>,
    pub client_id: Option<String>,
    pub ui_locales: Option<String>,
    /// The propagation delivery to wait for (`propagation`), and until when.
    pub propagation_id: Option<String>,
    #[serde(default)]
    pub waiting_until: Option<i64>,
    /// Set when the flow is done: what the last page shows (masked identifier and e-mail, or
    /// the new identifier, shown once).
    pub outcome: Option<Finished>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What the last page of a finished flow shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Finished {
    pub masked_login: String,
    pub masked_email: String,
    /// The consular variant's new identifier, shown once then forgotten.
    pub new_identifier: Option<String>,
}

impl Flow {
    /// The relying party's request the flow came from.
    pub fn origin(&self) -> Origin {
        Origin {
            continuation: self.continuation.clone(),
            client_id: self.client_id.clone(),
            ui_locales: self.ui_locales.clone(),
        }
    }

    /// The single matching account, if exactly one matched.
    pub fn single_user(&self) -> Option<&str> {
        match self.user_ids.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// Where a flow came from: what to resume after it (the relying party's pending request), if
/// anything, and the client and languages of its pages.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub continuation: Option<Continuation>,
    pub client_id: Option<String>,
    pub ui_locales: Option<String>,
}

impl Origin {
    /// The authorization request to go back to (links to /login?request_id=…), if any.
    pub fn request_id(&self) -> Option<&str> {
        self.continuation.as_ref().and_then(Continuation::request_id)
    }

    /// The client the pages are themed for, if it still exists.
    pub async fn client(&self, s: &Services) -> Result<Option<Client>, InfraError> {
        match self.client_id.as_deref() {
            Some(id) => Ok(s.store.client(id).await?),
            None => Ok(None),
        }
    }
}

/// The registered client of a `client_id` a page carries (a hint for its theme and name);
/// `None` when unknown or too long to be one.
pub async fn client_named(s: &Services, client_id: &str) -> Result<Option<Client>, InfraError> {
    if client_id.len() > 255 {
        return Ok(None);
    }
    Ok(s.store.client(client_id).await?)
}

/// A stored flow's continuation: the current shape, or the bare request id of the flows stored
/// before issue #11 (in Redis, they outlive a deployment).
fn continuation_or_request_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Continuation>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Current(Continuation),
        RequestId(String),
    }
    Ok(Option::<Stored>::deserialize(d)?.map(|stored| match stored {
        Stored::Current(continuation) => continuation,
        Stored::RequestId(request_id) => Continuation::Authorization { request_id },
    }))
}

fn key(id: &str) -> String {
    format!("recovery:{id}")
}

/// Starts a flow after the first page was accepted (the captcha passed, the limits held):
/// returns the cookie secret and the flow, already saved, at `step`.
pub async fn start(
    s: &Services,
    kind: FlowKind,
    user_type: &str,
    identifier: &str,
    users: &[User],
    step: Step,
    origin: &Origin,
) -> Result<(Secret, Flow), InfraError> {
    let now = s.now();
    let secret = crypto::random_token(32);
    let flow = Flow {
        id: crypto::digest(&secret),
        kind,
        user_type: user_type.to_owned(),
        user_ids: users.iter().map(|u| u.id.clone()).collect(),
        identifier: identifier.to_owned(),
        step,
        handle: crypto::random_token(32),
        code_failures: 0,
        code_sent_at: None,
        proven_token: None,
        continuation: origin.continuation.clone(),
        client_id: origin.client_id.clone(),
        ui_locales: origin.ui_locales.clone(),
        propagation_id: None,
        waiting_until: None,
        outcome: None,
        created_at: now,
        expires_at: now + s.recovery.flow_lifetime,
    };
    save(s, &flow).await?;
    Ok((Secret::new(secret), flow))
}

pub async fn save(s: &Services, flow: &Flow) -> Result<(), InfraError> {
    put_json(s.ephemeral.as_ref(), &key(&flow.id), flow, ttl_until(flow.expires_at, s.now())).await?;
    Ok(())
}

/// The live flow of a cookie secret of `kind`; `None` when unknown, malformed, expired or of
/// the other kind.
pub async fn load(s: &Services, secret: &str, kind: FlowKind) -> Result<Option<Flow>, InfraError> {
    if secret.len() != 43 {
        return Ok(None);
    }
    let flow: Option<Flow> = get_json(s.ephemeral.as_ref(), &key(&crypto::digest(secret))).await?;
    Ok(flow.filter(|f| f.expires_at > s.now() && f.kind == kind))
}

/// Ends a flow (Annuler, or its last page was shown).
pub async fn end(s: &Services, flow: &Flow) -> Result<(), InfraError> {
    s.ephemeral.delete(&key(&flow.id)).await?;
    Ok(())
}

/// What the first page's form carries.
#[derive(Clone, Debug, Default)]
pub struct IdentifyInput {
    /// Login, e-mail address or alternate identifier, as typed.
    pub identifier: String,
    /// `YYYY-MM-DD` (the form's date field), when the type asks for it.
    pub birth_date: Option<String>,
}

/// The identifier as compared and counted: its PRECIS form when it is a valid login (issue #10:
/// `ＡLICE` and `alice` share one counter), else trimmed and lower-case.
pub fn normalize_identifier(raw: &str) -> String {
    match crate::domain::Login::parse(raw) {
        Ok(login) => login.as_str().to_owned(),
        Err(_) => raw.trim().to_lowercase(),
    }
}

/// The enabled accounts of `user_type` that `input` names under `rule`, oldest first: by login,
/// by e-mail (every account of the address), or by alternate identifier (with a matching date
/// of birth when the rule asks for one). Accounts of other types are not found: their own
/// type's rules (captcha, secret question) would be bypassed.
pub async fn identify(
    s: &Services,
    rule: &RecoveryRule,
    user_type: &str,
    input: &IdentifyInput,
) -> Result<Vec<User>, InfraError> {
    let typed = input.identifier.trim();
    if typed.is_empty() || typed.chars().count() > 254 {
        return Ok(Vec::new());
    }
    let mut found: Vec<User> = Vec::new();
    for way in &rule.identify_by {
        match way {
            IdentifyBy::Login => {
                if let Some(user) = s.store.user_by_login(&normalize_identifier(typed)).await? {
                    found.push(user);
                }
            }
            IdentifyBy::Email if typed.contains('@') => found.extend(s.store.users_by_email(typed).await?),
            IdentifyBy::Email => {}
            IdentifyBy::AlternateId => {
                if let Some(user) = s.store.user_by_identifier(&rule.alternate_id_kinds, typed).await? {
                    let born_ok = if rule.birth_date {
                        let stored = s.store.birth_date(&user.id).await?;
                        matches!((stored.as_deref(), input.birth_date.as_deref()), (Some(a), Some(b)) if a == b.trim())
                    } else {
                        true
                    };
                    if born_ok {
                        found.push(user);
                    }
                }
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    found.retain(|u| !u.disabled && u.user_type == user_type);
    found.dedup_by(|a, b| a.id == b.id);
    Ok(found)
}

/// Which rate limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Identifier,
    Email,
    Ip,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identifier => "identifier",
            Self::Email => "email",
            Self::Ip => "ip",
        }
    }
}

/// A rate limit refused a request.
#[derive(Clone, Copy, Debug)]
pub struct Refused {
    pub limit: Limit,
    /// The first refusal of this limit's window: the only one that is audited.
    first: bool,
}

/// Records a refusal in the audit trail once per limit and window: a flood of refused requests
/// then costs no durable write each (issue #10, bounded state before authentication).
pub async fn audit_refusal(
    s: &Services,
    user_id: Option<&str>,
    info: &ClientInfo,
    refused: &Refused,
    detail: serde_json::Value,
) -> Result<(), InfraError> {
    if refused.first {
        audit::record(s, user_id, audit::RECOVERY_THROTTLED, info, detail).await?;
    }
    Ok(())
}

/// Counts one recovery request (a first page accepted, a code re-sent) against the limits of
/// its identifier, e-mail address and IP address; `Err(refused)` when one is exceeded. Counted
/// whether or not an account exists, so the refusal tells nothing either.
pub async fn count_request(
    s: &Services,
    identifier: Option<&str>,
    email: Option<&str>,
    ip: &str,
) -> Result<Result<(), Refused>, InfraError> {
    let r = &s.recovery;
    let window = Duration::from_secs(r.limit_window as u64);
    let checks = [
        (Limit::Ip, Some(ip.to_owned()), r.limit_per_ip),
        (Limit::Identifier, identifier.map(normalize_identifier), r.limit_per_identifier),
        (Limit::Email, email.map(normalize_identifier), r.limit_per_email),
    ];
    let mut refused = None;
    for (limit, value, max) in checks {
        let Some(value) = value.filter(|v| !v.is_empty()) else { continue };
        let counter = format!("recovery_limit:{}:{}", limit.as_str(), crypto::digest(&value));
        let count = s.ephemeral.incr(&counter, window).await?;
        if count > i64::from(max) && refused.is_none() {
            refused = Some(Refused { limit, first: count == i64::from(max) + 1 });
        }
    }
    Ok(refused.map_or(Ok(()), Err))
}

/// The question to show: the account's own, or, when no account matched (or several did), a
/// decoy picked from the offered list by a keyed hash of the identifier, so the same identifier
/// always gets the same question. `None`: the account has no question.
pub async fn question_for(s: &Services, flow: &Flow, lang: Lang) -> Result<Option<String>, InfraError> {
    if let Some(user_id) = flow.user_ids.first() {
        return secret_question::question_of(s, user_id).await;
    }
    let offered = secret_question::offered(s, lang);
    if offered.is_empty() {
        return Ok(Some(String::new()));
    }
    let mac = crypto::hmac_sha256(&s.csrf_key, format!("decoy-question:{}", flow.identifier).as_bytes());
    let pick = usize::from(mac[0]) % offered.len();
    Ok(Some(offered[pick].clone()))
}

/// Checks the answer to `question_for`'s question; the same work whether an account matched or
/// not (one attempt counted, one argon2id verification). With several accounts (namesakes of
/// one address), the oldest one's question is asked.
pub async fn answer_is_right(s: &Services, flow: &Flow, answer: &Secret) -> Result<bool, InfraError> {
    let subject = match flow.user_ids.first() {
        Some(user_id) => user_id.clone(),
        None => format!("unknown:{}", crypto::digest(&flow.identifier)),
    };
    Ok(secret_question::check(s, &subject, answer).await? == Outcome::Correct)
}

/// What the secret-question step does in a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionStep {
    /// Ask the account's question (or the decoy when no account matched).
    Ask,
    /// The support message (Bonus Eco: the secrets were never set).
    SecretsMissing,
    /// No question in this flow.
    Skip,
}

/// The secret-question step of `flow`. The question is asked only when the rule asks for it
/// AND the type requires every account to have one: with optional questions, asking those who
/// set one and skipping the others (and the unknown) would tell who has an account.
///
/// An account of such a type that never set its question (issue #13, decision 0020): with
/// `missing_secret_notice = "mail"` (the default) its owner is e-mailed the support message and
/// the flow forgets the account, so it goes on exactly as an unknown login's (the decoy
/// question, "Procédure terminée", nothing else sent); with `"page"` the support message is
/// the next page, as the seed shows it, which says that the account exists.
pub async fn question_step(s: &Services, flow: &mut Flow, info: &ClientInfo) -> Result<QuestionStep, InfraError> {
    let user_type = s.user_types.of(&flow.user_type);
    if !user_type.recovery_asks_question() {
        return Ok(QuestionStep::Skip);
    }
    if !secrets_missing(s, flow).await? {
        return Ok(QuestionStep::Ask);
    }
    match user_type.recovery.missing_secret_notice {
        MissingSecretNotice::Page => Ok(QuestionStep::SecretsMissing),
        MissingSecretNotice::Mail => {
            if let Some(user) = match flow.user_ids.first() {
                Some(id) => s.store.user_by_id(id).await?,
                None => None,
            } {
                send_missing_secret(s, flow, &user, info).await?;
            }
            flow.user_ids.clear();
            Ok(QuestionStep::Ask)
        }
    }
}

/// Context of the `missing_secret` mail.
#[derive(Serialize)]
struct MissingSecretMail<'a> {
    name: String,
    login: &'a str,
    /// `password` or `identifier`: what was asked for.
    flow: &'static str,
    support: &'a str,
    support_url: &'a str,
}

/// The seed's support message, to the account's own address (queued like the other mails).
async fn send_missing_secret(s: &Services, flow: &Flow, user: &User, info: &ClientInfo) -> Result<(), InfraError> {
    // The flow's language (the page the person acted on), else the owner's.
    let lang = info.lang.or_else(|| user.locale.as_deref().and_then(Lang::from_tag)).unwrap_or_default();
    let kind = match flow.kind {
        FlowKind::Password => "password",
        FlowKind::Identifier => "identifier",
    };
    let (support, support_url) = s.recovery.support_for(s.user_types.get(&user.user_type), lang);
    let context = MissingSecretMail {
        name: user.display_name(),
        login: &user.login,
        flow: kind,
        support: &support,
        support_url: &support_url,
    };
    crate::mail::notify::send(s, user, Some(lang), "missing_secret", &context).await;
    audit::record(
        s,
        Some(&user.id),
        audit::RECOVERY_SENT,
        info,
        serde_json::json!({ "method": "missing_secret_notice", "flow": kind }),
    )
    .await
}

/// Whether recovery must stop on the support message: the type requires a secret question and
/// the (single, known) account never set one. Unknown accounts get a decoy question instead.
pub async fn secrets_missing(s: &Services, flow: &Flow) -> Result<bool, InfraError> {
    let Some(user_id) = flow.user_ids.first() else { return Ok(false) };
    let required = s.user_types.of(&flow.user_type).secret_question;
    Ok(required && secret_question::question_of(s, user_id).await?.is_none())
}

/// A 6-digit security code, uniformly drawn.
pub fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// The stored digest of a code issued in the flow named `handle`: a code is only good with its
/// flow's handle (the cookie's flow, or a link holding both).
pub fn code_digest(handle: &str, code: &str) -> String {
    crypto::digest(&format!("{handle}:{}", code.trim()))
}

/// "claire.dupont@gmail.com" → "c…@…mail.com" (Nouvelle-Aquitaine's success page).
pub fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return mask_login(email);
    };
    let first: String = local.chars().take(1).collect();
    let tail: String = {
        let chars: Vec<char> = domain.chars().collect();
        let keep = chars.len().saturating_sub(1).min(8);
        chars[chars.len() - keep..].iter().collect()
    };
    format!("{first}…@…{tail}")
}

/// A login shown masked: an e-mail-like login as `mask_email`, else its first and last
/// characters ("p…m").
pub fn mask_login(login: &str) -> String {
    if login.contains('@') {
        return mask_email(login);
    }
    let chars: Vec<char> = login.chars().collect();
    match chars.as_slice() {
        [] => String::new(),
        [one] => format!("{one}…"),
        [first, .., last] => format!("{first}…{last}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_logins_are_masked_as_the_region_shows_them() {
        assert_eq!(mask_email("claire.dupont@gmail.com"), "c…@…mail.com");
        assert_eq!(mask_email("c@ab.fr"), "c…@…b.fr");
        assert_eq!(mask_login("claire@gmail.com"), "c…@…mail.com");
        assert_eq!(mask_login("prenom.nom2"), "p…2");
        assert_eq!(mask_login("x"), "x…");
    }

    fn stored_flow(continuation: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "id": "d", "kind": "password", "user_type": "staff", "user_ids": [], "identifier": "alice",
            "step": "code", "handle": "h", "code_failures": 0, "code_sent_at": null, "proven_token": null,
            "request_id": continuation, "client_id": "rp", "ui_locales": null, "propagation_id": null,
            "outcome": null, "created_at": 1, "expires_at": 2
        })
    }

    #[test]
    fn a_flow_stored_before_issue_11_resumes_its_authorization_request() {
        let old: Flow = serde_json::from_value(stored_flow(serde_json::json!("req-1"))).unwrap();
        assert_eq!(old.continuation, Some(Continuation::Authorization { request_id: "req-1".into() }));
        assert_eq!(old.origin().request_id(), Some("req-1"));
        let none: Flow = serde_json::from_value(stored_flow(serde_json::Value::Null)).unwrap();
        assert_eq!(none.continuation, None);
        let mut absent = stored_flow(serde_json::Value::Null);
        absent.as_object_mut().unwrap().remove("request_id");
        assert_eq!(serde_json::from_value::<Flow>(absent).unwrap().continuation, None);
    }

    #[test]
    fn a_flow_keeps_its_continuation_across_a_save() {
        let mut flow: Flow = serde_json::from_value(stored_flow(serde_json::Value::Null)).unwrap();
        flow.continuation = Some(Continuation::AccountSpace);
        let saved = serde_json::to_value(&flow).unwrap();
        assert!(saved.get("request_id").is_none(), "{saved}");
        assert_eq!(serde_json::from_value::<Flow>(saved).unwrap(), flow);
    }

    #[test]
    fn codes_are_six_digits_and_bound_to_their_handle() {
        for _ in 0..100 {
            let code = new_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_ne!(code_digest("a", "123456"), code_digest("b", "123456"));
        assert_eq!(code_digest("a", " 123456 "), code_digest("a", "123456"));
    }
}

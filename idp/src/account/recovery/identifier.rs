//! The forgotten identifier (issue #5), two variants chosen per user type (`rule.identifier`):
//!
//! - **reminder** (`email`, Ségur Numérique "J'ai oublié mon identifiant"): the e-mail address
//!   (or an alternate identifier with the date of birth, UPHF "Récupérer mon identifiant") →
//!   the secret question when the type asks it → one mail to the address listing EVERY matching
//!   account's identifier (namesakes "prénom.nom" plus a digit) → "Procédure terminée, merci de
//!   vérifier votre boîte aux lettres", whether anything matched or not;
//! - **renewal** (`new_identifier`, consular elections "Identifiant perdu ou non reçu"): the
//!   alternate identifier (NUMIC) and the e-mail address, which must name the same account →
//!   a single-use link by e-mail → a 6-digit code by SMS → a NEW random identifier, shown once.
//!
//! The pages and the cookie live in `web::handlers::recovery_identifier`; what the flows share
//! (flow state, identification, limits, neutrality, and the captcha and answer time of every
//! POST: `gate`) in the parent module. `act` decides which action the flow's step accepts.

use serde::Serialize;
use serde_json::json;

use super::gate::{self, CaptchaAnswer, CaptchaRefusal};
use super::{CAPTCHA_IDENTIFIER, Finished, Flow, FlowKind, Limit, Origin, QuestionStep, Step};
use crate::account::audit;
use crate::crypto;
use crate::domain::user_type::{IdentifierRecovery, IdentifyBy, RecoveryRule};
use crate::domain::{Lang, Login, Secret, User};
use crate::mail::notify;
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;
use crate::store::{StoreError, UserToken};

/// `user_tokens.purpose` of the renewal link (consular variant).
pub const LINK_PURPOSE: &str = "identifier_renewal";
/// `user_tokens.purpose` of the code sent by SMS after the link was opened.
pub const SMS_PURPOSE: &str = "identifier_sms";
/// Opening the link again within this many seconds sends no second SMS (refresh, a mail
/// scanner's prefetch): the code already sent stays good, being bound to the link.
pub const SMS_RESEND_SECONDS: i64 = 30;
/// New identifiers: lower-case letters and digits without the look-alikes (0/o, 1/l): logins
/// are stored lower-case (`Login::parse`), and 32 symbols give 5 unbiased bits per character.
const NEW_IDENTIFIER_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
pub const NEW_IDENTIFIER_LENGTH: usize = 12;

/// What the first page asks for, from the type's rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asks {
    /// "Courriel" (the reminder).
    Email,
    /// The alternate identifier, with the date of birth when `birth_date` (the reminder of a type
    /// identified by alternate identifier and not by e-mail).
    AlternateId { birth_date: bool },
    /// "NUMIC" and "Adresse électronique" (the renewal).
    AlternateIdAndEmail,
}

impl Asks {
    pub fn of(rule: &RecoveryRule) -> Self {
        if rule.identifier == IdentifierRecovery::NewIdentifier {
            return Self::AlternateIdAndEmail;
        }
        if rule.identify_by.contains(&IdentifyBy::AlternateId) && !rule.identify_by.contains(&IdentifyBy::Email) {
            Self::AlternateId { birth_date: rule.birth_date }
        } else {
            Self::Email
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::AlternateId { .. } => "alternate_id",
            Self::AlternateIdAndEmail => "alternate_id_and_email",
        }
    }
}

/// The first page's fields, as typed.
#[derive(Clone, Debug, Default)]
pub struct FirstPage {
    pub email: String,
    pub alternate_id: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
}

/// The first page accepted: the flow (already saved) and its cookie secret.
pub enum Begun {
    Started {
        secret: Secret,
        flow: Box<Flow>,
    },
    /// The captcha refused the request (nothing else was done).
    Captcha(CaptchaRefusal),
    Throttled(Limit),
}

/// Handles the first page (CSRF checked by the caller): the type's captcha, then counts the
/// request, finds the accounts, starts the flow, and sends what the type's variant sends right
/// away (the renewal link; the reminder when no secret question is asked). Answers alike, and
/// after the same minimum time, whether or not anything matched.
pub async fn begin(
    s: &Services,
    user_type: &str,
    input: &FirstPage,
    captcha: &CaptchaAnswer,
    origin: &Origin,
    info: &ClientInfo,
) -> Result<Begun, InfraError> {
    gate::padded(s, begin_now(s, user_type, input, captcha, origin, info)).await
}

async fn begin_now(
    s: &Services,
    user_type: &str,
    input: &FirstPage,
    captcha: &CaptchaAnswer,
    origin: &Origin,
    info: &ClientInfo,
) -> Result<Begun, InfraError> {
    let rule = s.user_types.of(user_type).recovery.clone();
    if let Err(refused) = gate::check_captcha(s, &info.ip, rule.captcha, CAPTCHA_IDENTIFIER, captcha).await? {
        return Ok(Begun::Captcha(refused));
    }
    let asks = Asks::of(&rule);
    let email = input.email.trim();
    let alternate_id = input.alternate_id.trim();
    let (identifier, counted_email) = match asks {
        Asks::Email => (super::normalize_identifier(email), Some(email)),
        Asks::AlternateId { .. } => (alternate_id.to_owned(), None),
        Asks::AlternateIdAndEmail => (alternate_id.to_owned(), Some(email)),
    };
    if let Err(refused) = super::count_request(s, Some(&identifier), counted_email, &info.ip).await? {
        let detail = json!({ "flow": "identifier", "user_type": user_type, "limit": refused.limit.as_str() });
        super::audit_refusal(s, None, info, &refused, detail).await?;
        return Ok(Begun::Throttled(refused.limit));
    }
    let users = match asks {
        Asks::Email | Asks::AlternateId { .. } => {
            let way = if asks == Asks::Email { IdentifyBy::Email } else { IdentifyBy::AlternateId };
            let narrowed = RecoveryRule { identify_by: vec![way], ..rule.clone() };
            let typed = if asks == Asks::Email { email } else { alternate_id };
            let input = super::IdentifyInput { identifier: typed.to_owned(), birth_date: input.birth_date.clone() };
            super::identify(s, &narrowed, user_type, &input).await?
        }
        Asks::AlternateIdAndEmail => {
            renewal_account(s, &rule, user_type, alternate_id, email).await?.into_iter().collect()
        }
    };
    let known = !users.is_empty();
    let detail = json!({ "flow": "identifier", "user_type": user_type, "known": known });
    audit::record(s, users.first().map(|u| u.id.as_str()), audit::RECOVERY_STARTED, info, detail).await?;

    let (secret, mut flow) =
        super::start(s, FlowKind::Identifier, user_type, &identifier, &users, Step::MailSent, origin).await?;
    match rule.identifier {
        IdentifierRecovery::NewIdentifier => {
            if let Some(user) = users.first() {
                send_renewal_link(s, user, info).await?;
            }
        }
        IdentifierRecovery::Email => {
            flow.step = match super::question_step(s, &mut flow, info).await? {
                QuestionStep::SecretsMissing => Step::SecretsMissing,
                QuestionStep::Ask => Step::SecretQuestion,
                QuestionStep::Skip => {
                    send_reminder(s, &flow, info).await?;
                    Step::MailSent
                }
            };
            super::save(s, &flow).await?;
        }
        // The selector sends such types to the support page; nothing to send here.
        IdentifierRecovery::None => {}
    }
    Ok(Begun::Started { secret, flow: Box::new(flow) })
}

/// The renewal's account: the one holding the alternate identifier, of this type, enabled, AND
/// whose e-mail is the one typed (ignoring case); otherwise none.
async fn renewal_account(
    s: &Services,
    rule: &RecoveryRule,
    user_type: &str,
    alternate_id: &str,
    email: &str,
) -> Result<Option<User>, InfraError> {
    if alternate_id.is_empty() || alternate_id.chars().count() > 254 || email.is_empty() {
        return Ok(None);
    }
    let user = s.store.user_by_identifier(&rule.alternate_id_kinds, alternate_id).await?;
    Ok(user.filter(|u| !u.disabled && u.user_type == user_type && u.email.trim().eq_ignore_ascii_case(email)))
}

/// The answer to the secret question: right → the reminder goes; wrong → nothing is sent. The
/// flow goes on to "Procédure terminée" either way (the page does not tell which).
pub async fn answer(s: &Services, flow: &mut Flow, answer: &Secret, info: &ClientInfo) -> Result<(), InfraError> {
    if flow.step != Step::SecretQuestion {
        return Ok(());
    }
    if super::answer_is_right(s, flow, answer).await? {
        send_reminder(s, flow, info).await?;
    } else if let Some(user_id) = flow.user_ids.first() {
        audit::record(s, Some(user_id), audit::RECOVERY_SECRET_FAILED, info, json!({ "flow": "identifier" })).await?;
    }
    flow.step = Step::MailSent;
    super::save(s, flow).await
}

#[derive(Serialize)]
struct ReminderMail {
    name: String,
    logins: Vec<String>,
    sign_in_url: String,
}

/// One mail to the address listing every matching account's identifier; nothing when none
/// matched.
async fn send_reminder(s: &Services, flow: &Flow, info: &ClientInfo) -> Result<(), InfraError> {
    let mut users = Vec::new();
    for id in &flow.user_ids {
        if let Some(user) = s.store.user_by_id(id).await?.filter(|u| !u.disabled) {
            users.push(user);
        }
    }
    let Some(first) = users.first() else { return Ok(()) };
    let context = ReminderMail {
        name: if users.len() == 1 { first.display_name() } else { String::new() },
        logins: users.iter().map(|u| u.login.clone()).collect(),
        sign_in_url: s.endpoint("/account"),
    };
    notify::send(s, first, info.lang, "identifier_reminder", &context).await;
    let detail = json!({ "accounts": users.len() });
    audit::record(s, Some(&first.id), audit::IDENTIFIER_SENT, info, detail).await
}

#[derive(Serialize)]
struct RenewalMail {
    name: String,
    renew_url: String,
    expires: i64,
}

/// Stores a new renewal link for the account (an earlier one stops working) and e-mails it.
async fn send_renewal_link(s: &Services, user: &User, info: &ClientInfo) -> Result<(), InfraError> {
    let token = crypto::random_token(32);
    let now = s.now();
    let expires_at = now + s.recovery.code_lifetime;
    let stored = UserToken {
        digest: crypto::digest(&token),
        user_id: user.id.clone(),
        purpose: LINK_PURPOSE.to_owned(),
        created_at: now,
        expires_at,
        attempts: 0,
    };
    s.store.insert_user_token(&stored).await?;
    let query = serde_urlencoded::to_string([("t", token.as_str())]).unwrap_or_default();
    let context = RenewalMail {
        name: user.display_name(),
        renew_url: s.endpoint(&format!("/recovery/identifier/renew?{query}")),
        expires: expires_at,
    };
    notify::send(s, user, info.lang, "identifier_renewal", &context).await;
    audit::record(s, Some(&user.id), audit::RECOVERY_SENT, info, json!({ "method": "identifier_link" })).await
}

/// What opening a renewal link gives.
pub enum Opened {
    /// Unknown, used, expired or tampered with; the type of the account of an expired link,
    /// for the page's "Recommencer".
    Invalid { user_type: Option<String> },
    /// The account has no mobile number: only the support can help (its type's contact).
    NoPhone { user_type: String },
    /// Too many SMS for this account.
    Throttled(Limit),
    /// The SMS could not be handed to the gateway.
    SmsFailed,
    /// The code step; `secret` is the new flow's cookie (`None`: this browser's flow goes on).
    Flow { secret: Option<Secret>, flow: Box<Flow> },
}

/// Opens a renewal link (a GET: the link is not consumed). The browser gets a flow at the SMS
/// code step, and the account's mobile a 6-digit code, unless one went less than
/// `SMS_RESEND_SECONDS` ago or this browser's flow already is at that step for this link.
pub async fn open_link(
    s: &Services,
    token: &str,
    current: Option<&Flow>,
    info: &ClientInfo,
) -> Result<Opened, InfraError> {
    if !is_token_shaped(token) {
        return Ok(Opened::Invalid { user_type: None });
    }
    let now = s.now();
    let digest = crypto::digest(token);
    let Some(stored) = s.store.user_token_any(&digest, LINK_PURPOSE).await? else {
        return Ok(Opened::Invalid { user_type: None });
    };
    let Some(user) = s.store.user_by_id(&stored.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(Opened::Invalid { user_type: None });
    };
    if stored.expires_at <= now {
        return Ok(Opened::Invalid { user_type: Some(user.user_type) });
    }
    if let Some(flow) =
        current.filter(|f| f.step == Step::SmsCode && f.proven_token.as_ref().is_some_and(|(d, _)| *d == digest))
    {
        return Ok(Opened::Flow { secret: None, flow: Box::new(flow.clone()) });
    }
    let Some(phone) = user.phone_number.clone().filter(|p| !p.trim().is_empty()) else {
        return Ok(Opened::NoPhone { user_type: user.user_type });
    };
    let (secret, mut flow) = super::start(
        s,
        FlowKind::Identifier,
        &user.user_type,
        &user.login,
        std::slice::from_ref(&user),
        Step::SmsCode,
        &Origin::default(),
    )
    .await?;
    // Bound to the link, not to this browser: a code sent when a mail scanner or another
    // device opened the same link a moment ago is the one the person receives.
    flow.handle = crypto::digest(&format!("identifier-sms:{token}"));
    flow.proven_token = Some((digest.clone(), LINK_PURPOSE.to_owned()));
    let recently = format!("identifier_sms_sent:{digest}");
    let window = std::time::Duration::from_secs(SMS_RESEND_SECONDS as u64);
    if s.ephemeral.incr(&recently, window).await? == 1 {
        let counted = format!("identifier_sms:{}", user.id);
        if let Err(refused) = super::count_request(s, Some(&counted), None, &info.ip).await? {
            s.ephemeral.delete(&recently).await?;
            let detail = json!({ "flow": "identifier", "limit": refused.limit.as_str() });
            super::audit_refusal(s, Some(&user.id), info, &refused, detail).await?;
            return Ok(Opened::Throttled(refused.limit));
        }
        let code = super::new_code();
        let token = UserToken {
            digest: super::code_digest(&flow.handle, &code),
            user_id: user.id.clone(),
            purpose: SMS_PURPOSE.to_owned(),
            created_at: now,
            expires_at: now + s.recovery.code_lifetime,
            attempts: 0,
        };
        s.store.insert_user_token(&token).await?;
        let lang = user.locale.as_deref().and_then(Lang::from_tag).unwrap_or_default();
        if let Err(err) = s.sms.send(&phone, &sms_text(lang, &code)).await {
            tracing::error!(user_id = %user.id, error = %err, "cannot send the identifier renewal SMS");
            s.ephemeral.delete(&recently).await?;
            return Ok(Opened::SmsFailed);
        }
        flow.code_sent_at = Some(now);
        audit::record(s, Some(&user.id), audit::RECOVERY_SENT, info, json!({ "method": "sms" })).await?;
    }
    super::save(s, &flow).await?;
    Ok(Opened::Flow { secret: Some(secret), flow: Box::new(flow) })
}

fn sms_text(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Fr => format!("Code de renouvellement de votre identifiant : {code}. Ne le communiquez à personne."),
        Lang::En => format!("Your identifier renewal code: {code}. Do not share it with anyone."),
    }
}

/// What typing the SMS code gives.
pub enum Verified {
    /// The account's new identifier, to show once (the flow no longer holds it).
    Renewed { new_identifier: String },
    /// Wrong code; so many attempts left.
    Wrong { attempts_left: i64 },
    /// Too many wrong codes: the code and the link are dead, the flow ended.
    Dead,
    /// The code or the link expired or was used meanwhile (the flow ended).
    Gone,
}

/// Checks the SMS code; the right one gives the account a new random identifier and consumes
/// the link in the same transaction (`renew_login`), then the code.
pub async fn verify_sms(s: &Services, flow: &mut Flow, code: &str, info: &ClientInfo) -> Result<Verified, InfraError> {
    let (Some(user_id), Some((link, _)), Step::SmsCode) =
        (flow.single_user().map(str::to_owned), flow.proven_token.clone(), flow.step)
    else {
        return Ok(Verified::Gone);
    };
    let now = s.now();
    let code = code.trim();
    let digest = super::code_digest(&flow.handle, code);
    let shaped = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let right = match shaped {
        true => s.store.user_token_any(&digest, SMS_PURPOSE).await?.filter(|t| t.user_id == user_id),
        false => None,
    };
    match right {
        Some(t) if t.expires_at <= now => {
            super::end(s, flow).await?;
            return Ok(Verified::Gone);
        }
        Some(_) => {}
        None => {
            let left = s.store.fail_user_token(&user_id, SMS_PURPOSE, s.recovery.max_code_attempts).await?;
            audit::record(s, Some(&user_id), audit::RECOVERY_CODE_FAILED, info, json!({ "attempts_left": left }))
                .await?;
            if left > 0 {
                return Ok(Verified::Wrong { attempts_left: left });
            }
            // The link dies with its code: a new SMS would otherwise give five more guesses.
            s.store.take_user_token(&link, LINK_PURPOSE, now).await?;
            super::end(s, flow).await?;
            return Ok(Verified::Dead);
        }
    }
    let mut renewed = None;
    for _ in 0..5 {
        // Always a valid login (the alphabet is lower-case ASCII); a confusable one is a conflict.
        let Ok(candidate) = Login::parse(&new_identifier()) else { continue };
        match s.store.renew_login(&user_id, &candidate, (&link, LINK_PURPOSE), now).await {
            Ok(true) => {
                renewed = Some(candidate.as_str().to_owned());
                break;
            }
            Ok(false) => break,
            Err(StoreError::Conflict(_)) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    let Some(new_identifier) = renewed else {
        super::end(s, flow).await?;
        return Ok(Verified::Gone);
    };
    s.store.take_user_token(&digest, SMS_PURPOSE, now).await?;
    audit::record(s, Some(&user_id), audit::IDENTIFIER_RENEWED, info, json!({})).await?;
    let email = s.store.user_by_id(&user_id).await?.map(|u| u.email).unwrap_or_default();
    flow.step = Step::Done;
    // The new identifier is not kept: the page answering this request shows it, once.
    flow.outcome = Some(Finished {
        masked_login: super::mask_login(&new_identifier),
        masked_email: super::mask_email(&email),
        new_identifier: None,
    });
    super::save(s, flow).await?;
    Ok(Verified::Renewed { new_identifier })
}

/// A POST on a flow's page, as the form names it.
pub enum Action {
    /// "Annuler": the flow ends.
    Cancel,
    /// The secret answer.
    Answer(Secret),
    /// The code received by SMS.
    SmsCode(String),
    /// Anything else (an unknown step).
    Other,
}

/// What an action did; `Moved`: show the flow where it now stands.
pub enum Acted {
    Moved,
    /// The flow ended ("Annuler"): back to where it came from.
    Cancelled,
    Verified(Verified),
}

/// One action on `flow`, if its step accepts it: an action of another step (back button, a
/// second tab) changes nothing and shows the flow where it stands. The answer is padded like
/// every recovery POST.
pub async fn act(s: &Services, flow: &mut Flow, action: Action, info: &ClientInfo) -> Result<Acted, InfraError> {
    gate::padded(s, async {
        Ok(match (action, flow.step) {
            (Action::Cancel, _) => {
                super::end(s, flow).await?;
                Acted::Cancelled
            }
            (Action::Answer(secret), Step::SecretQuestion) => {
                answer(s, flow, &secret, info).await?;
                Acted::Moved
            }
            (Action::SmsCode(code), Step::SmsCode) => Acted::Verified(verify_sms(s, flow, &code, info).await?),
            _ => Acted::Moved,
        })
    })
    .await
}

/// A new identifier: 12 characters of `NEW_IDENTIFIER_ALPHABET` (60 random bits).
pub fn new_identifier() -> String {
    crypto::random_bytes(NEW_IDENTIFIER_LENGTH)
        .into_iter()
        .map(|b| char::from(NEW_IDENTIFIER_ALPHABET[usize::from(b) % NEW_IDENTIFIER_ALPHABET.len()]))
        .collect()
}

/// 32 random bytes in base64url: 43 characters of the URL-safe alphabet.
fn is_token_shaped(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Login;

    #[test]
    fn new_identifiers_are_twelve_unambiguous_lower_case_characters_and_valid_logins() {
        for _ in 0..200 {
            let id = new_identifier();
            assert_eq!(id.len(), NEW_IDENTIFIER_LENGTH);
            assert!(id.bytes().all(|b| NEW_IDENTIFIER_ALPHABET.contains(&b)), "{id}");
            assert_eq!(Login::parse(&id).unwrap().as_str(), id);
        }
        assert_ne!(new_identifier(), new_identifier());
    }

    #[test]
    fn the_first_page_asks_what_the_type_identifies_by() {
        let rule = RecoveryRule::default();
        assert_eq!(Asks::of(&rule), Asks::Email);
        let uphf = RecoveryRule { identify_by: vec![IdentifyBy::AlternateId], birth_date: true, ..rule.clone() };
        assert_eq!(Asks::of(&uphf), Asks::AlternateId { birth_date: true });
        let consular = RecoveryRule { identifier: IdentifierRecovery::NewIdentifier, ..rule };
        assert_eq!(Asks::of(&consular), Asks::AlternateIdAndEmail);
    }
}

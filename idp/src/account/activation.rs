//! How an account created by an administrator or an import starts (issue #4): either a
//! provisional password sent by e-mail (valid `lifetimes.provisional_password`, changed at the
//! first sign-in by the first-login flow), or an activation link ("Activer mon compte", valid
//! `lifetimes.activation_link`, single use) through which the owner chooses a password.
//! The link's token has 256 random bits and only its SHA-256 digest is stored (STYLE.md §9).
//! Setting the password goes through `password_change::change`, which consumes the token in
//! the same transaction. The other first-login steps (secret question, terms, captcha) belong
//! to the first-login flow, not here.

use serde::Serialize;
use serde_json::json;

use super::password_change::{self, ChangeError, Context, Reason};
use super::{audit, policy};
use crate::crypto;
use crate::domain::user_type::PasswordPolicy;
use crate::domain::{Secret, User};
use crate::mail::notify;
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;
use crate::store::UserToken;

/// `user_tokens.purpose` of activation links.
pub const PURPOSE: &str = "activation";

/// Where a provisional password or an activation link went (for the caller to report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Until when the password or link works (unix seconds).
    pub expires_at: i64,
    /// Whether the mail was handed to the transport (a failure is logged, never the secret).
    pub mailed: bool,
}

/// Context of the `provisional_password` e-mail.
#[derive(Serialize)]
struct ProvisionalMail<'a> {
    name: String,
    login: &'a str,
    password: &'a str,
    expires: i64,
    sign_in_url: String,
    /// Sent by a recovery (Bonus Eco) rather than at the start of an account.
    recovery: bool,
}

/// Why a provisional password is sent: the start of an account or an administrator reset, or a
/// self-service recovery (issue #5; the mail reads differently, the audit kind too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisionalReason {
    Activation,
    Recovery,
}

/// Context of the `activation` e-mail.
#[derive(Serialize)]
struct ActivationMail<'a> {
    name: String,
    login: &'a str,
    activation_url: String,
    expires: i64,
}

/// Gives the user a new provisional password that satisfies their type's policy, ends their
/// sessions, and e-mails it (first start of an account, or an administrator reset). The
/// password is never returned: it only travels in the mail.
pub async fn start_provisional(s: &Services, user: &User, info: &ClientInfo) -> Result<Option<Sent>, InfraError> {
    send_provisional(s, user, info, ProvisionalReason::Activation).await
}

/// `start_provisional`, for `reason`; a recovery also lifts a lockout.
pub async fn send_provisional(
    s: &Services,
    user: &User,
    info: &ClientInfo,
    reason: ProvisionalReason,
) -> Result<Option<Sent>, InfraError> {
    let user_type = s.user_types.of(&user.user_type);
    let password = generate_password(&user_type.password_policy, &personal(user));
    let hash = s.passwords.hash(&password).await?;
    let now = s.now();
    let expires_at = now + s.lifetimes.provisional_password;
    if !s.store.set_provisional_password(&user.id, &hash, expires_at, now).await? {
        return Ok(None);
    }
    // The sessions are invalid from the commit on (`sessions_not_before`); ending them here
    // propagates the logout, and ends one opened in this very second, which the check spares
    // (its tokens with it, `oidc::session_bound`).
    for session in crate::session::list_for_user(s, &user.id).await? {
        crate::session::end(s, &session).await?;
    }
    let recovery = reason == ProvisionalReason::Recovery;
    if recovery {
        super::lockout::unlock(s, &user.id).await?;
    }
    let context = ProvisionalMail {
        name: user.display_name(),
        login: &user.login,
        password: password.expose(),
        expires: expires_at,
        sign_in_url: s.endpoint("/account"),
        recovery,
    };
    // The user asked for it on a page (recovery): in that page's language; an administrator's
    // is not the user's.
    let lang = if recovery { info.lang } else { None };
    let mailed = notify::send(s, user, lang, "provisional_password", &context).await;
    let kind = if recovery { audit::RECOVERY_SENT } else { audit::ACTIVATION_SENT };
    audit::record(s, Some(&user.id), kind, info, json!({ "method": "provisional_password" })).await?;
    Ok(Some(Sent { expires_at, mailed }))
}

/// Stores a new activation token for the user (an earlier link stops working) and e-mails the
/// link `<issuer>/activate?token=…`.
pub async fn start_activation_link(s: &Services, user: &User, info: &ClientInfo) -> Result<Sent, InfraError> {
    let token = crypto::random_token(32);
    let now = s.now();
    let expires_at = now + s.lifetimes.activation_link;
    let stored = UserToken {
        digest: crypto::digest(&token),
        user_id: user.id.clone(),
        purpose: PURPOSE.to_owned(),
        created_at: now,
        expires_at,
        attempts: 0,
    };
    s.store.insert_user_token(&stored).await?;
    let query = serde_urlencoded::to_string([("token", token.as_str())]).unwrap_or_default();
    let context = ActivationMail {
        name: user.display_name(),
        login: &user.login,
        activation_url: s.endpoint(&format!("/activate?{query}")),
        expires: expires_at,
    };
    // Sent by an administrator (console, API, import): in the user's language, not theirs.
    let mailed = notify::send(s, user, None, "activation", &context).await;
    audit::record(s, Some(&user.id), audit::ACTIVATION_SENT, info, json!({ "method": "activation_link" })).await?;
    Ok(Sent { expires_at, mailed })
}

/// The user an unexpired, unused activation token belongs to; `None` for anything else
/// (tampered, used, expired, disabled account). Reads only: showing the page never consumes
/// the token (mail scanners fetch links before people do).
pub async fn pending(s: &Services, token: &str) -> Result<Option<User>, InfraError> {
    if !is_token_shaped(token) {
        return Ok(None);
    }
    let Some(stored) = s.store.user_token(&crypto::digest(token), PURPOSE, s.now()).await? else {
        return Ok(None);
    };
    Ok(s.store.user_by_id(&stored.user_id).await?.filter(|u| !u.disabled))
}

/// Sets the first password through the link: the policy of the user's type, then one
/// transaction that writes it and consumes the token. `ChangeError::Gone` when the token is
/// unknown, used or expired (also when it was used between the check and the write). A policy
/// violation writes nothing, so the link still works.
pub async fn activate(
    s: &Services,
    token: &str,
    new: &Secret,
    confirm: &Secret,
    info: &ClientInfo,
) -> Result<User, ChangeError> {
    let Some(user) = pending(s, token).await? else {
        return Err(ChangeError::Gone);
    };
    let digest = crypto::digest(token);
    let ctx = Context { reason: Reason::Activation, info, keep_sid: None, redeem_token: Some((&digest, PURPOSE)) };
    password_change::change(s, &user, new, confirm, &ctx).await?;
    Ok(user)
}

/// 32 random bytes in base64url: 43 characters of the URL-safe alphabet.
fn is_token_shaped(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn personal(user: &User) -> policy::PersonalData<'_> {
    policy::PersonalData {
        login: &user.login,
        given_name: &user.given_name,
        family_name: &user.family_name,
        email: &user.email,
    }
}

const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#%+-=?@_";

/// A random password that the policy accepts: at least 20 characters (about 114 bits) within
/// the policy's length, every required class present, no ambiguous characters (0/O, 1/l/I),
/// so that it can be copied from a mail by hand.
pub fn generate_password(p: &PasswordPolicy, personal: &policy::PersonalData<'_>) -> Secret {
    let required = (p.min_lowercase + p.min_uppercase + p.min_digits + p.min_symbols) as usize;
    let length = 20usize.max(p.min_length as usize).max(required).min(p.max_length as usize);
    let mut candidate = String::new();
    // Random draws almost always pass at once; a few tries cover the rare rejection (a
    // personal word by chance, a low strength score).
    for _ in 0..32 {
        candidate = draw(p, length);
        if policy::check(p, &candidate, personal).is_empty() {
            break;
        }
    }
    Secret::new(candidate)
}

fn draw(p: &PasswordPolicy, length: usize) -> String {
    let pick = |set: &[u8]| set[usize::from(crypto::random_bytes(1)[0]) % set.len()];
    let mut chars: Vec<u8> = Vec::with_capacity(length);
    for (set, count) in
        [(LOWER, p.min_lowercase), (UPPER, p.min_uppercase), (DIGITS, p.min_digits), (SYMBOLS, p.min_symbols)]
    {
        chars.extend((0..count).map(|_| pick(set)));
    }
    let mut all = [LOWER, UPPER, DIGITS].concat();
    if p.min_symbols > 0 {
        all.extend_from_slice(SYMBOLS);
    }
    while chars.len() < length {
        chars.push(pick(&all));
    }
    // Fisher–Yates, so the required characters are not always in front.
    for i in (1..chars.len()).rev() {
        let r = u32::from_le_bytes(crypto::random_bytes(4).try_into().unwrap_or([0; 4])) as usize;
        chars.swap(i, r % (i + 1));
    }
    chars.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOBODY: policy::PersonalData<'static> =
        policy::PersonalData { login: "camille.durand", given_name: "Camille", family_name: "Durand", email: "c@x.fr" };

    #[test]
    fn generated_passwords_satisfy_the_policy_they_were_made_for() {
        let strict = PasswordPolicy {
            min_length: 24,
            min_lowercase: 2,
            min_uppercase: 3,
            min_digits: 4,
            min_symbols: 2,
            min_strength: 4,
            ..PasswordPolicy::default()
        };
        for p in [PasswordPolicy::default(), strict] {
            for _ in 0..20 {
                let password = generate_password(&p, &NOBODY);
                assert!(
                    policy::check(&p, password.expose(), &NOBODY).is_empty(),
                    "{:?} refused by {p:?}",
                    password.expose()
                );
                assert!(password.expose().len() >= 20);
            }
        }
    }

    #[test]
    fn only_link_shaped_tokens_are_looked_up() {
        assert!(is_token_shaped(&crypto::random_token(32)));
        assert!(!is_token_shaped("abc"));
        assert!(!is_token_shaped(&format!("{}%", &crypto::random_token(32)[..42])));
    }
}

//! CSRF tokens for every form: the browser holds a random cookie, each form carries
//! HMAC(server key, cookie | context), where the context is the state the form acts on (OWASP
//! Cross-Site Request Forgery Prevention Cheat Sheet, "signed double-submit cookie" bound to the
//! session). A forged form from another site cannot read the cookie, so it cannot compute the
//! token; and a cookie + token pair an attacker obtained in their own browser and then planted
//! in a victim's (a sibling subdomain setting the cookie, cookie tossing) is only good for the
//! attacker's own request, session or flow, never for the victim's: the server hands out a token
//! for a context only to a browser that is in that state.
//!
//! The `Origin` check in front of the forms (`web::origin_check`) is the other half: a browser
//! never lets a foreign page post with our origin.

use crate::crypto::{b64url, b64url_decode, constant_time_eq, hmac_sha256};

/// The smallest CSRF cookie accepted (the server makes 43-character ones).
pub const MIN_COOKIE_LEN: usize = 32;

/// What a form acts on; its token is good for that and nothing else. Ids are the server's own
/// (a pending request id, a session id, the digest of a flow's cookie secret) or, for the
/// pages reached from a link, the link's own secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context<'a> {
    /// A login page (`web::handlers::login`), for any protocol: `form` is the path its form
    /// posts to (`/login`, `/cas/login`), `locator` the server's own id of what the sign-in
    /// resumes there (the pending authorization request id for `/login`). Two protocols' pages
    /// cannot take each other's tokens, nor two requests of one protocol.
    Login { form: &'a str, locator: &'a str },
    /// A page about a pending request shown to the signed-in user (consent, account choice):
    /// the request and the browser session (`sid`).
    SignedInRequest { request_id: &'a str, sid: &'a str },
    /// The RP-initiated logout confirmation: the logout request and the browser session it
    /// would end (`None` when the browser has none).
    LogoutConfirm { logout_id: &'a str, sid: Option<&'a str> },
    /// A first-login flow (issue #4): the digest of its cookie secret.
    FirstLogin { flow_id: &'a str },
    /// The account space (`/account…`): the digest of the account session's cookie.
    AccountSpace { session_digest: &'a str },
    /// The administration console (`/admin…`, issue #12): the digest of its session's cookie.
    AdminConsole { session_digest: &'a str },
    /// The activation link's password form: the link's token.
    Activation { token: &'a str },
    /// The first page of a recovery, before any flow exists (`kind`: `password` or
    /// `identifier`).
    RecoveryStart { kind: &'a str },
    /// A recovery flow under way: the digest of its cookie secret.
    Recovery { flow_id: &'a str },
    /// "Receive a new link" for an expired recovery link: the link's handle.
    RecoveryLink { handle: &'a str },
}

impl Context<'_> {
    /// An unambiguous encoding: the kind, then each part prefixed by its length (parts may be
    /// text from a form, so no separator could be trusted not to appear in them).
    fn encode(&self) -> Vec<u8> {
        let (kind, parts): (&str, Vec<&str>) = match *self {
            Context::Login { form, locator } => ("login", vec![form, locator]),
            Context::SignedInRequest { request_id, sid } => ("signed-in-request", vec![request_id, sid]),
            Context::LogoutConfirm { logout_id, sid } => match sid {
                Some(sid) => ("logout-confirm", vec![logout_id, sid]),
                None => ("logout-confirm-anonymous", vec![logout_id]),
            },
            Context::FirstLogin { flow_id } => ("first-login", vec![flow_id]),
            Context::AccountSpace { session_digest } => ("account-space", vec![session_digest]),
            Context::AdminConsole { session_digest } => ("admin-console", vec![session_digest]),
            Context::Activation { token } => ("activation", vec![token]),
            Context::RecoveryStart { kind } => ("recovery-start", vec![kind]),
            Context::Recovery { flow_id } => ("recovery", vec![flow_id]),
            Context::RecoveryLink { handle } => ("recovery-link", vec![handle]),
        };
        let mut out = Vec::new();
        for part in std::iter::once(kind).chain(parts) {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// The MAC of a cookie in a context; `csrf|` keeps it apart from the other MACs made with the
/// same server key.
fn mac(key: &[u8], cookie: &str, context: &Context<'_>) -> Vec<u8> {
    let mut message = b"csrf|".to_vec();
    message.extend_from_slice(&(cookie.len() as u64).to_be_bytes());
    message.extend_from_slice(cookie.as_bytes());
    message.extend_from_slice(&context.encode());
    hmac_sha256(key, &message)
}

pub fn token_for(key: &[u8], cookie: &str, context: &Context<'_>) -> String {
    b64url(&mac(key, cookie, context))
}

/// Whether `submitted` is the token of this browser's `cookie` for `context`.
pub fn is_valid(key: &[u8], cookie: Option<&str>, submitted: Option<&str>, context: &Context<'_>) -> bool {
    let (Some(cookie), Some(submitted)) = (cookie, submitted) else {
        return false;
    };
    if cookie.len() < MIN_COOKIE_LEN {
        return false;
    }
    let Some(submitted) = b64url_decode(submitted) else {
        return false;
    };
    constant_time_eq(&mac(key, cookie, context), &submitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: &str = "0123456789abcdef0123456789abcdef0123456789a";
    const OTHER_COOKIE: &str = "zyxwvutsrqponmlkjihgfedcbazyxwvutsrqponmlkj";
    const LOGIN: Context<'static> = Context::Login { form: "/login", locator: "req-1" };

    #[test]
    fn the_token_of_the_cookie_in_its_context_is_valid() {
        assert!(is_valid(b"k", Some(COOKIE), Some(&token_for(b"k", COOKIE, &LOGIN)), &LOGIN));
    }

    #[test]
    fn a_missing_or_foreign_token_is_invalid() {
        assert!(!is_valid(b"k", Some(COOKIE), None, &LOGIN));
        assert!(!is_valid(b"k", None, Some(&token_for(b"k", COOKIE, &LOGIN)), &LOGIN));
        assert!(!is_valid(b"other key", Some(COOKIE), Some(&token_for(b"k", COOKIE, &LOGIN)), &LOGIN));
        assert!(!is_valid(b"k", Some(OTHER_COOKIE), Some(&token_for(b"k", COOKIE, &LOGIN)), &LOGIN));
        assert!(!is_valid(b"k", Some(COOKIE), Some("not base64 !"), &LOGIN));
    }

    #[test]
    fn a_short_cookie_is_refused_even_with_its_own_token() {
        let short = "0123456789";
        assert!(!is_valid(b"k", Some(short), Some(&token_for(b"k", short, &LOGIN)), &LOGIN));
    }

    #[test]
    fn a_token_is_good_for_its_own_context_only() {
        let token = token_for(b"k", COOKIE, &LOGIN);
        let others = [
            Context::Login { form: "/login", locator: "req-2" },
            Context::Login { form: "/cas/login", locator: "req-1" },
            Context::SignedInRequest { request_id: "req-1", sid: "s" },
            Context::Recovery { flow_id: "req-1" },
            Context::RecoveryStart { kind: "req-1" },
        ];
        for other in others {
            assert!(!is_valid(b"k", Some(COOKIE), Some(&token), &other), "{other:?} accepted a login token");
        }
    }

    #[test]
    fn the_session_is_part_of_a_signed_in_context() {
        let mine = Context::SignedInRequest { request_id: "r", sid: "victim" };
        let theirs = Context::SignedInRequest { request_id: "r", sid: "attacker" };
        assert!(!is_valid(b"k", Some(COOKIE), Some(&token_for(b"k", COOKIE, &theirs)), &mine));
        let anonymous = Context::LogoutConfirm { logout_id: "l", sid: None };
        let signed_in = Context::LogoutConfirm { logout_id: "l", sid: Some("") };
        assert!(!is_valid(b"k", Some(COOKIE), Some(&token_for(b"k", COOKIE, &anonymous)), &signed_in));
    }

    #[test]
    fn parts_cannot_be_shifted_from_one_field_to_the_next() {
        let a = Context::SignedInRequest { request_id: "ab", sid: "c" };
        let b = Context::SignedInRequest { request_id: "a", sid: "bc" };
        assert!(!is_valid(b"k", Some(COOKIE), Some(&token_for(b"k", COOKIE, &a)), &b));
    }
}

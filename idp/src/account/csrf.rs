//! CSRF tokens for every form: the browser holds a random cookie, each form carries
//! HMAC(server key, cookie) (OWASP "signed double-submit cookie"). A forged form from another
//! site cannot read the cookie, so it cannot compute the token.

use crate::crypto::{b64url, b64url_decode, constant_time_eq, hmac_sha256};

pub fn token_for(key: &[u8], cookie: &str) -> String {
    b64url(&hmac_sha256(key, format!("csrf|{cookie}").as_bytes()))
}

pub fn is_valid(key: &[u8], cookie: Option<&str>, submitted: Option<&str>) -> bool {
    let (Some(cookie), Some(submitted)) = (cookie, submitted) else {
        return false;
    };
    if cookie.len() < 32 {
        return false;
    }
    let Some(submitted) = b64url_decode(submitted) else {
        return false;
    };
    constant_time_eq(&hmac_sha256(key, format!("csrf|{cookie}").as_bytes()), &submitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: &str = "0123456789abcdef0123456789abcdef0123456789a";

    #[test]
    fn the_token_of_the_cookie_is_valid() {
        assert!(is_valid(b"k", Some(COOKIE), Some(&token_for(b"k", COOKIE))));
    }

    #[test]
    fn a_missing_or_foreign_token_is_invalid() {
        assert!(!is_valid(b"k", Some(COOKIE), None));
        assert!(!is_valid(b"k", None, Some(&token_for(b"k", COOKIE))));
        assert!(!is_valid(b"other key", Some(COOKIE), Some(&token_for(b"k", COOKIE))));
        assert!(!is_valid(b"k", Some(COOKIE), Some("not base64 !")));
    }
}

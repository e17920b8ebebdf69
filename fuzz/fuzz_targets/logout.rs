//! RP-Initiated Logout: an arbitrary query string, parsed (`Params::parse`) and read as GET
//! /logout does: `logout::parse` (bounds, the `id_token_hint` verified, `client_id` against the
//! hint's `aud`), then `logout::request_for` with the named fixture client already loaded (no
//! store is read: the registered `post_logout_redirect_uri`), `logout::hint_is_trusted` without
//! a session and with a signed-in user's, and `logout::redirect_after` for the way back.
//! `@HINT@` in the input becomes a valid `id_token_hint`.
#![no_main]

use idp::oidc::logout;
use idp::oidc::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let query = f.with_hint(query);
        let Ok(params) = Params::parse(&query) else { return };
        let Ok(parsed) = logout::parse(&f.services, &params) else { return };
        let client = parsed.client_id.as_deref().and_then(|id| f.client(id));
        let Ok(request) = logout::request_for(&parsed, client) else { return };
        // The fixture's clients have public subjects: the `sub` they see is the user id.
        for session in [None, Some(&f.session)] {
            let session_sub = session.map(|s| s.user_id.as_str());
            if logout::hint_is_trusted(parsed.hint.as_ref(), session, session_sub) {
                let _ = logout::redirect_after(&request);
            }
        }
    });
});

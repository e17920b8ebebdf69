//! RP-Initiated Logout: an arbitrary query string, parsed (`Params::parse`) and served by
//! `logout::validate` as GET /logout does, without a session and with a signed-in user's; when
//! the user is signed out at once, `logout::redirect_after` builds the way back. `@HINT@` in the
//! input becomes a valid `id_token_hint`.
#![no_main]

use idp::oidc::logout::{self, LogoutDecision};
use idp::oidc::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let query = f.with_hint(query);
        let Ok(params) = Params::parse(&query) else { return };
        for session in [None, Some(&f.session)] {
            if let Ok(LogoutDecision::Proceed(request)) = f.run(logout::validate(&f.services, &params, session)) {
                let _ = logout::redirect_after(&request);
            }
        }
    });
});

//! Optional, not part of `run.sh`'s default list: the whole authorization endpoint through the
//! store. An arbitrary query string, parsed (`Params::parse`) and served by `authorize::start`
//! as GET /authorize does, without a session and with a signed-in user's. `@HINT@` in the input
//! becomes a valid `id_token_hint`. Slow (a SQLite lookup per execution); the `authorize`
//! target fuzzes the same parsing without the store.
#![no_main]

use idp::oidc::authorize;
use idp::oidc::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let query = f.with_hint(query);
        let Ok(params) = Params::parse(&query) else { return };
        let _ = f.run(authorize::start(&f.services, &params, None, "192.0.2.1"));
        let _ = f.run(authorize::start(&f.services, &params, Some(&f.session), "192.0.2.1"));
    });
});

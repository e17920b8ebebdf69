//! Optional, not part of `run.sh`'s default list: the whole token endpoint through the store
//! (slow: SQLite lookups per execution; the `token` target fuzzes its parsing without them).
//! The first line of the input is the `Authorization` header (absent when
//! empty), the rest the form body, parsed (`Params::parse`) and served by `token::token` as
//! POST /token does: client authentication (Basic, post, `private_key_jwt`), then the grants.
#![no_main]

use idp::oidc::params::Params;
use idp::oidc::token;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (header, body) = input.split_once('\n').unwrap_or(("", input));
    let authorization = Some(header).filter(|h| !h.is_empty());
    let Ok(params) = Params::parse(body) else { return };
    idp_fuzz::with_fixture(|f| {
        let _ = f.run(token::token(&f.services, authorization, &params));
    });
});

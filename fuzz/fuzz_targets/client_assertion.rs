//! `private_key_jwt` client assertions: `client_assertion::claimed_client_id` (the unverified
//! read) and `client_assertion::check` (the JWS with the client's inline keys, then the claims:
//! iss, sub, aud, exp, nbf, iat, jti), with the `signed` client already loaded: no store is
//! read and no `jti` spent. An input that is a JSON value is the claims of an assertion that the
//! harness signs with the client's registered key, so the checks after the signature are
//! reached; any other input is taken as the compact JWS itself.
#![no_main]

use idp::oidc::client_assertion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let assertion = match serde_json::from_str::<serde_json::Value>(input) {
            Ok(claims) => f.sign_as_client(&claims),
            Err(_) => input.to_owned(),
        };
        let _ = client_assertion::claimed_client_id(&assertion);
        let _ = f.run(client_assertion::check(&f.services, &f.jwt_client, &assertion));
    });
});

//! Request objects (OpenID Connect Core §6.1) and the JWS parsers behind them. The input is the
//! `request` parameter of an authorization request by the `signed` client, served by
//! `authorize::start` (which calls `request_object::apply`, then validates the merged request);
//! an input that is a JSON value is the claims of a request object that the harness signs with
//! the client's registered key. The raw input also goes to the provider's own JWS verifier
//! (`Keys::verify`, used for `id_token_hint`) and to the client-key verifier (`jwk::verify`).
#![no_main]

use idp::oidc::authorize;
use idp::oidc::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let object = match serde_json::from_str::<serde_json::Value>(input) {
            Ok(claims) => f.sign_as_client(&claims),
            Err(_) => input.to_owned(),
        };
        let _ = f.services.keys.verify(&object);
        let query = Params::from_pairs(vec![
            ("client_id".into(), idp_fuzz::JWT_CLIENT.into()),
            ("redirect_uri".into(), idp_fuzz::REDIRECT_URI.into()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "openid".into()),
            ("request".into(), object),
        ]);
        let _ = f.run(authorize::start(&f.services, &query, None));
    });
});

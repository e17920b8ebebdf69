//! Request objects (OpenID Connect Core §6.1) and the JWS parsers behind them. The input is the
//! `request` parameter of an authorization request, applied by `request_object::apply` (JWS
//! parts, header, `jwk::verify` with the client's inline keys, iss/aud/exp/nbf, then the typing
//! and merging of the members) and the merged request validated by `authorize::check_request`,
//! for two fixture clients already loaded (no store is read): `signed` (keys registered: the
//! object must be signed) and `spa` (no keys: `alg: none` accepted). An input that is a JSON
//! value is the claims of the object: signed with `signed`'s key for `signed`, unsigned for
//! `spa`, so both reach the members; any other input is the object itself. The raw input also
//! goes to the provider's own JWS verifier (`Keys::verify`, jws.rs, used for `id_token_hint`).
#![no_main]

use idp::oidc::authorize;
use idp::oidc::params::Params;
use idp_fuzz::Fixture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let _ = f.services.keys.verify(input);
        let (signed, unsigned) = match serde_json::from_str::<serde_json::Value>(input) {
            Ok(claims) => (f.sign_as_client(&claims), Fixture::unsigned_jwt(&claims)),
            Err(_) => (input.to_owned(), input.to_owned()),
        };
        for (client, object) in [(&f.jwt_client, signed), (&f.public, unsigned)] {
            let query = Params::from_pairs(vec![
                ("client_id".into(), client.id.clone()),
                ("redirect_uri".into(), idp_fuzz::REDIRECT_URI.into()),
                ("response_type".into(), "code".into()),
                ("scope".into(), "openid".into()),
                ("request".into(), object),
            ]);
            let (merged, object_error) = f.run(authorize::with_request_object(&f.services, &query, client));
            let _ = authorize::check_request(&f.services, &merged, client, object_error);
        }
    });
});

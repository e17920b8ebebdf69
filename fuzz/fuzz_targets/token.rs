//! The token request form: the first line of the input is the `Authorization` header (absent
//! when empty), the rest the form body, parsed (`Params::parse`) and read as POST /token does
//! before any lookup: `client_auth::credentials` (Basic header decoding, `client_secret_post`,
//! `client_assertion`, one method only). Then, with the named fixture client already loaded (no
//! store is read): `client_auth::secret_matches`, the assertion's `client_assertion::check`,
//! the grant's parameters (`TokenRequest::parse`), and for `client_credentials` the scope checks
//! (`grant_client_credentials::granted_scopes`).
#![no_main]

use idp::oidc::client_auth::{self, Credentials};
use idp::oidc::params::Params;
use idp::oidc::token_request::TokenRequest;
use idp::oidc::{client_assertion, grant_client_credentials};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (header, body) = input.split_once('\n').unwrap_or(("", input));
    let authorization = Some(header).filter(|h| !h.is_empty());
    let Ok(params) = Params::parse(body) else { return };
    let request = TokenRequest::parse(&params);
    let Ok(credentials) = client_auth::credentials(authorization, &params) else { return };
    idp_fuzz::with_fixture(|f| {
        let client = match credentials {
            Credentials::Assertion { client_id, assertion } => {
                let Some(client) = f.client(&client_id) else { return };
                let _ = f.run(client_assertion::check(&f.services, client, assertion));
                client
            }
            Credentials::Secret { client_id, secret, method } => {
                let Some(client) = f.client(&client_id) else { return };
                let _ = client_auth::secret_matches(client, secret.as_deref(), method);
                client
            }
        };
        if let Ok(TokenRequest::ClientCredentials(request)) = &request {
            let _ = grant_client_credentials::granted_scopes(client, request.scope.as_deref());
        }
    });
});

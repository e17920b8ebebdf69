//! The authorization request, parsed and validated as GET /authorize does once the client is
//! loaded: an arbitrary query string (`Params::parse`), the request object applied
//! (`authorize::with_request_object`), then `authorize::check_request`: the redirect URI,
//! `state`, `response_type`, `response_mode`, `display`, `claims` (`ClaimsRequest::parse`),
//! `acr_values`, `id_token_hint`, `scope` (`Scopes::parse`), PKCE, `prompt`, `max_age` and the
//! pending-request bounds (`pending_limits`). The client is the fixture's one named by
//! `client_id` (`shop` confidential, `spa` public, `signed` with keys), already loaded: no store
//! is read. `@HINT@` in the input becomes a valid `id_token_hint`.
#![no_main]

use idp::oidc::authorize;
use idp::oidc::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    idp_fuzz::with_fixture(|f| {
        let query = f.with_hint(query);
        let Ok(params) = Params::parse(&query) else { return };
        // As `authorize::start`: the client named by `client_id` (here loaded already), else a page.
        let Some(client) = params.get("client_id").ok().flatten().and_then(|id| f.client(id)) else { return };
        let (merged, object_error) = f.run(authorize::with_request_object(&f.services, &params, client));
        let _ = authorize::check_request(&f.services, &merged, client, object_error);
    });
});

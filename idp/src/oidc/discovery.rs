//! OpenID Connect Discovery 1.0 §3: every REQUIRED field, and every RECOMMENDED or OPTIONAL
//! one that is true of this server. Advertise exactly what is implemented.

use serde_json::{Value, json};

use crate::domain::SigningAlg;
use crate::domain::scope::SUPPORTED;
use crate::oidc::claims_request::ACR_VALUES_SUPPORTED;
use crate::oidc::request_object;

/// `dynamic_registration`: RFC 8414 §2 `registration_endpoint` only when registration is on.
pub fn document(issuer: &str, dynamic_registration: bool) -> Value {
    let url = |path: &str| format!("{issuer}{path}");
    // The same client authentication everywhere a client's back end calls (`client_auth`);
    // private_key_jwt assertions in the algorithms of `jwk` (RFC 7523, no HMAC, no `none`).
    let auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
    let assertion_algs = SigningAlg::ALL.map(SigningAlg::as_str);
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "userinfo_endpoint": url("/userinfo"),
        "jwks_uri": url("/jwks"),
        "end_session_endpoint": url("/logout"),
        "scopes_supported": SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": SigningAlg::ALL.map(SigningAlg::as_str),
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        // RFC 8414 §2: introspection (RFC 7662) and revocation (RFC 7009).
        "introspection_endpoint": url("/introspect"),
        // RFC 7662 §2.1: introspection requires authentication, so not `none`.
        "introspection_endpoint_auth_methods_supported": &auth_methods[..3],
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint": url("/revoke"),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "azp", "amr", "acr",
            "name", "given_name", "family_name", "preferred_username", "updated_at", "locale",
            "email", "email_verified", "phone_number", "phone_number_verified", "address", "groups"
        ],
        "claim_types_supported": ["normal"],
        // OpenID Connect Core §5.5 and §6.1 (issue #3). `claims_locales` is accepted but not
        // advertised: no claim value here exists in several languages.
        "claims_parameter_supported": true,
        "acr_values_supported": ACR_VALUES_SUPPORTED,
        "display_values_supported": ["page", "popup", "touch", "wap"],
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": request_object::SIGNING_ALGS_SUPPORTED,
        "request_uri_parameter_supported": false,
        "ui_locales_supported": ["fr", "en"],
        "authorization_response_iss_parameter_supported": true,
        // Front-Channel Logout 1.0 §3 and Back-Channel Logout 1.0 §2.1 (issue #3).
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    if dynamic_registration {
        document["registration_endpoint"] = json!(url("/register"));
    }
    document
}

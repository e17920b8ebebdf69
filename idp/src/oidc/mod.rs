//! OpenID Connect and OAuth 2.0 protocol flows, free of the web framework: each function takes
//! parsed parameters and `Services`, and returns what to answer. `web` turns that into HTTP.

pub mod authorize;
pub mod backchannel;
pub mod claims_request;
pub mod client_assertion;
pub mod client_auth;
pub mod client_keys;
pub mod discovery;
pub mod error;
pub mod frontchannel;
pub mod grant_client_credentials;
pub mod id_token;
pub mod introspect;
pub mod jwk;
pub mod jws;
pub mod keys;
pub mod logout;
pub mod params;
pub mod pending_limits;
pub mod pkce;
pub mod refresh_race;
pub mod registration;
pub mod request_object;
pub mod revoke;
pub mod session_bound;
pub mod session_end;
pub mod subject;
pub mod token;
pub mod token_format;
pub mod token_lookup;
pub mod token_request;
pub mod userinfo;

pub use error::{OAuthError, OAuthErrorCode};

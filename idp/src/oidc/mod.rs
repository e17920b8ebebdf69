//! OpenID Connect and OAuth 2.0 protocol flows, free of the web framework: each function takes
//! parsed parameters and `Services`, and returns what to answer. `web` turns that into HTTP.

pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod id_token;
pub mod jws;
pub mod keys;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod token;
pub mod userinfo;

pub use error::{OAuthError, OAuthErrorCode};

//! Pure types, parsed at the edge: clients, client addresses behind proxies, redirect URIs,
//! scopes, users and logins, languages, secrets.
//! Nothing here imports axum, sqlx, redis or tera.

pub mod cas_service;
pub mod client;
pub mod client_address;
pub mod lang;
pub mod login;
pub mod scope;
pub mod secret;
pub mod user;
pub mod user_type;

pub use client::{AuthMethod, Client, GrantType, RedirectUri, SigningAlg};
pub use lang::Lang;
pub use login::Login;
pub use scope::Scopes;
pub use secret::Secret;
pub use user::{AccountStart, Email, NewUser, UNUSABLE_PASSWORD_HASH, User};

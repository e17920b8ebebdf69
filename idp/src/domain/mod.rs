//! Pure types, parsed at the edge: clients, client addresses behind proxies, redirect URIs,
//! scopes, users, languages, secrets.
//! Nothing here imports axum, sqlx, redis or tera.

pub mod client;
pub mod client_address;
pub mod lang;
pub mod scope;
pub mod secret;
pub mod user;
pub mod user_type;

pub use client::{AuthMethod, Client, GrantType, RedirectUri, SigningAlg};
pub use lang::Lang;
pub use scope::Scopes;
pub use secret::Secret;
pub use user::{AccountStart, Email, Login, NewUser, UNUSABLE_PASSWORD_HASH, User};

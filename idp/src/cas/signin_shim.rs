//! SHIM (issue #11, until the generic sign-in of `account::signin` is merged): keeps the
//! `Continuation::Cas` of a /cas/login that needs a sign-in, under a random id the login form
//! carries (`request_id`), as the OpenID Connect pending request does. The lead removes this
//! file once /cas/login renders the generic login page and the resume dispatch maps
//! `Continuation::Cas` to `cas::login::resume`.

use std::time::Duration;

use crate::account::signin::Continuation;
use crate::crypto;
use crate::ephemeral;
use crate::services::{InfraError, Services};

fn key(id: &str) -> String {
    format!("cas_signin:{id}")
}

/// Keeps `continuation` for `auth_request_ttl`; returns its id.
pub async fn keep(s: &Services, continuation: &Continuation) -> Result<String, InfraError> {
    let id = crypto::random_token(24);
    let ttl = Duration::from_secs(s.lifetimes.auth_request.max(1) as u64);
    ephemeral::put_json(s.ephemeral.as_ref(), &key(&id), continuation, ttl).await?;
    Ok(id)
}

/// The continuation kept under `id`, if it is still there.
pub async fn find(s: &Services, id: &str) -> Result<Option<Continuation>, InfraError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    Ok(ephemeral::get_json(s.ephemeral.as_ref(), &key(id)).await?)
}

/// Forgets it once the sign-in resumed.
pub async fn forget(s: &Services, id: &str) -> Result<(), InfraError> {
    Ok(s.ephemeral.delete(&key(id)).await?)
}

//! Refresh token rotation: strict by default, with a per-client tolerance for two browser tabs
//! that still detects reuse (decision 0008, RFC 9700 §4.14.2).
//!
//! By default a rotated refresh token is dead at once: presenting it again revokes the whole
//! grant (RFC 9700 §4.14.2, RFC 6749 §10.4). A client registered with `refresh_race_window`
//! (its "grace period") has a rotated token tolerated while that many seconds have not passed
//! since the rotation and the successor has not been used yet: the caller then answers the
//! same successor and a fresh access token. Anything else is reuse: the whole grant is revoked.
//! The successor of a refresh token is not random: it is a MAC of the presented token under a
//! server key, so two requests that present the same token at the same moment compute the same
//! successor; one rotates (atomically, in the store), the other finds that rotation. Nothing
//! extra is stored: the store already knows when the old token was rotated (`used_at`) and
//! whether its successor was used.

use super::OAuthError;
use super::token::revoke_grant;
use crate::crypto::{b64url, digest, hmac_sha256};
use crate::domain::Client;
use crate::services::Services;
use crate::store::RefreshToken;

/// The successor of `presented`: 256 bits, like every refresh token. The MAC key is the
/// server's MAC key (shared by every node), domain-separated from the CSRF tokens made with it
/// (`csrf|…`). Without the key, a stolen token does not reveal its successor.
pub fn successor_of(s: &Services, presented: &str) -> String {
    b64url(&hmac_sha256(&s.refresh_key, format!("refresh-successor|{presented}").as_bytes()))
}

/// `old` was already rotated. Ok when this is a race the client opted into tolerating;
/// otherwise revokes the grant and answers `invalid_grant`.
pub async fn tolerate_or_revoke(
    s: &Services,
    client: &Client,
    old: &RefreshToken,
    successor: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let window = client.settings.refresh_race_window.unwrap_or(0);
    let within_window = window > 0 && old.used_at.is_some_and(|rotated| now - rotated <= window);
    if within_window {
        let next = s.store.refresh_token(&digest(successor)).await?;
        if next.is_some_and(|next| next.grant_id == old.grant_id && next.used_at.is_none()) {
            tracing::info!(client_id = %client.id, "concurrent refresh: the same successor was answered again");
            return Ok(());
        }
    }
    revoke_grant(s, &old.grant_id).await?;
    tracing::warn!(client_id = %client.id, "rotated refresh token replayed; the grant was revoked");
    Err(OAuthError::invalid_grant("the refresh token is invalid, expired or revoked"))
}

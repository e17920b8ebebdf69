//! What OpenID Connect does when a browser session ends, registered with `session` at start-up
//! (`app.rs`): a logout token queued for each client of the session with a
//! `backchannel_logout_uri` (Back-Channel Logout 1.0, `backchannel`), and an iframe for each one
//! with a `frontchannel_logout_uri` (Front-Channel Logout 1.0, `frontchannel`).

use super::{backchannel, frontchannel};
use crate::services::{InfraError, Services};
use crate::session::{BrowserSession, LogoutFrame, SessionEndListener};

/// The OpenID Connect listener of ended sessions.
pub struct OidcLogout;

#[async_trait::async_trait]
impl SessionEndListener for OidcLogout {
    async fn session_ended(&self, s: &Services, ended: &BrowserSession) -> Result<Vec<LogoutFrame>, InfraError> {
        backchannel::enqueue(s, ended).await?;
        frontchannel::frames(s, ended).await
    }
}

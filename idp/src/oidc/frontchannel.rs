//! OpenID Connect Front-Channel Logout 1.0: the page that ends a browser session embeds one
//! invisible iframe per client of that session that registered a `frontchannel_logout_uri`
//! (§2), with `iss` and `sid` when the client registered `frontchannel_logout_session_required`
//! (§2: then the OP adds both). The page's CSP allows frames from exactly those origins.
//! Only the browser that signs out can render them: a session closed from another browser (the
//! sessions list of /account) reaches its clients through the back channel alone.

use super::authorize::redirect_with;
use crate::services::{InfraError, Services};
use crate::session::{BrowserSession, LogoutFrame};

/// The iframes for the clients of `session`.
pub async fn frames(s: &Services, session: &BrowserSession) -> Result<Vec<LogoutFrame>, InfraError> {
    let mut frames = Vec::new();
    for client_id in &session.clients {
        let Some(client) = s.store.client(client_id).await? else { continue };
        let Some(uri) = &client.settings.frontchannel_logout_uri else { continue };
        let url = if client.settings.frontchannel_logout_session_required {
            // §2: the URI may carry its own query; the parameters are added to it.
            redirect_with(uri, &[("iss", Some(&s.issuer)), ("sid", Some(&session.sid))])
        } else {
            uri.clone()
        };
        let Some(origin) = origin_of(&url) else { continue };
        frames.push(LogoutFrame { url, origin });
    }
    Ok(frames)
}

/// The origin of an http(s) URL; `None` for anything that cannot be framed (custom schemes).
fn origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

//! `Services`: everything a flow needs, built once in `app.rs` and passed down (no global
//! state). Flows see traits only: which database, which ephemeral store and which mail
//! transport are behind them is decided in one place.

use std::sync::Arc;

use crate::account::password::PasswordHasher;
use crate::clock::Clock;
use crate::config::Lifetimes;
use crate::ephemeral::{Ephemeral, EphemeralError};
use crate::mail::Mailer;
use crate::oidc::OAuthError;
use crate::oidc::keys::Keys;
use crate::store::{Store, StoreError};

pub struct Services {
    pub store: Arc<dyn Store>,
    pub ephemeral: Arc<dyn Ephemeral>,
    pub clock: Arc<dyn Clock>,
    /// The signing keys, reloaded from the store periodically (`Keys::reload`).
    pub keys: Keys,
    pub passwords: PasswordHasher,
    pub mailer: Arc<dyn Mailer>,
    /// The issuer, exactly as in `iss`.
    pub issuer: String,
    pub lifetimes: Lifetimes,
    /// Key of the CSRF token MACs; a server secret kept in the store so every node agrees.
    pub csrf_key: Vec<u8>,
    /// Key of the MAC that derives a refresh token's successor (docs/decisions/0008); a server
    /// secret of its own, so the two uses never share a key.
    pub refresh_key: Vec<u8>,
    /// The declared user types and their rules (issue #4).
    pub user_types: crate::domain::user_type::UserTypes,
    /// Renders the themed FR/EN mails (`mail::render`).
    pub mail_renderer: crate::mail::render::MailRenderer,
    /// Per-address limit on failed sign-ins (`account::lockout`).
    pub login_throttle: crate::config::LoginThrottle,
    /// Whether login pages tell that an identifier is locked, unless the client or the type it
    /// preselects says otherwise (`account::lockout::page_lockout`, issue #13).
    pub lockout: crate::config::LockoutSettings,
    /// Per-address limit on creating pending records (`account::pending_throttle`).
    pub pending_throttle: crate::config::PendingThrottle,
    /// Limits on `POST /password/check` (`account::password_check::admit`).
    pub password_checks: crate::config::CheckLimits,
    /// Password verifications in flight per address on this node (`account::in_flight`).
    pub login_in_flight: crate::account::in_flight::InFlight,
    /// The secret questions offered to choose from (`account::secret_question`).
    pub secret_questions: Vec<crate::domain::user_type::Localized>,
    /// Seals what must not sit in the database in clear: signing keys (`Keys` holds its own
    /// copy) and the bodies of queued mail (codes, links, provisional passwords).
    pub master_key: crate::master_key::MasterKey,
    /// Self-service recovery settings (issue #5; the per-type rules are in `user_types`).
    pub recovery: crate::config::RecoverySettings,
    /// Sends the SMS of the consular identifier renewal (`sms`).
    pub sms: Arc<dyn crate::sms::SmsSender>,
    /// Administration settings (issue #12): secret overlap, audit retention, registration.
    pub admin: crate::config::AdminSettings,
    /// The zone of the times shown to people, in pages and mails (`time_zone`, issue #13).
    pub time_zone: crate::clock::LocalTimeZone,
    /// What each protocol does when a browser session ends (`session::end`), registered in
    /// `app.rs`: `session` imports no protocol.
    pub session_listeners: Vec<Arc<dyn crate::session::SessionEndListener>>,
}

impl Services {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Whether the database and the ephemeral store answer now, each within `within`
    /// (`GET /readyz`, issue #10). Both are asked at once.
    pub async fn readiness(&self, within: std::time::Duration) -> Readiness {
        let database = tokio::time::timeout(within, self.store.ping());
        let ephemeral = tokio::time::timeout(within, self.ephemeral.ping());
        let (database, ephemeral) = tokio::join!(database, ephemeral);
        if let Ok(Err(err)) = &database {
            tracing::warn!(error = %err, "readiness: the database does not answer");
        }
        if let Ok(Err(err)) = &ephemeral {
            tracing::warn!(error = %err, "readiness: the ephemeral store does not answer");
        }
        Readiness { database: matches!(database, Ok(Ok(()))), ephemeral: matches!(ephemeral, Ok(Ok(()))) }
    }

    /// Reads the signing keys from the store again, as every node does periodically: a
    /// rotation made elsewhere (another node, the CLI) takes effect here.
    pub async fn reload_keys(&self) -> Result<(), crate::oidc::keys::KeyError> {
        self.keys.reload(self.store.as_ref(), self.now()).await
    }
}

/// What `Services::readiness` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub database: bool,
    pub ephemeral: bool,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database && self.ephemeral
    }
}

/// Infrastructure failures: the database, the ephemeral store, the hashing pool. Never
/// reported to users as anything but "try again later", never as "not found".
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ephemeral(#[from] EphemeralError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("sealing failed: {0}")]
    Sealing(String),
}

impl InfraError {
    /// A dependency (the database, Redis) cannot be reached or did not answer in time: the
    /// request may succeed later (503 and `Retry-After`), unlike a failure of ours (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            InfraError::Store(err) => matches!(err, StoreError::Unavailable(_)),
            InfraError::Ephemeral(err) => matches!(err, EphemeralError::Unavailable(_)),
            InfraError::Hashing(_) | InfraError::Signing(_) | InfraError::Sealing(_) => false,
        }
    }
}

impl From<InfraError> for OAuthError {
    fn from(err: InfraError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "a dependency is unavailable during a protocol request");
            return OAuthError::temporarily_unavailable();
        }
        tracing::error!(error = %err, "infrastructure failure during a protocol request");
        OAuthError::server_error()
    }
}

impl From<StoreError> for OAuthError {
    fn from(err: StoreError) -> Self {
        InfraError::from(err).into()
    }
}

impl From<EphemeralError> for OAuthError {
    fn from(err: EphemeralError) -> Self {
        InfraError::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unreachable_dependency_is_unavailable() {
        assert!(InfraError::from(StoreError::Unavailable("pool timed out".into())).is_unavailable());
        assert!(InfraError::from(EphemeralError::Unavailable("refused".into())).is_unavailable());
        assert!(!InfraError::from(StoreError::Database("syntax error".into())).is_unavailable());
        assert!(!InfraError::from(EphemeralError::Corrupt("bad json".into())).is_unavailable());
        assert!(!InfraError::Signing("no key".into()).is_unavailable());
        let oauth = OAuthError::from(InfraError::from(StoreError::Unavailable("down".into())));
        assert_eq!(oauth.code, crate::oidc::OAuthErrorCode::TemporarilyUnavailable);
        assert_eq!(OAuthError::from(StoreError::Database("x".into())).code, crate::oidc::OAuthErrorCode::ServerError);
    }
}

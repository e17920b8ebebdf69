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
}

impl Services {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Reads the signing keys from the store again, as every node does periodically: a
    /// rotation made elsewhere (another node, the CLI) takes effect here.
    pub async fn reload_keys(&self) -> Result<(), crate::oidc::keys::KeyError> {
        self.keys.reload(self.store.as_ref(), self.now()).await
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

impl From<InfraError> for OAuthError {
    fn from(err: InfraError) -> Self {
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

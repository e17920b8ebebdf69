//! Durable data behind traits: users, clients, consents, refresh tokens, signing keys, server
//! secrets. `sql` implements every trait once over `db`, the seam that speaks to SQLite (the
//! embedded default) or PostgreSQL (production, several nodes). A store method is one unit of
//! work that owns its transaction; only this module writes SQL.

pub mod account_state;
pub mod audit;
pub mod audit_search;
pub mod client_admin;
pub mod db;
pub mod groups;
pub mod import;
pub mod login_migration;
pub mod logout_queue;
pub mod mail_queue;
pub mod password_history;
pub mod recovery;
pub mod secret_question;
pub mod sql;
pub mod user_admin;

use async_trait::async_trait;

pub use import::{ImportBatch, ImportStore, ImportedUser};

use crate::domain::{Client, Login, NewUser, Scopes, User};

pub use audit_search::{AuditFilter, AuditRecord, AuditSearchStore, DailyCount};
pub use client_admin::{ClientAdminStore, PreviousSecret};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (duplicate login, duplicate client id).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The database could not be reached or failed; never reported as "not found".
    #[error("database error: {0}")]
    Database(String),
    /// The database could not be reached or gave no connection in time (`database_timeout_ms`):
    /// answered 503, and the request may succeed later (issue #10).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

/// An issued refresh token, stored by digest. Tokens of one authorization share a `grant_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub digest: String,
    pub grant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: Scopes,
    pub auth_time: i64,
    pub sid: Option<String>,
    /// How the user authenticated (`amr`), carried into the ID tokens of later refreshes.
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A signing key as stored: `secret` is an AES-256-GCM envelope under the master key
/// (`master_key`) of base64url key material (PKCS#1 DER for RSA, the 32-byte scalar or seed for
/// ES256 and EdDSA), or that material in clear if written before issue #3.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub secret: String,
    /// `next` (published, not signing yet), `active` (signing) or `retired` (published until the
    /// tokens it signed have expired).
    pub state: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

#[async_trait]
pub trait UserStore {
    /// Creates the account with its recovery data and its login's skeleton in one transaction;
    /// `Conflict("login")`, `Conflict("confusable login")` (another login has the skeleton:
    /// UTS #39) or `Conflict("identifier")` (nothing written) when one is taken.
    async fn create_user(&self, user: NewUser, now: i64) -> Result<User, StoreError>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// `login` as typed: it is brought to its PRECIS form first (`Login::parse`), and a string
    /// the profile refuses finds nobody.
    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// The account whose login looks like `login` (same skeleton) without being it.
    async fn user_confusable_with(&self, login: &Login) -> Result<Option<User>, StoreError>;
    async fn set_password_hash(&self, user_id: &str, hash: &str, now: i64) -> Result<(), StoreError>;
}

#[async_trait]
pub trait ClientStore {
    async fn create_client(&self, client: &Client) -> Result<(), StoreError>;
    /// Creates or replaces: for clients the server itself owns (the account space, the demo).
    async fn upsert_client(&self, client: &Client) -> Result<(), StoreError>;
    async fn client(&self, id: &str) -> Result<Option<Client>, StoreError>;
    async fn clients(&self) -> Result<Vec<Client>, StoreError>;
    /// Removes the client with its consents and refresh tokens; false if there was none.
    async fn delete_client(&self, id: &str) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait GrantStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<Scopes>, StoreError>;
    /// Remembers the decision: the stored scopes become the union of old and new.
    async fn save_consent(&self, user_id: &str, client_id: &str, scopes: &Scopes, now: i64) -> Result<(), StoreError>;
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError>;
    async fn refresh_token(&self, digest: &str) -> Result<Option<RefreshToken>, StoreError>;
    /// Marks `old_digest` used and stores `new` in one transaction. False (and nothing written)
    /// when the old token was already used: a concurrent or replayed refresh.
    async fn rotate_refresh_token(&self, old_digest: &str, new: &RefreshToken, now: i64) -> Result<bool, StoreError>;
    /// Deletes every refresh token of an authorization; returns how many.
    async fn revoke_grant(&self, grant_id: &str) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait KeyStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    async fn insert_signing_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    /// Replaces a key's stored secret if it is still `old` (sealing a key stored in clear).
    async fn reseal_signing_key(&self, kid: &str, old: &str, new: &str) -> Result<bool, StoreError>;
    /// One transaction: the `next` key `next_kid` becomes active, the other active keys of its
    /// algorithm are retired, and `new_next` is stored. False (nothing written) when `next_kid`
    /// is no longer `next`: another rotation got there first.
    async fn rotate_signing_key(
        &self,
        alg: &str,
        next_kid: &str,
        new_next: &StoredKey,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Deletes keys retired before `retired_before`; returns how many.
    async fn purge_retired_keys(&self, retired_before: i64) -> Result<u64, StoreError>;
    /// The secret named `name`; `candidate` is stored first if there is none yet. Atomic, so
    /// nodes starting together agree on one value.
    async fn server_secret(&self, name: &str, candidate: &str, now: i64) -> Result<String, StoreError>;
}

/// A logout token waiting to be sent to one client (Back-Channel Logout 1.0, issue #3). `id` is
/// the token's `jti`; the token itself is signed at each attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutDelivery {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub sid: String,
    pub created_at: i64,
    /// Attempts made so far, this one included once claimed.
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// Whose worker sends it: `PROTOCOL_OIDC` or `PROTOCOL_CAS` (issue #11).
    pub protocol: String,
    /// CAS: the service URL that is sent the `logoutRequest`.
    pub target: Option<String>,
    /// CAS: the service ticket the `logoutRequest` names (SAML `SessionIndex`).
    pub session_index: Option<String>,
}

/// `LogoutDelivery::protocol` of OpenID Connect back-channel logout tokens.
pub const PROTOCOL_OIDC: &str = "oidc";
/// `LogoutDelivery::protocol` of CAS single logout requests.
pub const PROTOCOL_CAS: &str = "cas";

#[async_trait]
pub trait LogoutQueue {
    /// Stores every delivery of one ended session, in one transaction.
    async fn enqueue_logouts(&self, deliveries: &[LogoutDelivery]) -> Result<(), StoreError>;
    /// Claims up to `limit` deliveries of `protocol` that are due and not claimed by anyone (or
    /// whose claim lapsed), until `claim_until`, counting the attempt. Atomic per row across nodes.
    async fn claim_due_logouts(
        &self,
        protocol: &str,
        now: i64,
        claim_until: i64,
        limit: i64,
    ) -> Result<Vec<LogoutDelivery>, StoreError>;
    /// Delivered, or given up: the row goes.
    async fn finish_logout(&self, id: &str) -> Result<(), StoreError>;
    /// Releases the claim and schedules the next attempt.
    async fn retry_logout(&self, id: &str, next_attempt_at: i64) -> Result<(), StoreError>;
    /// Every delivery still queued (operators, tests).
    async fn pending_logouts(&self) -> Result<Vec<LogoutDelivery>, StoreError>;
}

/// A user's secret question (issue #4); the answer as an argon2id hash only.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecretQuestion {
    pub user_id: String,
    pub question: String,
    pub answer_hash: String,
    pub updated_at: i64,
}

impl std::fmt::Debug for StoredSecretQuestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecretQuestion").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

#[async_trait]
pub trait SecretQuestionStore {
    /// Sets or replaces the question of `user_id`.
    async fn set_secret_question(
        &self,
        user_id: &str,
        question: &str,
        answer_hash: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    async fn secret_question(&self, user_id: &str) -> Result<Option<StoredSecretQuestion>, StoreError>;
}

/// A password change (issue #4): the new hash, its history entry (keeping the newest `keep`),
/// `password_changed_at`, the end of `must_change_password` and of a provisional expiry,
/// `sessions_not_before = now` (every browser session authenticated before dies) and the
/// deletion of the user's refresh tokens except those of session `keep_sid`, all in one
/// transaction. With `redeem_token`, that one-time token (digest, purpose) is consumed in the
/// same transaction, and nothing is written unless it was still there and unexpired. With
/// `webhook`, that propagation delivery (issue #5) is queued in the same transaction, unclaimed
/// and due at its `next_attempt_at` (the caller attempts it at once and reschedules it).
#[derive(Clone, Debug)]
pub struct PasswordChange<'a> {
    pub user_id: &'a str,
    pub hash: &'a str,
    pub keep: u32,
    pub now: i64,
    pub keep_sid: Option<&'a str>,
    pub redeem_token: Option<(&'a str, &'a str)>,
    pub webhook: Option<&'a WebhookDelivery>,
}

/// Password history and age (issue #4): hashes only, newest first.
#[async_trait]
pub trait PasswordStore {
    /// The last `limit` password hashes of `user_id`, newest first.
    async fn password_history(&self, user_id: &str, limit: u32) -> Result<Vec<String>, StoreError>;
    /// See `PasswordChange`. False (nothing written) if there is no such user or the token to
    /// redeem is gone. Ending the sessions in the ephemeral store (logout propagation) is the
    /// caller's, after the commit; they are already invalid by then. A transparent rehash is
    /// not a change: `set_password_hash`.
    async fn change_password(&self, change: &PasswordChange<'_>) -> Result<bool, StoreError>;
    /// When the password was last changed (accounts older than the history: last update).
    async fn password_changed_at(&self, user_id: &str) -> Result<Option<i64>, StoreError>;
}

/// A one-time secret sent to a user (activation link; recovery codes and links, issue #5),
/// stored by digest.
#[derive(Clone, PartialEq, Eq)]
pub struct UserToken {
    pub digest: String,
    pub user_id: String,
    pub purpose: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
}

impl std::fmt::Debug for UserToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserToken")
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// Account lifecycle state (issue #4): activation, terms, provisional passwords, expiry warnings,
/// one-time tokens.
#[async_trait]
pub trait AccountStore {
    /// Records that the user type's terms were accepted, and which version (when they have one).
    async fn accept_terms(&self, user_id: &str, now: i64, version: Option<&str>) -> Result<(), StoreError>;
    /// The first-login steps are complete (sets `activated_at` once).
    async fn mark_activated(&self, user_id: &str, now: i64) -> Result<(), StoreError>;
    /// A new provisional password (administrator reset, recovery by provisional password): the
    /// hash, `must_change_password`, its expiry, and the end of every session, in one
    /// transaction. Not a history entry. False if there is no such user.
    async fn set_provisional_password(
        &self,
        user_id: &str,
        hash: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Users of `user_type` whose password was changed before `changed_before` and who were not
    /// warned since (`expiry_warned_at` NULL or older than the change), not disabled, at most
    /// `limit`.
    async fn users_due_expiry_warning(
        &self,
        user_type: &str,
        changed_before: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError>;
    /// Marks the current password of `user_id` as warned; false when it already was (another
    /// node got there first), so that each password gets one warning across nodes.
    async fn mark_expiry_warned(&self, user_id: &str, now: i64) -> Result<bool, StoreError>;
    /// Stores a one-time token; the user's other tokens of the same purpose are deleted in the
    /// same transaction (only the latest link or code works).
    async fn insert_user_token(&self, token: &UserToken) -> Result<(), StoreError>;
    /// The token with this digest and purpose if it is unexpired at `now`.
    async fn user_token(&self, digest: &str, purpose: &str, now: i64) -> Result<Option<UserToken>, StoreError>;
    /// The token with this digest and purpose, expired or not: an expired recovery link offers
    /// to send a new one to its owner.
    async fn user_token_any(&self, digest: &str, purpose: &str) -> Result<Option<UserToken>, StoreError>;
    /// Consumes the token (single use): true if it was there and unexpired.
    async fn take_user_token(&self, digest: &str, purpose: &str, now: i64) -> Result<bool, StoreError>;
    /// Counts a wrong guess against the user's live token of `purpose`; at `max_attempts` the
    /// token is deleted. Returns the attempts left (0: dead or none).
    async fn fail_user_token(&self, user_id: &str, purpose: &str, max_attempts: i64) -> Result<i64, StoreError>;
}

/// One line of the audit trail: who, what, when, from where; never a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub user_id: Option<String>,
    pub kind: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    /// A small JSON object (client id, reason…).
    pub detail: String,
}

#[async_trait]
pub trait AuditStore {
    async fn record_event(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// The user's newest events first, at most `limit`, whose kind starts with `kind_prefix`
    /// (`"sign_in"`: sign-ins and failed sign-ins; `""`: every event).
    async fn events_for_user(
        &self,
        user_id: &str,
        kind_prefix: &str,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError>;
}

/// Recovery (issue #5): finding an account from what a person remembers, and the identifier
/// renewal of the consular variant.
#[async_trait]
pub trait RecoveryStore {
    /// Every account whose e-mail is `email`, compared without case, oldest first, at most 20.
    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError>;
    /// The account holding the alternate identifier `value` of one of `kinds`.
    async fn user_by_identifier(&self, kinds: &[String], value: &str) -> Result<Option<User>, StoreError>;
    /// The date of birth (YYYY-MM-DD) recorded for the account.
    async fn birth_date(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// The account's alternate identifiers, as (kind, value), sorted.
    async fn identifiers_of(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Sets the date of birth (when `Some`) and the given alternate identifiers (replacing the
    /// account's values of those kinds), in one transaction. `Conflict` when a value belongs to
    /// another account (nothing written).
    async fn set_recovery_profile(
        &self,
        user_id: &str,
        birth_date: Option<&str>,
        identifiers: &[(String, String)],
        now: i64,
    ) -> Result<(), StoreError>;
    /// Consumes the one-time token (digest, purpose) and gives the account the login
    /// `new_login` and its skeleton, in one transaction. False (nothing written) when the token
    /// is gone or expired; `Conflict` when the login, or a login that looks like it, is taken.
    async fn renew_login(
        &self,
        user_id: &str,
        new_login: &Login,
        token: (&str, &str),
        now: i64,
    ) -> Result<bool, StoreError>;
}

/// A notice to downstream systems (the propagation webhook of a recovered password); the
/// payload is JSON without secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

/// The durable queue of webhook deliveries, with the mail queue's claim protocol; a delivered
/// row stays (`delivered_at`) until purged, so the waiting page can see it.
#[async_trait]
pub trait WebhookQueue {
    /// Stores a delivery already claimed by the caller until `claim_until` (it sends it at once).
    async fn enqueue_webhook(&self, delivery: &WebhookDelivery, claim_until: i64) -> Result<(), StoreError>;
    /// Claims up to `limit` undelivered, due deliveries nobody holds, counting the attempt.
    async fn claim_due_webhooks(
        &self,
        now: i64,
        claim_until: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Acknowledged by the receiver: `delivered_at = now`, claim released.
    async fn finish_webhook(&self, id: &str, now: i64) -> Result<(), StoreError>;
    /// Releases the claim, schedules the next attempt, remembers the error.
    async fn retry_webhook(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError>;
    async fn webhook_delivery(&self, id: &str) -> Result<Option<WebhookDelivery>, StoreError>;
    /// Deletes deliveries delivered before `delivered_before`; returns how many.
    async fn purge_webhooks(&self, delivered_before: i64) -> Result<u64, StoreError>;
}

/// A mail waiting in the durable queue (`mail_queue`); `id` is its Message-ID's local part.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: i64,
    /// Attempts made so far, this one included once claimed.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for QueuedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bodies may hold one-time secrets (codes, links, provisional passwords): never logged.
        f.debug_struct("QueuedMail").field("id", &self.id).field("attempts", &self.attempts).finish_non_exhaustive()
    }
}

#[async_trait]
pub trait MailQueue {
    /// Stores a mail already claimed by the caller until `claim_until` (it sends it at once).
    async fn enqueue_mail(&self, mail: &QueuedMail, claim_until: i64) -> Result<(), StoreError>;
    /// Claims up to `limit` due mails nobody holds (or whose claim lapsed), counting the attempt.
    async fn claim_due_mail(&self, now: i64, claim_until: i64, limit: i64) -> Result<Vec<QueuedMail>, StoreError>;
    /// Accepted by the transport: the row goes.
    async fn finish_mail(&self, id: &str) -> Result<(), StoreError>;
    /// Releases the claim, schedules the next attempt, remembers the error (no content).
    async fn retry_mail(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError>;
    /// Every mail still queued, oldest first (operators, tests).
    async fn pending_mail(&self) -> Result<Vec<QueuedMail>, StoreError>;
}

/// A group as listed: its members counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSummary {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub members: i64,
}

/// One group with the logins of its members, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDetail {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub members: Vec<String>,
}

/// Groups of users (issue #11): what per-application authorisation (`allowed_groups`) and the
/// `groups` claim read. Ids are parsed by the caller (`admin::groups`).
#[async_trait]
pub trait GroupStore {
    /// `Conflict("group")` when the id is taken.
    async fn create_group(&self, id: &str, name: &str, now: i64) -> Result<(), StoreError>;
    /// Every group, by id, with its member count.
    async fn groups(&self) -> Result<Vec<GroupSummary>, StoreError>;
    async fn group(&self, id: &str) -> Result<Option<GroupDetail>, StoreError>;
    /// False when the user already was a member. The group and the user must exist (the
    /// caller checks; a vanished one is a foreign-key `Database` error).
    async fn add_group_member(&self, group_id: &str, user_id: &str, now: i64) -> Result<bool, StoreError>;
    /// False when the user was not a member.
    async fn remove_group_member(&self, group_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// The ids of the user's groups, sorted.
    async fn groups_of_user(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
}

/// Whether the database answers now (`GET /readyz`, issue #10).
#[async_trait]
pub trait HealthCheck {
    async fn ping(&self) -> Result<(), StoreError>;
}

pub trait Store:
    HealthCheck
    + UserStore
    + ClientStore
    + GrantStore
    + KeyStore
    + LogoutQueue
    + SecretQuestionStore
    + PasswordStore
    + AccountStore
    + AuditStore
    + MailQueue
    + RecoveryStore
    + WebhookQueue
    + GroupStore
    + ImportStore
    + user_admin::UserAdminStore
    + ClientAdminStore
    + AuditSearchStore
    + Send
    + Sync
{
}
impl<
    T: HealthCheck
        + UserStore
        + ClientStore
        + GrantStore
        + KeyStore
        + LogoutQueue
        + SecretQuestionStore
        + PasswordStore
        + AccountStore
        + AuditStore
        + MailQueue
        + RecoveryStore
        + WebhookQueue
        + GroupStore
        + ImportStore
        + user_admin::UserAdminStore
        + ClientAdminStore
        + AuditSearchStore
        + Send
        + Sync,
> Store for T
{
}

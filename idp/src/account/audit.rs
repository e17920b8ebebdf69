//! The audit trail (issue #4; recovery events come with issue #5): who, what, when, from where,
//! never a secret. One row per event in the store (`audit_events`), also logged. The kinds
//! below are the whole vocabulary; /account shows a user the `sign_in*` ones.

use serde_json::Value;

use crate::services::{InfraError, Services};
use crate::session::ClientInfo;
use crate::store::AuditEvent;

/// A successful sign-in (detail: `client_id`).
pub const SIGN_IN: &str = "sign_in";
/// A refused sign-in of a known account (detail: `client_id`, `reason`: `password`, `locked`,
/// `disabled`, `provisional_expired`). Unknown identifiers are recorded without a user.
pub const SIGN_IN_FAILED: &str = "sign_in_failed";
/// A password change (detail: `reason`: `first_login`, `expired`, `account`, `activation`,
/// `recovery`).
pub const PASSWORD_CHANGED: &str = "password_changed";
pub const SECRET_QUESTION_SET: &str = "secret_question_set";
pub const TERMS_ACCEPTED: &str = "terms_accepted";
/// The first-login steps were completed.
pub const ACTIVATED: &str = "activated";
/// An activation link or provisional password was sent (detail: `method`).
pub const ACTIVATION_SENT: &str = "activation_sent";
pub const EXPIRY_WARNING_SENT: &str = "expiry_warning_sent";
/// A session closed from /account (detail: `reason`); a password change ends the other sessions
/// as part of `PASSWORD_CHANGED`.
pub const SESSIONS_ENDED: &str = "sessions_ended";

/// A recovery was asked (detail: `flow`: `password`/`identifier`, `user_type`; `known`: whether
/// an account matched: the trail may say it, the pages never do). Unknown accounts are recorded
/// without a user.
pub const RECOVERY_STARTED: &str = "recovery_started";
/// A wrong secret answer during recovery.
pub const RECOVERY_SECRET_FAILED: &str = "recovery_secret_failed";
/// A security code, link or provisional password was sent (detail: `method`).
pub const RECOVERY_SENT: &str = "recovery_sent";
/// A wrong security code (detail: `attempts_left`).
pub const RECOVERY_CODE_FAILED: &str = "recovery_code_failed";
/// The identifier(s) of an address were e-mailed (detail: `accounts`).
pub const IDENTIFIER_SENT: &str = "identifier_sent";
/// The consular variant gave the account a new identifier.
pub const IDENTIFIER_RENEWED: &str = "identifier_renewed";
/// A recovery request refused by a rate limit (detail: `limit`: `identifier`, `email`, `ip`).
pub const RECOVERY_THROTTLED: &str = "recovery_throttled";

/// CAS (issue #11): a service or proxy ticket issued (detail: `client_id`, `service`, `kind`:
/// `service`/`proxy`, `renew`).
pub const CAS_TICKET_ISSUED: &str = "cas_ticket_issued";
/// A CAS ticket validated (detail: `client_id`, `service`, `endpoint`, `proxy_granted`).
pub const CAS_TICKET_VALIDATED: &str = "cas_ticket_validated";
/// A CAS validation or proxy request refused (detail: `code`, the specification's error code,
/// `endpoint`, `service`); without a user when the ticket was unknown.
pub const CAS_TICKET_REFUSED: &str = "cas_ticket_refused";
/// A CAS proxy granting ticket delivered to a `pgtUrl` (detail: `client_id`, `pgt_url`).
pub const CAS_PROXY_GRANTED: &str = "cas_proxy_granted";
/// A CAS login refused before any ticket (detail: `reason`: `unknown_service`, `denied`).
pub const CAS_LOGIN_REFUSED: &str = "cas_login_refused";
/// A browser session ended from /cas/logout (detail: `service`).
pub const CAS_LOGOUT: &str = "cas_logout";
/// A CAS single logout request queued for a service (detail: `client_id`, `service`).
pub const CAS_SINGLE_LOGOUT_QUEUED: &str = "cas_single_logout_queued";
/// A signed-in user refused by an application's authorisation rule (issue #11; detail:
/// `client_id`, `user_type`).
pub const ACCESS_DENIED: &str = "access_denied";
/// An operator added a user to a group, or removed one (detail: `group_id`).
pub const GROUP_MEMBER_ADDED: &str = "group_member_added";
pub const GROUP_MEMBER_REMOVED: &str = "group_member_removed";
/// An operator created a group (detail: `group_id`, `name`).
pub const GROUP_CREATED: &str = "group_created";

/// Administration of users (issue #12); each detail names its `actor` (`admin::actor`) and what
/// changed, never a secret. An operator viewed an account's details.
pub const ADMIN_USER_VIEWED: &str = "admin_user_viewed";
/// Profile fields changed (detail: `fields`, their names only).
pub const ADMIN_USER_UPDATED: &str = "admin_user_updated";
pub const ADMIN_USER_DISABLED: &str = "admin_user_disabled";
pub const ADMIN_USER_ENABLED: &str = "admin_user_enabled";
/// The account was erased (GDPR): its rows keep the random id, logins and e-mails scrubbed.
pub const ADMIN_USER_DELETED: &str = "admin_user_deleted";
pub const ADMIN_USER_UNLOCKED: &str = "admin_user_unlocked";
/// A reset sent (detail: `method`: `provisional_password`, `activation_link`).
pub const ADMIN_PASSWORD_RESET: &str = "admin_password_reset";
pub const ADMIN_SECRET_QUESTION_RESET: &str = "admin_secret_question_reset";
/// Sessions ended by an operator (detail: `sessions`, how many; `sid` when one).
pub const ADMIN_SESSIONS_ENDED: &str = "admin_sessions_ended";
/// A consent revoked (detail: `client_id`).
pub const ADMIN_CONSENT_REVOKED: &str = "admin_consent_revoked";
/// A consent withdrawn by the user from /account, with the application's refresh tokens
/// (detail: `client_id`; issue #13).
pub const CONSENT_WITHDRAWN: &str = "consent_withdrawn";
/// A refresh-token grant revoked (detail: `grant_id`, `tokens`).
pub const ADMIN_GRANT_REVOKED: &str = "admin_grant_revoked";
/// A console role given or taken (detail: `from`, `to`).
pub const ADMIN_ROLE_SET: &str = "admin_role_set";
/// An account locked by too many wrong passwords (issue #12's dashboard; detail:
/// `locked_until`).
pub const ACCOUNT_LOCKED: &str = "account_locked";

/// Administration (issue #12): every one is recorded with its actor (`admin::actor::record`)
/// and says what changed, never a secret. Clients (detail: `client_id`; updates: `changed`, the
/// names of the fields that changed; rotation: `previous_valid_until`).
pub const CLIENT_CREATED: &str = "client_created";
pub const CLIENT_UPDATED: &str = "client_updated";
pub const CLIENT_DELETED: &str = "client_deleted";
pub const CLIENT_SECRET_ROTATED: &str = "client_secret_rotated";
/// RFC 7591 / 7592: an initial access token issued (detail: `expires_at`, `uses`), a client
/// registered with one (detail: `client_id`).
pub const REGISTRATION_TOKEN_ISSUED: &str = "registration_token_issued";
pub const CLIENT_REGISTERED: &str = "client_registered";
/// Signing keys rotated (detail: `alg`, `activated`, `next`: key ids).
pub const KEYS_ROTATED: &str = "keys_rotated";
/// The audit trail exported (detail: `filter`).
pub const AUDIT_EXPORTED: &str = "audit_exported";

/// Records one event. `detail` must be a JSON object without secrets.
pub async fn record(
    s: &Services,
    user_id: Option<&str>,
    kind: &'static str,
    info: &ClientInfo,
    detail: Value,
) -> Result<(), InfraError> {
    tracing::info!(target: "audit", kind, user_id = user_id.unwrap_or("-"), ip = %info.ip, %detail, "audit event");
    let event = AuditEvent {
        user_id: user_id.map(str::to_owned),
        kind: kind.to_owned(),
        at: s.now(),
        ip: info.ip.chars().take(64).collect(),
        user_agent: info.user_agent.chars().take(200).collect(),
        detail: detail.to_string(),
    };
    s.store.record_event(&event).await?;
    Ok(())
}

//! Who performs an administrative operation (issue #12), and what they may do. The same library
//! functions serve the command line, the REST API and the console; each checks the caller's
//! permission itself (`Actor::require`), so no way in can skip the role matrix, and each records
//! its actor in the audit trail (`audit`).
//!
//! The roles: `admin` may do everything; `support` may search and view users, unlock them, send
//! a reset, reset the secret question and end sessions, nothing else; `auditor` reads the audit
//! trail. A person has at most one role (`idp user set-role`); a machine client gets them from
//! the scopes of its access token (`idp.admin`, `idp.support`, `idp.audit`).

use serde_json::{Value, json};

use super::AdminError;
use crate::account::audit;
use crate::services::Services;
use crate::session::ClientInfo;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Support,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Support, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(raw: &str) -> Result<Role, AdminError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| AdminError::Invalid(format!("unknown role {raw:?} (admin, support, auditor)")))
    }

    /// The access-token scope that carries this role (`idp client add … allowed_scopes`).
    pub fn scope(self) -> &'static str {
        match self {
            Role::Admin => "idp.admin",
            Role::Support => "idp.support",
            Role::Auditor => "idp.audit",
        }
    }

    pub fn from_scope(scope: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.scope() == scope)
    }

    pub fn permits(self, p: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Support => matches!(p, Permission::ViewUsers | Permission::SupportUsers),
            Role::Auditor => matches!(p, Permission::ReadAudit),
        }
    }
}

/// What an operation needs. The matrix is `Role::permits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Search users, view one (status, lock, recent sign-ins, sessions).
    ViewUsers,
    /// Unlock, send a reset (provisional password or activation link), reset the secret
    /// question, end sessions.
    SupportUsers,
    /// Create, update, disable, enable, delete users; set roles; import users.
    ManageUsers,
    /// Clients (OIDC and CAS), their secrets and registration tokens.
    ManageClients,
    /// Groups and their members.
    ManageGroups,
    /// Signing keys.
    ManageKeys,
    /// Read and export the audit trail; the dashboard's figures.
    ReadAudit,
}

/// Who acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// The `idp` command on the server: whoever can run it owns the database already.
    Cli,
    /// A person signed in to the console (or holding a token issued to them).
    Person { user_id: String, login: String },
    /// A machine client with a `client_credentials` token.
    Client { client_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub roles: Vec<Role>,
    /// Where the request came from (the CLI: `cli`).
    pub info: ClientInfo,
}

impl Actor {
    pub fn cli() -> Actor {
        Actor {
            kind: ActorKind::Cli,
            roles: vec![Role::Admin],
            info: ClientInfo { user_agent: "idp (command line)".into(), ip: "cli".into(), lang: None },
        }
    }

    pub fn person(user_id: &str, login: &str, role: Role, info: ClientInfo) -> Actor {
        Actor { kind: ActorKind::Person { user_id: user_id.into(), login: login.into() }, roles: vec![role], info }
    }

    /// A machine client with the roles its token's scopes carry.
    pub fn client(client_id: &str, roles: Vec<Role>, info: ClientInfo) -> Actor {
        Actor { kind: ActorKind::Client { client_id: client_id.into() }, roles, info }
    }

    pub fn may(&self, p: Permission) -> bool {
        self.roles.iter().any(|r| r.permits(p))
    }

    /// `AdminError::Forbidden` unless one of the actor's roles permits `p`.
    pub fn require(&self, p: Permission) -> Result<(), AdminError> {
        if self.may(p) { Ok(()) } else { Err(AdminError::Forbidden) }
    }

    /// The `actor` member of an admin event's detail: never a secret.
    pub fn describe(&self) -> Value {
        match &self.kind {
            ActorKind::Cli => json!({ "type": "cli" }),
            ActorKind::Person { user_id, login } => json!({ "type": "person", "user_id": user_id, "login": login }),
            ActorKind::Client { client_id } => json!({ "type": "client", "client_id": client_id }),
        }
    }
}

/// Records an administrative event about `subject_user` (when it concerns a user): `detail`
/// (a JSON object saying what changed, never a secret) gets the actor added as `actor`.
pub async fn record(
    s: &Services,
    actor: &Actor,
    kind: &'static str,
    subject_user: Option<&str>,
    mut detail: Value,
) -> Result<(), AdminError> {
    if let Value::Object(map) = &mut detail {
        map.insert("actor".into(), actor.describe());
    } else {
        detail = json!({ "actor": actor.describe(), "value": detail });
    }
    audit::record(s, subject_user, kind, &actor.info, detail).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ClientInfo {
        ClientInfo { user_agent: "t".into(), ip: "127.0.0.1".into(), lang: None }
    }

    #[test]
    fn support_may_help_users_and_nothing_else() {
        let a = Actor::person("u1", "agent", Role::Support, info());
        assert!(a.may(Permission::ViewUsers) && a.may(Permission::SupportUsers));
        for p in [
            Permission::ManageUsers,
            Permission::ManageClients,
            Permission::ManageGroups,
            Permission::ManageKeys,
            Permission::ReadAudit,
        ] {
            assert!(matches!(a.require(p), Err(AdminError::Forbidden)), "{p:?}");
        }
    }

    #[test]
    fn an_auditor_only_reads_the_trail() {
        let a = Actor::client("ops", vec![Role::Auditor], info());
        assert!(a.may(Permission::ReadAudit));
        assert!(!a.may(Permission::ViewUsers) && !a.may(Permission::ManageClients));
    }

    #[test]
    fn roles_from_several_scopes_add_up_and_the_cli_is_admin() {
        let a = Actor::client("ops", vec![Role::Support, Role::Auditor], info());
        assert!(a.may(Permission::SupportUsers) && a.may(Permission::ReadAudit) && !a.may(Permission::ManageUsers));
        assert!(Actor::cli().may(Permission::ManageKeys));
        assert_eq!(Role::from_scope("idp.audit"), Some(Role::Auditor));
        assert_eq!(Role::parse("support").unwrap(), Role::Support);
        assert!(Role::parse("root").is_err());
    }
}

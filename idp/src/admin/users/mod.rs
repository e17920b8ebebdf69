//! Administration of user accounts (issue #12): search, view, roles here; changes to an account
//! (update, disable, enable, delete) in `manage`; the support operations (unlock, resets,
//! sessions, consents and grants, the user's audit events) in `support`. The CLI, the admin API
//! and the console call these functions, which check the actor's permission first
//! (`admin::actor`) and audit what they change. Nothing here shows a password hash or a secret
//! answer: `UserView` is what an operator may see.

pub mod manage;
pub mod support;

pub use manage::{UserUpdate, delete_user, disable_user, enable_user, update_user};
pub use support::{
    ConsentView, GrantView, ResetMethod, consents_of_user, end_user_sessions, grants_of_user, reset_secret_question,
    reset_user_password, revoke_consent, revoke_grant, sessions_of_user, unlock_user, user_events,
};

use serde::Serialize;
use serde_json::json;

use super::AdminError;
use super::actor::{self, Actor, Permission, Role};
use super::page::{Page, PageRequest, Sort, SortOrder};
use crate::account::{audit, lockout, policy};
use crate::domain::{Login, User};
use crate::services::{InfraError, Services};
use crate::session;
use crate::store::user_admin::{StatusFilter, UserFilter, UserRecord, UserSortKey};

/// How an operation names the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// The account's id (the `sub` of its tokens): the admin API.
    Id(String),
    /// The login as typed (PRECIS form applied): the command line.
    Login(String),
}

impl std::fmt::Display for UserRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserRef::Id(id) => write!(f, "user {id:?}"),
            UserRef::Login(login) => write!(f, "user with login {login:?}"),
        }
    }
}

/// The account's status as an operator sees it; the first that applies wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Locked,
    Disabled,
    PendingActivation,
    PasswordExpired,
}

impl UserStatus {
    pub const ALL: [UserStatus; 5] = [
        UserStatus::Active,
        UserStatus::Locked,
        UserStatus::Disabled,
        UserStatus::PendingActivation,
        UserStatus::PasswordExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Locked => "locked",
            UserStatus::Disabled => "disabled",
            UserStatus::PendingActivation => "pending_activation",
            UserStatus::PasswordExpired => "password_expired",
        }
    }

    pub fn parse(raw: &str) -> Result<UserStatus, AdminError> {
        UserStatus::ALL.into_iter().find(|st| st.as_str() == raw.trim()).ok_or_else(|| {
            AdminError::Invalid(format!(
                "unknown status {raw:?} (active, locked, disabled, pending_activation, password_expired)"
            ))
        })
    }

    fn filter(self) -> StatusFilter {
        match self {
            UserStatus::Active => StatusFilter::Active,
            UserStatus::Locked => StatusFilter::Locked,
            UserStatus::Disabled => StatusFilter::Disabled,
            UserStatus::PendingActivation => StatusFilter::PendingActivation,
            UserStatus::PasswordExpired => StatusFilter::PasswordExpired,
        }
    }
}

/// What an operator may see of an account: never the password hash, never the secret answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: String,
    pub login: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: String,
    pub family_name: String,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub user_type: String,
    pub role: Option<String>,
    pub status: UserStatus,
    pub disabled: bool,
    /// When the current lock ends (only while locked).
    pub locked_until: Option<i64>,
    pub must_change_password: bool,
    pub provisional_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub activated_at: Option<i64>,
    pub password_changed_at: i64,
}

fn status_of(s: &Services, user: &User, locked: bool, password_changed_at: i64, now: i64) -> UserStatus {
    let policy = &s.user_types.of(&user.user_type).password_policy;
    if user.disabled {
        UserStatus::Disabled
    } else if locked {
        UserStatus::Locked
    } else if user.activated_at.is_none() {
        UserStatus::PendingActivation
    } else if policy::is_expired(policy, password_changed_at, now) {
        UserStatus::PasswordExpired
    } else {
        UserStatus::Active
    }
}

impl UserView {
    /// `locked`: the lockout's own answer when the caller read it, else the mirror's.
    fn from_record(s: &Services, r: UserRecord, locked: Option<bool>, now: i64) -> UserView {
        let locked = locked.unwrap_or_else(|| r.locked_until.is_some_and(|until| until > now));
        let status = status_of(s, &r.user, locked, r.password_changed_at, now);
        let u = r.user;
        UserView {
            id: u.id,
            login: u.login,
            email: u.email,
            email_verified: u.email_verified,
            given_name: u.given_name,
            family_name: u.family_name,
            phone_number: u.phone_number,
            address: u.address,
            user_type: u.user_type,
            role: r.role,
            status,
            disabled: u.disabled,
            locked_until: r.locked_until.filter(|until| locked && *until > now),
            must_change_password: u.must_change_password,
            provisional_expires_at: u.provisional_expires_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
            activated_at: u.activated_at,
            password_changed_at: r.password_changed_at,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserSort {
    #[default]
    Login,
    CreatedAt,
    Email,
}

impl UserSort {
    pub const KEYS: [(&'static str, UserSort); 3] =
        [("login", UserSort::Login), ("created_at", UserSort::CreatedAt), ("email", UserSort::Email)];

    pub fn parse(raw: &str) -> Result<Sort<UserSort>, AdminError> {
        Sort::parse(raw, &UserSort::KEYS)
    }
}

/// A user search: every filter given must hold.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    pub login: Option<String>,
    pub email: Option<String>,
    /// Part of the given or family name, without case.
    pub name: Option<String>,
    pub user_type: Option<String>,
    pub group: Option<String>,
    pub status: Option<UserStatus>,
    /// A login prefix or an e-mail prefix.
    pub q: Option<String>,
    pub sort: Sort<UserSort>,
    pub page: PageRequest,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// A login prefix in the stored (PRECIS) form; a partial login the profile refuses as a whole
/// is lowercased, which is what the profile does to letters.
fn login_prefix(raw: &str) -> String {
    Login::parse(raw).map(|l| l.as_str().to_owned()).unwrap_or_else(|_| raw.to_lowercase())
}

/// Searches accounts (support and admins).
pub async fn search_users(s: &Services, actor: &Actor, query: &UserQuery) -> Result<Page<UserView>, AdminError> {
    actor.require(Permission::ViewUsers)?;
    if let Some(t) = non_empty(&query.user_type)
        && s.user_types.get(&t).is_none()
    {
        return Err(AdminError::Invalid(format!("unknown user type {t:?}")));
    }
    let now = s.now();
    let filter = UserFilter {
        login_prefix: non_empty(&query.login).map(|l| login_prefix(&l)),
        email_prefix: non_empty(&query.email),
        name: non_empty(&query.name),
        user_type: non_empty(&query.user_type),
        group: non_empty(&query.group),
        status: query.status.map(UserStatus::filter),
        q: non_empty(&query.q),
        sort: match query.sort.key {
            UserSort::Login => UserSortKey::Login,
            UserSort::CreatedAt => UserSortKey::CreatedAt,
            UserSort::Email => UserSortKey::Email,
        },
        descending: query.sort.order == SortOrder::Desc,
        limit: i64::from(query.page.limit),
        offset: i64::try_from(query.page.offset).unwrap_or(i64::MAX),
        now,
        password_max_age: s
            .user_types
            .all()
            .iter()
            .filter_map(|t| t.password_policy.max_age_days.map(|d| (t.id.clone(), i64::from(d) * 86_400)))
            .collect(),
    };
    let (records, total) = s.store.search_users(&filter).await.map_err(InfraError::from)?;
    Ok(Page {
        // The mirror (migration 0013): one ephemeral read per row would not scale to a page.
        items: records.into_iter().map(|r| UserView::from_record(s, r, None, now)).collect(),
        total: u64::try_from(total).unwrap_or_default(),
        limit: query.page.limit,
        offset: query.page.offset,
    })
}

/// The account named, with what administration adds (role, lock mirror); `NotFound` if none.
pub(crate) async fn find(s: &Services, user: &UserRef) -> Result<UserRecord, AdminError> {
    let id = match user {
        UserRef::Id(id) => Some(id.clone()),
        UserRef::Login(login) => s.store.user_by_login(login).await.map_err(InfraError::from)?.map(|u| u.id),
    };
    let record = match id {
        Some(id) => s.store.user_record(&id).await.map_err(InfraError::from)?,
        None => None,
    };
    record.ok_or_else(|| AdminError::NotFound(user.to_string()))
}

/// One event of the audit trail, as shown to an operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserEvent {
    pub kind: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    pub detail: serde_json::Value,
}

impl From<crate::store::AuditEvent> for UserEvent {
    fn from(e: crate::store::AuditEvent) -> Self {
        UserEvent {
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
            kind: e.kind,
            at: e.at,
            ip: e.ip,
            user_agent: e.user_agent,
        }
    }
}

/// A live browser session, as shown to an operator (`sid` is the handle /account shows too:
/// the digest of the cookie, which it does not reveal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub sid: String,
    pub created_at: i64,
    pub auth_time: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub clients: Vec<String>,
}

impl From<session::BrowserSession> for SessionView {
    fn from(b: session::BrowserSession) -> Self {
        SessionView {
            sid: b.sid,
            created_at: b.created_at,
            auth_time: b.auth_time,
            expires_at: b.expires_at,
            ip: b.ip,
            user_agent: b.user_agent,
            clients: b.clients,
        }
    }
}

/// How many sign-ins `show_user` lists.
pub const RECENT_SIGN_INS: i64 = 10;

/// One account in detail: its view, groups, recent sign-ins (and failures), live sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserDetail {
    pub user: UserView,
    pub groups: Vec<String>,
    pub recent_sign_ins: Vec<UserEvent>,
    pub sessions: Vec<SessionView>,
}

/// Shows one account (support and admins); the viewing is audited (personal data was read).
pub async fn show_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<UserDetail, AdminError> {
    actor.require(Permission::ViewUsers)?;
    let record = find(s, user).await?;
    // The lock itself is in the ephemeral store (account/lockout.rs); the column is its mirror.
    let locked = lockout::is_locked(s, &record.user.id).await?;
    let view = UserView::from_record(s, record, Some(locked), s.now());
    let groups = s.store.groups_of_user(&view.id).await.map_err(InfraError::from)?;
    let recent_sign_ins = s
        .store
        .events_for_user(&view.id, audit::SIGN_IN, RECENT_SIGN_INS)
        .await
        .map_err(InfraError::from)?
        .into_iter()
        .map(UserEvent::from)
        .collect();
    let sessions = session::list_for_user(s, &view.id).await?.into_iter().map(SessionView::from).collect();
    actor::record(s, actor, audit::ADMIN_USER_VIEWED, Some(&view.id), json!({})).await?;
    Ok(UserDetail { user: view, groups, recent_sign_ins, sessions })
}

/// Gives the person a role in the console and the admin API, or takes it away (`None`).
pub async fn set_role(s: &Services, actor: &Actor, user: &UserRef, role: Option<Role>) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    let new = role.map(Role::as_str);
    if !s.store.set_role(&record.user.id, new, s.now()).await.map_err(InfraError::from)? {
        return Err(AdminError::NotFound(user.to_string()));
    }
    actor::record(s, actor, audit::ADMIN_ROLE_SET, Some(&record.user.id), json!({ "from": record.role, "to": new }))
        .await
}

/// The role of the person with id `user_id`, if any. Not an operation of an actor: the console
/// and the API's token check call it to build the `Actor` of whoever signed in.
pub async fn role_of(s: &Services, user_id: &str) -> Result<Option<Role>, AdminError> {
    let role = s.store.role_of(user_id).await.map_err(InfraError::from)?;
    role.map(|r| Role::parse(&r)).transpose()
}

//! User administration (issue #12): the searches and writes of `admin::users` that no sign-in
//! flow needs, as `UserAdminStore`, implemented here over the `db` seam. Searches assemble
//! their SQL from fixed fragments (only the filters given), every value bound.

use async_trait::async_trait;

use super::db::{Query, q, q_assembled};
use super::sql::{SqlStore, UserRow};
use super::{AuditEvent, StoreError};
use crate::crypto;
use crate::domain::{AccountStart, NewUser, Scopes, User};

/// A computed account status, as a search filter (`admin::users::UserStatus` mirrors it). The
/// first that applies wins: disabled, locked, pending activation, password expired, active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Locked,
    Disabled,
    PendingActivation,
    PasswordExpired,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserSortKey {
    #[default]
    Login,
    CreatedAt,
    Email,
}

/// What `search_users` selects. Prefixes are given normalised (login: PRECIS form; e-mail:
/// lowercase); `name` is matched anywhere in "given family", without case.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub login_prefix: Option<String>,
    pub email_prefix: Option<String>,
    pub name: Option<String>,
    pub user_type: Option<String>,
    pub group: Option<String>,
    pub status: Option<StatusFilter>,
    /// Login prefix or e-mail prefix.
    pub q: Option<String>,
    pub sort: UserSortKey,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
    pub now: i64,
    /// The user types whose passwords expire, with their maximum age in seconds.
    pub password_max_age: Vec<(String, i64)>,
}

/// A user with what administration adds to the sign-in's view of the account.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: User,
    pub role: Option<String>,
    pub locked_until: Option<i64>,
    pub password_changed_at: i64,
}

/// Changes to an account's profile; `None` leaves a field as it is. Parsed by the caller.
#[derive(Clone, Debug, Default)]
pub struct ProfileUpdate {
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub user_type: Option<String>,
    pub birth_date: Option<Option<String>>,
    /// Replaces every alternate identifier of the account.
    pub identifiers: Option<Vec<(String, String)>>,
}

impl ProfileUpdate {
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.given_name.is_none()
            && self.family_name.is_none()
            && self.phone_number.is_none()
            && self.address.is_none()
            && self.user_type.is_none()
            && self.birth_date.is_none()
            && self.identifiers.is_none()
    }
}

/// A remembered consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    pub client_id: String,
    pub scopes: Scopes,
    pub granted_at: i64,
}

/// One authorization's refresh tokens, summed up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    pub grant_id: String,
    pub client_id: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[async_trait]
pub trait UserAdminStore {
    /// One page of the matching users and how many match in all.
    async fn search_users(&self, filter: &UserFilter) -> Result<(Vec<UserRecord>, i64), StoreError>;
    async fn user_record(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// False when there is no such user.
    async fn set_role(&self, user_id: &str, role: Option<&str>, now: i64) -> Result<bool, StoreError>;
    async fn role_of(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// Applies the update (identifiers replaced) in one transaction; a new e-mail is unverified.
    /// False when there is no such user; `Conflict("identifier")` (nothing written) when an
    /// identifier belongs to another account.
    async fn update_profile(&self, user_id: &str, update: &ProfileUpdate, now: i64) -> Result<bool, StoreError>;
    /// Disabling also ends the browser sessions (`sessions_not_before`) and deletes the refresh
    /// tokens, in one transaction. False when there is no such user.
    async fn set_disabled(&self, user_id: &str, disabled: bool, now: i64) -> Result<bool, StoreError>;
    /// GDPR erasure, one transaction: the user row and everything attached to it (secret
    /// question, password history, one-time tokens, consents, refresh tokens, memberships,
    /// identifiers; `ON DELETE CASCADE`), the mails still queued to `email`; in the audit trail
    /// every JSON string equal to `login` or `email` becomes `"[erased]"` in the rows of the user
    /// and the rows naming them (as actor), which otherwise stay with the random user id.
    async fn erase_user(&self, user_id: &str, login: &str, email: &str) -> Result<bool, StoreError>;
    /// The lockout mirror (`None`: unlocked).
    async fn set_locked_until(&self, user_id: &str, locked_until: Option<i64>) -> Result<(), StoreError>;
    /// False when the user had none.
    async fn delete_secret_question(&self, user_id: &str) -> Result<bool, StoreError>;
    async fn consents_of(&self, user_id: &str) -> Result<Vec<ConsentRecord>, StoreError>;
    /// Forgets the consent and deletes the user's refresh tokens of that client, in one
    /// transaction; false when there was no consent and no token.
    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError>;
    /// The user's live authorizations (refresh-token grants), newest first.
    async fn grants_of(&self, user_id: &str, now: i64) -> Result<Vec<GrantRecord>, StoreError>;
    /// Deletes the refresh tokens of `grant_id` if it is the user's; how many.
    async fn revoke_user_grant(&self, user_id: &str, grant_id: &str) -> Result<u64, StoreError>;
    /// The user's audit events, newest first, and how many there are.
    async fn user_events_page(
        &self,
        user_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEvent>, i64), StoreError>;
    /// Creates many ready accounts in one transaction (benchmarks, bulk loads); no identifiers.
    async fn insert_users_bulk(&self, users: &[NewUser], now: i64) -> Result<u64, StoreError>;
}

/// Above every character a login or an address may hold: `p || MAX` bounds the prefix `p`.
const PREFIX_END: char = '\u{10FFFF}';

const RECORD_COLUMNS: &str = "id, login, email, email_verified, given_name, family_name, phone_number, address, \
     locale, user_type, password_hash, disabled, created_at, updated_at, must_change_password, \
     provisional_expires_at, terms_accepted_at, terms_version, activated_at, sessions_not_before, role, locked_until, \
     COALESCE(password_changed_at, updated_at) AS password_changed_at";

#[derive(sqlx::FromRow)]
struct RecordRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: Option<String>,
    locked_until: Option<i64>,
    password_changed_at: i64,
}

impl From<RecordRow> for UserRecord {
    fn from(r: RecordRow) -> Self {
        UserRecord {
            user: r.user.into(),
            role: r.role,
            locked_until: r.locked_until,
            password_changed_at: r.password_changed_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CountRow {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    role: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    client_id: String,
    scopes: String,
    granted_at: i64,
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    grant_id: String,
    client_id: String,
    scopes: String,
    created_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    user_id: Option<String>,
    kind: String,
    at: i64,
    ip: String,
    user_agent: String,
    detail: String,
}

/// A value bound to a placeholder of an assembled query.
enum Bind {
    Text(String),
    Int(i64),
}

/// SQL text with `$n` placeholders and the values, in order.
#[derive(Default)]
struct Assembly {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Assembly {
    fn text(&mut self, v: impl Into<String>) -> String {
        self.binds.push(Bind::Text(v.into()));
        format!("${}", self.binds.len())
    }
    fn int(&mut self, v: i64) -> String {
        self.binds.push(Bind::Int(v));
        format!("${}", self.binds.len())
    }
    fn query(&self, sql: String) -> Query {
        self.binds.iter().fold(q_assembled(sql), |query, b| match b {
            Bind::Text(t) => query.text(t.clone()),
            Bind::Int(i) => query.int(*i),
        })
    }
    fn where_sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!("WHERE {}", self.clauses.join(" AND ")) }
    }
}

/// `LIKE` pattern matching `text` anywhere, its wildcards escaped (`ESCAPE '\'`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl SqlStore {
    /// The column compared in code point order: SQLite's BINARY collation does it; PostgreSQL
    /// needs `COLLATE "C"`, which its prefix indexes are built with (migration 0013).
    fn ordered(&self, column: &str) -> String {
        if self.db().is_postgres() { format!("({column}) COLLATE \"C\"") } else { column.to_owned() }
    }

    fn prefix(&self, a: &mut Assembly, column: &str, prefix: &str) -> String {
        let col = self.ordered(column);
        let low = a.text(prefix);
        let high = a.text(format!("{prefix}{PREFIX_END}"));
        format!("({col} >= {low} AND {col} < {high})")
    }

    /// Lowercases an e-mail search the way the database's `lower()` does: SQLite's lowers ASCII
    /// only, PostgreSQL's every letter.
    fn lower_like_db(&self, text: &str) -> String {
        if self.db().is_postgres() { text.to_lowercase() } else { text.to_ascii_lowercase() }
    }

    fn status_sql(a: &mut Assembly, filter: &UserFilter, status: StatusFilter) -> String {
        let now = a.int(filter.now);
        let locked = format!("(locked_until IS NOT NULL AND locked_until > {now})");
        let expired = if filter.password_max_age.is_empty() {
            "FALSE".to_owned()
        } else {
            let parts: Vec<String> = filter
                .password_max_age
                .iter()
                .map(|(user_type, age)| {
                    let t = a.text(user_type.clone());
                    let limit = a.int(filter.now - age);
                    format!("(user_type = {t} AND COALESCE(password_changed_at, updated_at) <= {limit})")
                })
                .collect();
            format!("({})", parts.join(" OR "))
        };
        let pending = "activated_at IS NULL";
        match status {
            StatusFilter::Disabled => "disabled = TRUE".to_owned(),
            StatusFilter::Locked => format!("disabled = FALSE AND {locked}"),
            StatusFilter::PendingActivation => format!("disabled = FALSE AND NOT {locked} AND {pending}"),
            StatusFilter::PasswordExpired => {
                format!("disabled = FALSE AND NOT {locked} AND activated_at IS NOT NULL AND {expired}")
            }
            StatusFilter::Active => {
                format!("disabled = FALSE AND NOT {locked} AND activated_at IS NOT NULL AND NOT {expired}")
            }
        }
    }

    fn search_assembly(&self, f: &UserFilter) -> Assembly {
        let mut a = Assembly::default();
        if let Some(p) = &f.login_prefix {
            let c = self.prefix(&mut a, "login", p);
            a.clauses.push(c);
        }
        if let Some(p) = &f.email_prefix {
            let c = self.prefix(&mut a, "lower(email)", &self.lower_like_db(p));
            a.clauses.push(c);
        }
        if let Some(text) = &f.q {
            let login = self.prefix(&mut a, "login", &text.to_lowercase());
            let email = self.prefix(&mut a, "lower(email)", &self.lower_like_db(text));
            a.clauses.push(format!("({login} OR {email})"));
        }
        if let Some(name) = &f.name {
            let p = a.text(contains_pattern(&self.lower_like_db(name)));
            a.clauses.push(format!("lower(given_name || ' ' || family_name) LIKE {p} ESCAPE '\\'"));
        }
        if let Some(t) = &f.user_type {
            let p = a.text(t.clone());
            a.clauses.push(format!("user_type = {p}"));
        }
        if let Some(g) = &f.group {
            let p = a.text(g.clone());
            a.clauses.push(format!("id IN (SELECT user_id FROM group_members WHERE group_id = {p})"));
        }
        if let Some(status) = f.status {
            let c = Self::status_sql(&mut a, f, status);
            a.clauses.push(format!("({c})"));
        }
        a
    }
}

#[async_trait]
impl UserAdminStore for SqlStore {
    async fn search_users(&self, f: &UserFilter) -> Result<(Vec<UserRecord>, i64), StoreError> {
        let mut a = self.search_assembly(f);
        let where_sql = a.where_sql();
        let total = self.db().optional::<CountRow>(a.query(format!("SELECT COUNT(*) AS n FROM users {where_sql}")));
        let total = total.await?.map_or(0, |r| r.n);
        let direction = if f.descending { "DESC" } else { "ASC" };
        // The id breaks ties, so that pages never overlap.
        let order = match f.sort {
            UserSortKey::Login => format!("{} {direction}", self.ordered("login")),
            UserSortKey::CreatedAt => format!("created_at {direction}, id {direction}"),
            UserSortKey::Email => format!("{} {direction}, id {direction}", self.ordered("lower(email)")),
        };
        let limit = a.int(f.limit);
        let offset = a.int(f.offset);
        let sql =
            format!("SELECT {RECORD_COLUMNS} FROM users {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {offset}");
        let rows = self.db().all::<RecordRow>(a.query(sql)).await?;
        Ok((rows.into_iter().map(UserRecord::from).collect(), total))
    }

    async fn user_record(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM users WHERE id = $1");
        Ok(self.db().optional::<RecordRow>(q_assembled(sql).text(user_id)).await?.map(UserRecord::from))
    }

    async fn set_role(&self, user_id: &str, role: Option<&str>, now: i64) -> Result<bool, StoreError> {
        let changed = self
            .db()
            .execute(
                q("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
                    .opt_text(role.map(str::to_owned))
                    .int(now)
                    .text(user_id),
            )
            .await?;
        Ok(changed > 0)
    }

    async fn role_of(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = self.db().optional::<RoleRow>(q("SELECT role FROM users WHERE id = $1").text(user_id)).await?;
        Ok(row.and_then(|r| r.role))
    }

    async fn update_profile(&self, user_id: &str, u: &ProfileUpdate, now: i64) -> Result<bool, StoreError> {
        let mut a = Assembly::default();
        let mut set = vec![format!("updated_at = {}", a.int(now))];
        if let Some(email) = &u.email {
            set.push(format!("email = {}", a.text(email.clone())));
            set.push("email_verified = FALSE".to_owned());
        }
        for (column, value) in
            [("given_name", &u.given_name), ("family_name", &u.family_name), ("user_type", &u.user_type)]
        {
            if let Some(v) = value {
                set.push(format!("{column} = {}", a.text(v.clone())));
            }
        }
        for (column, value) in
            [("phone_number", &u.phone_number), ("address", &u.address), ("birth_date", &u.birth_date)]
        {
            match value {
                Some(Some(v)) => set.push(format!("{column} = {}", a.text(v.clone()))),
                Some(None) => set.push(format!("{column} = NULL")),
                None => {}
            }
        }
        let id = a.text(user_id);
        let sql = format!("UPDATE users SET {} WHERE id = {id}", set.join(", "));
        let mut tx = self.db().begin().await?;
        if tx.execute(a.query(sql)).await? == 0 {
            return Ok(false);
        }
        if let Some(identifiers) = &u.identifiers {
            tx.execute(q("DELETE FROM user_identifiers WHERE user_id = $1").text(user_id)).await?;
            for (kind, value) in identifiers {
                tx.execute(
                    q("INSERT INTO user_identifiers (kind, value, user_id) VALUES ($1, $2, $3)")
                        .text(kind)
                        .text(value)
                        .text(user_id),
                )
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => StoreError::Conflict("identifier"),
                    other => other,
                })?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let changed = if disabled {
            tx.execute(
                q("UPDATE users SET disabled = TRUE, sessions_not_before = $1, updated_at = $1 WHERE id = $2")
                    .int(now)
                    .text(user_id),
            )
            .await?
        } else {
            tx.execute(q("UPDATE users SET disabled = FALSE, updated_at = $1 WHERE id = $2").int(now).text(user_id))
                .await?
        };
        if changed == 0 {
            return Ok(false);
        }
        if disabled {
            tx.execute(q("DELETE FROM refresh_tokens WHERE user_id = $1").text(user_id)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn erase_user(&self, user_id: &str, login: &str, email: &str) -> Result<bool, StoreError> {
        let json = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
        let erased = json("[erased]");
        let mut tx = self.db().begin().await?;
        // Actor details carry the person's id as a JSON string (`admin::actor`).
        tx.execute(
            q("UPDATE audit_events SET detail = REPLACE(REPLACE(detail, $1, $3), $2, $3) \
               WHERE user_id = $4 OR detail LIKE $5 ESCAPE '\\'")
            .text(json(login))
            .text(json(email))
            .text(erased)
            .text(user_id)
            .text(contains_pattern(&json(user_id))),
        )
        .await?;
        tx.execute(q("DELETE FROM mail_queue WHERE recipient = $1").text(email)).await?;
        let deleted = tx.execute(q("DELETE FROM users WHERE id = $1").text(user_id)).await?;
        if deleted == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn set_locked_until(&self, user_id: &str, locked_until: Option<i64>) -> Result<(), StoreError> {
        self.db()
            .execute(q("UPDATE users SET locked_until = $1 WHERE id = $2").opt_int(locked_until).text(user_id))
            .await
            .map(|_| ())
    }

    async fn delete_secret_question(&self, user_id: &str) -> Result<bool, StoreError> {
        let n = self.db().execute(q("DELETE FROM secret_questions WHERE user_id = $1").text(user_id)).await?;
        Ok(n > 0)
    }

    async fn consents_of(&self, user_id: &str) -> Result<Vec<ConsentRecord>, StoreError> {
        let rows = self
            .db()
            .all::<ConsentRow>(
                q("SELECT client_id, scopes, granted_at FROM consents WHERE user_id = $1 ORDER BY client_id")
                    .text(user_id),
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let scopes = Scopes::parse(&r.scopes).map_err(|_| StoreError::Corrupt("consent scopes".into()))?;
                Ok(ConsentRecord { client_id: r.client_id, scopes, granted_at: r.granted_at })
            })
            .collect()
    }

    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let consents = tx
            .execute(q("DELETE FROM consents WHERE user_id = $1 AND client_id = $2").text(user_id).text(client_id))
            .await?;
        let tokens = tx
            .execute(
                q("DELETE FROM refresh_tokens WHERE user_id = $1 AND client_id = $2").text(user_id).text(client_id),
            )
            .await?;
        tx.commit().await?;
        Ok(consents + tokens > 0)
    }

    async fn grants_of(&self, user_id: &str, now: i64) -> Result<Vec<GrantRecord>, StoreError> {
        let rows = self
            .db()
            .all::<GrantRow>(
                q("SELECT grant_id, MIN(client_id) AS client_id, MAX(scopes) AS scopes, MIN(created_at) AS created_at, \
                   MAX(expires_at) AS expires_at FROM refresh_tokens WHERE user_id = $1 AND expires_at > $2 \
                   GROUP BY grant_id ORDER BY MIN(created_at) DESC, grant_id")
                .text(user_id)
                .int(now),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| GrantRecord {
                grant_id: r.grant_id,
                client_id: r.client_id,
                scopes: r.scopes,
                created_at: r.created_at,
                expires_at: r.expires_at,
            })
            .collect())
    }

    async fn revoke_user_grant(&self, user_id: &str, grant_id: &str) -> Result<u64, StoreError> {
        self.db()
            .execute(q("DELETE FROM refresh_tokens WHERE user_id = $1 AND grant_id = $2").text(user_id).text(grant_id))
            .await
    }

    async fn user_events_page(
        &self,
        user_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEvent>, i64), StoreError> {
        let total = self
            .db()
            .optional::<CountRow>(
                q("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_events WHERE user_id = $1").text(user_id),
            )
            .await?
            .map_or(0, |r| r.n);
        let rows = self
            .db()
            .all::<EventRow>(
                q("SELECT user_id, kind, at, ip, user_agent, detail FROM audit_events WHERE user_id = $1 \
                   ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3")
                .text(user_id)
                .int(limit)
                .int(offset),
            )
            .await?;
        let events = rows
            .into_iter()
            .map(|r| AuditEvent {
                user_id: r.user_id,
                kind: r.kind,
                at: r.at,
                ip: r.ip,
                user_agent: r.user_agent,
                detail: r.detail,
            })
            .collect();
        Ok((events, total))
    }

    async fn insert_users_bulk(&self, users: &[NewUser], now: i64) -> Result<u64, StoreError> {
        let mut tx = self.db().begin().await?;
        let mut inserted = 0;
        for user in users {
            inserted += tx
                .execute(
                    q("INSERT INTO users (id, login, email, email_verified, given_name, family_name, phone_number, \
                       address, locale, user_type, password_hash, disabled, created_at, updated_at, \
                       must_change_password, activated_at, password_changed_at, login_skeleton) \
                       VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, NULL, $8, $9, FALSE, $10, $10, $11, $12, $10, $13)")
                    .text(crypto::random_uuid())
                    .text(user.login.as_str())
                    .text(user.email.as_str())
                    .text(&user.given_name)
                    .text(&user.family_name)
                    .opt_text(user.phone_number.clone())
                    .opt_text(user.address.clone())
                    .text(&user.user_type)
                    .text(&user.password_hash)
                    .int(now)
                    .bool(!matches!(user.start, AccountStart::Ready))
                    .opt_int(matches!(user.start, AccountStart::Ready).then_some(now))
                    .text(user.login.skeleton()),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }
}

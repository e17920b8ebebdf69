//! Every store trait, implemented once over the `db` seam. Lists are stored as JSON (redirect
//! URIs) or space-separated text (grant types, scopes) in TEXT columns, for portability.

use async_trait::async_trait;

use super::db::{Db, Tx, q};
use super::{ClientStore, GrantStore, KeyStore, RefreshToken, StoreError, StoredKey, UserStore};
use crate::crypto;
use crate::domain::{AccountStart, Client, Login, NewUser, RedirectUri, Scopes, User};

/// The SQL store; cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// Connects and brings the schema up to date (migrations are embedded in the binary).
    /// Opens the database the URL names and migrates it (tools and tests: the default wait for
    /// a connection; the server passes `database_timeout_ms` to `open_with_timeout`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with_timeout(url, std::time::Duration::from_secs(2)).await
    }

    /// As `open`; a request waits at most `acquire_timeout` for a PostgreSQL connection (then
    /// `StoreError::Unavailable`, answered 503).
    pub async fn open_with_timeout(url: &str, acquire_timeout: std::time::Duration) -> Result<Self, StoreError> {
        let db = Db::connect(url, acquire_timeout).await?;
        db.migrate().await?;
        Ok(Self { db })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The claim protocol of the durable queues (logout deliveries, mail): `due` selects the ids
    /// of rows due at `$1` and not held, at most `$2`; `claim` re-checks the same condition in
    /// an UPDATE … RETURNING (`$1` claim_until, `$2` id, `$3` now), so whoever updates a row
    /// first owns it until `claim_until` and the others get nothing back, across nodes.
    pub(crate) async fn claim_due<T: super::db::DbRow>(
        &self,
        due: &'static str,
        claim: &'static str,
        now: i64,
        claim_until: i64,
        limit: i64,
    ) -> Result<Vec<T>, StoreError> {
        let candidates = self.db.all::<IdRow>(q(due).int(now).int(limit)).await?;
        let mut claimed = Vec::new();
        for candidate in candidates {
            claimed.extend(self.db.all::<T>(q(claim).int(claim_until).text(&candidate.id).int(now)).await?);
        }
        Ok(claimed)
    }
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: String,
}

fn conflict(what: &'static str) -> impl Fn(StoreError) -> StoreError {
    move |err| match err {
        StoreError::Conflict(_) => StoreError::Conflict(what),
        other => other,
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    login: String,
    email: String,
    email_verified: bool,
    given_name: String,
    family_name: String,
    phone_number: Option<String>,
    address: Option<String>,
    locale: Option<String>,
    user_type: String,
    password_hash: String,
    disabled: bool,
    created_at: i64,
    updated_at: i64,
    must_change_password: bool,
    provisional_expires_at: Option<i64>,
    terms_accepted_at: Option<i64>,
    terms_version: Option<String>,
    activated_at: Option<i64>,
    sessions_not_before: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            login: r.login,
            email: r.email,
            email_verified: r.email_verified,
            given_name: r.given_name,
            family_name: r.family_name,
            phone_number: r.phone_number,
            address: r.address,
            locale: r.locale,
            user_type: r.user_type,
            password_hash: r.password_hash,
            disabled: r.disabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            must_change_password: r.must_change_password,
            provisional_expires_at: r.provisional_expires_at,
            terms_accepted_at: r.terms_accepted_at,
            terms_version: r.terms_version,
            activated_at: r.activated_at,
            sessions_not_before: r.sessions_not_before,
        }
    }
}

#[async_trait]
impl super::HealthCheck for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: NewUser, now: i64) -> Result<User, StoreError> {
        let id = crypto::random_uuid();
        let mut tx = self.db.begin().await?;
        insert_user(&mut tx, &id, &user, now).await?;
        tx.commit().await?;
        self.user_by_id(&id).await?.ok_or_else(|| StoreError::Database("user vanished after insert".into()))
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.db.optional::<UserRow>(q(USERS_BY_ID).text(id)).await?.map(User::from))
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        // Every lookup by login compares PRECIS forms (RFC 8265 §3.3.4): `ＡLICE.martin` is
        // `alice.martin`; a string the profile refuses names nobody.
        let Ok(login) = Login::parse(login) else { return Ok(None) };
        Ok(self.db.optional::<UserRow>(q(USERS_BY_LOGIN).text(login.as_str())).await?.map(User::from))
    }

    async fn user_confusable_with(&self, login: &Login) -> Result<Option<User>, StoreError> {
        let sql = select_users!("WHERE login_skeleton = $1 AND login <> $2");
        Ok(self.db.optional::<UserRow>(q(sql).text(login.skeleton()).text(login.as_str())).await?.map(User::from))
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
        self.db
            .execute(
                q("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                    .text(hash)
                    .int(now)
                    .text(user_id),
            )
            .await
            .map(|_| ())
    }
}

/// Inserts the account, its login's skeleton and its recovery identifiers in `tx` (the caller
/// commits): `create_user`, and `import_users` for a whole file (issue #12).
pub(crate) async fn insert_user(tx: &mut Tx, id: &str, user: &NewUser, now: i64) -> Result<(), StoreError> {
    let skeleton = user.login.skeleton();
    // A clearer refusal than the UNIQUE index's; the index still decides between two nodes.
    if let Some(holder) =
        tx.optional::<LoginRow>(q(LOGIN_OR_SKELETON).text(user.login.as_str()).text(&skeleton)).await?
    {
        return Err(StoreError::Conflict(if holder.login == user.login.as_str() {
            "login"
        } else {
            "confusable login"
        }));
    }
    tx.execute(
            q("INSERT INTO users (id, login, email, email_verified, given_name, family_name, phone_number, address, locale, user_type, password_hash, disabled, created_at, updated_at, \
               must_change_password, provisional_expires_at, activated_at, birth_date, login_skeleton) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17)")
            .text(id)
            .text(user.login.as_str())
            .text(user.email.as_str())
            .bool(false)
            .text(&user.given_name)
            .text(&user.family_name)
            .opt_text(user.phone_number.clone())
            .opt_text(user.address.clone())
            .text(&user.user_type)
            .text(&user.password_hash)
            .bool(false)
            .int(now)
            .bool(!matches!(user.start, AccountStart::Ready))
            .opt_int(match user.start {
                AccountStart::Provisional { expires_at } => Some(expires_at),
                _ => None,
            })
            .opt_int(matches!(user.start, AccountStart::Ready).then_some(now))
            .opt_text(user.birth_date.clone())
            .text(&skeleton),
        )
        .await
        .map_err(conflict("login"))?;
    for (kind, value) in &user.identifiers {
        tx.execute(
            q("INSERT INTO user_identifiers (kind, value, user_id) VALUES ($1, $2, $3)")
                .text(kind)
                .text(value)
                .text(id),
        )
        .await
        .map_err(conflict("identifier"))?;
    }
    Ok(())
}

/// `SELECT <every user column> FROM users <rest>`, for `UserRow`.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, login, email, email_verified, given_name, family_name, phone_number, address, locale, \
             user_type, password_hash, disabled, created_at, updated_at, must_change_password, \
             provisional_expires_at, terms_accepted_at, terms_version, activated_at, sessions_not_before FROM users ",
            $rest
        )
    };
}
pub(crate) use select_users;

const USERS_BY_ID: &str = select_users!("WHERE id = $1");
const USERS_BY_LOGIN: &str = select_users!("WHERE login = $1");
/// A user holding this login (`$1`) or this skeleton (`$2`); the login first.
pub(crate) const LOGIN_OR_SKELETON: &str = "SELECT login FROM users WHERE login = $1 OR login_skeleton = $2 ORDER BY CASE WHEN login = $1 THEN 0 ELSE 1 END LIMIT 1";

#[derive(sqlx::FromRow)]
pub(crate) struct LoginRow {
    pub(crate) login: String,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    secret_digest: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    auth_method: String,
    id_token_alg: String,
    theme: Option<String>,
    first_party: bool,
    created_at: i64,
    settings: String,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("client {}: {what}", r.id));
        let uris = |json: &str| -> Result<Vec<RedirectUri>, StoreError> {
            serde_json::from_str::<Vec<String>>(json)
                .map(|v| v.into_iter().map(RedirectUri::from_trusted).collect())
                .map_err(|_| corrupt("redirect URIs"))
        };
        Ok(Client {
            settings: serde_json::from_str(&r.settings).map_err(|e| corrupt(&format!("settings: {e}")))?,
            redirect_uris: uris(&r.redirect_uris)?,
            post_logout_redirect_uris: uris(&r.post_logout_redirect_uris)?,
            grant_types: r
                .grant_types
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| corrupt("grant types"))?,
            auth_method: r.auth_method.parse().map_err(|_| corrupt("auth method"))?,
            id_token_alg: r.id_token_alg.parse().map_err(|_| corrupt("signing alg"))?,
            id: r.id,
            name: r.name,
            secret_digest: r.secret_digest,
            theme: r.theme,
            first_party: r.first_party,
            created_at: r.created_at,
        })
    }
}

pub(crate) fn client_insert(sql: &'static str, c: &Client) -> super::db::Query {
    let uris = |v: &[RedirectUri]| {
        serde_json::to_string(&v.iter().map(RedirectUri::as_str).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
    };
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    q(sql)
        .text(&c.id)
        .text(&c.name)
        .opt_text(c.secret_digest.clone())
        .text(uris(&c.redirect_uris))
        .text(uris(&c.post_logout_redirect_uris))
        .text(grants.join(" "))
        .text(c.auth_method.as_str())
        .text(c.id_token_alg.as_str())
        .opt_text(c.theme.clone())
        .bool(c.first_party)
        .int(c.created_at)
        .text(serde_json::to_string(&c.settings).unwrap_or_else(|_| "{}".into()))
}

pub(crate) const CLIENT_INSERT: &str = "INSERT INTO clients (id, name, secret_digest, redirect_uris, post_logout_redirect_uris, grant_types, auth_method, id_token_alg, theme, first_party, created_at, settings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const CLIENT_UPSERT: &str = "INSERT INTO clients (id, name, secret_digest, redirect_uris, post_logout_redirect_uris, grant_types, auth_method, id_token_alg, theme, first_party, created_at, settings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_digest = excluded.secret_digest, redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris, grant_types = excluded.grant_types, auth_method = excluded.auth_method, id_token_alg = excluded.id_token_alg, theme = excluded.theme, first_party = excluded.first_party, settings = excluded.settings";

#[async_trait]
impl ClientStore for SqlStore {
    async fn create_client(&self, client: &Client) -> Result<(), StoreError> {
        self.db.execute(client_insert(CLIENT_INSERT, client)).await.map(|_| ()).map_err(conflict("client id"))
    }

    async fn upsert_client(&self, client: &Client) -> Result<(), StoreError> {
        self.db.execute(client_insert(CLIENT_UPSERT, client)).await.map(|_| ())
    }

    async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        const SQL: &str = "SELECT id, name, secret_digest, redirect_uris, post_logout_redirect_uris, grant_types, auth_method, id_token_alg, theme, first_party, created_at, settings FROM clients WHERE id = $1";
        self.db.optional::<ClientRow>(q(SQL).text(id)).await?.map(Client::try_from).transpose()
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        const SQL: &str = "SELECT id, name, secret_digest, redirect_uris, post_logout_redirect_uris, grant_types, auth_method, id_token_alg, theme, first_party, created_at, settings FROM clients ORDER BY id";
        self.db.all::<ClientRow>(q(SQL)).await?.into_iter().map(Client::try_from).collect()
    }

    async fn delete_client(&self, id: &str) -> Result<bool, StoreError> {
        // Consents and refresh tokens go with it (ON DELETE CASCADE), in the same statement.
        Ok(self.db.execute(q("DELETE FROM clients WHERE id = $1").text(id)).await? > 0)
    }
}

#[derive(sqlx::FromRow)]
struct ScopesRow {
    scopes: String,
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    digest: String,
    grant_id: String,
    client_id: String,
    user_id: String,
    scopes: String,
    auth_time: i64,
    sid: Option<String>,
    amr: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

fn parse_scopes(raw: &str) -> Result<Scopes, StoreError> {
    Scopes::parse(raw).map_err(|_| StoreError::Corrupt("scopes".into()))
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<Scopes>, StoreError> {
        let row = self
            .db
            .optional::<ScopesRow>(
                q("SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2").text(user_id).text(client_id),
            )
            .await?;
        row.map(|r| parse_scopes(&r.scopes)).transpose()
    }

    async fn save_consent(&self, user_id: &str, client_id: &str, scopes: &Scopes, now: i64) -> Result<(), StoreError> {
        // Compare-and-swap: two concurrent decisions both end up in the union, whatever the
        // isolation level (no SELECT … FOR UPDATE on SQLite).
        for _ in 0..8 {
            let existing = self.consent(user_id, client_id).await?;
            let written = match existing {
                None => {
                    self.db
                        .execute(
                            q("INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
                               ON CONFLICT (user_id, client_id) DO NOTHING")
                            .text(user_id)
                            .text(client_id)
                            .text(scopes.to_string())
                            .int(now),
                        )
                        .await?
                }
                Some(old) => {
                    self.db
                        .execute(
                            q("UPDATE consents SET scopes = $1, granted_at = $2 WHERE user_id = $3 AND client_id = $4 AND scopes = $5")
                                .text(old.union(scopes).to_string())
                                .int(now)
                                .text(user_id)
                                .text(client_id)
                                .text(old.to_string()),
                        )
                        .await?
                }
            };
            if written == 1 {
                return Ok(());
            }
        }
        Err(StoreError::Database("consent kept changing under concurrent updates".into()))
    }

    async fn insert_refresh_token(&self, t: &RefreshToken) -> Result<(), StoreError> {
        self.db.execute(refresh_insert(t)).await.map(|_| ())
    }

    async fn refresh_token(&self, digest: &str) -> Result<Option<RefreshToken>, StoreError> {
        const SQL: &str = "SELECT digest, grant_id, client_id, user_id, scopes, auth_time, sid, amr, created_at, expires_at, used_at FROM refresh_tokens WHERE digest = $1";
        let Some(r) = self.db.optional::<RefreshRow>(q(SQL).text(digest)).await? else {
            return Ok(None);
        };
        Ok(Some(RefreshToken {
            scopes: parse_scopes(&r.scopes)?,
            digest: r.digest,
            grant_id: r.grant_id,
            client_id: r.client_id,
            user_id: r.user_id,
            auth_time: r.auth_time,
            sid: r.sid,
            amr: r.amr.split_whitespace().map(str::to_owned).collect(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        }))
    }

    async fn rotate_refresh_token(&self, old_digest: &str, new: &RefreshToken, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let marked = tx
            .execute(
                q("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
                    .int(now)
                    .text(old_digest),
            )
            .await?;
        if marked == 0 {
            // Dropping the transaction rolls it back: nothing written.
            return Ok(false);
        }
        tx.execute(refresh_insert(new)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_grant(&self, grant_id: &str) -> Result<u64, StoreError> {
        self.db.execute(q("DELETE FROM refresh_tokens WHERE grant_id = $1").text(grant_id)).await
    }
}

fn refresh_insert(t: &RefreshToken) -> super::db::Query {
    q("INSERT INTO refresh_tokens (digest, grant_id, client_id, user_id, scopes, auth_time, sid, amr, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .text(&t.digest)
        .text(&t.grant_id)
        .text(&t.client_id)
        .text(&t.user_id)
        .text(t.scopes.to_string())
        .int(t.auth_time)
        .opt_text(t.sid.clone())
        .text(t.amr.join(" "))
        .int(t.created_at)
        .int(t.expires_at)
        .opt_int(t.used_at)
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    secret: String,
    state: String,
    created_at: i64,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
}

fn key_insert(k: &StoredKey) -> super::db::Query {
    q("INSERT INTO signing_keys (kid, alg, secret, state, created_at, activated_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .text(&k.kid)
        .text(&k.alg)
        .text(&k.secret)
        .text(&k.state)
        .int(k.created_at)
        .opt_int(k.activated_at)
        .opt_int(k.retired_at)
}

#[derive(sqlx::FromRow)]
struct ValueRow {
    value: String,
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = self
            .db
            .all::<KeyRow>(q(
                "SELECT kid, alg, secret, state, created_at, activated_at, retired_at FROM signing_keys ORDER BY created_at, kid",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredKey {
                kid: r.kid,
                alg: r.alg,
                secret: r.secret,
                state: r.state,
                created_at: r.created_at,
                activated_at: r.activated_at,
                retired_at: r.retired_at,
            })
            .collect())
    }

    async fn insert_signing_key(&self, k: &StoredKey) -> Result<(), StoreError> {
        self.db.execute(key_insert(k)).await.map(|_| ()).map_err(conflict("key id"))
    }

    async fn reseal_signing_key(&self, kid: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        let changed = self
            .db
            .execute(
                q("UPDATE signing_keys SET secret = $1 WHERE kid = $2 AND secret = $3").text(new).text(kid).text(old),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn rotate_signing_key(
        &self,
        alg: &str,
        next_kid: &str,
        new_next: &StoredKey,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        // Compare-and-swap on the next key: of two concurrent rotations, one promotes it and the
        // other finds it no longer `next` and writes nothing.
        let promoted = tx
            .execute(
                q("UPDATE signing_keys SET state = 'active', activated_at = $1 WHERE kid = $2 AND alg = $3 AND state = 'next'")
                    .int(now)
                    .text(next_kid)
                    .text(alg),
            )
            .await?;
        if promoted == 0 {
            return Ok(false);
        }
        tx.execute(
            q("UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE alg = $2 AND state = 'active' AND kid <> $3")
                .int(now)
                .text(alg)
                .text(next_kid),
        )
        .await?;
        tx.execute(key_insert(new_next)).await.map_err(conflict("key id"))?;
        tx.commit().await?;
        Ok(true)
    }

    async fn purge_retired_keys(&self, retired_before: i64) -> Result<u64, StoreError> {
        self.db
            .execute(
                q("DELETE FROM signing_keys WHERE state = 'retired' AND retired_at IS NOT NULL AND retired_at < $1")
                    .int(retired_before),
            )
            .await
    }

    async fn server_secret(&self, name: &str, candidate: &str, now: i64) -> Result<String, StoreError> {
        self.db
            .execute(
                q("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                    .text(name)
                    .text(candidate)
                    .int(now),
            )
            .await?;
        self.db
            .optional::<ValueRow>(q("SELECT value FROM server_secrets WHERE name = $1").text(name))
            .await?
            .map(|r| r.value)
            .ok_or_else(|| StoreError::Database("server secret vanished".into()))
    }
}

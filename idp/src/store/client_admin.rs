//! Administration of clients (issue #12) over the `db` seam: updating a registration in place,
//! rotating a secret with an overlap (the previous digest and when it stops), and the tokens of
//! dynamic registration (RFC 7591 initial access tokens, RFC 7592 registration access tokens).

use async_trait::async_trait;

use super::StoreError;
use super::db::q;
use super::sql::SqlStore;
use crate::domain::{Client, RedirectUri};

/// The secret a client had before its last rotation, accepted until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousSecret {
    pub digest: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait ClientAdminStore {
    /// Replaces the registration of an existing client, keeping its secret (current and
    /// previous) and creation date; false if there is no such client.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// The current secret digest becomes the previous one, accepted until `previous_until`, and
    /// `new_digest` the current one; false if there is no such client or it has no secret.
    async fn rotate_client_secret(&self, id: &str, new_digest: &str, previous_until: i64) -> Result<bool, StoreError>;
    /// The previous secret of a rotated client, expired or not (the caller compares with `now`).
    async fn previous_client_secret(&self, id: &str) -> Result<Option<PreviousSecret>, StoreError>;
    /// Stores an RFC 7591 initial access token (its digest), good for `uses` registrations.
    async fn insert_registration_token(
        &self,
        digest: &str,
        now: i64,
        expires_at: i64,
        uses: i64,
    ) -> Result<(), StoreError>;
    /// Spends one use of an unexpired initial access token: false if none is left.
    async fn take_registration_token(&self, digest: &str, now: i64) -> Result<bool, StoreError>;
    /// Creates a dynamically registered client with its RFC 7592 registration access token
    /// (digest), in one transaction; `Conflict("client id")` when the id is taken.
    async fn create_registered_client(&self, client: &Client, access_digest: &str, now: i64) -> Result<(), StoreError>;
    /// The client whose registration access token has this digest.
    async fn registered_client_id(&self, access_digest: &str) -> Result<Option<String>, StoreError>;
}

#[derive(sqlx::FromRow)]
struct PreviousRow {
    previous_secret_digest: Option<String>,
    previous_secret_expires_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ClientIdRow {
    client_id: String,
}

fn uris(v: &[RedirectUri]) -> String {
    serde_json::to_string(&v.iter().map(RedirectUri::as_str).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl ClientAdminStore for SqlStore {
    async fn update_client(&self, c: &Client) -> Result<bool, StoreError> {
        // The secret (and its rotation) and the creation date are not the registration's to
        // change: `rotate_client_secret` owns them.
        let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
        let n = self
            .db()
            .execute(
                q("UPDATE clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4, grant_types = $5, \
                   auth_method = $6, id_token_alg = $7, theme = $8, first_party = $9, settings = $10 WHERE id = $1")
                .text(&c.id)
                .text(&c.name)
                .text(uris(&c.redirect_uris))
                .text(uris(&c.post_logout_redirect_uris))
                .text(grants.join(" "))
                .text(c.auth_method.as_str())
                .text(c.id_token_alg.as_str())
                .opt_text(c.theme.clone())
                .bool(c.first_party)
                .text(serde_json::to_string(&c.settings).unwrap_or_else(|_| "{}".into())),
            )
            .await?;
        Ok(n > 0)
    }

    async fn rotate_client_secret(&self, id: &str, new_digest: &str, previous_until: i64) -> Result<bool, StoreError> {
        // One statement: the current digest becomes the previous one as the new one lands, so
        // no instant exists where neither works. A client without a secret is not rotated.
        let n = self
            .db()
            .execute(
                q("UPDATE clients SET previous_secret_digest = secret_digest, previous_secret_expires_at = $3, \
                   secret_digest = $2 WHERE id = $1 AND secret_digest IS NOT NULL")
                .text(id)
                .text(new_digest)
                .int(previous_until),
            )
            .await?;
        Ok(n > 0)
    }

    async fn previous_client_secret(&self, id: &str) -> Result<Option<PreviousSecret>, StoreError> {
        let row = self
            .db()
            .optional::<PreviousRow>(
                q("SELECT previous_secret_digest, previous_secret_expires_at FROM clients WHERE id = $1").text(id),
            )
            .await?;
        Ok(row.and_then(|r| match (r.previous_secret_digest, r.previous_secret_expires_at) {
            (Some(digest), Some(expires_at)) => Some(PreviousSecret { digest, expires_at }),
            _ => None,
        }))
    }

    async fn insert_registration_token(
        &self,
        digest: &str,
        now: i64,
        expires_at: i64,
        uses: i64,
    ) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("INSERT INTO registration_tokens (digest, created_at, expires_at, uses_left) VALUES ($1, $2, $3, $4)")
                    .text(digest)
                    .int(now)
                    .int(expires_at)
                    .int(uses),
            )
            .await
            .map(|_| ())
    }

    async fn take_registration_token(&self, digest: &str, now: i64) -> Result<bool, StoreError> {
        // One conditional decrement: two registrations racing for the last use cannot both win.
        let n = self
            .db()
            .execute(
                q("UPDATE registration_tokens SET uses_left = uses_left - 1 \
                   WHERE digest = $1 AND uses_left > 0 AND expires_at > $2")
                .text(digest)
                .int(now),
            )
            .await?;
        Ok(n > 0)
    }

    async fn create_registered_client(&self, client: &Client, access_digest: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        tx.execute(super::sql::client_insert(super::sql::CLIENT_INSERT, client)).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("client id"),
            other => other,
        })?;
        tx.execute(
            q("INSERT INTO client_registrations (client_id, access_token_digest, created_at) VALUES ($1, $2, $3)")
                .text(&client.id)
                .text(access_digest)
                .int(now),
        )
        .await?;
        tx.commit().await
    }

    async fn registered_client_id(&self, access_digest: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db()
            .optional::<ClientIdRow>(
                q("SELECT client_id FROM client_registrations WHERE access_token_digest = $1").text(access_digest),
            )
            .await?
            .map(|r| r.client_id))
    }
}

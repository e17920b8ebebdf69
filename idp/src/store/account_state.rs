//! Account lifecycle state (issue #4) over the `db` seam: `SqlStore`'s implementation of
//! `AccountStore` (terms, activation, provisional passwords, expiry warnings, one-time tokens).

use async_trait::async_trait;

use super::db::q;
use super::sql::{SqlStore, UserRow, select_users};
use super::{AccountStore, StoreError, UserToken};
use crate::domain::User;

#[derive(sqlx::FromRow)]
struct TokenRow {
    digest: String,
    user_id: String,
    purpose: String,
    created_at: i64,
    expires_at: i64,
    attempts: i64,
}

impl From<TokenRow> for UserToken {
    fn from(r: TokenRow) -> Self {
        Self {
            digest: r.digest,
            user_id: r.user_id,
            purpose: r.purpose,
            created_at: r.created_at,
            expires_at: r.expires_at,
            attempts: r.attempts,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AttemptsRow {
    attempts: i64,
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn accept_terms(&self, user_id: &str, now: i64, version: Option<&str>) -> Result<(), StoreError> {
        let sql = "UPDATE users SET terms_accepted_at = $1, terms_version = $2, updated_at = $1 WHERE id = $3";
        self.db().execute(q(sql).int(now).opt_text(version).text(user_id)).await.map(|_| ())
    }

    async fn mark_activated(&self, user_id: &str, now: i64) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("UPDATE users SET activated_at = $1, updated_at = $1 WHERE id = $2 AND activated_at IS NULL")
                    .int(now)
                    .text(user_id),
            )
            .await
            .map(|_| ())
    }

    async fn set_provisional_password(
        &self,
        user_id: &str,
        hash: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let updated = tx
            .execute(
                q("UPDATE users SET password_hash = $1, must_change_password = TRUE, provisional_expires_at = $2, \
                   sessions_not_before = $3, updated_at = $3 WHERE id = $4")
                .text(hash)
                .int(expires_at)
                .int(now)
                .text(user_id),
            )
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        tx.execute(q("DELETE FROM refresh_tokens WHERE user_id = $1").text(user_id)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn users_due_expiry_warning(
        &self,
        user_type: &str,
        changed_before: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let sql = select_users!(
            "WHERE user_type = $1 AND disabled = FALSE AND must_change_password = FALSE \
             AND COALESCE(password_changed_at, updated_at) < $2 \
             AND (expiry_warned_at IS NULL OR expiry_warned_at < COALESCE(password_changed_at, updated_at)) \
             ORDER BY id LIMIT $3"
        );
        let rows = self.db().all::<UserRow>(q(sql).text(user_type).int(changed_before).int(limit)).await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn mark_expiry_warned(&self, user_id: &str, now: i64) -> Result<bool, StoreError> {
        let marked = self
            .db()
            .execute(
                q("UPDATE users SET expiry_warned_at = $1 WHERE id = $2 \
                   AND (expiry_warned_at IS NULL OR expiry_warned_at < COALESCE(password_changed_at, updated_at))")
                .int(now)
                .text(user_id),
            )
            .await?;
        Ok(marked > 0)
    }

    async fn insert_user_token(&self, t: &UserToken) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        tx.execute(q("DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2").text(&t.user_id).text(&t.purpose))
            .await?;
        tx.execute(
            q("INSERT INTO user_tokens (digest, user_id, purpose, created_at, expires_at, attempts) \
               VALUES ($1, $2, $3, $4, $5, $6)")
            .text(&t.digest)
            .text(&t.user_id)
            .text(&t.purpose)
            .int(t.created_at)
            .int(t.expires_at)
            .int(t.attempts),
        )
        .await?;
        tx.commit().await
    }

    async fn user_token(&self, digest: &str, purpose: &str, now: i64) -> Result<Option<UserToken>, StoreError> {
        let row = self
            .db()
            .optional::<TokenRow>(
                q("SELECT digest, user_id, purpose, created_at, expires_at, attempts FROM user_tokens \
                   WHERE digest = $1 AND purpose = $2 AND expires_at > $3")
                .text(digest)
                .text(purpose)
                .int(now),
            )
            .await?;
        Ok(row.map(UserToken::from))
    }

    async fn user_token_any(&self, digest: &str, purpose: &str) -> Result<Option<UserToken>, StoreError> {
        let row = self
            .db()
            .optional::<TokenRow>(
                q("SELECT digest, user_id, purpose, created_at, expires_at, attempts FROM user_tokens \
                   WHERE digest = $1 AND purpose = $2")
                .text(digest)
                .text(purpose),
            )
            .await?;
        Ok(row.map(UserToken::from))
    }

    async fn take_user_token(&self, digest: &str, purpose: &str, now: i64) -> Result<bool, StoreError> {
        let taken = self
            .db()
            .execute(
                q("DELETE FROM user_tokens WHERE digest = $1 AND purpose = $2 AND expires_at > $3")
                    .text(digest)
                    .text(purpose)
                    .int(now),
            )
            .await?;
        Ok(taken > 0)
    }

    async fn fail_user_token(&self, user_id: &str, purpose: &str, max_attempts: i64) -> Result<i64, StoreError> {
        let mut tx = self.db().begin().await?;
        tx.execute(
            q("UPDATE user_tokens SET attempts = attempts + 1 WHERE user_id = $1 AND purpose = $2")
                .text(user_id)
                .text(purpose),
        )
        .await?;
        let row = tx
            .optional::<AttemptsRow>(
                q("SELECT attempts FROM user_tokens WHERE user_id = $1 AND purpose = $2").text(user_id).text(purpose),
            )
            .await?;
        let left = match row {
            Some(r) if r.attempts < max_attempts => max_attempts - r.attempts,
            Some(_) => {
                tx.execute(
                    q("DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2").text(user_id).text(purpose),
                )
                .await?;
                0
            }
            None => 0,
        };
        tx.commit().await?;
        Ok(left)
    }
}

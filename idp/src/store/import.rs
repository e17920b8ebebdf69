//! Bringing existing users in (issue #12 §3) over the `db` seam: a whole import file in one
//! transaction, so that a failure anywhere writes nothing.

use async_trait::async_trait;

use super::StoreError;
use super::db::q;
use super::sql::{SqlStore, insert_user};
use crate::crypto;
use crate::domain::{AccountStart, NewUser, User};

/// One import: the users and the groups they need.
#[derive(Clone, Debug, Default)]
pub struct ImportBatch {
    pub users: Vec<ImportedUser>,
    /// Groups (id, name) created unless they exist (an existing group keeps its name).
    pub groups: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct ImportedUser {
    pub user: NewUser,
    /// Created disabled (a Keycloak account that was not `enabled`).
    pub disabled: bool,
    /// The ids of its groups: each is in `ImportBatch::groups` or exists already.
    pub groups: Vec<String>,
}

#[async_trait]
pub trait ImportStore {
    /// Creates every user as `create_user` does, the missing groups and the memberships, in one
    /// transaction: nothing is written when one fails (`Conflict` as `create_user`'s). A user
    /// that starts `Ready` (an imported password hash) gets that hash as its first
    /// password-history entry, so the password's age counts from the import. Returns the users
    /// in the order given.
    async fn import_users(&self, batch: &ImportBatch, now: i64) -> Result<Vec<User>, StoreError>;
}

#[async_trait]
impl ImportStore for SqlStore {
    async fn import_users(&self, batch: &ImportBatch, now: i64) -> Result<Vec<User>, StoreError> {
        let mut tx = self.db().begin().await?;
        let mut ids = Vec::with_capacity(batch.users.len());
        for (id, name) in &batch.groups {
            tx.execute(
                q("INSERT INTO groups (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                    .text(id)
                    .text(name)
                    .int(now),
            )
            .await?;
        }
        for imported in &batch.users {
            let (id, user) = (crypto::random_uuid(), &imported.user);
            insert_user(&mut tx, &id, user, now).await?;
            if imported.disabled {
                tx.execute(q("UPDATE users SET disabled = $1 WHERE id = $2").bool(true).text(&id)).await?;
            }
            if user.start == AccountStart::Ready {
                tx.execute(q("UPDATE users SET password_changed_at = $1 WHERE id = $2").int(now).text(&id)).await?;
                tx.execute(
                    q("INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)")
                        .text(&id)
                        .text(&user.password_hash)
                        .int(now),
                )
                .await?;
            }
            for group_id in &imported.groups {
                tx.execute(
                    q("INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) \
                       ON CONFLICT (group_id, user_id) DO NOTHING")
                    .text(group_id)
                    .text(&id)
                    .int(now),
                )
                .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        let mut users = Vec::with_capacity(ids.len());
        for id in &ids {
            users.push(
                super::UserStore::user_by_id(self, id)
                    .await?
                    .ok_or_else(|| StoreError::Database("user vanished after import".into()))?,
            );
        }
        Ok(users)
    }
}

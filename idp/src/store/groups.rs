//! Groups of users (issue #11) over the `db` seam: `SqlStore`'s implementation of `GroupStore`.
//! Memberships go with their group or their user (`ON DELETE CASCADE`).

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{GroupDetail, GroupStore, GroupSummary, StoreError};

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    name: String,
    created_at: i64,
    members: i64,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    login: String,
}

#[derive(sqlx::FromRow)]
struct IdRow {
    group_id: String,
}

#[async_trait]
impl GroupStore for SqlStore {
    async fn create_group(&self, id: &str, name: &str, now: i64) -> Result<(), StoreError> {
        self.db()
            .execute(q("INSERT INTO groups (id, name, created_at) VALUES ($1, $2, $3)").text(id).text(name).int(now))
            .await
            .map(|_| ())
            .map_err(|err| match err {
                StoreError::Conflict(_) => StoreError::Conflict("group"),
                other => other,
            })
    }

    async fn groups(&self) -> Result<Vec<GroupSummary>, StoreError> {
        // COUNT is BIGINT on PostgreSQL and INTEGER (read as i64) on SQLite.
        let rows = self
            .db()
            .all::<SummaryRow>(q("SELECT g.id, g.name, g.created_at, CAST(COUNT(m.user_id) AS BIGINT) AS members \
                 FROM groups g LEFT JOIN group_members m ON m.group_id = g.id \
                 GROUP BY g.id, g.name, g.created_at ORDER BY g.id"))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| GroupSummary { id: r.id, name: r.name, created_at: r.created_at, members: r.members })
            .collect())
    }

    async fn group(&self, id: &str) -> Result<Option<GroupDetail>, StoreError> {
        let Some(group) =
            self.db().optional::<GroupRow>(q("SELECT id, name, created_at FROM groups WHERE id = $1").text(id)).await?
        else {
            return Ok(None);
        };
        let members = self
            .db()
            .all::<LoginRow>(
                q("SELECT u.login FROM group_members m JOIN users u ON u.id = m.user_id \
                   WHERE m.group_id = $1 ORDER BY u.login")
                .text(id),
            )
            .await?;
        Ok(Some(GroupDetail {
            id: group.id,
            name: group.name,
            created_at: group.created_at,
            members: members.into_iter().map(|r| r.login).collect(),
        }))
    }

    async fn add_group_member(&self, group_id: &str, user_id: &str, now: i64) -> Result<bool, StoreError> {
        let added = self
            .db()
            .execute(
                q("INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (group_id, user_id) DO NOTHING")
                .text(group_id)
                .text(user_id)
                .int(now),
            )
            .await?;
        Ok(added > 0)
    }

    async fn remove_group_member(&self, group_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let removed = self
            .db()
            .execute(q("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2").text(group_id).text(user_id))
            .await?;
        Ok(removed > 0)
    }

    async fn groups_of_user(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .db()
            .all::<IdRow>(q("SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id").text(user_id))
            .await?;
        Ok(rows.into_iter().map(|r| r.group_id).collect())
    }
}

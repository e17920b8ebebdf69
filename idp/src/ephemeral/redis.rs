//! Redis ephemeral store: shared by every node. One auto-reconnecting multiplexed connection
//! (`ConnectionManager`), every key under a configurable prefix so several deployments (or
//! test runs) can share a server.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{Ephemeral, EphemeralError};

pub struct RedisEphemeral {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisEphemeral {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, EphemeralError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = client.get_connection_manager().await.map_err(unavailable)?;
        Ok(Self { conn, prefix: prefix.to_owned() })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn unavailable(err: redis::RedisError) -> EphemeralError {
    EphemeralError::Unavailable(err.to_string())
}

fn secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

#[async_trait]
impl Ephemeral for RedisEphemeral {
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        conn.set_ex::<_, _, ()>(self.key(key), value, secs(ttl)).await.map_err(unavailable)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let mut conn = self.conn.clone();
        conn.get(self.key(key)).await.map_err(unavailable)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        // GETDEL (Redis ≥ 6.2) is atomic: single use without read-then-delete.
        let mut conn = self.conn.clone();
        conn.get_del(self.key(key)).await.map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(self.key(key)).await.map_err(unavailable)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError> {
        // INCR then EXPIRE NX in one MULTI: the TTL is set once, when the counter is created.
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let (count,): (i64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(secs(ttl))
            .arg("NX")
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(count)
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        redis::pipe()
            .atomic()
            .sadd(&key, member)
            .ignore()
            .expire(&key, secs(ttl) as i64)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn set_remove(&self, key: &str, member: &str) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        conn.srem::<_, _, ()>(self.key(key), member).await.map_err(unavailable)
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, EphemeralError> {
        let mut conn = self.conn.clone();
        conn.smembers(self.key(key)).await.map_err(unavailable)
    }
}

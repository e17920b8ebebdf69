//! Redis ephemeral store: shared by every node. One auto-reconnecting multiplexed connection
//! (`ConnectionManager`), every key under a configurable prefix so several deployments (or
//! test runs) can share a server.
//!
//! Every command is bounded by `timeout` (issue #10): the connection and response timeouts of the
//! manager, few and short reconnection retries, and a deadline on the whole call (which covers
//! waiting for a reconnection under way). Past it the command fails `Unavailable` (503); the
//! manager reconnects by itself once Redis is back.

use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Ephemeral, EphemeralError};

pub struct RedisEphemeral {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl RedisEphemeral {
    /// Connects with the default bound on every command (tools and tests; the server passes
    /// `redis_timeout_ms` to `connect_with_timeout`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, EphemeralError> {
        Self::connect_with_timeout(url, prefix, Duration::from_millis(1500)).await
    }

    pub async fn connect_with_timeout(url: &str, prefix: &str, timeout: Duration) -> Result<Self, EphemeralError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // The defaults (6 retries, exponential from 100 ms) kept each request ~9 s.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let conn = bounded(timeout, client.get_connection_manager_with_config(config)).await?;
        Ok(Self { conn, prefix: prefix.to_owned(), timeout })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn unavailable(err: redis::RedisError) -> EphemeralError {
    EphemeralError::Unavailable(err.to_string())
}

/// `command`, failing `Unavailable` when it takes longer than `timeout`.
async fn bounded<T>(
    timeout: Duration,
    command: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, EphemeralError> {
    match tokio::time::timeout(timeout, command).await {
        Ok(result) => result.map_err(unavailable),
        Err(_) => Err(EphemeralError::Unavailable(format!("no answer within {} ms", timeout.as_millis()))),
    }
}

fn secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

#[async_trait]
impl Ephemeral for RedisEphemeral {
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        bounded(self.timeout, conn.set_ex::<_, _, ()>(self.key(key), value, secs(ttl))).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let mut conn = self.conn.clone();
        bounded(self.timeout, conn.get(self.key(key))).await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        // GETDEL (Redis ≥ 6.2) is atomic: single use without read-then-delete.
        let mut conn = self.conn.clone();
        bounded(self.timeout, conn.get_del(self.key(key))).await
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        bounded(self.timeout, conn.del::<_, ()>(self.key(key))).await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError> {
        // INCR then EXPIRE NX in one MULTI: the TTL is set once, when the counter is created.
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic().incr(&key, 1).cmd("EXPIRE").arg(&key).arg(secs(ttl)).arg("NX").ignore();
        let (count,): (i64,) = bounded(self.timeout, pipe.query_async(&mut conn)).await?;
        Ok(count)
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic().sadd(&key, member).ignore().expire(&key, secs(ttl) as i64).ignore();
        bounded(self.timeout, pipe.query_async::<()>(&mut conn)).await
    }

    async fn set_remove(&self, key: &str, member: &str) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        bounded(self.timeout, conn.srem::<_, _, ()>(self.key(key), member)).await
    }

    async fn ping(&self) -> Result<(), EphemeralError> {
        let mut conn = self.conn.clone();
        bounded(self.timeout, redis::cmd("PING").query_async::<()>(&mut conn)).await
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, EphemeralError> {
        let mut conn = self.conn.clone();
        bounded(self.timeout, conn.smembers(self.key(key))).await
    }
}

//! Short-lived state behind one narrow trait: authorization codes, pending authorization
//! requests, browser sessions, access tokens, counters. `memory` is the embedded default (one
//! node only); `redis` is for production and for more than one node.
//!
//! Expiry is enforced twice: the backend forgets a key after its TTL (garbage collection), and
//! every record that matters carries its own `expires_at`, checked against the injected clock.

pub mod memory;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum EphemeralError {
    #[error("ephemeral store unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt ephemeral record: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait Ephemeral: Send + Sync {
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), EphemeralError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError>;
    /// Atomic get-and-delete: of two concurrent calls, at most one sees the value (single use).
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError>;
    async fn delete(&self, key: &str) -> Result<(), EphemeralError>;
    /// Atomic increment; the TTL is set when the counter is created.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError>;
    /// A small set of strings (e.g. the sessions of one user); the TTL is refreshed on add.
    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), EphemeralError>;
    async fn set_remove(&self, key: &str, member: &str) -> Result<(), EphemeralError>;
    async fn set_members(&self, key: &str) -> Result<Vec<String>, EphemeralError>;
    /// Whether the backend answers now (`GET /readyz`); the in-process one always does.
    async fn ping(&self) -> Result<(), EphemeralError> {
        Ok(())
    }
}

/// Typed helpers: records are JSON.
pub async fn put_json<T: Serialize + Sync>(
    e: &dyn Ephemeral,
    key: &str,
    value: &T,
    ttl: Duration,
) -> Result<(), EphemeralError> {
    let bytes = serde_json::to_vec(value).map_err(|err| EphemeralError::Corrupt(err.to_string()))?;
    e.put(key, bytes, ttl).await
}

pub async fn get_json<T: DeserializeOwned>(e: &dyn Ephemeral, key: &str) -> Result<Option<T>, EphemeralError> {
    decode(e.get(key).await?)
}

pub async fn take_json<T: DeserializeOwned>(e: &dyn Ephemeral, key: &str) -> Result<Option<T>, EphemeralError> {
    decode(e.take(key).await?)
}

fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> Result<Option<T>, EphemeralError> {
    bytes.map(|b| serde_json::from_slice(&b).map_err(|err| EphemeralError::Corrupt(err.to_string()))).transpose()
}

/// TTL for a record that expires at `expires_at`, never zero (a zero TTL means "forever" or an
/// error depending on the backend).
pub fn ttl_until(expires_at: i64, now: i64) -> Duration {
    Duration::from_secs((expires_at - now).max(1) as u64)
}

//! In-process ephemeral store: the embedded default. One node only: two processes do not share
//! it, so anything beyond a single instance needs Redis.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Ephemeral, EphemeralError};

enum Value {
    Bytes(Vec<u8>),
    Counter(i64),
    Set(BTreeSet<String>),
}

struct Entry {
    value: Value,
    expires: Instant,
}

/// A mutex map with lazy expiry and a periodic sweep on writes: every operation is O(1) except
/// the sweep, amortised over `SWEEP_EVERY` writes.
#[derive(Default)]
pub struct MemoryEphemeral {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    writes: u64,
}

const SWEEP_EVERY: u64 = 1024;

impl MemoryEphemeral {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner, Instant) -> R) -> Result<R, EphemeralError> {
        let mut guard =
            self.inner.lock().map_err(|_| EphemeralError::Unavailable("memory store lock poisoned".into()))?;
        Ok(f(&mut guard, Instant::now()))
    }
}

impl Inner {
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.map.get(key).is_some_and(|e| e.expires <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    fn wrote(&mut self, now: Instant) {
        self.writes += 1;
        if self.writes.is_multiple_of(SWEEP_EVERY) {
            self.map.retain(|_, e| e.expires > now);
        }
    }
}

#[async_trait]
impl Ephemeral for MemoryEphemeral {
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), EphemeralError> {
        self.with(|inner, now| {
            inner.map.insert(key.to_owned(), Entry { value: Value::Bytes(value), expires: now + ttl });
            inner.wrote(now);
        })
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        self.with(|inner, now| match inner.live(key, now) {
            Some(Entry { value: Value::Bytes(b), .. }) => Some(b.clone()),
            _ => None,
        })
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        self.with(|inner, now| {
            inner.live(key, now)?;
            match inner.map.remove(key) {
                Some(Entry { value: Value::Bytes(b), .. }) => Some(b),
                _ => None,
            }
        })
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        self.with(|inner, _| {
            inner.map.remove(key);
        })
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, EphemeralError> {
        self.with(|inner, now| {
            let count = match inner.live(key, now) {
                Some(Entry { value: Value::Counter(c), .. }) => {
                    *c += 1;
                    *c
                }
                _ => {
                    inner.map.insert(key.to_owned(), Entry { value: Value::Counter(1), expires: now + ttl });
                    1
                }
            };
            inner.wrote(now);
            count
        })
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), EphemeralError> {
        self.with(|inner, now| {
            match inner.live(key, now) {
                Some(Entry { value: Value::Set(s), expires }) => {
                    s.insert(member.to_owned());
                    *expires = now + ttl;
                }
                _ => {
                    let set = BTreeSet::from([member.to_owned()]);
                    inner.map.insert(key.to_owned(), Entry { value: Value::Set(set), expires: now + ttl });
                }
            }
            inner.wrote(now);
        })
    }

    async fn set_remove(&self, key: &str, member: &str) -> Result<(), EphemeralError> {
        self.with(|inner, now| {
            if let Some(Entry { value: Value::Set(s), .. }) = inner.live(key, now) {
                s.remove(member);
            }
        })
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, EphemeralError> {
        self.with(|inner, now| match inner.live(key, now) {
            Some(Entry { value: Value::Set(s), .. }) => s.iter().cloned().collect(),
            _ => Vec::new(),
        })
    }
}

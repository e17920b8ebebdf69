//! Per-address cap on sign-ins in flight (issue #10): at most `login_ip_max_in_flight` password
//! verifications from one address (IPv6: one /64, as `lockout` counts) run at once; more wait
//! their turn in arrival order for up to `login_ip_queue_ms`, then are refused ("try again").
//! The hashing pool is first come, first served, so without this cap one address sending many
//! requests at once fills its queue and every other sign-in waits behind them.
//!
//! The cap is per node: the map lives in this process (it is a bound on this node's CPU, not a
//! rate, so sharing it through Redis would buy nothing). An entry exists only while an attempt
//! of its address runs or waits, and the map holds at most `MAX_ADDRESSES` of them; when full,
//! an attempt from a further address is refused like an address over its cap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Addresses with an attempt running or waiting, at most (about 100 bytes each). Reaching it
/// takes that many concurrent sign-ins, far more than the hashing pool serves in a queue wait.
pub const MAX_ADDRESSES: usize = 10_000;

type Slots = Arc<Mutex<HashMap<String, Slot>>>;

struct Slot {
    turns: Arc<Semaphore>,
    /// Attempts holding or waiting for a turn; the entry goes when it falls to zero.
    users: usize,
}

/// The address has too many attempts in flight (or the map is full): refuse without checking.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins in flight from this address")]
pub struct Busy;

pub struct InFlight {
    per_address: usize,
    queue: Duration,
    max_addresses: usize,
    slots: Slots,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight").field("per_address", &self.per_address).finish_non_exhaustive()
    }
}

/// A turn to verify a password; dropping it lets the next attempt of the address in.
#[must_use]
pub struct Turn {
    _permit: Option<OwnedSemaphorePermit>,
    _lease: Option<Lease>,
}

struct Lease {
    slots: Slots,
    key: String,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut slots = lock(&self.slots);
        if let Some(slot) = slots.get_mut(&self.key) {
            slot.users -= 1;
            if slot.users == 0 {
                slots.remove(&self.key);
            }
        }
    }
}

/// The map is only ever left consistent between statements, so a panic elsewhere while it was
/// held does not make it unusable.
fn lock(slots: &Slots) -> MutexGuard<'_, HashMap<String, Slot>> {
    slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl InFlight {
    /// `per_address` 0: no cap.
    pub fn new(per_address: u32, queue: Duration, max_addresses: usize) -> Self {
        Self { per_address: per_address as usize, queue, max_addresses, slots: Slots::default() }
    }

    /// Waits for a turn of `source` (the address as `lockout` counts it; `None`, unknown:
    /// not capped), at most the queue time.
    pub async fn turn(&self, source: Option<&str>) -> Result<Turn, Busy> {
        let Some(source) = source.filter(|_| self.per_address > 0) else {
            return Ok(Turn { _permit: None, _lease: None });
        };
        let turns = {
            let mut slots = lock(&self.slots);
            if !slots.contains_key(source) && slots.len() >= self.max_addresses {
                return Err(Busy);
            }
            let slot = slots
                .entry(source.to_owned())
                .or_insert_with(|| Slot { turns: Arc::new(Semaphore::new(self.per_address)), users: 0 });
            slot.users += 1;
            slot.turns.clone()
        };
        // From here the lease gives the entry back however this ends (turn, timeout, drop).
        let lease = Lease { slots: self.slots.clone(), key: source.to_owned() };
        match tokio::time::timeout(self.queue, turns.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Turn { _permit: Some(permit), _lease: Some(lease) }),
            Ok(Err(_)) | Err(_) => Err(Busy),
        }
    }

    /// Addresses with an attempt running or waiting now.
    pub fn tracked(&self) -> usize {
        lock(&self.slots).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn an_address_gets_at_most_its_cap_of_turns_at_once() {
        let limiter = InFlight::new(2, QUEUE, MAX_ADDRESSES);
        let first = limiter.turn(Some("192.0.2.1")).await.unwrap();
        let _second = limiter.turn(Some("192.0.2.1")).await.unwrap();

        assert_eq!(limiter.turn(Some("192.0.2.1")).await.err(), Some(Busy), "a third attempt at once");
        assert!(limiter.turn(Some("198.51.100.1")).await.is_ok(), "another address is not held up");
        drop(first);
        assert!(limiter.turn(Some("192.0.2.1")).await.is_ok(), "a turn given back is taken again");
    }

    #[tokio::test]
    async fn an_attempt_over_the_cap_waits_for_a_turn() {
        let limiter = Arc::new(InFlight::new(1, Duration::from_secs(5), MAX_ADDRESSES));
        let first = limiter.turn(Some("192.0.2.1")).await.unwrap();
        let waiting = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.turn(Some("192.0.2.1")).await.is_ok() })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the second attempt waits while the first holds the turn");
        drop(first);

        assert!(waiting.await.unwrap(), "the waiting attempt got the turn given back");
    }

    #[tokio::test]
    async fn idle_addresses_leave_the_map() {
        let limiter = InFlight::new(2, QUEUE, MAX_ADDRESSES);
        let held = limiter.turn(Some("192.0.2.1")).await.unwrap();
        let _also = limiter.turn(Some("192.0.2.1")).await.unwrap();
        assert!(limiter.turn(Some("192.0.2.1")).await.is_err(), "timed out in the queue");
        assert_eq!(limiter.tracked(), 1);
        drop(held);
        drop(_also);
        assert_eq!(limiter.tracked(), 0, "no entry is left behind, timed out waiters included");
    }

    #[tokio::test]
    async fn the_map_is_bounded() {
        let limiter = InFlight::new(1, QUEUE, 2);
        let _a = limiter.turn(Some("192.0.2.1")).await.unwrap();
        let _b = limiter.turn(Some("192.0.2.2")).await.unwrap();

        assert_eq!(limiter.turn(Some("192.0.2.3")).await.err(), Some(Busy), "a third address while full");
        assert_eq!(limiter.tracked(), 2);
        drop(_a);
        assert!(limiter.turn(Some("192.0.2.3")).await.is_ok(), "room again once an address is idle");
    }

    #[tokio::test]
    async fn a_zero_cap_or_an_unknown_address_is_not_limited() {
        let off = InFlight::new(0, QUEUE, 1);
        let _turns: Vec<Turn> = vec![off.turn(Some("a")).await.unwrap(), off.turn(Some("b")).await.unwrap()];
        let on = InFlight::new(1, QUEUE, 1);
        let _unknown: Vec<Turn> = vec![on.turn(None).await.unwrap(), on.turn(None).await.unwrap()];
        assert_eq!((off.tracked(), on.tracked()), (0, 0));
    }
}

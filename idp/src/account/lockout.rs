//! Account lockout and per-address throttling (issue #4). After `max_failures` consecutive
//! failures (the user type's `lockout` rule; Bonus Eco: 3) the account is locked for
//! `lock_minutes` (about 20); the owner gets one e-mail when the lock starts. The login page
//! never tells: a refused attempt gets the generic failure and still costs one (dummy) argon2
//! verification, done by the caller.
//!
//! Counters live in the ephemeral store (shared by every node with Redis) and are atomic: each
//! attempt increments the account's counter *before* the password is verified, and an attempt
//! numbered beyond `max_failures` is refused unverified, so parallel guesses cannot exceed the
//! limit. The lock record carries `locked_until` (checked against the injected clock; TTLs only
//! collect garbage) and a `generation` naming the counter of the next series, so the end of a
//! lock or an `unlock` starts a fresh count without a racy reset.
//!
//! The per-address limit counts failures in fixed windows of the injected clock; reaching it
//! blocks that address (IPv6: its /64) until the window ends. It is a coarse guard against one
//! source trying many accounts; attempts already in flight when it trips may still be verified.
//! The sign-in checks it first (`check_address`, issue #10): a blocked address is refused
//! before the account is looked up or any hash is computed, so its answer is the same, and as
//! quick, whatever the account, and a flood from it costs no argon2 work.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::LoginThrottle;
use crate::domain::user_type::LockoutRule;
use crate::domain::{Lang, User};
use crate::ephemeral;
use crate::mail::notify;
use crate::mail::render::AccountLocked;
use crate::services::{InfraError, Services};

/// How long a series of failures is remembered (from its first failure) when it does not reach
/// the limit.
const FAILURE_MEMORY: i64 = 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct LockRecord {
    locked_until: i64,
    generation: String,
}

fn lock_key(user_id: &str) -> String {
    format!("lockout:lock:{user_id}")
}

fn failures_key(user_id: &str, generation: &str) -> String {
    format!("lockout:failures:{user_id}:{generation}")
}

fn ip_failures_key(source: &str, window: i64) -> String {
    format!("throttle:ip:{source}:{window}")
}

fn ip_block_key(source: &str) -> String {
    format!("throttle:ip_block:{source}")
}

/// One sign-in attempt that went through the gate: whether its password may be verified.
#[derive(Debug)]
pub struct Attempt {
    admitted: bool,
    account: Option<AccountAttempt>,
    source: Option<String>,
}

#[derive(Debug)]
struct AccountAttempt {
    user_id: String,
    rule: LockoutRule,
    failures_key: String,
    /// This attempt's number in the current series (1 = the first).
    number: i64,
}

impl Attempt {
    /// False: refuse without verifying the password (verify a dummy hash instead).
    pub fn is_admitted(&self) -> bool {
        self.admitted
    }
}

/// An address that passed the per-address gate.
#[derive(Debug)]
pub struct OpenAddress {
    source: Option<String>,
}

impl OpenAddress {
    /// The address as the per-address rules count it (IPv6: its /64); `None` when unknown.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }
}

#[derive(Debug)]
pub enum AddressGate {
    Open(OpenAddress),
    /// Too many failures from this address in the current window: refuse, checking nothing.
    Blocked,
}

/// The address the per-address limit counts: the IP, or the /64 of an IPv6 address.
pub(crate) fn source_of(ip: &str) -> Option<String> {
    match ip.parse::<IpAddr>().ok()?.to_canonical() {
        IpAddr::V4(v4) => Some(v4.to_string()),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

fn rule_of(s: &Services, user: &User) -> LockoutRule {
    s.user_types.of(&user.user_type).lockout
}

/// Is this address blocked by the per-address limit?
pub async fn check_address(s: &Services, ip: &str) -> Result<AddressGate, InfraError> {
    let source = source_of(ip);
    if let Some(source) = &source
        && let Some(until) = ephemeral::get_json::<i64>(s.ephemeral.as_ref(), &ip_block_key(source)).await?
        && s.now() < until
    {
        tracing::warn!(ip = %ip, until, "sign-in refused: too many failures from this address");
        return Ok(AddressGate::Blocked);
    }
    Ok(AddressGate::Open(OpenAddress { source }))
}

/// Before verifying a password: is this attempt allowed to be evaluated? A blocked address gets
/// a refused attempt (the caller verifies the dummy hash); `login` calls `check_address` first
/// and refuses without any verification instead.
pub async fn begin(s: &Services, user: Option<&User>, ip: &str) -> Result<Attempt, InfraError> {
    match check_address(s, ip).await? {
        AddressGate::Blocked => Ok(Attempt { admitted: false, account: None, source: source_of(ip) }),
        AddressGate::Open(address) => begin_at(s, user, address).await,
    }
}

/// `begin` for an address that passed `check_address`.
pub async fn begin_at(s: &Services, user: Option<&User>, address: OpenAddress) -> Result<Attempt, InfraError> {
    let now = s.now();
    let source = address.source;
    let Some(user) = user else {
        return Ok(Attempt { admitted: true, account: None, source });
    };
    let rule = rule_of(s, user);
    if rule.max_failures == 0 {
        return Ok(Attempt { admitted: true, account: None, source });
    }
    let lock = ephemeral::get_json::<LockRecord>(s.ephemeral.as_ref(), &lock_key(&user.id)).await?;
    if let Some(lock) = &lock
        && now < lock.locked_until
    {
        tracing::info!(user_id = %user.id, locked_until = lock.locked_until, "sign-in refused: account locked");
        return Ok(Attempt { admitted: false, account: None, source });
    }
    let generation = lock.map(|l| l.generation).unwrap_or_else(|| "0".into());
    let failures_key = failures_key(&user.id, &generation);
    let number = s.ephemeral.incr(&failures_key, Duration::from_secs(FAILURE_MEMORY as u64)).await?;
    let admitted = number <= i64::from(rule.max_failures);
    if !admitted {
        // Another attempt of this series reached the limit and is locking the account.
        tracing::info!(user_id = %user.id, attempt = number, "sign-in refused: account locked");
    }
    Ok(Attempt {
        admitted,
        account: Some(AccountAttempt { user_id: user.id.clone(), rule, failures_key, number }),
        source,
    })
}

/// After the verification (or the refusal): count the failure, lock and warn the owner when
/// this failure reaches the limit (in `lang`, the sign-in page's language), or reset the series
/// after a success.
pub async fn finish(
    s: &Services,
    attempt: Attempt,
    user: Option<&User>,
    succeeded: bool,
    lang: Option<Lang>,
) -> Result<(), InfraError> {
    if succeeded {
        if let Some(account) = &attempt.account {
            s.ephemeral.delete(&account.failures_key).await?;
        }
        return Ok(());
    }
    if let Some(source) = &attempt.source {
        count_address_failure(s, source).await?;
    }
    if !attempt.admitted {
        return Ok(()); // refused unverified; `begin` logged why
    }
    let Some(account) = attempt.account else {
        match user {
            Some(user) => tracing::info!(user_id = %user.id, "sign-in failed (no lockout for this user type)"),
            None => tracing::info!("sign-in failed: unknown account"),
        }
        return Ok(());
    };
    tracing::info!(user_id = %account.user_id, failures = account.number, "sign-in failed");
    if account.number != i64::from(account.rule.max_failures) {
        return Ok(());
    }
    // Exactly one attempt gets the number `max_failures`: it starts the lock, once.
    let now = s.now();
    let lock_secs = i64::from(account.rule.lock_minutes) * 60;
    let record = LockRecord { locked_until: now + lock_secs, generation: crate::crypto::random_token(12) };
    let ttl = Duration::from_secs((lock_secs + FAILURE_MEMORY + 3600) as u64);
    ephemeral::put_json(s.ephemeral.as_ref(), &lock_key(&account.user_id), &record, ttl).await?;
    // The mirror an administrator's search filters by (migration 0013); the lock is the record.
    s.store.set_locked_until(&account.user_id, Some(record.locked_until)).await?;
    tracing::warn!(user_id = %account.user_id, locked_until = record.locked_until, "account locked after too many failures");
    // Issue #12: the dashboard counts lockouts; where from is in the `sign_in_failed` before.
    let system = crate::session::ClientInfo { user_agent: "-".into(), ip: "-".into(), lang: None };
    let detail = serde_json::json!({ "locked_until": record.locked_until });
    super::audit::record(s, Some(&account.user_id), super::audit::ACCOUNT_LOCKED, &system, detail).await?;
    if let Some(user) = user {
        send_lock_mail(s, user, record.locked_until, lang).await;
    }
    Ok(())
}

async fn count_address_failure(s: &Services, source: &str) -> Result<(), InfraError> {
    let LoginThrottle { ip_max_failures, ip_window, .. } = s.login_throttle;
    if ip_max_failures == 0 {
        return Ok(());
    }
    let window = s.now().div_euclid(ip_window);
    let ttl = Duration::from_secs(ip_window as u64 + 60);
    let failures = s.ephemeral.incr(&ip_failures_key(source, window), ttl).await?;
    if failures == i64::from(ip_max_failures) {
        let until = (window + 1) * ip_window;
        ephemeral::put_json(s.ephemeral.as_ref(), &ip_block_key(source), &until, ttl).await?;
        tracing::warn!(ip = %source, failures, until, "address throttled after too many failed sign-ins");
    }
    Ok(())
}

/// The lock e-mail: "locked until HH:MM; not you? reset your password".
async fn send_lock_mail(s: &Services, user: &User, locked_until: i64, lang: Option<Lang>) {
    let context = AccountLocked {
        name: user.display_name(),
        until: locked_until,
        // Issue #5 builds the recovery pages behind this link.
        reset_url: s.endpoint("/recovery/password"),
    };
    notify::send(s, user, lang, "account_locked", &context).await;
}

/// Lifts a lock and forgets the failures, e.g. after a successful password recovery (issue #5).
pub async fn unlock(s: &Services, user_id: &str) -> Result<(), InfraError> {
    let record = LockRecord { locked_until: 0, generation: crate::crypto::random_token(12) };
    let ttl = Duration::from_secs((FAILURE_MEMORY + 3600) as u64);
    ephemeral::put_json(s.ephemeral.as_ref(), &lock_key(user_id), &record, ttl).await?;
    s.store.set_locked_until(user_id, None).await?;
    tracing::info!(user_id = %user_id, "account unlocked");
    Ok(())
}

/// Whether the account is locked now (for the account pages and the tests).
pub async fn is_locked(s: &Services, user_id: &str) -> Result<bool, InfraError> {
    let lock = ephemeral::get_json::<LockRecord>(s.ephemeral.as_ref(), &lock_key(user_id)).await?;
    Ok(lock.is_some_and(|l| s.now() < l.locked_until))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_are_counted_by_their_64_prefix() {
        assert_eq!(source_of("2001:db8:1:2:3:4:5:6").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(source_of("192.0.2.7").as_deref(), Some("192.0.2.7"));
        assert_eq!(source_of(""), None);
        assert_eq!(source_of("::ffff:192.0.2.7").as_deref(), Some("192.0.2.7"), "IPv4-mapped: its IPv4 address");
    }
}

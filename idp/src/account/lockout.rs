//! Account lockout and per-address throttling (issue #4). After `max_failures` consecutive
//! failures (the user type's `lockout` rule; Bonus Eco: 3) the account is locked for
//! `lock_minutes` (about 20); the owner gets one e-mail when the lock starts. A refused attempt
//! gets the generic failure and still costs one (dummy) argon2 verification, done by the caller.
//!
//! What the login page may tell (issue #13, decision 0020) is decided without the account: a
//! second series counts the failures of the *typed identifier* (its PRECIS form, decision
//! 0014), whether or not an account has it, under the rule of the page (`page_lockout`: the
//! type the client preselects, else the default type). When that series reaches its
//! `max_failures`, the identifier is "locked" for `lock_minutes` and a page that tells
//! (`tell_locked`) says so, with the time left. For an account whose type has the page's rule
//! the two series run in step, so the message is true; for an unknown identifier it is the
//! same message, caused by whoever failed it.
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

use crate::config::{LockoutSettings, LoginThrottle};
use crate::domain::client::ClientSettings;
use crate::domain::user_type::{LockoutRule, UserTypes};
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

fn identifier_lock_key(digest: &str) -> String {
    format!("lockout:identifier_lock:{digest}")
}

fn identifier_failures_key(digest: &str, generation: &str) -> String {
    format!("lockout:identifier_failures:{digest}:{generation}")
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

/// What a login page knows without the account (issue #13): the rule its typed identifiers are
/// counted by, and whether it tells that one is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLockout {
    pub rule: LockoutRule,
    pub tell: bool,
}

/// The lockout of the login page of a client (`None`: no client's settings). The rule is that
/// of the user type the client preselects (`recovery_user_type`), else of the default type;
/// whether it tells is, first found: the client's `tell_locked`, the preselected type's
/// `[user_types.lockout] tell_locked`, the installation's `[lockout] tell_locked`.
pub fn page_lockout(s: &Services, client: Option<&ClientSettings>) -> PageLockout {
    PageLockout::resolve(s.lockout, &s.user_types, client)
}

impl PageLockout {
    /// The pure part of `page_lockout`, testable from the settings alone.
    pub fn resolve(installation: LockoutSettings, types: &UserTypes, client: Option<&ClientSettings>) -> Self {
        let preselected = client.and_then(|c| c.recovery_user_type.as_deref()).and_then(|id| types.get(id));
        let rule = preselected.unwrap_or_else(|| types.default_type()).lockout;
        let tell = client
            .and_then(|c| c.tell_locked)
            .or_else(|| preselected.and_then(|t| t.lockout.tell_locked))
            .unwrap_or(installation.tell_locked);
        PageLockout { rule, tell: tell && rule.locks() }
    }
}

/// The failures of one typed identifier, read before the verification (`identifier_begin`) and
/// counted after it (`identifier_finish`).
#[derive(Debug)]
pub struct IdentifierSeries {
    /// `None`: the page's rule does not lock, nothing is counted.
    digest: Option<String>,
    rule: LockoutRule,
    /// Set when the identifier's lock is running: the attempt is not counted.
    locked_until: Option<i64>,
    generation: String,
}

/// The identifier's series under `rule`: keyed by the SHA-256 of its PRECIS form (decision
/// 0014; what the profile refuses, by its trimmed lower-case text), never by an account.
pub async fn identifier_begin(s: &Services, typed: &str, rule: LockoutRule) -> Result<IdentifierSeries, InfraError> {
    let normalised = super::recovery::normalize_identifier(typed);
    if !rule.locks() || normalised.is_empty() {
        return Ok(IdentifierSeries { digest: None, rule, locked_until: None, generation: String::new() });
    }
    let digest = crate::crypto::digest(&normalised);
    let lock = ephemeral::get_json::<LockRecord>(s.ephemeral.as_ref(), &identifier_lock_key(&digest)).await?;
    let now = s.now();
    let locked_until = lock.as_ref().map(|l| l.locked_until).filter(|until| now < *until);
    let generation = lock.map(|l| l.generation).unwrap_or_else(|| "0".into());
    Ok(IdentifierSeries { digest: Some(digest), rule, locked_until, generation })
}

/// After the attempt: a success forgets the series; a failure counts, and the one that
/// reaches `max_failures` starts the identifier's lock. Returns when the identifier's lock
/// ends, if one is running (started by this failure or before).
pub async fn identifier_finish(
    s: &Services,
    series: IdentifierSeries,
    succeeded: bool,
) -> Result<Option<i64>, InfraError> {
    let Some(digest) = &series.digest else { return Ok(None) };
    let failures_key = identifier_failures_key(digest, &series.generation);
    if succeeded {
        if series.locked_until.is_some() {
            // The right password of an account whose own lock is over (or lifted by a
            // recovery): the identifier's lock ends too, and a fresh series starts.
            let record = LockRecord { locked_until: 0, generation: crate::crypto::random_token(12) };
            let ttl = Duration::from_secs((FAILURE_MEMORY + 3600) as u64);
            ephemeral::put_json(s.ephemeral.as_ref(), &identifier_lock_key(digest), &record, ttl).await?;
        } else {
            s.ephemeral.delete(&failures_key).await?;
        }
        return Ok(None);
    }
    if series.locked_until.is_some() {
        return Ok(series.locked_until); // not counted while the lock runs, as for accounts
    }
    let number = s.ephemeral.incr(&failures_key, Duration::from_secs(FAILURE_MEMORY as u64)).await?;
    let max = i64::from(series.rule.max_failures);
    if number < max {
        return Ok(None);
    }
    let lock_secs = i64::from(series.rule.lock_minutes) * 60;
    let locked_until = s.now() + lock_secs;
    if number == max {
        // Exactly one failure gets the number `max_failures`; concurrent ones beyond it see
        // the lock it starts.
        let record = LockRecord { locked_until, generation: crate::crypto::random_token(12) };
        let ttl = Duration::from_secs((lock_secs + FAILURE_MEMORY + 3600) as u64);
        ephemeral::put_json(s.ephemeral.as_ref(), &identifier_lock_key(digest), &record, ttl).await?;
    }
    Ok(Some(locked_until))
}

/// Whole minutes left until `until` (rounded up, at least 1), for "Réessayez dans {n} minutes".
pub fn minutes_left(until: i64, now: i64) -> i64 {
    ((until - now).max(1) + 59) / 60
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
    fn the_lock_message_is_off_by_default_and_resolved_client_then_preselected_type_then_installation() {
        let seed = crate::config::Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[])
            .unwrap();
        let client = |preselect: Option<&str>, tell: Option<bool>| ClientSettings {
            recovery_user_type: preselect.map(str::to_owned),
            tell_locked: tell,
            ..ClientSettings::default()
        };
        let resolve = |c: &crate::config::Config, settings: Option<&ClientSettings>| {
            PageLockout::resolve(c.lockout, &c.user_types, settings)
        };

        let bonus = resolve(&seed, Some(&client(Some("bonus_eco"), None)));
        assert!(bonus.tell, "a client preselecting Bonus Eco tells");
        assert_eq!((bonus.rule.max_failures, bonus.rule.lock_minutes), (3, 20), "by Bonus Eco's rule");
        assert!(!resolve(&seed, Some(&client(Some("bonus_eco"), Some(false)))).tell, "the client's own setting wins");
        assert!(!resolve(&seed, Some(&client(Some("elu"), None))).tell, "another type: the installation's (off)");
        assert!(!resolve(&seed, Some(&client(None, None))).tell, "no preselected type: the installation's");
        assert!(!resolve(&seed, None).tell);
        assert!(resolve(&seed, Some(&client(None, Some(true)))).tell, "a client may turn it on alone");
        assert!(
            !resolve(&seed, Some(&client(Some("no_such_type"), None))).tell,
            "an undeclared type is no preselection"
        );

        let on = crate::config::Config::from_sources("[lockout]\ntell_locked = true\n", &[]).unwrap();
        assert!(on.lockout.tell_locked);
        assert!(resolve(&on, None).tell, "the installation turns it on everywhere");
        assert!(!crate::config::Config::from_sources("", &[]).unwrap().lockout.tell_locked, "off by default");
        assert!(
            crate::config::Config::from_sources("[lockout]\ntell = true\n", &[]).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn a_type_cannot_tell_of_a_lock_it_never_sets() {
        let never_locks = "[[user_types]]\nid = \"x\"\nlabel = { fr = \"x\", en = \"x\" }\n\
                           [user_types.lockout]\nmax_failures = 0\ntell_locked = true\n";
        let err = crate::config::Config::from_sources(never_locks, &[]).unwrap_err().to_string();
        assert!(err.contains("tell_locked") && err.contains("max_failures"), "{err}");
        let on = crate::config::Config::from_sources(
            "[lockout]\ntell_locked = true\n[[user_types]]\nid = \"x\"\nlabel = { fr = \"x\", en = \"x\" }\n\
             [user_types.lockout]\nmax_failures = 0\n",
            &[],
        )
        .unwrap();
        let page = PageLockout::resolve(on.lockout, &on.user_types, None);
        assert!(!page.tell, "an installation whose page rule never locks has nothing to tell");
    }

    #[test]
    fn the_minutes_left_are_rounded_up() {
        assert_eq!(minutes_left(1200, 0), 20);
        assert_eq!(minutes_left(1200, 1), 20);
        assert_eq!(minutes_left(1200, 1140), 1);
        assert_eq!(minutes_left(1200, 1199), 1);
        assert_eq!(minutes_left(1200, 1200), 1, "never 0 minutes");
    }

    #[test]
    fn ipv6_addresses_are_counted_by_their_64_prefix() {
        assert_eq!(source_of("2001:db8:1:2:3:4:5:6").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(source_of("192.0.2.7").as_deref(), Some("192.0.2.7"));
        assert_eq!(source_of(""), None);
        assert_eq!(source_of("::ffff:192.0.2.7").as_deref(), Some("192.0.2.7"), "IPv4-mapped: its IPv4 address");
    }
}

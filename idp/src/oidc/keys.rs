//! The signing key set and its life cycle (issue #3). Each algorithm has keys in three states:
//!
//! - `next`: published in the JWKS, not signing yet, so relying parties (and the other nodes)
//!   know it before the first token it signs;
//! - `active`: signs ID tokens, JWT access tokens and logout tokens;
//! - `retired`: published, still verifying, until every token it may have signed has expired
//!   (`retired_at` + the longest signed-token lifetime + one reload interval, for nodes that
//!   signed with it before they saw the rotation), then dropped from the JWKS and the store.
//!
//! `idp keys rotate` promotes the next key, retires the active one and creates a new next key,
//! in one transaction. Every node reloads the set from the store every `RELOAD_INTERVAL`
//! seconds (`Keys::reload`, driven by a task in `app.rs`), so a rotation reaches all of them.
//! Key material is stored sealed under the master key (`crate::master_key`); keys stored in
//! clear by earlier versions are sealed at start.

use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

use super::jws::{JwsError, KeyMaterial, SigningKey, verify_jwt};
use crate::config::Lifetimes;
use crate::domain::SigningAlg;
use crate::domain::client::MAX_CLIENT_TOKEN_TTL;
use crate::master_key::{MasterKey, is_sealed};
use crate::store::{KeyStore, StoreError, StoredKey};

/// How often every node reloads the key set from the store, in seconds.
pub const RELOAD_INTERVAL: i64 = 30;
/// `Cache-Control: max-age` of the JWKS (`web::handlers::discovery`), in seconds.
pub const JWKS_MAX_AGE: i64 = 300;
/// How long a next key must have been published before `rotate` promotes it (without
/// `--force`): every node has reloaded and every JWKS cached before it was published expired.
pub const MIN_PUBLISHED_BEFORE_SIGNING: i64 = JWKS_MAX_AGE + RELOAD_INTERVAL;
/// Allowed clock difference between us and the relying parties that check `exp`.
const CLOCK_SKEW: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {kid}: {source}")]
    Key { kid: String, source: JwsError },
    #[error(
        "signing key {kid} cannot be decrypted with this master key: start with the master key the keys were stored with (master_key / IDP_MASTER_KEY, or master.key in the data directory)"
    )]
    Decrypt { kid: String },
    #[error("there is no next {alg} key to promote; start the server once to create it")]
    NoNextKey { alg: SigningAlg },
    #[error(
        "the next {alg} key {kid} has been published for {published_for} s only; relying parties may not know it yet. Wait {wait} s, or pass --force"
    )]
    TooSoon { alg: SigningAlg, kid: String, published_for: i64, wait: i64 },
    #[error("another rotation of the {alg} keys happened at the same time; run it again")]
    Concurrent { alg: SigningAlg },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Active,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "next" => Some(KeyState::Next),
            "active" => Some(KeyState::Active),
            "retired" => Some(KeyState::Retired),
            _ => None,
        }
    }
}

/// What `idp keys list` shows of a key; no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    /// When a retired key leaves the JWKS.
    pub published_until: Option<i64>,
}

struct Entry {
    key: Arc<SigningKey>,
    info: KeyInfo,
}

/// One loaded snapshot of the keys: immutable, swapped whole by `Keys::reload`.
pub struct KeySet {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|e| &e.info)).finish()
    }
}

impl KeySet {
    /// Opens the stored keys; retired keys past `retention` are left out.
    fn open(stored: Vec<StoredKey>, master: &MasterKey, retention: i64, now: i64) -> Result<Self, KeyError> {
        let mut entries = Vec::new();
        for k in stored {
            let corrupt = || KeyError::Key { kid: k.kid.clone(), source: JwsError::InvalidKey };
            let alg: SigningAlg = k.alg.parse().map_err(|_| corrupt())?;
            let state = KeyState::parse(&k.state).ok_or_else(corrupt)?;
            let published_until = match (state, k.retired_at) {
                (KeyState::Retired, Some(at)) => Some(at + retention),
                (KeyState::Retired, None) => Some(k.created_at + retention),
                _ => None,
            };
            if published_until.is_some_and(|until| until <= now) {
                continue;
            }
            let material = open_material(master, &k, alg)?;
            let key =
                SigningKey { kid: k.kid.clone(), alg, material, created_at: k.created_at, retired_at: k.retired_at };
            let info = KeyInfo {
                kid: k.kid,
                alg,
                state,
                created_at: k.created_at,
                activated_at: k.activated_at,
                retired_at: k.retired_at,
                published_until,
            };
            entries.push(Entry { key: Arc::new(key), info });
        }
        Ok(Self { entries })
    }

    /// The key that signs for `alg`: the most recently activated active key (two can exist for
    /// a moment when nodes start together; every node picks the same one).
    pub fn active(&self, alg: SigningAlg) -> Option<Arc<SigningKey>> {
        self.entries
            .iter()
            .filter(|e| e.info.alg == alg && e.info.state == KeyState::Active)
            .max_by(|a, b| {
                (a.info.activated_at, a.info.created_at, &a.info.kid).cmp(&(
                    b.info.activated_at,
                    b.info.created_at,
                    &b.info.kid,
                ))
            })
            .map(|e| e.key.clone())
    }

    /// RFC 7517 §5: the public keys, for `jwks_uri`: next, active and retired ones still in use.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.entries.iter().map(|e| e.key.public_jwk()).collect::<Vec<_>>() })
    }

    /// Verifies against every published key: a token signed by a key that this node still
    /// sees as `next` comes from a node that has already seen the rotation.
    pub fn verify(&self, token: &str) -> Result<Value, JwsError> {
        verify_jwt(self.entries.iter().map(|e| e.key.as_ref()), token)
    }

    pub fn list(&self) -> Vec<KeyInfo> {
        self.entries.iter().map(|e| e.info.clone()).collect()
    }
}

fn aad(kid: &str, alg: &str) -> Vec<u8> {
    format!("{kid}|{alg}").into_bytes()
}

fn open_material(master: &MasterKey, k: &StoredKey, alg: SigningAlg) -> Result<KeyMaterial, KeyError> {
    let exported = if is_sealed(&k.secret) {
        let plain =
            master.open(&k.secret, &aad(&k.kid, &k.alg)).map_err(|_| KeyError::Decrypt { kid: k.kid.clone() })?;
        String::from_utf8(plain).map_err(|_| KeyError::Decrypt { kid: k.kid.clone() })?
    } else {
        k.secret.clone()
    };
    KeyMaterial::import(alg, &exported).map_err(|source| KeyError::Key { kid: k.kid.clone(), source })
}

/// A new key of `alg` in `state`, sealed for storage.
fn new_stored_key(master: &MasterKey, alg: SigningAlg, state: KeyState, now: i64) -> Result<StoredKey, KeyError> {
    let kid = format!("{}-{}", alg.as_str().to_lowercase(), crate::crypto::random_token(9));
    let material = KeyMaterial::generate(alg).map_err(|source| KeyError::Key { kid: kid.clone(), source })?;
    let exported = material.export().map_err(|source| KeyError::Key { kid: kid.clone(), source })?;
    let secret = master
        .seal(exported.as_bytes(), &aad(&kid, alg.as_str()))
        .map_err(|_| KeyError::Key { kid: kid.clone(), source: JwsError::InvalidKey })?;
    Ok(StoredKey {
        kid,
        alg: alg.as_str().to_owned(),
        secret,
        state: state.as_str().to_owned(),
        created_at: now,
        activated_at: (state == KeyState::Active).then_some(now),
        retired_at: None,
    })
}

/// How long a retired key stays published: the longest lifetime of a token it may have signed
/// (ID tokens and JWT access tokens, server-wide or per client), plus one reload interval and
/// the clock skew relying parties allow.
pub fn retention(lifetimes: &Lifetimes) -> i64 {
    lifetimes.id_token.max(lifetimes.access_token).max(MAX_CLIENT_TOKEN_TTL) + RELOAD_INTERVAL + CLOCK_SKEW
}

/// The outcome of a rotation of one algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub alg: SigningAlg,
    /// The former next key, now signing.
    pub activated: String,
    /// The new next key, published from now on.
    pub next: String,
}

/// The key set every flow uses, reloadable in place (no global state: it lives in `Services`).
pub struct Keys {
    current: RwLock<Arc<KeySet>>,
    master: MasterKey,
    retention: i64,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("current", &self.current()).finish_non_exhaustive()
    }
}

impl Keys {
    /// At start: seals keys stored in clear, makes sure every algorithm has an active and a
    /// next key, drops retired keys nobody needs any more, and loads the set. A key that does
    /// not open with `master` stops the start.
    pub async fn start(
        store: &(dyn KeyStore + Send + Sync),
        master: MasterKey,
        lifetimes: &Lifetimes,
        now: i64,
    ) -> Result<Self, KeyError> {
        let retention = retention(lifetimes);
        store.purge_retired_keys(now - retention).await?;
        let stored = store.signing_keys().await?;
        for k in &stored {
            let alg: SigningAlg =
                k.alg.parse().map_err(|_| KeyError::Key { kid: k.kid.clone(), source: JwsError::InvalidKey })?;
            // Checks every key opens before anything is written.
            open_material(&master, k, alg)?;
        }
        for k in stored.iter().filter(|k| !is_sealed(&k.secret)) {
            let sealed = master
                .seal(k.secret.as_bytes(), &aad(&k.kid, &k.alg))
                .map_err(|_| KeyError::Key { kid: k.kid.clone(), source: JwsError::InvalidKey })?;
            if store.reseal_signing_key(&k.kid, &k.secret, &sealed).await? {
                tracing::info!(kid = %k.kid, "signing key stored in clear by an earlier version is now encrypted");
            }
        }
        for alg in SigningAlg::ALL {
            for state in [KeyState::Active, KeyState::Next] {
                if !stored.iter().any(|k| k.alg == alg.as_str() && k.state == state.as_str()) {
                    store.insert_signing_key(&new_stored_key(&master, alg, state, now)?).await?;
                }
            }
        }
        let set = KeySet::open(store.signing_keys().await?, &master, retention, now)?;
        Ok(Self { current: RwLock::new(Arc::new(set)), master, retention })
    }

    /// Reads the keys again (every node, periodically; tests call it directly). On failure the
    /// previous set stays in use.
    pub async fn reload(&self, store: &(dyn KeyStore + Send + Sync), now: i64) -> Result<(), KeyError> {
        let set = KeySet::open(store.signing_keys().await?, &self.master, self.retention, now)?;
        match self.current.write() {
            Ok(mut current) => *current = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
        Ok(())
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key that signs for `alg` now.
    pub fn active(&self, alg: SigningAlg) -> Option<Arc<SigningKey>> {
        self.current().active(alg)
    }

    pub fn jwks(&self) -> Value {
        self.current().jwks()
    }

    pub fn verify(&self, token: &str) -> Result<Value, JwsError> {
        self.current().verify(token)
    }

    pub fn list(&self) -> Vec<KeyInfo> {
        self.current().list()
    }

    /// Promotes the next key of `alg`, retires its active key and publishes a new next key;
    /// drops retired keys past their retention; then reloads. Refuses a next key published for
    /// less than `MIN_PUBLISHED_BEFORE_SIGNING` unless `force`.
    pub async fn rotate(
        &self,
        store: &(dyn KeyStore + Send + Sync),
        alg: SigningAlg,
        now: i64,
        force: bool,
    ) -> Result<Rotation, KeyError> {
        let stored = store.signing_keys().await?;
        let next = stored
            .iter()
            .filter(|k| k.alg == alg.as_str() && k.state == KeyState::Next.as_str())
            .min_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)))
            .ok_or(KeyError::NoNextKey { alg })?;
        let published_for = now - next.created_at;
        if !force && published_for < MIN_PUBLISHED_BEFORE_SIGNING {
            return Err(KeyError::TooSoon {
                alg,
                kid: next.kid.clone(),
                published_for,
                wait: MIN_PUBLISHED_BEFORE_SIGNING - published_for,
            });
        }
        let new_next = new_stored_key(&self.master, alg, KeyState::Next, now)?;
        if !store.rotate_signing_key(alg.as_str(), &next.kid, &new_next, now).await? {
            return Err(KeyError::Concurrent { alg });
        }
        store.purge_retired_keys(now - self.retention).await?;
        self.reload(store, now).await?;
        Ok(Rotation { alg, activated: next.kid.clone(), next: new_next.kid })
    }
}

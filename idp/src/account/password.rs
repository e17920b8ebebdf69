//! One recipe for password hashing (STYLE.md §9): argon2id with configurable parameters (OWASP
//! defaults), run on tokio's blocking pool behind a semaphore so that a burst of logins cannot
//! starve the runtime or exhaust memory (each hash holds `m_cost` KiB). An unknown user is
//! verified against a dummy hash so timing does not reveal which accounts exist. Hashes imported
//! from another system (bcrypt, PBKDF2, {SSHA}…: `legacy_hash`) verify too, until the first
//! successful sign-in replaces them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::legacy_hash::LegacyHash;
use crate::config::Argon2Params;
use crate::domain::Secret;
use crate::services::InfraError;

#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    dummy_hash: String,
    params: Argon2Params,
    /// Verifications started (dummy ones included), for the tests and the bench.
    verifications: Arc<AtomicU64>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// `parallelism` bounds concurrent hashes (default: the number of cores).
    pub fn new(params: Argon2Params, parallelism: usize) -> Result<Self, InfraError> {
        let p = Params::new(params.m_cost, params.t_cost, params.p_cost, None)
            .map_err(|e| InfraError::Hashing(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let dummy_hash = argon
            .hash_password(crate::crypto::random_token(16).as_bytes())
            .map_err(|e| InfraError::Hashing(e.to_string()))?
            .to_string();
        Ok(Self {
            argon,
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            dummy_hash,
            params,
            verifications: Arc::default(),
        })
    }

    pub async fn hash(&self, password: &Secret) -> Result<String, InfraError> {
        let argon = self.argon.clone();
        let password = password.clone();
        self.blocking(move || {
            argon
                .hash_password(password.expose().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| InfraError::Hashing(e.to_string()))
        })
        .await?
    }

    /// True when `password` matches `hash`. With `None` (no such user) the dummy hash is
    /// verified instead and the answer is false, in about the same time.
    pub async fn verify(&self, password: &Secret, hash: Option<&str>) -> Result<bool, InfraError> {
        let argon = self.argon.clone();
        let password = password.clone();
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matched = self
            .blocking(move || {
                let password = password.expose().as_bytes();
                if hash.starts_with("$argon2") {
                    // Any argon2 variant and parameters: the crate reads them from the string.
                    argon.verify_password(password, hash.as_str()).is_ok()
                } else {
                    // A hash imported from another system (issue #12); after a success it is
                    // replaced by the configured recipe (`needs_rehash`). Its cost is not the
                    // dummy's: the dummy hides which logins exist, not how they were imported.
                    LegacyHash::parse(&hash).is_ok_and(|legacy| legacy.verify(password))
                }
            })
            .await?;
        Ok(known && matched)
    }

    /// How many verifications this hasher has started (real and dummy).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// True when `hash` was not made with the configured recipe (another algorithm, version or
    /// cost): after a successful login the password is hashed again (issue #4).
    pub fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(parsed) = argon2::PasswordHash::new(hash) else {
            return true;
        };
        let same_recipe = parsed.algorithm.as_str() == "argon2id"
            && parsed.version.is_some_and(|v| v == Version::V0x13 as u32)
            && Params::try_from(&parsed).is_ok_and(|p| {
                (p.m_cost(), p.t_cost(), p.p_cost()) == (self.params.m_cost, self.params.t_cost, self.params.p_cost)
            });
        !same_recipe
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, InfraError> {
        let _permit = self.permits.acquire().await.map_err(|e| InfraError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(f).await.map_err(|e| InfraError::Hashing(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(Argon2Params { m_cost: 1024, t_cost: 1, p_cost: 1 }, 2).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = hasher();
        let hash = h.hash(&Secret::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(h.verify(&Secret::new("correct horse"), Some(&hash)).await.unwrap());
        assert!(!h.verify(&Secret::new("wrong horse"), Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_with_other_costs_needs_a_rehash() {
        let old = PasswordHasher::new(Argon2Params { m_cost: 512, t_cost: 1, p_cost: 1 }, 1).unwrap();
        let hash = old.hash(&Secret::new("correct horse")).await.unwrap();
        assert!(hasher().needs_rehash(&hash));
        assert!(!old.needs_rehash(&hash));
        assert!(hasher().needs_rehash("$2b$12$not-argon2"));
    }

    #[tokio::test]
    async fn every_verification_is_counted_dummy_ones_included() {
        let h = hasher();
        h.verify(&Secret::new("anything"), None).await.unwrap();
        h.verify(&Secret::new("anything"), Some("$argon2id$garbage")).await.unwrap();
        assert_eq!(h.verifications(), 2);
    }

    #[tokio::test]
    async fn imported_hashes_verify_and_then_need_a_rehash() {
        let h = hasher();
        for (name, stored) in crate::account::legacy_hash::tests::VECTORS {
            assert!(h.verify(&Secret::new("Tr0ub4dor&3"), Some(stored)).await.unwrap(), "{name}");
            assert!(!h.verify(&Secret::new("Tr0ub4dor&4"), Some(stored)).await.unwrap(), "{name}");
            assert!(h.needs_rehash(stored), "{name}");
        }
        assert!(!h.verify(&Secret::new("Tr0ub4dor&3"), Some(crate::domain::UNUSABLE_PASSWORD_HASH)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!hasher().verify(&Secret::new("anything"), None).await.unwrap());
    }
}

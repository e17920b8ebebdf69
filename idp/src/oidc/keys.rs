//! The signing key set: loaded from the store at start, one active key per algorithm, made on
//! first start when missing. Rotation (`idp keys rotate`) and encryption at rest come with
//! issue #3; until then keys are stored in the clear in the database (see README).

use serde_json::{Value, json};

use super::jws::{JwsError, KeyMaterial, SigningKey, verify_jwt};
use crate::domain::SigningAlg;
use crate::store::{KeyStore, StoreError, StoredKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {kid}: {source}")]
    Key { kid: String, source: JwsError },
}

#[derive(Debug)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// Loads the stored keys, generating (and storing) one per algorithm that has none.
    pub async fn load_or_generate(store: &dyn KeyStore, now: i64) -> Result<Self, KeyError> {
        let mut stored = store.signing_keys().await?;
        for alg in SigningAlg::ALL {
            if !stored.iter().any(|k| k.alg == alg.as_str() && k.retired_at.is_none()) {
                let material =
                    KeyMaterial::generate(alg).map_err(|source| KeyError::Key { kid: "new".into(), source })?;
                let key = StoredKey {
                    kid: format!("{}-{}", alg.as_str().to_lowercase(), crate::crypto::random_token(9)),
                    alg: alg.as_str().to_owned(),
                    secret: material.export().map_err(|source| KeyError::Key { kid: "new".into(), source })?,
                    created_at: now,
                    retired_at: None,
                };
                store.insert_signing_key(&key).await?;
                stored.push(key);
            }
        }
        let keys = stored
            .into_iter()
            .map(|k| {
                let alg: SigningAlg =
                    k.alg.parse().map_err(|_| KeyError::Key { kid: k.kid.clone(), source: JwsError::InvalidKey })?;
                let material = KeyMaterial::import(alg, &k.secret)
                    .map_err(|source| KeyError::Key { kid: k.kid.clone(), source })?;
                Ok(SigningKey { kid: k.kid, alg, material, created_at: k.created_at, retired_at: k.retired_at })
            })
            .collect::<Result<Vec<_>, KeyError>>()?;
        Ok(Self { keys })
    }

    /// The newest non-retired key for `alg`.
    pub fn active(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.keys.iter().filter(|k| k.alg == alg && k.retired_at.is_none()).max_by_key(|k| k.created_at)
    }

    /// RFC 7517 §5: the public keys, for `jwks_uri`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>() })
    }

    pub fn verify(&self, token: &str) -> Result<Value, JwsError> {
        verify_jwt(&self.keys, token)
    }
}

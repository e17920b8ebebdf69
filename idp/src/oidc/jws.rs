//! Signing keys and compact JWS (RFC 7515) for ID tokens: RS256 (RFC 7518 §3.3, mandatory in
//! OpenID Connect), ES256 (§3.4) and EdDSA over Ed25519 (RFC 8037). Keys are generated here and
//! stored by `oidc::keys`; the public halves are published as a JWKS (RFC 7517) with `kid`,
//! `use` and `alg`, never private parts.

use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::crypto::{b64url, b64url_decode, random_bytes};
use crate::domain::SigningAlg;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("signing failed")]
    Signing,
    #[error("invalid key material")]
    InvalidKey,
}

pub enum KeyMaterial {
    Rsa(Box<RsaPrivateKey>),
    Es256(Box<p256::ecdsa::SigningKey>),
    EdDsa(Box<ed25519_dalek::SigningKey>),
}

pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub material: KeyMaterial,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// A fresh key: RSA-2048 (NIST SP 800-57: adequate to 2030), P-256, Ed25519.
    pub fn generate(alg: SigningAlg) -> Result<Self, JwsError> {
        Ok(match alg {
            SigningAlg::RS256 => {
                let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|_| JwsError::InvalidKey)?;
                KeyMaterial::Rsa(Box::new(key))
            }
            SigningAlg::ES256 => loop {
                // A random 32-byte string is a valid scalar except with negligible probability.
                if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&random_bytes(32)) {
                    break KeyMaterial::Es256(Box::new(key));
                }
            },
            SigningAlg::EdDSA => {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&random_bytes(32));
                KeyMaterial::EdDsa(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
        })
    }

    /// Base64url of PKCS#1 DER (RSA) or of the 32-byte secret (P-256 scalar, Ed25519 seed).
    pub fn export(&self) -> Result<String, JwsError> {
        Ok(match self {
            KeyMaterial::Rsa(k) => b64url(k.to_pkcs1_der().map_err(|_| JwsError::InvalidKey)?.as_bytes()),
            KeyMaterial::Es256(k) => b64url(&k.to_bytes()),
            KeyMaterial::EdDsa(k) => b64url(k.as_bytes()),
        })
    }

    pub fn import(alg: SigningAlg, secret: &str) -> Result<Self, JwsError> {
        let bytes = b64url_decode(secret).ok_or(JwsError::InvalidKey)?;
        Ok(match alg {
            SigningAlg::RS256 => {
                KeyMaterial::Rsa(Box::new(RsaPrivateKey::from_pkcs1_der(&bytes).map_err(|_| JwsError::InvalidKey)?))
            }
            SigningAlg::ES256 => KeyMaterial::Es256(Box::new(
                p256::ecdsa::SigningKey::from_slice(&bytes).map_err(|_| JwsError::InvalidKey)?,
            )),
            SigningAlg::EdDSA => {
                let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| JwsError::InvalidKey)?;
                KeyMaterial::EdDsa(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
        })
    }
}

impl SigningKey {
    fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, JwsError> {
        match &self.material {
            KeyMaterial::Rsa(k) => k
                .sign_with_rng(&mut rand::rngs::OsRng, Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                .map_err(|_| JwsError::Signing),
            KeyMaterial::Es256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(message);
                Ok(sig.to_bytes().to_vec())
            }
            KeyMaterial::EdDsa(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(message).to_bytes().to_vec())
            }
        }
    }

    fn verify_bytes(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            KeyMaterial::Rsa(k) => RsaPublicKey::from(k.as_ref())
                .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature)
                .is_ok(),
            KeyMaterial::Es256(k) => {
                use p256::ecdsa::signature::Verifier;
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| k.verifying_key().verify(message, &sig).is_ok())
            }
            KeyMaterial::EdDsa(k) => {
                use ed25519_dalek::Verifier;
                ed25519_dalek::Signature::from_slice(signature)
                    .is_ok_and(|sig| k.verifying_key().verify(message, &sig).is_ok())
            }
        }
    }

    /// The public JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &self.material {
            KeyMaterial::Rsa(k) => {
                json!({"kty": "RSA", "n": b64url(&k.n().to_bytes_be()), "e": b64url(&k.e().to_bytes_be())})
            }
            KeyMaterial::Es256(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                json!({
                    "kty": "EC", "crv": "P-256",
                    "x": point.x().map(|x| b64url(x)).unwrap_or_default(),
                    "y": point.y().map(|y| b64url(y)).unwrap_or_default(),
                })
            }
            KeyMaterial::EdDsa(k) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(k.verifying_key().as_bytes())}),
        };
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(self.alg.as_str());
        jwk
    }

    /// Compact JWS of `claims`, with `kid` in the header.
    pub fn sign_jwt<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, JwsError> {
        let header = json!({"alg": self.alg.as_str(), "typ": typ, "kid": self.kid});
        let payload = serde_json::to_vec(claims).map_err(|_| JwsError::Signing)?;
        let header = serde_json::to_vec(&header).map_err(|_| JwsError::Signing)?;
        let input = format!("{}.{}", b64url(&header), b64url(&payload));
        let signature = self.sign_bytes(input.as_bytes())?;
        Ok(format!("{input}.{}", b64url(&signature)))
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Verifies a compact JWS against `keys` (by `kid`, and the header `alg` must be the key's: no
/// `none`, no algorithm confusion) and returns its claims. Expiry is the caller's business.
pub fn verify_jwt<'k>(keys: impl IntoIterator<Item = &'k SigningKey>, token: &str) -> Result<Value, JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError::Malformed);
    };
    let header: Header =
        serde_json::from_slice(&b64url_decode(h).ok_or(JwsError::Malformed)?).map_err(|_| JwsError::Malformed)?;
    let key = keys
        .into_iter()
        .find(|k| Some(&k.kid) == header.kid.as_ref() && k.alg.as_str() == header.alg)
        .ok_or(JwsError::UnknownKey)?;
    let signature = b64url_decode(s).ok_or(JwsError::Malformed)?;
    if !key.verify_bytes(format!("{h}.{p}").as_bytes(), &signature) {
        return Err(JwsError::BadSignature);
    }
    serde_json::from_slice(&b64url_decode(p).ok_or(JwsError::Malformed)?).map_err(|_| JwsError::Malformed)
}

/// `at_hash` / `c_hash` (OpenID Connect Core §3.1.3.6): the left half of the hash that goes
/// with the JWS algorithm, base64url. Ed25519 uses SHA-512 (as the OpenID Foundation's
/// conformance suite and the `openidconnect` crate do).
pub fn left_half_hash(alg: SigningAlg, value: &str) -> String {
    let full: Vec<u8> = match alg {
        SigningAlg::RS256 | SigningAlg::ES256 => Sha256::digest(value.as_bytes()).to_vec(),
        SigningAlg::EdDSA => Sha512::digest(value.as_bytes()).to_vec(),
    };
    b64url(&full[..full.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: SigningAlg) -> SigningKey {
        SigningKey {
            kid: format!("k-{alg}"),
            alg,
            material: KeyMaterial::generate(alg).unwrap(),
            created_at: 0,
            retired_at: None,
        }
    }

    #[test]
    fn every_algorithm_signs_and_verifies_and_survives_export() {
        for alg in SigningAlg::ALL {
            let k = key(alg);
            let token = k.sign_jwt("JWT", &json!({"sub": "alice"})).unwrap();
            assert_eq!(verify_jwt(std::slice::from_ref(&k), &token).unwrap()["sub"], "alice");
            let reimported =
                SigningKey { material: KeyMaterial::import(alg, &k.material.export().unwrap()).unwrap(), ..key(alg) };
            assert_eq!(verify_jwt(&[reimported], &token).unwrap()["sub"], "alice", "{alg}");
        }
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let k = key(SigningAlg::ES256);
        let token = k.sign_jwt("JWT", &json!({"sub": "alice"})).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64url(br#"{"sub":"mallory"}"#);
        parts[1] = &forged;
        assert_eq!(verify_jwt(&[k], &parts.join(".")), Err(JwsError::BadSignature));
    }

    #[test]
    fn alg_none_is_refused() {
        let k = key(SigningAlg::EdDSA);
        let header = b64url(format!(r#"{{"alg":"none","kid":"{}"}}"#, k.kid).as_bytes());
        let token = format!("{header}.{}.", b64url(b"{}"));
        assert_eq!(verify_jwt(&[k], &token), Err(JwsError::UnknownKey));
    }

    #[test]
    fn jwks_entries_carry_kid_use_alg_and_no_private_part() {
        for alg in SigningAlg::ALL {
            let jwk = key(alg).public_jwk();
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["alg"], alg.as_str());
            assert!(jwk.get("d").is_none() && jwk.get("p").is_none());
        }
    }

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OpenID Connect Core, Appendix A.3: access token and its at_hash for RS256.
        assert_eq!(
            left_half_hash(SigningAlg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}

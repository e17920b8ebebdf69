//! Other parties' public keys, read from a JWK Set (RFC 7517), and verification of compact JWS
//! with them: today the keys of `private_key_jwt` clients (RFC 7523). The algorithms are the
//! ones this server signs with (`jws.rs`): RS256 (RFC 7518 §3.3), ES256 (§3.4) and EdDSA over
//! Ed25519 (RFC 8037). Our own signing keys stay in `jws.rs`; nothing here holds a private key.
//!
//! The header's `alg` must be one of those three (no `none`, no HMAC: a client secret is not a
//! verification key) and must fit the key's type and, when the JWK names one, its `alg`.

use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::crypto::b64url_decode;
use crate::domain::SigningAlg;

/// RSA keys shorter than this are refused (RFC 7518 §3.3: "2048 bits or larger MUST be used").
const MIN_RSA_BITS: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("malformed JWS")]
    Malformed,
    #[error("malformed JWK Set")]
    MalformedSet,
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    #[error("no key with this kid")]
    UnknownKey,
    #[error("the key does not fit the algorithm")]
    KeyMismatch,
    #[error("bad signature")]
    BadSignature,
}

#[derive(Clone, Debug)]
enum PublicKey {
    Rsa(Box<RsaPublicKey>),
    Es256(Box<p256::ecdsa::VerifyingKey>),
    Ed25519(Box<ed25519_dalek::VerifyingKey>),
}

/// One usable signature key of a JWK Set.
#[derive(Clone, Debug)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The `alg` the JWK declares, if any (RFC 7517 §4.4).
    declared_alg: Option<String>,
    key: PublicKey,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

fn bytes(field: Option<&String>) -> Option<Vec<u8>> {
    b64url_decode(field?)
}

impl Jwk {
    /// One JWK; `None` when it is not a signature key of a supported type or is malformed.
    pub fn parse(value: &Value) -> Option<Self> {
        let raw: RawJwk = serde_json::from_value(value.clone()).ok()?;
        if raw.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let key = match (raw.kty.as_str(), raw.crv.as_deref()) {
            ("RSA", _) => {
                let n = BigUint::from_bytes_be(&bytes(raw.n.as_ref())?);
                let e = BigUint::from_bytes_be(&bytes(raw.e.as_ref())?);
                let key = RsaPublicKey::new(n, e).ok()?;
                if key.size() * 8 < MIN_RSA_BITS {
                    return None;
                }
                PublicKey::Rsa(Box::new(key))
            }
            ("EC", Some("P-256")) => {
                let (x, y) = (bytes(raw.x.as_ref())?, bytes(raw.y.as_ref())?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                // SEC 1 §2.3.3: an uncompressed point is 0x04 || x || y; parsing checks it is on the curve.
                let point = [&[0x04], x.as_slice(), y.as_slice()].concat();
                PublicKey::Es256(Box::new(p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?))
            }
            ("OKP", Some("Ed25519")) => {
                let x: [u8; 32] = bytes(raw.x.as_ref())?.try_into().ok()?;
                PublicKey::Ed25519(Box::new(ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?))
            }
            _ => return None,
        };
        Some(Self { kid: raw.kid, declared_alg: raw.alg, key })
    }

    /// The JWS algorithm this key verifies.
    pub fn alg(&self) -> SigningAlg {
        match self.key {
            PublicKey::Rsa(_) => SigningAlg::RS256,
            PublicKey::Es256(_) => SigningAlg::ES256,
            PublicKey::Ed25519(_) => SigningAlg::EdDSA,
        }
    }

    fn fits(&self, alg: SigningAlg) -> bool {
        self.alg() == alg && self.declared_alg.as_deref().is_none_or(|declared| declared == alg.as_str())
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            PublicKey::Rsa(k) => k.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature).is_ok(),
            PublicKey::Es256(k) => {
                use p256::ecdsa::signature::Verifier;
                p256::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| k.verify(message, &sig).is_ok())
            }
            PublicKey::Ed25519(k) => {
                ed25519_dalek::Signature::from_slice(signature).is_ok_and(|sig| k.verify_strict(message, &sig).is_ok())
            }
        }
    }
}

/// The usable signature keys of a JWK Set document (`{"keys": [...]}`). Keys of other types or
/// uses are skipped, so a set that also holds encryption keys still works.
pub fn parse_set(document: &Value) -> Result<Vec<Jwk>, JwkError> {
    let keys = document.get("keys").and_then(Value::as_array).ok_or(JwkError::MalformedSet)?;
    Ok(keys.iter().filter_map(Jwk::parse).collect())
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    crit: Option<Value>,
}

/// The `kid` of a compact JWS header, unverified (to decide whether to refetch keys).
pub fn header_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    serde_json::from_slice::<Header>(&b64url_decode(header)?).ok()?.kid
}

/// Verifies a compact JWS (RFC 7515 §7.1) with one of `keys` and returns its payload as JSON.
/// With a `kid` only that key is tried; without one, every key that fits the algorithm.
pub fn verify(keys: &[Jwk], token: &str) -> Result<Value, JwkError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwkError::Malformed);
    };
    let header: Header =
        serde_json::from_slice(&b64url_decode(h).ok_or(JwkError::Malformed)?).map_err(|_| JwkError::Malformed)?;
    // RFC 7515 §4.1.11: extensions we do not understand make the JWS invalid.
    if header.crit.is_some() {
        return Err(JwkError::Malformed);
    }
    let alg: SigningAlg = header.alg.parse().map_err(|_| JwkError::AlgorithmNotAllowed)?;
    let named: Vec<&Jwk> = match &header.kid {
        Some(kid) => keys.iter().filter(|k| k.kid.as_ref() == Some(kid)).collect(),
        None => keys.iter().collect(),
    };
    if named.is_empty() {
        return Err(JwkError::UnknownKey);
    }
    let candidates: Vec<&Jwk> = named.into_iter().filter(|k| k.fits(alg)).collect();
    if candidates.is_empty() {
        return Err(JwkError::KeyMismatch);
    }
    let signature = b64url_decode(s).ok_or(JwkError::Malformed)?;
    let input = format!("{h}.{p}");
    if !candidates.iter().any(|k| k.verifies(input.as_bytes(), &signature)) {
        return Err(JwkError::BadSignature);
    }
    serde_json::from_slice(&b64url_decode(p).ok_or(JwkError::Malformed)?).map_err(|_| JwkError::Malformed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crypto::b64url;
    use crate::oidc::jws::{KeyMaterial, SigningKey};

    fn key(alg: SigningAlg, kid: &str) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            alg,
            material: KeyMaterial::generate(alg).unwrap(),
            created_at: 0,
            retired_at: None,
        }
    }

    fn set_of(keys: &[&SigningKey]) -> Vec<Jwk> {
        parse_set(&json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()})).unwrap()
    }

    fn forged(header: Value, payload: Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes()),
            b64url(signature)
        )
    }

    #[test]
    fn every_supported_algorithm_verifies_with_the_public_jwk() {
        for alg in SigningAlg::ALL {
            let k = key(alg, "k1");
            let token = k.sign_jwt("JWT", &json!({"sub": "batch"})).unwrap();
            assert_eq!(verify(&set_of(&[&k]), &token).unwrap()["sub"], "batch", "{alg}");
        }
    }

    #[test]
    fn another_key_of_the_same_kid_does_not_verify() {
        let signer = key(SigningAlg::ES256, "k1");
        let other = key(SigningAlg::ES256, "k1");
        let token = signer.sign_jwt("JWT", &json!({})).unwrap();
        assert_eq!(verify(&set_of(&[&other]), &token), Err(JwkError::BadSignature));
    }

    #[test]
    fn an_unknown_kid_is_reported_as_such() {
        let k = key(SigningAlg::EdDSA, "k1");
        let token = key(SigningAlg::EdDSA, "k2").sign_jwt("JWT", &json!({})).unwrap();
        assert_eq!(verify(&set_of(&[&k]), &token), Err(JwkError::UnknownKey));
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let k = key(SigningAlg::RS256, "k1");
        let none = forged(json!({"alg": "none", "kid": "k1"}), json!({}), b"");
        let hmac = forged(json!({"alg": "HS256", "kid": "k1"}), json!({}), &[0; 32]);
        assert_eq!(verify(&set_of(&[&k]), &none), Err(JwkError::AlgorithmNotAllowed));
        assert_eq!(verify(&set_of(&[&k]), &hmac), Err(JwkError::AlgorithmNotAllowed));
    }

    #[test]
    fn the_header_alg_must_fit_the_key() {
        // An RSA key named in an ES256 header: algorithm confusion, refused before verifying.
        let k = key(SigningAlg::RS256, "k1");
        let token = forged(json!({"alg": "ES256", "kid": "k1"}), json!({}), &[0; 64]);
        assert_eq!(verify(&set_of(&[&k]), &token), Err(JwkError::KeyMismatch));
    }

    #[test]
    fn critical_extensions_are_refused() {
        let k = key(SigningAlg::ES256, "k1");
        let token = forged(json!({"alg": "ES256", "kid": "k1", "crit": ["exp"]}), json!({}), &[0; 64]);
        assert_eq!(verify(&set_of(&[&k]), &token), Err(JwkError::Malformed));
    }

    #[test]
    fn encryption_keys_and_unknown_types_are_skipped() {
        let mut enc = key(SigningAlg::RS256, "enc").public_jwk();
        enc["use"] = json!("enc");
        let set =
            json!({"keys": [enc, {"kty": "oct", "k": "c2VjcmV0"}, {"kty": "EC", "crv": "P-384", "x": "", "y": ""}]});
        assert!(parse_set(&set).unwrap().is_empty());
        assert_eq!(parse_set(&json!({"nokeys": []})).unwrap_err(), JwkError::MalformedSet);
    }

    #[test]
    fn short_rsa_keys_are_skipped() {
        let small = RsaPublicKey::new(BigUint::from_bytes_be(&[0xff; 128]), BigUint::from(65537u32)).unwrap();
        let jwk = json!({"kty": "RSA", "n": b64url(&small.n().to_bytes_be()), "e": "AQAB"});
        assert!(Jwk::parse(&jwk).is_none());
    }
}

//! Password hashes brought from another system (issue #12 §3): parsed when a file is imported
//! (an unknown or malformed hash refuses the file), verified at sign-in, then replaced by the
//! current argon2id hash (`password_age::after_sign_in`, the transparent rehash).
//!
//! They are kept as they came, in `users.password_hash`: every format carries its own prefix,
//! so no column (and no migration) is needed to tell them apart, and none of them can be taken
//! for another or for `UNUSABLE_PASSWORD_HASH`:
//! - argon2 (`$argon2i$`, `$argon2d$`, `$argon2id$` PHC strings, any parameters) and bcrypt
//!   (`$2a$`, `$2b$`, `$2y$`), as is;
//! - Django's `pbkdf2_sha256$iterations$salt$hash` (and `pbkdf2_sha512`, `pbkdf2_sha1`), as
//!   is: the salt is text, used as its bytes; Django's `argon2$argon2id$…` and `bcrypt$$2b$…`
//!   (the PHC or bcrypt string after the tag) and `bcrypt_sha256$$2b$…` (bcrypt of the hex
//!   SHA-256 of the password, Django's way past bcrypt's 72 bytes), as is;
//! - OpenLDAP's `{SSHA}`, `{SSHA256}`, `{SSHA512}` (base64 of digest(password ‖ salt) ‖ salt),
//!   as is;
//! - Keycloak's credentials (`secretData` {value, salt}, `credentialData` {hashIterations,
//!   algorithm}) normalised by `from_keycloak` to `{KEYCLOAK}<algorithm>$<iterations>$<salt
//!   base64>$<value base64>` (PBKDF2 with HMAC-SHA256, -SHA512 or -SHA1); Keycloak's argon2
//!   credentials become the equivalent PHC string.
//!
//! The primitives are the RustCrypto and bcrypt crates'; what is composed here is only each
//! scheme's own layout. Comparisons are constant-time (`subtle`).

use argon2::password_hash::PasswordVerifier as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use pbkdf2::sha2::{Digest as _, Sha256, Sha512};
use subtle::ConstantTimeEq as _;

/// Most PBKDF2 iterations accepted: above, one sign-in could hold a core for seconds.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Highest bcrypt cost accepted (2^20 rounds, about a minute); the crate allows 31 (days).
pub const MAX_BCRYPT_COST: u32 = 20;
/// Most argon2 memory (KiB, 1 GiB) and passes accepted: each verification holds that memory.
pub const MAX_ARGON2_M_COST: u32 = 1 << 20;
pub const MAX_ARGON2_T_COST: u32 = 64;

const KEYCLOAK_TAG: &str = "{KEYCLOAK}";

/// Why an imported hash is refused (a per-row import error).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LegacyHashError {
    #[error(
        "unknown password hash format (expected bcrypt $2a$/$2b$/$2y$, argon2 $argon2…$, Django's \
         pbkdf2_sha256$/pbkdf2_sha512$/pbkdf2_sha1$/argon2$/bcrypt$/bcrypt_sha256$, {{SSHA}}, {{SSHA256}} \
         or {{SSHA512}})"
    )]
    Unknown,
    #[error("malformed {0} hash: {1}")]
    Malformed(&'static str, String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

/// A stored hash, parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum LegacyHash<'a> {
    /// A PHC string (argon2i, argon2d or argon2id; any version and parameters).
    Argon2(&'a str),
    /// `sha256_first`: Django's `bcrypt_sha256`, bcrypt of the hex SHA-256 of the password.
    Bcrypt {
        hash: &'a str,
        sha256_first: bool,
    },
    Pbkdf2 {
        prf: Prf,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// OpenLDAP's salted digests: `prf` names the digest (no HMAC here).
    SaltedDigest {
        digest: Prf,
        hash: Vec<u8>,
        salt: Vec<u8>,
    },
}

impl<'a> LegacyHash<'a> {
    /// Parses a stored hash; every field is checked, so that a hash accepted at import time
    /// can be verified at sign-in.
    pub fn parse(stored: &'a str) -> Result<LegacyHash<'a>, LegacyHashError> {
        let stored = stored.trim();
        // Django's tags in front of a PHC or bcrypt string.
        if let Some(phc) = stored.strip_prefix("argon2").filter(|rest| rest.starts_with("$argon2")) {
            return LegacyHash::parse(phc);
        }
        if let Some(bcrypt) = stored.strip_prefix("bcrypt$").filter(|rest| rest.starts_with("$2")) {
            return LegacyHash::parse(bcrypt);
        }
        if let Some(bcrypt) = stored.strip_prefix("bcrypt_sha256$").filter(|rest| rest.starts_with("$2")) {
            return match LegacyHash::parse(bcrypt)? {
                LegacyHash::Bcrypt { hash, .. } => Ok(LegacyHash::Bcrypt { hash, sha256_first: true }),
                _ => Err(malformed("bcrypt_sha256", "not a bcrypt hash")),
            };
        }
        if stored.starts_with("$argon2") {
            let parsed = argon2::PasswordHash::new(stored).map_err(|e| malformed("argon2", e))?;
            argon2::Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| malformed("argon2", e))?;
            let params = argon2::Params::try_from(&parsed).map_err(|e| malformed("argon2", e))?;
            if params.m_cost() > MAX_ARGON2_M_COST || params.t_cost() > MAX_ARGON2_T_COST {
                return Err(malformed("argon2", format!("at most m={MAX_ARGON2_M_COST}, t={MAX_ARGON2_T_COST}")));
            }
            if parsed.hash.is_none() {
                return Err(malformed("argon2", "no hash"));
            }
            return Ok(LegacyHash::Argon2(stored));
        }
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| stored.starts_with(p)) {
            let parts: bcrypt::HashParts = stored.parse().map_err(|e| malformed("bcrypt", e))?;
            if !(4..=MAX_BCRYPT_COST).contains(&parts.get_cost()) {
                return Err(malformed("bcrypt", format!("the cost must be 4 to {MAX_BCRYPT_COST}")));
            }
            return Ok(LegacyHash::Bcrypt { hash: stored, sha256_first: false });
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
            return django(Prf::Sha256, rest);
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2_sha512$") {
            return django(Prf::Sha512, rest);
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2_sha1$") {
            return django(Prf::Sha1, rest);
        }
        if let Some(rest) = stored.strip_prefix(KEYCLOAK_TAG) {
            return keycloak(rest);
        }
        for (prefix, digest, len) in
            [("{SSHA}", Prf::Sha1, 20), ("{SSHA256}", Prf::Sha256, 32), ("{SSHA512}", Prf::Sha512, 64)]
        {
            if let Some(rest) = strip_prefix_ignore_case(stored, prefix) {
                let bytes = STANDARD.decode(rest).map_err(|e| malformed("{SSHA}", e))?;
                if bytes.len() <= len {
                    return Err(malformed("{SSHA}", "no salt after the digest"));
                }
                let (hash, salt) = bytes.split_at(len);
                return Ok(LegacyHash::SaltedDigest { digest, hash: hash.to_vec(), salt: salt.to_vec() });
            }
        }
        Err(LegacyHashError::Unknown)
    }

    /// True when `password` matches. Blocking work (call it on the hashing pool).
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            // The crate takes the algorithm, version and parameters from the string itself.
            LegacyHash::Argon2(phc) => argon2::PasswordHash::new(phc)
                .is_ok_and(|h| argon2::Argon2::default().verify_password(password, &h).is_ok()),
            LegacyHash::Bcrypt { hash, sha256_first: false } => bcrypt::verify(password, hash).unwrap_or(false),
            LegacyHash::Bcrypt { hash, sha256_first: true } => {
                let digest = Sha256::digest(password);
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                bcrypt::verify(hex.as_bytes(), hash).unwrap_or(false)
            }
            LegacyHash::Pbkdf2 { prf, iterations, salt, hash } => {
                let mut out = vec![0u8; hash.len()];
                match prf {
                    Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, *iterations, &mut out),
                    Prf::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *iterations, &mut out),
                    Prf::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut out),
                }
                out.ct_eq(hash).into()
            }
            LegacyHash::SaltedDigest { digest, hash, salt } => {
                let computed = match digest {
                    Prf::Sha1 => sha1::Sha1::new().chain_update(password).chain_update(salt).finalize().to_vec(),
                    Prf::Sha256 => Sha256::new().chain_update(password).chain_update(salt).finalize().to_vec(),
                    Prf::Sha512 => Sha512::new().chain_update(password).chain_update(salt).finalize().to_vec(),
                };
                computed.ct_eq(hash).into()
            }
        }
    }
}

/// A Keycloak password credential (`secretData` and `credentialData`, the JSON strings of a
/// realm export) as the string stored in `password_hash`.
pub fn from_keycloak(secret_data: &str, credential_data: &str) -> Result<String, LegacyHashError> {
    #[derive(serde::Deserialize)]
    struct SecretData {
        value: String,
        #[serde(default)]
        salt: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CredentialData {
        hash_iterations: u32,
        algorithm: String,
        #[serde(default)]
        additional_parameters: std::collections::HashMap<String, Vec<String>>,
    }
    let secret: SecretData = serde_json::from_str(secret_data).map_err(|e| malformed("Keycloak", e))?;
    let data: CredentialData = serde_json::from_str(credential_data).map_err(|e| malformed("Keycloak", e))?;
    let stored = match data.algorithm.as_str() {
        "pbkdf2-sha256" | "pbkdf2-sha512" | "pbkdf2" => {
            format!("{KEYCLOAK_TAG}{}${}${}${}", data.algorithm, data.hash_iterations, secret.salt, secret.value)
        }
        // Keycloak ≥ 24: the same parameters as a PHC string, which the argon2 crate verifies.
        "argon2" => {
            let param = |name: &str, default: &str| {
                data.additional_parameters.get(name).and_then(|v| v.first()).cloned().unwrap_or_else(|| default.into())
            };
            let version = match param("version", "1.3").as_str() {
                "1.3" => 19,
                "1.0" => 16,
                other => return Err(malformed("Keycloak argon2", format!("version {other:?}"))),
            };
            let reencode = |b64: &str| STANDARD.decode(b64).map(|raw| STANDARD_NO_PAD.encode(raw));
            let salt = reencode(&secret.salt).map_err(|e| malformed("Keycloak argon2", e))?;
            let value = reencode(&secret.value).map_err(|e| malformed("Keycloak argon2", e))?;
            format!(
                "$argon2{}$v={version}$m={},t={},p={}${salt}${value}",
                param("type", "id"),
                param("memory", "7168"),
                data.hash_iterations,
                param("parallelism", "1"),
            )
        }
        other => return Err(malformed("Keycloak", format!("unsupported algorithm {other:?}"))),
    };
    LegacyHash::parse(&stored)?;
    Ok(stored)
}

fn django(prf: Prf, rest: &str) -> Result<LegacyHash<'static>, LegacyHashError> {
    let name = match prf {
        Prf::Sha1 => "pbkdf2_sha1",
        Prf::Sha256 => "pbkdf2_sha256",
        Prf::Sha512 => "pbkdf2_sha512",
    };
    let mut parts = rest.split('$');
    let (Some(iterations), Some(salt), Some(hash), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(name, "expected iterations$salt$hash"));
    };
    let iterations = iterations_of(name, iterations)?;
    if salt.is_empty() {
        return Err(malformed(name, "empty salt"));
    }
    let hash = STANDARD.decode(hash).map_err(|e| malformed(name, e))?;
    if hash.is_empty() {
        return Err(malformed(name, "empty hash"));
    }
    Ok(LegacyHash::Pbkdf2 { prf, iterations, salt: salt.as_bytes().to_vec(), hash })
}

fn keycloak(rest: &str) -> Result<LegacyHash<'static>, LegacyHashError> {
    let name = "Keycloak";
    let mut parts = rest.split('$');
    let (Some(algorithm), Some(iterations), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(name, "expected algorithm$iterations$salt$value"));
    };
    let prf = match algorithm {
        "pbkdf2-sha256" => Prf::Sha256,
        "pbkdf2-sha512" => Prf::Sha512,
        "pbkdf2" => Prf::Sha1,
        other => return Err(malformed(name, format!("unsupported algorithm {other:?}"))),
    };
    let iterations = iterations_of(name, iterations)?;
    let salt = STANDARD.decode(salt).map_err(|e| malformed(name, e))?;
    let hash = STANDARD.decode(hash).map_err(|e| malformed(name, e))?;
    if salt.is_empty() || hash.is_empty() {
        return Err(malformed(name, "empty salt or value"));
    }
    Ok(LegacyHash::Pbkdf2 { prf, iterations, salt, hash })
}

fn iterations_of(name: &'static str, raw: &str) -> Result<u32, LegacyHashError> {
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_PBKDF2_ITERATIONS).contains(&n) => Ok(n),
        _ => Err(malformed(name, format!("iterations must be 1 to {MAX_PBKDF2_ITERATIONS}"))),
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

fn malformed(scheme: &'static str, e: impl std::fmt::Display) -> LegacyHashError {
    LegacyHashError::Malformed(scheme, e.to_string())
}

#[cfg(test)]
#[path = "legacy_hash_tests.rs"]
pub(crate) mod tests;

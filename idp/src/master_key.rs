//! The master key that encrypts signing keys at rest (issue #3), and the envelope they are
//! stored in: AES-256-GCM with a random 96-bit nonce (NIST SP 800-38D §8.2.2: random nonces are
//! fine far below 2^32 messages; we seal a few keys a year), the key id and algorithm as
//! associated data so a sealed secret cannot be moved to another row.
//!
//! The key comes from the settings (`master_key`, `IDP_MASTER_KEY`: base64 of 32 bytes); in the
//! embedded setup, when unset, it is generated once into `<data_dir>/master.key` (mode 0600).
//! Where it comes from is decided in `app.rs`; this module only parses, creates and uses it.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::crypto::{b64url, b64url_decode, random_bytes};

/// Marks a sealed secret; base64url (the format of secrets stored in clear by earlier versions)
/// never contains `:`, so the two cannot be confused.
const ENVELOPE_PREFIX: &str = "aes256gcm:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MasterKeyError {
    #[error("the master key must be the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`)")]
    Malformed,
    #[error("the master key file {path}: {message}")]
    File { path: String, message: String },
    /// A wrong master key, or a damaged value: AES-GCM cannot tell which.
    #[error("cannot be decrypted with this master key")]
    Decrypt,
}

/// 32 bytes; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        key.copy_from_slice(&random_bytes(32));
        Self(key)
    }

    /// Base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(encoded: &str) -> Result<Self, MasterKeyError> {
        let encoded = encoded.trim();
        let bytes = STANDARD
            .decode(encoded)
            .or_else(|_| URL_SAFE.decode(encoded))
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
            .map_err(|_| MasterKeyError::Malformed)?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| MasterKeyError::Malformed)?;
        Ok(Self(key))
    }

    /// Standard base64, as `parse` reads it and as `master.key` holds it.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The key in `path`, or a new one written there (mode 0600, created exclusively, so two
    /// processes starting together end up with the same key).
    pub fn load_or_create(path: &Path) -> Result<Self, MasterKeyError> {
        let file_error = |message: String| MasterKeyError::File { path: path.display().to_string(), message };
        let candidate = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(format!("{}\n", candidate.encode()).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| file_error(e.to_string()))?;
                Ok(candidate)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
                Self::parse(&text).map_err(|e| file_error(e.to_string()))
            }
            Err(e) => Err(file_error(e.to_string())),
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        // A 32-byte key is always the right length for AES-256.
        let Ok(cipher) = Aes256Gcm::new_from_slice(&self.0) else { unreachable!("AES-256 takes 32-byte keys") };
        cipher
    }

    /// `aes256gcm:<nonce>:<ciphertext and tag>`, both base64url.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, MasterKeyError> {
        let nonce_bytes = random_bytes(12);
        let nonce = Nonce::try_from(nonce_bytes.as_slice()).map_err(|_| MasterKeyError::Malformed)?;
        let sealed =
            self.cipher().encrypt(&nonce, Payload { msg: plaintext, aad }).map_err(|_| MasterKeyError::Malformed)?;
        Ok(format!("{ENVELOPE_PREFIX}{}:{}", b64url(&nonce_bytes), b64url(&sealed)))
    }

    pub fn open(&self, envelope: &str, aad: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        let rest = envelope.strip_prefix(ENVELOPE_PREFIX).ok_or(MasterKeyError::Decrypt)?;
        let (nonce, sealed) = rest.split_once(':').ok_or(MasterKeyError::Decrypt)?;
        let nonce_bytes = b64url_decode(nonce).ok_or(MasterKeyError::Decrypt)?;
        let nonce = Nonce::try_from(nonce_bytes.as_slice()).map_err(|_| MasterKeyError::Decrypt)?;
        let sealed = b64url_decode(sealed).ok_or(MasterKeyError::Decrypt)?;
        self.cipher().decrypt(&nonce, Payload { msg: &sealed, aad }).map_err(|_| MasterKeyError::Decrypt)
    }
}

/// Whether a stored value is an envelope (as opposed to a secret stored in clear by a version
/// before issue #3).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(ENVELOPE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_aad_only() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"secret scalar", b"kid-1").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("secret"));
        assert_eq!(key.open(&sealed, b"kid-1").unwrap(), b"secret scalar");
        assert_eq!(key.open(&sealed, b"kid-2"), Err(MasterKeyError::Decrypt));
        assert_eq!(MasterKey::generate().open(&sealed, b"kid-1"), Err(MasterKeyError::Decrypt));
    }

    #[test]
    fn the_key_parses_from_base64_of_32_bytes_only() {
        let key = MasterKey::generate();
        assert_eq!(MasterKey::parse(&key.encode()).unwrap(), key);
        assert_eq!(MasterKey::parse("c2hvcnQ="), Err(MasterKeyError::Malformed));
        assert_eq!(MasterKey::parse("not base64 at all!"), Err(MasterKeyError::Malformed));
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(MasterKey::load_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}

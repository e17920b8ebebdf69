//! Subject identifiers (OpenID Connect Core §8), below the protocols so that OpenID Connect
//! (`sub`) and CAS (`cas:user` of a pairwise client) compute the same value: public by default
//! (the local user id); pairwise for clients registered with `subject_type=pairwise` (§8.1):
//! base64url(SHA-256(sector ‖ local id ‖ salt)), the salt a server secret, the sector the host
//! of `sector_identifier_uri` or else the one host of the client's redirect URIs and CAS
//! services. The registration rules are in `oidc::subject`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use crate::crypto;
use crate::domain::Client;
use crate::domain::client::SubjectType;
use crate::services::{InfraError, Services};

const SALT_NAME: &str = "pairwise_salt";

/// The `sub` of `user_id` as `client` sees it.
pub async fn for_client(s: &Services, user_id: &str, client: &Client) -> Result<String, InfraError> {
    match client.settings.subject_type {
        SubjectType::Public => Ok(user_id.to_owned()),
        SubjectType::Pairwise => {
            let salt = s.store.server_secret(SALT_NAME, &crypto::random_token(32), s.now()).await?;
            // A registered pairwise client always has a sector (checked at registration).
            let sector = sector_of(client).unwrap_or_default();
            Ok(pairwise(&sector, user_id, &salt))
        }
    }
}

/// §8.1: the calculation, separated so it can be checked by hand.
pub fn pairwise(sector: &str, user_id: &str, salt: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(sector.as_bytes());
    hash.update(user_id.as_bytes());
    hash.update(salt.as_bytes());
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// §8.1: the host of `sector_identifier_uri`, or else the host all redirect URIs (and CAS
/// services) share.
pub fn sector_of(client: &Client) -> Option<String> {
    let host = |uri: &str| Url::parse(uri).ok().and_then(|u| u.host_str().map(str::to_owned));
    if let Some(uri) = &client.settings.sector_identifier_uri {
        return host(uri);
    }
    let mut hosts = client
        .redirect_uris
        .iter()
        .map(|r| r.as_str())
        .chain(client.settings.cas_services.iter().map(String::as_str))
        .map(host);
    let first = hosts.next()??;
    hosts.all(|h| h.as_deref() == Some(first.as_str())).then_some(first)
}

//! Subject identifiers (OpenID Connect Core §8): the one place that maps (user, client) to the
//! `sub` the client sees. Public by default (the local user id); pairwise for clients
//! registered with `subject_type=pairwise` (§8.1): base64url(SHA-256(sector ‖ local id ‖ salt)),
//! the salt a server secret, the sector the host of `sector_identifier_uri` or else the one
//! host of the client's redirect URIs. Everything that emits or compares a `sub` goes through
//! `for_client` (ID tokens, userinfo, `id_token_hint` checks, CAS users), in `account::subject`;
//! the registration rules stay here.

use url::Url;

/// The calculation lives below the protocols (`account::subject`): CAS releases the same
/// pairwise subject as its user.
pub use crate::account::subject::{for_client, pairwise, sector_of};
use crate::domain::Client;
use crate::domain::client::SubjectType;

/// Registration rule (§8.1): a pairwise client without `sector_identifier_uri` must have all its
/// redirect URIs on one host; with one, the document it names must list every redirect URI
/// (OpenID Connect Dynamic Client Registration §5), fetched now.
pub async fn check_registration(client: &Client) -> Result<(), String> {
    if let Some(uri) = &client.settings.sector_identifier_uri {
        let listed = fetch_sector_document(uri).await?;
        if let Some(missing) = client.redirect_uris.iter().find(|r| !listed.iter().any(|l| l == r.as_str())) {
            return Err(format!("sector_identifier_uri {uri:?} does not list the redirect URI {:?}", missing.as_str()));
        }
        return Ok(());
    }
    if client.settings.subject_type != SubjectType::Pairwise {
        return Ok(());
    }
    match sector_of(client) {
        Some(_) => Ok(()),
        None => Err("pairwise subjects need a sector_identifier_uri when the redirect URIs are on several hosts \
                     (OpenID Connect Core §8.1)"
            .into()),
    }
}

/// Largest sector identifier document read (a list of URIs).
const MAX_SECTOR_DOCUMENT: usize = 64 * 1024;

/// GET the sector identifier document: https (http only to a loopback address, as for redirect
/// URIs, RFC 8252 §7.3), no redirects followed, short timeouts, a bounded body, a JSON array of
/// strings.
async fn fetch_sector_document(uri: &str) -> Result<Vec<String>, String> {
    let url = Url::parse(uri).map_err(|_| format!("sector_identifier_uri {uri:?} is not a URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(format!("sector_identifier_uri {uri:?} must be an https URL"));
    }
    let failed = |why: &str| format!("sector_identifier_uri {uri:?}: {why}");
    let http = crate::http::client("sector identifier", std::time::Duration::from_secs(10))
        .map_err(|_| failed("no HTTP client"))?;
    let mut response = http.get(url).send().await.map_err(|_| failed("could not be fetched"))?;
    if !response.status().is_success() {
        return Err(failed(&format!("answered {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| failed("could not be read"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_SECTOR_DOCUMENT {
            return Err(failed("the document is too large"));
        }
    }
    serde_json::from_slice::<Vec<String>>(&body).map_err(|_| failed("not a JSON array of URIs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subjects_depend_on_sector_user_and_salt() {
        let a = pairwise("rp.example", "u1", "salt");
        assert_eq!(a, pairwise("rp.example", "u1", "salt"));
        assert_ne!(a, pairwise("other.example", "u1", "salt"));
        assert_ne!(a, pairwise("rp.example", "u2", "salt"));
        assert_ne!(a, pairwise("rp.example", "u1", "pepper"));
        assert_eq!(a.len(), 43);
    }
}

//! CAS service URLs (CAS Protocol 3.0 §2.2.1): what a client registers (`--cas-service`) and how a
//! `service` parameter is matched against it. A registration is an exact URL, or a prefix when
//! it ends with `/`; both are compared after the same normalisation (lowercase scheme and host,
//! default port dropped, no fragment), never as a pattern. A service that carries user
//! information, a backslash, or a dot segment (plain or percent-encoded) matches nothing: such
//! URLs are read differently by different parsers, the classic way out of a prefix.

use url::Url;

use super::client::ClientFieldError;

/// A service URL in its normal form: what is stored and compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    /// A URL someone sent (`service`, `targetService`, `pgtUrl`), normalised; `None` when it is
    /// not an absolute http(s) URL or is ambiguous (see the module doc).
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.contains('\\') || raw.len() > 2048 {
            return None;
        }
        let url = Url::parse(raw).ok()?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        // `Url::parse` removes `.` and `..` segments; the raw path must not have had any, nor
        // their percent-encoded forms.
        let raw_path = raw.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
        let raw_path = raw_path.split(['?', '#']).next().unwrap_or_default();
        let lowered = raw_path.to_ascii_lowercase();
        if lowered.split('/').skip(1).any(|seg| {
            let decoded = seg.replace("%2e", ".");
            decoded == "." || decoded == ".."
        }) || lowered.contains("%2f")
            || lowered.contains("%5c")
        {
            return None;
        }
        let mut url = url;
        url.set_fragment(None);
        // `Url` already lowercases the scheme and host and drops a default port.
        Some(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Scheme, host and port, as `Url::origin` serialises them.
    fn origin(&self) -> String {
        Url::parse(&self.0).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    pub fn host(&self) -> Option<String> {
        Url::parse(&self.0).ok().and_then(|u| u.host_str().map(str::to_owned))
    }
}

/// Checks one `--cas-service` value and returns its normal form: an absolute https URL (http
/// only when insecure URLs are allowed, or to loopback as for redirect URIs), no fragment, no
/// user information.
pub fn parse_registration(raw: &str, allow_insecure_http: bool) -> Result<String, ClientFieldError> {
    super::client::RedirectUri::parse(raw, allow_insecure_http)?;
    let normal = ServiceUrl::parse(raw).ok_or_else(|| ClientFieldError::NotAbsolute(raw.to_owned()))?;
    Ok(normal.0)
}

/// Whether `service` is covered by the registered (already normalised) `registered`: equal, or
/// under it when it ends with `/`, on the same scheme, host and port.
pub fn matches(registered: &str, service: &ServiceUrl) -> bool {
    if registered == service.as_str() {
        return true;
    }
    let Some(reg) = ServiceUrl::parse(registered) else { return false };
    registered.ends_with('/') && reg.origin() == service.origin() && service.as_str().starts_with(registered)
}

/// Whether any of `registered` covers `service`.
pub fn is_registered(registered: &[String], service: &ServiceUrl) -> bool {
    registered.iter().any(|r| matches(r, service))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(raw: &str) -> ServiceUrl {
        ServiceUrl::parse(raw).unwrap_or_else(|| panic!("{raw} refused"))
    }

    #[test]
    fn service_urls_are_normalised() {
        assert_eq!(svc("HTTPS://ENT.Example:443/a?b=1#frag").as_str(), "https://ent.example/a?b=1");
        assert_eq!(svc("https://ent.example").as_str(), "https://ent.example/");
    }

    #[test]
    fn ambiguous_service_urls_match_nothing() {
        for raw in [
            "https://ent.example/app/../admin",
            "https://ent.example/app/%2e%2e/admin",
            "https://ent.example/app/%2E./admin",
            "https://ent.example/app/./x",
            "https://ent.example\\@evil.example/",
            "https://user@ent.example/",
            "https://ent.example/app%2f..%2fadmin",
            "javascript:alert(1)",
            "/relative",
            "ftp://ent.example/",
        ] {
            assert_eq!(ServiceUrl::parse(raw), None, "{raw} accepted");
        }
    }

    #[test]
    fn a_prefix_ends_with_a_slash_and_keeps_its_origin() {
        let prefix = parse_registration("https://ENT.example/", false).unwrap();
        assert!(matches(&prefix, &svc("https://ent.example/login?next=/x")));
        assert!(matches(&prefix, &svc("https://ent.example:443/")));
        assert!(!matches(&prefix, &svc("https://ent.example.evil.example/")));
        assert!(!matches(&prefix, &svc("https://ent.example:8443/")));
        assert!(!matches(&prefix, &svc("http://ent.example/")));
        let exact = parse_registration("https://ent.example/cas", false).unwrap();
        assert!(matches(&exact, &svc("https://ent.example/cas")));
        assert!(!matches(&exact, &svc("https://ent.example/cas/other")));
        assert!(!matches(&exact, &svc("https://ent.example/cas?x=1")));
    }

    #[test]
    fn registrations_are_https_unless_allowed() {
        assert!(parse_registration("http://ent.example/", false).is_err());
        assert!(parse_registration("http://ent.example/", true).is_ok());
        assert!(parse_registration("http://127.0.0.1:8000/", false).is_ok());
        assert!(parse_registration("https://ent.example/#x", false).is_err());
        assert!(parse_registration("fr.app:/cb", false).is_err());
    }
}

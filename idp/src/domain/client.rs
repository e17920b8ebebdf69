//! Relying parties ("clients") and the values that describe them, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

/// The client id of the account space (`account_space`), registered at every start.
pub const ACCOUNT_SPACE_CLIENT_ID: &str = "idp-account";

/// The client id of the administration console (`account_space::ADMIN_CONSOLE`, issue #12).
pub const ADMIN_CONSOLE_CLIENT_ID: &str = "idp-admin-console";

/// A registered relying party, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// SHA-256 digest of the secret (`crypto::digest`); `None` for public clients.
    pub secret_digest: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub auth_method: AuthMethod,
    pub id_token_alg: SigningAlg,
    /// Theme for the pages shown on behalf of this client; the default theme when `None`.
    pub theme: Option<String>,
    /// First-party clients skip the consent page (the organisation runs them).
    pub first_party: bool,
    pub created_at: i64,
    /// Everything else a client registers (issue #3 and later), stored as one JSON document so
    /// a new option needs no schema change. Absent keys take their defaults.
    pub settings: ClientSettings,
}

/// Per-client options beyond the core registration. `#[serde(default)]`: documents written by
/// older versions stay readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientSettings {
    /// `private_key_jwt` (RFC 7523): the client's public keys, inline (a JWK Set document)…
    pub jwks: Option<serde_json::Value>,
    /// …or where to fetch them.
    pub jwks_uri: Option<String>,
    /// Scopes this client may obtain (all supported scopes when `None`); `client_credentials`
    /// grants are limited to these.
    pub allowed_scopes: Option<Vec<String>>,
    /// Access tokens: opaque (default) or JWT (RFC 9068).
    pub access_token_format: AccessTokenFormat,
    /// `aud` of JWT access tokens: the resource server they are for.
    pub access_token_audience: Option<String>,
    /// Signature of JWT access tokens (ES256 when unset).
    pub access_token_signing_alg: Option<SigningAlg>,
    /// Lifetimes in seconds overriding the server's.
    pub access_token_ttl: Option<i64>,
    pub id_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    /// Seconds during which a rotated refresh token presented again, while its successor is
    /// unused, gets that same successor instead of revoking the grant: the "grace period" of
    /// Okta and Auth0, for browser applications whose tabs refresh at once (decision 0008).
    /// Unset or 0 (the default): strict rotation, every replay revokes the grant (RFC 9700
    /// §4.14.2). At most `MAX_REFRESH_RACE_WINDOW`.
    pub refresh_race_window: Option<i64>,
    /// RFC 9101 §10.5: every authorization request of this client must come as a signed
    /// request object (`alg: none` refused). Needs `jwks` or `jwks_uri`.
    pub require_signed_request_object: bool,
    /// A refresh token also without `offline_access`, bound to the browser session: it lives
    /// no longer than that session and stops working when it ends (OpenID Connect Core §11
    /// leaves such tokens to the provider). Needs the `refresh_token` grant.
    pub session_refresh_tokens: bool,
    /// OpenID Connect Core §8: public (default) or pairwise subject identifiers.
    pub subject_type: SubjectType,
    pub sector_identifier_uri: Option<String>,
    /// OpenID Connect Back-Channel Logout 1.0.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    /// OpenID Connect Front-Channel Logout 1.0.
    pub frontchannel_logout_uri: Option<String>,
    pub frontchannel_logout_session_required: bool,
    /// The user type that "Mot de passe perdu" / "Identifiant oublié" preselect for this
    /// client's people, skipping the selector (issue #5).
    pub recovery_user_type: Option<String>,
    /// Whether this client's login page tells that the typed identifier is locked ("Le compte
    /// a été verrouillé…", issue #13, decision 0020). Unset: the preselected type's
    /// `[user_types.lockout] tell_locked`, else the installation's `[lockout] tell_locked`.
    pub tell_locked: Option<bool>,
    /// CAS 3.0 (issue #11): the service URLs this client answers for, normalised
    /// (`domain::cas_service`): exact, or a prefix when one ends with `/`. Set by `--cas-service`.
    pub cas_services: Vec<String>,
    /// The attributes released to this client's CAS services (`cas::attributes`), e.g.
    /// `["mail","givenName","sn","memberOf"]`; none when unset.
    pub cas_attributes: Option<Vec<String>>,
    /// CAS single logout: each service that got a ticket in a session is sent a
    /// `logoutRequest` when the session ends. On unless switched off.
    #[serde(default = "default_true")]
    pub cas_single_logout: bool,
    /// Per-application authorisation (issue #11): only users of these user types may sign in
    /// to this client. Unset: every type.
    pub allowed_user_types: Option<Vec<String>>,
    /// Only members of at least one of these groups may sign in. Unset: everyone. With
    /// `allowed_user_types` as well, a user must satisfy both.
    pub allowed_groups: Option<Vec<String>>,
    /// What a refused user gets (`account::authorization`).
    pub access_denied: AccessDenied,
}

fn default_true() -> bool {
    true
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            jwks: Default::default(),
            jwks_uri: Default::default(),
            allowed_scopes: Default::default(),
            access_token_format: Default::default(),
            access_token_audience: Default::default(),
            access_token_signing_alg: Default::default(),
            access_token_ttl: Default::default(),
            id_token_ttl: Default::default(),
            refresh_token_ttl: Default::default(),
            refresh_race_window: Default::default(),
            require_signed_request_object: Default::default(),
            session_refresh_tokens: Default::default(),
            subject_type: Default::default(),
            sector_identifier_uri: Default::default(),
            backchannel_logout_uri: Default::default(),
            backchannel_logout_session_required: Default::default(),
            frontchannel_logout_uri: Default::default(),
            frontchannel_logout_session_required: Default::default(),
            recovery_user_type: Default::default(),
            tell_locked: Default::default(),
            cas_services: Default::default(),
            cas_attributes: Default::default(),
            cas_single_logout: true,
            allowed_user_types: Default::default(),
            allowed_groups: Default::default(),
            access_denied: Default::default(),
        }
    }
}

/// What happens when the per-application rule refuses a signed-in user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessDenied {
    /// The provider's page: "you do not have the permissions…", the support contact, sign out.
    #[default]
    Page,
    /// Back to the client with `error=access_denied` (RFC 6749 §4.1.2.1), for applications that
    /// explain it themselves.
    Redirect,
}

/// Bounds of the per-client lifetimes, in seconds, checked at registration. Signed tokens (ID
/// tokens, JWT access tokens) live at most a day: retired signing keys stay published that long.
pub const MIN_CLIENT_TOKEN_TTL: i64 = 60;
pub const MAX_CLIENT_TOKEN_TTL: i64 = 24 * 3600;
pub const MAX_CLIENT_REFRESH_TOKEN_TTL: i64 = 365 * 24 * 3600;
/// Longer would let a stolen refresh token ride along unnoticed (decision 0008).
pub const MAX_REFRESH_RACE_WINDOW: i64 = 60;

impl ClientSettings {
    /// Whether the lifetimes this client overrides (and its refresh race window) are within
    /// the bounds above.
    pub fn check_lifetimes(&self) -> Result<(), ClientFieldError> {
        for (name, value, max) in [
            ("access_token_ttl", self.access_token_ttl, MAX_CLIENT_TOKEN_TTL),
            ("id_token_ttl", self.id_token_ttl, MAX_CLIENT_TOKEN_TTL),
            ("refresh_token_ttl", self.refresh_token_ttl, MAX_CLIENT_REFRESH_TOKEN_TTL),
        ] {
            if let Some(v) = value
                && !(MIN_CLIENT_TOKEN_TTL..=max).contains(&v)
            {
                return Err(ClientFieldError::Lifetime { name, min: MIN_CLIENT_TOKEN_TTL, max });
            }
        }
        if let Some(window) = self.refresh_race_window
            && !(0..=MAX_REFRESH_RACE_WINDOW).contains(&window)
        {
            return Err(ClientFieldError::Lifetime {
                name: "refresh_race_window",
                min: 0,
                max: MAX_REFRESH_RACE_WINDOW,
            });
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    #[default]
    Opaque,
    Jwt,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    #[default]
    Public,
    Pairwise,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Exact string comparison, as RFC 9700 §4.1.3 and OpenID Connect Core §3.1.2.1 require.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.as_str() == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r.as_str() == uri)
    }

    /// Whether this client registered the CAS service `service` (`domain::cas_service`).
    pub fn has_cas_service(&self, service: &super::cas_service::ServiceUrl) -> bool {
        super::cas_service::is_registered(&self.settings.cas_services, service)
    }
}

/// A client id: 1 to 128 characters of `[A-Za-z0-9._~-]` (RFC 3986 unreserved), so it is safe in
/// URLs, logs and file names without escaping.
pub fn parse_client_id(raw: &str) -> Result<String, ClientFieldError> {
    let ok =
        !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b));
    if ok { Ok(raw.to_owned()) } else { Err(ClientFieldError::ClientId) }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClientFieldError {
    #[error("client id must be 1 to 128 characters among letters, digits, '.', '_', '~' and '-'")]
    ClientId,
    #[error("redirect URI {0:?} is not an absolute URL")]
    NotAbsolute(String),
    #[error("redirect URI {0:?} must not contain a fragment (RFC 6749 §3.1.2)")]
    Fragment(String),
    #[error(
        "redirect URI {0:?} uses http to a host that is not loopback; use https (or allow insecure redirect URIs explicitly)"
    )]
    InsecureHttp(String),
    #[error("redirect URI {0:?} must not carry user information")]
    UserInfo(String),
    #[error("unknown value {0:?}")]
    Unknown(String),
    #[error("{name} must be between {min} and {max} seconds")]
    Lifetime { name: &'static str, min: i64, max: i64 },
}

/// A redirect URI as registered. Matching is exact string equality; parsing only decides
/// what may be registered (RFC 6749 §3.1.2, RFC 8252 §7 for native apps).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(raw: &str, allow_insecure_http: bool) -> Result<Self, ClientFieldError> {
        let url = Url::parse(raw).map_err(|_| ClientFieldError::NotAbsolute(raw.to_owned()))?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(ClientFieldError::Fragment(raw.to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ClientFieldError::UserInfo(raw.to_owned()));
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                if !allow_insecure_http && !is_loopback(&url) {
                    return Err(ClientFieldError::InsecureHttp(raw.to_owned()));
                }
            }
            // RFC 8252 §7.1: private-use schemes of native apps are reverse domain names.
            scheme if scheme.contains('.') => {}
            _ => return Err(ClientFieldError::NotAbsolute(raw.to_owned())),
        }
        if url.cannot_be_a_base() && !url.scheme().contains('.') {
            return Err(ClientFieldError::NotAbsolute(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    /// For values already validated when they were stored.
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

macro_rules! string_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl FromStr for $name {
            type Err = ClientFieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(ClientFieldError::Unknown(s.to_owned())) }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// `token_endpoint_auth_method` (OpenID Connect Core §9, RFC 7591 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// RFC 7523 §2.2 (issue #3).
    PrivateKeyJwt,
    None,
}
string_enum!(AuthMethod {
    ClientSecretBasic => "client_secret_basic",
    ClientSecretPost => "client_secret_post",
    PrivateKeyJwt => "private_key_jwt",
    None => "none"
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    /// RFC 6749 §4.4 (issue #3).
    ClientCredentials,
}
string_enum!(GrantType {
    AuthorizationCode => "authorization_code",
    RefreshToken => "refresh_token",
    ClientCredentials => "client_credentials"
});

/// JWS algorithms for ID tokens (RFC 7518 §3.1, RFC 8037 for EdDSA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    #[default]
    RS256,
    ES256,
    EdDSA,
}
string_enum!(SigningAlg { RS256 => "RS256", ES256 => "ES256", EdDSA => "EdDSA" });

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_with_fragments_are_refused() {
        assert_eq!(
            RedirectUri::parse("https://rp.example/cb#x", false),
            Err(ClientFieldError::Fragment("https://rp.example/cb#x".into()))
        );
    }

    #[test]
    fn relative_redirect_uris_are_refused() {
        assert!(RedirectUri::parse("/callback", false).is_err());
    }

    #[test]
    fn http_is_only_for_loopback_unless_allowed() {
        assert!(RedirectUri::parse("http://127.0.0.1:9090/callback", false).is_ok());
        assert!(RedirectUri::parse("http://localhost/cb", false).is_ok());
        assert!(RedirectUri::parse("http://rp.example/cb", false).is_err());
        assert!(RedirectUri::parse("http://rp.example/cb", true).is_ok());
    }

    #[test]
    fn native_app_schemes_are_reverse_domain_names() {
        assert!(RedirectUri::parse("fr.region.app:/callback", false).is_ok());
        assert!(RedirectUri::parse("javascript:alert(1)", false).is_err());
    }

    #[test]
    fn client_ids_are_url_safe() {
        assert!(parse_client_id("shop-1.example").is_ok());
        assert!(parse_client_id("a b").is_err());
        assert!(parse_client_id("").is_err());
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for m in ["client_secret_basic", "client_secret_post", "none"] {
            assert_eq!(m.parse::<AuthMethod>().unwrap().as_str(), m);
        }
        assert!("plain".parse::<SigningAlg>().is_err());
    }
}

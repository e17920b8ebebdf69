//! Administration used by the CLI (and by tests): register clients, add users, seed the demo.
//! Every input is parsed before anything is written, so a bad flag changes nothing. Groups
//! (issue #11) are in `groups`; who acts and what each role may do (issue #12), in `actor`;
//! bringing existing users in with their password hashes (CSV, Keycloak), in `import`.

pub mod actor;
pub mod api_token;
pub mod audit;
pub mod chart;
pub mod clients;
pub mod groups;
pub mod import;
pub mod page;
pub mod system;
pub mod users;
pub mod when;

use crate::account::activation::{self, Sent};
use crate::crypto;
use crate::domain::client::{ClientFieldError, ClientSettings, parse_client_id};
use crate::domain::user_type::UserType;
use crate::domain::{
    AccountStart, AuthMethod, Client, Email, GrantType, Login, NewUser, RedirectUri, Secret, SigningAlg,
    UNUSABLE_PASSWORD_HASH, User,
};
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;
use crate::store::{PasswordChange, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Field(#[from] ClientFieldError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Duplicate(String),
    /// The thing named does not exist (API: 404).
    #[error("{0} not found")]
    NotFound(String),
    /// The actor's roles do not permit the operation (`actor::Permission`; API: 403).
    #[error("this operation is not permitted to your role")]
    Forbidden,
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => AdminError::Duplicate(what.to_owned()),
            other => AdminError::Infra(other.into()),
        }
    }
}

/// A client registration as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct ClientSpec {
    pub id: String,
    pub name: String,
    pub public: bool,
    /// A secret chosen by the operator; `None` generates one (confidential clients).
    pub secret: Option<Secret>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grants: Vec<String>,
    pub auth_method: Option<String>,
    pub id_token_alg: Option<String>,
    pub theme: Option<String>,
    pub first_party: bool,
    pub allow_insecure_http: bool,
    /// Options of `ClientSettings` (`--setting key=value` on the command line).
    pub settings: ClientSettings,
    /// CAS service URLs (`--cas-service`, repeatable), added to `settings.cas_services`.
    pub cas_services: Vec<String>,
}

/// Parses `key=value` pairs into settings; a value is read as JSON when it is JSON (`true`,
/// `600`, `["a","b"]`, `{…}`), as a string otherwise. Unknown keys are refused.
pub fn parse_settings(pairs: &[String]) -> Result<ClientSettings, AdminError> {
    let mut object = serde_json::Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| AdminError::Invalid(format!("--setting {pair:?}: expected key=value")))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        object.insert(key.trim().to_owned(), value);
    }
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| AdminError::Invalid(format!("--setting: {e}")))
}

/// Parses a spec into a client and the secret to show once (confidential clients).
pub fn build_client(spec: &ClientSpec, now: i64) -> Result<(Client, Option<Secret>), AdminError> {
    let id = parse_client_id(&spec.id)?;
    let parse_uris = |uris: &[String]| -> Result<Vec<RedirectUri>, AdminError> {
        uris.iter().map(|u| RedirectUri::parse(u, spec.allow_insecure_http).map_err(AdminError::from)).collect()
    };
    // CAS 3.0 services (issue #11), normalised once here so matching compares like with like.
    let mut settings = spec.settings.clone();
    settings.cas_services = settings
        .cas_services
        .iter()
        .chain(&spec.cas_services)
        .map(|s| crate::domain::cas_service::parse_registration(s, spec.allow_insecure_http))
        .collect::<Result<_, _>>()?;
    settings.cas_services.dedup();
    let cas_only = spec.redirect_uris.is_empty() && !settings.cas_services.is_empty();
    let grants: Vec<GrantType> = if spec.grants.is_empty() && cas_only {
        // A CAS-only client redirects browsers to its services, never to a redirect URI.
        Vec::new()
    } else if spec.grants.is_empty() {
        vec![GrantType::AuthorizationCode]
    } else {
        spec.grants.iter().map(|g| g.parse()).collect::<Result<_, _>>()?
    };
    // A machine-to-machine client (client_credentials only) never redirects a browser.
    if grants.contains(&GrantType::AuthorizationCode) && spec.redirect_uris.is_empty() {
        return Err(AdminError::Invalid("at least one --redirect-uri is required".into()));
    }
    let auth_method = match (&spec.auth_method, spec.public) {
        (None, true) => AuthMethod::None,
        (None, false) => AuthMethod::ClientSecretBasic,
        (Some(m), _) => m.parse()?,
    };
    if spec.public != (auth_method == AuthMethod::None) {
        return Err(AdminError::Invalid("a public client uses --auth-method none, and only public clients do".into()));
    }
    if spec.public && spec.secret.is_some() {
        return Err(AdminError::Invalid("a public client has no secret".into()));
    }
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if spec.public && grants.contains(&GrantType::ClientCredentials) {
        return Err(AdminError::Invalid("a public client cannot use the client_credentials grant".into()));
    }
    // RFC 7523 §2.2: a private_key_jwt client proves itself with its keys; it has no secret.
    let uses_keys = auth_method == AuthMethod::PrivateKeyJwt;
    if uses_keys && spec.secret.is_some() {
        return Err(AdminError::Invalid("a private_key_jwt client has no secret".into()));
    }
    if uses_keys || spec.settings.jwks.is_some() || spec.settings.jwks_uri.is_some() {
        crate::oidc::client_keys::check_registration(&spec.settings, spec.allow_insecure_http)
            .map_err(AdminError::Invalid)?;
    }
    // RFC 9101 §10.5: a signed request object is verified with the client's keys.
    if spec.settings.require_signed_request_object && spec.settings.jwks.is_none() && spec.settings.jwks_uri.is_none() {
        return Err(AdminError::Invalid(
            "require_signed_request_object needs the client's keys: --setting jwks=… or jwks_uri=…".into(),
        ));
    }
    if spec.settings.session_refresh_tokens && !grants.contains(&GrantType::RefreshToken) {
        return Err(AdminError::Invalid("session_refresh_tokens needs --grant refresh_token".into()));
    }
    if let Some(secret) = &spec.secret {
        // A chosen secret must be as strong as a generated one would be (≥ 256 bits of entropy
        // cannot be checked, so at least 32 characters).
        if secret.expose().len() < 32 {
            return Err(AdminError::Invalid("a client secret must be at least 32 characters".into()));
        }
    }
    let secret = if spec.public || uses_keys {
        None
    } else {
        Some(spec.secret.clone().unwrap_or_else(|| Secret::new(crypto::random_token(32))))
    };
    spec.settings.check_lifetimes()?;
    let client = Client {
        id,
        name: if spec.name.trim().is_empty() { spec.id.clone() } else { spec.name.trim().to_owned() },
        secret_digest: secret.as_ref().map(|s| crypto::digest(s.expose())),
        redirect_uris: parse_uris(&spec.redirect_uris)?,
        post_logout_redirect_uris: parse_uris(&spec.post_logout_redirect_uris)?,
        grant_types: grants,
        auth_method,
        id_token_alg: spec.id_token_alg.as_deref().map(str::parse::<SigningAlg>).transpose()?.unwrap_or_default(),
        theme: spec.theme.clone().filter(|t| !t.is_empty()),
        first_party: spec.first_party,
        created_at: now,
        settings,
    };
    crate::oidc::backchannel::check_logout_uris(&client, spec.allow_insecure_http).map_err(AdminError::Invalid)?;
    crate::cas::attributes::check_registration(&client).map_err(AdminError::Invalid)?;
    Ok((client, secret))
}

pub async fn add_client(s: &Services, spec: &ClientSpec) -> Result<(Client, Option<Secret>), AdminError> {
    let (client, secret) = build_client(spec, s.now())?;
    groups::check_access_rules(s, &client.settings)?;
    // OpenID Connect Core §8.1: a pairwise client needs one sector.
    crate::oidc::subject::check_registration(&client).await.map_err(AdminError::Invalid)?;
    s.store.create_client(&client).await.map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Duplicate(format!("client {:?}", client.id)),
        other => other.into(),
    })?;
    Ok((client, secret))
}

/// A user as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct UserSpec {
    pub login: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub user_type: String,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    /// Date of birth, YYYY-MM-DD (asked with an alternate identifier during recovery, issue #5).
    pub birth_date: Option<String>,
    /// Alternate identifiers (kind, value) a person can name the account with during recovery:
    /// student number, INE, staff number… One value per kind.
    pub identifiers: Vec<(String, String)>,
}

/// How a new account starts (issue #4).
#[derive(Clone, Debug)]
pub enum UserStart {
    /// A password chosen or generated by the operator, final (no change required).
    Password(Secret),
    /// A provisional password generated to the user type's policy and e-mailed; it must be
    /// changed at the first sign-in and stops working after `provisional_password_lifetime`.
    Provisional,
    /// An activation link e-mailed; the account has no usable password until it is followed.
    ActivationLink,
}

/// A user spec, parsed: nothing is written before every field is valid (`user import` checks
/// a whole file this way first).
pub struct ParsedUser<'a> {
    login: Login,
    email: Email,
    user_type: &'a UserType,
    birth_date: Option<String>,
    identifiers: Vec<(String, String)>,
}

pub fn parse_user<'a>(s: &'a Services, spec: &UserSpec) -> Result<ParsedUser<'a>, AdminError> {
    let login = Login::parse_new(&spec.login).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let email = Email::parse(&spec.email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    // Every user has one of the declared types (issue #4); none given: the default one.
    let user_type = if spec.user_type.is_empty() {
        s.user_types.default_type()
    } else {
        s.user_types
            .get(&spec.user_type)
            .ok_or_else(|| AdminError::Invalid(format!("unknown user type {:?}", spec.user_type)))?
    };
    let birth_date =
        spec.birth_date.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(parse_birth_date).transpose()?;
    let identifiers = parse_identifiers(&spec.identifiers)?;
    Ok(ParsedUser { login, email, user_type, birth_date, identifiers })
}

/// A real calendar date written YYYY-MM-DD, not before 1900.
pub fn parse_birth_date(value: &str) -> Result<String, AdminError> {
    let invalid = || AdminError::Invalid(format!("birth date {value:?} is not a date written YYYY-MM-DD"));
    let value = value.trim();
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u32, AdminError> {
        let part = &value[range];
        if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().map_err(|_| invalid()) } else { Err(invalid()) }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid()),
    };
    if year < 1900 || day == 0 || day > days {
        return Err(invalid());
    }
    Ok(value.to_owned())
}

/// Alternate identifiers: a kind of lowercase letters, digits and `_`, a non-empty value without
/// control characters, each kind once.
pub fn parse_identifiers(identifiers: &[(String, String)]) -> Result<Vec<(String, String)>, AdminError> {
    let mut parsed: Vec<(String, String)> = Vec::with_capacity(identifiers.len());
    for (kind, value) in identifiers {
        let (kind, value) = (kind.trim(), value.trim());
        if kind.is_empty()
            || kind.len() > 64
            || !kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(AdminError::Invalid(format!(
                "identifier kind {kind:?}: lowercase letters, digits and _ only (e.g. student_number)"
            )));
        }
        if value.is_empty() || value.chars().count() > 128 || value.chars().any(char::is_control) {
            return Err(AdminError::Invalid(format!(
                "identifier {kind}: the value must be 1 to 128 printable characters"
            )));
        }
        if parsed.iter().any(|(k, _)| k == kind) {
            return Err(AdminError::Invalid(format!("identifier {kind} is given twice")));
        }
        parsed.push((kind.to_owned(), value.to_owned()));
    }
    Ok(parsed)
}

/// `kind=value`, as on the command line (`--identifier student_number=22001234`).
pub fn split_identifier(pair: &str) -> Result<(String, String), AdminError> {
    pair.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .ok_or_else(|| AdminError::Invalid(format!("identifier {pair:?}: expected kind=value")))
}

/// Refuses a login that looks like another account's (same UTS #39 skeleton), naming it: the
/// operator sees which one. The same login is the store's `Conflict("login")`.
async fn check_login_not_confusable(s: &Services, login: &Login) -> Result<(), AdminError> {
    match s.store.user_confusable_with(login).await.map_err(InfraError::from)? {
        Some(other) => Err(confusable(login.as_str(), &other.login)),
        None => Ok(()),
    }
}

fn confusable(login: &str, existing: &str) -> AdminError {
    AdminError::Invalid(format!(
        "login {login:?} looks like the existing login {existing:?} (Unicode TS #39 confusables): choose another"
    ))
}

/// Refuses alternate identifiers another account already holds (checked before any write).
async fn check_identifiers_free(s: &Services, identifiers: &[(String, String)]) -> Result<(), AdminError> {
    for (kind, value) in identifiers {
        if s.store.user_by_identifier(std::slice::from_ref(kind), value).await.map_err(InfraError::from)?.is_some() {
            return Err(AdminError::Duplicate(format!("identifier {kind} {value:?}")));
        }
    }
    Ok(())
}

pub async fn add_user(s: &Services, spec: &UserSpec, password: &Secret) -> Result<User, AdminError> {
    let (user, _) = add_user_starting(s, spec, &UserStart::Password(password.clone())).await?;
    Ok(user)
}

/// Creates a user that starts as `start` says; for a provisional password or an activation
/// link, also where and until when it was sent (the secret itself is only in the mail).
pub async fn add_user_starting(
    s: &Services,
    spec: &UserSpec,
    start: &UserStart,
) -> Result<(User, Option<Sent>), AdminError> {
    let parsed = parse_user(s, spec)?;
    if let UserStart::Password(password) = start
        && password.expose().chars().count() < 8
    {
        return Err(AdminError::Invalid("the password must be at least 8 characters".into()));
    }
    check_login_not_confusable(s, &parsed.login).await?;
    check_identifiers_free(s, &parsed.identifiers).await?;
    create(s, spec, parsed, start).await
}

async fn create(
    s: &Services,
    spec: &UserSpec,
    parsed: ParsedUser<'_>,
    start: &UserStart,
) -> Result<(User, Option<Sent>), AdminError> {
    let now = s.now();
    let (password_hash, account_start) = match start {
        UserStart::Password(password) => (s.passwords.hash(password).await?, AccountStart::Ready),
        // The provisional password is set (and mailed) right after the insert, through the one
        // path an administrator reset also takes.
        UserStart::Provisional => (
            UNUSABLE_PASSWORD_HASH.to_owned(),
            AccountStart::Provisional { expires_at: now + s.lifetimes.provisional_password },
        ),
        UserStart::ActivationLink => (UNUSABLE_PASSWORD_HASH.to_owned(), AccountStart::AwaitingActivation),
    };
    let user = NewUser {
        login: parsed.login,
        email: parsed.email,
        given_name: spec.given_name.trim().to_owned(),
        family_name: spec.family_name.trim().to_owned(),
        phone_number: spec.phone_number.clone(),
        address: spec.address.clone(),
        user_type: parsed.user_type.id.clone(),
        password_hash,
        start: account_start,
        birth_date: parsed.birth_date.clone(),
        identifiers: parsed.identifiers.clone(),
    };
    let user = s.store.create_user(user, now).await.map_err(|e| match e {
        StoreError::Conflict("identifier") => AdminError::Duplicate("an identifier of this user".into()),
        // Created by another node since the check above.
        StoreError::Conflict("confusable login") => AdminError::Invalid(format!(
            "login {:?} looks like a login created meanwhile (Unicode TS #39 confusables): choose another",
            spec.login
        )),
        StoreError::Conflict(_) => AdminError::Duplicate(format!("login {:?}", spec.login)),
        other => other.into(),
    })?;
    let info = operator();
    let sent = match start {
        UserStart::Password(_) => {
            // The first history entry and the password's age (issue #4).
            let keep = parsed.user_type.password_policy.history;
            let change = PasswordChange {
                user_id: &user.id,
                hash: &user.password_hash,
                keep,
                now,
                keep_sid: None,
                redeem_token: None,
                // The account's first password, not a change: nothing to propagate.
                webhook: None,
            };
            s.store.change_password(&change).await?;
            None
        }
        UserStart::Provisional => activation::start_provisional(s, &user, &info).await?,
        UserStart::ActivationLink => Some(activation::start_activation_link(s, &user, &info).await?),
    };
    Ok((user, sent))
}

/// An administrator reset (`idp user reset-password`): a new provisional password by e-mail,
/// every session ended, the old password no longer works.
pub async fn reset_password(s: &Services, login: &str) -> Result<Sent, AdminError> {
    let login = Login::parse(login).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let user = s
        .store
        .user_by_login(login.as_str())
        .await
        .map_err(InfraError::from)?
        .ok_or_else(|| AdminError::Invalid(format!("no user with login {:?}", login.as_str())))?;
    activation::start_provisional(s, &user, &operator())
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("no user with login {:?}", login.as_str())))
}

/// Who the audit trail records for changes made from the command line.
fn operator() -> ClientInfo {
    ClientInfo { user_agent: "idp-cli".into(), ip: "-".into(), lang: None }
}

/// A random password for `user add` without `--password-stdin`: 20 characters from an
/// unambiguous alphabet, about 114 bits.
pub fn generate_password() -> Secret {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = crypto::random_bytes(20);
    Secret::new(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect::<String>())
}

pub const DEMO_CLIENT_ID: &str = "demo-rp";
pub const DEMO_LOGIN: &str = "demo";

/// Demo mode: the example relying party (public client with PKCE, as `clients/demo-rp` runs
/// by default) and a demo user whose password is new at every start. Returns the password.
pub async fn seed_demo(s: &Services, rp_base_url: &str) -> Result<Secret, AdminError> {
    let spec = ClientSpec {
        id: DEMO_CLIENT_ID.into(),
        name: "Application de démonstration".into(),
        public: true,
        redirect_uris: vec![format!("{rp_base_url}/callback")],
        post_logout_redirect_uris: vec![format!("{rp_base_url}/")],
        grants: vec!["authorization_code".into(), "refresh_token".into()],
        ..ClientSpec::default()
    };
    let (client, _) = build_client(&spec, s.now())?;
    s.store.upsert_client(&client).await?;
    let password = generate_password();
    match s.store.user_by_login(DEMO_LOGIN).await? {
        Some(user) => {
            let hash = s.passwords.hash(&password).await?;
            s.store.set_password_hash(&user.id, &hash, s.now()).await?;
        }
        None => {
            let spec = UserSpec {
                login: DEMO_LOGIN.into(),
                email: "demo@example.org".into(),
                given_name: "Camille".into(),
                family_name: "Démo".into(),
                ..UserSpec::default()
            };
            add_user(s, &spec, &password).await?;
        }
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ClientSpec {
        ClientSpec { id: "shop".into(), redirect_uris: vec!["https://shop.example/cb".into()], ..ClientSpec::default() }
    }

    #[test]
    fn a_cas_only_client_needs_no_redirect_uri_and_its_services_are_normalised() {
        let cas = ClientSpec {
            id: "ent".into(),
            cas_services: vec!["HTTPS://ENT.example:443/".into(), "https://ent.example/".into()],
            ..ClientSpec::default()
        };
        let (client, _) = build_client(&cas, 0).unwrap();
        assert_eq!(client.settings.cas_services, ["https://ent.example/"]);
        assert!(client.grant_types.is_empty(), "no OpenID Connect grant");
        let insecure = ClientSpec { cas_services: vec!["http://ent.example/".into()], ..cas.clone() };
        assert!(build_client(&insecure, 0).is_err(), "http only when allowed");
        let unknown = ClientSpec {
            settings: ClientSettings { cas_attributes: Some(vec!["password".into()]), ..ClientSettings::default() },
            ..cas
        };
        assert!(build_client(&unknown, 0).is_err(), "an unknown attribute is refused");
    }

    #[test]
    fn a_confidential_client_gets_a_strong_secret_stored_as_a_digest() {
        let (client, secret) = build_client(&spec(), 0).unwrap();
        let secret = secret.unwrap();
        assert!(secret.expose().len() >= 43);
        assert_eq!(client.secret_digest.as_deref(), Some(crypto::digest(secret.expose()).as_str()));
        assert_eq!(client.auth_method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn a_public_client_has_no_secret() {
        let (client, secret) = build_client(&ClientSpec { public: true, ..spec() }, 0).unwrap();
        assert!(secret.is_none() && client.secret_digest.is_none());
        assert!(
            build_client(&ClientSpec { public: true, auth_method: Some("client_secret_post".into()), ..spec() }, 0)
                .is_err()
        );
    }

    #[test]
    fn bad_values_are_refused_before_anything_is_written() {
        assert!(
            build_client(&ClientSpec { redirect_uris: vec!["http://shop.example/cb".into()], ..spec() }, 0).is_err()
        );
        assert!(build_client(&ClientSpec { grants: vec!["implicit".into()], ..spec() }, 0).is_err());
        assert!(build_client(&ClientSpec { id_token_alg: Some("HS256".into()), ..spec() }, 0).is_err());
        assert!(build_client(&ClientSpec { secret: Some(Secret::new("short")), ..spec() }, 0).is_err());
        assert!(build_client(&ClientSpec { redirect_uris: vec![], ..spec() }, 0).is_err());
    }

    #[test]
    fn strict_protocol_settings_are_refused_where_they_cannot_hold() {
        let settings = |pairs: &[&str]| parse_settings(&pairs.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>());
        let with = |s: ClientSettings| ClientSpec { settings: s, ..spec() };
        // Without keys nothing could verify the signed request objects it would have to send.
        assert!(build_client(&with(settings(&["require_signed_request_object=true"]).unwrap()), 0).is_err());
        // A session refresh token is a refresh token: the client needs the grant.
        assert!(build_client(&with(settings(&["session_refresh_tokens=true"]).unwrap()), 0).is_err());
        let refreshing = ClientSpec {
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            ..with(settings(&["session_refresh_tokens=true", "refresh_race_window=10"]).unwrap())
        };
        assert!(build_client(&refreshing, 0).is_ok());
        for window in ["refresh_race_window=61", "refresh_race_window=-1"] {
            assert!(build_client(&with(settings(&[window]).unwrap()), 0).is_err(), "{window} was accepted");
        }
    }

    #[test]
    fn settings_are_typed_and_unknown_keys_refused() {
        let s = parse_settings(&["access_token_format=jwt".into(), "access_token_ttl=300".into()]).unwrap();
        assert_eq!(s.access_token_format, crate::domain::client::AccessTokenFormat::Jwt);
        assert_eq!(s.access_token_ttl, Some(300));
        assert!(parse_settings(&["colour=blue".into()]).is_err());
        assert!(parse_settings(&["access_token_ttl".into()]).is_err());
    }

    #[test]
    fn birth_dates_must_be_real_dates() {
        for good in ["2001-02-03", "2000-02-29", "1999-12-31", " 1960-01-01 "] {
            assert_eq!(parse_birth_date(good).unwrap(), good.trim(), "{good}");
        }
        for bad in [
            "2001-2-3",
            "03/02/2001",
            "2001-02-30",
            "1900-02-29",
            "2001-13-01",
            "2001-00-10",
            "2001-01-00",
            "+001-01-01",
            "1850-01-01",
            "",
        ] {
            assert!(parse_birth_date(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn identifiers_need_a_plain_kind_a_value_and_one_value_per_kind() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(parse_identifiers(&[pair(" numic ", " 123 ")]).unwrap(), vec![pair("numic", "123")]);
        for bad in [
            vec![pair("", "1")],
            vec![pair("Student Number", "1")],
            vec![pair("ine", "")],
            vec![pair("ine", "a\nb")],
            vec![pair("ine", "1"), pair("ine", "2")],
        ] {
            assert!(parse_identifiers(&bad).is_err(), "{bad:?} was accepted");
        }
        assert!(split_identifier("student_number=22=01").unwrap() == pair("student_number", "22=01"));
        assert!(split_identifier("student_number").is_err());
    }

    #[test]
    fn generated_passwords_are_long() {
        assert_eq!(generate_password().expose().len(), 20);
    }
}

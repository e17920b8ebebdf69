//! Administration used by the CLI (and by tests): register clients, add users, seed the demo.
//! Every input is parsed before anything is written, so a bad flag changes nothing.

use crate::crypto;
use crate::domain::client::{ClientFieldError, ClientSettings, parse_client_id};
use crate::domain::{
    AccountStart, AuthMethod, Client, Email, GrantType, Login, NewUser, RedirectUri, Secret, SigningAlg, User,
};
use crate::services::{InfraError, Services};
use crate::store::{PasswordChange, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Field(#[from] ClientFieldError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Duplicate(String),
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
    let grants: Vec<GrantType> = if spec.grants.is_empty() {
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
        settings: spec.settings.clone(),
    };
    crate::oidc::backchannel::check_logout_uris(&client, spec.allow_insecure_http).map_err(AdminError::Invalid)?;
    Ok((client, secret))
}

pub async fn add_client(s: &Services, spec: &ClientSpec) -> Result<(Client, Option<Secret>), AdminError> {
    let (client, secret) = build_client(spec, s.now())?;
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
}

pub async fn add_user(s: &Services, spec: &UserSpec, password: &Secret) -> Result<User, AdminError> {
    let login = Login::parse(&spec.login).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let email = Email::parse(&spec.email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    if password.expose().chars().count() < 8 {
        return Err(AdminError::Invalid("the password must be at least 8 characters".into()));
    }
    // Every user has one of the declared types (issue #4); none given: the default one.
    let user_type = if spec.user_type.is_empty() {
        s.user_types.default_type()
    } else {
        s.user_types
            .get(&spec.user_type)
            .ok_or_else(|| AdminError::Invalid(format!("unknown user type {:?}", spec.user_type)))?
    };
    let user = NewUser {
        login,
        email,
        given_name: spec.given_name.trim().to_owned(),
        family_name: spec.family_name.trim().to_owned(),
        phone_number: spec.phone_number.clone(),
        address: spec.address.clone(),
        user_type: user_type.id.clone(),
        password_hash: s.passwords.hash(password).await?,
        start: AccountStart::Ready,
    };
    let now = s.now();
    let user = s.store.create_user(user, now).await.map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Duplicate(format!("login {:?}", spec.login)),
        other => other.into(),
    })?;
    // The first history entry and the password's age (issue #4).
    let keep = user_type.password_policy.history;
    let change =
        PasswordChange { user_id: &user.id, hash: &user.password_hash, keep, now, keep_sid: None, redeem_token: None };
    s.store.change_password(&change).await?;
    Ok(user)
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
    fn settings_are_typed_and_unknown_keys_refused() {
        let s = parse_settings(&["access_token_format=jwt".into(), "access_token_ttl=300".into()]).unwrap();
        assert_eq!(s.access_token_format, crate::domain::client::AccessTokenFormat::Jwt);
        assert_eq!(s.access_token_ttl, Some(300));
        assert!(parse_settings(&["colour=blue".into()]).is_err());
        assert!(parse_settings(&["access_token_ttl".into()]).is_err());
    }

    #[test]
    fn generated_passwords_are_long() {
        assert_eq!(generate_password().expose().len(), 20);
    }
}

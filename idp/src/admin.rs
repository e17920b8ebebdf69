//! Administration used by the CLI (and by tests): register clients, add users, seed the demo.
//! Every input is parsed before anything is written, so a bad flag changes nothing.

use crate::account::activation::{self, Sent};
use crate::account::session::ClientInfo;
use crate::crypto;
use crate::domain::client::{ClientFieldError, ClientSettings, parse_client_id};
use crate::domain::user_type::UserType;
use crate::domain::{
    AccountStart, AuthMethod, Client, Email, GrantType, Login, NewUser, RedirectUri, Secret, SigningAlg,
    UNUSABLE_PASSWORD_HASH, User,
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
}

pub fn parse_user<'a>(s: &'a Services, spec: &UserSpec) -> Result<ParsedUser<'a>, AdminError> {
    let login = Login::parse(&spec.login).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let email = Email::parse(&spec.email).map_err(|e| AdminError::Invalid(e.to_string()))?;
    // Every user has one of the declared types (issue #4); none given: the default one.
    let user_type = if spec.user_type.is_empty() {
        s.user_types.default_type()
    } else {
        s.user_types
            .get(&spec.user_type)
            .ok_or_else(|| AdminError::Invalid(format!("unknown user type {:?}", spec.user_type)))?
    };
    Ok(ParsedUser { login, email, user_type })
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
    };
    let user = s.store.create_user(user, now).await.map_err(|e| match e {
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
            };
            s.store.change_password(&change).await?;
            None
        }
        UserStart::Provisional => activation::start_provisional(s, &user, &info).await?,
        UserStart::ActivationLink => Some(activation::start_activation_link(s, &user, &info).await?),
    };
    Ok((user, sent))
}

/// The columns of `idp user import`, in this order, on a header line.
pub const IMPORT_COLUMNS: [&str; 5] = ["login", "email", "given_name", "family_name", "user_type"];

/// `idp user import --file users.csv`: every row is checked (fields, user type, logins unique
/// in the file and not taken) before the first account is created; then each account starts
/// with an activation link. Returns the accounts and what was sent.
pub async fn import_users(s: &Services, csv: &str) -> Result<Vec<(User, Sent)>, AdminError> {
    let specs = parse_import(csv)?;
    for (line, spec) in &specs {
        let parsed = parse_user(s, spec).map_err(|e| AdminError::Invalid(format!("line {line}: {e}")))?;
        if specs.iter().any(|(other, o)| other < line && o.login.to_lowercase() == spec.login.to_lowercase()) {
            return Err(AdminError::Invalid(format!("line {line}: login {:?} appears twice", spec.login)));
        }
        if s.store.user_by_login(parsed.login.as_str()).await.map_err(InfraError::from)?.is_some() {
            return Err(AdminError::Duplicate(format!("line {line}: login {:?}", spec.login)));
        }
    }
    let mut created = Vec::with_capacity(specs.len());
    for (_, spec) in &specs {
        let (user, sent) = add_user_starting(s, spec, &UserStart::ActivationLink).await?;
        created.push((user, sent.ok_or_else(|| AdminError::Invalid("no activation link was sent".into()))?));
    }
    Ok(created)
}

/// Rows of the import file with their line numbers; the header must name `IMPORT_COLUMNS`.
/// Fields may be double-quoted (`""` inside quotes is one quote); blank lines are skipped.
fn parse_import(csv: &str) -> Result<Vec<(usize, UserSpec)>, AdminError> {
    let mut lines = csv.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = lines.next().map(|(_, l)| split_csv_line(l)).transpose().map_err(AdminError::Invalid)?;
    let header: Vec<String> = header.unwrap_or_default().iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    if header != IMPORT_COLUMNS {
        return Err(AdminError::Invalid(format!("the first line must be {}", IMPORT_COLUMNS.join(","))));
    }
    let mut specs = Vec::new();
    for (index, line) in lines {
        let n = index + 1;
        let fields = split_csv_line(line).map_err(|e| AdminError::Invalid(format!("line {n}: {e}")))?;
        let [login, email, given_name, family_name, user_type]: [String; 5] = fields
            .try_into()
            .map_err(|_| AdminError::Invalid(format!("line {n}: expected {} fields", IMPORT_COLUMNS.len())))?;
        let spec = UserSpec { login, email, given_name, family_name, user_type, ..UserSpec::default() };
        specs.push((n, spec));
    }
    if specs.is_empty() {
        return Err(AdminError::Invalid("the file has no user".into()));
    }
    Ok(specs)
}

fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(field.trim().to_owned());
    Ok(fields)
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
    ClientInfo { user_agent: "idp-cli".into(), ip: "-".into() }
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
    fn import_files_are_parsed_with_quotes_and_line_numbers() {
        let csv = "login,email,given_name,family_name,user_type\n\n\
                   a.b,a@x.fr,\"Anne, Marie\",\"D\"\"Arc\",elu\r\nc.d,c@x.fr,Claude,Durand,\n";
        let rows = parse_import(csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 3, "line numbers count blank lines");
        assert_eq!((rows[0].1.given_name.as_str(), rows[0].1.family_name.as_str()), ("Anne, Marie", "D\"Arc"));
        assert_eq!(rows[1].1.user_type, "");
        assert!(parse_import("login,email\na,b\n").is_err(), "wrong header");
        assert!(parse_import("login,email,given_name,family_name,user_type\n").is_err(), "no user");
        assert!(parse_import("login,email,given_name,family_name,user_type\na,b,c\n").is_err(), "short row");
        assert!(parse_import("login,email,given_name,family_name,user_type\na,b,\"c,d,e\n").is_err(), "open quote");
    }

    #[test]
    fn generated_passwords_are_long() {
        assert_eq!(generate_password().expose().len(), 20);
    }
}

//! Dynamic client registration (RFC 7591) and its management (RFC 7592), off unless
//! `dynamic_registration = true`. Registering needs an initial access token an administrator
//! issued (`idp client registration-token`, `admin::clients::issue_registration_token`): stored
//! as a digest, good for a number of registrations (one by default) until it expires. Each
//! registered client gets a registration access token (digest stored) for its configuration
//! endpoint `/register/{client_id}`: read, replace, delete. Metadata goes through the same
//! validation as the CLI (`admin::build_client`), with https redirect URIs only.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::account::audit;
use crate::admin::{AdminError, ClientSpec, build_client};
use crate::crypto;
use crate::domain::{AuthMethod, Client, RedirectUri};
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;
use crate::store::StoreError;

/// What goes wrong, with the status and code each maps to (RFC 7591 §3.2.2, RFC 7592 §2,
/// RFC 6750 §3.1).
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Registration is switched off: the endpoint does not exist (404).
    #[error("dynamic registration is not enabled")]
    Disabled,
    /// A missing, unknown, spent or expired token (401 `invalid_token`); RFC 7592 §2.1: also
    /// a client that does not exist or is not this token's.
    #[error("invalid or missing token")]
    InvalidToken,
    /// RFC 7591 §3.2.2 `invalid_redirect_uri`.
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// RFC 7591 §3.2.2 `invalid_client_metadata`.
    #[error("{0}")]
    InvalidClientMetadata(String),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl From<StoreError> for RegistrationError {
    fn from(e: StoreError) -> Self {
        RegistrationError::Infra(e.into())
    }
}

impl RegistrationError {
    /// The RFC error code, for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            RegistrationError::Disabled => "not_found",
            RegistrationError::InvalidToken => "invalid_token",
            RegistrationError::InvalidRedirectUri(_) => "invalid_redirect_uri",
            RegistrationError::InvalidClientMetadata(_) => "invalid_client_metadata",
            RegistrationError::Infra(_) => "server_error",
        }
    }
}

/// RFC 7591 §2 client metadata, as far as this server implements it; other members are
/// ignored (§2: "The authorization server MUST ignore any client metadata … that it does not
/// understand").
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Metadata {
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    /// RFC 7592 §2.2: an update names the client it replaces.
    pub client_id: Option<String>,
}

/// A successful answer: the status (201 on creation, 200 otherwise) and the JSON body.
#[derive(Debug)]
pub struct Answer {
    pub created: bool,
    pub body: Value,
}

/// RFC 7591 §3: registers a client. `initial_token` is the bearer token of the request.
pub async fn register(
    s: &Services,
    initial_token: Option<&str>,
    body: &[u8],
    info: &ClientInfo,
) -> Result<Answer, RegistrationError> {
    if !s.admin.dynamic_registration {
        return Err(RegistrationError::Disabled);
    }
    let token = initial_token.ok_or(RegistrationError::InvalidToken)?;
    let metadata = parse(body)?;
    // The id is the server's (§3.2.1); checked before the token is spent, so a malformed
    // request does not use up a single-use token.
    let id = format!("dyn-{}", crypto::random_token(12).to_lowercase().replace(['-', '_'], "x"));
    let (client, secret) = build(&metadata, &id, s.now())?;
    crate::oidc::subject::check_registration(&client).await.map_err(RegistrationError::InvalidClientMetadata)?;
    if !s.store.take_registration_token(&crypto::digest(token), s.now()).await? {
        return Err(RegistrationError::InvalidToken);
    }
    let access_token = crypto::random_token(32);
    s.store.create_registered_client(&client, &crypto::digest(&access_token), s.now()).await?;
    audit::record(s, None, audit::CLIENT_REGISTERED, info, json!({ "client_id": client.id })).await?;
    let mut body = response(s, &client);
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret.expose());
        // RFC 7591 §3.2.1: 0 means the secret does not expire.
        body["client_secret_expires_at"] = json!(0);
    }
    body["registration_access_token"] = json!(access_token);
    Ok(Answer { created: true, body })
}

/// RFC 7592 §2.1: the client's current registration (its secret is not kept, so not shown).
pub async fn read(s: &Services, client_id: &str, token: Option<&str>) -> Result<Answer, RegistrationError> {
    let client = authorize(s, client_id, token).await?;
    Ok(Answer { created: false, body: response(s, &client) })
}

/// RFC 7592 §2.2: replaces the registration with the metadata sent (omitted values take their
/// defaults); the client id, secret and authentication method stay.
pub async fn replace(
    s: &Services,
    client_id: &str,
    token: Option<&str>,
    body: &[u8],
    info: &ClientInfo,
) -> Result<Answer, RegistrationError> {
    let current = authorize(s, client_id, token).await?;
    let metadata = parse(body)?;
    if metadata.client_id.as_deref() != Some(client_id) {
        return Err(RegistrationError::InvalidClientMetadata("client_id must be this client's".into()));
    }
    let (built, _) = build(&metadata, client_id, current.created_at)?;
    if built.auth_method != current.auth_method {
        return Err(RegistrationError::InvalidClientMetadata("token_endpoint_auth_method cannot change".into()));
    }
    crate::oidc::subject::check_registration(&built).await.map_err(RegistrationError::InvalidClientMetadata)?;
    let updated = Client { secret_digest: current.secret_digest.clone(), ..built };
    s.store.update_client(&updated).await?;
    let detail = json!({ "client_id": client_id, "actor": { "type": "registration", "client_id": client_id } });
    audit::record(s, None, audit::CLIENT_UPDATED, info, detail).await?;
    Ok(Answer { created: false, body: response(s, &updated) })
}

/// RFC 7592 §2.3: deletes the client (and its tokens, consents and registration).
pub async fn delete(
    s: &Services,
    client_id: &str,
    token: Option<&str>,
    info: &ClientInfo,
) -> Result<(), RegistrationError> {
    authorize(s, client_id, token).await?;
    s.store.delete_client(client_id).await?;
    let detail = json!({ "client_id": client_id, "actor": { "type": "registration", "client_id": client_id } });
    audit::record(s, None, audit::CLIENT_DELETED, info, detail).await?;
    Ok(())
}

/// The client named by the path, if `token` is its registration access token.
async fn authorize(s: &Services, client_id: &str, token: Option<&str>) -> Result<Client, RegistrationError> {
    if !s.admin.dynamic_registration {
        return Err(RegistrationError::Disabled);
    }
    let token = token.ok_or(RegistrationError::InvalidToken)?;
    let owner = s.store.registered_client_id(&crypto::digest(token)).await?;
    if owner.as_deref() != Some(client_id) {
        return Err(RegistrationError::InvalidToken);
    }
    s.store.client(client_id).await?.ok_or(RegistrationError::InvalidToken)
}

fn parse(body: &[u8]) -> Result<Metadata, RegistrationError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => serde_json::from_value(value)
            .map_err(|e| RegistrationError::InvalidClientMetadata(format!("malformed metadata: {e}"))),
        _ => Err(RegistrationError::InvalidClientMetadata("the body must be a JSON object".into())),
    }
}

/// The metadata as a client, through the CLI's validation.
fn build(m: &Metadata, id: &str, now: i64) -> Result<(Client, Option<crate::domain::Secret>), RegistrationError> {
    // https only (issue #12): no http, not even on loopback, for a client nobody reviewed.
    for uri in m.redirect_uris.iter().chain(&m.post_logout_redirect_uris) {
        let parsed =
            RedirectUri::parse(uri, false).map_err(|e| RegistrationError::InvalidRedirectUri(e.to_string()))?;
        if !parsed.as_str().starts_with("https://") {
            return Err(RegistrationError::InvalidRedirectUri(format!("{uri:?}: only https redirect URIs")));
        }
    }
    if let Some(types) = &m.response_types
        && types.iter().any(|t| t != "code")
    {
        return Err(RegistrationError::InvalidClientMetadata("only the code response type is supported".into()));
    }
    let method = m.token_endpoint_auth_method.clone().unwrap_or_else(|| "client_secret_basic".into());
    let public = method == AuthMethod::None.as_str();
    let mut settings = crate::domain::client::ClientSettings {
        jwks: m.jwks.clone(),
        jwks_uri: m.jwks_uri.clone(),
        backchannel_logout_uri: m.backchannel_logout_uri.clone(),
        frontchannel_logout_uri: m.frontchannel_logout_uri.clone(),
        ..Default::default()
    };
    // A registered client may not ask for the administration scopes.
    settings.allowed_scopes = Some(crate::domain::scope::SUPPORTED.iter().map(|s| (*s).to_owned()).collect());
    let spec = ClientSpec {
        id: id.to_owned(),
        name: m.client_name.clone().unwrap_or_default(),
        public,
        secret: None,
        redirect_uris: m.redirect_uris.clone(),
        post_logout_redirect_uris: m.post_logout_redirect_uris.clone(),
        grants: m.grant_types.clone().unwrap_or_else(|| vec!["authorization_code".into()]),
        auth_method: Some(method),
        id_token_alg: m.id_token_signed_response_alg.clone(),
        theme: None,
        first_party: false,
        allow_insecure_http: false,
        settings,
        cas_services: Vec::new(),
    };
    build_client(&spec, now).map_err(|e| match e {
        AdminError::Infra(e) => RegistrationError::Infra(e),
        other => RegistrationError::InvalidClientMetadata(other.to_string()),
    })
}

/// RFC 7591 §3.2.1 / RFC 7592 §3: the client information response, without secrets.
fn response(s: &Services, c: &Client) -> Value {
    let uris = |u: &[RedirectUri]| u.iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>();
    let mut body = json!({
        "client_id": c.id,
        "client_id_issued_at": c.created_at,
        "client_name": c.name,
        "redirect_uris": uris(&c.redirect_uris),
        "post_logout_redirect_uris": uris(&c.post_logout_redirect_uris),
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types": if c.redirect_uris.is_empty() { json!([]) } else { json!(["code"]) },
        "token_endpoint_auth_method": c.auth_method.as_str(),
        "id_token_signed_response_alg": c.id_token_alg.as_str(),
        "registration_client_uri": format!("{}/register/{}", s.issuer, c.id),
    });
    for (name, value) in [
        ("jwks_uri", c.settings.jwks_uri.clone().map(Value::String)),
        ("jwks", c.settings.jwks.clone()),
        ("backchannel_logout_uri", c.settings.backchannel_logout_uri.clone().map(Value::String)),
        ("frontchannel_logout_uri", c.settings.frontchannel_logout_uri.clone().map(Value::String)),
    ] {
        if let Some(value) = value {
            body[name] = value;
        }
    }
    body
}

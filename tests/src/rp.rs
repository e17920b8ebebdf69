//! A real relying party on the `openidconnect` crate, as an application would use it.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};

pub type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

pub struct Rp {
    pub client: Client,
    pub http: reqwest::Client,
    pub metadata: CoreProviderMetadata,
}

pub struct Pending {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

impl Rp {
    pub async fn discover(issuer: &str, client_id: &str, secret: Option<&str>, redirect_uri: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let metadata =
            CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).unwrap(), &http).await.unwrap();
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(client_id.into()),
            secret.map(|s| ClientSecret::new(s.into())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect_uri.into()).unwrap());
        Self { client, http, metadata }
    }

    pub fn start(&self, scopes: &[&str]) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for s in scopes {
            request = request.add_scope(Scope::new((*s).into()));
        }
        let (url, state, nonce) = request.url();
        Pending { url: url.to_string(), state, nonce, verifier }
    }

    pub async fn exchange(
        &self,
        code: &str,
        verifier: PkceCodeVerifier,
    ) -> Result<openidconnect::core::CoreTokenResponse, String> {
        self.client
            .exchange_code(AuthorizationCode::new(code.into()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| format!("{e:?}"))
    }
}

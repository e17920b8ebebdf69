//! The fixture the fuzz targets share: a real `Services` (a SQLite file in a temporary folder,
//! the in-process ephemeral store, a clock that never moves) with a few registered clients and
//! one user, built once per fuzzing process. The targets call the library's own functions with
//! it: the parsing and validation layers (`authorize::check_request`,
//! `client_auth::credentials`, `client_assertion::check`, `request_object::apply`,
//! `logout::parse`, …) with the clients already loaded here, so that an execution reads no
//! store; the optional `*_flow` targets run whole flows (`authorize::start`, `token::token`)
//! through the store. Nothing is parsed here, so what is fuzzed is the code that serves
//! requests.
//!
//! Start-up may panic (it is not under test); the flows under test must not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use idp::session::{self, BrowserSession};
use idp::admin::{self, ClientSpec, UserSpec};
use idp::clock::{Clock, UnixTime};
use idp::config::{Config, RawConfig};
use idp::crypto::b64url;
use idp::domain::client::ClientSettings;
use idp::domain::{Client, Secret, SigningAlg};
use idp::ephemeral::memory::MemoryEphemeral;
use idp::oidc::jws::{KeyMaterial, SigningKey};
use idp::services::Services;
use serde_json::{Value, json};

/// The fixture's time: fixed, so that seeds with `exp`/`iat` near it stay valid for ever.
pub const NOW: UnixTime = 1_900_000_000;
pub const ISSUER: &str = "https://idp.example";
pub const REDIRECT_URI: &str = "https://rp.example/callback";
/// Client ids of the fixture, as the seeds name them.
pub const CONFIDENTIAL: &str = "shop";
pub const CONFIDENTIAL_SECRET: &str = "shop-secret-0123456789abcdefghijklmnop";
pub const PUBLIC: &str = "spa";
pub const JWT_CLIENT: &str = "signed";
/// Replaced in an input by an ID token of this provider for `shop` and the fixture's session
/// (`id_token_hint` cannot be guessed by a fuzzer).
pub const HINT_PLACEHOLDER: &str = "@HINT@";
/// How many executions share one ephemeral store before it is replaced: its entries live for
/// minutes of real time, and a million valid requests would otherwise fill the memory.
const EPHEMERAL_RESET_EVERY: u64 = 20_000;

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        NOW
    }
}

pub struct Fixture {
    runtime: tokio::runtime::Runtime,
    pub services: Services,
    pub confidential: Client,
    pub public: Client,
    /// `private_key_jwt`, with `client_key`'s public half registered inline.
    pub jwt_client: Client,
    pub client_key: SigningKey,
    /// A signed-in user's browser session.
    pub session: BrowserSession,
    /// An ID token of this provider for `shop` and `session`.
    pub id_token_hint: String,
    executions: u64,
    _dir: tempfile::TempDir,
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}

/// Runs `f` with the process's fixture, building it on first use.
pub fn with_fixture<R>(f: impl FnOnce(&mut Fixture) -> R) -> R {
    FIXTURE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fixture = slot.get_or_insert_with(Fixture::build);
        fixture.executions += 1;
        if fixture.executions.is_multiple_of(EPHEMERAL_RESET_EVERY) {
            // The session lives on in `session` (flows receive it loaded); only its entry goes.
            fixture.services.ephemeral = Arc::new(MemoryEphemeral::new());
        }
        f(fixture)
    })
}

impl Fixture {
    /// Runs one flow to completion.
    pub fn run<F: Future>(&self, flow: F) -> F::Output {
        self.runtime.block_on(flow)
    }

    /// `input` with the placeholder replaced by a real ID token hint.
    pub fn with_hint(&self, input: &str) -> String {
        input.replace(HINT_PLACEHOLDER, &self.id_token_hint)
    }

    /// The fixture's client `id`, as the store would return it.
    pub fn client(&self, id: &str) -> Option<&Client> {
        [&self.confidential, &self.public, &self.jwt_client].into_iter().find(|c| c.id == id)
    }

    /// An unsigned (`alg: none`) compact JWS of `claims`.
    pub fn unsigned_jwt(claims: &Value) -> String {
        format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(claims.to_string().as_bytes()))
    }

    /// A compact JWS of `claims` signed with the `signed` client's key (EdDSA).
    pub fn sign_as_client(&self, claims: &Value) -> String {
        self.client_key.sign_jwt("JWT", claims).expect("signing with the fixture key")
    }

    fn build() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let raw = RawConfig {
            issuer: ISSUER.into(),
            data_dir: dir.path().to_path_buf(),
            database_url: Some(format!("sqlite:{}", dir.path().join("idp.db").display())),
            themes_dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("themes")),
            // Small argon2 parameters: the fixture's user is created once, and password
            // hashing is not what is fuzzed.
            argon2_m_cost: 1024,
            argon2_t_cost: 1,
            argon2_p_cost: 1,
            ..RawConfig::default()
        };
        let config = Config::validate(raw).expect("the fixture's settings");
        let fixture = runtime.block_on(async {
            let services = idp::app::services(&config, Arc::new(FixedClock)).await.expect("services");
            let client_key = SigningKey {
                kid: "client-key-1".into(),
                alg: SigningAlg::EdDSA,
                material: KeyMaterial::import(SigningAlg::EdDSA, &b64url(&[7u8; 32])).expect("a fixed Ed25519 seed"),
                created_at: 0,
                retired_at: None,
            };
            let spec = |id: &str| ClientSpec {
                id: id.into(),
                name: format!("Client {id}"),
                redirect_uris: vec![REDIRECT_URI.into(), "com.example.app:/cb".into()],
                post_logout_redirect_uris: vec![format!("{REDIRECT_URI}/bye")],
                grants: vec!["authorization_code".into(), "refresh_token".into(), "client_credentials".into()],
                ..ClientSpec::default()
            };
            let (confidential, _) = admin::add_client(
                &services,
                &ClientSpec {
                    secret: Some(Secret::new(CONFIDENTIAL_SECRET)),
                    settings: ClientSettings {
                        allowed_scopes: Some(vec!["api.read".into(), "api.write".into()]),
                        ..ClientSettings::default()
                    },
                    ..spec(CONFIDENTIAL)
                },
            )
            .await
            .expect("the confidential client");
            let (public, _) =
                admin::add_client(&services, &ClientSpec { public: true, grants: vec![], ..spec(PUBLIC) })
                    .await
                    .expect("the public client");
            let (jwt_client, _) = admin::add_client(
                &services,
                &ClientSpec {
                    auth_method: Some("private_key_jwt".into()),
                    settings: ClientSettings {
                        jwks: Some(json!({"keys": [client_key.public_jwk()]})),
                        ..ClientSettings::default()
                    },
                    ..spec(JWT_CLIENT)
                },
            )
            .await
            .expect("the private_key_jwt client");
            let user = admin::add_user(
                &services,
                &UserSpec {
                    login: "alice".into(),
                    email: "alice@example.org".into(),
                    given_name: "Alice".into(),
                    family_name: "Martin".into(),
                    ..UserSpec::default()
                },
                &Secret::new("Correct-horse-battery-1"),
            )
            .await
            .expect("the fixture's user");
            let info = session::ClientInfo { user_agent: "fuzz".into(), ip: "127.0.0.1".into() };
            let (_, session) = session::create(&services, &user.id, &["pwd"], &info).await.expect("a session");
            let subject = idp::oidc::subject::for_client(&services, &user.id, &confidential).await.expect("a subject");
            let id_token_hint = services
                .keys
                .active(SigningAlg::RS256)
                .expect("an active RS256 key")
                .sign_jwt(
                    "JWT",
                    &json!({"iss": ISSUER, "sub": subject, "aud": CONFIDENTIAL, "sid": session.sid,
                            "iat": NOW, "exp": NOW + 300}),
                )
                .expect("an ID token");
            (services, confidential, public, jwt_client, client_key, session, id_token_hint)
        });
        let (services, confidential, public, jwt_client, client_key, session, id_token_hint) = fixture;
        Fixture {
            runtime,
            services,
            confidential,
            public,
            jwt_client,
            client_key,
            session,
            id_token_hint,
            executions: 0,
            _dir: dir,
        }
    }
}

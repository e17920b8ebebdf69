//! Machine grants and token management: the client credentials grant (RFC 6749 §4.4),
//! introspection (RFC 7662), revocation (RFC 7009), and refresh token rotation: strict by
//! default, and for a client that opts in, two browser tabs refreshing at once without turning
//! reuse detection off (decision 0008).

use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use reqwest::StatusCode;
use serde_json::Value;

use idp_tests::RP_CALLBACK;

use crate::support_protocol::{Answer, CLIENT_ID, World, basic, get_userinfo, machine, post_token};

/// Registers a machine-to-machine client (client_secret_basic, client_credentials only, no
/// redirect URI) allowed `scopes`; returns its secret.
async fn machine_client(app: &idp_tests::TestApp, id: &str, scopes: &[&str]) -> String {
    let spec = ClientSpec {
        id: id.into(),
        grants: vec!["client_credentials".into()],
        settings: ClientSettings {
            allowed_scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    };
    app.client(spec).await.1.expect("a confidential client gets a secret")
}

async fn client_credentials(app: &idp_tests::TestApp, id: &str, secret: &str, scope: Option<&str>) -> Answer {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_token(app, Some(&basic(id, secret)), &form).await
}

async fn post_form(
    app: &idp_tests::TestApp,
    path: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let response =
        machine().post(app.url(path)).header("authorization", basic(id, secret)).form(form).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn introspect(app: &idp_tests::TestApp, id: &str, secret: &str, token: &str) -> Value {
    let (status, body) = post_form(app, "/introspect", id, secret, &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "introspection answered {status}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn revoke(app: &idp_tests::TestApp, id: &str, secret: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    post_form(app, "/revoke", id, secret, form).await
}

fn assert_error(answer: &Answer, status: StatusCode, error: &str) {
    assert_eq!(answer.status, status, "the client received {}", answer.json);
    assert_eq!(answer.error(), error, "the client received {}", answer.json);
}

// --- The client credentials grant (RFC 6749 §4.4) ---

#[tokio::test]
async fn client_credentials_issues_an_access_token_and_nothing_else() {
    // §4.4.3: an access token; "A refresh token SHOULD NOT be included"; no user, so no ID token.
    let world = World::new().await;
    let secret = machine_client(&world.app, "batch", &["api.read"]).await;

    let answer = client_credentials(&world.app, "batch", &secret, Some("api.read")).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.str("token_type"), "Bearer");
    assert_eq!(answer.str("scope"), "api.read");
    assert!(answer.json.get("refresh_token").is_none(), "a refresh token was issued: {}", answer.json);
    assert!(answer.json.get("id_token").is_none(), "an ID token was issued: {}", answer.json);
}

#[tokio::test]
async fn client_credentials_without_scope_gets_the_allowed_scopes() {
    // RFC 6749 §3.3: without `scope`, a pre-defined default: here, what the client may have.
    let world = World::new().await;
    let secret = machine_client(&world.app, "batch", &["api.read", "api.write"]).await;

    let answer = client_credentials(&world.app, "batch", &secret, None).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.str("scope"), "api.read api.write");
}

#[tokio::test]
async fn client_credentials_refuses_a_scope_the_client_is_not_allowed() {
    // RFC 6749 §5.2 invalid_scope: "exceeds the scope granted by the resource owner".
    let world = World::new().await;
    let secret = machine_client(&world.app, "batch", &["api.read"]).await;

    let answer = client_credentials(&world.app, "batch", &secret, Some("api.read api.write")).await;

    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_scope");
}

#[tokio::test]
async fn client_credentials_refuses_openid_and_the_other_user_scopes() {
    // No user is involved, so openid (and profile, offline_access, …) cannot be granted: refused
    // with invalid_scope rather than silently dropped.
    let world = World::new().await;
    let secret = machine_client(&world.app, "batch", &["api.read", "openid"]).await;

    for scope in ["openid", "api.read openid", "offline_access", "profile"] {
        let answer = client_credentials(&world.app, "batch", &secret, Some(scope)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_scope");
    }
    let default = client_credentials(&world.app, "batch", &secret, None).await;
    assert_eq!(default.str("scope"), "api.read", "the default never includes openid");
}

#[tokio::test]
async fn client_credentials_is_refused_to_a_client_not_registered_for_it() {
    // RFC 6749 §5.2 unauthorized_client.
    let world = World::new().await;

    let answer = client_credentials(&world.app, CLIENT_ID, &world.secret, None).await;

    assert_error(&answer, StatusCode::BAD_REQUEST, "unauthorized_client");
}

#[tokio::test]
async fn a_public_client_cannot_be_registered_for_client_credentials() {
    // RFC 6749 §4.4: "MUST only be used by confidential clients".
    let spec = ClientSpec {
        id: "spa".into(),
        public: true,
        redirect_uris: vec!["http://127.0.0.1:5173/cb".into()],
        grants: vec!["authorization_code".into(), "client_credentials".into()],
        ..ClientSpec::default()
    };
    assert!(idp::admin::build_client(&spec, 0).is_err());
}

#[tokio::test]
async fn a_jwt_access_token_of_a_machine_client_names_the_client_as_its_subject() {
    // RFC 9068 §2.2: without a resource owner, `sub` identifies the client.
    let world = World::new().await;
    let spec = ClientSpec {
        id: "batch".into(),
        grants: vec!["client_credentials".into()],
        settings: ClientSettings {
            allowed_scopes: Some(vec!["api.read".into()]),
            access_token_format: idp::domain::client::AccessTokenFormat::Jwt,
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    };
    let secret = world.app.client(spec).await.1.unwrap();

    let answer = client_credentials(&world.app, "batch", &secret, None).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    let payload = answer.str("access_token").split('.').nth(1).expect("a JWT access token").to_owned();
    let claims: Value = {
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    assert_eq!(claims["sub"], "batch", "{claims}");
    assert_eq!(claims["client_id"], "batch");
    assert_eq!(claims["scope"], "api.read");
}

#[tokio::test]
async fn userinfo_refuses_a_client_credentials_token() {
    // OpenID Connect Core §5.3: userinfo needs a token from an OpenID Connect authentication
    // request; a token without openid gets insufficient_scope (RFC 6750 §3.1, 403).
    let world = World::new().await;
    let secret = machine_client(&world.app, "batch", &["api.read"]).await;
    let token = client_credentials(&world.app, "batch", &secret, None).await;

    let answer = get_userinfo(&world.app, token.str("access_token")).await;

    assert_error(&answer, StatusCode::FORBIDDEN, "insufficient_scope");
}

// --- Introspection (RFC 7662) ---

#[tokio::test]
async fn introspection_describes_an_active_access_token_of_a_user() {
    // §2.2: active, plus scope, client_id, sub, exp, iat, token_type, iss, aud.
    let world = World::new().await;
    let tokens = world.tokens("openid email").await;

    let answer = introspect(&world.app, CLIENT_ID, &world.secret, tokens.str("access_token")).await;

    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "email openid");
    assert_eq!(answer["client_id"], CLIENT_ID);
    assert_eq!(answer["sub"], world.alice.id.as_str());
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["iss"], world.app.issuer.as_str());
    assert_eq!(answer["aud"], CLIENT_ID);
    assert!(answer["exp"].as_i64().unwrap() > answer["iat"].as_i64().unwrap(), "{answer}");
}

#[tokio::test]
async fn introspection_of_a_client_credentials_token_has_no_sub() {
    let world = World::new().await;
    let secret = machine_client(&world.app, "batch", &["api.read"]).await;
    let token = client_credentials(&world.app, "batch", &secret, None).await;

    let answer = introspect(&world.app, "batch", &secret, token.str("access_token")).await;

    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], "batch");
    assert_eq!(answer["scope"], "api.read");
    assert!(answer.get("sub").is_none(), "a machine token speaks for no user: {answer}");
}

#[tokio::test]
async fn introspection_describes_an_active_refresh_token() {
    // §2.1: the hint is optional; a refresh token is found with or without it.
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let refresh_token = tokens.str("refresh_token");

    let plain = introspect(&world.app, CLIENT_ID, &world.secret, refresh_token).await;
    let (status, hinted) = post_form(
        &world.app,
        "/introspect",
        CLIENT_ID,
        &world.secret,
        &[("token", refresh_token), ("token_type_hint", "access_token")],
    )
    .await;

    assert_eq!(plain["active"], true, "{plain}");
    assert_eq!(plain["sub"], world.alice.id.as_str());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&hinted).unwrap()["active"], true, "a wrong hint hid the token");
}

#[tokio::test]
async fn introspection_says_inactive_for_unknown_expired_and_revoked_tokens() {
    // §2.2: "If the introspection call is properly authorized but the token is not active, does
    // not exist on this server, or the protected resource is not allowed to introspect this
    // particular token, then the authorization server MUST return ... {"active": false}".
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let access_token = tokens.str("access_token");

    let unknown = introspect(&world.app, CLIENT_ID, &world.secret, "no-such-token").await;
    assert_eq!(unknown, serde_json::json!({"active": false}));

    revoke(&world.app, CLIENT_ID, &world.secret, &[("token", tokens.str("refresh_token"))]).await;
    let revoked = introspect(&world.app, CLIENT_ID, &world.secret, access_token).await;
    assert_eq!(revoked, serde_json::json!({"active": false}), "revoking the grant left the access token active");

    let fresh = world.tokens("openid").await;
    world.app.clock.advance(world.app.config.lifetimes.access_token + 1);
    let expired = introspect(&world.app, CLIENT_ID, &world.secret, fresh.str("access_token")).await;
    assert_eq!(expired, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn introspection_says_inactive_for_a_rotated_refresh_token() {
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let rotated = world.refresh(tokens.str("refresh_token")).await;

    let old = introspect(&world.app, CLIENT_ID, &world.secret, tokens.str("refresh_token")).await;
    let new = introspect(&world.app, CLIENT_ID, &world.secret, rotated.str("refresh_token")).await;

    assert_eq!(old, serde_json::json!({"active": false}));
    assert_eq!(new["active"], true, "{new}");
}

#[tokio::test]
async fn introspection_says_inactive_for_another_clients_token() {
    // A client only learns about tokens it may see; the answer does not even reveal that the
    // token exists.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;
    let secret = machine_client(&world.app, "batch", &["api.read"]).await;

    let answer = introspect(&world.app, "batch", &secret, tokens.str("access_token")).await;

    assert_eq!(answer, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    // §2.1: the endpoint requires authorization: a wrong secret is 401 invalid_client, and a
    // public client (which only names itself) may not introspect.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;

    let (status, body) =
        post_form(&world.app, "/introspect", CLIENT_ID, "wrong-secret", &[("token", tokens.str("access_token"))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let spa = ClientSpec {
        id: "spa".into(),
        public: true,
        redirect_uris: vec!["http://127.0.0.1:5173/cb".into()],
        ..ClientSpec::default()
    };
    world.app.client(spa).await;
    let response = machine()
        .post(world.app.url("/introspect"))
        .form(&[("token", tokens.str("access_token")), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn introspection_without_a_token_is_invalid_request() {
    let world = World::new().await;

    let (status, body) = post_form(&world.app, "/introspect", CLIENT_ID, &world.secret, &[]).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("invalid_request"), "{body}");
}

// --- Revocation (RFC 7009) ---

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant_and_access_tokens() {
    // §2.1: "If the token passed to the request is a refresh token and the authorization server
    // supports the revocation of access tokens, then the authorization server SHOULD also
    // invalidate all access tokens based on the same authorization grant".
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;

    let (status, body) = revoke(
        &world.app,
        CLIENT_ID,
        &world.secret,
        &[("token", tokens.str("refresh_token")), ("token_type_hint", "refresh_token")],
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_error(&world.refresh(tokens.str("refresh_token")).await, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(get_userinfo(&world.app, tokens.str("access_token")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_an_access_token_revokes_that_token_only() {
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;

    // A wrong hint is not trusted: the token is still found (§2.1).
    let (status, _) = revoke(
        &world.app,
        CLIENT_ID,
        &world.secret,
        &[("token", tokens.str("access_token")), ("token_type_hint", "refresh_token")],
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(get_userinfo(&world.app, tokens.str("access_token")).await.status, StatusCode::UNAUTHORIZED);
    let refreshed = world.refresh(tokens.str("refresh_token")).await;
    assert_eq!(refreshed.status, StatusCode::OK, "the grant should live on: {}", refreshed.json);
}

#[tokio::test]
async fn revoking_an_unknown_token_answers_200() {
    // §2.2: "invalid tokens do not cause an error response since the client cannot handle such
    // an error in a reasonable way".
    let world = World::new().await;

    let (status, body) = revoke(&world.app, CLIENT_ID, &world.secret, &[("token", "no-such-token")]).await;

    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn revoking_another_clients_token_is_refused_and_revokes_nothing() {
    // §2.1: the server "verifies whether the token was issued to the client making the
    // revocation request. If this validation fails, the request is refused and the client is
    // informed of the error" (RFC 6749 §5.2 unauthorized_client).
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let secret = machine_client(&world.app, "batch", &["api.read"]).await;

    let (status, body) = revoke(&world.app, "batch", &secret, &[("token", tokens.str("refresh_token"))]).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("unauthorized_client"), "{body}");
    assert_eq!(get_userinfo(&world.app, tokens.str("access_token")).await.status, StatusCode::OK);
    assert_eq!(world.refresh(tokens.str("refresh_token")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn discovery_advertises_introspection_revocation_and_client_credentials() {
    // RFC 8414 §2 metadata, and grant_types_supported with client_credentials.
    let world = World::new().await;
    let doc: Value =
        machine().get(world.app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();

    assert_eq!(doc["introspection_endpoint"], world.app.url("/introspect"));
    assert_eq!(doc["revocation_endpoint"], world.app.url("/revoke"));
    assert!(doc["grant_types_supported"].as_array().unwrap().contains(&"client_credentials".into()), "{doc}");
    let introspection_methods = doc["introspection_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(!introspection_methods.contains(&"none".into()), "RFC 7662 §2.1: introspection needs authentication");
}

// --- Refresh token races (decision 0008) ---
//
// Rotation is strict unless the client opted into a race window (issue #10): these tests
// register "shop" with `refresh_race_window = RACE_WINDOW`, as a browser application would.

const RACE_WINDOW: i64 = 10;

/// "shop" registered with a race window of `RACE_WINDOW` seconds.
async fn racing_world() -> World {
    World::with_shop_settings(ClientSettings { refresh_race_window: Some(RACE_WINDOW), ..ClientSettings::default() })
        .await
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_both_succeed_and_share_one_successor() {
    // Two requests with the same refresh token at the same moment: neither logs the user out,
    // both get the same new refresh token (and each its own access token).
    let world = racing_world().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");

    let (a, b) = tokio::join!(world.refresh(old), world.refresh(old));

    assert_eq!(a.status, StatusCode::OK, "the first tab was refused: {}", a.json);
    assert_eq!(b.status, StatusCode::OK, "the second tab was refused: {}", b.json);
    assert_eq!(a.str("refresh_token"), b.str("refresh_token"), "the tabs got different successors");
    assert_ne!(a.str("refresh_token"), old);
    assert_ne!(a.str("access_token"), b.str("access_token"));
    let next = world.refresh(a.str("refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "the shared successor should work: {}", next.json);
}

#[tokio::test]
async fn many_concurrent_refreshes_all_get_the_same_successor() {
    // The store lets exactly one request rotate; the others lose that race and must find the
    // rotation (not treat it as reuse).
    let world = racing_world().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");

    let (a, b, c, d, e, f) = tokio::join!(
        world.refresh(old),
        world.refresh(old),
        world.refresh(old),
        world.refresh(old),
        world.refresh(old),
        world.refresh(old)
    );

    for answer in [&a, &b, &c, &d, &e, &f] {
        assert_eq!(answer.status, StatusCode::OK, "a concurrent refresh was refused: {}", answer.json);
        assert_eq!(answer.str("refresh_token"), a.str("refresh_token"), "the requests got different successors");
    }
}

#[tokio::test]
async fn a_second_tab_a_moment_later_gets_the_same_successor() {
    let world = racing_world().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let first = world.refresh(old).await;
    world.app.clock.advance(RACE_WINDOW - 1);

    let second = world.refresh(old).await;

    assert_eq!(second.status, StatusCode::OK, "the second tab was refused: {}", second.json);
    assert_eq!(second.str("refresh_token"), first.str("refresh_token"));
    assert_eq!(get_userinfo(&world.app, first.str("access_token")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_late_replay_of_a_rotated_refresh_token_revokes_everything() {
    // RFC 9700 §4.14.2: outside the window, a rotated token coming back is reuse: the whole
    // grant is revoked, refresh and access tokens alike.
    let world = racing_world().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let rotated = world.refresh(old).await;
    world.app.clock.advance(RACE_WINDOW + 1);

    let replay = world.refresh(old).await;

    assert_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_error(&world.refresh(rotated.str("refresh_token")).await, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(get_userinfo(&world.app, rotated.str("access_token")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_replay_after_the_successor_was_used_revokes_everything_even_within_the_window() {
    // Once the successor was used, the old token has no business coming back: reuse.
    let world = racing_world().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let rotated = world.refresh(old).await;
    let newest = world.refresh(rotated.str("refresh_token")).await;
    assert_eq!(newest.status, StatusCode::OK, "{}", newest.json);

    let replay = world.refresh(old).await;

    assert_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_error(&world.refresh(newest.str("refresh_token")).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn with_the_window_at_zero_every_replay_revokes() {
    // refresh_race_window = 0 is strict rotation, like leaving it unset.
    let world =
        World::with_shop_settings(ClientSettings { refresh_race_window: Some(0), ..ClientSettings::default() }).await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let rotated = world.refresh(old).await;

    assert_error(&world.refresh(old).await, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_error(&world.refresh(rotated.str("refresh_token")).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

// --- Strict rotation, the default (issue #10, RFC 9700 §4.14.2, RFC 6749 §10.4) ---

#[tokio::test]
async fn by_default_a_rotated_refresh_token_replayed_at_once_is_refused_and_revokes_its_successor() {
    // No window: the old token is dead the moment it is rotated, even with its successor
    // unused, and its return revokes the grant: successor and access tokens alike.
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let rotated = world.refresh(old).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);

    let replay = world.refresh(old).await;

    assert_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    let successor = world.refresh(rotated.str("refresh_token")).await;
    assert_error(&successor, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(get_userinfo(&world.app, rotated.str("access_token")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn by_default_a_public_client_s_replayed_refresh_token_is_refused_and_revokes_its_successor() {
    // The same for a public client (PKCE, no secret): strict rotation matters most there.
    let world = World::new().await;
    let spa = ClientSpec {
        id: "spa".into(),
        public: true,
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into(), "refresh_token".into()],
        ..ClientSpec::default()
    };
    world.app.client(spa).await;
    let request =
        crate::support_protocol::AuthorizeRequest::new("spa", RP_CALLBACK).with("scope", "openid offline_access");
    let code = world.code(&request).await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", request.verifier.as_str()),
        ("client_id", "spa"),
    ];
    let tokens = post_token(&world.app, None, &exchange).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.json);
    let app = &world.app;
    let refresh = |token: String| async move {
        post_token(
            app,
            None,
            &[("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", "spa")],
        )
        .await
    };
    let old = tokens.str("refresh_token").to_owned();
    let rotated = refresh(old.clone()).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);

    let replay = refresh(old).await;

    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.json);
    assert_eq!(replay.error(), "invalid_grant");
    let successor = refresh(rotated.str("refresh_token").to_owned()).await;
    assert_eq!(successor.error(), "invalid_grant", "the successor survived the replay: {}", successor.json);
}

#[tokio::test]
async fn by_default_two_concurrent_refreshes_with_one_token_end_the_grant() {
    // Without the opt-in, the loser of a race is a replay like any other.
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");

    let (a, b) = tokio::join!(world.refresh(old), world.refresh(old));

    let refused = [&a, &b].iter().filter(|answer| answer.status == StatusCode::BAD_REQUEST).count();
    assert!(refused >= 1, "both concurrent refreshes succeeded: {} / {}", a.json, b.json);
    for answer in [&a, &b].into_iter().filter(|answer| answer.status == StatusCode::OK) {
        let next = world.refresh(answer.str("refresh_token")).await;
        assert_error(&next, StatusCode::BAD_REQUEST, "invalid_grant");
    }
}

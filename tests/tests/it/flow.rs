//! The whole authorization code flow, driven by a real relying party (`openidconnect`):
//! discovery → authorize → login → consent → callback → token → ID token verified against
//! the JWKS → userinfo → refresh → logout.

use idp_tests::browser::query;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{AccessTokenHash, OAuth2TokenResponse, TokenResponse};

#[tokio::test]
async fn a_relying_party_signs_a_user_in_refreshes_and_signs_out() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    let browser = Browser::new();

    let pending = rp.start(&["profile", "email", "offline_access"]);
    let callback = browser.authorize(&app.issuer, &pending.url, "alice.martin", PASSWORD).await;
    assert!(callback.starts_with(RP_CALLBACK), "redirected to {callback}");
    let params = query(&callback);
    assert_eq!(params["state"], *pending.state.secret(), "state comes back unchanged");
    assert_eq!(params["iss"], app.issuer, "RFC 9207 iss parameter");

    let tokens = rp.exchange(&params["code"], pending.verifier).await.expect("the code exchanges");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = rp.client.id_token_verifier();
    let claims = id_token.claims(&verifier, &pending.nonce).expect("the ID token verifies against the JWKS");
    assert_eq!(claims.subject().as_str(), alice.id);
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash matches the access token");

    let userinfo: CoreUserInfoClaims = rp
        .client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect("userinfo answers");
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("alice.martin@example.org"));
    assert_eq!(userinfo.preferred_username().map(|u| u.as_str()), Some("alice.martin"));

    let refresh = tokens.refresh_token().expect("offline_access gives a refresh token").clone();
    let refreshed =
        rp.client.exchange_refresh_token(&refresh).unwrap().request_async(&rp.http).await.expect("refresh works");
    assert_ne!(refreshed.access_token().secret(), tokens.access_token().secret());
    // Strict rotation (issue #10): the old token is refused at once.
    let again = rp.client.exchange_refresh_token(&refresh).unwrap().request_async(&rp.http).await;
    assert!(again.is_err(), "a rotated refresh token stops working");

    let logout = format!(
        "{}?id_token_hint={}&post_logout_redirect_uri={}&state=bye-state",
        app.url("/logout"),
        id_token,
        urlencode(&format!("{RP_CALLBACK}/bye"))
    );
    let page = browser.get(&logout).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location().unwrap(), format!("{RP_CALLBACK}/bye?state=bye-state"));

    let silent = rp.start(&[]).url + "&prompt=none";
    let page = browser.follow(&app.issuer, browser.get(&silent).await).await;
    assert_eq!(query(&page.location().unwrap())["error"], "login_required", "the session ended");
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

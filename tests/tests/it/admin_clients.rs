//! Clients as an operator manages them (issue #12, `idp::admin::clients`): views without
//! secrets, updates with the registration's validation, deletion, and secret rotation with an
//! overlap during which the previous secret still authenticates at the token endpoint (RFC 6749
//! §2.3.1), then stops. Run on whichever backends the environment selects.

use idp::admin::actor::{Actor, Role};
use idp::admin::clients::{self, ClientQuery, ClientUpdate};
use idp::admin::{AdminError, ClientSpec};
use idp::session::ClientInfo;
use idp_tests::{RP_CALLBACK, TestApp};
use reqwest::StatusCode;

use crate::support_protocol::{basic, post_token};

fn machine_actor(role: Role) -> Actor {
    Actor::client("ops", vec![role], ClientInfo { user_agent: "test".into(), ip: "127.0.0.1".into(), lang: None })
}

fn m2m(id: &str) -> ClientSpec {
    ClientSpec { id: id.into(), grants: vec!["client_credentials".into()], ..ClientSpec::default() }
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str) -> StatusCode {
    post_token(app, Some(&basic(id, secret)), &[("grant_type", "client_credentials")]).await.status
}

async fn kinds_of(app: &TestApp) -> Vec<String> {
    let page = idp::admin::audit::search_audit(&app.services, &Actor::cli(), &Default::default()).await.unwrap();
    page.items.into_iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn a_client_view_never_contains_its_secret_or_its_digest() {
    let app = TestApp::spawn().await;
    let (view, secret) = clients::create_client(&app.services, &Actor::cli(), &m2m("reports")).await.unwrap();
    let secret = secret.expect("a confidential client gets a secret once");
    let digest = idp::crypto::digest(secret.expose());

    let listed = clients::list_clients(&app.services, &Actor::cli(), &ClientQuery::default()).await.unwrap();
    let shown = clients::get_client(&app.services, &Actor::cli(), "reports").await.unwrap();

    for json in [
        serde_json::to_string(&view).unwrap(),
        serde_json::to_string(&listed).unwrap(),
        serde_json::to_string(&shown).unwrap(),
    ] {
        assert!(!json.contains(secret.expose()) && !json.contains(&digest), "a secret leaked: {json}");
    }
    assert!(shown.has_secret && !shown.public);
    assert!(listed.items.iter().any(|c| c.id == "reports"));
    assert!(kinds_of(&app).await.contains(&"client_created".to_owned()), "the creation is audited");
}

#[tokio::test]
async fn clients_are_listed_by_id_filtered_by_text_and_paged() {
    let app = TestApp::spawn().await;
    for id in ["zeta-app", "alpha-app", "beta-tool"] {
        clients::create_client(&app.services, &Actor::cli(), &m2m(id)).await.unwrap();
    }
    let query = ClientQuery { text: Some("APP".into()), limit: 1, offset: 1, ..ClientQuery::default() };

    let page = clients::list_clients(&app.services, &Actor::cli(), &query).await.unwrap();

    assert_eq!(page.total, 2, "two ids contain app, whatever the case");
    assert_eq!(page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["zeta-app"], "the second, by id");
}

#[tokio::test]
async fn support_and_auditor_roles_cannot_read_or_change_clients() {
    let app = TestApp::spawn().await;
    clients::create_client(&app.services, &Actor::cli(), &m2m("reports")).await.unwrap();
    for role in [Role::Support, Role::Auditor] {
        let actor = machine_actor(role);
        assert!(matches!(
            clients::list_clients(&app.services, &actor, &ClientQuery::default()).await,
            Err(AdminError::Forbidden)
        ));
        assert!(matches!(clients::get_client(&app.services, &actor, "reports").await, Err(AdminError::Forbidden)));
        assert!(matches!(
            clients::rotate_client_secret(&app.services, &actor, "reports", None).await,
            Err(AdminError::Forbidden)
        ));
        assert!(matches!(clients::delete_client(&app.services, &actor, "reports").await, Err(AdminError::Forbidden)));
    }
    assert!(clients::get_client(&app.services, &Actor::cli(), "reports").await.is_ok(), "nothing was removed");
}

#[tokio::test]
async fn an_update_changes_uris_and_access_rules_and_keeps_the_secret() {
    let app = TestApp::spawn().await;
    let (_, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let update = ClientUpdate {
        name: Some("Boutique".into()),
        redirect_uris: Some(vec!["https://shop.example/new-callback".into()]),
        allowed_user_types: Some(Some(vec!["usager".into()])),
        ..ClientUpdate::default()
    };

    let view = clients::update_client(&app.services, &Actor::cli(), "shop", &update).await.unwrap();

    assert_eq!(view.name, "Boutique");
    assert_eq!(view.redirect_uris, ["https://shop.example/new-callback"]);
    assert_eq!(view.settings.allowed_user_types, Some(vec!["usager".to_owned()]));
    let stored = app.services.store.client("shop").await.unwrap().unwrap();
    assert_eq!(stored.secret_digest.as_deref(), Some(idp::crypto::digest(&secret).as_str()), "same secret");
    let events = idp::admin::audit::search_audit(
        &app.services,
        &Actor::cli(),
        &idp::admin::audit::AuditQuery { kind: Some("client_updated".into()), ..Default::default() },
    )
    .await
    .unwrap();
    let changed = &events.items[0].detail["changed"];
    assert_eq!(changed, &serde_json::json!(["name", "redirect_uris", "allowed_user_types"]), "what changed");
    assert_eq!(events.items[0].detail["actor"]["type"], "cli");
}

#[tokio::test]
async fn an_invalid_update_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.confidential_client("shop", RP_CALLBACK).await;
    let before = app.services.store.client("shop").await.unwrap();
    for update in [
        ClientUpdate { redirect_uris: Some(vec!["http://shop.example/cb".into()]), ..ClientUpdate::default() },
        ClientUpdate { redirect_uris: Some(vec![]), ..ClientUpdate::default() },
        ClientUpdate { grants: Some(vec!["implicit".into()]), ..ClientUpdate::default() },
        ClientUpdate { allowed_user_types: Some(Some(vec!["martian".into()])), ..ClientUpdate::default() },
        ClientUpdate { allowed_groups: Some(Some(vec![])), ..ClientUpdate::default() },
    ] {
        let result = clients::update_client(&app.services, &Actor::cli(), "shop", &update).await;
        assert!(matches!(result, Err(AdminError::Invalid(_) | AdminError::Field(_))), "{update:?} gave {result:?}");
    }
    assert_eq!(app.services.store.client("shop").await.unwrap(), before);
    let missing = clients::update_client(&app.services, &Actor::cli(), "nobody", &ClientUpdate::default()).await;
    assert!(matches!(missing, Err(AdminError::NotFound(_))));
}

#[tokio::test]
async fn merged_settings_keep_the_others_and_refuse_unknown_keys() {
    let app = TestApp::spawn().await;
    let spec =
        ClientSpec { settings: idp::admin::parse_settings(&["access_token_ttl=300".into()]).unwrap(), ..m2m("api") };
    let (view, _) = clients::create_client(&app.services, &Actor::cli(), &spec).await.unwrap();

    let merged = clients::merge_settings(&view.settings, &["id_token_ttl=120".into()]).unwrap();

    assert_eq!((merged.access_token_ttl, merged.id_token_ttl), (Some(300), Some(120)));
    assert!(clients::merge_settings(&view.settings, &["colour=blue".into()]).is_err());
}

#[tokio::test]
async fn a_deleted_client_can_no_longer_authenticate() {
    let app = TestApp::spawn().await;
    let (_, secret) = clients::create_client(&app.services, &Actor::cli(), &m2m("reports")).await.unwrap();
    let secret = secret.unwrap();

    clients::delete_client(&app.services, &Actor::cli(), "reports").await.unwrap();

    assert_eq!(client_credentials(&app, "reports", secret.expose()).await, StatusCode::UNAUTHORIZED);
    assert!(matches!(
        clients::delete_client(&app.services, &Actor::cli(), "reports").await,
        Err(AdminError::NotFound(_))
    ));
    assert!(kinds_of(&app).await.contains(&"client_deleted".to_owned()));
}

#[tokio::test]
async fn the_account_space_client_belongs_to_the_server() {
    let app = TestApp::spawn().await;
    let id = idp::domain::client::ACCOUNT_SPACE_CLIENT_ID;
    assert!(matches!(clients::delete_client(&app.services, &Actor::cli(), id).await, Err(AdminError::Invalid(_))));
    assert!(matches!(
        clients::update_client(&app.services, &Actor::cli(), id, &ClientUpdate::default()).await,
        Err(AdminError::Invalid(_))
    ));
}

#[tokio::test]
async fn after_a_rotation_both_secrets_work_until_the_overlap_ends() {
    let app = TestApp::spawn().await;
    let (_, old) = clients::create_client(&app.services, &Actor::cli(), &m2m("reports")).await.unwrap();
    let old = old.unwrap();

    let (new, until) =
        clients::rotate_client_secret(&app.services, &Actor::cli(), "reports", Some(3600)).await.unwrap();

    assert_ne!(new.expose(), old.expose());
    assert_eq!(client_credentials(&app, "reports", new.expose()).await, StatusCode::OK, "the new secret works");
    assert_eq!(client_credentials(&app, "reports", old.expose()).await, StatusCode::OK, "the old one still does");
    let view = clients::get_client(&app.services, &Actor::cli(), "reports").await.unwrap();
    assert_eq!(view.previous_secret_valid_until, Some(until));

    app.clock.advance(3600);

    assert_eq!(client_credentials(&app, "reports", old.expose()).await, StatusCode::UNAUTHORIZED, "overlap over");
    assert_eq!(client_credentials(&app, "reports", new.expose()).await, StatusCode::OK);
    assert!(kinds_of(&app).await.contains(&"client_secret_rotated".to_owned()));
}

#[tokio::test]
async fn a_rotation_without_overlap_stops_the_old_secret_at_once_and_only_one_previous_is_kept() {
    let app = TestApp::spawn().await;
    let (_, first) = clients::create_client(&app.services, &Actor::cli(), &m2m("reports")).await.unwrap();
    let first = first.unwrap();
    let (second, _) = clients::rotate_client_secret(&app.services, &Actor::cli(), "reports", None).await.unwrap();

    let (third, _) = clients::rotate_client_secret(&app.services, &Actor::cli(), "reports", Some(0)).await.unwrap();

    assert_eq!(client_credentials(&app, "reports", first.expose()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(client_credentials(&app, "reports", second.expose()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(client_credentials(&app, "reports", third.expose()).await, StatusCode::OK);
}

#[tokio::test]
async fn the_default_overlap_is_the_secret_overlap_setting() {
    let app =
        TestApp::spawn_with(idp_tests::Setup { tweak: Box::new(|raw| raw.secret_overlap = 120), ..Default::default() })
            .await;
    clients::create_client(&app.services, &Actor::cli(), &m2m("reports")).await.unwrap();

    let (_, until) = clients::rotate_client_secret(&app.services, &Actor::cli(), "reports", None).await.unwrap();

    assert_eq!(until, app.services.now() + 120);
}

#[tokio::test]
async fn a_public_client_has_no_secret_to_rotate() {
    let app = TestApp::spawn().await;
    let spec = ClientSpec { public: true, redirect_uris: vec![RP_CALLBACK.into()], ..ClientSpec::default() };
    let spec = ClientSpec { id: "spa".into(), ..spec };
    clients::create_client(&app.services, &Actor::cli(), &spec).await.unwrap();

    let result = clients::rotate_client_secret(&app.services, &Actor::cli(), "spa", None).await;

    assert!(matches!(result, Err(AdminError::Invalid(_))), "{result:?}");
    assert!(matches!(
        clients::rotate_client_secret(&app.services, &Actor::cli(), "reports", Some(-1)).await,
        Err(AdminError::Invalid(_))
    ));
}

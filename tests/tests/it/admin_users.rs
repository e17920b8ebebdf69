//! User administration at the library level (issue #12): the functions the CLI, the admin API
//! and the console share. Search and view, roles, the role matrix, and each operation's effect
//! on signing in.

use idp::admin::actor::{Actor, Role};
use idp::admin::page::PageRequest;
use idp::admin::users::{self, UserQuery, UserRef, UserSort, UserStatus};
use idp::admin::{AdminError, UserSpec};
use idp::domain::Secret;
use idp::session::ClientInfo;
use idp_tests::{PASSWORD, TestApp};

fn info() -> ClientInfo {
    ClientInfo { user_agent: "test".into(), ip: "127.0.0.1".into() }
}

fn support() -> Actor {
    Actor::person("agent-id", "agent", Role::Support, info())
}

fn auditor() -> Actor {
    Actor::person("auditor-id", "auditor", Role::Auditor, info())
}

async fn add(app: &TestApp, login: &str, email: &str, given: &str, family: &str) {
    let spec = UserSpec {
        login: login.into(),
        email: email.into(),
        given_name: given.into(),
        family_name: family.into(),
        ..UserSpec::default()
    };
    idp::admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
}

async fn people(app: &TestApp) {
    add(app, "alice.martin", "Alice.Martin@Example.org", "Alice", "Martin").await;
    add(app, "alain.durand", "a.durand@mairie.fr", "Alain", "Durand").await;
    add(app, "bob.leroy", "bob@example.org", "Bob", "Leroy").await;
    add(app, "al_x", "x@example.org", "Xavier", "Martinez").await;
}

async fn search(app: &TestApp, query: UserQuery) -> idp::admin::page::Page<users::UserView> {
    users::search_users(&app.services, &support(), &query).await.unwrap()
}

fn logins(page: &idp::admin::page::Page<users::UserView>) -> Vec<&str> {
    page.items.iter().map(|u| u.login.as_str()).collect()
}

#[tokio::test]
async fn a_search_by_login_prefix_finds_the_accounts_starting_with_it_in_order() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let query = UserQuery { login: Some("AL".into()), ..UserQuery::default() };

    let page = users::search_users(&app.services, &support(), &query).await.unwrap();

    assert_eq!(logins(&page), ["al_x", "alain.durand", "alice.martin"]);
    assert_eq!(page.total, 3);
    let wildcard = UserQuery { login: Some("al_".into()), ..UserQuery::default() };
    let page = users::search_users(&app.services, &support(), &wildcard).await.unwrap();
    assert_eq!(logins(&page), ["al_x"], "_ is a character, not a wildcard");
}

#[tokio::test]
async fn a_search_filters_by_email_prefix_name_and_free_text_without_case() {
    let app = TestApp::spawn().await;
    people(&app).await;

    let by_email = search(&app, UserQuery { email: Some("alice.MARTIN@".into()), ..UserQuery::default() }).await;
    let by_name = search(&app, UserQuery { name: Some("MARTIN".into()), ..UserQuery::default() }).await;
    let by_q = search(&app, UserQuery { q: Some("b".into()), ..UserQuery::default() }).await;

    assert_eq!(logins(&by_email), ["alice.martin"]);
    assert_eq!(logins(&by_name), ["al_x", "alice.martin"]);
    assert_eq!(logins(&by_q), ["bob.leroy"], "login or e-mail starting with b");
}

#[tokio::test]
async fn a_search_pages_and_sorts_with_the_total_of_every_match() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let query = UserQuery {
        sort: UserSort::parse("-email").unwrap(),
        page: PageRequest::parse(Some(2), Some(1)).unwrap(),
        ..UserQuery::default()
    };

    let page = users::search_users(&app.services, &support(), &query).await.unwrap();

    // e-mails descending: x@, bob@, alice.martin@, a.durand@
    assert_eq!(logins(&page), ["bob.leroy", "alice.martin"]);
    assert_eq!((page.total, page.next_offset()), (4, Some(3)));
}

#[tokio::test]
async fn a_search_by_status_tells_disabled_accounts_apart() {
    let app = TestApp::spawn().await;
    people(&app).await;
    app.services
        .store
        .set_disabled(&app.services.store.user_by_login("bob.leroy").await.unwrap().unwrap().id, true, 0)
        .await
        .unwrap();
    let status = |s| UserQuery { status: Some(s), ..UserQuery::default() };

    let disabled = users::search_users(&app.services, &support(), &status(UserStatus::Disabled)).await.unwrap();
    let active = users::search_users(&app.services, &support(), &status(UserStatus::Active)).await.unwrap();

    assert_eq!(logins(&disabled), ["bob.leroy"]);
    assert_eq!(disabled.items[0].status, UserStatus::Disabled);
    assert_eq!(active.total, 3);
}

#[tokio::test]
async fn showing_a_user_gives_its_status_groups_sessions_and_no_secret() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    idp::admin::groups::add_group(&app.services, "agents", "Agents").await.unwrap();
    idp::admin::groups::add_member(&app.services, "agents", "alice.martin").await.unwrap();

    let detail = users::show_user(&app.services, &support(), &UserRef::Login("Alice.Martin".into())).await.unwrap();

    assert_eq!(detail.user.id, user.id);
    assert_eq!(detail.user.status, UserStatus::Active);
    assert_eq!(detail.groups, ["agents"]);
    let json = serde_json::to_string(&detail).unwrap();
    assert!(!json.contains("argon2") && !json.contains("password_hash"), "a secret is shown: {json}");
    let missing = users::show_user(&app.services, &support(), &UserRef::Login("nobody".into())).await;
    assert!(matches!(missing, Err(AdminError::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn an_auditor_cannot_search_users() {
    let app = TestApp::spawn().await;
    let result = users::search_users(&app.services, &auditor(), &UserQuery::default()).await;
    assert!(matches!(result, Err(AdminError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn an_administrator_gives_and_takes_a_role_and_support_cannot() {
    let app = TestApp::spawn().await;
    let user = app.user("agent.dupont").await;
    let who = UserRef::Login("agent.dupont".into());

    users::set_role(&app.services, &Actor::cli(), &who, Some(Role::Support)).await.unwrap();
    assert_eq!(users::role_of(&app.services, &user.id).await.unwrap(), Some(Role::Support));
    let refused = users::set_role(&app.services, &support(), &who, Some(Role::Admin)).await;
    assert!(matches!(refused, Err(AdminError::Forbidden)), "{refused:?}");
    users::set_role(&app.services, &Actor::cli(), &who, None).await.unwrap();

    assert_eq!(users::role_of(&app.services, &user.id).await.unwrap(), None);
    let events = app.services.store.events_for_user(&user.id, "admin_role_set", 10).await.unwrap();
    assert_eq!(events.len(), 2, "each change is audited");
    assert!(events[1].detail.contains("\"to\":\"support\"") && events[1].detail.contains("\"type\":\"cli\""));
}

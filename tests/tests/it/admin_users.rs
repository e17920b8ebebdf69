//! User administration at the library level (issue #12): the functions the CLI, the admin API
//! and the console share. Search and view, roles, the role matrix, and each operation's effect
//! on signing in.

use idp::account::first_login::{self, Step};
use idp::account::secret_question;
use idp::admin::actor::{Actor, Role};
use idp::admin::page::PageRequest;
use idp::admin::users::{self, ResetMethod, UserQuery, UserRef, UserSort, UserStatus, UserUpdate};
use idp::admin::{AdminError, UserSpec};
use idp::clock::Clock;
use idp::domain::user_type::UserType;
use idp::domain::{Scopes, Secret};
use idp::session::ClientInfo;
use idp::store::RefreshToken;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};

fn info() -> ClientInfo {
    ClientInfo { user_agent: "test".into(), ip: "127.0.0.1".into(), lang: None }
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
    idp::admin::groups::add_group(&app.services, &idp::admin::actor::Actor::cli(), "agents", "Agents").await.unwrap();
    idp::admin::groups::add_member(&app.services, &idp::admin::actor::Actor::cli(), "agents", "alice.martin")
        .await
        .unwrap();

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

// --- Operations on one account -----------------------------------------------------------

const WRONG: &str = "Wrong-horse-battery-9";

fn alice() -> UserRef {
    UserRef::Login("alice.martin".into())
}

async fn with_shop(app: &TestApp) -> Rp {
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await
}

/// One sign-in from a fresh browser; the browser keeps its session cookie.
async fn sign_in(app: &TestApp, rp: &Rp, password: &str) -> (Browser, idp_tests::browser::Page) {
    let browser = Browser::new();
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    let done = browser.submit_login(&app.issuer, &page, "alice.martin", password).await;
    (browser, done)
}

fn signed_in(page: &idp_tests::browser::Page) -> bool {
    page.location().is_some()
}

#[tokio::test]
async fn support_may_help_a_user_but_not_change_delete_disable_or_give_roles() {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    let s = &app.services;
    let agent = support();
    let forbidden = |r: Result<(), AdminError>, what: &str| {
        assert!(matches!(r, Err(AdminError::Forbidden)), "{what}: {r:?}");
    };

    let update = UserUpdate { given_name: Some("Alicia".into()), ..UserUpdate::default() };
    forbidden(users::update_user(s, &agent, &alice(), &update).await, "update");
    forbidden(users::disable_user(s, &agent, &alice()).await, "disable");
    forbidden(users::enable_user(s, &agent, &alice()).await, "enable");
    forbidden(users::delete_user(s, &agent, &alice()).await, "delete");
    forbidden(users::set_role(s, &agent, &alice(), Some(Role::Admin)).await, "set_role");
    forbidden(users::revoke_consent(s, &agent, &alice(), "shop").await, "revoke_consent");
    forbidden(users::user_events(s, &agent, &alice(), PageRequest::default()).await.map(drop), "user_events");

    users::unlock_user(s, &agent, &alice()).await.unwrap();
    assert_eq!(users::end_user_sessions(s, &agent, &alice(), None).await.unwrap(), 0);
    let sent = users::reset_user_password(s, &agent, &alice(), ResetMethod::ProvisionalPassword).await.unwrap();
    assert!(sent.mailed);
    assert!(s.store.user_by_login("alice.martin").await.unwrap().unwrap().given_name == "Alice", "nothing changed");
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_session_ends_until_enabled() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    let rp = with_shop(&app).await;
    let (_browser, page) = sign_in(&app, &rp, PASSWORD).await;
    assert!(signed_in(&page), "signed in before: {}", page.body);
    assert_eq!(app.sessions_of(&user.id).await.len(), 1);

    users::disable_user(&app.services, &Actor::cli(), &alice()).await.unwrap();

    assert!(app.sessions_of(&user.id).await.is_empty(), "the session ended");
    let (_, refused) = sign_in(&app, &rp, PASSWORD).await;
    assert!(!signed_in(&refused), "a disabled account signed in");
    let query = UserQuery { status: Some(UserStatus::Disabled), ..UserQuery::default() };
    assert_eq!(users::search_users(&app.services, &support(), &query).await.unwrap().total, 1);
    users::enable_user(&app.services, &Actor::cli(), &alice()).await.unwrap();
    let (_, again) = sign_in(&app, &rp, PASSWORD).await;
    assert!(signed_in(&again), "enabled again: {}", again.body);
}

#[tokio::test]
async fn unlocking_lets_a_locked_user_sign_in_at_once() {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    let rp = with_shop(&app).await;
    for _ in 0..3 {
        sign_in(&app, &rp, WRONG).await;
    }
    assert!(!signed_in(&sign_in(&app, &rp, PASSWORD).await.1), "locked");
    let locked = UserQuery { status: Some(UserStatus::Locked), ..UserQuery::default() };
    assert_eq!(logins(&search(&app, locked.clone()).await), ["alice.martin"], "the search sees the lock");

    users::unlock_user(&app.services, &support(), &alice()).await.unwrap();

    assert!(signed_in(&sign_in(&app, &rp, PASSWORD).await.1), "unlocked");
    assert_eq!(search(&app, locked).await.total, 0);
}

#[tokio::test]
async fn resetting_the_secret_question_makes_the_next_sign_in_ask_for_one() {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            let mut agent = UserType::default_usager();
            agent.id = "agent".into();
            agent.secret_question = true;
            raw.user_types = vec![UserType::default_usager(), agent];
        }),
        ..Setup::default()
    })
    .await;
    let spec = UserSpec {
        login: "alice.martin".into(),
        email: "alice@example.org".into(),
        user_type: "agent".into(),
        ..UserSpec::default()
    };
    let user = idp::admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
    secret_question::set(&app.services, &user.id, "Votre ville natale ?", &Secret::new("Nîmes")).await.unwrap();
    let owed = first_login::owed(&app.services, &user, false, false).await.unwrap();
    assert!(!owed.contains(&Step::SecretQuestion));

    users::reset_secret_question(&app.services, &support(), &alice()).await.unwrap();

    let owed = first_login::owed(&app.services, &user, false, false).await.unwrap();
    assert!(owed.contains(&Step::SecretQuestion), "the next sign-in asks for a question");
    app.user("bob.leroy").await;
    let other = users::reset_secret_question(&app.services, &support(), &UserRef::Login("bob.leroy".into())).await;
    assert!(matches!(other, Err(AdminError::Invalid(_))), "a type without questions: {other:?}");
}

#[tokio::test]
async fn deleting_a_user_erases_their_data_and_keeps_a_pseudonymised_trail() {
    let app = TestApp::spawn().await;
    let s = &app.services;
    let spec = UserSpec {
        login: "alice.martin".into(),
        email: "alice@example.org".into(),
        identifiers: vec![("student_number".into(), "22001234".into())],
        ..UserSpec::default()
    };
    let user = idp::admin::add_user(s, &spec, &Secret::new(PASSWORD)).await.unwrap();
    idp::admin::groups::add_group(s, &idp::admin::actor::Actor::cli(), "agents", "Agents").await.unwrap();
    idp::admin::groups::add_member(s, &idp::admin::actor::Actor::cli(), "agents", "alice.martin").await.unwrap();
    let rp = with_shop(&app).await;
    assert!(signed_in(&sign_in(&app, &rp, PASSWORD).await.1));
    // As an administrator herself, she acted on someone else: her login is in that row.
    let bob = app.user("bob.leroy").await;
    let as_alice = Actor::person(&user.id, "alice.martin", Role::Admin, info());
    users::set_role(s, &as_alice, &UserRef::Login("bob.leroy".into()), Some(Role::Support)).await.unwrap();

    users::delete_user(s, &Actor::cli(), &alice()).await.unwrap();

    assert!(s.store.user_by_id(&user.id).await.unwrap().is_none(), "the account is gone");
    assert!(app.sessions_of(&user.id).await.is_empty(), "its sessions ended");
    let kinds = [String::from("student_number")];
    assert!(s.store.user_by_identifier(&kinds, "22001234").await.unwrap().is_none(), "identifiers erased");
    assert!(
        idp::admin::groups::show_group(s, &idp::admin::actor::Actor::cli(), "agents").await.unwrap().members.is_empty()
    );
    let trail = s.store.events_for_user(&user.id, "", 50).await.unwrap();
    assert!(trail.iter().any(|e| e.kind == "sign_in"), "the trail stays under the pseudonym");
    assert!(trail.iter().any(|e| e.kind == "admin_user_deleted"));
    let bobs = s.store.events_for_user(&bob.id, "admin_role_set", 5).await.unwrap();
    for event in trail.iter().chain(&bobs) {
        assert!(
            !event.detail.contains("alice.martin") && !event.detail.contains("alice@example.org"),
            "personal data left in the trail: {event:?}"
        );
    }
    assert!(bobs[0].detail.contains(&user.id), "the actor is still named by the pseudonym");
    let again = users::delete_user(s, &Actor::cli(), &alice()).await;
    assert!(matches!(again, Err(AdminError::NotFound(_))), "{again:?}");
}

#[tokio::test]
async fn an_update_is_validated_before_anything_is_written_and_audited_by_field_name() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    let s = &app.services;
    let bad = [
        UserUpdate { email: Some("not an address".into()), given_name: Some("X".into()), ..UserUpdate::default() },
        UserUpdate { user_type: Some("martian".into()), ..UserUpdate::default() },
        UserUpdate { birth_date: Some("2001-02-30".into()), ..UserUpdate::default() },
        UserUpdate::default(),
    ];
    for update in &bad {
        let r = users::update_user(s, &Actor::cli(), &alice(), update).await;
        assert!(matches!(r, Err(AdminError::Invalid(_))), "{update:?}: {r:?}");
    }
    assert_eq!(s.store.user_by_id(&user.id).await.unwrap().unwrap().given_name, "Alice", "nothing written");

    let update = UserUpdate {
        email: Some("alice.m@mairie.fr".into()),
        family_name: Some("Martin-Durand".into()),
        phone_number: Some("+33 1 23 45 67 89".into()),
        birth_date: Some("1990-05-04".into()),
        identifiers: Some(vec![("ine".into(), "0A1B2C3D4E5".into())]),
        ..UserUpdate::default()
    };
    users::update_user(s, &Actor::cli(), &alice(), &update).await.unwrap();

    let changed = s.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!((changed.email.as_str(), changed.family_name.as_str()), ("alice.m@mairie.fr", "Martin-Durand"));
    assert!(!changed.email_verified, "a new address is not verified");
    assert_eq!(s.store.birth_date(&user.id).await.unwrap().as_deref(), Some("1990-05-04"));
    assert_eq!(s.store.identifiers_of(&user.id).await.unwrap(), [("ine".to_owned(), "0A1B2C3D4E5".to_owned())]);
    let event = &s.store.events_for_user(&user.id, "admin_user_updated", 1).await.unwrap()[0];
    assert!(event.detail.contains("\"family_name\"") && !event.detail.contains("Martin-Durand"), "{event:?}");
}

#[tokio::test]
async fn a_password_reset_by_link_or_provisional_password_stops_the_old_one() {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    let rp = with_shop(&app).await;
    for method in [ResetMethod::ActivationLink, ResetMethod::ProvisionalPassword] {
        let sent = users::reset_user_password(&app.services, &support(), &alice(), method).await.unwrap();
        assert!(sent.mailed, "{method:?}");
        assert!(!signed_in(&sign_in(&app, &rp, PASSWORD).await.1), "{method:?}: the old password still works");
    }
    let mails = idp_tests::mail::read_outbox(&app.config.outbox_dir);
    assert_eq!(mails.len(), 2, "a link, then a provisional password");
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_or_all() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    let rp = with_shop(&app).await;
    sign_in(&app, &rp, PASSWORD).await;
    sign_in(&app, &rp, PASSWORD).await;
    let sessions = users::sessions_of_user(&app.services, &support(), &alice()).await.unwrap();
    assert_eq!(sessions.len(), 2);

    let one = users::end_user_sessions(&app.services, &support(), &alice(), Some(&sessions[0].sid)).await.unwrap();

    assert_eq!(one, 1);
    assert_eq!(app.sessions_of(&user.id).await.len(), 1);
    let unknown = users::end_user_sessions(&app.services, &support(), &alice(), Some("nope")).await;
    assert!(matches!(unknown, Err(AdminError::NotFound(_))), "{unknown:?}");
    assert_eq!(users::end_user_sessions(&app.services, &support(), &alice(), None).await.unwrap(), 1);
    assert!(app.sessions_of(&user.id).await.is_empty());
}

#[tokio::test]
async fn consents_and_grants_are_listed_and_revoked_with_their_tokens() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    with_shop(&app).await;
    let s = &app.services;
    let scopes = Scopes::parse("openid email").unwrap();
    s.store.save_consent(&user.id, "shop", &scopes, 10).await.unwrap();
    let now = app.clock.now();
    for (digest, grant) in [("d1", "g1"), ("d2", "g2")] {
        let token = RefreshToken {
            digest: digest.into(),
            grant_id: grant.into(),
            client_id: "shop".into(),
            user_id: user.id.clone(),
            scopes: scopes.clone(),
            auth_time: now,
            sid: None,
            amr: vec!["pwd".into()],
            created_at: now,
            expires_at: now + 3600,
            used_at: None,
        };
        s.store.insert_refresh_token(&token).await.unwrap();
    }
    let consents = users::consents_of_user(s, &Actor::cli(), &alice()).await.unwrap();
    assert_eq!((consents[0].client_id.as_str(), consents[0].scopes.len()), ("shop", 2));
    assert_eq!(users::grants_of_user(s, &Actor::cli(), &alice()).await.unwrap().len(), 2);

    users::revoke_grant(s, &Actor::cli(), &alice(), "g1").await.unwrap();
    assert_eq!(users::grants_of_user(s, &Actor::cli(), &alice()).await.unwrap().len(), 1);
    users::revoke_consent(s, &Actor::cli(), &alice(), "shop").await.unwrap();

    assert!(users::consents_of_user(s, &Actor::cli(), &alice()).await.unwrap().is_empty());
    assert!(users::grants_of_user(s, &Actor::cli(), &alice()).await.unwrap().is_empty(), "its tokens went too");
    let twice = users::revoke_consent(s, &Actor::cli(), &alice(), "shop").await;
    assert!(matches!(twice, Err(AdminError::NotFound(_))), "{twice:?}");
}

#[tokio::test]
async fn an_auditor_pages_through_the_events_of_a_user() {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    for _ in 0..3 {
        users::unlock_user(&app.services, &Actor::cli(), &alice()).await.unwrap();
    }
    let page = PageRequest::parse(Some(2), Some(0)).unwrap();

    let first = users::user_events(&app.services, &auditor(), &alice(), page).await.unwrap();

    assert_eq!((first.items.len(), first.total), (2, 3));
    assert_eq!(first.items[0].kind, "admin_user_unlocked");
    assert_eq!(first.items[0].detail["actor"]["type"], "cli");
}

#[tokio::test]
async fn only_administrators_change_groups_and_each_change_names_who_made_it() {
    use idp::admin::groups;
    let app = TestApp::spawn().await;
    people(&app).await;
    let s = &app.services;
    let admin = Actor::person("admin-id", "adm.dupont", Role::Admin, info());
    groups::add_group(s, &admin, "staff", "Staff").await.unwrap();
    assert!(matches!(groups::add_group(s, &support(), "other", "").await, Err(AdminError::Forbidden)));
    assert!(matches!(groups::add_member(s, &support(), "staff", "alice.martin").await, Err(AdminError::Forbidden)));
    assert!(matches!(groups::list_groups(s, &auditor()).await, Err(AdminError::Forbidden)));
    // Support sees the groups (it filters users by them) without changing them.
    assert_eq!(groups::list_groups(s, &support()).await.unwrap().len(), 1);
    assert!(groups::add_member(s, &admin, "staff", "alice.martin").await.unwrap());
    let alice = s.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let event = &s.store.events_for_user(&alice.id, "group_member_added", 1).await.unwrap()[0];
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap();
    assert_eq!(detail["group_id"], "staff");
    assert_eq!(detail["actor"]["login"], "adm.dupont", "the trail names the operator: {detail}");
    assert_eq!(groups::show_group(s, &support(), "staff").await.unwrap().members, vec!["alice.martin".to_owned()]);
}

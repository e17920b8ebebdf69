//! Bringing existing users in (issue #12 §3), on whichever backends the environment selects: a
//! CSV file with a password hash of each kind, whose users sign in at once with their old
//! password and come out with an argon2id hash; a malformed hash refuses the whole file; a
//! Keycloak realm export (tests/fixtures/keycloak-realm.json) brings users, groups, attributes
//! and password credentials.

use idp::admin::actor::{Actor, Role};
use idp::admin::import::{self, ImportedStart, KeycloakOptions};
use idp::admin::{AdminError, UserSpec};
use idp::domain::Secret;
use idp::session::ClientInfo;
use idp_tests::mail::read_outbox;
use idp_tests::rp::Rp;
use idp_tests::{Browser, RP_CALLBACK, TestApp};

/// The password of every CSV vector below. The hashes were made once with Python's `bcrypt`
/// and `passlib` (django_pbkdf2_sha256, ldap_salted_sha1/256/512, argon2), `argon2-cffi`
/// (Django's `argon2$` tag in front) and `hashlib` (Django's PBKDF2-SHA512 and bcrypt_sha256
/// layouts).
const OLD_PASSWORD: &str = "Tr0ub4dor&3";

const HASHES: [(&str, &str); 10] = [
    ("bcrypt.2b", "$2b$04$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC"),
    ("bcrypt.2y", "$2y$04$H3EIVMdQtp3B5tRUZD/Rk.BjqXU5/93A4S/N3VR89GgDeE/596cCe"),
    ("django.sha256", "pbkdf2_sha256$1000$OgoJQw4GxrHd$bbG4rvJ4uARfS7Ef67XPID2LWrEsssFIm1YGGPG3Rek="),
    (
        "django.sha512",
        "pbkdf2_sha512$1000$0123456789ab$noXGMZxL4cdN3IacvNQhnE5rlmUqmRgRLF8j7iaRv/DNX0lpwZu8p98q8PM2y/8WSdiT8YHzI6EtyN4j4r8sdA==",
    ),
    ("django.bcrypt_sha256", "bcrypt_sha256$$2b$04$VWIZy2Eo4ph/TSfOoCNV9eI2PExP0hbutKVP4CE8ypdnc7Z9iPb6."),
    (
        "django.argon2",
        "argon2$argon2id$v=19$m=256,t=1,p=1$Lv1BWlm19BtKKkpeKuOh1A$vrlIOttneik5JChpkL4VJEbo0KDqMvoIxycCZnqt8gk",
    ),
    ("ldap.ssha", "{SSHA}vNHgirGwlyx44L5R/kbn+JxMAi/lvHdu"),
    ("ldap.ssha256", "{SSHA256}ZTdHJIlZsaxIL+mXlcKqUpqtS0LUZmL+p6ZyBVN9VKZdqzXmPGeM0Q=="),
    (
        "ldap.ssha512",
        "{SSHA512}IlQeOFn8FuOX/h7iGNM9ss+5rj/UiQDQ8+q8lymPjyjYjiv+BIVUYGjWTdG4a+g9A8Jza5TacO7I3Jz3C3vUC/Q+x5izNkZI",
    ),
    ("argon2i.other", "$argon2i$v=19$m=256,t=2,p=1$tFYqxXhPyfkfoxTCWCtFiA$zqjc7HwzjpwNj7YwMSLWvJgvKvoo21DkF5CdIr7hk0E"),
];

const HEADER: &str = "login,email,given_name,family_name,user_type,password_hash\n";

fn keycloak_export() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keycloak-realm.json");
    std::fs::read_to_string(path).unwrap()
}

/// Signs in through the login page of an authorization request; true when the password was
/// accepted.
async fn signs_in(app: &TestApp, rp: &Rp, login: &str, password: &str) -> bool {
    let browser = Browser::new();
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    let page = browser.submit_login(&app.issuer, &page, login, password).await;
    // Past the login page: on to the consent page (or back to the client); a refusal is a 401.
    page.location().is_some()
}

async fn stored_hash(app: &TestApp, login: &str) -> String {
    app.services.store.user_by_login(login).await.unwrap().expect("the user is stored").password_hash
}

async fn shop(app: &TestApp) -> Rp {
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await
}

#[tokio::test]
async fn csv_users_with_each_kind_of_hash_sign_in_with_their_old_password_then_hold_argon2id() {
    let app = TestApp::spawn().await;
    let rp = shop(&app).await;
    let mut csv = HEADER.to_owned();
    for (login, hash) in HASHES {
        // Quoted: an argon2 PHC string holds commas.
        csv.push_str(&format!("{login},{login}@example.org,Camille,Durand,,\"{hash}\"\n"));
    }
    csv.push_str("no.hash,no.hash@example.org,Dominique,Petit,,\n");

    let report = import::import_users_csv(&app.services, &Actor::cli(), &csv).await.unwrap();
    assert_eq!(report.accounts.len(), HASHES.len() + 1);
    let activation_mails = read_outbox(&app.config.outbox_dir);
    assert_eq!(activation_mails.len(), 1, "only the user without a hash gets an activation link");
    assert!(matches!(report.accounts.last().map(|a| &a.start), Some(ImportedStart::ActivationLink(_))));

    for (login, hash) in HASHES {
        assert_eq!(stored_hash(&app, login).await, hash, "{login}: the hash is kept as it came");
        assert!(!signs_in(&app, &rp, login, "Tr0ub4dor&4").await, "{login}: a wrong password signed in");
        assert!(signs_in(&app, &rp, login, OLD_PASSWORD).await, "{login}: the old password was refused");
        let rehashed = stored_hash(&app, login).await;
        assert!(rehashed.starts_with("$argon2id$v=19$"), "{login}: still {rehashed}");
        assert!(signs_in(&app, &rp, login, OLD_PASSWORD).await, "{login}: the rehashed password was refused");
    }
    let user = app.services.store.user_by_login("bcrypt.2b").await.unwrap().unwrap();
    let events = app.services.store.events_for_user(&user.id, "user_imported", 5).await.unwrap();
    assert_eq!(events.len(), 1, "the import is in the user's audit trail");
    assert!(events[0].detail.contains(r#""scheme":"bcrypt""#) && !events[0].detail.contains("$2b$"), "{:?}", events[0]);
}

#[tokio::test]
async fn a_malformed_hash_refuses_the_whole_file_and_writes_nothing() {
    let app = TestApp::spawn().await;
    for (bad, message) in [
        ("$2b$04$truncated", "line 3: malformed bcrypt hash"),
        ("md5:5f4dcc3b5aa765d61d8327deb882cf99", "line 3: unknown password hash format"),
        ("pbkdf2_sha256$0$salt$aGFzaA==", "line 3: malformed pbkdf2_sha256 hash"),
    ] {
        let csv = format!(
            "{HEADER}first.row,first@example.org,A,B,,{}\nsecond.row,second@example.org,C,D,,{bad}\n",
            HASHES[0].1
        );
        let refused = import::import_users_csv(&app.services, &Actor::cli(), &csv).await;
        let message_seen = refused.as_ref().err().map(ToString::to_string).unwrap_or_default();
        assert!(matches!(refused, Err(AdminError::Invalid(_))) && message_seen.contains(message), "{message_seen}");
        assert!(app.services.store.user_by_login("first.row").await.unwrap().is_none(), "the valid row was written");
    }
    assert!(read_outbox(&app.config.outbox_dir).is_empty(), "no mail for a refused file");
}

#[tokio::test]
async fn only_an_administrator_may_import() {
    let app = TestApp::spawn().await;
    let support = Actor::person("u1", "agent", Role::Support, ClientInfo::default());
    let csv = format!("{HEADER}a.b,a@example.org,A,B,,{}\n", HASHES[0].1);
    assert!(matches!(import::import_users_csv(&app.services, &support, &csv).await, Err(AdminError::Forbidden)));
    let (export, options) = (keycloak_export(), KeycloakOptions::default());
    let keycloak = import::import_keycloak(&app.services, &support, &export, &options).await;
    assert!(matches!(keycloak, Err(AdminError::Forbidden)));
    assert!(app.services.store.user_by_login("a.b").await.unwrap().is_none());
}

#[tokio::test]
async fn a_keycloak_realm_export_brings_users_groups_attributes_and_credentials() {
    let app = TestApp::spawn().await;
    let rp = shop(&app).await;
    let options = KeycloakOptions { identifier_attributes: vec!["matricule".into()], ..KeycloakOptions::default() };
    let report = import::import_keycloak(&app.services, &Actor::cli(), &keycloak_export(), &options).await.unwrap();

    let mut logins: Vec<&str> = report.accounts.iter().map(|a| a.user.login.as_str()).collect();
    logins.sort_unstable();
    assert_eq!(
        logins,
        ["alice.martin", "bruno.leroy", "chloe.dubois", "dana.petit", "eve.moreau"],
        "no service account"
    );
    let mut created = report.groups_created.clone();
    created.sort_unstable();
    assert_eq!(created, ["agents", "agents.Ressources-humaines", "elus"]);

    let store = &app.services.store;
    let alice = store.user_by_login("alice.martin").await.unwrap().unwrap();
    assert_eq!((alice.given_name.as_str(), alice.email.as_str()), ("Alice", "alice.martin@example.org"));
    assert_eq!(alice.phone_number.as_deref(), Some("+33 1 23 45 67 89"));
    assert_eq!(store.birth_date(&alice.id).await.unwrap().as_deref(), Some("1985-04-12"));
    assert_eq!(store.identifiers_of(&alice.id).await.unwrap(), [("matricule".to_owned(), "A-10042".to_owned())]);
    assert_eq!(store.groups_of_user(&alice.id).await.unwrap(), ["agents", "agents.Ressources-humaines"]);
    let bruno = store.user_by_login("bruno.leroy").await.unwrap().unwrap();
    assert_eq!(bruno.address.as_deref(), Some("1 place de la Région, 59000 Lille"));
    assert_eq!(bruno.user_type, "usager");

    for (login, password) in [
        ("alice.martin", "Alice-old-password-1"),
        ("bruno.leroy", "Bruno-old-password-2"),
        ("chloe.dubois", "Chloe-old-password-3"),
    ] {
        assert!(signs_in(&app, &rp, login, password).await, "{login} could not sign in with the Keycloak password");
        let rehashed = stored_hash(&app, login).await;
        assert!(rehashed.starts_with("$argon2id$"), "{login}: still {rehashed}");
    }
    assert!(!signs_in(&app, &rp, "alice.martin", "Older-password-0").await, "a history entry is not a password");
    let eve = store.user_by_login("eve.moreau").await.unwrap().unwrap();
    assert!(eve.disabled, "eve was disabled in Keycloak");
    assert!(!signs_in(&app, &rp, "eve.moreau", "Eve-old-password-5").await, "a disabled account signed in");

    let mails = read_outbox(&app.config.outbox_dir);
    assert_eq!(mails.len(), 1, "dana, without a credential, gets the only activation link");
    assert!(mails[0].to.contains("dana.petit@example.org"), "{:?}", mails[0].to);
}

#[tokio::test]
async fn a_keycloak_user_whose_login_is_taken_refuses_the_realm() {
    let app = TestApp::spawn().await;
    let spec = UserSpec {
        login: "chloe.dubois".into(),
        email: "chloe@example.org".into(),
        given_name: "Chloé".into(),
        family_name: "D".into(),
        ..UserSpec::default()
    };
    idp::admin::add_user(&app.services, &spec, &Secret::new("Déjà-là-depuis-2019")).await.unwrap();
    let refused =
        import::import_keycloak(&app.services, &Actor::cli(), &keycloak_export(), &KeycloakOptions::default()).await;
    assert!(
        matches!(&refused, Err(AdminError::Duplicate(what)) if what.contains(r#"user "chloe.dubois""#)),
        "{refused:?}"
    );
    assert!(app.services.store.user_by_login("alice.martin").await.unwrap().is_none(), "alice was written");
    assert!(app.services.store.groups().await.unwrap().is_empty(), "groups were written");
}

#[tokio::test]
async fn the_store_writes_an_import_in_one_transaction_or_not_at_all() {
    use idp::domain::Login;
    use idp::store::sql::SqlStore;
    use idp::store::{GroupStore, ImportBatch, ImportStore, ImportedUser, PasswordStore, StoreError, UserStore};

    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open(&idp_tests::fresh_database_url(dir.path()).await).await.unwrap();
    let imported = |login: &str, groups: &[&str]| ImportedUser {
        user: crate::contract::new_user_with(Login::parse(login).unwrap(), &format!("{login}@example.org")),
        disabled: login.starts_with("off"),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    };
    let groups = vec![("agents".to_owned(), "Agents".to_owned())];
    let clash =
        ImportBatch { users: vec![imported("anne.k", &["agents"]), imported("ANNE.K", &[])], groups: groups.clone() };
    assert!(matches!(store.import_users(&clash, 1_700_000_000).await, Err(StoreError::Conflict("login"))));
    assert!(store.user_by_login("anne.k").await.unwrap().is_none(), "the first user was written");
    assert!(store.groups().await.unwrap().is_empty(), "the group was written");

    let batch = ImportBatch { users: vec![imported("anne.k", &["agents"]), imported("off.user", &[])], groups };
    let users = store.import_users(&batch, 1_700_000_000).await.unwrap();
    assert_eq!(
        users.iter().map(|u| (u.login.as_str(), u.disabled)).collect::<Vec<_>>(),
        [("anne.k", false), ("off.user", true)]
    );
    assert_eq!(store.groups_of_user(&users[0].id).await.unwrap(), ["agents"]);
    assert_eq!(store.password_changed_at(&users[0].id).await.unwrap(), Some(1_700_000_000));
    assert_eq!(store.password_history(&users[0].id, 5).await.unwrap(), [users[0].password_hash.clone()]);
}

//! Logins that look alike are the same login, or refused (issue #10, item 6), on whichever
//! durable backend the environment selects: the store's contract (PRECIS form at every lookup,
//! one skeleton per login even between concurrent creations, the data migration of rows written
//! before the rule) and a sign-in through the login page.

use idp::domain::login::LoginFinding;
use idp::domain::{Login, NewUser, User};
use idp::store::sql::SqlStore;
use idp::store::{AccountStore, RecoveryStore, StoreError, UserStore, UserToken};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};

const NOW: i64 = 1_700_000_000;
const CYRILLIC_ALICE: &str = "\u{430}lice.martin";

async fn store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = idp_tests::fresh_database_url(dir.path()).await;
    (SqlStore::open(&url).await.expect("the store opens and migrates"), dir)
}

fn new_user(login: Login, n: u32) -> NewUser {
    crate::contract::new_user_with(login, &format!("user{n}@example.org"))
}

async fn create(store: &SqlStore, login: &str, n: u32) -> Result<User, StoreError> {
    // `parse`, not `parse_new`: the store's own rule is under test, mixed scripts included.
    store.create_user(new_user(Login::parse(login).unwrap(), n), NOW).await
}

#[tokio::test]
async fn store_lookups_by_login_compare_precis_forms() {
    let (store, _dir) = store().await;
    let alice = create(&store, "alice.martin", 1).await.unwrap();
    for typed in ["alice.martin", "ＡLICE.martin", "ａｌｉｃｅ．ｍａｒｔｉｎ", " Alice.Martin "] {
        let found = store.user_by_login(typed).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(alice.id.clone()), "{typed:?} does not name alice.martin");
    }
    for typed in [CYRILLIC_ALICE, "alice martin", "alice.martin!", ""] {
        assert!(store.user_by_login(typed).await.unwrap().is_none(), "{typed:?} named alice.martin");
    }
}

#[tokio::test]
async fn store_refuses_a_login_confusable_with_an_existing_one_and_writes_nothing() {
    let (store, _dir) = store().await;
    let alice = create(&store, "alice.martin", 1).await.unwrap();

    let refused = create(&store, CYRILLIC_ALICE, 2).await;
    assert!(matches!(refused, Err(StoreError::Conflict("confusable login"))), "{refused:?}");
    let same = create(&store, "ＡLICE.martin", 3).await;
    assert!(matches!(same, Err(StoreError::Conflict("login"))), "{same:?}");
    assert!(store.users_by_email("user2@example.org").await.unwrap().is_empty(), "nothing written");

    let cyrillic = Login::parse(CYRILLIC_ALICE).unwrap();
    let holder = store.user_confusable_with(&cyrillic).await.unwrap();
    assert_eq!(holder.map(|u| u.id), Some(alice.id.clone()));
    let own = store.user_confusable_with(&Login::parse("alice.martin").unwrap()).await.unwrap();
    assert!(own.is_none(), "a login does not look like another account because of itself");
}

#[tokio::test]
async fn store_lets_one_of_two_concurrent_confusable_creations_succeed() {
    let (store, _dir) = store().await;
    // `rn` and `m` share a skeleton (UTS #39 confusables.txt).
    let (a, b) = tokio::join!(create(&store, "martin.durand", 1), create(&store, "rnartin.durand", 2));
    let won = [a.is_ok(), b.is_ok()];
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "exactly one succeeds: {a:?} / {b:?}");
    for lost in [a, b].into_iter().filter_map(Result::err) {
        assert!(matches!(lost, StoreError::Conflict(_)), "the loser gets a conflict, not {lost:?}");
    }
}

#[tokio::test]
async fn store_renew_login_refuses_a_login_confusable_with_another_account() {
    let (store, _dir) = store().await;
    create(&store, "martin.durand", 1).await.unwrap();
    let bob = create(&store, "bob.leger", 2).await.unwrap();
    let token = UserToken {
        digest: "d1".into(),
        user_id: bob.id.clone(),
        purpose: "identifier_renewal".into(),
        created_at: NOW,
        expires_at: NOW + 900,
        attempts: 0,
    };
    store.insert_user_token(&token).await.unwrap();
    let lookalike = Login::parse("rnartin.durand").unwrap();
    let renewed = store.renew_login(&bob.id, &lookalike, ("d1", "identifier_renewal"), NOW).await;
    assert!(matches!(renewed, Err(StoreError::Conflict(_))), "{renewed:?}");
    assert_eq!(store.user_by_id(&bob.id).await.unwrap().unwrap().login, "bob.leger");
}

/// A database as the previous version left it (migrations before 0010), with these logins
/// written straight in SQL, oldest first; then opened (0010 runs) by this version.
async fn legacy_store(logins: &[&str]) -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = idp_tests::fresh_database_url(dir.path()).await;
    let dialect = if url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let old = dir.path().join("migrations-before-0010");
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dialect);
    for entry in std::fs::read_dir(all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0010" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    const INSERT: &str = "INSERT INTO users (id, login, email, given_name, family_name, user_type, password_hash, \
                          created_at, updated_at) VALUES ($1, $2, $3, 'A', 'B', 'usager', 'x', $4, $4)";
    if dialect == "sqlite" {
        let options = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        migrator.run(&pool).await.unwrap();
        for (i, login) in logins.iter().enumerate() {
            let at = NOW + i as i64;
            let q = sqlx::query(INSERT).bind(format!("u{i}")).bind(*login).bind(format!("u{i}@example.org"));
            q.bind(at).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        migrator.run(&pool).await.unwrap();
        for (i, login) in logins.iter().enumerate() {
            let at = NOW + i as i64;
            let q = sqlx::query(INSERT).bind(format!("u{i}")).bind(*login).bind(format!("u{i}@example.org"));
            q.bind(at).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    (SqlStore::open(&url).await.expect("this version migrates the old database"), dir)
}

#[tokio::test]
async fn migrate_logins_normalises_old_rows_and_reports_the_confusable_ones() {
    let (store, _dir) = legacy_store(&["alice.martin", "ａlice.martin", CYRILLIC_ALICE, "bo\u{301}b", "x!y"]).await;

    let findings = store.migrate_logins().await.unwrap();
    assert_eq!(
        findings,
        vec![
            LoginFinding::Collides {
                login: "ａlice.martin".into(),
                normalised: "alice.martin".into(),
                with: "alice.martin".into()
            },
            LoginFinding::Confusable { login: CYRILLIC_ALICE.into(), with: "alice.martin".into() },
            LoginFinding::Invalid { login: "x!y".into() },
        ]
    );
    // Normalised where unambiguous; the reported rows are left as they were, not merged.
    assert_eq!(store.user_by_id("u3").await.unwrap().unwrap().login, "bób");
    assert_eq!(store.user_by_login("BO\u{301}B").await.unwrap().map(|u| u.id), Some("u3".into()));
    assert_eq!(store.user_by_id("u1").await.unwrap().unwrap().login, "ａlice.martin");
    assert_eq!(store.user_by_login(CYRILLIC_ALICE).await.unwrap().map(|u| u.id), Some("u2".into()));
    // The skeletons are in: a new lookalike of the old alice.martin (`1` for `l`) is refused.
    let lookalike = create(&store, "A1ICE.MARTIN", 10).await;
    assert!(matches!(lookalike, Err(StoreError::Conflict("confusable login"))), "{lookalike:?}");

    // A second run writes nothing new and reports the same rows.
    assert_eq!(store.migrate_logins().await.unwrap(), findings);
}

#[tokio::test]
async fn signing_in_with_a_fullwidth_upper_case_login_signs_in_that_account() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;

    let browser = Browser::new();
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    let page = browser.submit_login(&app.issuer, &page, "ＡLICE.martin", PASSWORD).await;
    assert!(page.location().is_some(), "not signed in: {} {}", page.status, page.body);
    assert_eq!(app.sessions_of(&alice.id).await.len(), 1, "the session is alice.martin's");

    // A lookalike in another script is another login: it does not open alice.martin's account.
    let browser = Browser::new();
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    let page = browser.submit_login(&app.issuer, &page, CYRILLIC_ALICE, PASSWORD).await;
    assert_eq!(page.status, 401, "the lookalike signed in: {}", page.body);
    assert_eq!(app.sessions_of(&alice.id).await.len(), 1);
}

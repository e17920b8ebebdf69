//! Contract tests of the group store methods (issue #11), on whichever durable backend the
//! environment selects (SQLite, or PostgreSQL with `IDP_TEST_POSTGRES_URL`): creation and its
//! conflict, counts, members by login, idempotent membership, and a user's groups.

use idp::domain::{Login, User};
use idp::store::sql::SqlStore;
use idp::store::{GroupStore, StoreError, UserStore};

use crate::contract::new_user_with;

const NOW: i64 = 1_700_000_000;

async fn store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = idp_tests::fresh_database_url(dir.path()).await;
    (SqlStore::open(&url).await.expect("the store opens and migrates"), dir)
}

async fn user(store: &SqlStore, login: &str) -> User {
    store.create_user(new_user_with(Login::parse(login).unwrap(), &format!("{login}@example.org")), NOW).await.unwrap()
}

#[tokio::test]
async fn store_refuses_a_duplicate_group_id_with_a_conflict() {
    let (store, _dir) = store().await;
    store.create_group("staff", "Staff", NOW).await.unwrap();
    let again = store.create_group("staff", "Other", NOW + 1).await;
    assert!(matches!(again, Err(StoreError::Conflict("group"))), "expected Conflict(group), got {again:?}");
    assert_eq!(store.group("staff").await.unwrap().unwrap().name, "Staff", "the first one stays");
}

#[tokio::test]
async fn store_lists_groups_by_id_with_their_member_counts() {
    let (store, _dir) = store().await;
    let (alice, bob) = (user(&store, "alice.martin").await, user(&store, "bob.durand").await);
    store.create_group("zeta", "Zeta", NOW).await.unwrap();
    store.create_group("alpha", "Alpha", NOW).await.unwrap();
    for u in [&alice, &bob] {
        assert!(store.add_group_member("zeta", &u.id, NOW).await.unwrap());
    }

    let listed: Vec<(String, i64)> = store.groups().await.unwrap().into_iter().map(|g| (g.id, g.members)).collect();

    assert_eq!(listed, vec![("alpha".to_owned(), 0), ("zeta".to_owned(), 2)]);
}

#[tokio::test]
async fn store_membership_is_idempotent_and_removable() {
    let (store, _dir) = store().await;
    let alice = user(&store, "alice.martin").await;
    store.create_group("staff", "Staff", NOW).await.unwrap();

    assert!(store.add_group_member("staff", &alice.id, NOW).await.unwrap(), "first add");
    assert!(!store.add_group_member("staff", &alice.id, NOW + 1).await.unwrap(), "second add changes nothing");
    assert_eq!(store.group("staff").await.unwrap().unwrap().members, vec!["alice.martin".to_owned()]);

    assert!(store.remove_group_member("staff", &alice.id).await.unwrap(), "first removal");
    assert!(!store.remove_group_member("staff", &alice.id).await.unwrap(), "not a member any more");
    assert!(store.group("staff").await.unwrap().unwrap().members.is_empty());
}

#[tokio::test]
async fn store_gives_the_sorted_group_ids_of_a_user_and_nothing_of_others() {
    let (store, _dir) = store().await;
    let (alice, bob) = (user(&store, "alice.martin").await, user(&store, "bob.durand").await);
    for id in ["staff", "admins", "others"] {
        store.create_group(id, id, NOW).await.unwrap();
    }
    store.add_group_member("staff", &alice.id, NOW).await.unwrap();
    store.add_group_member("admins", &alice.id, NOW).await.unwrap();
    store.add_group_member("others", &bob.id, NOW).await.unwrap();

    assert_eq!(store.groups_of_user(&alice.id).await.unwrap(), vec!["admins".to_owned(), "staff".to_owned()]);
    assert_eq!(store.groups_of_user("nobody").await.unwrap(), Vec::<String>::new());
    assert_eq!(store.group("missing").await.unwrap(), None);
}

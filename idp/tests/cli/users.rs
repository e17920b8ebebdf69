//! `idp user list|show|update|disable|enable|delete|unlock|set-role|…` (issue #12): the
//! operator's side of user administration, calling the same library functions as the admin API.

use idp::store::UserStore;
use idp::store::user_admin::UserAdminStore;

use super::{ALICE, Idp, PASSWORD, with};

fn idp_with_alice() -> Idp {
    let idp = Idp::new();
    let run = idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n"));
    assert!(run.ok, "user add failed: {}", run.all());
    idp
}

#[test]
fn user_list_prints_the_matching_accounts_and_the_total() {
    let idp = idp_with_alice();
    let bob = ["user", "add", "--login", "bob.leroy", "--email", "bob@example.org", "--role", "support"];
    let added = idp.run(&bob);
    assert!(added.ok && added.stdout.contains("role: support"), "{}", added.all());

    let all = idp.run(&["user", "list", "--sort", "-login"]);
    let alices = idp.run(&["user", "list", "--q", "ALI"]);

    assert!(all.ok, "{}", all.all());
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(lines[0], "bob.leroy\tactive\tbob@example.org\tusager\tsupport", "{}", all.stdout);
    assert_eq!(lines[1], "alice.martin\tactive\talice@example.org\tusager\t-", "{}", all.stdout);
    assert!(all.stdout.contains("2 of 2 user(s)"), "{}", all.stdout);
    assert!(alices.stdout.contains("alice.martin") && !alices.stdout.contains("bob.leroy"), "{}", alices.stdout);
    let bad = idp.run(&["user", "list", "--status", "asleep"]);
    assert!(!bad.ok && bad.stderr.contains("unknown status"), "{}", bad.all());
    let too_many = idp.run(&["user", "list", "--limit", "500"]);
    assert!(!too_many.ok && too_many.stderr.contains("between 1 and 200"), "{}", too_many.all());
}

#[test]
fn user_show_prints_the_account_without_any_secret() {
    let idp = idp_with_alice();

    let show = idp.run(&["user", "show", "--login", "alice.martin"]);

    assert!(show.ok, "{}", show.all());
    assert!(show.stdout.contains("status: active") && show.stdout.contains("email: alice@example.org"));
    assert!(!show.stdout.contains("argon2"), "a hash was printed: {}", show.stdout);
    let unknown = idp.run(&["user", "show", "--login", "nobody"]);
    assert!(!unknown.ok && unknown.stderr.contains("not found"), "{}", unknown.all());
}

#[test]
fn user_update_changes_the_profile_and_refuses_a_bad_address() {
    let idp = idp_with_alice();

    let run = idp.run(&[
        "user",
        "update",
        "--login",
        "alice.martin",
        "--email",
        "a.martin@mairie.fr",
        "--phone-number",
        "+33 1 23 45 67 89",
    ]);
    let bad = idp.run(&["user", "update", "--login", "alice.martin", "--email", "nope"]);

    assert!(run.ok, "{}", run.all());
    assert!(!bad.ok, "{}", bad.all());
    let alice = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).unwrap();
    assert_eq!(
        (alice.email.as_str(), alice.phone_number.as_deref()),
        ("a.martin@mairie.fr", Some("+33 1 23 45 67 89"))
    );
}

#[test]
fn user_disable_and_enable_flip_the_account_and_set_role_gives_and_takes_a_role() {
    let idp = idp_with_alice();
    let disabled = |idp: &Idp| idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).unwrap().disabled;

    assert!(idp.run(&["user", "disable", "--login", "alice.martin"]).ok);
    assert!(disabled(&idp));
    assert!(idp.run(&["user", "enable", "--login", "alice.martin"]).ok);
    assert!(!disabled(&idp));

    let role = |idp: &Idp| {
        idp.store(async |s| {
            let id = s.user_by_login("alice.martin").await.unwrap().unwrap().id;
            s.role_of(&id).await.unwrap()
        })
    };
    assert!(idp.run(&["user", "set-role", "--login", "alice.martin", "--role", "auditor"]).ok);
    assert_eq!(role(&idp).as_deref(), Some("auditor"));
    assert!(idp.run(&["user", "set-role", "--login", "alice.martin", "--role", "none"]).ok);
    assert_eq!(role(&idp), None);
    let bad = idp.run(&["user", "set-role", "--login", "alice.martin", "--role", "root"]);
    assert!(!bad.ok && bad.stderr.contains("unknown role"), "{}", bad.all());
}

#[test]
fn user_delete_needs_yes_and_then_erases_the_account() {
    let idp = idp_with_alice();

    let unconfirmed = idp.run(&["user", "delete", "--login", "alice.martin"]);
    assert!(!unconfirmed.ok && unconfirmed.stderr.contains("--yes"), "{}", unconfirmed.all());
    assert!(idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).is_some(), "nothing erased yet");
    let run = idp.run(&["user", "delete", "--login", "alice.martin", "--yes"]);

    assert!(run.ok, "{}", run.all());
    assert!(idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).is_none());
}

#[test]
fn user_support_commands_unlock_end_sessions_and_list_events() {
    let idp = idp_with_alice();

    let unlock = idp.run(&["user", "unlock", "--login", "alice.martin"]);
    let end = idp.run(&["user", "end-sessions", "--login", "alice.martin"]);
    let events = idp.run(&["user", "events", "--login", "alice.martin"]);
    let question = idp.run(&["user", "reset-secret-question", "--login", "alice.martin"]);

    assert!(unlock.ok && end.ok && end.stdout.contains("0 session(s)"), "{}{}", unlock.all(), end.all());
    assert!(events.ok && events.stdout.contains("\"kind\":\"admin_user_unlocked\""), "{}", events.all());
    assert!(!question.ok && question.stderr.contains("no secret question"), "{}", question.all());
    assert!(idp.run(&["user", "sessions", "--login", "alice.martin"]).ok);
    assert!(idp.run(&["user", "consents", "--login", "alice.martin"]).ok);
    let revoke = idp.run(&["user", "revoke-consent", "--login", "alice.martin", "--client", "shop"]);
    assert!(!revoke.ok && revoke.stderr.contains("not found"), "{}", revoke.all());
}

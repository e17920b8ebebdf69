//! `idp group …` (issue #11): create, list, show, add and remove members, with clear refusals of
//! bad ids, unknown groups and logins, and duplicates; and `client add --setting` with the
//! per-application rules.

use super::{ALICE, Idp, PASSWORD, with};

fn idp_with_alice() -> Idp {
    let idp = Idp::new();
    let run = idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n"));
    assert!(run.ok, "user add failed: {}", run.all());
    idp
}

fn alice_login() -> &'static str {
    let at = ALICE.iter().position(|a| *a == "--login").unwrap();
    ALICE[at + 1]
}

#[test]
fn group_commands_create_list_show_and_change_members() {
    let idp = idp_with_alice();
    let login = alice_login();

    let add = idp.run(&["group", "add", "--id", "habilites-bonus-eco", "--name", "Habilités Bonus Éco"]);
    assert!(add.ok, "{}", add.all());
    let member = idp.run(&["group", "add-member", "--group", "habilites-bonus-eco", "--login", login]);
    assert!(member.ok, "{}", member.all());

    let list = idp.run(&["group", "list"]);
    assert!(list.ok, "{}", list.all());
    assert!(list.stdout.lines().any(|l| l == "habilites-bonus-eco\t1\tHabilités Bonus Éco"), "{}", list.stdout);
    let show = idp.run(&["group", "show", "--id", "habilites-bonus-eco"]);
    assert!(show.ok, "{}", show.all());
    assert!(show.stdout.lines().any(|l| l == format!("member: {login}")), "{}", show.stdout);

    let removed = idp.run(&["group", "remove-member", "--group", "habilites-bonus-eco", "--login", login]);
    assert!(removed.ok, "{}", removed.all());
    let show = idp.run(&["group", "show", "--id", "habilites-bonus-eco"]);
    assert!(!show.stdout.contains("member:"), "{}", show.stdout);
    let again = idp.run(&["group", "remove-member", "--group", "habilites-bonus-eco", "--login", login]);
    assert!(!again.ok && again.stderr.contains("is not in group"), "{}", again.all());
}

#[test]
fn group_commands_refuse_bad_ids_unknown_names_and_duplicates() {
    let idp = idp_with_alice();
    assert!(idp.run(&["group", "add", "--id", "staff"]).ok);

    for (args, expected) in [
        (vec!["group", "add", "--id", "staff"], "already exists"),
        (vec!["group", "add", "--id", "not a slug"], "letters, digits"),
        (vec!["group", "add-member", "--group", "nope", "--login", alice_login()], "no group \"nope\""),
        (vec!["group", "add-member", "--group", "staff", "--login", "nobody"], "no user with login \"nobody\""),
        (vec!["group", "show", "--id", "nope"], "no group \"nope\""),
    ] {
        let run = idp.run(&args);
        assert!(!run.ok, "{args:?} succeeded: {}", run.all());
        assert!(run.stderr.contains(expected), "{args:?}: expected {expected:?} in {}", run.stderr);
    }
    let list = idp.run(&["group", "list"]);
    assert_eq!(list.stdout.lines().count(), 1, "nothing else was created: {}", list.stdout);
}

#[test]
fn client_add_takes_the_access_rules_as_settings_and_refuses_undeclared_types() {
    let idp = Idp::new();
    let base = ["client", "add", "--id", "bonus", "--redirect-uri", "https://bonus.example/cb"];
    let ok = idp.run(&with(
        &base,
        &["--setting", "allowed_groups=[\"habilites-bonus-eco\"]", "--setting", "access_denied=redirect"],
    ));
    assert!(ok.ok, "{}", ok.all());
    let show = idp.run(&["client", "show", "bonus"]);
    assert!(show.stdout.contains("\"allowed_groups\":[\"habilites-bonus-eco\"]"), "{}", show.stdout);
    assert!(show.stdout.contains("\"access_denied\":\"redirect\""), "{}", show.stdout);

    let refused = idp.run(&[
        "client",
        "add",
        "--id",
        "other",
        "--redirect-uri",
        "https://other.example/cb",
        "--setting",
        "allowed_user_types=[\"martian\"]",
    ]);
    assert!(!refused.ok && refused.stderr.contains("unknown user type \"martian\""), "{}", refused.all());
}

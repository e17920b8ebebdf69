//! `idp client update|rotate-secret` and `idp audit search|export` (issue #12): the same
//! library functions as the API, with the registration's validation and the audit trail.

use super::{Idp, SHOP, line_value, with};

fn idp_with_shop() -> (Idp, String) {
    let idp = Idp::new();
    let add = idp.run(SHOP);
    assert!(add.ok, "{}", add.all());
    let secret = line_value(&add.stdout, "client_secret:").unwrap().to_owned();
    (idp, secret)
}

#[test]
fn client_update_changes_only_what_is_given_and_merges_settings() {
    let (idp, _) = idp_with_shop();
    let before = idp.stored_client("shop").unwrap();

    let run = idp.run(&[
        "client",
        "update",
        "shop",
        "--name",
        "Nouvelle boutique",
        "--setting",
        "access_token_ttl=300",
        "--first-party",
        "true",
    ]);

    assert!(run.ok, "{}", run.all());
    let after = idp.stored_client("shop").unwrap();
    assert_eq!((after.name.as_str(), after.first_party), ("Nouvelle boutique", true));
    assert_eq!(after.settings.access_token_ttl, Some(300));
    assert_eq!(after.redirect_uris, before.redirect_uris, "not given, kept");
    assert_eq!(after.secret_digest, before.secret_digest, "the secret is not an update's");
}

#[test]
fn client_update_refuses_an_invalid_value_and_changes_nothing() {
    let (idp, _) = idp_with_shop();
    let before = idp.stored_client("shop").unwrap();

    for args in [
        with(&["client", "update", "shop"], &["--redirect-uri", "http://shop.example/cb"]),
        with(&["client", "update", "shop"], &["--setting", "colour=blue"]),
        with(&["client", "update", "shop"], &["--allowed-user-type", "martian"]),
    ] {
        let run = idp.run(&args);
        assert!(!run.ok, "{args:?} succeeded");
    }
    assert_eq!(idp.stored_client("shop").unwrap(), before);
    let missing = idp.run(&["client", "update", "nobody", "--name", "x"]);
    assert!(!missing.ok && missing.stderr.contains("no client \"nobody\""), "{}", missing.all());
}

#[test]
fn client_rotate_secret_prints_a_new_secret_once_and_keeps_the_old_one_for_the_overlap() {
    let (idp, old) = idp_with_shop();

    let run = idp.run(&["client", "rotate-secret", "shop", "--overlap", "2h"]);

    assert!(run.ok, "{}", run.all());
    let new = line_value(&run.stdout, "client_secret:").unwrap();
    assert_ne!(new, old);
    assert!(run.stdout.contains("the previous secret works until"), "{}", run.stdout);
    let stored = idp.stored_client("shop").unwrap();
    assert_eq!(stored.secret_digest.as_deref(), Some(idp::crypto::digest(new).as_str()));
    let previous = idp.store(async |s| idp::store::ClientAdminStore::previous_client_secret(s, "shop").await.unwrap());
    assert_eq!(previous.map(|p| p.digest), Some(idp::crypto::digest(&old)));
    let bad = idp.run(&["client", "rotate-secret", "shop", "--overlap", "1w"]);
    assert!(!bad.ok && bad.stderr.contains("not a duration"), "{}", bad.all());
}

#[test]
fn audit_search_and_export_read_the_trail_the_commands_wrote() {
    let (idp, _) = idp_with_shop();
    assert!(idp.run(&["client", "rotate-secret", "shop"]).ok);

    let search = idp.run(&["audit", "search", "--client", "shop", "--kind", "client_*", "--since", "2000-01-01"]);
    assert!(search.ok, "{}", search.all());
    let kinds: Vec<&str> = search.stdout.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    assert_eq!(kinds, ["client_secret_rotated", "client_created"], "newest first: {}", search.stdout);
    assert!(!search.stdout.contains("client_secret:"), "no secret in the trail");

    let export = idp.run(&["audit", "export", "--kind", "client_secret_rotated"]);
    assert!(export.ok, "{}", export.all());
    let lines: Vec<serde_json::Value> = export.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["client_id"], "shop");
    assert_eq!(lines[0]["detail"]["actor"]["type"], "cli");

    let bad = idp.run(&["audit", "search", "--since", "yesterday"]);
    assert!(!bad.ok && bad.stderr.contains("is not a date"), "{}", bad.all());
}

//! `idp user import` with existing password hashes (issue #12 §3): a CSV `password_hash`
//! column and a Keycloak realm export (`--keycloak`), whole file or nothing.

use super::{Idp, outbox};

const BCRYPT: &str = "$2b$04$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC";
const SSHA: &str = "{SSHA}vNHgirGwlyx44L5R/kbn+JxMAi/lvHdu";
const HEADER: &str = "login,email,given_name,family_name,user_type,password_hash\n";

fn realm_export() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keycloak-realm.json")
}

fn hash_of(idp: &Idp, login: &str) -> Option<String> {
    idp.store(async |s| idp::store::UserStore::user_by_login(s, login).await.unwrap()).map(|u| u.password_hash)
}

#[test]
fn user_import_with_a_password_hash_creates_an_active_account_without_an_activation_mail() {
    let idp = Idp::new();
    let file = idp.data_dir().join("users.csv");
    let rows = format!(
        "anne.dupont,anne@example.org,Anne,Dupont,,{BCRYPT}\nbob.leger,bob@example.org,Bob,Léger,,{SSHA}\n\
         carl.k,carl@example.org,Carl,K,,\n"
    );
    std::fs::write(&file, format!("{HEADER}{rows}")).unwrap();
    let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
    assert!(run.ok, "import failed: {}", run.all());
    assert!(run.stdout.contains("user anne.dupont created") && run.stdout.contains("password hash imported (bcrypt)"));
    assert!(run.stdout.contains("password hash imported (ssha)"), "{}", run.stdout);
    assert!(run.stdout.contains("3 user(s) imported"), "{}", run.stdout);
    assert!(!run.all().contains(BCRYPT), "the hash was printed:\n{}", run.all());
    assert_eq!(hash_of(&idp, "anne.dupont").as_deref(), Some(BCRYPT));
    assert_eq!(hash_of(&idp, "bob.leger").as_deref(), Some(SSHA));
    assert_eq!(outbox(&idp).len(), 1, "only carl, without a hash, gets an activation link");
}

#[test]
fn user_import_refuses_a_malformed_hash_naming_its_line_and_writes_nothing() {
    let idp = Idp::new();
    let file = idp.data_dir().join("users.csv");
    let rows =
        format!("anne.dupont,anne@example.org,Anne,Dupont,,{BCRYPT}\nbob.leger,bob@example.org,Bob,L,,{{SSHA}}x\n");
    std::fs::write(&file, format!("{HEADER}{rows}")).unwrap();
    let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
    assert!(!run.ok, "a malformed hash was imported: {}", run.all());
    assert!(run.stderr.contains("line 3: malformed {SSHA} hash"), "{}", run.stderr);
    assert_eq!(hash_of(&idp, "anne.dupont"), None, "the valid first row was written");
    assert!(outbox(&idp).is_empty());
}

#[test]
fn user_import_keycloak_brings_the_realms_users_and_groups() {
    let idp = Idp::new();
    let run = idp.run(&["user", "import", "--keycloak", realm_export(), "--identifier-attribute", "matricule"]);
    assert!(run.ok, "import failed: {}", run.all());
    for line in ["group agents created", "group agents.Ressources-humaines created", "5 user(s) imported"] {
        assert!(run.stdout.contains(line), "expected {line:?} in {}", run.stdout);
    }
    assert!(run.stdout.contains("user dana.petit created") && run.stdout.contains("activation link e-mailed"));
    assert!(hash_of(&idp, "alice.martin").is_some_and(|h| h.starts_with("{KEYCLOAK}pbkdf2-sha256$27500$")));
    assert!(hash_of(&idp, "chloe.dubois").is_some_and(|h| h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$")));
    assert_eq!(hash_of(&idp, "service-account-ops"), None, "service accounts are not people");
    let show = idp.run(&["group", "show", "--id", "elus"]);
    assert!(
        show.stdout.contains("member: bruno.leroy") && show.stdout.contains("member: eve.moreau"),
        "{}",
        show.all()
    );

    let again = idp.run(&["user", "import", "--keycloak", realm_export()]);
    assert!(
        !again.ok && again.stderr.contains(r#"user "alice.martin": login "alice.martin" already exists"#),
        "{}",
        again.all()
    );
}

#[test]
fn user_import_needs_a_csv_file_or_a_realm_export() {
    let idp = Idp::new();
    let run = idp.run(&["user", "import"]);
    assert!(!run.ok && run.stderr.contains("--file"), "{}", run.all());
    let csv_with_keycloak_flags = idp.run(&["user", "import", "--file", "users.csv", "--user-type", "agent"]);
    assert!(
        !csv_with_keycloak_flags.ok && csv_with_keycloak_flags.stderr.contains("--keycloak"),
        "{}",
        csv_with_keycloak_flags.all()
    );
}

//! `idp user add`, `idp user import` and `idp migrate` with logins that look alike (issue #10,
//! item 6): refused whole with a message naming the login it resembles; rows written before the
//! rule are reported by `idp migrate`.

use super::{ALICE, IMPORT_HEADER, Idp, PASSWORD, outbox, with};
use idp::store::{RecoveryStore, UserStore};

/// `user add` of `login`, password on standard input.
fn add(idp: &Idp, login: &str, email: &str) -> super::Run {
    let args = [
        "user",
        "add",
        "--login",
        login,
        "--email",
        email,
        "--given-name",
        "A",
        "--family-name",
        "B",
        "--password-stdin",
    ];
    idp.run_with_stdin(&args, &format!("{PASSWORD}\n"))
}

#[test]
fn user_add_refuses_a_login_that_looks_like_an_existing_one_and_changes_nothing() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n")).ok);
    assert!(add(&idp, "paco", "paco@example.org").ok);

    // All Cyrillic (р а с о), one script, the skeleton of `paco`.
    let run = add(&idp, "\u{440}\u{430}\u{441}\u{43e}", "p2@example.org");
    assert!(!run.ok, "a lookalike was created:\n{}", run.all());
    assert!(run.stderr.contains("looks like the existing login \"paco\""), "unclear message: {}", run.stderr);
    // `rn` for `m`, `1` for `l`: Latin lookalikes.
    for lookalike in ["a1ice.martin", "ALICE.RNARTIN"] {
        let run = add(&idp, lookalike, "a2@example.org");
        assert!(!run.ok && run.stderr.contains("looks like the existing login \"alice.martin\""), "{}", run.all());
    }
    // A Cyrillic `а` among Latin letters: refused as mixing scripts.
    let run = add(&idp, "\u{430}lice.martin", "a3@example.org");
    assert!(!run.ok && run.stderr.contains("several scripts"), "{}", run.all());
    // The same login in fullwidth upper case is the same login.
    let run = add(&idp, "ＡLICE.martin", "a4@example.org");
    assert!(!run.ok && run.stderr.contains("already exists"), "{}", run.all());

    for email in ["p2@example.org", "a2@example.org", "a3@example.org", "a4@example.org"] {
        let found = idp.store(async |s| s.users_by_email(email).await.unwrap());
        assert!(found.is_empty(), "a refused user was written ({email})");
    }
}

#[test]
fn user_import_refuses_a_file_with_a_row_that_looks_like_a_user_or_another_row() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n")).ok);
    let file = idp.data_dir().join("users.csv");
    for (rows, message) in [
        (
            "anne.dupont,anne@example.org,Anne,Dupont,\na1ice.martin,a@example.org,Alice,M,\n",
            "line 3: login \"a1ice.martin\" looks like the existing login \"alice.martin\"",
        ),
        (
            "anne.dupont,anne@example.org,Anne,Dupont,\nmartin.anne,a2@example.org,Anne,M,\nRNARTIN.ANNE,a3@example.org,A,R,\n",
            "line 4: login \"RNARTIN.ANNE\" looks like login \"martin.anne\" of line 3",
        ),
        ("anne.dupont,anne@example.org,Anne,Dupont,\nＡＮＮＥ.dupont,a2@example.org,Anne,D,\n", "appears twice"),
    ] {
        std::fs::write(&file, format!("{IMPORT_HEADER}{rows}")).unwrap();
        let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
        assert!(!run.ok, "a file with lookalikes was imported:\n{rows}\n{}", run.all());
        assert!(run.stderr.contains(message), "expected {message:?} in {}", run.stderr);
        let anne = idp.store(async |s| s.user_by_login("anne.dupont").await.unwrap());
        assert!(anne.is_none(), "the first row was written although the file was refused:\n{rows}");
    }
    assert!(outbox(&idp).is_empty(), "no mail for a refused import");
}

/// The previous version's database (migrations before 0010) holding `logins`, written in SQL.
fn legacy_database(idp: &Idp, logins: &[&str]) {
    let old = idp.data_dir().join("migrations-before-0010");
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    for entry in std::fs::read_dir(all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0010" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite:{}", idp.data_dir().join("idp.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let options = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
        for (i, login) in logins.iter().enumerate() {
            sqlx::query(
                "INSERT INTO users (id, login, email, given_name, family_name, user_type, password_hash, \
                 created_at, updated_at) VALUES ($1, $2, $3, 'A', 'B', 'usager', 'x', $4, $4)",
            )
            .bind(format!("u{i}"))
            .bind(*login)
            .bind(format!("u{i}@example.org"))
            .bind(1_700_000_000 + i as i64)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    });
}

#[test]
fn migrate_reports_a_confusable_pair_written_before_the_rule_and_keeps_both() {
    let idp = Idp::new();
    legacy_database(&idp, &["alice.martin", "\u{430}lice.martin", "ｂob"]);

    let run = idp.run(&["migrate"]);
    assert!(run.ok, "{}", run.all());
    assert!(
        run.stdout.contains("to review: login \"\u{430}lice.martin\" is confusable with login \"alice.martin\""),
        "the pair is not reported:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 login(s) left as they were"), "{}", run.stdout);
    assert!(run.stdout.contains("database is up to date"), "{}", run.stdout);
    let (cyrillic, bob) =
        idp.store(async |s| (s.user_by_login("\u{430}lice.martin").await.unwrap(), s.user_by_id("u2").await.unwrap()));
    assert_eq!(cyrillic.map(|u| u.id), Some("u1".into()), "reported, not merged: it still signs in");
    assert_eq!(bob.map(|u| u.login), Some("bob".into()), "normalised: no other row is bob");

    let again = idp.run(&["migrate"]);
    assert!(again.ok && again.stdout.contains("1 login(s) left as they were"), "{}", again.all());
}

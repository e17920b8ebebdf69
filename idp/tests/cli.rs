//! The `idp` command as an operator runs it: each test gets its own data directory (embedded
//! defaults: SQLite file, in-process ephemeral state, mail outbox) and runs the real binary.
//! Secrets go in on standard input and must never come back out, except a generated one,
//! printed once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use idp::store::sql::SqlStore;
use idp::store::{ClientStore, RecoveryStore, UserStore};

#[path = "cli/admin.rs"]
mod admin;
#[path = "cli/groups.rs"]
mod groups;
#[path = "cli/import.rs"]
mod import;
#[path = "cli/logins.rs"]
mod logins;
#[path = "cli/users.rs"]
mod users;

const SECRET_40: &str = "Zq8vN2rT5wXy7Ab3Cd9Ef1Gh4Jk6Lm0PqRsTuVw";
const PASSWORD: &str = "Correct-horse-battery-1";

const SHOP: &[&str] = &[
    "client",
    "add",
    "--id",
    "shop",
    "--name",
    "Boutique",
    "--redirect-uri",
    "https://shop.example/callback",
    "--post-logout-redirect-uri",
    "https://shop.example/",
    "--grant",
    "authorization_code",
    "--grant",
    "refresh_token",
    "--auth-method",
    "client_secret_basic",
];

/// One installation: a data directory and the binary pointed at it.
struct Idp {
    dir: tempfile::TempDir,
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Idp {
    fn new() -> Self {
        Idp { dir: tempfile::tempdir().unwrap() }
    }

    fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with this data directory and nothing else from the caller's `IDP_*`
    /// settings (the suite's `IDP_TEST_*`, a developer's `IDP_DATABASE_URL` or `IDP_REDIS_URL`).
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idp"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("IDP_") {
                cmd.env_remove(name);
            }
        }
        cmd.args(args).env("IDP_DATA_DIR", self.data_dir()).env("IDP_LOG", "warn").current_dir(self.data_dir());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.command(args).stdin(Stdio::null()).output().unwrap().into()
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap().into()
    }

    fn store<T>(&self, f: impl AsyncFnOnce(&SqlStore) -> T) -> T {
        let url = format!("sqlite:{}", self.data_dir().join("idp.db").display());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let store = SqlStore::open(&url).await.unwrap();
            f(&store).await
        })
    }

    fn stored_client(&self, id: &str) -> Option<idp::domain::Client> {
        self.store(async |s| s.client(id).await.unwrap())
    }
}

fn with(base: &[&'static str], more: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(more).copied().collect()
}

/// The value after `prefix` on the first line that starts with it.
fn line_value<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(prefix)).map(str::trim)
}

#[test]
fn client_add_reads_the_secret_from_stdin_and_never_prints_it() {
    let idp = Idp::new();
    let run = idp.run_with_stdin(&with(SHOP, &["--secret-stdin"]), &format!("{SECRET_40}\n"));
    assert!(run.ok, "client add failed: {}", run.all());
    assert!(run.stdout.contains("client shop registered"), "stdout: {}", run.stdout);
    assert!(!run.all().contains(SECRET_40), "the secret was echoed:\n{}", run.all());

    let client = idp.stored_client("shop").expect("the client is stored");
    assert_eq!(client.secret_digest.as_deref(), Some(idp::crypto::digest(SECRET_40).as_str()), "stored as a digest");
    assert_eq!(client.name, "Boutique");
}

#[test]
fn client_add_without_secret_stdin_prints_a_generated_secret_once() {
    let idp = Idp::new();
    let run = idp.run(SHOP);
    assert!(run.ok, "client add failed: {}", run.all());
    let secret = line_value(&run.stdout, "client_secret:").expect("a client_secret line").to_owned();
    assert!(secret.len() >= 43, "a generated secret has at least 256 bits: {secret:?}");
    assert_eq!(run.all().matches(&secret).count(), 1, "printed exactly once:\n{}", run.all());

    let client = idp.stored_client("shop").unwrap();
    assert_eq!(client.secret_digest.as_deref(), Some(idp::crypto::digest(&secret).as_str()));
    let show = idp.run(&["client", "show", "shop"]);
    assert!(!show.all().contains(&secret), "client show reveals the secret:\n{}", show.all());
}

#[test]
fn client_add_registers_a_public_client_on_a_loopback_redirect_uri() {
    let idp = Idp::new();
    let run =
        idp.run(&["client", "add", "--id", "spa", "--public", "--redirect-uri", "http://127.0.0.1:5173/callback"]);
    assert!(run.ok, "client add --public failed: {}", run.all());
    assert!(!run.stdout.contains("client_secret"), "a public client has no secret:\n{}", run.stdout);

    let show = idp.run(&["client", "show", "spa"]);
    assert!(show.ok, "{}", show.all());
    assert_eq!(line_value(&show.stdout, "public:"), Some("true"));
    assert_eq!(line_value(&show.stdout, "auth_method:"), Some("none"));
    assert_eq!(line_value(&show.stdout, "redirect_uri:"), Some("http://127.0.0.1:5173/callback"));
    assert_eq!(idp.stored_client("spa").unwrap().secret_digest, None);
}

#[test]
fn client_list_and_show_print_the_registration() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(SHOP, &["--secret-stdin"]), SECRET_40).ok);

    let list = idp.run(&["client", "list"]);
    assert!(list.ok, "{}", list.all());
    let line = list.stdout.lines().find(|l| l.starts_with("shop\t")).expect("shop is listed");
    assert!(line.contains("client_secret_basic"), "{line}");
    assert!(line.contains("https://shop.example/callback"), "{line}");
    assert!(line.contains("Boutique"), "{line}");

    let show = idp.run(&["client", "show", "shop"]);
    assert!(show.ok, "{}", show.all());
    for expected in [
        "id: shop",
        "name: Boutique",
        "auth_method: client_secret_basic",
        "public: false",
        "redirect_uri: https://shop.example/callback",
        "post_logout_redirect_uri: https://shop.example/",
        "grant_types: authorization_code refresh_token",
    ] {
        assert!(show.stdout.lines().any(|l| l == expected), "missing {expected:?} in:\n{}", show.stdout);
    }
}

#[test]
fn client_add_refuses_a_duplicate_id_and_changes_nothing() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(SHOP, &["--secret-stdin"]), SECRET_40).ok);
    let before = idp.stored_client("shop").unwrap();

    let run = idp.run(&[
        "client",
        "add",
        "--id",
        "shop",
        "--name",
        "Autre boutique",
        "--redirect-uri",
        "https://other.example/callback",
    ]);
    assert!(!run.ok, "a duplicate id was accepted:\n{}", run.all());
    assert!(run.stderr.contains("\"shop\" already exists"), "unclear message: {}", run.stderr);
    assert!(!run.stdout.contains("client_secret"), "a secret was printed for nothing:\n{}", run.stdout);
    assert_eq!(idp.stored_client("shop").unwrap(), before, "the existing client is unchanged");
}

#[test]
fn client_add_refuses_invalid_redirect_uris_and_stores_nothing() {
    let idp = Idp::new();
    for (id, uri, message) in [
        ("frag", "https://shop.example/callback#top", "must not contain a fragment"),
        ("relative", "/callback", "is not an absolute URL"),
        ("plain-http", "http://shop.example/callback", "uses http to a host that is not loopback"),
    ] {
        let run = idp.run(&["client", "add", "--id", id, "--redirect-uri", uri]);
        assert!(!run.ok, "{uri} was accepted:\n{}", run.all());
        assert!(run.stderr.contains(message), "for {uri}, expected {message:?} in: {}", run.stderr);
        assert!(!run.stdout.contains("client_secret"), "a secret was printed for nothing:\n{}", run.stdout);
        assert_eq!(idp.stored_client(id), None, "{id} was stored");
        assert!(!idp.run(&["client", "show", id]).ok);
    }
    let run = idp.run(&[
        "client",
        "add",
        "--id",
        "post-logout",
        "--redirect-uri",
        "https://shop.example/callback",
        "--post-logout-redirect-uri",
        "https://shop.example/#bye",
    ]);
    assert!(!run.ok && run.stderr.contains("must not contain a fragment"), "{}", run.all());
    assert_eq!(idp.stored_client("post-logout"), None);
}

#[test]
fn client_add_refuses_an_unknown_flag() {
    let idp = Idp::new();
    let run = idp.run(&["client", "add", "--id", "shop", "--redirect-uri", "https://shop.example/cb", "--colour", "x"]);
    assert!(!run.ok, "an unknown flag was accepted:\n{}", run.all());
    assert!(run.stderr.contains("--colour"), "the message names the flag: {}", run.stderr);
    assert_eq!(idp.stored_client("shop"), None);
}

#[test]
fn client_remove_deletes_the_client() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(SHOP, &["--secret-stdin"]), SECRET_40).ok);

    let run = idp.run(&["client", "remove", "shop"]);
    assert!(run.ok, "{}", run.all());
    let show = idp.run(&["client", "show", "shop"]);
    assert!(!show.ok, "a removed client is still shown:\n{}", show.all());
    assert!(show.stderr.contains("no client \"shop\""), "{}", show.stderr);
    let again = idp.run(&["client", "remove", "shop"]);
    assert!(!again.ok && again.stderr.contains("no client \"shop\""), "{}", again.all());
}

const ALICE: &[&str] = &[
    "user",
    "add",
    "--login",
    "alice.martin",
    "--email",
    "alice@example.org",
    "--given-name",
    "Alice",
    "--family-name",
    "Martin",
];

#[test]
fn user_add_reads_the_password_from_stdin_and_refuses_a_duplicate_login() {
    let idp = Idp::new();
    let run = idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n"));
    assert!(run.ok, "user add failed: {}", run.all());
    assert!(run.stdout.contains("user alice.martin created"), "{}", run.stdout);
    assert!(!run.all().contains(PASSWORD), "the password was echoed:\n{}", run.all());
    let alice = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).expect("alice is stored");
    assert_eq!((alice.email.as_str(), alice.given_name.as_str()), ("alice@example.org", "Alice"));
    assert!(alice.password_hash.starts_with("$argon2id$"), "the password is hashed");

    let dup = idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), "Another-password-2\n");
    assert!(!dup.ok, "a duplicate login was accepted:\n{}", dup.all());
    assert!(dup.stderr.contains("login \"alice.martin\" already exists"), "unclear message: {}", dup.stderr);
    let after = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).unwrap();
    assert_eq!(after, alice, "the existing user is unchanged");
}

#[test]
fn user_add_without_password_stdin_prints_a_generated_password() {
    let idp = Idp::new();
    let run = idp.run(ALICE);
    assert!(run.ok, "user add failed: {}", run.all());
    let password = line_value(&run.stdout, "password:").expect("a password line");
    assert!(password.len() >= 20, "a generated password is long: {password:?}");
    assert_eq!(run.all().matches(password).count(), 1, "printed exactly once");
}

#[test]
fn user_add_stores_the_phone_number_and_address_for_their_scopes() {
    let idp = Idp::new();
    let run = idp.run_with_stdin(
        &with(
            ALICE,
            &["--phone-number", "+33 1 23 45 67 89", "--address", "1 place de la Mairie, Paris", "--password-stdin"],
        ),
        &format!("{PASSWORD}\n"),
    );
    assert!(run.ok, "user add failed: {}", run.all());
    let alice = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).expect("alice is stored");
    assert_eq!(alice.phone_number.as_deref(), Some("+33 1 23 45 67 89"));
    assert_eq!(alice.address.as_deref(), Some("1 place de la Mairie, Paris"));
}

/// A date of birth and alternate identifiers (kind, value).
type RecoveryProfile = (Option<String>, Vec<(String, String)>);

/// The date of birth and alternate identifiers stored for `login` (issue #5), if it exists.
fn recovery_profile(idp: &Idp, login: &str) -> Option<RecoveryProfile> {
    idp.store(async |s| {
        let user = s.user_by_login(login).await.unwrap()?;
        Some((s.birth_date(&user.id).await.unwrap(), s.identifiers_of(&user.id).await.unwrap()))
    })
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn user_add_stores_the_birth_date_and_identifiers_for_recovery() {
    let idp = Idp::new();
    let more =
        ["--birth-date", "2001-02-03", "--identifier", "student_number=22001234", "--identifier", "ine=0A1B2C3D4E5"];
    let run = idp.run_with_stdin(&with(ALICE, &with(&more, &["--password-stdin"])), &format!("{PASSWORD}\n"));
    assert!(run.ok, "user add failed: {}", run.all());
    let (born, identifiers) = recovery_profile(&idp, "alice.martin").expect("alice is stored");
    assert_eq!(born.as_deref(), Some("2001-02-03"));
    assert_eq!(identifiers, pairs(&[("ine", "0A1B2C3D4E5"), ("student_number", "22001234")]));
}

#[test]
fn user_add_refuses_a_bad_birth_date_or_identifier_and_a_taken_identifier_writing_nothing() {
    let idp = Idp::new();
    for (more, message) in [
        (&["--birth-date", "2001-02-30"][..], "not a date written YYYY-MM-DD"),
        (&["--birth-date", "03/02/2001"][..], "not a date written YYYY-MM-DD"),
        (&["--identifier", "student_number"][..], "expected kind=value"),
        (&["--identifier", "Student Number=1"][..], "lowercase letters, digits and _"),
        (&["--identifier", "ine=1", "--identifier", "ine=2"][..], "given twice"),
    ] {
        let run = idp.run_with_stdin(&with(ALICE, &with(more, &["--password-stdin"])), &format!("{PASSWORD}\n"));
        assert!(!run.ok, "{more:?} was accepted: {}", run.all());
        assert!(run.stderr.contains(message), "expected {message:?} for {more:?}: {}", run.stderr);
        assert!(recovery_profile(&idp, "alice.martin").is_none(), "nothing is written for {more:?}");
    }

    let taken = ["--identifier", "student_number=22001234"];
    assert!(idp.run_with_stdin(&with(ALICE, &with(&taken, &["--password-stdin"])), &format!("{PASSWORD}\n")).ok);
    let bob = [
        "user",
        "add",
        "--login",
        "bob.durand",
        "--email",
        "bob@example.org",
        "--birth-date",
        "1990-05-06",
        "--identifier",
        "student_number=22001234",
        "--password-stdin",
    ];
    let run = idp.run_with_stdin(&bob, &format!("{PASSWORD}\n"));
    assert!(!run.ok, "a taken identifier was accepted: {}", run.all());
    assert!(run.stderr.contains("identifier student_number \"22001234\" already exists"), "{}", run.stderr);
    assert!(recovery_profile(&idp, "bob.durand").is_none(), "bob was not created");
}

#[test]
fn user_import_reads_the_optional_birth_date_and_identifiers_columns() {
    let idp = Idp::new();
    let file = idp.data_dir().join("users.csv");
    let csv = "login,email,given_name,family_name,user_type,birth_date,identifiers\n\
               anne.dupont,anne@example.org,Anne,Dupont,,2001-02-03,student_number=22001234;ine=0A1B2C3D4E5\n\
               bob.leger,bob@example.org,Bob,Léger,,,\n";
    std::fs::write(&file, csv).unwrap();
    let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
    assert!(run.ok, "import failed: {}", run.all());
    let (born, identifiers) = recovery_profile(&idp, "anne.dupont").expect("anne is stored");
    assert_eq!(born.as_deref(), Some("2001-02-03"));
    assert_eq!(identifiers, pairs(&[("ine", "0A1B2C3D4E5"), ("student_number", "22001234")]));
    assert_eq!(recovery_profile(&idp, "bob.leger"), Some((None, vec![])), "empty cells set nothing");

    let header = "login,email,given_name,family_name,user_type,identifiers,birth_date\n";
    for (rows, message) in [
        ("carl.k,carl@example.org,Carl,K,,ine=1,2001-02-29\n", "line 2: birth date"),
        ("carl.k,carl@example.org,Carl,K,,ine=1;ine=2,\n", "given twice"),
        ("carl.k,carl@example.org,Carl,K,,ine=77,\ndana.l,dana@example.org,Dana,L,,ine=77,\n", "appears twice"),
        (
            "carl.k,carl@example.org,Carl,K,,,\ndana.l,dana@example.org,Dana,L,,student_number=22001234,\n",
            "already exists",
        ),
    ] {
        std::fs::write(&file, format!("{header}{rows}")).unwrap();
        let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
        assert!(!run.ok, "a bad file was imported:\n{rows}\n{}", run.all());
        assert!(run.stderr.contains(message), "expected {message:?} in {}", run.stderr);
        assert!(recovery_profile(&idp, "carl.k").is_none(), "nothing written for:\n{rows}");
    }
}

#[test]
fn migrate_creates_the_database_and_can_run_again() {
    let idp = Idp::new();
    let run = idp.run(&["migrate"]);
    assert!(run.ok, "{}", run.all());
    assert!(run.stdout.contains("database is up to date"), "{}", run.stdout);
    assert!(idp.data_dir().join("idp.db").is_file());
    let again = idp.run(&["migrate"]);
    assert!(again.ok, "a second migrate fails: {}", again.all());
}

/// A running `idp serve`, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    fn serve(&self) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let child = self
            .command(&["serve"])
            .env("IDP_LISTEN", &addr)
            .env("IDP_ISSUER", format!("http://{addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_get(&server.addr, "/.well-known/openid-configuration").is_none() {
            if let Some(status) = server.child.try_wait().unwrap() {
                let mut stderr = String::new();
                let _ = server.child.stderr.take().unwrap().read_to_string(&mut stderr);
                panic!("idp serve exited ({status}):\n{stderr}");
            }
            assert!(Instant::now() < deadline, "idp serve did not answer on {}", server.addr);
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

/// A minimal HTTP/1.1 GET: the body of a 200 answer, else `None`.
fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

fn json_get(server: &Server, path: &str) -> serde_json::Value {
    let body = http_get(&server.addr, path).unwrap_or_else(|| panic!("GET {path} did not answer 200"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
}

fn kids(server: &Server) -> Vec<String> {
    let discovery = json_get(server, "/.well-known/openid-configuration");
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("http://{}/jwks", server.addr));
    let jwks = json_get(server, "/jwks");
    let mut kids: Vec<String> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    kids.sort();
    kids
}

#[test]
fn serve_starts_on_embedded_defaults_and_keeps_its_keys_across_restarts() {
    let idp = Idp::new();
    let server = idp.serve();
    let discovery = json_get(&server, "/.well-known/openid-configuration");
    assert_eq!(discovery["issuer"], format!("http://{}", server.addr));
    let first = kids(&server);
    assert!(!first.is_empty(), "the JWKS publishes keys");
    drop(server);

    let data: PathBuf = idp.data_dir().to_path_buf();
    assert!(data.join("idp.db").is_file(), "the SQLite database is in the data directory");
    assert!(data.join("outbox").is_dir(), "the mail outbox is in the data directory");

    let again = idp.serve();
    assert_eq!(kids(&again), first, "a restart reuses the stored signing keys");
}

/// `idp keys list` rows for `alg`: (kid, state).
fn key_rows(idp: &Idp, alg: &str) -> Vec<(String, String)> {
    let run = idp.run(&["keys", "list"]);
    assert!(run.ok, "keys list failed: {}", run.all());
    run.stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.get(1) == Some(&alg)).then(|| (cols[0].to_owned(), cols[2].to_owned()))
        })
        .collect()
}

fn kid_in(rows: &[(String, String)], state: &str) -> String {
    let found: Vec<&String> = rows.iter().filter(|(_, s)| s == state).map(|(k, _)| k).collect();
    assert_eq!(found.len(), 1, "one {state} key in {rows:?}");
    found[0].clone()
}

#[test]
fn keys_rotate_promotes_the_published_next_key_and_keys_list_shows_the_states() {
    let idp = Idp::new();
    let before = key_rows(&idp, "ES256");
    let (active, next) = (kid_in(&before, "active"), kid_in(&before, "next"));
    let rs256_active = kid_in(&key_rows(&idp, "RS256"), "active");
    let key_file = idp.data_dir().join("master.key");
    assert!(key_file.is_file(), "embedded mode keeps its master key in the data directory");
    let master = std::fs::read_to_string(&key_file).unwrap();

    let early = idp.run(&["keys", "rotate", "--alg", "ES256"]);
    assert!(!early.ok, "a next key published a moment ago was promoted: {}", early.all());
    assert!(early.stderr.contains("--force"), "the operator is told why and what to do: {}", early.stderr);
    assert_eq!(key_rows(&idp, "ES256"), before, "a refused rotation changes nothing");

    let run = idp.run(&["keys", "rotate", "--alg", "ES256", "--force"]);
    assert!(run.ok, "keys rotate failed: {}", run.all());
    assert!(run.stdout.contains(&format!("{next} is now active")), "{}", run.stdout);

    let after = key_rows(&idp, "ES256");
    assert_eq!(kid_in(&after, "active"), next, "the former next key signs");
    assert_eq!(kid_in(&after, "retired"), active, "the former active key is retired, still listed");
    assert_ne!(kid_in(&after, "next"), next, "a new next key is published");
    assert_eq!(kid_in(&key_rows(&idp, "RS256"), "active"), rs256_active, "--alg ES256 rotates only ES256");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), master, "the master key is reused, not replaced");

    let bad = idp.run(&["keys", "rotate", "--alg", "HS256", "--force"]);
    assert!(!bad.ok && bad.stderr.contains("HS256"), "an unknown algorithm is refused: {}", bad.all());
}

/// The `.eml` files of the outbox, quoted-printable soft line breaks joined and `=3D` read
/// back as `=` (enough for the ASCII lines these tests read).
fn outbox(idp: &Idp) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(idp.data_dir().join("outbox")) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            std::fs::read_to_string(e.path()).unwrap().replace("\r\n", "\n").replace("=\n", "").replace("=3D", "=")
        })
        .collect()
}

/// The provisional password in the one mail of the outbox (the line under the label).
fn mailed_password(idp: &Idp) -> String {
    let mails = outbox(idp);
    assert_eq!(mails.len(), 1, "expected one mail in the outbox: {mails:#?}");
    assert!(mails[0].contains("Subject: Votre mot de passe provisoire"), "{}", mails[0]);
    let lines: Vec<&str> = mails[0].lines().collect();
    let at = lines.iter().position(|l| l.starts_with("Votre mot de passe provisoire")).expect("the label");
    lines[at + 1].trim().to_owned()
}

fn verifies(password: &str, hash: &str) -> bool {
    use argon2::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[test]
fn user_add_provisional_mails_a_password_and_prints_nothing_secret() {
    let idp = Idp::new();
    let run = idp.run(&with(ALICE, &["--provisional"]));
    assert!(run.ok, "user add failed: {}", run.all());
    assert!(run.stdout.contains("provisional password e-mailed to alice@example.org"), "{}", run.stdout);
    let password = mailed_password(&idp);
    assert!(password.len() >= 20, "a generated password: {password:?}");
    assert!(!run.all().contains(&password), "the password was printed:\n{}", run.all());
    let alice = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).expect("alice is stored");
    assert!(verifies(&password, &alice.password_hash), "the mailed password is the stored one");
    assert!(alice.must_change_password);
    let lifetime = alice.provisional_expires_at.expect("an expiry") - alice.created_at;
    assert!((72 * 3600 - 5..=72 * 3600 + 5).contains(&lifetime), "valid 72 hours, not {lifetime} s");
}

#[test]
fn user_add_activation_link_mails_a_link_and_leaves_no_usable_password() {
    let idp = Idp::new();
    let run = idp.run(&with(ALICE, &["--activation-link"]));
    assert!(run.ok, "user add failed: {}", run.all());
    assert!(run.stdout.contains("activation link e-mailed to alice@example.org"), "{}", run.stdout);
    let mails = outbox(&idp);
    assert_eq!(mails.len(), 1);
    let link = mails[0].lines().find(|l| l.starts_with("http://127.0.0.1:8080/activate?token=")).expect("the link");
    let token = link.rsplit('=').next().unwrap();
    assert_eq!(token.len(), 43, "256 random bits, base64url");
    assert!(!run.all().contains(token), "the token was printed:\n{}", run.all());
    let alice = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).expect("alice is stored");
    assert_eq!(alice.password_hash, idp::domain::UNUSABLE_PASSWORD_HASH);
    assert!(alice.activated_at.is_none());
    let both = idp.run(&with(ALICE, &["--activation-link", "--provisional"]));
    assert!(!both.ok, "two starts at once were accepted");
}

#[test]
fn user_reset_password_mails_a_new_provisional_password() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n")).ok);
    let run = idp.run(&["user", "reset-password", "--login", "alice.martin"]);
    assert!(run.ok, "reset-password failed: {}", run.all());
    let password = mailed_password(&idp);
    assert!(!run.all().contains(&password), "the password was printed:\n{}", run.all());
    let alice = idp.store(async |s| s.user_by_login("alice.martin").await.unwrap()).unwrap();
    assert!(verifies(&password, &alice.password_hash) && !verifies(PASSWORD, &alice.password_hash));
    assert!(alice.must_change_password);
    let unknown = idp.run(&["user", "reset-password", "--login", "nobody"]);
    assert!(!unknown.ok && unknown.stderr.contains("no user with login \"nobody\""), "{}", unknown.all());
}

const IMPORT_HEADER: &str = "login,email,given_name,family_name,user_type\n";

#[test]
fn user_import_creates_every_user_with_an_activation_link() {
    let idp = Idp::new();
    let file = idp.data_dir().join("users.csv");
    let rows = "anne.dupont,anne@example.org,Anne,Dupont,usager\n\"bob.leger\",bob@example.org,\"Bob, Jr\",Léger,\n";
    std::fs::write(&file, format!("{IMPORT_HEADER}{rows}")).unwrap();
    let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
    assert!(run.ok, "import failed: {}", run.all());
    assert!(run.stdout.contains("2 user(s) imported"), "{}", run.stdout);
    let bob = idp.store(async |s| s.user_by_login("bob.leger").await.unwrap()).expect("bob is stored");
    assert_eq!((bob.given_name.as_str(), bob.user_type.as_str()), ("Bob, Jr", "usager"));
    assert_eq!(bob.password_hash, idp::domain::UNUSABLE_PASSWORD_HASH);
    let mails = outbox(&idp);
    assert_eq!(mails.len(), 2, "one activation mail each");
    assert!(mails.iter().all(|m| m.contains("Subject: Activez votre compte") && m.contains("/activate?token=")));
}

#[test]
fn user_import_writes_nothing_when_one_row_is_bad() {
    let idp = Idp::new();
    assert!(idp.run_with_stdin(&with(ALICE, &["--password-stdin"]), &format!("{PASSWORD}\n")).ok);
    let file = idp.data_dir().join("users.csv");
    for (rows, message) in [
        ("anne.dupont,anne@example.org,Anne,Dupont,usager\ncarl,not-an-address,Carl,K,usager\n", "line 3"),
        ("anne.dupont,anne@example.org,Anne,Dupont,usager\ncarl,carl@example.org,Carl,K,pirate\n", "unknown user type"),
        ("anne.dupont,anne@example.org,Anne,Dupont,\nANNE.DUPONT,a2@example.org,Anne,D,\n", "appears twice"),
        ("anne.dupont,anne@example.org,Anne,Dupont,\nalice.martin,a@example.org,Alice,M,\n", "already exists"),
    ] {
        std::fs::write(&file, format!("{IMPORT_HEADER}{rows}")).unwrap();
        let run = idp.run(&["user", "import", "--file", file.to_str().unwrap()]);
        assert!(!run.ok, "a bad file was imported:\n{rows}\n{}", run.all());
        assert!(run.stderr.contains(message), "expected {message:?} in {}", run.stderr);
        let anne = idp.store(async |s| s.user_by_login("anne.dupont").await.unwrap());
        assert!(anne.is_none(), "the valid first row was written although row 2 is bad:\n{rows}");
    }
    assert!(outbox(&idp).is_empty(), "no mail for a refused import");
}

/// Every command's help, walked from `idp --help` down: an operator reads words such as FILE or
/// LOGIN, never a Rust type (issue #13, item 14), and every command says what it does.
#[test]
fn the_help_of_every_command_names_no_rust_type() {
    fn help(args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_idp")).args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "idp {args:?} --help fails");
        String::from_utf8(out.stdout).unwrap()
    }
    fn commands(text: &str) -> Vec<(String, bool)> {
        text.split("\nCommands:\n")
            .nth(1)
            .map(|list| {
                list.lines()
                    .take_while(|l| l.starts_with("  "))
                    .filter_map(|l| {
                        let name = l.split_whitespace().next()?;
                        (name != "help").then(|| (name.to_owned(), l.trim() != name))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    let rust =
        ["PathBuf", "String", "Option<", "Vec<", "u8", "u16", "u32", "u64", "i32", "i64", "usize", "bool", "Duration"];
    let mut todo = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        seen += 1;
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '<' || c == '_')) {
            assert!(
                !rust.iter().any(|r| word == *r || word == format!("<{r}") || word.starts_with(&format!("{r}<"))),
                "idp {args:?} --help names the Rust type {word:?}:\n{text}"
            );
        }
        for (name, described) in commands(&text) {
            assert!(described, "idp {args:?}: the command {name} has no description:\n{text}");
            let mut next = path.clone();
            next.push(name);
            todo.push(next);
        }
    }
    assert!(seen > 30, "the walk reached every command ({seen})");
}

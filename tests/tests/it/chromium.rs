//! A real browser: headless Chromium, driven through chromedriver, signs in to the example
//! relying party (`clients/demo-rp`, in-process) and signs out again. This is the one test
//! where cookies, redirects, `SameSite`, the Content-Security-Policy (`form-action` also
//! applies to the redirect after a form post) and the pages' JavaScript meet a real browser.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without `/usr/bin/chromedriver` the test
//! is skipped locally and fails in CI (`CI` set), where they are installed.

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use idp_tests::TestApp;
use serde_json::json;
use tokio::net::TcpListener;

pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// Generous: a cold Chromium start on a loaded two-core machine takes seconds.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// chromedriver as a child process, killed (with the browser it started) on drop.
pub(crate) struct ChromeDriver {
    child: Child,
    pub(crate) url: String,
}

impl ChromeDriver {
    pub(crate) async fn start() -> Self {
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = ChromeDriver { child, url: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = driver.child.try_wait().unwrap() {
                panic!("chromedriver exited at start ({status})");
            }
            if http.get(format!("{}/status", driver.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer on {} within {PATIENCE:?}", driver.url);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls the browser's URL until `done` holds; the failure shows where the browser is.
pub(crate) async fn wait_for_url(browser: &Client, what: &str, done: impl Fn(&url::Url) -> bool) -> url::Url {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let url = browser.current_url().await.unwrap();
        if done(&url) {
            return url;
        }
        if Instant::now() > deadline {
            let text = body_text(browser).await;
            panic!("waited {PATIENCE:?} for {what}; the browser is at {url} showing:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn body_text(browser: &Client) -> String {
    match browser.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(err) => format!("(no body: {err})"),
    }
}

/// Fills the provider's login form and submits it.
pub(crate) async fn submit_login_form(browser: &Client, login: &str, password: &str) {
    browser.find(Locator::Css("input[name='login']")).await.unwrap().send_keys(login).await.unwrap();
    browser.find(Locator::Css("input[name='password']")).await.unwrap().send_keys(password).await.unwrap();
    browser
        .find(Locator::XPath("//form[.//input[@name='password']]//button[@type='submit']"))
        .await
        .expect("the login form has a submit button")
        .click()
        .await
        .unwrap();
}

pub(crate) fn is_on(url: &url::Url, base: &str, path: &str) -> bool {
    url.as_str().starts_with(base) && url.path() == path
}

/// True when the Chromium tests can run; outside CI a missing chromedriver skips them (with a
/// message), inside CI it fails them: CI installs chromium and chromium-driver.
pub(crate) fn chromium_available(test: &str) -> bool {
    if Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMEDRIVER} is missing: CI must install chromium and chromium-driver"
    );
    eprintln!("SKIPPED {test}: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver to run it)");
    false
}

/// Runs `scenario` in a fresh headless Chromium (own profile, own chromedriver). The scenario
/// runs in its own task so that a failed assertion still closes the browser session (killing
/// chromedriver alone would leave Chromium behind); its panic is then re-raised here.
pub(crate) async fn in_chromium<Fut>(scenario: impl FnOnce(Client) -> Fut)
where
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let driver = ChromeDriver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let mut chrome_options = json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    if Path::new(CHROMIUM).exists() {
        chrome_options["binary"] = json!(CHROMIUM);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), chrome_options);
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("chromedriver opens a Chromium session");
    let outcome = tokio::spawn(scenario(browser.clone())).await;
    let _ = browser.close().await;
    drop(driver);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_signs_in_to_the_example_relying_party_and_signs_out() {
    if !chromium_available("chromium_signs_in_to_the_example_relying_party_and_signs_out") {
        return;
    }
    let started = Instant::now();

    let app = TestApp::spawn().await;
    let rp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_base = format!("http://{}", rp_listener.local_addr().unwrap());
    let password = idp::admin::seed_demo(&app.services, &rp_base).await.unwrap();
    let demo = app.services.store.user_by_login(idp::admin::DEMO_LOGIN).await.unwrap().unwrap();
    let rp = demo_rp::router(demo_rp::Config {
        issuer: app.issuer.clone(),
        base_url: rp_base.clone(),
        ..demo_rp::Config::default()
    })
    .await
    .expect("the example relying party discovers the provider");
    tokio::spawn(async move { axum::serve(rp_listener, rp).await });

    let issuer = app.issuer.clone();
    in_chromium(|browser| sign_in_and_out(browser, issuer, rp_base, password, demo.id)).await;
    eprintln!("chromium test took {:?}", started.elapsed());
}

async fn sign_in_and_out(browser: Client, issuer: String, rp_base: String, password: idp::domain::Secret, sub: String) {
    browser.goto(&rp_base).await.unwrap();
    browser
        .find(Locator::XPath("//a[contains(., 'Se connecter')]"))
        .await
        .expect("the relying party's home page offers to sign in")
        .click()
        .await
        .unwrap();

    wait_for_url(&browser, "the provider's login page", |u| is_on(u, &issuer, "/login")).await;
    let screenshot = browser.screenshot().await.unwrap();
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chromium-login-page.png");
    if std::fs::write(&shot, screenshot).is_ok() {
        eprintln!("screenshot of the login page: {}", shot.display());
    }
    submit_login_form(&browser, idp::admin::DEMO_LOGIN, password.expose()).await;

    // The demo client is not first-party: the consent page comes first.
    let url = wait_for_url(&browser, "the consent page or the relying party", |u| {
        is_on(u, &issuer, "/consent") || u.as_str().starts_with(&rp_base)
    })
    .await;
    if url.path() == "/consent" {
        browser
            .find(Locator::Css("button[name='decision'][value='allow']"))
            .await
            .expect("the consent page has an allow button")
            .click()
            .await
            .unwrap();
    }

    wait_for_url(&browser, "the relying party's home page, signed in", |u| is_on(u, &rp_base, "/")).await;
    let page = body_text(&browser).await;
    assert!(page.contains("Se déconnecter"), "the relying party shows a signed-in page:\n{page}");
    assert!(page.contains(&sub), "the page shows the user's sub {sub}:\n{page}");
    assert!(page.contains("demo@example.org"), "the page shows the user's email:\n{page}");

    browser
        .find(Locator::XPath("//a[contains(., 'Se déconnecter')]"))
        .await
        .expect("a sign-out link")
        .click()
        .await
        .unwrap();
    // RP-Initiated Logout with the ID token as hint: no confirmation page, straight back to
    // the registered post-logout redirect URI, the RP's home page.
    let url = wait_for_url(&browser, "the relying party's home page after logout", |u| {
        is_on(u, &rp_base, "/") && u.query().is_some_and(|q| q.contains("state="))
    })
    .await;
    let page = body_text(&browser).await;
    assert!(page.contains("Se connecter"), "back on the signed-out home page at {url}:\n{page}");
    assert!(!page.contains(&sub), "the claims are gone after logout:\n{page}");

    // The provider's session ended too: signing in again asks for the password.
    browser.find(Locator::XPath("//a[contains(., 'Se connecter')]")).await.unwrap().click().await.unwrap();
    wait_for_url(&browser, "the provider's login page again", |u| is_on(u, &issuer, "/login")).await;
}

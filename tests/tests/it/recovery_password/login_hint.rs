//! The identifier typed on the login page goes on to "Mot de passe perdu ?" (issue #13, item 9).

use super::*;

/// Bonus Eco (seed 001): "je saisis mon login et je clique sur le lien « Mot de passe perdu
/// ? »". The button belongs to the login form, so the typed login goes with it without
/// JavaScript (this client is a plain HTTP client), through the selector, into the identifier
/// field of the chosen type's first page; the password field is not carried anywhere.
#[tokio::test]
async fn the_typed_login_carries_over_to_mot_de_passe_perdu() {
    let p = provider(|_| {}).await;
    let browser = Browser::new();
    let pending = p.rp.start(&["profile"]);
    let login_page = browser.follow(&p.app.issuer, browser.get(&pending.url).await).await;
    let csrf = login_page.field("csrf").unwrap();
    let request_id = login_page.field("request_id").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("request_id", request_id.as_str()),
        ("login", "  pro.bonus "),
        ("password", "half-typed-secret"),
        ("forgot", "password"),
    ];
    let pressed = browser.post(&p.url("/login?lang=fr"), &form).await;
    assert_eq!(pressed.status, 303, "{}", pressed.body);
    let to = pressed.location().unwrap();
    assert!(to.contains("login_hint=pro.bonus&") && to.contains("request_id="), "{to}");
    assert!(!to.contains("half-typed"), "the password stays behind: {to}");

    // The region's selector keeps it in every choice.
    let selector = browser.get(&p.url(&to)).await;
    assert!(text(&selector).contains(SELECTOR), "{}", selector.body);
    let choice = href(&selector, "/recovery/password?user_type=bonus_eco").expect("the Bonus Eco choice");
    assert!(choice.contains("login_hint=pro.bonus"), "{choice}");
    let first = browser.get(&p.url(&choice)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.field("identifier").as_deref(), Some("pro.bonus"), "{}", first.body);
    // Both forms say "Tous les champs sont obligatoires." and it is true (issue #13, item 5).
    assert_eq!(login_page.check_required_notices(), 1, "{}", login_page.body);
    assert_eq!(first.check_required_notices(), 1, "{}", first.body);

    // Without the CSRF token, the button is refused like the login itself.
    let forged = [("request_id", request_id.as_str()), ("login", "pro.bonus"), ("forgot", "password")];
    assert_eq!(browser.post(&p.url("/login?lang=fr"), &forged).await.status, 403);
    // An absurdly long hint fills nothing in.
    let long = "x".repeat(300);
    let page = browser.get(&p.url(&format!("/recovery/password?user_type=bonus_eco&login_hint={long}"))).await;
    assert_eq!(page.field("identifier").as_deref().unwrap_or_default(), "", "{}", page.body);
}

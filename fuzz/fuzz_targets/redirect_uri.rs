//! Redirect URIs: `RedirectUri::parse` (client registration), with and without insecure http
//! allowed. An accepted URI must then hold what the flows rely on: no fragment, no user
//! information (RFC 6749 §3.1.2), and `authorize::redirect_with` adds parameters to it that a
//! URL parser reads back (a code or an error must reach the client, never be lost).
#![no_main]

use idp::domain::RedirectUri;
use idp::oidc::authorize::redirect_with;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    for allow_insecure_http in [false, true] {
        let Ok(uri) = RedirectUri::parse(raw, allow_insecure_http) else { continue };
        assert_eq!(uri.as_str(), raw, "an accepted redirect URI is kept exactly as registered");
        assert!(!raw.contains('#'), "a redirect URI with a fragment was accepted: {raw:?}");
        let with_code = redirect_with(raw, &[("code", Some("c0de")), ("state", Some("s t&a=te"))]);
        let url = url::Url::parse(&with_code).unwrap_or_else(|e| panic!("{with_code:?} does not parse: {e}"));
        assert!(url.username().is_empty() && url.password().is_none(), "user information in {raw:?}");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(
            pairs.contains(&("code".into(), "c0de".into())) && pairs.contains(&("state".into(), "s t&a=te".into())),
            "the code and state added to {raw:?} are lost: {with_code:?}"
        );
    }
});

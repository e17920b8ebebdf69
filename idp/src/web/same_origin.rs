//! The same-origin rule for state-changing requests: a POST (or any other unsafe method, RFC 9110
//! §9.2.1) sent by a browser from another site's page is refused with a themed 403 before any
//! handler runs, whatever cookies and tokens it carries. Browsers attach `Origin` to every POST
//! (Fetch Standard, "append a request `Origin` header"), and a page cannot forge it; when it is
//! absent, `Sec-Fetch-Site` (Fetch Metadata) still says where the request came from.
//!
//! - `Origin` present: it must be the issuer's origin. `Origin: null` is refused too: browsers
//!   send it from sandboxed frames, `data:` pages, or after a cross-origin redirect of a POST,
//!   never from our own forms (they post to their own origin, our answers to a POST are 303s to
//!   a GET, and `Referrer-Policy: same-origin` keeps the real origin on same-origin requests).
//! - No `Origin`: `Sec-Fetch-Site: cross-site` or `same-site` is refused (`same-site` is a
//!   sibling subdomain, the very place a planted cookie comes from); `same-origin` and `none`
//!   (typed by the user) pass.
//! - Neither header (old browsers, scripts): allowed through; the form's CSRF token
//!   (`account::csrf`) still decides.
//!
//! The routes a relying party's page or a client may post to from elsewhere are exempt
//! (`web::CROSS_SITE_POSTS`, next to the router), and so is the admin REST API, authenticated
//! by bearer tokens only (`web::CROSS_SITE_PREFIXES`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;

/// The issuer's origin and the routes exempt from the rule.
#[derive(Clone, Debug)]
pub struct SameOrigin {
    origin: Arc<str>,
    exempt: &'static [&'static str],
    exempt_prefixes: &'static [&'static str],
}

impl SameOrigin {
    /// `issuer` is the issuer URL (its path, if any, is not part of the origin).
    /// `exempt_prefixes`: every path that starts with one of them is exempt too.
    pub fn new(issuer: &str, exempt: &'static [&'static str], exempt_prefixes: &'static [&'static str]) -> Self {
        let origin = super::pages::origin_of(issuer).unwrap_or_else(|| issuer.trim_end_matches('/').to_owned());
        Self { origin: origin.into(), exempt, exempt_prefixes }
    }

    fn applies_to(&self, method: &Method, path: &str) -> bool {
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
        !safe && !self.exempt.contains(&path) && !self.exempt_prefixes.iter().any(|p| path.starts_with(p))
    }

    /// Why a request to a guarded route is refused, or `None` when it may go on.
    pub fn refusal(&self, headers: &HeaderMap) -> Option<&'static str> {
        let mut origins = headers.get_all(axum::http::header::ORIGIN).iter();
        match (origins.next(), origins.next()) {
            (Some(_), Some(_)) => return Some("several Origin headers"),
            (Some(origin), None) => {
                return match origin.to_str() {
                    Ok("null") => Some("opaque origin (Origin: null)"),
                    Ok(origin) if origin.eq_ignore_ascii_case(&self.origin) => None,
                    _ => Some("another origin"),
                };
            }
            (None, _) => {}
        }
        match headers.get("sec-fetch-site").map(|v| v.to_str().map(str::to_ascii_lowercase)) {
            None => None,
            Some(Ok(site)) if site == "same-origin" || site == "none" => None,
            Some(Ok(site)) if site == "cross-site" || site == "same-site" => Some("another site (Sec-Fetch-Site)"),
            Some(_) => Some("unreadable Sec-Fetch-Site"),
        }
    }
}

/// The middleware: a themed 403 ("error_cross_site") for a guarded request from elsewhere.
pub async fn same_origin_only(State(rule): State<SameOrigin>, request: Request, next: Next) -> Response {
    if rule.applies_to(request.method(), request.uri().path())
        && let Some(reason) = rule.refusal(request.headers())
    {
        tracing::info!(reason, "cross-site request refused");
        return AppError::page(StatusCode::FORBIDDEN, "error_cross_site").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXEMPT: &[&str] = &["/token"];
    const EXEMPT_PREFIXES: &[&str] = &["/admin/api/"];

    fn rule() -> SameOrigin {
        SameOrigin::new("https://idp.example.org/", EXEMPT, EXEMPT_PREFIXES)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_issuers_own_origin_passes() {
        assert_eq!(rule().refusal(&headers(&[("origin", "https://idp.example.org")])), None);
        let with_path = SameOrigin::new("https://idp.example.org/auth/realm", EXEMPT, EXEMPT_PREFIXES);
        assert_eq!(with_path.refusal(&headers(&[("origin", "https://idp.example.org")])), None);
    }

    #[test]
    fn another_origin_is_refused_whatever_fetch_metadata_says() {
        for origin in ["https://evil.example", "http://idp.example.org", "https://idp.example.org:8443", "null"] {
            let h = headers(&[("origin", origin), ("sec-fetch-site", "same-origin")]);
            assert!(rule().refusal(&h).is_some(), "{origin} passed");
        }
        let twice = headers(&[("origin", "https://idp.example.org"), ("origin", "https://evil.example")]);
        assert!(rule().refusal(&twice).is_some());
    }

    #[test]
    fn without_origin_fetch_metadata_decides() {
        for site in ["cross-site", "same-site", "Cross-Site"] {
            assert!(rule().refusal(&headers(&[("sec-fetch-site", site)])).is_some(), "{site} passed");
        }
        for site in ["same-origin", "none"] {
            assert_eq!(rule().refusal(&headers(&[("sec-fetch-site", site)])), None, "{site} refused");
        }
    }

    #[test]
    fn a_request_without_either_header_is_left_to_the_csrf_token() {
        assert_eq!(rule().refusal(&HeaderMap::new()), None);
    }

    #[test]
    fn safe_methods_and_exempt_routes_are_not_guarded() {
        let r = rule();
        assert!(!r.applies_to(&Method::GET, "/login"));
        assert!(!r.applies_to(&Method::HEAD, "/login"));
        assert!(!r.applies_to(&Method::POST, "/token"));
        assert!(r.applies_to(&Method::POST, "/login"));
        assert!(r.applies_to(&Method::PUT, "/token/"));
        assert!(r.applies_to(&Method::DELETE, "/account"));
        assert!(!r.applies_to(&Method::DELETE, "/admin/api/v1/clients/shop"));
        assert!(r.applies_to(&Method::POST, "/admin/clients"), "the console is not the API");
    }
}

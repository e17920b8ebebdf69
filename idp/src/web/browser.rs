//! What a request tells about the browser: cookies, language preferences, address, agent.
//! The address is the client's, behind trusted proxies too (`domain::client_address`): every
//! per-address rule, the audit trail and the sessions shown in /account take it from here.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};

use super::AppState;
use crate::domain::Lang;
use crate::domain::client_address::{ProxySettings, UNREADABLE};
use crate::session::ClientInfo;

#[derive(Clone, Debug, Default)]
pub struct Browser {
    cookies: HashMap<String, String>,
    pub accept_language: Option<String>,
    /// `?lang=` from the language switch link.
    pub lang_param: Option<String>,
    pub user_agent: String,
    /// The client's address (canonical: an IPv4-mapped IPv6 peer is its IPv4 address); empty
    /// when the connection's address is unknown (a router served without connect info).
    pub ip: String,
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
}

impl Browser {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn lang(&self, ui_locales: Option<&str>) -> Lang {
        Lang::negotiate(self.lang_param.as_deref(), ui_locales, self.accept_language.as_deref())
    }

    pub fn client_info(&self) -> ClientInfo {
        // The forms of the pages post to `?lang=<the page's language>`, so the language
        // negotiated here is the one of the page the user acted on.
        ClientInfo { user_agent: self.user_agent.clone(), ip: self.ip.clone(), lang: Some(self.lang(None)) }
    }

    /// This page in `lang`: the current path and query with `lang` replaced. Empty for a page
    /// that answers a form post: a link cannot repeat the POST (the switch is then hidden).
    pub fn url_in(&self, lang: Lang) -> String {
        if self.method != Method::GET {
            return String::new();
        }
        let mut pairs: Vec<(String, String)> =
            self.query.as_deref().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "lang");
        pairs.push(("lang".into(), lang.code().into()));
        format!("{}?{}", self.path, serde_urlencoded::to_string(&pairs).unwrap_or_default())
    }
}

pub fn parse_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    let mut cookies = HashMap::new();
    for value in headers.get_all(axum::http::header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                // First occurrence wins (RFC 6265 §5.4: more specific paths come first).
                cookies.entry(k.trim().to_owned()).or_insert_with(|| v.trim().to_owned());
            }
        }
    }
    cookies
}

/// The client's address: the socket peer, or what the trusted proxies say it is.
fn client_address(parts: &Parts, proxies: &ProxySettings) -> Option<std::net::IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let lines: Vec<&str> =
        parts.headers.get_all(proxies.header.name()).iter().map(|v| v.to_str().unwrap_or(UNREADABLE)).collect();
    Some(proxies.client_address(peer, &lines))
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = |name: axum::http::header::HeaderName| {
            parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let query = parts.uri.query().map(str::to_owned);
        let lang_param = query
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "lang").map(|(_, v)| v));
        let ip = client_address(parts, &state.proxies).map(|ip| ip.to_string()).unwrap_or_default();
        Ok(Browser {
            cookies: parse_cookies(&parts.headers),
            accept_language: header(axum::http::header::ACCEPT_LANGUAGE),
            lang_param,
            user_agent: header(axum::http::header::USER_AGENT).unwrap_or_default(),
            ip,
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query,
        })
    }
}

/// `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure when served over https.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    set_cookie_at(name, value, "/", secure, max_age)
}

/// `set_cookie` for the pages under `path` only (the console's cookie: `/admin`).
pub fn set_cookie_at(name: &str, value: &str, path: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", secure, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_split_and_trimmed() {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "a=1; b = 2;c=3=3".parse().unwrap());
        let c = parse_cookies(&h);
        assert_eq!(c.get("a").map(String::as_str), Some("1"));
        assert_eq!(c.get("b").map(String::as_str), Some("2"));
        assert_eq!(c.get("c").map(String::as_str), Some("3=3"));
    }

    #[test]
    fn the_language_switch_keeps_the_query() {
        let b = Browser { path: "/login".into(), query: Some("request_id=abc&lang=fr".into()), ..Browser::default() };
        assert_eq!(b.url_in(Lang::En), "/login?request_id=abc&lang=en");
    }

    #[test]
    fn a_page_answering_a_post_has_no_language_switch() {
        let b = Browser { method: Method::POST, path: "/logout/confirm".into(), ..Browser::default() };
        assert_eq!(b.url_in(Lang::En), "");
    }

    #[test]
    fn secure_cookies_say_so() {
        assert_eq!(set_cookie("n", "v", true, None), "n=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        assert!(clear_cookie("n", false).ends_with("Max-Age=0"));
        assert_eq!(set_cookie_at("n", "v", "/admin", true, None), "n=v; Path=/admin; HttpOnly; SameSite=Lax; Secure");
    }
}

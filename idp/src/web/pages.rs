//! Rendering themed pages: the theme and language of a request (`View`), the CSRF token of a
//! form (`form_token`; checked by `handlers::PostedForm`), and the Content-Security-Policy that
//! goes with each page.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::browser::{Browser, set_cookie};
use crate::account::csrf;
use crate::crypto;
use crate::domain::{Client, Lang};
use crate::theme::PageFrame;

/// The theme and language a page is shown in.
#[derive(Clone, Debug)]
pub struct View {
    pub theme: String,
    pub lang: Lang,
    pub lang_switch_url: String,
}

/// Strict policy: no inline script or style, nothing from elsewhere (no third-party assets).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

impl View {
    pub fn new(state: &AppState, browser: &Browser, client: Option<&Client>, ui_locales: Option<&str>) -> Self {
        let theme = client
            .and_then(|c| c.theme.clone())
            .filter(|t| state.themes.has_theme(t))
            .unwrap_or_else(|| state.default_theme().to_owned());
        let lang = browser.lang(ui_locales);
        View { theme, lang, lang_switch_url: browser.url_in(lang.other()) }
    }

    /// `new`, with the user type's theme when the client has none (pages about one account:
    /// first login, activation, recovery).
    pub fn with_user_type(
        state: &AppState,
        browser: &Browser,
        client: Option<&Client>,
        ui_locales: Option<&str>,
        user_type: Option<&crate::domain::user_type::UserType>,
    ) -> Self {
        let mut view = Self::new(state, browser, client, ui_locales);
        let client_theme = client.and_then(|c| c.theme.as_deref()).filter(|t| state.themes.has_theme(t));
        if client_theme.is_none()
            && let Some(theme) = user_type.and_then(|t| t.theme.as_deref()).filter(|t| state.themes.has_theme(t))
        {
            view.theme = theme.to_owned();
        }
        view
    }

    /// The view of a page that knows only its request, such as an error page (issue #13): the
    /// client of the query's pending `request_id`, else its `client_id`, themes it (else the
    /// `user_type`'s theme); the request's `ui_locales` chooses the language. A lookup that
    /// fails leaves the default: an error page must render.
    pub async fn of_request(state: &AppState, browser: &Browser) -> Self {
        let pairs: Vec<(String, String)> =
            browser.query.as_deref().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let get =
            |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| v.len() <= 255);
        let s = &state.services;
        let mut ui_locales = get("ui_locales").map(str::to_owned);
        let mut client = None;
        if let Some(id) = get("request_id")
            && let Ok(Some((request, c))) = crate::oidc::authorize::pending(s, id).await
        {
            ui_locales = ui_locales.or(request.ui_locales);
            client = Some(c);
        }
        if client.is_none()
            && let Some(id) = get("client_id")
        {
            client = s.store.client(id).await.ok().flatten();
        }
        let user_type = get("user_type").and_then(|id| s.user_types.get(id));
        Self::with_user_type(state, browser, client.as_ref(), ui_locales.as_deref(), user_type)
    }

    pub fn frame(&self) -> PageFrame {
        PageFrame { lang: self.lang, theme: self.theme.clone(), lang_switch_url: self.lang_switch_url.clone() }
    }
}

impl AppState {
    pub fn default_theme(&self) -> &str {
        &self.default_theme
    }

    pub fn text(&self, view: &View, key: &str) -> String {
        self.themes.text(&view.theme, view.lang, key)
    }

    /// The CSRF token of a form acting on `context`, for this browser's CSRF cookie (made now
    /// if it has none): returns (token, Set-Cookie?). Call it once per page: every form of the
    /// page shares the token.
    pub fn form_token(&self, browser: &Browser, context: &csrf::Context<'_>) -> (String, Option<String>) {
        let (cookie, set) = match browser.cookie(self.cookies.csrf).filter(|c| c.len() >= csrf::MIN_COOKIE_LEN) {
            Some(existing) => (existing.to_owned(), None),
            None => {
                let fresh = crypto::random_token(32);
                let header = set_cookie(self.cookies.csrf, &fresh, self.cookies.secure, None);
                (fresh, Some(header))
            }
        };
        (csrf::token_for(&self.services.csrf_key, &cookie, context), set)
    }

    /// Renders `page`; `form_target` is an origin that a form on the page may end up at through
    /// a redirect (CSP `form-action` also applies to redirects after a form post).
    pub fn page<C: Serialize>(
        &self,
        status: StatusCode,
        view: &View,
        page: &str,
        context: &C,
        form_target: Option<&str>,
        headers: HeaderMap,
    ) -> Response {
        self.page_with_frames(status, view, page, context, form_target, &[], headers)
    }

    /// `page`, for a page that embeds iframes from `frame_origins` (front-channel logout): the
    /// CSP gets `frame-src` for exactly those origins.
    #[allow(clippy::too_many_arguments)]
    pub fn page_with_frames<C: Serialize>(
        &self,
        status: StatusCode,
        view: &View,
        page: &str,
        context: &C,
        form_target: Option<&str>,
        frame_origins: &[String],
        mut headers: HeaderMap,
    ) -> Response {
        match self.themes.render(page, &view.frame(), context) {
            Ok(html) => {
                if form_target.is_some() || !frame_origins.is_empty() {
                    let mut policy = CSP.to_owned();
                    if let Some(origin) = form_target {
                        policy = policy.replace("form-action 'self'", &format!("form-action 'self' {origin}"));
                    }
                    if !frame_origins.is_empty() {
                        policy.push_str(&format!("; frame-src {}", frame_origins.join(" ")));
                    }
                    if let Ok(v) = HeaderValue::from_str(&policy) {
                        headers.insert(header::CONTENT_SECURITY_POLICY, v);
                    }
                }
                (status, headers, Html(html)).into_response()
            }
            Err(err) => {
                tracing::error!(error = %err, "page rendering failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error / Erreur interne").into_response()
            }
        }
    }
}

/// `scheme://host[:port]` of a URL, for CSP source lists; `None` for custom schemes.
pub fn origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

pub fn with_cookies(cookies: impl IntoIterator<Item = String>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    headers
}

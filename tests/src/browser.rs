//! A scripted browser: a cookie jar, no automatic redirects, and just enough HTML reading to
//! submit the provider's forms (hidden fields by name).

use reqwest::StatusCode;
use reqwest::header::LOCATION;

pub struct Browser {
    pub http: reqwest::Client,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    pub url: String,
}

/// The French notices of a form about its required fields (issue #13, item 5).
pub const ALL_REQUIRED: &str = "Tous les champs sont obligatoires.";
pub const REQUIRED_BUT_OPTIONAL: &str = "Tous les champs sont obligatoires, sauf ceux marqués « facultatif ».";

impl Page {
    /// Checks what a form's notice says about its fields (issue #13): under "Tous les champs
    /// sont obligatoires." every field a person fills in (not hidden, not a button) is
    /// `required` or a `<select>` (always answered); under "…sauf ceux marqués « facultatif »"
    /// every other field's label says "facultatif". Returns how many forms carried a notice.
    pub fn check_required_notices(&self) -> usize {
        let body = &self.body;
        let mut forms = 0;
        for (at, _) in body.match_indices("class=\"form__required-notice\"") {
            forms += 1;
            let start = body[..at].rfind("<form").expect("the notice is inside a form");
            let end = at + body[at..].find("</form>").expect("the form ends");
            let form = &body[start..end];
            let notice = &body[at..at + body[at..].find("</p>").unwrap()];
            let optional_allowed = notice.contains("sauf ceux marqués");
            assert!(optional_allowed || notice.contains(ALL_REQUIRED), "an unknown notice: {notice}");
            let mut rest = form;
            while let Some(open) = rest.find(['<']) {
                rest = &rest[open..];
                let tag_end = rest.find('>').unwrap_or(rest.len());
                let tag = &rest[..tag_end];
                let field = tag.starts_with("<input") || tag.starts_with("<textarea");
                let hidden = ["type=\"hidden\"", "type=\"submit\"", "type=\"button\""].iter().any(|t| tag.contains(t));
                if field && !hidden && !tag.contains(" required") {
                    let id = tag.split("id=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
                    let label = form
                        .split(&format!("for=\"{id}\">"))
                        .nth(1)
                        .and_then(|s| s.split("</label>").next())
                        .unwrap_or_default();
                    assert!(
                        optional_allowed && label.contains("facultatif"),
                        "the notice says every field is required, but {tag} is not (label {label:?}): {form}"
                    );
                }
                rest = &rest[1..];
            }
        }
        forms
    }

    pub fn location(&self) -> Option<String> {
        self.headers.get(LOCATION).map(|v| v.to_str().unwrap().to_owned())
    }

    /// The value of the first `<input name="NAME" … value="…">`.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker)?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let v = tag.find("value=\"")? + 7;
        let end = tag[v..].find('"')?;
        Some(html_unescape(&tag[v..v + end]))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http }
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let url = response.url().to_string();
        let body = response.text().await.unwrap();
        Page { status, headers, body, url }
    }

    pub async fn get(&self, url: &str) -> Page {
        Self::read(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self.http.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Self::read(request.send().await.unwrap()).await
    }

    /// Submits a form to `url` as a browser submits one of the page's own forms: with the
    /// `Origin` of the page, which is the URL's (the provider's forms post to their own origin).
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let origin = url::Url::parse(url).unwrap().origin().ascii_serialization();
        Self::read(self.http.post(url).header("origin", origin).form(form).send().await.unwrap()).await
    }

    /// Follows redirects that stay on `origin`; stops at the first one that leaves it (the
    /// relying party's callback) or at a page.
    pub async fn follow(&self, origin: &str, mut page: Page) -> Page {
        for _ in 0..10 {
            let Some(location) = page.location() else { return page };
            let absolute = if location.starts_with('/') { format!("{origin}{location}") } else { location };
            if !absolute.starts_with(origin) {
                return page;
            }
            page = self.get(&absolute).await;
        }
        panic!("too many redirects")
    }

    /// From an authorization URL to the redirect back to the client: signs in on the login
    /// page and approves the consent page if they show up. Returns the final redirect URL.
    pub async fn authorize(&self, origin: &str, authorize_url: &str, login: &str, password: &str) -> String {
        let mut page = self.follow(origin, self.get(authorize_url).await).await;
        for _ in 0..4 {
            if let Some(location) = page.location() {
                return location;
            }
            assert_eq!(page.status, StatusCode::OK, "unexpected page: {}", page.body);
            let csrf = page.field("csrf").expect("a form with a CSRF token");
            let request_id = page.field("request_id").expect("a pending request");
            let next = if page.url.contains("/login") {
                self.post(
                    &format!("{origin}/login"),
                    &[("csrf", &csrf), ("request_id", &request_id), ("login", login), ("password", password)],
                )
                .await
            } else if page.url.contains("/consent") {
                self.post(
                    &format!("{origin}/consent"),
                    &[("csrf", &csrf), ("request_id", &request_id), ("decision", "allow")],
                )
                .await
            } else {
                panic!("unexpected page {}", page.url)
            };
            page = self.follow(origin, next).await;
        }
        panic!("no redirect back to the client")
    }
}

/// The query parameters of a URL.
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

impl Page {
    /// Every `Set-Cookie` value of the response.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(reqwest::header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }

    /// The `href` of the first link (`<a>`) whose tag contains `attribute`, e.g. `hreflang="en"`.
    pub fn link_with(&self, attribute: &str) -> Option<String> {
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("<a ") {
            let end = start + rest[start..].find('>')?;
            let tag = &rest[start..end];
            if tag.contains(attribute) {
                let v = tag.find("href=\"")? + 6;
                let close = tag[v..].find('"')?;
                return Some(html_unescape(&tag[v..v + close]));
            }
            rest = &rest[end..];
        }
        None
    }

    /// The `href` of every `<link rel="stylesheet">`, unescaped as a browser reads it.
    pub fn stylesheets(&self) -> Vec<String> {
        self.body
            .match_indices("<link ")
            .filter_map(|(start, _)| {
                let tag = &self.body[start..start + self.body[start..].find('>')?];
                let v = tag.find("href=\"")? + 6;
                let close = tag[v..].find('"')?;
                tag.contains("rel=\"stylesheet\"").then(|| html_unescape(&tag[v..v + close]))
            })
            .collect()
    }

    /// The `action` of the first form that posts to `path` (with or without a query), unescaped.
    pub fn form_action(&self, path: &str) -> Option<String> {
        self.body.match_indices("<form ").find_map(|(start, _)| {
            let tag = &self.body[start..start + self.body[start..].find('>')?];
            let v = tag.find("action=\"")? + 8;
            let action = html_unescape(&tag[v..v + tag[v..].find('"')?]);
            (action == path || action.starts_with(&format!("{path}?"))).then_some(action)
        })
    }

    /// The `Set-Cookie` value that sets cookie `name`, if the response sets it.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.set_cookies().into_iter().find(|c| c.starts_with(&prefix))
    }
}

impl Browser {
    /// Sends a request built on this browser's client (any method, body or content type).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        Self::read(request.send().await.unwrap()).await
    }

    /// Types `login` into the login form of `login_page` and presses its "Mot de passe perdu ?"
    /// button (a submit button of that form: `forgot=password`), as a browser would.
    pub async fn forgot_password(&self, origin: &str, login_page: &Page, login: &str) -> Page {
        let action = login_page.form_action("/login").expect("a form that posts to /login");
        let csrf = login_page.field("csrf").expect("the login form has a CSRF token");
        let request_id = login_page.field("request_id").expect("the login form names its request");
        self.post(
            &format!("{origin}{action}"),
            &[("csrf", &csrf), ("request_id", &request_id), ("login", login), ("password", ""), ("forgot", "password")],
        )
        .await
    }

    /// Fills in and submits the login form of `login_page` (its own action, `csrf` and
    /// `request_id`), as a browser would.
    pub async fn submit_login(&self, origin: &str, login_page: &Page, login: &str, password: &str) -> Page {
        let action = login_page.form_action("/login").expect("a form that posts to /login");
        let csrf = login_page.field("csrf").expect("the login form has a CSRF token");
        let request_id = login_page.field("request_id").expect("the login form names its request");
        self.post(
            &format!("{origin}{action}"),
            &[("csrf", &csrf), ("request_id", &request_id), ("login", login), ("password", password)],
        )
        .await
    }
}

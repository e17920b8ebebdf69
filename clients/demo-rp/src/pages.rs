//! HTML rendering for the demo relying party: the home page (signed in or
//! signed out), error pages, the stylesheet, and the HTML escaping helper.
//!
//! Pages are built from plain strings rather than a template engine because
//! there are only three of them. Every value that comes from the outside world
//! (IdP responses, query parameters, configuration) goes through [`escape`].
//! There is no JavaScript at all, and the Content-Security-Policy sent with
//! every page forbids scripts, so an escaping slip could not run code anyway.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Served at `/style.css`: kept out of the pages so the CSP can forbid
/// inline styles as well as scripts.
pub(crate) const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:60rem;\
margin:2rem auto;padding:0 1rem;color:#161616;line-height:1.5}\
header{border-bottom:3px solid #000091;margin-bottom:1.5rem}\
h1{color:#000091;font-size:1.6rem}\
h2{font-size:1.2rem;margin-top:2rem}\
.en{color:#666;font-style:italic}\
a.button{display:inline-block;background:#000091;color:#fff;padding:.6rem 1.2rem;\
text-decoration:none;border-radius:.25rem;font-weight:600}\
a.button:hover,a.button:focus{background:#1212ff}\
a.secondary{background:#fff;color:#000091;border:1px solid #000091}\
a.secondary:hover,a.secondary:focus{background:#e3e3fd}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}\
th{background:#f6f6f6;font-family:monospace;white-space:nowrap}\
td{font-family:monospace;word-break:break-all}\
pre{background:#f6f6f6;padding:1rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}\
dt{font-weight:600}dd{margin:0;font-family:monospace;word-break:break-all}\
.error{border-left:4px solid #ce0500;padding:.5rem 1rem;background:#fef4f4}\
";

/// Escapes text for use in HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// What the signed-out home page shows about the configuration, so that
/// whoever runs the demo can check it against the client registered at the IdP.
pub(crate) struct SignedOutInfo<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub post_logout_redirect_uri: &'a str,
    pub confidential: bool,
}

pub(crate) fn signed_out(info: &SignedOutInfo<'_>) -> Response {
    let client_type = if info.confidential {
        "confidentiel (client_secret_basic + PKCE) <span class=\"en\">/ confidential</span>"
    } else {
        "public (PKCE, sans secret) <span class=\"en\">/ public (PKCE, no secret)</span>"
    };
    let body = format!(
        "<p>Ce site de démonstration montre comment un service en ligne délègue \
         l’authentification de ses usagers à un fournisseur d’identité OpenID Connect.</p>\
         <p class=\"en\">This demo site shows how an online service delegates user \
         authentication to an OpenID Connect identity provider.</p>\
         <p><a class=\"button\" href=\"/login\">Se connecter <span lang=\"en\">/ Sign in</span></a></p>\
         <h2>Configuration <span class=\"en\">/ Settings</span></h2>\
         <dl>\
         <dt>Fournisseur <span class=\"en\">/ Issuer</span></dt><dd>{issuer}</dd>\
         <dt>client_id</dt><dd>{client_id}</dd>\
         <dt>Type de client <span class=\"en\">/ Client type</span></dt><dd>{client_type}</dd>\
         <dt>redirect_uri</dt><dd>{redirect_uri}</dd>\
         <dt>post_logout_redirect_uri</dt><dd>{post_logout}</dd>\
         </dl>",
        issuer = escape(info.issuer),
        client_id = escape(info.client_id),
        redirect_uri = escape(info.redirect_uri),
        post_logout = escape(info.post_logout_redirect_uri),
    );
    html(StatusCode::OK, "Démonstration / Demo", &body)
}

/// The signed-in home page: verified ID token claims, the UserInfo response
/// and the raw ID token, all as received at callback time.
pub(crate) fn signed_in(claims: &Value, userinfo: Option<&Value>, id_token: &str) -> Response {
    let who = claims
        .get("name")
        .or_else(|| claims.get("email"))
        .or_else(|| claims.get("sub"))
        .map(display_value)
        .unwrap_or_default();
    let userinfo_html = match userinfo {
        Some(value) => format!("<pre>{}</pre>", escape(&pretty(value))),
        None => "<p>Le fournisseur n’annonce pas de point d’accès UserInfo. \
                 <span class=\"en\">The provider advertises no UserInfo endpoint.</span></p>"
            .to_owned(),
    };
    let body = format!(
        "<p>Vous êtes connecté·e en tant que <strong>{who}</strong>. \
         <span class=\"en\">You are signed in as {who}.</span></p>\
         <p><a class=\"button secondary\" href=\"/logout\">Se déconnecter \
         <span lang=\"en\">/ Sign out</span></a></p>\
         <h2>Jeton d’identité (vérifié) <span class=\"en\">/ ID token claims (verified)</span></h2>\
         {claims_table}\
         <h2>Réponse UserInfo <span class=\"en\">/ UserInfo response</span></h2>\
         {userinfo_html}\
         <details><summary>Jeton d’identité brut <span class=\"en\">/ Raw ID token</span></summary>\
         <pre>{id_token}</pre></details>",
        who = escape(&who),
        claims_table = claims_table(claims),
        id_token = escape(id_token),
    );
    html(StatusCode::OK, "Connecté / Signed in", &body)
}

/// An error page. `title` is a fixed bilingual string; `detail` may contain
/// anything (IdP error descriptions, response bodies) and is escaped here.
pub(crate) fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<div class=\"error\"><p><strong>{title}</strong></p><p>{detail}</p></div>\
         <p><a class=\"button\" href=\"/login\">Réessayer <span lang=\"en\">/ Try again</span></a> \
         <a class=\"button secondary\" href=\"/\">Accueil <span lang=\"en\">/ Home</span></a></p>",
        title = escape(title),
        detail = escape(detail),
    );
    html(status, title, &body)
}

/// One row per top-level claim, in the order the serializer produced them.
fn claims_table(claims: &Value) -> String {
    let Some(map) = claims.as_object() else {
        return format!("<pre>{}</pre>", escape(&pretty(claims)));
    };
    let mut out = String::from("<table><tbody>");
    for (name, value) in map {
        out.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            escape(name),
            escape(&display_value(value))
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// Strings without their JSON quotes, everything else as compact JSON.
fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn pretty(value: &Value) -> String {
    // Serializing a `Value` cannot fail (its keys are always strings); fall
    // back to the compact form rather than unwrapping.
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — demo-rp</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><header><h1>Service de démonstration \
         <span class=\"en\">/ Demo relying party</span></h1></header>\
         <main>{body}</main></body></html>\n",
        title = escape(title),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            // No scripts, no inline styles, no framing: the pages only show data.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; base-uri 'none'; \
                     form-action 'none'; frame-ancestors 'none'",
                ),
            ),
            // Signed-in pages show tokens: keep them out of caches.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escape_covers_html_metacharacters() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Élodie Müller"), "Élodie Müller");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn claims_table_escapes_names_and_values() {
        let table = claims_table(&json!({"<k>": "<script>", "amr": ["pwd", "otp"]}));
        assert!(table.contains("&lt;k&gt;"));
        assert!(table.contains("&lt;script&gt;"));
        assert!(table.contains("[&quot;pwd&quot;,&quot;otp&quot;]"));
        assert!(!table.contains("<script>"));
    }

    #[test]
    fn display_value_strips_quotes_from_strings_only() {
        assert_eq!(display_value(&json!("abc")), "abc");
        assert_eq!(display_value(&json!(42)), "42");
        assert_eq!(display_value(&json!(["a"])), r#"["a"]"#);
    }
}

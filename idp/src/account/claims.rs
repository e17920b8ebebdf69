//! A user's claims (OpenID Connect Core §5.1 names), below the protocols: OpenID Connect
//! releases them by scope (`oidc::userinfo`), CAS maps its attribute names onto them
//! (`cas::attributes`), so both tell an application the same thing about a person.

use serde_json::{Map, Value, json};

use crate::domain::{Scopes, User};

/// OpenID Connect Core §5.4: which claims each scope releases. `sub` always (the local id; a
/// protocol replaces it with the subject its client sees).
pub fn for_scopes(user: &User, scopes: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    if scopes.contains("profile") {
        claims.insert("name".into(), json!(user.display_name()));
        claims.insert("given_name".into(), json!(user.given_name));
        claims.insert("family_name".into(), json!(user.family_name));
        claims.insert("preferred_username".into(), json!(user.login));
        claims.insert("updated_at".into(), json!(user.updated_at));
        if let Some(locale) = &user.locale {
            claims.insert("locale".into(), json!(locale));
        }
    }
    if scopes.contains("email") {
        claims.insert("email".into(), json!(user.email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    if let (true, Some(phone)) = (scopes.contains("phone"), &user.phone_number) {
        claims.insert("phone_number".into(), json!(phone));
        claims.insert("phone_number_verified".into(), json!(false));
    }
    if let (true, Some(address)) = (scopes.contains("address"), &user.address) {
        // §5.1.1: the address claim is a JSON object.
        claims.insert("address".into(), json!({ "formatted": address }));
    }
    claims
}

//! Sign-in as one flow, for every protocol (issue #11): authenticate → the first-login steps the
//! account owes → end the browser's previous session → start the new one. A protocol that needs
//! someone signed in hands over a `Continuation`: plain data saying what to resume once the
//! session exists. It is stored with the first-login and recovery flows instead of a raw
//! authorization request id, so nothing in `account/` needs to know any protocol; `web/` maps
//! each variant back to the protocol that resumes it.

use serde::{Deserialize, Serialize};

/// What to resume once the user is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Continuation {
    /// An OpenID Connect authorization request waiting in the ephemeral store
    /// (`oidc::authorize::pending`).
    Authorization { request_id: String },
    /// The account space (/account): nothing else to resume.
    AccountSpace,
    /// A CAS login (`cas::login`): issue a service ticket for `service` (a URL registered by
    /// `client_id`) after the authorisation gate. `renew`: the ticket must say it came from a
    /// fresh sign-in. `post`: answer with a form the browser posts (`method=POST`).
    Cas { client_id: String, service: String, renew: bool, post: bool },
}

impl Continuation {
    /// The OpenID Connect request to resume, if that is what this continues.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Continuation::Authorization { request_id } => Some(request_id),
            Continuation::AccountSpace | Continuation::Cas { .. } => None,
        }
    }

    /// The registered client this sign-in is for (theme, name on the pages), when the
    /// continuation itself names one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Continuation::Cas { client_id, .. } => Some(client_id),
            Continuation::Authorization { .. } | Continuation::AccountSpace => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_is_stored_as_tagged_json() {
        let c = Continuation::Authorization { request_id: "r1".into() };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"kind":"authorization","request_id":"r1"}"#);
        assert_eq!(serde_json::from_str::<Continuation>(&json).unwrap(), c);
        let cas = Continuation::Cas {
            client_id: "ent".into(),
            service: "https://ent.example/".into(),
            renew: true,
            post: false,
        };
        assert_eq!(serde_json::from_str::<Continuation>(&serde_json::to_string(&cas).unwrap()).unwrap(), cas);
        assert_eq!(cas.request_id(), None);
        assert_eq!(cas.client_id(), Some("ent"));
    }
}

//! Scopes: a set of space-separated tokens (RFC 6749 §3.3), kept sorted and deduplicated so
//! that "openid email" and "email openid" are the same request.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The scopes this provider knows. Unknown scopes in a request are ignored (OpenID Connect
/// Core §3.1.2.1: "Scope values used that are not understood by an implementation SHOULD be
/// ignored").
/// `groups` (issue #11) releases the `groups` claim: the ids of the user's groups.
pub const SUPPORTED: [&str; 7] = ["openid", "profile", "email", "address", "phone", "offline_access", "groups"];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(BTreeSet<String>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed scope")]
pub struct MalformedScope;

impl Scopes {
    /// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    pub fn parse(raw: &str) -> Result<Self, MalformedScope> {
        let mut set = BTreeSet::new();
        for token in raw.split(' ').filter(|t| !t.is_empty()) {
            let valid = token.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(MalformedScope);
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    /// Keeps only the scopes this provider supports.
    pub fn supported_only(&self) -> Self {
        Self(self.0.iter().filter(|s| SUPPORTED.contains(&s.as_str())).cloned().collect())
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn union(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.union(&other.0).cloned().collect())
    }

    pub fn without(&self, scope: &str) -> Scopes {
        Scopes(self.0.iter().filter(|s| *s != scope).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::Scopes;

    #[test]
    fn order_and_duplicates_do_not_matter() {
        assert_eq!(Scopes::parse("email openid email").unwrap(), Scopes::parse("openid email").unwrap());
    }

    #[test]
    fn quotes_and_backslashes_are_malformed() {
        assert!(Scopes::parse("openid \"x\"").is_err());
        assert!(Scopes::parse("a\\b").is_err());
    }

    #[test]
    fn unknown_scopes_are_dropped() {
        let s = Scopes::parse("openid foo email").unwrap().supported_only();
        assert_eq!(s.to_string(), "email openid");
    }
}

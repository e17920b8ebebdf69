//! Form and query parameters as sent: a list of pairs, so that repeated parameters can be
//! refused (RFC 6749 §3.1 and §3.2: "Request and response parameters MUST NOT be included more
//! than once") and oversized values stopped before they reach a flow.

/// Longest value accepted for one parameter (ID token hints are the longest legitimate ones).
pub const MAX_VALUE_LEN: usize = 8 * 1024;

#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("parameter {0} is repeated")]
    Repeated(String),
    #[error("parameter {0} is too long")]
    TooLong(String),
    #[error("malformed parameters")]
    Malformed,
}

impl Params {
    pub fn parse(urlencoded: &str) -> Result<Self, ParamError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(urlencoded).map_err(|_| ParamError::Malformed)?;
        Ok(Self(pairs))
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The single value of `name`; empty values count as absent (RFC 6749 §3.1: "Parameters
    /// sent without a value MUST be treated as if they were omitted").
    pub fn get(&self, name: &str) -> Result<Option<&str>, ParamError> {
        let mut found = None;
        for (k, v) in &self.0 {
            if k != name || v.is_empty() {
                continue;
            }
            if found.is_some() {
                return Err(ParamError::Repeated(name.to_owned()));
            }
            if v.len() > MAX_VALUE_LEN {
                return Err(ParamError::TooLong(name.to_owned()));
            }
            found = Some(v.as_str());
        }
        Ok(found)
    }

    /// As `get`, with a tighter bound than `MAX_VALUE_LEN` for a value that is kept (e.g. in a
    /// pending authorization request).
    pub fn get_at_most(&self, name: &str, max_len: usize) -> Result<Option<&str>, ParamError> {
        match self.get(name)? {
            Some(v) if v.len() > max_len => Err(ParamError::TooLong(name.to_owned())),
            found => Ok(found),
        }
    }

    pub fn get_owned(&self, name: &str) -> Result<Option<String>, ParamError> {
        Ok(self.get(name)?.map(str::to_owned))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        let p = Params::parse("a=1&a=2&b=3").unwrap();
        assert_eq!(p.get("a"), Err(ParamError::Repeated("a".into())));
        assert_eq!(p.get("b"), Ok(Some("3")));
    }

    #[test]
    fn empty_values_are_absent() {
        let p = Params::parse("a=&a=1&c=").unwrap();
        assert_eq!(p.get("a"), Ok(Some("1")));
        assert_eq!(p.get("c"), Ok(None));
    }

    #[test]
    fn oversized_values_are_refused() {
        let p = Params::from_pairs(vec![("a".into(), "x".repeat(MAX_VALUE_LEN + 1))]);
        assert_eq!(p.get("a"), Err(ParamError::TooLong("a".into())));
    }

    #[test]
    fn a_tighter_bound_refuses_what_get_accepts() {
        let p = Params::from_pairs(vec![("a".into(), "x".repeat(11)), ("b".into(), "x".repeat(10))]);
        assert_eq!(p.get_at_most("a", 10), Err(ParamError::TooLong("a".into())));
        assert_eq!(p.get_at_most("b", 10), Ok(Some("xxxxxxxxxx")));
        assert_eq!(p.get_at_most("c", 10), Ok(None));
    }
}

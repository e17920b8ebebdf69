//! The answers of the validation and proxy endpoints (§2.5.2, §2.6.2, §2.7.2, Appendix A): CAS
//! 2.0/3.0 XML in the `http://www.yale.edu/tp/cas` namespace, every value escaped, or the JSON
//! rendering of the same document when the request says `format=JSON` (CAS 3.0 §2.5.1).
//! CAS 1.0 (/cas/validate, §2.4.2) answers two lines of text.

use serde_json::{Map, Value, json};

use super::attributes::Attributes;
use super::{CasError, Params};

pub const NAMESPACE: &str = "http://www.yale.edu/tp/cas";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// `format=JSON` (case-insensitive); XML otherwise, the default of §2.5.1.
    pub fn of(params: &Params) -> Self {
        match params.get("format") {
            Ok(Some(f)) if f.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Xml,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "application/xml; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// A successful validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Success {
    pub user: String,
    /// CAS 3.0 only (`/cas/p3/*`): `None` leaves `cas:attributes` out.
    pub attributes: Option<Attributes>,
    pub pgt_iou: Option<String>,
    /// /proxyValidate of a proxy ticket: the proxies, most recent first.
    pub proxies: Vec<String>,
}

/// XML 1.0 §2.4: the five characters that may not stand for themselves.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// An element name: the attribute names are ours (`attributes::NAMES`), but never trust a
/// string to be a name.
fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn wrap(inner: &str) -> String {
    format!("<cas:serviceResponse xmlns:cas=\"{NAMESPACE}\">\n{inner}</cas:serviceResponse>\n")
}

fn failure_xml(element: &str, err: &CasError) -> String {
    wrap(&format!("  <cas:{element} code=\"{}\">{}</cas:{element}>\n", err.code.as_str(), escape(&err.description)))
}

/// §2.5.2 / §2.6.2: the answer of /serviceValidate, /proxyValidate and their /p3 forms.
pub fn validation(result: &Result<Success, CasError>, format: Format) -> String {
    match (result, format) {
        (Err(err), Format::Xml) => failure_xml("authenticationFailure", err),
        (Err(err), Format::Json) => json!({
            "serviceResponse": {"authenticationFailure": {"code": err.code.as_str(), "description": err.description}}
        })
        .to_string(),
        (Ok(ok), Format::Xml) => {
            let mut inner = format!("  <cas:authenticationSuccess>\n    <cas:user>{}</cas:user>\n", escape(&ok.user));
            if let Some(attributes) = &ok.attributes {
                inner.push_str("    <cas:attributes>\n");
                for (name, values) in attributes.iter().filter(|(n, _)| is_name(n)) {
                    for value in values {
                        inner.push_str(&format!("      <cas:{name}>{}</cas:{name}>\n", escape(value)));
                    }
                }
                inner.push_str("    </cas:attributes>\n");
            }
            if let Some(iou) = &ok.pgt_iou {
                inner.push_str(&format!("    <cas:proxyGrantingTicket>{}</cas:proxyGrantingTicket>\n", escape(iou)));
            }
            if !ok.proxies.is_empty() {
                inner.push_str("    <cas:proxies>\n");
                for proxy in &ok.proxies {
                    inner.push_str(&format!("      <cas:proxy>{}</cas:proxy>\n", escape(proxy)));
                }
                inner.push_str("    </cas:proxies>\n");
            }
            inner.push_str("  </cas:authenticationSuccess>\n");
            wrap(&inner)
        }
        (Ok(ok), Format::Json) => {
            let mut success = Map::new();
            success.insert("user".into(), json!(ok.user));
            if let Some(attributes) = &ok.attributes {
                // One value as a string, several as an array (the specification's example).
                let object: Map<String, Value> = attributes
                    .iter()
                    .map(|(name, values)| {
                        let value = match values.as_slice() {
                            [one] => json!(one),
                            many => json!(many),
                        };
                        (name.clone(), value)
                    })
                    .collect();
                success.insert("attributes".into(), Value::Object(object));
            }
            if let Some(iou) = &ok.pgt_iou {
                success.insert("proxyGrantingTicket".into(), json!(iou));
            }
            if !ok.proxies.is_empty() {
                success.insert("proxies".into(), json!(ok.proxies));
            }
            json!({ "serviceResponse": { "authenticationSuccess": success } }).to_string()
        }
    }
}

/// §2.7.2: the answer of /proxy.
pub fn proxy(result: &Result<String, CasError>, format: Format) -> String {
    match (result, format) {
        (Ok(pt), Format::Xml) => wrap(&format!(
            "  <cas:proxySuccess>\n    <cas:proxyTicket>{}</cas:proxyTicket>\n  </cas:proxySuccess>\n",
            escape(pt)
        )),
        (Ok(pt), Format::Json) => json!({ "serviceResponse": { "proxySuccess": { "proxyTicket": pt } } }).to_string(),
        (Err(err), Format::Xml) => failure_xml("proxyFailure", err),
        (Err(err), Format::Json) => json!({
            "serviceResponse": {"proxyFailure": {"code": err.code.as_str(), "description": err.description}}
        })
        .to_string(),
    }
}

/// §2.4.2: CAS 1.0's `yes<LF>username<LF>` or `no<LF><LF>`.
pub fn validation_v1(user: Option<&str>) -> String {
    match user {
        // A line feed in a login would forge a second line: CAS 1.0 has no escaping.
        Some(user) if !user.contains(['\n', '\r']) => format!("yes\n{user}\n"),
        _ => "no\n\n".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cas::ErrorCode;

    #[test]
    fn every_value_is_escaped() {
        let ok = Success {
            user: "a<b>&\"'".into(),
            attributes: Some(vec![("mail".into(), vec!["x&y@example.org".into()]), ("bad name".into(), vec![])]),
            pgt_iou: None,
            proxies: vec![],
        };
        let xml = validation(&Ok(ok), Format::Xml);
        assert!(xml.contains("<cas:user>a&lt;b&gt;&amp;&quot;&apos;</cas:user>"), "{xml}");
        assert!(xml.contains("<cas:mail>x&amp;y@example.org</cas:mail>"), "{xml}");
        assert!(!xml.contains("bad name"));
        assert!(xml.starts_with("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">"));
    }

    #[test]
    fn failures_carry_the_specifications_code_in_both_formats() {
        let err = CasError::new(ErrorCode::InvalidTicket, "Ticket <x> not recognized");
        let xml = validation(&Err(err.clone()), Format::Xml);
        assert!(xml.contains("<cas:authenticationFailure code=\"INVALID_TICKET\">Ticket &lt;x&gt; not recognized"));
        let json: Value = serde_json::from_str(&validation(&Err(err), Format::Json)).unwrap();
        assert_eq!(json["serviceResponse"]["authenticationFailure"]["code"], "INVALID_TICKET");
    }

    #[test]
    fn json_attributes_are_strings_or_arrays() {
        let ok = Success {
            user: "alice".into(),
            attributes: Some(vec![
                ("mail".into(), vec!["a@example.org".into()]),
                ("memberOf".into(), vec!["staff".into(), "faculty".into()]),
            ]),
            pgt_iou: Some("PGTIOU-1".into()),
            proxies: vec!["https://p.example/cb".into()],
        };
        let json: Value = serde_json::from_str(&validation(&Ok(ok), Format::Json)).unwrap();
        let success = &json["serviceResponse"]["authenticationSuccess"];
        assert_eq!(success["attributes"]["mail"], "a@example.org");
        assert_eq!(success["attributes"]["memberOf"], json!(["staff", "faculty"]));
        assert_eq!(success["proxyGrantingTicket"], "PGTIOU-1");
        assert_eq!(success["proxies"], json!(["https://p.example/cb"]));
    }

    #[test]
    fn cas_1_answers_two_lines() {
        assert_eq!(validation_v1(Some("alice")), "yes\nalice\n");
        assert_eq!(validation_v1(None), "no\n\n");
        assert_eq!(validation_v1(Some("a\nyes")), "no\n\n");
    }
}

//! Reading the mails an app wrote to its outbox (`<data dir>/outbox/*.eml`): headers, the
//! RFC 2047 subject and both parts, decoded (quoted-printable or base64), enough for assertions.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every mail in `dir`, in no particular order.
pub fn read_outbox(dir: &std::path::Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| parse(&std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// One message as written to the outbox or received over SMTP.
pub fn parse(eml: &str) -> Mail {
    let eml = eml.replace("\r\n", "\n");
    let (head, body) = eml.split_once("\n\n").unwrap_or((&eml, ""));
    let headers = unfold(head);
    let header = |name: &str| {
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let boundary = header("Content-Type").split("boundary=").nth(1).unwrap_or_default().trim_matches('"').to_owned();
    let mut text = String::new();
    let mut html = String::new();
    for part in body.split(&format!("--{boundary}")).skip(1) {
        let Some((part_head, part_body)) = part.trim_start_matches('\n').split_once("\n\n") else { continue };
        let part_headers = unfold(part_head);
        let get = |name: &str| {
            part_headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_ascii_lowercase())
        };
        let decoded = match get("Content-Transfer-Encoding").as_deref() {
            Some("base64") => {
                String::from_utf8(STANDARD.decode(part_body.split_whitespace().collect::<String>()).unwrap()).unwrap()
            }
            Some("quoted-printable") => quoted_printable(part_body),
            _ => part_body.to_owned(),
        };
        match get("Content-Type") {
            Some(t) if t.starts_with("text/plain") => text = decoded,
            Some(t) if t.starts_with("text/html") => html = decoded,
            _ => {}
        }
    }
    Mail { to: header("To"), subject: encoded_words(&header("Subject")), text, html }
}

fn unfold(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    headers
}

fn quoted_printable(body: &str) -> String {
    let mut bytes = Vec::new();
    let joined = body.replace("=\n", "");
    let raw = joined.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'='
            && i + 3 <= raw.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("-"), 16)
        {
            bytes.push(b);
            i += 3;
            continue;
        }
        bytes.push(raw[i]);
        i += 1;
    }
    String::from_utf8(bytes).unwrap()
}

/// RFC 2047 `=?utf-8?b?…?=` / `=?utf-8?q?…?=` words, concatenated.
fn encoded_words(value: &str) -> String {
    // Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
    let mut out = String::new();
    let mut previous_encoded = false;
    for word in value.split_whitespace() {
        let parts: Vec<&str> = word.split('?').collect();
        let encoded = parts.len() == 5 && parts[0] == "=" && parts[4] == "=";
        let joins_previous = encoded && previous_encoded;
        if !out.is_empty() && !joins_previous {
            out.push(' ');
        }
        if encoded {
            let decoded = match parts[2].to_ascii_lowercase().as_str() {
                "b" => String::from_utf8(STANDARD.decode(parts[3]).unwrap()).unwrap(),
                _ => quoted_printable(&parts[3].replace('_', " ")),
            };
            out.push_str(&decoded);
        } else {
            out.push_str(word);
        }
        previous_encoded = encoded;
    }
    out
}

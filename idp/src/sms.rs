//! Outgoing SMS behind one small trait (issue #5: the consular identifier renewal sends its
//! second secret by SMS). The embedded default writes one JSON file per message to an outbox
//! folder; production posts `{"to", "text"}` to an HTTP gateway (`recovery.sms_webhook_url`).
//! The text is never logged: it carries a one-time code.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS outbox: {0}")]
    Outbox(String),
    #[error("SMS gateway: {0}")]
    Gateway(String),
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError>;
}

/// One `<random>.json` file per message in `dir`.
pub struct OutboxSms {
    dir: PathBuf,
}

impl OutboxSms {
    pub fn new(dir: &Path) -> Result<Self, SmsError> {
        std::fs::create_dir_all(dir).map_err(|e| SmsError::Outbox(format!("{}: {e}", dir.display())))?;
        Ok(Self { dir: dir.to_path_buf() })
    }
}

#[async_trait]
impl SmsSender for OutboxSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let path = self.dir.join(format!("{}.json", crate::crypto::random_token(12)));
        let body = serde_json::json!({ "to": to, "text": text }).to_string();
        tokio::fs::write(&path, body).await.map_err(|e| SmsError::Outbox(format!("{}: {e}", path.display())))?;
        tracing::info!(file = %path.display(), "SMS written to the outbox");
        Ok(())
    }
}

/// POSTs `{"to": "+33…", "text": "…"}` to a gateway; any 2xx is accepted.
pub struct WebhookSms {
    url: String,
    http: reqwest::Client,
}

impl WebhookSms {
    pub fn new(url: &str) -> Result<Self, SmsError> {
        let http = crate::http::client("SMS gateway", std::time::Duration::from_secs(10))
            .map_err(|e| SmsError::Gateway(e.to_string()))?;
        Ok(Self { url: url.to_owned(), http })
    }
}

#[async_trait]
impl SmsSender for WebhookSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let response = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({ "to": to, "text": text }))
            .send()
            .await
            .map_err(|e| SmsError::Gateway(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SmsError::Gateway(format!("answered {}", response.status())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_writes_one_file_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let sms = OutboxSms::new(dir.path()).unwrap();
        sms.send("+33600000000", "Code : 123456").await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        assert_eq!(body["to"], "+33600000000");
        assert_eq!(body["text"], "Code : 123456");
    }

    /// A one-request HTTP server answering `status`; returns its URL and what it received.
    async fn gateway(status: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the body announced by Content-Length.
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                received.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&received).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&received).to_string()
        });
        (url, task)
    }

    #[tokio::test]
    async fn the_gateway_gets_the_number_and_the_text_as_json() {
        let (url, received) = gateway("200 OK").await;
        WebhookSms::new(&url).unwrap().send("+33600000000", "Code : 123456").await.unwrap();
        let request = received.await.unwrap();
        assert!(request.starts_with("POST /send "), "{request}");
        let body: serde_json::Value = serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(body, serde_json::json!({ "to": "+33600000000", "text": "Code : 123456" }));
    }

    #[tokio::test]
    async fn a_refusing_gateway_is_an_error() {
        let (url, _received) = gateway("500 Internal Server Error").await;
        let err = WebhookSms::new(&url).unwrap().send("+33600000000", "Code : 123456").await.unwrap_err();
        assert!(err.to_string().contains("500"), "{err}");
        assert!(!err.to_string().contains("123456"), "the code is never in the error");
    }
}

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
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
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
}

//! Outgoing mail behind one trait. The embedded default writes `.eml` files to an outbox folder
//! (and logs each message); production sends through SMTP (`smtp_url`, e.g.
//! `smtps://user:pass@mail.example:465` or `smtp://mail.example:587?tls=required`).
//! Themed FR/EN mails are rendered by `render`, queued durably and retried by `queue`; flows
//! call `notify::send`.

pub mod notify;
pub mod palette;
pub mod queue;
pub mod render;
pub mod time;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("transport failed: {0}")]
    Transport(String),
}

/// A message with both parts, already rendered.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The local part of the Message-ID (the queue row's id), so that a receiver can recognise
    /// a duplicate; the transport makes one up when `None`.
    pub message_id: Option<String>,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

fn build(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address(mail.to.clone()))?;
    let domain = from.email.domain().to_owned();
    Message::builder()
        .message_id(mail.message_id.as_ref().map(|id| format!("<{id}@{domain}>")))
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| MailError::Build(e.to_string()))
}

pub struct OutboxMailer {
    from: Mailbox,
    dir: PathBuf,
    transport: AsyncFileTransport<Tokio1Executor>,
}

impl OutboxMailer {
    pub fn new(dir: &Path, from: &str) -> Result<Self, MailError> {
        std::fs::create_dir_all(dir).map_err(|e| MailError::Transport(format!("{}: {e}", dir.display())))?;
        Ok(Self {
            from: from.parse().map_err(|_| MailError::Address(from.to_owned()))?,
            dir: dir.to_path_buf(),
            transport: AsyncFileTransport::new(dir),
        })
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build(&self.from, mail)?;
        let id = self.transport.send(message).await.map_err(|e| MailError::Transport(e.to_string()))?;
        tracing::info!(to = %mail.to, subject = %mail.subject, file = %self.dir.join(format!("{id}.eml")).display(), "mail written to the outbox");
        Ok(())
    }
}

pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// `url`: `smtp://host:587?tls=required` (STARTTLS required), `smtp://host?tls=opportunistic`,
    /// `smtps://host:465` (implicit TLS), `smtp://host:25` (clear, local relays only), each
    /// optionally with `user:password@` (percent-encoded). Nothing connects here. The error
    /// never repeats the URL, which may carry the password.
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Transport(format!("invalid smtp_url: {e}")))?
            .build();
        Ok(Self { from: from.parse().map_err(|_| MailError::Address(from.to_owned()))?, transport })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = build(&self.from, mail)?;
        self.transport.send(message).await.map_err(|e| MailError::Transport(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_writes_one_eml_file_per_message_with_both_parts() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(dir.path(), "IdP <no-reply@idp.example>").unwrap();
        let mail = OutgoingMail {
            to: "alice@example.org".into(),
            subject: "Bonjour".into(),
            text: "texte".into(),
            html: "<p>html</p>".into(),
            message_id: Some("5e1f".into()),
        };
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: alice@example.org"));
        assert!(eml.contains("text/plain") && eml.contains("text/html"));
        assert!(eml.contains("Message-ID: <5e1f@idp.example>"), "{eml}");
    }

    #[tokio::test]
    async fn smtp_urls_for_starttls_implicit_tls_and_credentials_are_accepted() {
        for url in [
            "smtp://mail.example:587?tls=required",
            "smtp://mail.example?tls=opportunistic",
            "smtps://mail.example:465",
            "smtps://mail.example",
            "smtps://idp%40example.org:s3cr%2Ft@mail.example:465",
            "smtp://idp:s3cret@mail.example:587?tls=required",
            "smtp://127.0.0.1:25",
        ] {
            assert!(SmtpMailer::new(url, "IdP <no-reply@idp.example>").is_ok(), "{url} was refused");
        }
    }

    #[tokio::test]
    async fn bad_smtp_urls_are_refused_without_repeating_the_password() {
        for url in [
            "not a url",
            "http://idp:Hunter2-secret@mail.example",
            "smtp://idp:Hunter2-secret@mail.example?tls=always",
            "smtp://idp:Hunter2-secret@mail.example:587?tls=bogus",
            "smtps://idp:Hunter2-secret@:465",
            "mailto:idp:Hunter2-secret@mail.example",
        ] {
            match SmtpMailer::new(url, "IdP <no-reply@idp.example>") {
                Ok(_) => panic!("{url} was accepted"),
                Err(e) => {
                    let shown = format!("{e} {e:?}");
                    assert!(!shown.contains("Hunter2"), "the password leaked: {shown}");
                    assert!(shown.contains("invalid smtp_url"), "{shown}");
                }
            }
        }
        assert!(matches!(SmtpMailer::new("smtps://mail.example", "not an address"), Err(MailError::Address(_))));
    }

    #[test]
    fn a_bad_sender_address_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(OutboxMailer::new(dir.path(), "not an address"), Err(MailError::Address(_))));
    }
}

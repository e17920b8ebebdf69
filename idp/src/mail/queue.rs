//! The durable mail queue: a mail is stored (`store::MailQueue`) before any attempt, claimed by
//! the node that queued it and sent at once; when the transport fails it is retried with
//! backoff by the worker of any node (`run`), until the server accepts it. The row is deleted
//! as soon as the transport accepted the message, so a restart never sends it twice; its id is
//! the Message-ID, so a receiver can still recognise the rare duplicate (a crash between the
//! server's acceptance and the deletion). Bodies carry one-time secrets (codes, links,
//! provisional passwords): they are stored sealed under the master key (AES-256-GCM, the row id
//! as associated data), the recipient and subject in clear for operators.

use std::sync::Arc;
use std::time::Duration;

use super::OutgoingMail;
use crate::services::{InfraError, Services};
use crate::store::QueuedMail;

/// How often the worker looks for due mail.
pub const POLL: Duration = Duration::from_secs(5);
/// How long a claim lasts: longer than one transport attempt (`SEND_TIMEOUT`).
const CLAIM_SECS: i64 = 120;
/// One attempt is abandoned after this long (the row stays queued).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const BATCH: i64 = 20;
/// How long the request that queued a mail waits for its first attempt. A slower SMTP server
/// does not hold the page (the attempt goes on in the background, the claim keeps the workers
/// away), so a request that sends a mail takes about as long as one that does not: recovery
/// pads every answer to `recovery.min_response_ms` (300 ms), above this.
pub const SUBMIT_WAIT: Duration = Duration::from_millis(200);

/// Seconds before attempt `attempts + 1`: 30 s, 1 min, 2 min … capped at one hour. Never given
/// up: a mail is not lost because the SMTP server was down for a weekend.
pub fn backoff(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (30_i64 << exp).min(3600)
}

/// Queues `mail` and tries to send it now. `Ok` once it is stored, whatever the transport said.
pub async fn submit(s: &Services, mail: OutgoingMail) -> Result<(), InfraError> {
    let now = s.now();
    let id = crate::crypto::random_uuid();
    let seal = |body: &str| s.master_key.seal(body.as_bytes(), id.as_bytes()).map_err(seal_error);
    let queued = QueuedMail {
        id: id.clone(),
        to: mail.to.clone(),
        subject: mail.subject.clone(),
        text: seal(&mail.text)?,
        html: seal(&mail.html)?,
        created_at: now,
        attempts: 1,
        next_attempt_at: now,
        last_error: None,
    };
    s.store.enqueue_mail(&queued, now + CLAIM_SECS).await?;
    let courier = Courier::of(s);
    let outgoing = OutgoingMail { message_id: Some(id), ..mail };
    let attempt = tokio::spawn(async move { courier.send(&queued, outgoing).await });
    match tokio::time::timeout(SUBMIT_WAIT, attempt).await {
        Ok(Ok(result)) => result.map(|_| ()),
        Ok(Err(panicked)) => {
            tracing::error!(error = %panicked, "a mail attempt failed; the worker will retry it");
            Ok(())
        }
        // Still talking to the server: it finishes in the background (stored first, so nothing
        // is lost either way).
        Err(_) => Ok(()),
    }
}

/// What one transport attempt needs, owned, so that an attempt can outlive the request.
struct Courier {
    mailer: Arc<dyn super::Mailer>,
    store: Arc<dyn crate::store::Store>,
    clock: Arc<dyn crate::clock::Clock>,
}

impl Courier {
    fn of(s: &Services) -> Self {
        Self { mailer: s.mailer.clone(), store: s.store.clone(), clock: s.clock.clone() }
    }

    /// One transport attempt of the claimed `mail` (its opened content in `outgoing`): delete
    /// it once accepted (true), else schedule a retry (false).
    async fn send(&self, mail: &QueuedMail, outgoing: OutgoingMail) -> Result<bool, InfraError> {
        let result = match tokio::time::timeout(SEND_TIMEOUT, self.mailer.send(&outgoing)).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        };
        match result {
            Ok(()) => {
                self.store.finish_mail(&mail.id).await?;
                tracing::info!(mail_id = %mail.id, attempts = mail.attempts, "mail accepted by the transport");
                Ok(true)
            }
            Err(error) => {
                let next = self.clock.now() + backoff(mail.attempts);
                self.store.retry_mail(&mail.id, next, &error).await?;
                tracing::warn!(mail_id = %mail.id, attempts = mail.attempts, %error, next_attempt_at = next, "mail not sent; will retry");
                Ok(false)
            }
        }
    }
}

fn seal_error(e: crate::master_key::MasterKeyError) -> InfraError {
    InfraError::Sealing(e.to_string())
}

/// Sends the due mails this node could claim; returns how many were accepted.
pub async fn deliver_due(s: &Services) -> Result<usize, InfraError> {
    let now = s.now();
    let mut sent = 0;
    for mail in s.store.claim_due_mail(now, now + CLAIM_SECS, BATCH).await? {
        let open =
            |body: &str| s.master_key.open(body, mail.id.as_bytes()).map(|b| String::from_utf8_lossy(&b).into_owned());
        let (text, html) = match (open(&mail.text), open(&mail.html)) {
            (Ok(text), Ok(html)) => (text, html),
            _ => {
                // Sealed under another master key: no node of this installation can send it.
                tracing::error!(mail_id = %mail.id, "a queued mail cannot be opened with this master key");
                s.store.retry_mail(&mail.id, now + 3600, "cannot be opened with this master key").await?;
                continue;
            }
        };
        let outgoing = OutgoingMail {
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            text,
            html,
            message_id: Some(mail.id.clone()),
        };
        if Courier::of(s).send(&mail, outgoing).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// The worker: delivers due mail every `POLL` until `stop` turns true.
pub async fn run(s: Arc<Services>, stop: tokio::sync::watch::Receiver<bool>) {
    crate::worker::poll("mail queue worker", POLL, stop, || deliver_due(&s)).await;
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(backoff(1), 30);
        assert_eq!(backoff(2), 60);
        assert_eq!(backoff(5), 480);
        assert_eq!(backoff(8), 3600);
        assert_eq!(backoff(50), 3600);
    }
}

//! The propagation of a changed password to downstream systems (issue #5: Nouvelle-Aquitaine's
//! "Veuillez patienter" while the new password reaches the other applications).
//!
//! When `recovery.propagation_url` is set, every password change (`password_change::change`,
//! whatever its reason) queues one `WebhookDelivery` in the change's own transaction, so a
//! committed change is never left unannounced. Its payload is
//! `{"event":"password_changed","sub","login","user_type","reason","changed_at"}`: never the
//! password nor its hash. The node that made the change POSTs it at once (spawned: the page
//! does not wait on the receiver); when the receiver does not answer 2xx, the worker of any
//! node (`run`) retries with the mail queue's backoff, under the same claim protocol, until it
//! is acknowledged. Each POST carries `X-Idp-Delivery: <id>` (a receiver deduplicates on it:
//! a crash between its 2xx and our bookkeeping resends) and, when `propagation_secret` is set,
//! `X-Idp-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. Redirects are not followed.
//! Acknowledged rows stay a day, for the waiting page (`status`), then are purged.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::json;

use crate::clock::Clock;
use crate::domain::User;
use crate::mail::queue::backoff;
use crate::services::{InfraError, Services};
use crate::store::{Store, WebhookDelivery};

/// How often the worker looks for due deliveries.
pub const POLL: Duration = Duration::from_secs(5);
/// How long a claim lasts: longer than one attempt (`SEND_TIMEOUT`).
const CLAIM_SECS: i64 = 60;
/// One attempt is abandoned after this long (the row stays queued).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const BATCH: i64 = 20;
/// Acknowledged deliveries are kept this long (the waiting page reads them), then purged.
const KEEP_DELIVERED_SECS: i64 = 24 * 3600;

/// Where a propagation delivery stands, for the recovery's waiting page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropagationStatus {
    /// Not yet acknowledged by the receiver (or unknown: the caller times out).
    Pending,
    /// Acknowledged (2xx) by the receiver.
    Delivered,
}

/// The status of delivery `id`; an unknown id is `Pending` (the waiting page gives up on its own).
pub async fn status(s: &Services, id: &str) -> Result<PropagationStatus, InfraError> {
    match s.store.webhook_delivery(id).await? {
        Some(d) if d.delivered_at.is_some() => Ok(PropagationStatus::Delivered),
        _ => Ok(PropagationStatus::Pending),
    }
}

/// The delivery announcing that `user`'s password changed at `now` for `reason`, when a
/// propagation URL is configured. It is due only after a claim's length: the caller stores it
/// with the change and attempts it at once (`deliver_soon`); the worker takes over if that
/// attempt never reports.
pub fn delivery_for(s: &Services, user: &User, reason: &str, now: i64) -> Option<WebhookDelivery> {
    s.recovery.propagation_url.as_ref()?;
    let payload = json!({
        "event": "password_changed",
        "sub": user.id,
        "login": user.login,
        "user_type": user.user_type,
        "reason": reason,
        "changed_at": now,
    });
    Some(WebhookDelivery {
        id: crate::crypto::random_uuid(),
        payload: payload.to_string(),
        created_at: now,
        attempts: 1,
        next_attempt_at: now + CLAIM_SECS,
        delivered_at: None,
        last_error: None,
    })
}

/// Attempts the just-queued `delivery` in the background (the page does not wait).
pub fn deliver_soon(s: &Services, delivery: WebhookDelivery) {
    let Some(sender) = Sender::of(s) else { return };
    tokio::spawn(async move {
        if let Err(err) = sender.attempt(&delivery).await {
            tracing::error!(delivery_id = %delivery.id, error = %err, "propagation webhook bookkeeping failed");
        }
    });
}

/// What one attempt needs, owned, so it can outlive the request.
#[derive(Clone)]
struct Sender {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    url: String,
    secret: Option<String>,
}

impl Sender {
    fn of(s: &Services) -> Option<Self> {
        Some(Self {
            store: s.store.clone(),
            clock: s.clock.clone(),
            url: s.recovery.propagation_url.clone()?,
            secret: s.recovery.propagation_secret.clone().filter(|k| !k.is_empty()),
        })
    }

    /// One POST of the claimed `delivery`: finished on 2xx (true), else rescheduled (false).
    async fn attempt(&self, delivery: &WebhookDelivery) -> Result<bool, InfraError> {
        let result = match tokio::time::timeout(SEND_TIMEOUT, self.post(delivery)).await {
            Ok(result) => result,
            Err(_) => Err("timed out".to_owned()),
        };
        match result {
            Ok(()) => {
                self.store.finish_webhook(&delivery.id, self.clock.now()).await?;
                tracing::info!(delivery_id = %delivery.id, attempts = delivery.attempts, "propagation webhook acknowledged");
                Ok(true)
            }
            Err(error) => {
                let next = self.clock.now() + backoff(delivery.attempts);
                self.store.retry_webhook(&delivery.id, next, &error).await?;
                tracing::warn!(delivery_id = %delivery.id, attempts = delivery.attempts, %error, next_attempt_at = next, "propagation webhook not acknowledged; will retry");
                Ok(false)
            }
        }
    }

    async fn post(&self, delivery: &WebhookDelivery) -> Result<(), String> {
        let client = http_client()?;
        let mut request = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Idp-Delivery", &delivery.id)
            .body(delivery.payload.clone());
        if let Some(secret) = &self.secret {
            request = request.header("X-Idp-Signature", signature(secret, &delivery.payload));
        }
        // `without_url`: the URL may carry a token of the receiver's; errors are stored and logged.
        let response = request.send().await.map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() { Ok(()) } else { Err(format!("answered {}", response.status())) }
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Idp-Signature` header.
pub fn signature(secret: &str, body: &str) -> String {
    let mac = crate::crypto::hmac_sha256(secret.as_bytes(), body.as_bytes());
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn http_client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = crate::http::client("propagation webhook", SEND_TIMEOUT).map_err(|e| e.to_string())?;
    Ok(CLIENT.get_or_init(|| client))
}

/// Sends the due deliveries this node could claim, then purges those acknowledged over a day
/// ago; returns how many were acknowledged.
pub async fn deliver_due(s: &Services) -> Result<usize, InfraError> {
    let now = s.now();
    let mut acknowledged = 0;
    if let Some(sender) = Sender::of(s) {
        for delivery in s.store.claim_due_webhooks(now, now + CLAIM_SECS, BATCH).await? {
            if sender.attempt(&delivery).await? {
                acknowledged += 1;
            }
        }
    }
    s.store.purge_webhooks(now - KEEP_DELIVERED_SECS).await?;
    Ok(acknowledged)
}

/// The worker: delivers due deliveries every `POLL` until `stop` turns true.
pub async fn run(s: Arc<Services>, stop: tokio::sync::watch::Receiver<bool>) {
    crate::worker::poll("propagation webhook worker", POLL, stop, || deliver_due(&s)).await;
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

//! Delivery of the back-channel notices of ended sessions, for every protocol (OpenID Connect
//! logout tokens, CAS `logoutRequest`s): one durable queue (`store::LogoutQueue`), one retry
//! rule. Each protocol's worker claims its own rows (`LogoutDelivery::protocol`), says what to
//! POST for each (`Outgoing`), and this module sends it and decides what becomes of the row:
//! gone once delivered or refused, retried with backoff otherwise, given up after the last try.

use std::future::Future;
use std::time::Duration;

use crate::services::{InfraError, Services};
use crate::store::LogoutDelivery;

/// Delay before attempt n+1 after n failed attempts; after the last one the delivery is given up
/// (about 2 h 40 in all).
pub const BACKOFF: [i64; 7] = [1, 5, 30, 300, 1800, 3600, 3600];
/// How long a claimed row is ours: longer than a send can take (timeouts of `http_client`).
const CLAIM: i64 = 60;
/// How often a worker looks for due rows.
pub const POLL: Duration = Duration::from_secs(1);
const BATCH: i64 = 20;

/// What to POST for one delivery: a form to `url`.
pub struct Outgoing {
    pub url: String,
    pub form: Vec<(&'static str, String)>,
}

/// The HTTP client of the workers: no redirects (the URL was registered, its redirect target
/// was not), short timeouts.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    crate::http::client("back-channel logout", Duration::from_secs(15))
}

enum Sent {
    Delivered,
    /// Worth trying again later (network error, 5xx, 408, 429).
    Retry(String),
    /// The application refused it (another 4xx): trying again would not help.
    Refused(u16),
}

async fn send(http: &reqwest::Client, outgoing: &Outgoing) -> Sent {
    match http.post(&outgoing.url).form(&outgoing.form).send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                Sent::Delivered
            } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                Sent::Refused(status.as_u16())
            } else {
                Sent::Retry(format!("HTTP {status}"))
            }
        }
        Err(err) => Sent::Retry(err.without_url().to_string()),
    }
}

/// One pass of a protocol's worker: claims the due deliveries of `protocol` and sends what
/// `prepare` makes of each (`None`: nothing to send any more, e.g. the client was removed).
/// Returns how many were claimed.
pub async fn deliver_due<F, Fut>(
    s: &Services,
    http: &reqwest::Client,
    protocol: &str,
    prepare: F,
) -> Result<usize, InfraError>
where
    F: Fn(LogoutDelivery) -> Fut,
    Fut: Future<Output = Result<(LogoutDelivery, Option<Outgoing>), InfraError>>,
{
    let now = s.now();
    let claimed = s.store.claim_due_logouts(protocol, now, now + CLAIM, BATCH).await?;
    let count = claimed.len();
    for delivery in claimed {
        let (delivery, outgoing) = prepare(delivery).await?;
        match outgoing {
            None => s.store.finish_logout(&delivery.id).await?,
            Some(outgoing) => deliver(s, http, &delivery, &outgoing).await?,
        }
    }
    Ok(count)
}

async fn deliver(
    s: &Services,
    http: &reqwest::Client,
    delivery: &LogoutDelivery,
    outgoing: &Outgoing,
) -> Result<(), InfraError> {
    let (client_id, id, protocol) = (&delivery.client_id, &delivery.id, &delivery.protocol);
    match send(http, outgoing).await {
        Sent::Delivered => {
            tracing::info!(%protocol, %client_id, jti = %id, attempts = delivery.attempts, "back-channel logout delivered");
            s.store.finish_logout(id).await?;
        }
        Sent::Refused(status) => {
            tracing::warn!(%protocol, %client_id, jti = %id, status, "back-channel logout refused by the client; not retried");
            s.store.finish_logout(id).await?;
        }
        Sent::Retry(reason) => {
            let tried = usize::try_from(delivery.attempts).unwrap_or(usize::MAX);
            match BACKOFF.get(tried.saturating_sub(1)) {
                Some(delay) => {
                    tracing::info!(%protocol, %client_id, jti = %id, attempts = delivery.attempts, %reason, retry_in = delay, "back-channel logout failed; will retry");
                    s.store.retry_logout(id, s.now() + delay).await?;
                }
                None => {
                    tracing::warn!(%protocol, %client_id, jti = %id, attempts = delivery.attempts, %reason, "back-channel logout given up");
                    s.store.finish_logout(id).await?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_grows_and_ends() {
        assert!(BACKOFF.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(BACKOFF[0], 1);
        assert!(BACKOFF.iter().sum::<i64>() < 24 * 3600);
    }
}

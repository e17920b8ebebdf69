//! The loop of the durable queues' background workers (back-channel logout, mail, propagation
//! webhook): run one pass, log a failure (the next pass retries), wait `every`, until `stop`
//! turns true or its sender goes.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

pub async fn poll<F, Fut, T, E>(
    name: &'static str,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    pass: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(err) = pass().await {
            tracing::error!(error = %err, "{name}");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            changed = stop.changed() => if changed.is_err() { return },
        }
    }
}

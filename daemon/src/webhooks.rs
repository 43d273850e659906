//! Webhook delivery: drains the store's outbox in order, POSTing each decision event as JSON
//! signed with HMAC-SHA256 (`X-Idreview-Signature: sha256=<hex>`) to every configured URL,
//! retrying with capped exponential backoff. An event leaves the outbox only once every URL
//! accepted it (2xx), so delivery is at least once and in order per card, across restarts.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::WebhooksConfig;
use crate::retry::Backoff;
use crate::store::Store;
use crate::store::webhook_outbox::OutboxItem;

/// HMAC-SHA256 of `message` under `key` (RFC 2104), as lower-case hex.
pub fn sign(key: &[u8], message: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("the receiver answered {0}")]
    Status(reqwest::StatusCode),
}

/// Delivers outbox events until `shutdown`.
pub async fn run(store: Store, config: WebhooksConfig, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_secs.max(1)))
        .build()
    {
        Ok(client) => client,
        Err(e) => return warn!(error = %e, "webhooks disabled: no HTTP client"),
    };
    loop {
        let items = match store.outbox_peek(64) {
            Ok(items) => items,
            Err(e) => {
                warn!(error = %e, "cannot read the webhook outbox");
                Vec::new()
            }
        };
        if items.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = store.outbox_added() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            continue;
        }
        for item in items {
            for url in &config.urls {
                if !deliver(&client, &config, url, &item, &shutdown).await {
                    return;
                }
            }
            if let Err(e) = store.outbox_remove(item.seq).await {
                warn!(error = %e, seq = item.seq, "cannot mark a webhook delivered");
            }
        }
    }
}

/// POSTs `item` to `url` until it is accepted; false if shutdown came first.
async fn deliver(
    client: &reqwest::Client,
    config: &WebhooksConfig,
    url: &str,
    item: &OutboxItem,
    shutdown: &CancellationToken,
) -> bool {
    let signature = format!(
        "sha256={}",
        sign(config.secret.expose().as_bytes(), item.body.as_bytes())
    );
    let mut delays = Backoff::doubling(
        Duration::from_millis(config.initial_backoff_ms.max(10)),
        Duration::from_secs(config.max_backoff_secs.max(1)),
    )
    .delays();
    for attempt in 1u32.. {
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Idreview-Signature", &signature)
            .header("X-Idreview-Event", &item.event)
            .header("X-Idreview-Delivery", item.seq.to_string())
            .body(item.body.clone())
            .send()
            .await
            .map_err(DeliveryError::from)
            .and_then(|r| match r.status().is_success() {
                true => Ok(()),
                false => Err(DeliveryError::Status(r.status())),
            });
        match sent {
            Ok(()) => {
                info!(%url, seq = item.seq, card_id = %item.card_id, attempt, "webhook delivered");
                return true;
            }
            Err(e) => {
                let wait = delays.next().unwrap_or(Duration::from_secs(1));
                warn!(%url, seq = item.seq, attempt, retry_in_ms = wait.as_millis() as u64, error = %e, "webhook delivery failed");
                tokio::select! {
                    _ = shutdown.cancelled() => return false,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaau8; 131];
        assert_eq!(
            sign(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}

//! The webhook outbox: decision events waiting for delivery, written in the same transaction as
//! the decision (see [`Store::commit`]) and removed only once every receiver accepted them, so
//! delivery is at least once and survives restarts. Keys are audit sequence numbers, so the
//! outbox drains in decision order.

use std::sync::atomic::Ordering;

use idreview_protocol::{AuditEvent, Card, CardId};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One encoded outbox entry: the key (seq, big-endian) and the bincode [`OutboxItem`].
pub(super) type OutboxRow = ([u8; 8], Vec<u8>);

/// Audit actions that go out as webhooks.
pub const WEBHOOK_ACTIONS: &[&str] = &["card.approved", "card.rejected"];

/// One event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The audit event's sequence number: the delivery id and the order.
    pub seq: u64,
    /// The decided card.
    pub card_id: CardId,
    /// e.g. `card.approved`.
    pub event: String,
    /// The JSON body to POST.
    pub body: String,
}

/// The JSON body of a decision webhook.
#[derive(Serialize)]
struct Body<'a> {
    event: &'a str,
    seq: u64,
    card_id: u64,
    user_id: &'a str,
    status: idreview_protocol::Status,
    actor: &'a str,
    reason: Option<&'a str>,
    at: chrono::DateTime<chrono::Utc>,
}

/// The outbox row for `event` on `card`, if it is a webhook event.
pub(super) fn item_for(event: &AuditEvent, card: &Card) -> Option<OutboxItem> {
    if !WEBHOOK_ACTIONS.contains(&event.action.as_str()) {
        return None;
    }
    let body = serde_json::to_string(&Body {
        event: &event.action,
        seq: event.seq,
        card_id: card.id.0,
        user_id: &card.user_id,
        status: card.status,
        actor: &event.actor,
        reason: event.reason.as_deref(),
        at: event.at,
    })
    .ok()?;
    Some(OutboxItem {
        seq: event.seq,
        card_id: card.id,
        event: event.action.clone(),
        body,
    })
}

impl Store {
    /// Queue decision events for webhooks from now on (receivers are configured).
    pub fn enable_webhooks(&self) {
        self.inner.webhooks.store(true, Ordering::Relaxed);
    }

    /// The outbox rows for the webhook events among `events`, keyed by seq; none while
    /// webhooks are off.
    pub(super) fn outbox_rows(
        &self,
        cards: &[&Card],
        events: &[AuditEvent],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        if !self.inner.webhooks.load(Ordering::Relaxed) {
            return Ok(Vec::new());
        }
        let mut rows = Vec::new();
        for event in events {
            let card = cards.iter().find(|c| Some(c.id) == event.card_id);
            if let Some(item) = card.and_then(|card| item_for(event, card)) {
                rows.push((item.seq.to_be_bytes(), bincode::serialize(&item)?));
            }
        }
        Ok(rows)
    }

    /// Up to `limit` undelivered events, oldest first.
    pub fn outbox_peek(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.webhook_outbox.iter().take(limit) {
            let (_, bytes) = item?;
            out.push(bincode::deserialize(&bytes)?);
        }
        Ok(out)
    }

    /// How many events wait for delivery.
    pub fn outbox_len(&self) -> usize {
        self.inner.webhook_outbox.len()
    }

    /// Marks `seq` delivered.
    pub async fn outbox_remove(&self, seq: u64) -> Result<(), StoreError> {
        self.inner.webhook_outbox.remove(seq.to_be_bytes())?;
        self.flush().await
    }

    /// Wakes when an event is added to the outbox.
    pub async fn outbox_added(&self) {
        self.inner.webhook_added.notified().await;
    }
}

//! The webhook outbox: events waiting for delivery (a decision; a card's extraction finished),
//! written in the same transaction as the change (see [`Store::commit`]) and removed only once
//! every receiver accepted them, so delivery is at least once and survives restarts. Keys are
//! audit sequence numbers, so the outbox drains in the order of the changes. A card removed
//! with its trail scrubbed (an expiry, an erasure) takes its undelivered events with it, in the
//! removal's transaction: their bodies name the user.

use idreview_protocol::{AuditEvent, Card, CardId};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One encoded outbox entry: the key (seq, big-endian) and the bincode [`OutboxItem`].
pub(super) type OutboxRow = ([u8; 8], Vec<u8>);

/// An event that can go out as a webhook (`[webhooks] events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEvent {
    /// `card.approved`: a reviewer approved the card.
    Approved,
    /// `card.rejected`: a reviewer rejected the card.
    Rejected,
    /// `card.extracted`: the provider read the card's fields (first reading or a re-reading);
    /// the user may now confirm them.
    Extracted,
}

impl WebhookEvent {
    /// Every event, by its name in the config and in the body.
    pub const ALL: [WebhookEvent; 3] = [
        WebhookEvent::Approved,
        WebhookEvent::Rejected,
        WebhookEvent::Extracted,
    ];

    /// Its name in `[webhooks] events`, the body's `event` and `X-Idreview-Event`.
    pub fn name(self) -> &'static str {
        match self {
            WebhookEvent::Approved => "card.approved",
            WebhookEvent::Rejected => "card.rejected",
            WebhookEvent::Extracted => "card.extracted",
        }
    }

    /// The event named `name`.
    pub fn parse(name: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|e| e.name() == name.trim())
    }

    /// The event an audit action is, if any.
    fn of_action(action: &str) -> Option<WebhookEvent> {
        match action {
            "card.approved" => Some(WebhookEvent::Approved),
            "card.rejected" => Some(WebhookEvent::Rejected),
            "card.verified_by_provider" | "card.reverified_by_provider" => {
                Some(WebhookEvent::Extracted)
            }
            _ => None,
        }
    }
}

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

/// The JSON body of a webhook.
#[derive(Serialize)]
struct Body<'a> {
    event: &'a str,
    seq: u64,
    card_id: u64,
    user_id: &'a str,
    /// idreview's status.
    status: idreview_protocol::Status,
    /// The seed's status (`needs_review`, `completed`, ...), as the HTTP API answers it.
    seed_status: &'static str,
    /// The seed's onboarding stage of the card's user, had this card been their newest.
    stage: &'static str,
    actor: &'a str,
    reason: Option<&'a str>,
    at: chrono::DateTime<chrono::Utc>,
}

/// The outbox row for `event` on `card`, if it is one of the `enabled` webhook events.
pub(super) fn item_for(
    event: &AuditEvent,
    card: &Card,
    enabled: &[WebhookEvent],
) -> Option<OutboxItem> {
    let hook = WebhookEvent::of_action(&event.action).filter(|e| enabled.contains(e))?;
    let body = serde_json::to_string(&Body {
        event: hook.name(),
        seq: event.seq,
        card_id: card.id.0,
        user_id: &card.user_id,
        status: card.status,
        seed_status: crate::seed::view::status(card).as_str(),
        stage: crate::seed::view::stage(Some(card)),
        actor: &event.actor,
        reason: event.reason.as_deref(),
        at: event.at,
    })
    .ok()?;
    Some(OutboxItem {
        seq: event.seq,
        card_id: card.id,
        event: hook.name().to_string(),
        body,
    })
}

impl Store {
    /// Queue `events` for webhooks from now on (receivers are configured); the first call
    /// counts.
    pub fn enable_webhooks(&self, events: Vec<WebhookEvent>) {
        let _ = self.inner.webhooks.set(events);
    }

    /// The outbox rows for the webhook events among `events`, keyed by seq; none while
    /// webhooks are off.
    pub(super) fn outbox_rows(
        &self,
        cards: &[&Card],
        events: &[AuditEvent],
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let Some(enabled) = self.inner.webhooks.get() else {
            return Ok(Vec::new());
        };
        // By id, the first of each: a bulk change of 10,000 cards would scan them per event.
        let mut by_id = std::collections::HashMap::with_capacity(cards.len());
        for card in cards {
            by_id.entry(card.id).or_insert(*card);
        }
        let mut rows = Vec::new();
        for event in events {
            let card = event.card_id.and_then(|id| by_id.get(&id));
            if let Some(item) = card.and_then(|card| item_for(event, card, enabled)) {
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

    /// The keys of `card`'s undelivered events (a scan of the outbox, which holds only what is
    /// not yet delivered), for a removal that must not leave a body naming the card's user.
    pub(super) fn outbox_keys_of(&self, card: CardId) -> Result<Vec<sled::IVec>, StoreError> {
        let mut keys = Vec::new();
        for item in self.inner.webhook_outbox.iter() {
            let (key, bytes) = item?;
            let item: OutboxItem = bincode::deserialize(&bytes)?;
            if item.card_id == card {
                keys.push(key);
            }
        }
        Ok(keys)
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

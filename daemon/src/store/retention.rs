//! What retention and erasure need from the store (their rules are the card domain's, in
//! `crate::card`): removed cards' audit events scrubbed of personal data ([`scrub`], applied
//! by `Store::remove_card` with [`Trail::Scrub`]), and a user's submitter tokens revoked and
//! unbound with their events scrubbed ([`Store::erase_user_tokens`]).
//!
//! What the audit log keeps of a removed card: every event's seq, card id, time, action and
//! actor (the staff or service identity that acted, needed to account for the work; a submitter
//! token bound to an erased user is replaced by [`ERASED`]). It drops the before/after
//! snapshots (field values, assignees) and the free-text reasons. The tombstone (`card.expired`
//! or `card.erased`) holds the card id, the time, who removed it and why; no user id, no names.

use chrono::Utc;
use idreview_protocol::{AuditEvent, Card, CardId};

use super::tokens::TokenError;
use super::{Store, StoreError};

/// Stands in for an erased person's identity in the audit log.
pub const ERASED: &str = "[erased]";

/// A rewritten audit chunk: its key and encoded events, to write back.
pub(super) type AuditRow = super::audit_log::ChunkRow;

/// How a card removal treats the card's audit trail.
#[derive(Debug, Clone, Copy)]
pub enum Trail<'a> {
    /// Every event stays as it is; the removal event carries the card's last state.
    Keep,
    /// The removal event is a tombstone and earlier events are scrubbed; actors named here (the
    /// erased person's own identities) are replaced by [`ERASED`].
    Scrub(&'a [String]),
}

/// Removes the personal data of an event: the snapshots and the reason go, and an actor that
/// is one of `actors` becomes [`ERASED`]. Answers whether anything changed.
pub fn scrub(event: &mut AuditEvent, actors: &[String]) -> bool {
    let before = (event.before.take(), event.after.take(), event.reason.take());
    let mut changed = before != (None, None, None);
    if actors.contains(&event.actor) {
        event.actor = ERASED.to_string();
        changed = true;
    }
    changed
}

impl Store {
    /// The card's audit events, scrubbed, as chunks to write back (only those that changed),
    /// and how many events changed.
    pub(super) fn scrubbed_events(
        &self,
        card: CardId,
        actors: &[String],
    ) -> Result<(Vec<AuditRow>, u64), StoreError> {
        self.audit_edit_card(card, |event| scrub(event, actors))
    }

    /// Every card `keep` answers true for, in id order (a scan: for rare jobs such as
    /// retention and erasure, never for serving reads).
    pub fn cards_matching(
        &self,
        mut keep: impl FnMut(&Card) -> bool,
    ) -> Result<Vec<Card>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.cards.iter().values() {
            let card = super::record::card(&item?)?;
            if keep(&card) {
                out.push(card);
            }
        }
        Ok(out)
    }

    /// The identities of the submitter tokens bound to `user_id` (the person's own actors in
    /// the audit log).
    pub fn user_token_identities(&self, user_id: &str) -> Vec<String> {
        self.read_tokens()
            .values()
            .filter(|t| t.info.user_id.as_deref() == Some(user_id))
            .map(|t| t.info.identity())
            .collect()
    }

    /// Revokes and unbinds the submitter tokens bound to `user_id` (each audited as
    /// `token.erased` with `reason`) and scrubs the token events that name the user; answers
    /// how many tokens and events changed. Flushed before it answers.
    pub async fn erase_user_tokens(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(u64, u64), TokenError> {
        let bound: Vec<_> = self
            .read_tokens()
            .values()
            .filter(|t| t.info.user_id.as_deref() == Some(user_id))
            .cloned()
            .collect();
        let mut revoked = 0;
        let now = Utc::now();
        for mut stored in bound {
            let change = super::tokens::erase(&mut stored.info, now, reason);
            self.write_token(stored, actor, change).await?;
            revoked += 1;
        }
        let scrubbed = self.scrub_token_events(user_id)?;
        self.flush().await?;
        Ok((revoked, scrubbed))
    }

    /// Scrubs the token events (those without a card) whose snapshots name `user_id`.
    fn scrub_token_events(&self, user_id: &str) -> Result<u64, StoreError> {
        let i = &self.inner;
        let _writer = i.writer.lock().map_err(|_| StoreError::Poisoned)?;
        let names = |json: &Option<String>| {
            json.as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .is_some_and(|v| v.get("user_id").and_then(|u| u.as_str()) == Some(user_id))
        };
        // Token events belong to no card: find them in the whole log (erasure is rare).
        let mut seqs = Vec::new();
        let mut since = 0;
        loop {
            let events = self.audit_since(since, 4096)?;
            let Some(last) = events.last() else { break };
            since = last.seq;
            seqs.extend(
                events
                    .iter()
                    .filter(|e| e.card_id.is_none() && (names(&e.before) || names(&e.after)))
                    .map(|e| e.seq),
            );
        }
        let (rows, count) = self.audit_edit(&seqs, |event| scrub(event, &[]))?;
        let mut batch = sled::Batch::default();
        for (key, bytes) in rows {
            batch.insert(&key, bytes);
        }
        i.audit.apply_batch(batch)?;
        Ok(count)
    }
}

//! Retention and erasure: identity data is not kept forever. Decided cards past their keep time
//! ([`Store::purge_expired`]) and every card of one person on request ([`Store::erase_user`])
//! are removed through the same path as an admin deletion (`Store::delete_card`): the card goes,
//! its files are queued in the persistent cleanup queue, and one audit event is written, all in
//! one transaction. Unlike a deletion, that event is a tombstone and the card's earlier events
//! are scrubbed ([`scrub`]).
//!
//! What the audit log keeps of a removed card: every event's seq, card id, time, action and
//! actor (the staff or service identity that acted, needed to account for the work; a submitter
//! token bound to an erased user is replaced by [`ERASED`]). It drops the before/after
//! snapshots (field values, assignees) and the free-text reasons. The tombstone (`card.expired`
//! or `card.erased`) holds the card id, the time, who removed it and why; no user id, no names.

use chrono::{DateTime, Duration, Utc};
use idreview_protocol::{AuditEvent, CardId, CardRef, ErasureReport, ItemResult, Status};

use super::tokens::TokenError;
use super::{Change, Store, StoreError};

/// The actor of retention tombstones.
pub const RETENTION_ACTOR: &str = "retention";
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

/// How long decided cards (and their files) are kept after the decision, in days; 0 keeps them
/// forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    pub approved_days: u32,
    pub rejected_days: u32,
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

impl Keep {
    /// Why `card` is past its keep time at `now`, or `None` while it is kept.
    fn expired(
        &self,
        status: Status,
        decided: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let days = match status {
            Status::Approved => self.approved_days,
            Status::Rejected => self.rejected_days,
            _ => 0,
        };
        (days > 0 && decided + Duration::days(i64::from(days)) <= now).then(|| {
            format!(
                "retention: {status} on {}, kept {days} days ([retention] {status}_days)",
                decided.format("%Y-%m-%d")
            )
        })
    }
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

    /// Decided cards past their keep time at `now` (at their current version), with the
    /// reason their tombstone gives. The time that counts is the decision's.
    pub fn expired_cards(
        &self,
        keep: Keep,
        now: DateTime<Utc>,
    ) -> Result<Vec<(CardRef, String)>, StoreError> {
        if keep == Keep::default() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for item in self.inner.cards.iter().values() {
            let card = super::record::card(&item?)?;
            let decided = card.decision.as_ref().map_or(card.updated_at, |d| d.at);
            if let Some(why) = keep.expired(card.status, decided, now) {
                let at = CardRef {
                    id: card.id,
                    expected_version: Some(card.version),
                };
                out.push((at, why));
            }
        }
        Ok(out)
    }

    /// Removes every decided card past its keep time at `now`, leaving tombstones; answers how
    /// many went. A card changed meanwhile (a version conflict) waits for the next run.
    pub async fn purge_expired(&self, keep: Keep, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (at, why) in self.expired_cards(keep, now)? {
            let change = Change::new("card.expired").because(why);
            match self
                .remove_card(at, RETENTION_ACTOR, change, Trail::Scrub(&[]))
                .await
            {
                Ok(_) => removed += 1,
                Err(e) => tracing::warn!(card_id = %at.id, error = %e, "retention skipped a card"),
            }
        }
        Ok(removed)
    }

    /// Erases `user_id`'s data: every card of the user (files queued for removal, events
    /// scrubbed, a `card.erased` tombstone each), and the submitter tokens bound to the user
    /// (revoked, unbound, their audit events scrubbed). Cards still in the pipeline are refused
    /// in their result; erase again once they are out.
    pub async fn erase_user(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<ErasureReport, TokenError> {
        let bound: Vec<_> = self
            .read_tokens()
            .values()
            .filter(|t| t.info.user_id.as_deref() == Some(user_id))
            .cloned()
            .collect();
        let identities: Vec<String> = bound.iter().map(|t| t.info.identity()).collect();
        let mut ids = Vec::new();
        for item in self.inner.cards.iter().values() {
            let card = super::record::card(&item?)?;
            if card.user_id == user_id {
                ids.push(card.id);
            }
        }
        let mut report = ErasureReport {
            cards: Vec::new(),
            files_queued: 0,
            events_scrubbed: 0,
            tokens_revoked: 0,
        };
        for id in ids {
            let at = CardRef {
                id,
                expected_version: None,
            };
            let change = Change::new("card.erased").because(reason);
            let result = match self
                .remove_card(at, actor, change, Trail::Scrub(&identities))
                .await
            {
                Ok((card, scrubbed)) => {
                    report.files_queued += card.files.len() as u64;
                    report.events_scrubbed += scrubbed;
                    Ok(card.version)
                }
                Err(e) => Err(e),
            };
            report.cards.push(ItemResult { id, result });
        }
        let now = Utc::now();
        for mut stored in bound {
            stored.info.revoked_at.get_or_insert(now);
            stored.info.user_id = None;
            let change = Change::new("token.erased").because(reason);
            self.write_token(stored, actor, change).await?;
            report.tokens_revoked += 1;
        }
        report.events_scrubbed += self.scrub_token_events(user_id)?;
        self.flush().await?;
        Ok(report)
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

#[cfg(test)]
#[path = "retention_tests.rs"]
pub(super) mod tests;

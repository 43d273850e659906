//! A card's end: an admin's deletion, retention's expiry of decided (and auto-verified) cards
//! past their keep time,
//! and the erasure of everything one person submitted. All three go through one store removal:
//! the card goes, its files are queued in the persistent cleanup queue, and one audit event is
//! written, in one transaction. A deletion's event keeps the card's last state; an expiry's or
//! an erasure's is a tombstone, and the card's earlier events are scrubbed of personal data.
//! A card still in the pipeline is never removed (its files are being stored).

use chrono::{DateTime, Duration, Utc};
use idreview_protocol::{Card, CardId, CardRef, Status};

use super::{CardError, CardStore, Cards};
use crate::store::Change;
use crate::store::retention::Trail;
use crate::store::tokens::TokenError;

/// The actor of retention tombstones.
pub const RETENTION_ACTOR: &str = "retention";

/// How long decided cards (and their files) are kept after the decision, in days; 0 keeps them
/// forever. Auto-verified cards (the machine's acceptance, no reviewer's decision) count from
/// their last change, which is when they became auto-verified unless something touched them
/// since.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    pub approved_days: u32,
    pub rejected_days: u32,
    pub auto_verified_days: u32,
}

impl Keep {
    /// Why a card in `status`, decided at `decided`, is past its keep time at `now`; `None`
    /// while it is kept (and always for cards not decided).
    pub fn expired(
        &self,
        status: Status,
        decided: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let days = match status {
            Status::Approved => self.approved_days,
            Status::Rejected => self.rejected_days,
            Status::AutoVerified => self.auto_verified_days,
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

/// What an erasure did.
#[derive(Debug)]
pub struct Erasure {
    /// Each card of the user: its last version, or why it was not erased (still in the pipeline).
    pub cards: Vec<(CardId, Result<u64, CardError>)>,
    /// Stored objects queued for removal.
    pub files_queued: u64,
    /// Audit events scrubbed of personal data.
    pub events_scrubbed: u64,
    /// Submitter tokens of the user revoked.
    pub tokens_revoked: u64,
}

impl<S: CardStore> Cards<S> {
    /// An admin deletes a card (audited with the reason); its files are queued for removal.
    pub async fn delete(&self, actor: &str, at: CardRef, reason: &str) -> Result<Card, CardError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CardError::Invalid("a deletion needs a reason".into()));
        }
        let change = Change::new("card.deleted").because(reason);
        let (card, _) = self
            .store
            .remove(
                at,
                actor,
                |card| removable(card, "deleted").map(|()| change),
                Trail::Keep,
            )
            .await?;
        Ok(card)
    }

    /// Removes every decided or auto-verified card past its keep time at `now`, leaving tombstones; answers how
    /// many went. A card changed meanwhile (a version conflict) waits for the next run.
    pub async fn expire(&self, keep: Keep, now: DateTime<Utc>) -> Result<u64, CardError> {
        if keep == Keep::default() {
            return Ok(0);
        }
        let decided = |card: &Card| card.decision.as_ref().map_or(card.updated_at, |d| d.at);
        let expired = self
            .store
            .cards_matching(|c| keep.expired(c.status, decided(c), now).is_some())
            .await?;
        let mut removed = 0;
        for card in expired {
            let Some(why) = keep.expired(card.status, decided(&card), now) else {
                continue;
            };
            let at = CardRef {
                id: card.id,
                expected_version: Some(card.version),
            };
            let change = Change::new("card.expired").because(why);
            let removal = self.store.remove(
                at,
                RETENTION_ACTOR,
                |c| removable(c, "expired").map(|()| change),
                Trail::Scrub(&[]),
            );
            match removal.await {
                Ok(_) => removed += 1,
                Err(e) => tracing::warn!(card_id = %at.id, error = %e, "retention skipped a card"),
            }
        }
        Ok(removed)
    }

    /// Erases `user_id`'s data (the right to erasure): every card of the user (files queued for
    /// removal, events scrubbed, a `card.erased` tombstone each), and the submitter tokens bound
    /// to the user (revoked, unbound, their audit events scrubbed). Cards still in the pipeline
    /// are refused in their result; erase again once they are out. A dry run answers what
    /// would go (cards, files, tokens; events are counted only when they are scrubbed) and
    /// changes nothing.
    pub async fn erase(
        &self,
        actor: &str,
        user_id: &str,
        reason: &str,
        dry_run: bool,
    ) -> Result<Erasure, CardError> {
        let (user_id, reason) = (user_id.trim(), reason.trim());
        if user_id.is_empty() || reason.is_empty() {
            return Err(CardError::Invalid(
                "an erasure needs a user id and a reason".into(),
            ));
        }
        // The person's own identities in the log, taken before their tokens are unbound.
        let identities = self.store.user_token_identities(user_id).await?;
        let cards = self.store.cards_matching(|c| c.user_id == user_id).await?;
        let mut report = Erasure {
            cards: Vec::new(),
            files_queued: 0,
            events_scrubbed: 0,
            tokens_revoked: 0,
        };
        if dry_run {
            // What an erasure would take, changing nothing.
            for card in cards {
                report.files_queued += card.files.len() as u64;
                let result = removable(&card, "erased").map(|()| card.version);
                report.cards.push((card.id, result));
            }
            report.tokens_revoked = identities.len() as u64;
            return Ok(report);
        }
        for card in cards {
            let at = CardRef {
                id: card.id,
                expected_version: None,
            };
            let change = Change::new("card.erased").because(reason);
            let removal = self.store.remove(
                at,
                actor,
                |c| removable(c, "erased").map(|()| change),
                Trail::Scrub(&identities),
            );
            let result = match removal.await {
                Ok((card, scrubbed)) => {
                    report.files_queued += card.files.len() as u64;
                    report.events_scrubbed += scrubbed;
                    Ok(card.version)
                }
                Err(e) => Err(e),
            };
            report.cards.push((card.id, result));
        }
        let (revoked, scrubbed) = self
            .store
            .erase_user_tokens(user_id, actor, reason)
            .await
            .map_err(|e| match e {
                TokenError::Store(e) => CardError::Store(e),
                other => CardError::Invalid(other.to_string()),
            })?;
        report.tokens_revoked = revoked;
        report.events_scrubbed += scrubbed;
        Ok(report)
    }
}

/// Refuses to remove a card still in the pipeline (its files are being stored).
fn removable(card: &Card, how: &str) -> Result<(), CardError> {
    match card.status {
        Status::Received | Status::Uploading | Status::Verifying => {
            Err(CardError::IllegalTransition {
                from: card.status,
                action: format!("{how} while it is being ingested"),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! How a change is written: its audit event, then one sled transaction holding the cards (with
//! their event seqs), the audit chunk, the user index and the deferred work, then the in-memory
//! index and the change feed. Callers hold the store's writer lock.

use chrono::Utc;
use idreview_protocol::{AuditEvent, Card, CardId};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::change::snapshot;
use super::outbox::OutboxOp;
use super::{Change, Store, StoreError, audit_log, record};

impl Store {
    pub(super) fn event(
        &self,
        card_id: Option<CardId>,
        actor: &str,
        change: Change,
        before: Option<&Card>,
        after: Option<&Card>,
    ) -> Result<AuditEvent, StoreError> {
        let (before, after) = match change.detail {
            Some((b, a)) => (Some(b), Some(a)),
            None => (before.map(snapshot), after.map(snapshot)),
        };
        Ok(AuditEvent {
            // From 1, so that "events after 0" is the whole log.
            seq: self.inner.db.generate_id()? + 1,
            card_id,
            at: Utc::now(),
            actor: actor.to_string(),
            action: change.action,
            reason: change.reason,
            before,
            after,
        })
    }

    /// Writes cards, their audit events and (for new cards) the user index in one transaction,
    /// then updates the in-memory index and tells change-feed readers. Callers hold the writer
    /// lock.
    pub(super) fn commit(
        &self,
        cards: &[&Card],
        events: &[AuditEvent],
        users: &[(&str, CardId)],
        outbox: &[OutboxOp],
    ) -> Result<(), StoreError> {
        let outbox_rows = outbox
            .iter()
            .map(OutboxOp::row)
            .collect::<Result<Vec<_>, _>>()?;
        let audit_batch = audit_log::Batch::encode(events)?;
        let card_rows: Vec<([u8; 8], Vec<u8>, &[u8])> = cards
            .iter()
            .map(|c| {
                let key = c.id.0.to_be_bytes();
                let new_seqs = audit_batch.as_ref().map_or(&[][..], |b| b.seqs_of(&key));
                Ok((key, bincode::serialize(c)?, new_seqs))
            })
            .collect::<Result<_, bincode::Error>>()?;
        let webhook_rows = self.outbox_rows(cards, events)?;
        let i = &self.inner;
        let trees = (&i.cards, &i.users, &i.audit, &i.outbox, &i.webhook_outbox);
        trees
            .transaction(|(cards, user_tree, audit, jobs, webhook_outbox)| {
                for (key, card, new_seqs) in &card_rows {
                    let old = cards.get(key)?;
                    let history = match &old {
                        Some(old) => record::history(old).map_err(abort)?,
                        None => &[],
                    };
                    cards.insert(key, record::encode(card, &[history, new_seqs]))?;
                }
                if let Some(batch) = &audit_batch {
                    batch.write(audit)?;
                }
                for (user, id) in users {
                    user_tree.insert(user.as_bytes(), &id.0.to_be_bytes())?;
                }
                for (key, job) in &outbox_rows {
                    match job {
                        Some(bytes) => jobs.insert(key, bytes.as_slice())?,
                        None => jobs.remove(key)?,
                    };
                }
                for (seq, bytes) in &webhook_rows {
                    webhook_outbox.insert(seq, bytes.as_slice())?;
                }
                Ok(())
            })
            .map_err(untx)?;
        let mut index = i.index.write().unwrap_or_else(|p| p.into_inner());
        for card in cards {
            index.upsert(card);
        }
        i.changed.send_replace(index.cursor());
        if !webhook_rows.is_empty() {
            i.webhook_added.notify_one();
        }
        Ok(())
    }
}

/// A store error that ends a transaction.
pub(super) fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

/// The store error behind a failed transaction.
pub(super) fn untx(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(e) => e,
    }
}

//! Card removal and the persistent object cleanup queue. Removing a card (a deletion, an
//! expiry, an erasure: the rules are the card domain's) takes it out, writes its audit event
//! and queues one cleanup job per stored object, all in one transaction; the cleanup worker
//! (`crate::cleanup`) drains the queue, so an object store outage delays the cleanup and a
//! restart resumes it, but nothing is forgotten.

use chrono::{DateTime, Utc};
use idreview_protocol::{Card, CardId, CardRef};
use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::audit_log::Batch;
use super::duplicates::Entries;
use super::retention::Trail;
use super::{Change, Refused, Store, StoreError, abort, be_u64, record, untx};

/// One object still to be removed from the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupJob {
    pub key: String,
    /// The deleted card that owned the object.
    pub card: CardId,
    pub queued_at: DateTime<Utc>,
}

impl Store {
    /// Removes a card: the card, its user index entry and its duplicates entries go, the audit
    /// event `check` answers and a cleanup job per file are written, in one transaction under
    /// the writer lock, then flushed. `check` sees the card as it is (its version already
    /// matched `at`) and may refuse. With [`Trail::Scrub`] the removal event is a tombstone, the
    /// card's earlier events lose their personal data (see `retention::scrub`) and its
    /// undelivered webhooks are dropped. Answers the removed card and
    /// how many events were scrubbed.
    pub async fn remove_card<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> Result<(Card, u64), E> {
        let removed = {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            self.start_events()?;
            let card = self.get(at.id)?.ok_or(Refused::NotFound(at.id))?;
            if let Some(expected) = at.expected_version
                && expected != card.version
            {
                return Err(Refused::Conflict {
                    id: at.id,
                    expected,
                    actual: card.version,
                }
                .into());
            }
            let change = check(&card)?;
            let last_state = matches!(trail, Trail::Keep).then_some(&card);
            let event = self.event(Some(card.id), actor, change, last_state, None)?;
            let (scrubbed, scrub_count) = match trail {
                Trail::Keep => (Vec::new(), 0),
                Trail::Scrub(actors) => self.scrubbed_events(card.id, actors)?,
            };
            // Undelivered webhooks name the user: a scrubbed removal drops them (the writer
            // lock keeps new ones for this card out until the transaction is done).
            let hooks = match trail {
                Trail::Keep => Vec::new(),
                Trail::Scrub(_) => self.outbox_keys_of(card.id)?,
            };
            let batch = Batch::encode(std::slice::from_ref(&event))?;
            let now = Utc::now();
            let mut jobs = Vec::with_capacity(card.files.len());
            for file in &card.files {
                let job = CleanupJob {
                    key: file.object_key.clone(),
                    card: card.id,
                    queued_at: now,
                };
                let seq = self.inner.db.generate_id().map_err(StoreError::from)?;
                jobs.push((
                    seq.to_be_bytes(),
                    bincode::serialize(&job).map_err(StoreError::from)?,
                ));
            }
            let id = card.id.0.to_be_bytes();
            let user = card.user_id.as_bytes();
            let i = &self.inner;
            let seq = event.seq.to_be_bytes();
            let entries = Entries::of(Some(&card));
            let none = Entries::of(None);
            let trees = (
                &i.cards,
                &i.users,
                &i.audit,
                &i.graves,
                &i.cleanup,
                &i.duplicates,
                &i.webhook_outbox,
            );
            trees
                .transaction(
                    |(cards, users, audit, graves, cleanup, duplicates, outbox)| {
                        // Its files and number stop counting as seen: a purge for an erasure.
                        none.replace(&entries, duplicates)?;
                        // The card's history stays findable by its id, in its grave.
                        let history = match cards.remove(&id)? {
                            Some(old) => record::history(&old).map_err(abort)?.to_vec(),
                            None => Vec::new(),
                        };
                        graves.insert(&id, [history.as_slice(), &seq].concat())?;
                        if users.get(user)?.is_some_and(|v| v.as_ref() == id) {
                            users.remove(user)?;
                        }
                        for (key, bytes) in &scrubbed {
                            audit.insert(key, bytes.as_slice())?;
                        }
                        if let Some(batch) = &batch {
                            batch.write(audit)?;
                        }
                        for (seq, job) in &jobs {
                            cleanup.insert(seq, job.as_slice())?;
                        }
                        for key in &hooks {
                            outbox.remove(key)?;
                        }
                        Ok(())
                    },
                )
                .map_err(untx)?;
            let mut index = i.index.write().unwrap_or_else(|p| p.into_inner());
            index.remove(card.id);
            i.changed.send_replace(index.cursor());
            (card, scrub_count)
        };
        self.flush().await?;
        self.inner.cleanup_wake.notify_one();
        Ok(removed)
    }

    /// Up to `limit` queued cleanup jobs, oldest first, with their queue positions.
    pub fn cleanup_pending(&self, limit: usize) -> Result<Vec<(u64, CleanupJob)>, StoreError> {
        self.inner
            .cleanup
            .iter()
            .take(limit)
            .map(|item| {
                let (seq, bytes) = item?;
                Ok((be_u64(&seq), bincode::deserialize(&bytes)?))
            })
            .collect()
    }

    /// Removes a finished job from the queue (durable at the next flush).
    pub fn cleanup_done(&self, seq: u64) -> Result<(), StoreError> {
        self.inner.cleanup.remove(seq.to_be_bytes())?;
        Ok(())
    }

    /// How many cleanup jobs are queued.
    pub fn cleanup_len(&self) -> usize {
        self.inner.cleanup.len()
    }

    /// Resolves when cleanup jobs were queued since the worker last looked.
    pub async fn cleanup_queued(&self) {
        self.inner.cleanup_wake.notified().await;
    }
}

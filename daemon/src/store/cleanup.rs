//! Card deletion and the persistent object cleanup queue. Deleting a card removes it, writes
//! its audit event and queues one cleanup job per stored object, all in one transaction; the
//! cleanup worker (`crate::cleanup`) drains the queue, so an object store outage delays the
//! cleanup and a restart resumes it, but nothing is forgotten.

use chrono::{DateTime, Utc};
use idreview_protocol::{Card, CardId, CardRef, RpcError, Status};
use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::audit_log::Batch;
use super::retention::Trail;
use super::{Change, Store, StoreError, abort, be_u64, record, untx};

/// One object still to be removed from the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupJob {
    pub key: String,
    /// The deleted card that owned the object.
    pub card: CardId,
    pub queued_at: DateTime<Utc>,
}

impl Store {
    /// Deletes a card: the card and its user index entry go, a `card.deleted` audit event and a
    /// cleanup job per file are written, in one transaction. Cards still in the pipeline are
    /// refused (their files are being stored).
    pub async fn delete_card(
        &self,
        at: CardRef,
        actor: &str,
        reason: &str,
    ) -> Result<Card, RpcError> {
        let change = Change::new("card.deleted").because(reason);
        let (card, _) = self.remove_card(at, actor, change, Trail::Keep).await?;
        Ok(card)
    }

    /// Removes a card as [`Store::delete_card`] describes, auditing it as `change`; with
    /// [`Trail::Scrub`] the removal event is a tombstone and the card's earlier events lose
    /// their personal data (see `retention::scrub`). Answers the removed card and how many events were
    /// scrubbed.
    pub(super) async fn remove_card(
        &self,
        at: CardRef,
        actor: &str,
        change: Change,
        trail: Trail<'_>,
    ) -> Result<(Card, u64), RpcError> {
        let removed = {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            let card = self.get(at.id)?.ok_or(RpcError::NotFound(at.id))?;
            if let Some(expected) = at.expected_version
                && expected != card.version
            {
                return Err(RpcError::Conflict {
                    id: at.id,
                    expected,
                    actual: card.version,
                });
            }
            if matches!(
                card.status,
                Status::Received | Status::Uploading | Status::Verifying
            ) {
                return Err(RpcError::IllegalTransition {
                    from: card.status,
                    action: "deleted while it is being ingested".into(),
                });
            }
            let last_state = matches!(trail, Trail::Keep).then_some(&card);
            let event = self.event(Some(card.id), actor, change, last_state, None)?;
            let (scrubbed, scrub_count) = match trail {
                Trail::Keep => (Vec::new(), 0),
                Trail::Scrub(actors) => self.scrubbed_events(card.id, actors)?,
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
            (&i.cards, &i.users, &i.audit, &i.graves, &i.cleanup)
                .transaction(|(cards, users, audit, graves, cleanup)| {
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
                    Ok(())
                })
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

#[cfg(test)]
mod tests {
    use super::*;
    use idreview_protocol::{DocumentType, FileMeta, FileRole};

    fn card(id: u64, status: Status) -> Card {
        let now = Utc::now();
        Card {
            id: CardId(id),
            user_id: format!("u{id}"),
            document_type: DocumentType::Passport,
            country: None,
            status,
            verified: false,
            confirmed: false,
            fields: Vec::new(),
            files: vec![FileMeta {
                role: FileRole::Front,
                name: "front.jpg".into(),
                object_key: format!("users/u{id}/id-card/{id}/front.jpg"),
                sha256: "00".into(),
                size: 1,
                media_type: "image/jpeg".into(),
                dimensions: None,
                etag: None,
            }],
            findings: Vec::new(),
            provider: None,
            decision: None,
            assignee: None,
            lease_until: None,
            version: 1,
            source: "s".into(),
            created_at: now,
            updated_at: now,
        }
    }

    #[tokio::test]
    async fn deleting_queues_cleanup_that_survives_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path(), 0.8).expect("open");
            store
                .create(card(5, Status::NeedsReview), "t")
                .await
                .expect("create");
            store
                .create(card(6, Status::Uploading), "t")
                .await
                .expect("create");
            let busy = CardRef {
                id: CardId(6),
                expected_version: None,
            };
            assert!(matches!(
                store.delete_card(busy, "admin", "gdpr").await,
                Err(RpcError::IllegalTransition { .. })
            ));
            let at = CardRef {
                id: CardId(5),
                expected_version: Some(1),
            };
            store
                .delete_card(at, "admin", "gdpr")
                .await
                .expect("delete");
            assert!(store.get(CardId(5)).expect("get").is_none());
            assert!(store.card_for_user("u5").expect("user").is_none());
            assert_eq!(store.card_count(), 1);
            let audit = store.audit_for(CardId(5)).expect("audit");
            let last = audit.last().expect("an event");
            assert_eq!(last.action, "card.deleted");
            assert_eq!(last.reason.as_deref(), Some("gdpr"));
        }
        let store = crate::store::reopen(dir.path());
        let pending = store.cleanup_pending(10).expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].1.key, "users/u5/id-card/5/front.jpg");
        store.cleanup_done(pending[0].0).expect("done");
        store.flush().await.expect("flush");
        assert_eq!(store.cleanup_len(), 0);
    }
}

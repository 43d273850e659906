//! The store: the only owner of persistence. Cards, the user -> card index and the audit log
//! live in sled; every change and its audit event are written in one transaction, and the
//! in-memory [`index::Index`] that serves listing is updated in the same code path.

mod audit_log;
pub mod index;
pub mod outbox;
pub mod tokens;

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use chrono::Utc;
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, CardSummary, ItemResult, ListQuery, RpcError,
    Status,
};
use serde::Serialize;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use index::Index;

/// What went wrong inside the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store I/O: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored record does not decode: {0}")]
    Codec(#[from] bincode::Error),
    #[error("user {user} already has an active card ({card}); reject it before submitting again")]
    ActiveCard { user: String, card: CardId },
    #[error("the store's write lock was poisoned by a panic")]
    Poisoned,
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ActiveCard { .. } => RpcError::Invalid(e.to_string()),
            other => RpcError::Internal(other.to_string()),
        }
    }
}

/// What a change did, for its audit event.
#[derive(Debug, Clone)]
pub struct Change {
    /// e.g. `card.approved`, `field.corrected`.
    pub action: String,
    pub reason: Option<String>,
    /// Before/after JSON for changes the status snapshot does not show (e.g. field values).
    pub detail: Option<(String, String)>,
}

impl Change {
    pub fn new(action: impl Into<String>) -> Change {
        Change {
            action: action.into(),
            reason: None,
            detail: None,
        }
    }

    pub fn because(mut self, reason: impl Into<String>) -> Change {
        self.reason = Some(reason.into());
        self
    }
}

/// Key in `meta` of the last card id handed out.
const NEXT_CARD_ID: &[u8] = b"next_card_id";

/// A cheap handle to the store; clone it freely.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    /// card id (u64 BE) -> bincode `Card`
    cards: sled::Tree,
    /// user id -> card id (u64 BE) of the user's newest card
    users: sled::Tree,
    /// seq (u64 BE) -> bincode `AuditEvent`
    audit: sled::Tree,
    /// card id (u64 BE) ++ seq (u64 BE) -> ()
    audit_by_card: sled::Tree,
    /// Counters and other single values, e.g. [`NEXT_CARD_ID`].
    meta: sled::Tree,
    /// Bearer tokens, in sled and in memory.
    tokens: tokens::TokenTable,
    /// audit seq (u64 BE) -> bincode [`outbox::OutboxItem`]: webhooks not yet delivered.
    outbox: sled::Tree,
    /// Whether decisions are queued for webhooks at all (only when receivers are configured).
    webhooks: std::sync::atomic::AtomicBool,
    /// Wakes the webhook worker when the outbox grows.
    outbox_added: tokio::sync::Notify,
    /// Summaries serving every read that is not "one whole card".
    index: RwLock<Index>,
    /// Serialises writers so that version checks, transactions and index updates happen in
    /// one order; readers never take it.
    writer: Mutex<()>,
}

impl Store {
    /// Opens (or creates) the store at `path` and rebuilds the index from every card.
    pub fn open(path: &Path, threshold: f32) -> Result<Store, StoreError> {
        let db = sled::Config::new().path(path).open()?;
        let cards = db.open_tree("cards")?;
        let mut index = Index::new(threshold);
        for item in cards.iter() {
            let (_, bytes) = item?;
            index.upsert(&bincode::deserialize::<Card>(&bytes)?);
        }
        let inner = Inner {
            users: db.open_tree("users")?,
            audit: db.open_tree("audit")?,
            audit_by_card: db.open_tree("audit_by_card")?,
            meta: db.open_tree("meta")?,
            tokens: tokens::TokenTable::open(&db)?,
            outbox: db.open_tree("webhook_outbox")?,
            webhooks: std::sync::atomic::AtomicBool::new(false),
            outbox_added: tokio::sync::Notify::new(),
            cards,
            db,
            index: RwLock::new(index),
            writer: Mutex::new(()),
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// A fresh card id, larger than every id handed out before (also across restarts).
    pub fn next_id(&self) -> Result<CardId, StoreError> {
        // A counter of its own (not `generate_id`, which audit events share) keeps card ids
        // consecutive: 1, 2, 3...
        let next = self.inner.meta.update_and_fetch(NEXT_CARD_ID, |old| {
            let n = old.map_or(0, be_u64) + 1;
            Some(n.to_be_bytes().to_vec())
        })?;
        Ok(CardId(next.as_deref().map_or(1, be_u64)))
    }

    /// Stores a new card, refusing a second active card for the same user.
    pub async fn create(&self, card: Card, actor: &str) -> Result<Card, StoreError> {
        {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            if let Some(existing) = self.card_for_user(&card.user_id)?
                && existing.status != Status::Rejected
            {
                return Err(StoreError::ActiveCard {
                    user: card.user_id.clone(),
                    card: existing.id,
                });
            }
            let event = self.event(
                Some(card.id),
                actor,
                Change::new("card.created"),
                None,
                Some(&card),
            )?;
            self.commit(&[&card], &[event], Some((&card.user_id, card.id)))?;
        }
        self.flush().await?;
        Ok(card)
    }

    /// Applies `change` to each named card whose version matches, all in one transaction and
    /// one flush; each card gets its own result. `change` sees a copy and returns what to audit.
    pub async fn update_many(
        &self,
        refs: &[CardRef],
        actor: &str,
        mut change: impl FnMut(&mut Card) -> Result<Change, RpcError>,
    ) -> Result<Vec<(ItemResult, Option<Card>)>, StoreError> {
        let results = {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            let mut results = Vec::with_capacity(refs.len());
            let mut changed = Vec::new();
            let mut events = Vec::new();
            for r in refs {
                let outcome = match self.get(r.id)? {
                    None => Err(RpcError::NotFound(r.id)),
                    Some(card) => match r.expected_version {
                        Some(expected) if expected != card.version => Err(RpcError::Conflict {
                            id: r.id,
                            expected,
                            actual: card.version,
                        }),
                        // A card named twice in one call: the second sees the first's change.
                        _ if changed.iter().any(|c: &Card| c.id == r.id) => {
                            Err(RpcError::Invalid(format!("card {} is named twice", r.id)))
                        }
                        _ => {
                            let mut next = card.clone();
                            change(&mut next).map(|what| {
                                next.version = card.version + 1;
                                next.updated_at = Utc::now();
                                (card, next, what)
                            })
                        }
                    },
                };
                match outcome {
                    Ok((before, after, what)) => {
                        events.push(self.event(
                            Some(after.id),
                            actor,
                            what,
                            Some(&before),
                            Some(&after),
                        )?);
                        results.push(ItemResult {
                            id: r.id,
                            result: Ok(after.version),
                        });
                        changed.push(after);
                    }
                    Err(e) => results.push(ItemResult {
                        id: r.id,
                        result: Err(e),
                    }),
                }
            }
            let refs: Vec<&Card> = changed.iter().collect();
            self.commit(&refs, &events, None)?;
            let mut changed = changed.into_iter();
            results
                .into_iter()
                .map(|r| {
                    let card = r.result.is_ok().then(|| changed.next()).flatten();
                    (r, card)
                })
                .collect::<Vec<_>>()
        };
        self.flush().await?;
        Ok(results)
    }

    /// [`Store::update_many`] for one card, answering with the changed card.
    pub async fn update(
        &self,
        card: CardRef,
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, RpcError>,
    ) -> Result<Card, RpcError> {
        let mut results = self.update_many(&[card], actor, change).await?;
        match results.pop() {
            Some((ItemResult { result: Ok(_), .. }, Some(card))) => Ok(card),
            Some((ItemResult { result: Err(e), .. }, _)) => Err(e),
            _ => Err(RpcError::Internal("update produced no result".into())),
        }
    }

    /// The whole card.
    pub fn get(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        match self.inner.cards.get(id.0.to_be_bytes())? {
            Some(bytes) => Ok(Some(bincode::deserialize(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The user's newest card, active or rejected.
    pub fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        match self.inner.users.get(user_id.as_bytes())? {
            Some(id) => self.get(CardId(be_u64(&id))),
            None => Ok(None),
        }
    }

    /// One page of summaries; see [`Index::list`].
    pub fn list(&self, query: &ListQuery, caller: &str) -> CardPage {
        self.read_index(|i| i.list(query, caller))
    }

    pub fn summary(&self, id: CardId) -> Option<CardSummary> {
        self.read_index(|i| i.summary(id).cloned())
    }

    pub fn counts_by_status(&self) -> Vec<(Status, u64)> {
        self.read_index(Index::counts_by_status)
    }

    pub fn card_count(&self) -> u64 {
        self.read_index(Index::len) as u64
    }

    /// The card's audit events, oldest first.
    pub fn audit_for(&self, id: CardId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.audit_by_card.scan_prefix(id.0.to_be_bytes()) {
            let (key, _) = item?;
            if let Some(bytes) = self.inner.audit.get(&key[8..])? {
                out.push(bincode::deserialize(&bytes)?);
            }
        }
        Ok(out)
    }

    /// Makes everything written so far durable. A blocking flush on the blocking pool: sled
    /// 0.34's `flush_async` can leave concurrent callers waiting forever (sled issue 1241).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Sled(sled::Error::ReportableBug(e.to_string())))??;
        Ok(())
    }

    fn read_index<T>(&self, f: impl FnOnce(&Index) -> T) -> T {
        // A panic while holding the lock leaves a consistent index (upsert is one insert).
        let guard = self.inner.index.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    fn event(
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
    /// then updates the in-memory index. Callers hold the writer lock.
    fn commit(
        &self,
        cards: &[&Card],
        events: &[AuditEvent],
        user: Option<(&str, CardId)>,
    ) -> Result<(), StoreError> {
        let card_rows: Vec<([u8; 8], Vec<u8>)> = cards
            .iter()
            .map(|c| Ok((c.id.0.to_be_bytes(), bincode::serialize(c)?)))
            .collect::<Result<_, bincode::Error>>()?;
        let event_rows: Vec<([u8; 8], Vec<u8>, Vec<u8>)> = events
            .iter()
            .map(|e| {
                let by_card = [
                    e.card_id.map_or(0, |c| c.0).to_be_bytes(),
                    e.seq.to_be_bytes(),
                ]
                .concat();
                Ok((e.seq.to_be_bytes(), bincode::serialize(e)?, by_card))
            })
            .collect::<Result<_, bincode::Error>>()?;
        let outbox_rows = self.outbox_rows(cards, events)?;
        let i = &self.inner;
        (&i.cards, &i.users, &i.audit, &i.audit_by_card, &i.outbox)
            .transaction(|(cards, users, audit, audit_by_card, outbox)| {
                for (key, bytes) in &card_rows {
                    cards.insert(key, bytes.as_slice())?;
                }
                for (seq, bytes, by_card) in &event_rows {
                    audit.insert(seq, bytes.as_slice())?;
                    audit_by_card.insert(by_card.as_slice(), &[])?;
                }
                if let Some((user, id)) = user {
                    users.insert(user.as_bytes(), &id.0.to_be_bytes())?;
                }
                for (seq, bytes) in &outbox_rows {
                    outbox.insert(seq, bytes.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => StoreError::Sled(e),
                TransactionError::Abort(()) => {
                    StoreError::Sled(sled::Error::ReportableBug("aborted".into()))
                }
            })?;
        let mut index = i.index.write().unwrap_or_else(|p| p.into_inner());
        for card in cards {
            index.upsert(card);
        }
        if !outbox_rows.is_empty() {
            i.outbox_added.notify_one();
        }
        Ok(())
    }
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(buf)
}

/// The reviewable state of a card, as JSON, for an audit event's before/after.
fn snapshot(card: &Card) -> String {
    #[derive(Serialize)]
    struct Snapshot<'a> {
        status: Status,
        verified: bool,
        confirmed: bool,
        assignee: &'a Option<String>,
        version: u64,
    }
    serde_json::to_string(&Snapshot {
        status: card.status,
        verified: card.verified,
        confirmed: card.confirmed,
        assignee: &card.assignee,
        version: card.version,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::tests::card;
    use idreview_protocol::CardRef;

    fn new_card(store: &Store, user: &str) -> Card {
        let mut c = card(Status::NeedsReview);
        c.id = store.next_id().expect("id");
        c.user_id = user.into();
        c
    }

    #[tokio::test]
    async fn ids_are_consecutive_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path(), 0.8).expect("open");
            let ids: Vec<u64> = (0..3).map(|_| store.next_id().expect("id").0).collect();
            assert_eq!(ids, vec![1, 2, 3]);
            store.flush().await.expect("flush");
        }
        let store = Store::open(dir.path(), 0.8).expect("reopen");
        assert_eq!(store.next_id().expect("id"), CardId(4));
    }

    #[tokio::test]
    async fn one_active_card_per_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("open");
        let first = store
            .create(new_card(&store, "u"), "t")
            .await
            .expect("first");
        let err = store
            .create(new_card(&store, "u"), "t")
            .await
            .expect_err("second refused");
        assert!(matches!(err, StoreError::ActiveCard { card, .. } if card == first.id));
        let at = CardRef {
            id: first.id,
            expected_version: Some(first.version),
        };
        store
            .update(at, "t", |c| {
                c.status = Status::Rejected;
                Ok(Change::new("card.rejected"))
            })
            .await
            .expect("reject");
        let again = store
            .create(new_card(&store, "u"), "t")
            .await
            .expect("allowed after rejection");
        assert_eq!(
            store.card_for_user("u").expect("read").map(|c| c.id),
            Some(again.id)
        );
    }

    #[tokio::test]
    async fn bulk_updates_answer_per_card_and_audit_each_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("open");
        let a = store.create(new_card(&store, "a"), "t").await.expect("a");
        let b = store.create(new_card(&store, "b"), "t").await.expect("b");
        let refs = [
            CardRef {
                id: a.id,
                expected_version: Some(a.version),
            },
            CardRef {
                id: b.id,
                expected_version: Some(b.version + 5),
            },
            CardRef {
                id: CardId(999),
                expected_version: None,
            },
            CardRef {
                id: a.id,
                expected_version: None,
            },
        ];
        let results = store
            .update_many(&refs, "reviewer", |c| {
                c.verified = true;
                Ok(Change::new("card.verified"))
            })
            .await
            .expect("bulk");
        assert_eq!(results[0].0.result, Ok(a.version + 1));
        assert!(matches!(
            results[1].0.result,
            Err(RpcError::Conflict { .. })
        ));
        assert!(matches!(results[2].0.result, Err(RpcError::NotFound(_))));
        assert!(
            matches!(results[3].0.result, Err(RpcError::Invalid(_))),
            "named twice"
        );
        assert!(store.get(a.id).expect("read").is_some_and(|c| c.verified));
        assert!(store.get(b.id).expect("read").is_some_and(|c| !c.verified));
        let events = store.audit_for(a.id).expect("audit");
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["card.created", "card.verified"]);
        assert_eq!(events[1].actor, "reviewer");
        assert!(
            store.audit_for(b.id).expect("audit").len() == 1,
            "no event for a refused change"
        );
        assert_eq!(
            store.summary(a.id).map(|s| s.verified),
            Some(true),
            "the index follows the write"
        );
    }
}

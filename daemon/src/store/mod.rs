//! The store: the only owner of persistence. Cards, the user -> card index and the audit log
//! live in sled; every change and its audit event are written in one transaction, and the
//! in-memory [`index::Index`] that serves listing is updated in the same code path.

mod change;
mod feed;
pub mod index;

pub use change::Change;
use change::snapshot;

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use chrono::Utc;
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, CardSummary, ItemResult, ListQuery, RpcError,
    Status,
};
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
    /// Summaries serving every read that is not "one whole card".
    index: RwLock<Index>,
    /// Serialises writers so that version checks, transactions and index updates happen in
    /// one order; readers never take it.
    writer: Mutex<()>,
    /// The change-feed cursor after every write, for long-polling readers of [`Store::changes`].
    changed: tokio::sync::watch::Sender<u64>,
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
            cards,
            db,
            changed: tokio::sync::watch::Sender::new(index.cursor()),
            index: RwLock::new(index),
            writer: Mutex::new(()),
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// A fresh card id, larger than every id handed out before (also across restarts).
    pub fn next_id(&self) -> Result<CardId, StoreError> {
        Ok(CardId(self.inner.db.generate_id()? + 1))
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
            self.commit(&[&card], &[event], &[(&card.user_id, card.id)])?;
        }
        self.inner.db.flush_async().await?;
        Ok(card)
    }

    /// Stores many new cards of distinct new users in one transaction and one flush, each with
    /// its `card.created` event; for bulk imports and benchmark fills, not for ingestion (it
    /// does not check for active cards).
    pub async fn create_many(&self, cards: &[Card], actor: &str) -> Result<(), StoreError> {
        {
            let _writer = self.inner.writer.lock().map_err(|_| StoreError::Poisoned)?;
            let events = cards
                .iter()
                .map(|c| {
                    self.event(
                        Some(c.id),
                        actor,
                        Change::new("card.created"),
                        None,
                        Some(c),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let users: Vec<(&str, CardId)> =
                cards.iter().map(|c| (c.user_id.as_str(), c.id)).collect();
            let refs: Vec<&Card> = cards.iter().collect();
            self.commit(&refs, &events, &users)?;
        }
        self.inner.db.flush_async().await?;
        Ok(())
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
            self.commit(&refs, &events, &[])?;
            let mut changed = changed.into_iter();
            results
                .into_iter()
                .map(|r| {
                    let card = r.result.is_ok().then(|| changed.next()).flatten();
                    (r, card)
                })
                .collect::<Vec<_>>()
        };
        self.inner.db.flush_async().await?;
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

    /// The card's summary as the list shows it.
    pub fn summary(&self, id: CardId) -> Option<CardSummary> {
        self.read_index(|i| i.summary(id))
    }

    /// Cards per status, in [`Status::ALL`] order.
    pub fn counts_by_status(&self) -> Vec<(Status, u64)> {
        self.read_index(Index::counts_by_status)
    }

    /// How many cards there are.
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

    /// Makes everything written so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush_async().await?;
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
            seq: self.inner.db.generate_id()?,
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
    fn commit(
        &self,
        cards: &[&Card],
        events: &[AuditEvent],
        users: &[(&str, CardId)],
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
        let i = &self.inner;
        (&i.cards, &i.users, &i.audit, &i.audit_by_card)
            .transaction(|(cards, user_tree, audit, audit_by_card)| {
                for (key, bytes) in &card_rows {
                    cards.insert(key, bytes.as_slice())?;
                }
                for (seq, bytes, by_card) in &event_rows {
                    audit.insert(seq, bytes.as_slice())?;
                    audit_by_card.insert(by_card.as_slice(), &[])?;
                }
                for (user, id) in users {
                    user_tree.insert(user.as_bytes(), &id.0.to_be_bytes())?;
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
        i.changed.send_replace(index.cursor());
        Ok(())
    }
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(buf)
}

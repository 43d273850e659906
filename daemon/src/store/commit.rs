//! How a change is written: its audit event, then one sled transaction holding the cards (with
//! their event seqs), the audit chunk, the user index, the duplicates index and the deferred
//! work, then the in-memory index and the change feed. Callers hold the store's writer lock.

use idreview_protocol::{AuditEvent, Card, CardId};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::duplicates::Entries;
use super::outbox::OutboxOp;
use super::{Change, Store, StoreError, audit_log, record};

/// A card to write, and what is known of its history.
pub(super) struct Write<'a> {
    card: &'a Card,
    /// The seqs of the card's earlier events and its duplicates entries as they were (`None`:
    /// the change left them as they were), when the caller read them under the writer lock;
    /// `None` reads them inside the transaction.
    history: Option<(&'a [u8], Option<&'a Entries>)>,
}

impl<'a> Write<'a> {
    /// A card whose earlier history the transaction looks up.
    pub(super) fn read(card: &'a Card) -> Write<'a> {
        Write {
            card,
            history: None,
        }
    }

    /// A card whose earlier history and duplicates entries (of the card as it was; `None` when
    /// the change left them as they were) the caller read while holding the writer lock.
    pub(super) fn known(
        card: &'a Card,
        history: &'a [u8],
        before: Option<&'a Entries>,
    ) -> Write<'a> {
        Write {
            card,
            history: Some((history, before)),
        }
    }
}

/// A card as the transaction writes it.
struct CardRow<'a> {
    key: [u8; 8],
    /// The card's whole record when its history is known (see [`Write`]); else the card
    /// alone, encoded as the store lays it out, its record made in the transaction.
    bytes: Encoded,
    /// The seqs of this commit's events about it.
    new_seqs: &'a [u8],
    /// Its entries in the duplicates index now, and before when known (else read inside the
    /// transaction); `None` when the change left them as they were.
    entries: Option<(Entries, Option<&'a Entries>)>,
}

impl Store {
    /// The seq of the next audit event: one after the last, gapless. Callers hold the writer
    /// lock and have called [`Store::start_events`].
    fn next_seq(&self) -> u64 {
        self.inner
            .audit_seq
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// Starts numbering a write's events after the last event the log holds, so that a write
    /// that failed before it committed leaves no gap. Callers hold the writer lock.
    pub(super) fn start_events(&self) -> Result<(), StoreError> {
        let last = self.audit_last_seq()?;
        self.set_last_seq(last);
        Ok(())
    }

    /// Numbers the next event `last + 1`.
    pub(super) fn set_last_seq(&self, last: u64) {
        self.inner
            .audit_seq
            .store(last, std::sync::atomic::Ordering::SeqCst);
    }

    pub(super) fn event(
        &self,
        card_id: Option<CardId>,
        actor: &str,
        change: Change,
        before: Option<&Card>,
        after: Option<&Card>,
    ) -> Result<AuditEvent, StoreError> {
        Ok(change.event(self.next_seq(), card_id, actor, before, after))
    }

    /// [`Store::event`] with the snapshot of the card before the change already taken (a
    /// change works on the card itself, not a copy).
    pub(super) fn event_after(
        &self,
        card_id: Option<CardId>,
        actor: &str,
        change: Change,
        before: Option<String>,
        after: Option<&Card>,
    ) -> Result<AuditEvent, StoreError> {
        Ok(change.event_after(self.next_seq(), card_id, actor, before, after))
    }

    /// Writes cards, their audit events and (for new cards) the user index in one transaction,
    /// then updates the in-memory index and tells change-feed readers. Callers hold the writer
    /// lock.
    pub(super) fn commit(
        &self,
        writes: &[Write],
        events: &[AuditEvent],
        users: &[(&str, CardId)],
        outbox: &[OutboxOp],
    ) -> Result<(), StoreError> {
        let outbox_rows = outbox
            .iter()
            .map(OutboxOp::row)
            .collect::<Result<Vec<_>, _>>()?;
        let audit_batch = audit_log::Batch::encode(events)?;
        let card_rows = writes
            .iter()
            .map(|w| {
                let key = w.card.id.0.to_be_bytes();
                let new_seqs = audit_batch.as_ref().map_or(&[][..], |b| b.seqs_of(&key));
                let (bytes, entries) = match w.history {
                    Some((history, before)) => (
                        Encoded::Record(record::encode_card(w.card, &[history, new_seqs])?),
                        before.map(|before| (Entries::of(Some(w.card)), Some(before))),
                    ),
                    None => (
                        Encoded::Card(super::stored::card::encode(w.card)?),
                        Some((Entries::of(Some(w.card)), None)),
                    ),
                };
                Ok(CardRow {
                    key,
                    bytes,
                    new_seqs,
                    entries,
                })
            })
            .collect::<Result<Vec<_>, bincode::Error>>()?;
        let cards: Vec<&Card> = writes.iter().map(|w| w.card).collect();
        let webhook_rows = self.outbox_rows(&cards, events)?;
        let i = &self.inner;
        let trees = (
            &i.cards,
            &i.users,
            &i.audit,
            &i.outbox,
            &i.webhook_outbox,
            &i.duplicates,
        );
        trees
            .transaction(
                |(cards, user_tree, audit, jobs, webhook_outbox, duplicates)| {
                    for row in &card_rows {
                        let card = match &row.bytes {
                            Encoded::Record(record) => {
                                if let Some((now, Some(before))) = &row.entries {
                                    now.replace(before, duplicates)?;
                                }
                                cards.insert(&row.key, record.as_slice())?;
                                continue;
                            }
                            Encoded::Card(card) => card,
                        };
                        let old = cards.get(row.key)?;
                        if let Some((now, _)) = &row.entries {
                            let before = match &old {
                                Some(old) => Entries::of(Some(&record::card(old).map_err(abort)?)),
                                None => Entries::of(None),
                            };
                            now.replace(&before, duplicates)?;
                        }
                        let history = match &old {
                            Some(old) => record::history(old).map_err(abort)?,
                            None => &[][..],
                        };
                        cards.insert(
                            &row.key,
                            record::encode(
                                record::CardBytes::current(card),
                                &[history, row.new_seqs],
                            ),
                        )?;
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
                },
            )
            .map_err(untx)?;
        let mut index = i.index.write().unwrap_or_else(|p| p.into_inner());
        for card in &cards {
            index.upsert(card);
        }
        i.changed.send_replace(index.cursor());
        if !webhook_rows.is_empty() {
            i.webhook_added.notify_one();
        }
        Ok(())
    }
}

/// A card encoded for the transaction.
enum Encoded {
    /// The whole record (the card's history was known).
    Record(Vec<u8>),
    /// The card alone.
    Card(Vec<u8>),
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

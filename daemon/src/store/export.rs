//! Backup and restore of the whole store as JSON lines: a consistent snapshot of every card,
//! token record (the secret's hash, never the secret) and audit event, paged out a few MiB at a
//! time, and the restore of such lines into an empty store.
//!
//! Consistency: sled has no snapshots, so [`Store::export_snapshot`] takes one under the store's
//! writer lock, which every card, token and audit write holds: the raw card records (cheap
//! reference-counted buffers), the token records, the card id counter and the last audit seq.
//! No write is half done at that point, so the cards are exactly the state after audit event
//! `audit_high_seq`. The audit log is append-only, so the events up to that seq are read later,
//! page by page, without holding the lock; events written after the snapshot are left out.
//! The one exception is an erasure or retention run during the export: it scrubs the personal
//! data of old events in place, and the export then carries the scrubbed events.

use std::collections::HashMap;

use chrono::Utc;
use idreview_protocol::{AuditEvent, Card, EXPORT_FORMAT, ExportCursor, ExportHeader, TokenInfo};
use serde::{Deserialize, Serialize};

use super::audit_log::Batch;
use super::tokens::StoredToken;
use super::{NEXT_CARD_ID, Store, StoreError, be_u64};

/// One line of an export file, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Line {
    /// The first line: format, daemon version, time and counts.
    Header(ExportHeader),
    Card(Box<Card>),
    Token(TokenRecord),
    Audit(AuditEvent),
}

/// What an export keeps of a bearer token: its description and the SHA-256 of its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub info: TokenInfo,
    /// Hex SHA-256 of the secret part; the secret itself is stored nowhere.
    pub secret_sha256: String,
}

/// A consistent cut of the store, taken by [`Store::export_snapshot`]; read it with
/// [`Store::export_page`].
pub struct ExportSnapshot {
    pub header: ExportHeader,
    /// Raw card records at the cut, in id order.
    cards: Vec<sled::IVec>,
    tokens: Vec<TokenRecord>,
}

/// An export or restore refused or broken.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the store already holds data ({0}); import only into an empty data dir")]
    NotEmpty(String),
    #[error("token {id}: the secret hash is not 64 hex digits")]
    TokenHash { id: String },
    #[error("an export line: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<bincode::Error> for BackupError {
    fn from(e: bincode::Error) -> Self {
        BackupError::Store(StoreError::Codec(e))
    }
}

impl From<sled::Error> for BackupError {
    fn from(e: sled::Error) -> Self {
        BackupError::Store(StoreError::Sled(e))
    }
}

impl Store {
    /// Takes a consistent snapshot (see the module documentation); `export_id` names it.
    pub fn export_snapshot(&self, export_id: u64) -> Result<ExportSnapshot, StoreError> {
        let i = &self.inner;
        let (cards, tokens, high, last_card_id) = {
            let _writer = i.writer.lock().map_err(|_| StoreError::Poisoned)?;
            let cards = i.cards.iter().values().collect::<Result<Vec<_>, _>>()?;
            let mut tokens: Vec<TokenRecord> = self
                .read_tokens()
                .values()
                .map(|t| TokenRecord {
                    info: t.info.clone(),
                    secret_sha256: hex::encode(t.secret_sha256),
                })
                .collect();
            tokens.sort_by(|a, b| a.info.id.cmp(&b.info.id));
            let high = self.audit_last_seq()?;
            let last = i.meta.get(NEXT_CARD_ID)?.map_or(0, |v| be_u64(&v));
            (cards, tokens, high, last)
        };
        // Append-only below `high`: counted after the lock is released.
        let audit_events = self.audit_count(high)?;
        let audit_gaps = self.audit_gaps(high)?;
        Ok(ExportSnapshot {
            header: ExportHeader {
                export_id,
                format: EXPORT_FORMAT,
                daemon_version: env!("CARGO_PKG_VERSION").to_string(),
                taken_at: Utc::now(),
                audit_high_seq: high,
                last_card_id,
                cards: cards.len() as u64,
                tokens: tokens.len() as u64,
                audit_events,
                audit_gaps,
            },
            cards,
            tokens,
        })
    }

    /// The snapshot's lines from `cursor` until about `max_bytes` are collected; the cursor of
    /// the next page, or `None` after the last line.
    pub fn export_page(
        &self,
        snapshot: &ExportSnapshot,
        cursor: ExportCursor,
        max_bytes: usize,
    ) -> Result<(Vec<String>, Option<ExportCursor>), BackupError> {
        let mut lines = Vec::new();
        let mut bytes = 0usize;
        let mut at = cursor;
        let n_cards = snapshot.cards.len();
        let items = n_cards + snapshot.tokens.len();
        let full = |bytes: usize| bytes >= max_bytes;
        while (at.item as usize) < items && !full(bytes) {
            let i = at.item as usize;
            let line = match snapshot.cards.get(i) {
                Some(raw) => Line::Card(Box::new(super::record::card(raw)?)),
                None => Line::Token(snapshot.tokens[i - n_cards].clone()),
            };
            let text = serde_json::to_string(&line)?;
            bytes += text.len();
            lines.push(text);
            at.item += 1;
        }
        let high = snapshot.header.audit_high_seq;
        'audit: while !full(bytes) && at.after_seq < high {
            let events = self.audit_since(at.after_seq, 512)?;
            if events.is_empty() {
                at.after_seq = high;
            }
            for event in events {
                if event.seq > high {
                    at.after_seq = high;
                    break 'audit;
                }
                let seq = event.seq;
                let text = serde_json::to_string(&Line::Audit(event))?;
                bytes += text.len();
                lines.push(text);
                at.after_seq = seq;
                if full(bytes) {
                    break 'audit;
                }
            }
        }
        let done = at.item as usize >= items && at.after_seq >= high;
        Ok((lines, (!done).then_some(at)))
    }

    /// What the store already holds, or `None` when it is empty (a restore's precondition).
    pub fn contents(&self) -> Option<String> {
        let i = &self.inner;
        let what = [
            ("cards", i.cards.len()),
            ("audit records", i.audit.len()),
            ("tokens", i.tokens.tree.len()),
        ];
        let held: Vec<String> = what
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        (!held.is_empty()).then(|| held.join(", "))
    }

    /// Writes export lines as they are: card ids and versions, audit seqs, token hashes. The
    /// user index and the in-memory indexes are rebuilt from the cards (a user's newest card is
    /// the one with the highest id). Call [`Store::finish_restore`] after the last batch.
    pub fn restore(&self, lines: &[Line]) -> Result<(), BackupError> {
        let i = &self.inner;
        let _writer = i.writer.lock().map_err(|_| StoreError::Poisoned)?;
        let (mut cards, mut tokens) = Default::default();
        let mut duplicates = sled::Batch::default();
        let mut events = Vec::new();
        let mut newest: HashMap<&str, u64> = HashMap::new();
        let mut table = Vec::new();
        for line in lines {
            match line {
                Line::Header(_) => {}
                Line::Card(card) => {
                    let bytes = super::stored::card::encode(card)?;
                    let raw = super::record::encode(super::record::CardBytes::current(&bytes), &[]);
                    sled::Batch::insert(&mut cards, &card.id.0.to_be_bytes(), raw);
                    super::duplicates::add_to_batch(card, &mut duplicates);
                    let top = newest.entry(&card.user_id).or_default();
                    *top = (*top).max(card.id.0);
                }
                Line::Token(t) => {
                    let mut hash = [0u8; 32];
                    hex::decode_to_slice(&t.secret_sha256, &mut hash).map_err(|_| {
                        BackupError::TokenHash {
                            id: t.info.id.clone(),
                        }
                    })?;
                    let stored = StoredToken {
                        info: t.info.clone(),
                        secret_sha256: hash,
                        persisted_use: t.info.last_used,
                        person: t.info.person.clone(),
                    };
                    let raw = bincode::serialize(&stored)?;
                    sled::Batch::insert(&mut tokens, t.info.id.as_bytes(), raw);
                    table.push(stored);
                }
                Line::Audit(e) => events.push(e.clone()),
            }
        }
        for (user, id) in newest {
            let known = i.users.get(user.as_bytes())?.map_or(0, |v| be_u64(&v));
            if id > known {
                i.users.insert(user.as_bytes(), &id.to_be_bytes())?;
            }
        }
        i.cards.apply_batch(cards)?;
        i.duplicates.apply_batch(duplicates)?;
        self.restore_audit(&events)?;
        i.tokens.tree.apply_batch(tokens)?;
        let mut index = i.index.write().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            if let Line::Card(card) = line {
                index.upsert(card);
            }
        }
        let mut known = i.tokens.table.write().unwrap_or_else(|p| p.into_inner());
        for stored in table {
            known.insert(stored.info.id.clone(), stored);
        }
        Ok(())
    }

    /// Writes restored events (in seq order, after every event restored before) and adds their
    /// seqs to their cards' histories, or to the graves of cards no longer there.
    fn restore_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let Some(batch) = Batch::encode(events)? else {
            return Ok(());
        };
        let i = &self.inner;
        let (chunks, by_card) = batch.into_chunks();
        let mut rows = sled::Batch::default();
        for (key, bytes) in chunks {
            rows.insert(&key, bytes);
        }
        i.audit.apply_batch(rows)?;
        for (key, seqs) in by_card {
            match i.cards.get(key)? {
                Some(old) => {
                    let card = super::record::split_card(&old)?;
                    let history = super::record::history(&old)?;
                    i.cards
                        .insert(key, super::record::encode(card, &[history, &seqs]))?;
                }
                None => {
                    let old = i.graves.get(key)?.unwrap_or_default();
                    i.graves.insert(key, [old.as_ref(), &seqs].concat())?;
                }
            }
        }
        Ok(())
    }

    /// Sets the counters past everything restored (the card id counter to the exported one, the
    /// audit seq past the highest restored), so that new cards and events never reuse an id;
    /// then flushes.
    pub async fn finish_restore(&self, header: &ExportHeader) -> Result<(), StoreError> {
        let i = &self.inner;
        let top_card = i.cards.last()?.map_or(0, |(id, _)| be_u64(&id));
        let last = header.last_card_id.max(top_card);
        i.meta.insert(NEXT_CARD_ID, &last.to_be_bytes())?;
        let top_seq = self.audit_last_seq()?;
        // New events continue after the highest restored seq.
        self.set_last_seq(top_seq.max(header.audit_high_seq));
        self.flush().await
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;

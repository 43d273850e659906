//! The audit log in sled, written so that a bulk change costs one new key, not one per card.
//!
//! - `audit`: first seq (u64 BE) -> one *batch*: every event one commit wrote, framed so that
//!   one event decodes without the others (see [`Batch`]).
//! - a card's own record lists the seqs of its events (see [`super::record`]), and a deleted
//!   card's list moves to the `graves` tree; so a decision rewrites the card's key instead of
//!   adding index keys (a new sled key costs several times an overwrite).
//!
//! Events are numbered and written under the store's writer lock, so batches never interleave:
//! the batch holding seq `s` is the one with the greatest key `<= s`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use idreview_protocol::{AuditEvent, CardId};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::stored::audit::EventRef;
use super::{Store, StoreError, be_u64};

/// One commit's events, encoded in chunks of at most [`CHUNK`] events, each chunk one key:
/// `[n: u32][n x (seq: u64, end: u32)][stored events...]` (little-endian), where `end` is where
/// each event's bytes stop. Chunks keep an erasure's rewrite of a few events small.
pub(super) struct Batch {
    /// (first seq BE, encoded chunk)
    chunks: Vec<ChunkRow>,
    /// Card id (BE) -> its new seqs (BE, concatenated).
    by_card: BTreeMap<[u8; 8], Vec<u8>>,
}

/// An encoded chunk and its key, to write in a transaction.
pub(super) type ChunkRow = ([u8; 8], Vec<u8>);

/// Events per chunk.
const CHUNK: usize = 64;
const HEADER: usize = 4;
const ENTRY: usize = 12;

/// Encodes events (in seq order) as one chunk.
fn frame(events: &[AuditEvent]) -> Result<Vec<u8>, StoreError> {
    let mut table = Vec::with_capacity(HEADER + events.len() * ENTRY);
    table.extend_from_slice(&(events.len() as u32).to_le_bytes());
    let mut body = Vec::with_capacity(events.len() * 320);
    for event in events {
        super::stored::audit::event::encode_into(&mut body, event)?;
        table.extend_from_slice(&event.seq.to_le_bytes());
        table.extend_from_slice(&(body.len() as u32).to_le_bytes());
    }
    table.append(&mut body);
    Ok(table)
}

impl Batch {
    /// Encodes `events` (in seq order); `None` when there are none.
    pub(super) fn encode(events: &[AuditEvent]) -> Result<Option<Batch>, StoreError> {
        if events.is_empty() {
            return Ok(None);
        }
        let mut by_card: BTreeMap<[u8; 8], Vec<u8>> = BTreeMap::new();
        for event in events {
            if let Some(card) = event.card_id {
                by_card
                    .entry(card.0.to_be_bytes())
                    .or_default()
                    .extend_from_slice(&event.seq.to_be_bytes());
            }
        }
        let chunks = events
            .chunks(CHUNK)
            .map(|chunk| Ok((chunk[0].seq.to_be_bytes(), frame(chunk)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(Batch { chunks, by_card }))
    }

    /// Writes the batch inside the caller's transaction.
    pub(super) fn write(
        &self,
        audit: &TransactionalTree,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        for (key, bytes) in &self.chunks {
            audit.insert(key, bytes.as_slice())?;
        }
        Ok(())
    }

    /// The new seqs (u64 BE, concatenated) of the card with key `card`.
    pub(super) fn seqs_of(&self, card: &[u8; 8]) -> &[u8] {
        self.by_card.get(card).map_or(&[], Vec::as_slice)
    }

    /// The encoded chunks, for a restore that writes outside a transaction.
    pub(super) fn into_chunks(self) -> (Vec<ChunkRow>, BTreeMap<[u8; 8], Vec<u8>>) {
        (self.chunks, self.by_card)
    }
}

/// The seqs in an encoded batch, with where each event's bytes are.
fn entries(bytes: &[u8]) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> + '_ {
    let n = bytes
        .get(..HEADER)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let body = HEADER + n * ENTRY;
    (0..n).scan(body, move |start, i| {
        let at = HEADER + i * ENTRY;
        let entry = bytes.get(at..at + ENTRY)?;
        let seq = u64::from_le_bytes(entry[..8].try_into().ok()?);
        let end = body + u32::from_le_bytes(entry[8..].try_into().ok()?) as usize;
        let range = *start..end;
        *start = end;
        Some((seq, range))
    })
}

fn decode(bytes: &[u8], range: std::ops::Range<usize>) -> Result<AuditEvent, StoreError> {
    Ok(super::stored::audit::event::decode(slice(bytes, range)?)?)
}

/// [`decode`] in place, the event's texts borrowed from `bytes`.
fn decode_borrowed(
    bytes: &[u8],
    range: std::ops::Range<usize>,
) -> Result<EventRef<'_>, StoreError> {
    Ok(super::stored::audit::event::decode_borrowed(slice(
        bytes, range,
    )?)?)
}

/// One event's bytes in a batch.
fn slice(bytes: &[u8], range: std::ops::Range<usize>) -> Result<&[u8], StoreError> {
    bytes
        .get(range)
        .ok_or_else(|| StoreError::Damaged("an audit batch is shorter than it says".into()))
}

impl Store {
    /// Up to `limit` audit events with `seq > since`, oldest first.
    pub fn audit_since(&self, since: u64, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let Some(from) = since.checked_add(1) else {
            return Ok(Vec::new());
        };
        let audit = &self.inner.audit;
        // The batch holding `from`, if any, then every later one.
        let start = match audit.range(..=from.to_be_bytes()).next_back() {
            Some(item) => item?.0,
            None => sled::IVec::from(&from.to_be_bytes()),
        };
        let mut out = Vec::new();
        for item in audit.range(start..) {
            let (_, bytes) = item?;
            for (seq, range) in entries(&bytes) {
                if out.len() == limit {
                    return Ok(out);
                }
                if seq >= from {
                    out.push(decode(&bytes, range)?);
                }
            }
        }
        Ok(out)
    }

    /// Shows `visit` every event with `seq > since`, oldest first, read in place (nothing is
    /// copied out); answers the seq of the last event shown, or `since` when there was none.
    pub(super) fn audit_scan(
        &self,
        since: u64,
        mut visit: impl FnMut(&EventRef<'_>),
    ) -> Result<u64, StoreError> {
        let mut last = since;
        let Some(from) = since.checked_add(1) else {
            return Ok(last);
        };
        let audit = &self.inner.audit;
        let start = match audit.range(..=from.to_be_bytes()).next_back() {
            Some(item) => item?.0,
            None => sled::IVec::from(&from.to_be_bytes()),
        };
        for item in audit.range(start..) {
            let (_, bytes) = item?;
            for (seq, range) in entries(&bytes).filter(|(seq, _)| *seq >= from) {
                visit(&decode_borrowed(&bytes, range)?);
                last = seq;
            }
        }
        Ok(last)
    }

    /// A seq from which [`Store::audit_scan`] sees every event written at or after `cutoff`:
    /// walks the batches back from the newest until one starts before `cutoff` (reading each
    /// batch's first event only). The log is in time order but for restored history, which
    /// comes first.
    pub(super) fn audit_seq_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        for item in self.inner.audit.iter().rev() {
            let (key, bytes) = item?;
            let Some((_, range)) = entries(&bytes).next() else {
                continue;
            };
            if decode_borrowed(&bytes, range)?.at < cutoff {
                return Ok(be_u64(&key).saturating_sub(1));
            }
        }
        Ok(0)
    }

    /// The seqs of the card's audit events, oldest first (also after the card is deleted).
    fn audit_seqs(&self, id: CardId) -> Result<Vec<u64>, StoreError> {
        let key = id.0.to_be_bytes();
        let seqs = match self.inner.cards.get(key)? {
            Some(record) => super::record::history(&record)?.to_vec(),
            None => self
                .inner
                .graves
                .get(key)?
                .map_or_else(Vec::new, |seqs| seqs.to_vec()),
        };
        Ok(seqs.chunks_exact(8).map(be_u64).collect())
    }

    /// The key of the chunk holding `seq`.
    fn chunk_of(&self, seq: u64) -> Result<Option<sled::IVec>, StoreError> {
        match self.inner.audit.range(..=seq.to_be_bytes()).next_back() {
            Some(item) => Ok(Some(item?.0)),
            None => Ok(None),
        }
    }

    /// The card's audit events, oldest first (also after the card is deleted).
    pub fn audit_for(&self, id: CardId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut out = Vec::new();
        let mut chunk: Option<(sled::IVec, sled::IVec)> = None;
        for seq in self.audit_seqs(id)? {
            let key = self.chunk_of(seq)?;
            if chunk.as_ref().map(|(k, _)| Some(k)) != Some(key.as_ref()) {
                chunk = match key {
                    Some(key) => self.inner.audit.get(&key)?.map(|bytes| (key, bytes)),
                    None => None,
                };
            }
            if let Some((_, bytes)) = &chunk
                && let Some((_, range)) = entries(bytes).find(|(s, _)| *s == seq)
            {
                out.push(decode(bytes, range)?);
            }
        }
        Ok(out)
    }

    /// The seq of the newest audit event (0 for none).
    pub(super) fn audit_last_seq(&self) -> Result<u64, StoreError> {
        Ok(match self.inner.audit.last()? {
            Some((_, bytes)) => entries(&bytes).last().map_or(0, |(seq, _)| seq),
            None => 0,
        })
    }

    /// The seqs up to `high` that no event has, as inclusive ranges (reads only the chunks'
    /// tables).
    pub(super) fn audit_gaps(&self, high: u64) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut gaps = Vec::new();
        let mut expected = 1;
        for item in self.inner.audit.range(..=high.to_be_bytes()) {
            let (_, bytes) = item?;
            for (seq, _) in entries(&bytes).filter(|(seq, _)| *seq <= high) {
                if seq > expected {
                    gaps.push((expected, seq - 1));
                }
                expected = expected.max(seq + 1);
            }
        }
        Ok(gaps)
    }

    /// How many audit events have `seq <= high` (reads only the chunks' tables).
    pub(super) fn audit_count(&self, high: u64) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.inner.audit.range(..=high.to_be_bytes()) {
            let (_, bytes) = item?;
            n += entries(&bytes).filter(|(seq, _)| *seq <= high).count() as u64;
        }
        Ok(n)
    }

    /// The card's events passed through `edit`, as rewritten chunks to write in the caller's
    /// transaction (the caller holds the writer lock), and how many events `edit` changed.
    pub(super) fn audit_edit(
        &self,
        seqs: &[u64],
        mut edit: impl FnMut(&mut AuditEvent) -> bool,
    ) -> Result<(Vec<ChunkRow>, u64), StoreError> {
        let mut by_chunk: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
        for &seq in seqs {
            if let Some(key) = self.chunk_of(seq)? {
                by_chunk.entry(key.to_vec()).or_default().push(seq);
            }
        }
        let (mut rows, mut changed) = (Vec::new(), 0);
        for (key, wanted) in by_chunk {
            let Some(bytes) = self.inner.audit.get(&key)? else {
                continue;
            };
            let mut events = entries(&bytes)
                .map(|(_, range)| decode(&bytes, range))
                .collect::<Result<Vec<_>, _>>()?;
            let mut here = 0;
            for event in events.iter_mut().filter(|e| wanted.contains(&e.seq)) {
                here += u64::from(edit(event));
            }
            if here > 0 {
                rows.push((be_u64(&key).to_be_bytes(), frame(&events)?));
                changed += here;
            }
        }
        Ok((rows, changed))
    }

    /// [`Store::audit_edit`] over every event of the card.
    pub(super) fn audit_edit_card(
        &self,
        id: CardId,
        edit: impl FnMut(&mut AuditEvent) -> bool,
    ) -> Result<(Vec<ChunkRow>, u64), StoreError> {
        self.audit_edit(&self.audit_seqs(id)?, edit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, card: Option<u64>) -> AuditEvent {
        AuditEvent {
            seq,
            card_id: card.map(CardId),
            at: chrono::Utc::now(),
            actor: "t".into(),
            action: format!("a{seq}"),
            reason: None,
            before: None,
            after: Some("{}".into()),
        }
    }

    #[test]
    fn a_batch_yields_each_event_alone_in_order() {
        let events: Vec<AuditEvent> = (7..12).map(|s| event(s, Some(s % 2))).collect();
        let batch = Batch::encode(&events).expect("encodes").expect("some");
        let (key, bytes) = &batch.chunks[0];
        assert_eq!(*key, 7u64.to_be_bytes());
        let got: Vec<AuditEvent> = entries(bytes)
            .map(|(_, r)| decode(bytes, r).expect("decodes"))
            .collect();
        assert_eq!(got, events);
        let odd: Vec<u64> = batch
            .seqs_of(&1u64.to_be_bytes())
            .chunks_exact(8)
            .map(be_u64)
            .collect();
        assert_eq!(odd, vec![7, 9, 11]);
        assert!(Batch::encode(&[]).expect("encodes").is_none());
        let many: Vec<AuditEvent> = (1..=150).map(|s| event(s, Some(1))).collect();
        let batch = Batch::encode(&many).expect("encodes").expect("some");
        let keys: Vec<u64> = batch.chunks.iter().map(|(k, _)| be_u64(k)).collect();
        assert_eq!(
            keys,
            vec![1, 65, 129],
            "chunks of 64 keyed by their first seq"
        );
    }

    #[test]
    fn a_damaged_batch_is_an_error_not_a_panic() {
        let batch = Batch::encode(&[event(1, None)]).expect("ok").expect("some");
        let bytes = &batch.chunks[0].1;
        let cut = &bytes[..bytes.len() - 3];
        let (_, range) = entries(cut).next().expect("entry");
        assert!(decode(cut, range).is_err());
        assert_eq!(entries(&[1, 0]).count(), 0);
    }
}

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

use idreview_protocol::{AuditEvent, CardId};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{Store, StoreError, be_u64};

/// One commit's events, encoded: `[n: u32][n x (seq: u64, end: u32)][bincode events...]`
/// (little-endian), where `end` is where each event's bytes stop.
pub(super) struct Batch {
    /// The first event's seq (BE), the batch's key.
    key: [u8; 8],
    bytes: Vec<u8>,
    /// Card id (BE) -> its new seqs (BE, concatenated).
    by_card: BTreeMap<[u8; 8], Vec<u8>>,
}

const HEADER: usize = 4;
const ENTRY: usize = 12;

impl Batch {
    /// Encodes `events` (in seq order); `None` when there are none.
    pub(super) fn encode(events: &[AuditEvent]) -> Result<Option<Batch>, StoreError> {
        let Some(first) = events.first() else {
            return Ok(None);
        };
        let mut table = Vec::with_capacity(HEADER + events.len() * ENTRY);
        table.extend_from_slice(&(events.len() as u32).to_le_bytes());
        let mut body = Vec::with_capacity(events.len() * 320);
        let mut by_card: BTreeMap<[u8; 8], Vec<u8>> = BTreeMap::new();
        for event in events {
            bincode::serialize_into(&mut body, event)?;
            table.extend_from_slice(&event.seq.to_le_bytes());
            table.extend_from_slice(&(body.len() as u32).to_le_bytes());
            if let Some(card) = event.card_id {
                by_card
                    .entry(card.0.to_be_bytes())
                    .or_default()
                    .extend_from_slice(&event.seq.to_be_bytes());
            }
        }
        table.append(&mut body);
        Ok(Some(Batch {
            key: first.seq.to_be_bytes(),
            bytes: table,
            by_card,
        }))
    }

    /// Writes the batch inside the caller's transaction.
    pub(super) fn write(
        &self,
        audit: &TransactionalTree,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        audit.insert(&self.key, self.bytes.as_slice())?;
        Ok(())
    }

    /// The new seqs (u64 BE, concatenated) of the card with key `card`.
    pub(super) fn seqs_of(&self, card: &[u8; 8]) -> &[u8] {
        self.by_card.get(card).map_or(&[], Vec::as_slice)
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
    let slice = bytes
        .get(range)
        .ok_or_else(|| StoreError::Damaged("an audit batch is shorter than it says".into()))?;
    Ok(bincode::deserialize(slice)?)
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

    /// The card's audit events, oldest first (also after the card is deleted).
    pub fn audit_for(&self, id: CardId) -> Result<Vec<AuditEvent>, StoreError> {
        let key = id.0.to_be_bytes();
        let seqs = match self.inner.cards.get(key)? {
            Some(record) => sled::IVec::from(super::record::history(&record)?),
            None => match self.inner.graves.get(key)? {
                Some(seqs) => seqs,
                None => return Ok(Vec::new()),
            },
        };
        let mut out = Vec::new();
        let mut batch: Option<(u64, sled::IVec)> = None;
        for seq in seqs.chunks_exact(8).map(be_u64) {
            let cached = batch.as_ref().filter(|(first, bytes)| {
                *first <= seq && entries(bytes).last().is_some_and(|(last, _)| seq <= last)
            });
            if cached.is_none() {
                batch = match self.inner.audit.range(..=seq.to_be_bytes()).next_back() {
                    Some(item) => {
                        let (key, bytes) = item?;
                        Some((be_u64(&key), bytes))
                    }
                    None => None,
                };
            }
            if let Some((_, bytes)) = &batch
                && let Some((_, range)) = entries(bytes).find(|(s, _)| *s == seq)
            {
                out.push(decode(bytes, range)?);
            }
        }
        Ok(out)
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
        assert_eq!(batch.key, 7u64.to_be_bytes());
        let got: Vec<AuditEvent> = entries(&batch.bytes)
            .map(|(_, r)| decode(&batch.bytes, r).expect("decodes"))
            .collect();
        assert_eq!(got, events);
        let odd: Vec<u64> = batch
            .seqs_of(&1u64.to_be_bytes())
            .chunks_exact(8)
            .map(be_u64)
            .collect();
        assert_eq!(odd, vec![7, 9, 11]);
        assert!(Batch::encode(&[]).expect("encodes").is_none());
    }

    #[test]
    fn a_damaged_batch_is_an_error_not_a_panic() {
        let batch = Batch::encode(&[event(1, None)]).expect("ok").expect("some");
        let cut = &batch.bytes[..batch.bytes.len() - 3];
        let (_, range) = entries(cut).next().expect("entry");
        assert!(decode(cut, range).is_err());
        assert_eq!(entries(&[1, 0]).count(), 0);
    }
}

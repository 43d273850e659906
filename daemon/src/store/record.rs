//! How a card is stored in the `cards` tree: `[n: u32 LE][n bytes of the stored card (see
//! `stored::card`)][the seqs of the card's audit events, u64 BE each]`. Keeping a card's history in its own record means a
//! change rewrites one key per card (the card) instead of adding index keys, which is what makes
//! a bulk decision cheap.

use idreview_protocol::Card;

use super::StoreError;

/// The record for `card` (already bincode-encoded) with its event seqs.
pub(super) fn encode(card: &[u8], history: &[&[u8]]) -> Vec<u8> {
    let extra: usize = history.iter().map(|h| h.len()).sum();
    let mut out = Vec::with_capacity(4 + card.len() + extra);
    out.extend_from_slice(&(card.len() as u32).to_le_bytes());
    out.extend_from_slice(card);
    for seqs in history {
        out.extend_from_slice(seqs);
    }
    out
}

/// The card in a record.
pub(super) fn card(record: &[u8]) -> Result<Card, StoreError> {
    let (card, _) = split(record)?;
    Ok(super::stored::card::decode(card)?)
}

/// The encoded card in a record, as it is.
pub(super) fn split_card(record: &[u8]) -> Result<&[u8], StoreError> {
    Ok(split(record)?.0)
}

/// The seqs (u64 BE each) of the card's audit events, oldest first.
pub(super) fn history(record: &[u8]) -> Result<&[u8], StoreError> {
    Ok(split(record)?.1)
}

fn split(record: &[u8]) -> Result<(&[u8], &[u8]), StoreError> {
    let damaged = || StoreError::Damaged("a card record is shorter than it says".into());
    let len = record.get(..4).ok_or_else(damaged)?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let card = record.get(4..4 + len).ok_or_else(damaged)?;
    Ok((card, &record[4 + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::state::tests::card as sample;
    use idreview_protocol::Status;

    #[test]
    fn a_record_keeps_the_card_and_appends_history() {
        let c = sample(Status::NeedsReview);
        let bytes = crate::store::stored::card::encode(&c).expect("encodes");
        let record = encode(&bytes, &[&1u64.to_be_bytes(), &[0, 0, 0, 0, 0, 0, 0, 9]]);
        assert_eq!(card(&record).expect("decodes"), c);
        assert_eq!(history(&record).expect("history").len(), 16);
        let again = encode(&bytes, &[history(&record).expect("h"), &5u64.to_be_bytes()]);
        assert_eq!(history(&again).expect("history").len(), 24);
        assert!(card(&record[..10]).is_err());
        assert!(history(&[1, 0]).is_err());
    }
}

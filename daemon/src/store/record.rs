//! How a card is stored in the `cards` tree: `[n: u32 LE][n bytes of the stored card (see
//! `stored::card`)][the seqs of the card's audit events, u64 BE each]`. Keeping a card's history in its own record means a
//! change rewrites one key per card (the card) instead of adding index keys, which is what makes
//! a bulk decision cheap. The top bit of `n` says the card is in format 4 ([`Layout::Current`]);
//! records written before format 4 never set it (a card is far below 2 GiB), so they are read in
//! place.

use idreview_protocol::Card;

use super::StoreError;
use super::stored::card::Layout;

/// Set in a record's length word when its card is laid out in format 4.
const FORMAT_4: u32 = 1 << 31;

/// A card's stored bytes and the layout they are in.
#[derive(Debug, Clone, Copy)]
pub(super) struct CardBytes<'a> {
    bytes: &'a [u8],
    layout: Layout,
}

impl<'a> CardBytes<'a> {
    /// Bytes just written by `stored::card::encode`.
    pub(super) fn current(bytes: &'a [u8]) -> CardBytes<'a> {
        CardBytes {
            bytes,
            layout: Layout::Current,
        }
    }

    /// Bytes an older daemon wrote (formats 2 and 3).
    #[cfg(test)]
    pub(super) fn text_times(bytes: &'a [u8]) -> CardBytes<'a> {
        CardBytes {
            bytes,
            layout: Layout::TextTimes,
        }
    }
}

/// The record for `card` (already bincode-encoded) with its event seqs.
pub(super) fn encode(card: CardBytes<'_>, history: &[&[u8]]) -> Vec<u8> {
    let extra: usize = history.iter().map(|h| h.len()).sum();
    let mut out = Vec::with_capacity(4 + card.bytes.len() + extra);
    let flag = match card.layout {
        Layout::Current => FORMAT_4,
        Layout::TextTimes => 0,
    };
    out.extend_from_slice(&(card.bytes.len() as u32 | flag).to_le_bytes());
    out.extend_from_slice(card.bytes);
    for seqs in history {
        out.extend_from_slice(seqs);
    }
    out
}

/// The record for `card` with its event seqs, the card encoded in place (one pass: no
/// separate buffer, no sizing pass).
pub(super) fn encode_card(card: &Card, history: &[&[u8]]) -> Result<Vec<u8>, bincode::Error> {
    let extra: usize = history.iter().map(|h| h.len()).sum();
    let mut out = Vec::with_capacity(4 + CARD_GUESS + extra);
    out.extend_from_slice(&[0; 4]);
    super::stored::card::encode_into(&mut out, card)?;
    let len = u32::try_from(out.len() - 4)
        .ok()
        .filter(|n| n & FORMAT_4 == 0)
        .ok_or_else(|| Box::new(bincode::ErrorKind::SizeLimit))?;
    out[..4].copy_from_slice(&(len | FORMAT_4).to_le_bytes());
    for seqs in history {
        out.extend_from_slice(seqs);
    }
    Ok(out)
}

/// About what a card with a few fields takes, so that most records are written without growing.
const CARD_GUESS: usize = 1024;

/// The card in a record.
pub(super) fn card(record: &[u8]) -> Result<Card, StoreError> {
    let (card, _) = split(record)?;
    Ok(super::stored::card::decode(card.bytes, card.layout)?)
}

/// The encoded card in a record, as it is.
pub(super) fn split_card(record: &[u8]) -> Result<CardBytes<'_>, StoreError> {
    Ok(split(record)?.0)
}

/// The seqs (u64 BE each) of the card's audit events, oldest first.
pub(super) fn history(record: &[u8]) -> Result<&[u8], StoreError> {
    Ok(split(record)?.1)
}

fn split(record: &[u8]) -> Result<(CardBytes<'_>, &[u8]), StoreError> {
    let damaged = || StoreError::Damaged("a card record is shorter than it says".into());
    let word = record.get(..4).ok_or_else(damaged)?;
    let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    let layout = if word & FORMAT_4 != 0 {
        Layout::Current
    } else {
        Layout::TextTimes
    };
    let len = (word & !FORMAT_4) as usize;
    let bytes = record.get(4..4 + len).ok_or_else(damaged)?;
    Ok((CardBytes { bytes, layout }, &record[4 + len..]))
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
        let record = encode(
            CardBytes::current(&bytes),
            &[&1u64.to_be_bytes(), &[0, 0, 0, 0, 0, 0, 0, 9]],
        );
        assert_eq!(card(&record).expect("decodes"), c);
        assert_eq!(history(&record).expect("history").len(), 16);
        let again = encode(
            split_card(&record).expect("card"),
            &[history(&record).expect("h"), &5u64.to_be_bytes()],
        );
        assert_eq!(card(&again).expect("decodes"), c);
        assert_eq!(history(&again).expect("history").len(), 24);
        assert_eq!(
            encode_card(&c, &[&1u64.to_be_bytes(), &[0, 0, 0, 0, 0, 0, 0, 9]]).expect("encodes"),
            record,
            "the card encoded in place is the same record"
        );
        assert!(card(&record[..10]).is_err());
        assert!(history(&[1, 0]).is_err());
    }
}

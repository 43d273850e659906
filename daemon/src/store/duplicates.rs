//! The duplicates index: which cards hold a file (by its SHA-256, computed at intake) and which
//! hold a document number of a country, so that the card domain can tell a submission sent
//! twice from a document reused for another user. One sled tree, `duplicates`:
//! - `f` ++ the file's lower-case hex SHA-256 ++ card id (u64 BE) -> the card's user id;
//! - `d` ++ country key ++ `0` ++ document number ++ `0` ++ card id (u64 BE) -> the user id
//!   (the number upper-case, letters and digits only; the country as the list's filter keys it,
//!   so that `D` and `DEU` meet).
//!
//! Kept in the transaction of every card write (`commit.rs`) and removal (`cleanup.rs`), so a
//! created, re-verified, corrected, deleted or erased card keeps it right. A store written before
//! the index existed has it built at open.

use std::collections::BTreeSet;

use idreview_protocol::{Card, CardId, country};
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::{Store, StoreError, be_u64, record};

/// Tag of a file key.
const FILE: u8 = b'f';
/// Tag of a document-number key.
const NUMBER: u8 = b'd';

/// The field holding a card's document number.
pub const NUMBER_FIELD: &str = "document_number";

/// Another card sharing something with the card asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub card: CardId,
    pub user_id: String,
    /// What is shared: a file's SHA-256, or a document number.
    pub what: SharedWhat,
}

/// What two cards share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedWhat {
    /// A file with this SHA-256.
    File(String),
    /// This document number of this country.
    Number { country: String, number: String },
}

/// The index keys of `card`, without its id (the prefixes that lookups scan).
fn prefixes(card: &Card) -> BTreeSet<Vec<u8>> {
    let mut keys: BTreeSet<Vec<u8>> = card
        .files
        .iter()
        .filter(|f| !f.sha256.is_empty())
        .map(|f| file_prefix(&f.sha256))
        .collect();
    if let Some(prefix) = number_of(card).map(|(c, n)| number_prefix(&c, &n)) {
        keys.insert(prefix);
    }
    keys
}

/// The card's (country, document number), when it has both.
pub fn number_of(card: &Card) -> Option<(String, String)> {
    let number: String = card
        .field(NUMBER_FIELD)?
        .value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let country = country::key(card.country.as_deref()?.trim());
    (!number.is_empty() && !country.is_empty()).then_some((country, number))
}

fn file_prefix(sha256: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + sha256.len() + 8);
    key.push(FILE);
    key.extend_from_slice(sha256.to_ascii_lowercase().as_bytes());
    key
}

fn number_prefix(country: &str, number: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(3 + country.len() + number.len() + 8);
    key.push(NUMBER);
    key.extend_from_slice(country.as_bytes());
    key.push(0);
    key.extend_from_slice(number.as_bytes());
    key.push(0);
    key
}

/// What a card's entries are made of (its user, country, document number and file hashes),
/// as written, in one buffer: a change that leaves it as it was leaves the entries as they
/// were, which most changes (decisions, claims, confirmations) do. Cheaper to take and compare
/// than the entries themselves (no country lookup, no keys built).
pub(super) struct Identity(Vec<u8>);

impl Identity {
    pub(super) fn of(card: &Card) -> Identity {
        let mut bytes = Vec::with_capacity(160);
        Identity::write(card, &mut bytes);
        Identity(bytes)
    }

    /// Whether `card` has this identity; `scratch` is reused between calls.
    pub(super) fn is_of(&self, card: &Card, scratch: &mut Vec<u8>) -> bool {
        scratch.clear();
        Identity::write(card, scratch);
        *scratch == self.0
    }

    fn write(card: &Card, out: &mut Vec<u8>) {
        let mut put = |s: &str| {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        put(&card.user_id);
        put(card.country.as_deref().unwrap_or_default());
        put(card.field(NUMBER_FIELD).map_or("", |f| f.value.as_str()));
        for file in &card.files {
            put(&file.sha256);
        }
    }
}

/// The keys a card owns in the tree, and the value each holds.
pub(super) struct Entries {
    keys: BTreeSet<Vec<u8>>,
    user: Vec<u8>,
}

impl Entries {
    /// The entries of `card` (none for no card).
    pub(super) fn of(card: Option<&Card>) -> Entries {
        match card {
            None => Entries {
                keys: BTreeSet::new(),
                user: Vec::new(),
            },
            Some(card) => {
                let id = card.id.0.to_be_bytes();
                let keys = prefixes(card)
                    .into_iter()
                    .map(|mut k| {
                        k.extend_from_slice(&id);
                        k
                    })
                    .collect();
                Entries {
                    keys,
                    user: card.user_id.as_bytes().to_vec(),
                }
            }
        }
    }

    /// Whether `self` and `other` are the same entries (nothing to write).
    pub(super) fn same(&self, other: &Entries) -> bool {
        self.keys == other.keys && self.user == other.user
    }

    /// In a transaction: replaces the entries `before` by `self`.
    pub(super) fn replace(
        &self,
        before: &Entries,
        tree: &TransactionalTree,
    ) -> Result<(), UnabortableTransactionError> {
        if self.same(before) {
            return Ok(());
        }
        for key in before.keys.difference(&self.keys) {
            tree.remove(key.as_slice())?;
        }
        for key in &self.keys {
            tree.insert(key.as_slice(), self.user.as_slice())?;
        }
        Ok(())
    }
}

impl Store {
    /// Every other card sharing a file or the document number (and country) with `card`, each
    /// share once, in card order.
    pub fn shared_with(&self, card: &Card) -> Result<Vec<Shared>, StoreError> {
        let mut found = Vec::new();
        let files: BTreeSet<String> = card
            .files
            .iter()
            .filter(|f| !f.sha256.is_empty())
            .map(|f| f.sha256.to_ascii_lowercase())
            .collect();
        for sha in files {
            let prefix = file_prefix(&sha);
            self.scan(&prefix, card.id, SharedWhat::File(sha), &mut found)?;
        }
        if let Some((country, number)) = number_of(card) {
            let prefix = number_prefix(&country, &number);
            let what = SharedWhat::Number { country, number };
            self.scan(&prefix, card.id, what, &mut found)?;
        }
        found.sort_by_key(|s| s.card);
        found.dedup();
        Ok(found)
    }

    /// Adds the cards under `prefix` (all but `own`) to `found`.
    fn scan(
        &self,
        prefix: &[u8],
        own: CardId,
        what: SharedWhat,
        found: &mut Vec<Shared>,
    ) -> Result<(), StoreError> {
        for item in self.inner.duplicates.scan_prefix(prefix) {
            let (key, user) = item?;
            let id = CardId(be_u64(&key[prefix.len()..]));
            if id != own {
                found.push(Shared {
                    card: id,
                    user_id: String::from_utf8_lossy(&user).into_owned(),
                    what: what.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Adds the entries of `card` to `batch` (a restore into an empty store).
pub(super) fn add_to_batch(card: &Card, batch: &mut sled::Batch) {
    let entries = Entries::of(Some(card));
    for key in &entries.keys {
        batch.insert(key.as_slice(), entries.user.as_slice());
    }
}

/// Builds the index from every card, when the store has cards but no index (a store from
/// before it existed).
pub(super) fn build_if_missing(
    cards: &sled::Tree,
    duplicates: &sled::Tree,
) -> Result<(), StoreError> {
    if !duplicates.is_empty() || cards.is_empty() {
        return Ok(());
    }
    let mut batch = sled::Batch::default();
    let mut built = 0u64;
    for item in cards.iter() {
        let (_, bytes) = item?;
        add_to_batch(&record::card(&bytes)?, &mut batch);
        built += 1;
    }
    duplicates.apply_batch(batch)?;
    tracing::info!(cards = built, "built the duplicates index");
    Ok(())
}

#[cfg(test)]
mod tests;

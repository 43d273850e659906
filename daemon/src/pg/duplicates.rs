//! The duplicates index in PostgreSQL: table `duplicates`, one row per card and thing it holds,
//! keyed `f:<file SHA-256, lower-case>` or `d:<country key>:<document number>` (the number and
//! country as `store::duplicates` normalises them). Rows follow the card in its transaction.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use idreview_protocol::{Card, CardId};

use super::{PgStore, db_id};
use crate::store::StoreError;
use crate::store::duplicates::{Shared, SharedWhat, number_of};

/// The keys `card` holds.
fn keys(card: &Card) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = card
        .files
        .iter()
        .filter(|f| !f.sha256.is_empty())
        .map(|f| format!("f:{}", f.sha256.to_ascii_lowercase()))
        .collect();
    if let Some((country, number)) = number_of(card) {
        keys.insert(format!("d:{country}:{number}"));
    }
    keys
}

/// What a key says is shared.
fn shared_what(key: &str) -> Option<SharedWhat> {
    if let Some(sha) = key.strip_prefix("f:") {
        return Some(SharedWhat::File(sha.to_string()));
    }
    let (country, number) = key.strip_prefix("d:")?.split_once(':')?;
    Some(SharedWhat::Number {
        country: country.to_string(),
        number: number.to_string(),
    })
}

/// The rows a write removes and adds, gathered over the cards of one transaction.
#[derive(Default)]
pub(super) struct Edits {
    gone_keys: Vec<String>,
    gone_cards: Vec<i64>,
    new_keys: Vec<String>,
    new_cards: Vec<i64>,
    new_users: Vec<String>,
}

impl Edits {
    /// The rows of a card going from `before` to `after` (either may be none).
    pub(super) fn card(&mut self, before: Option<&Card>, after: Option<&Card>) {
        let old = before.map(keys).unwrap_or_default();
        let new = after.map(keys).unwrap_or_default();
        let same_user = before.map(|c| &c.user_id) == after.map(|c| &c.user_id);
        if let Some(card) = before {
            for key in old.iter().filter(|k| !new.contains(*k)) {
                self.gone_keys.push(key.clone());
                self.gone_cards.push(db_id(card.id));
            }
        }
        if let Some(card) = after {
            for key in new.iter().filter(|k| !same_user || !old.contains(*k)) {
                self.new_keys.push(key.clone());
                self.new_cards.push(db_id(card.id));
                self.new_users.push(card.user_id.clone());
            }
        }
    }

    /// Writes the edits in the caller's transaction.
    pub(super) async fn write(&self, tx: &impl GenericClient) -> Result<(), StoreError> {
        if !self.gone_keys.is_empty() {
            tx.execute(
                "DELETE FROM duplicates d USING unnest($1::text[], $2::bigint[]) AS x(key, card_id) \
                 WHERE d.key = x.key AND d.card_id = x.card_id",
                &[&self.gone_keys, &self.gone_cards],
            )
            .await?;
        }
        if !self.new_keys.is_empty() {
            tx.execute(
                "INSERT INTO duplicates (key, card_id, user_id) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) \
                 ON CONFLICT (key, card_id) DO UPDATE SET user_id = EXCLUDED.user_id",
                &[&self.new_keys, &self.new_cards, &self.new_users],
            )
            .await?;
        }
        Ok(())
    }
}

impl PgStore {
    /// Every other card sharing a file or the document number (and country) with `card`, each
    /// share once, in card order (files before the number, as the sled store answers).
    pub(super) async fn shared(&self, card: &Card) -> Result<Vec<Shared>, StoreError> {
        let keys: Vec<String> = keys(card).into_iter().collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .client()
            .await?
            .query(
                "SELECT key, card_id, user_id FROM duplicates \
                 WHERE key = ANY($1) AND card_id <> $2 \
                 ORDER BY card_id, starts_with(key, 'd:'), key",
                &[&keys, &db_id(card.id)],
            )
            .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let key: &str = row.get(0);
            let id: i64 = row.get(1);
            let Some(what) = shared_what(key) else {
                return Err(StoreError::Damaged(format!("duplicates key {key:?}")));
            };
            found.push(Shared {
                card: CardId(u64::try_from(id).unwrap_or(0)),
                user_id: row.get(2),
                what,
            });
        }
        Ok(found)
    }
}

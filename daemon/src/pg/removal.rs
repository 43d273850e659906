//! A card's removal in PostgreSQL (a deletion, an expiry, an erasure: the rules are the card
//! domain's): the card and its duplicates rows go, its earlier events are scrubbed when the
//! trail says so, one cleanup row per stored object is queued and the removal's event written,
//! in one transaction.

use chrono::Utc;
use idreview_protocol::{Card, CardRef};

use super::cards::decode;
use super::{PgStore, audit, db_id};
use crate::store::retention::Trail;
use crate::store::{Change, Refused, StoreError};

impl PgStore {
    /// Removes a card that `check` lets go (it sees the card at the version `at` names) and
    /// answers it with how many of its events were scrubbed; see `Store::remove_card` for
    /// what each [`Trail`] keeps.
    pub(super) async fn remove_card<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> Result<(Card, u64), E> {
        let mut client = self.client().await.map_err(StoreError::from)?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let id = db_id(at.id);
        let row = tx
            .query_opt("SELECT body FROM cards WHERE id = $1 FOR UPDATE", &[&id])
            .await
            .map_err(StoreError::from)?;
        let card = match row {
            Some(row) => decode(&row)?,
            None => return Err(Refused::NotFound(at.id).into()),
        };
        if let Some(expected) = at.expected_version
            && expected != card.version
        {
            return Err(Refused::Conflict {
                id: at.id,
                expected,
                actual: card.version,
            }
            .into());
        }
        let change = check(&card)?;
        let last_state = matches!(trail, Trail::Keep).then_some(&card);
        let mut events = [change.event(0, Some(card.id), actor, last_state, None)];
        let removed = async {
            tx.execute("DELETE FROM cards WHERE id = $1", &[&id])
                .await?;
            tx.execute("DELETE FROM duplicates WHERE card_id = $1", &[&id])
                .await?;
            let scrubbed = match trail {
                Trail::Keep => 0,
                Trail::Scrub(actors) => audit::scrub(&tx, "card_id = $1", &id, actors).await?,
            };
            let keys: Vec<&str> = card.files.iter().map(|f| f.object_key.as_str()).collect();
            tx.execute(
                "INSERT INTO cleanup (key, card_id, queued_at) \
                 SELECT k, $2, $3 FROM unnest($1::text[]) AS k",
                &[&keys, &id, &Utc::now()],
            )
            .await?;
            audit::write(&tx, &mut events).await?;
            Ok::<_, StoreError>(scrubbed)
        }
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((card, removed))
    }

    /// How many objects of removed cards wait in the cleanup queue.
    pub async fn cleanup_len(&self) -> Result<u64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM cleanup", &[])
            .await?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }
}

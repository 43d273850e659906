//! Cards in PostgreSQL: one row each, the whole card as JSONB beside the columns the store's
//! rules read (user, status, version). Reads of one card, a user's newest card, the scan for
//! rare jobs, and a card's creation with its audit event and duplicates rows in one
//! transaction.

use std::pin::pin;

use deadpool_postgres::GenericClient;
use futures::TryStreamExt;
use idreview_protocol::{Card, CardId, Status};
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};

use super::duplicates::Edits;
use super::error::violates;
use super::{PgStore, audit, db_id};
use crate::card::CardError;
use crate::store::{Change, StoreError};

/// The partial unique index that keeps one active card per user.
pub(super) const ONE_ACTIVE: &str = "cards_one_active_per_user";

/// The card in the row's first column.
pub(super) fn decode(row: &Row) -> Result<Card, StoreError> {
    let Json(card) = row.try_get::<_, Json<Card>>(0)?;
    Ok(card)
}

/// The user's card that is not rejected, if one is.
pub(super) async fn active_card(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<CardId>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id FROM cards WHERE user_id = $1 AND status <> $2",
            &[&user_id, &Status::Rejected.as_str()],
        )
        .await?;
    Ok(row.map(|r| CardId(u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))))
}

impl PgStore {
    /// A fresh card id from the `card_ids` sequence.
    pub(super) async fn next_card_id(&self) -> Result<CardId, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT nextval('card_ids')", &[])
            .await?;
        Ok(CardId(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
    }

    /// The whole card.
    pub(super) async fn card(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT body FROM cards WHERE id = $1", &[&db_id(id)])
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// The user's newest card, active or rejected. (The sled store answers none once the
    /// newest card is removed, even if an older one is left; here the older one answers.)
    pub(super) async fn newest_card_of(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT body FROM cards WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
                &[&user_id],
            )
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Every card `keep` answers true for, in id order, streamed (for rare jobs such as
    /// retention and erasure, never for serving reads).
    pub(super) async fn scan(
        &self,
        mut keep: impl FnMut(&Card) -> bool + Send,
    ) -> Result<Vec<Card>, StoreError> {
        let client = self.client().await?;
        let none: [&(dyn ToSql + Sync); 0] = [];
        let rows = client
            .query_raw("SELECT body FROM cards ORDER BY id", none)
            .await?;
        let mut rows = pin!(rows);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await? {
            let card = decode(&row)?;
            if keep(&card) {
                out.push(card);
            }
        }
        Ok(out)
    }

    /// Stores a new card with its duplicates rows and its `card.created` event, in one
    /// transaction; refuses a second active card for its user, also when another daemon
    /// creates one at the same moment (the unique index decides).
    pub(super) async fn create_card(&self, card: Card, actor: &str) -> Result<Card, CardError> {
        let mut client = self.client().await.map_err(StoreError::from)?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        if let Some(active) = active_card(&tx, &card.user_id).await? {
            return Err(CardError::ActiveCard {
                user: card.user_id,
                card: active,
            });
        }
        let inserted = tx
            .execute(
                "INSERT INTO cards (id, user_id, status, version, body, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &db_id(card.id),
                    &card.user_id,
                    &card.status.as_str(),
                    &i64::try_from(card.version).unwrap_or(i64::MAX),
                    &Json(&card),
                    &card.created_at,
                    &card.updated_at,
                ],
            )
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if violates(&e, ONE_ACTIVE) => {
                // Another card of the user became active since the check above.
                tx.rollback().await.map_err(StoreError::from)?;
                return match active_card(&client, &card.user_id).await? {
                    Some(active) => Err(CardError::ActiveCard {
                        user: card.user_id,
                        card: active,
                    }),
                    None => Err(StoreError::from(e).into()),
                };
            }
            Err(e) => return Err(StoreError::from(e).into()),
        }
        let mut edits = Edits::default();
        edits.card(None, Some(&card));
        edits.write(&tx).await?;
        let mut events =
            [Change::new("card.created").event(0, Some(card.id), actor, None, Some(&card))];
        audit::write(&tx, &mut events).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(card)
    }
}

//! [`CardStore`]: what the card domain needs from persistence, and nothing else. Two
//! implementations: the sled store (embedded, the default) and `crate::pg::PgStore`
//! (PostgreSQL); `crate::backend::Backend`, the one a daemon serves from, dispatches to
//! either. Every method answers a future: a network database waits on its answers, and
//! sled's answer is ready at once.
//!
//! What must be atomic together (one transaction, all or nothing, under one writer order):
//! - [`CardStore::create`]: the card, its user's index entry (one active card per user), its
//!   duplicates entries (files, document number) and its `card.created` event;
//! - [`CardStore::change`]: for every card of the call, the new version, its audit event and
//!   the deferred work its [`Change`] carries (outbox jobs added or finished); a version check
//!   against each `CardRef`; the duplicates entries follow the card;
//! - [`CardStore::remove`]: the card, its index entry and its duplicates entries gone, its removal event (a tombstone
//!   when scrubbing), its earlier events scrubbed, and one cleanup job per stored object.
//!
//! `create` and `change` are buffered (durable at the next [`CardStore::flush`]: the pipeline
//! redoes its steps from the work folder after a crash); callers that answer a person flush
//! before answering. `remove` and the token erasure flush themselves. (PostgreSQL commits each
//! call: its flush has nothing left to do.)
//!
//! The closures `change` and `remove` take run inside the transaction, between the read of the
//! card and its write: they may not read the store (a read would wait on the database while
//! the card is locked); what they need is read before the call (see `card::intake`).

use std::future::Future;

use idreview_protocol::{Card, CardId, CardRef};

use super::CardError;
use crate::store::duplicates::Shared;
use crate::store::retention::Trail;
use crate::store::tokens::TokenError;
use crate::store::{Change, Outcomes, Refused, Store, StoreError};

/// Persistence as the card domain sees it.
pub trait CardStore: Clone + Send + Sync + 'static {
    /// A fresh card id, larger than every id handed out before.
    fn next_id(&self) -> impl Future<Output = Result<CardId, StoreError>> + Send;

    /// The whole card.
    fn get(&self, id: CardId) -> impl Future<Output = Result<Option<Card>, StoreError>> + Send;

    /// The user's newest card.
    fn card_for_user(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Option<Card>, StoreError>> + Send;

    /// Every other card sharing a file (by SHA-256) or the document number and country with
    /// `card`.
    fn shared_with(
        &self,
        card: &Card,
    ) -> impl Future<Output = Result<Vec<Shared>, StoreError>> + Send;

    /// Every card `keep` answers true for (a scan, for rare jobs).
    fn cards_matching(
        &self,
        keep: impl FnMut(&Card) -> bool + Send,
    ) -> impl Future<Output = Result<Vec<Card>, StoreError>> + Send;

    /// Stores a new card; refuses a second active card for its user (buffered).
    fn create(
        &self,
        card: Card,
        actor: &str,
    ) -> impl Future<Output = Result<Card, CardError>> + Send;

    /// Applies `change` to each named card whose version matches, in one transaction
    /// (buffered); each card gets its own result.
    fn change<E: From<Refused> + From<StoreError> + Send>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E> + Send,
    ) -> impl Future<Output = Result<Outcomes<E>, StoreError>> + Send;

    /// Removes a card that `check` lets go (durable when it answers).
    fn remove<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> impl Future<Output = Result<(Card, u64), E>> + Send;

    /// The audit identities of the submitter tokens bound to `user_id`.
    fn user_token_identities(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Revokes and unbinds `user_id`'s submitter tokens and scrubs the token events naming the
    /// user; answers (tokens revoked, events scrubbed). Durable when it answers.
    fn erase_user_tokens(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(u64, u64), TokenError>> + Send;

    /// Makes every buffered write durable.
    fn flush(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// sled answers at once: each method is the store's own, in a ready future.
impl CardStore for Store {
    async fn next_id(&self) -> Result<CardId, StoreError> {
        Store::next_id(self)
    }

    async fn get(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        Store::get(self, id)
    }

    async fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        Store::card_for_user(self, user_id)
    }

    async fn cards_matching(
        &self,
        keep: impl FnMut(&Card) -> bool + Send,
    ) -> Result<Vec<Card>, StoreError> {
        Store::cards_matching(self, keep)
    }

    async fn shared_with(&self, card: &Card) -> Result<Vec<Shared>, StoreError> {
        Store::shared_with(self, card)
    }

    async fn create(&self, card: Card, actor: &str) -> Result<Card, CardError> {
        match self.create_buffered(card, actor) {
            Ok(card) => Ok(card),
            Err(StoreError::ActiveCard { user, card }) => Err(CardError::ActiveCard { user, card }),
            Err(e) => Err(e.into()),
        }
    }

    async fn change<E: From<Refused> + From<StoreError> + Send>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E> + Send,
    ) -> Result<Outcomes<E>, StoreError> {
        self.update_many_buffered(refs, actor, change)
    }

    fn remove<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> impl Future<Output = Result<(Card, u64), E>> + Send {
        self.remove_card(at, actor, check, trail)
    }

    async fn user_token_identities(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(Store::user_token_identities(self, user_id))
    }

    fn erase_user_tokens(
        &self,
        user_id: &str,
        actor: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(u64, u64), TokenError>> + Send {
        Store::erase_user_tokens(self, user_id, actor, reason)
    }

    fn flush(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::flush(self)
    }
}

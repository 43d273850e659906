//! [`CardStore`]: what the card domain needs from persistence, and nothing else. The sled
//! store is the one implementation; a second backend implements this trait.
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
//! before answering. `remove` and the token erasure flush themselves.

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
    fn next_id(&self) -> Result<CardId, StoreError>;

    /// The whole card.
    fn get(&self, id: CardId) -> Result<Option<Card>, StoreError>;

    /// The user's newest card.
    fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError>;

    /// Every other card sharing a file (by SHA-256) or the document number and country with
    /// `card`.
    fn shared_with(&self, card: &Card) -> Result<Vec<Shared>, StoreError>;

    /// Every card `keep` answers true for (a scan, for rare jobs).
    fn cards_matching(&self, keep: impl FnMut(&Card) -> bool) -> Result<Vec<Card>, StoreError>;

    /// Stores a new card; refuses a second active card for its user (buffered).
    fn create(&self, card: Card, actor: &str) -> Result<Card, CardError>;

    /// Applies `change` to each named card whose version matches, in one transaction
    /// (buffered); each card gets its own result.
    fn change<E: From<Refused> + From<StoreError>>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E>,
    ) -> Result<Outcomes<E>, StoreError>;

    /// Removes a card that `check` lets go (durable when it answers).
    fn remove<E: From<Refused> + From<StoreError> + Send>(
        &self,
        at: CardRef,
        actor: &str,
        check: impl FnOnce(&Card) -> Result<Change, E> + Send,
        trail: Trail<'_>,
    ) -> impl Future<Output = Result<(Card, u64), E>> + Send;

    /// The audit identities of the submitter tokens bound to `user_id`.
    fn user_token_identities(&self, user_id: &str) -> Vec<String>;

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

impl CardStore for Store {
    fn next_id(&self) -> Result<CardId, StoreError> {
        Store::next_id(self)
    }

    fn get(&self, id: CardId) -> Result<Option<Card>, StoreError> {
        Store::get(self, id)
    }

    fn card_for_user(&self, user_id: &str) -> Result<Option<Card>, StoreError> {
        Store::card_for_user(self, user_id)
    }

    fn cards_matching(&self, keep: impl FnMut(&Card) -> bool) -> Result<Vec<Card>, StoreError> {
        Store::cards_matching(self, keep)
    }

    fn shared_with(&self, card: &Card) -> Result<Vec<Shared>, StoreError> {
        Store::shared_with(self, card)
    }

    fn create(&self, card: Card, actor: &str) -> Result<Card, CardError> {
        match self.create_buffered(card, actor) {
            Ok(card) => Ok(card),
            Err(StoreError::ActiveCard { user, card }) => Err(CardError::ActiveCard { user, card }),
            Err(e) => Err(e.into()),
        }
    }

    fn change<E: From<Refused> + From<StoreError>>(
        &self,
        refs: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, E>,
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

    fn user_token_identities(&self, user_id: &str) -> Vec<String> {
        Store::user_token_identities(self, user_id)
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

//! The reviewing calls of a session: deciding and verifying cards (one by one or in bulk),
//! corrections by the card's user or a reviewer, and claims. Each checks who may call, then
//! asks the card domain (`crate::card`), which owns every rule of a change; answers are
//! translated to the wire here.

use idreview_protocol::{
    Card, CardId, CardRef, DecideRequest, FieldCorrection, ItemResult, Role, RpcError,
};

use super::Session;
use crate::card::{Approval, CardError, CardStore};

impl Session {
    /// Approves or rejects cards, each with its own result.
    pub(super) async fn decide_cards(self, request: DecideRequest) -> Vec<ItemResult> {
        if let Err(e) = self.require(Role::Reviewer).await {
            return refuse_all(&request.cards, e);
        }
        let approval = Approval {
            decision: request.decision,
            reason: &request.reason,
            override_doubts: request.override_doubts,
            person: &self.person,
        };
        let results = self
            .shared
            .cards
            .decide(&self.identity, &request.cards, approval)
            .await;
        items(results)
    }

    /// Marks cards verified or not, each with its own result.
    pub(super) async fn set_cards_verified(
        self,
        cards: Vec<CardRef>,
        verified: bool,
    ) -> Vec<ItemResult> {
        if let Err(e) = self.require(Role::Reviewer).await {
            return refuse_all(&cards, e);
        }
        let results = self
            .shared
            .cards
            .set_verified(&self.identity, &cards, verified)
            .await;
        items(results)
    }

    /// The card's user confirms its fields, correcting some on the way.
    pub(super) async fn confirm_as_submitter(
        self,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.require(Role::Submitter).await?;
        let owner = self.shared.store.get(card.id).await?.map(|c| c.user_id);
        self.acts_for(owner.as_deref().ok_or(RpcError::NotFound(card.id))?)?;
        Ok(self
            .shared
            .cards
            .confirm(&self.identity, card, &corrections)
            .await?)
    }

    /// A reviewer corrects fields; each becomes certain, from the reviewer.
    pub(super) async fn correct_as_reviewer(
        self,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.require(Role::Reviewer).await?;
        Ok(self
            .shared
            .cards
            .correct(&self.identity, card, &corrections)
            .await?)
    }

    /// Takes a card for review under a lease, unless someone else holds it.
    pub(super) async fn claim(self, card: CardRef) -> Result<Card, RpcError> {
        self.require(Role::Reviewer).await?;
        Ok(self.shared.cards.claim(&self.identity, card).await?)
    }

    /// Gives a claim back: the holder's own, or anyone's for an admin.
    pub(super) async fn release(self, id: CardId) -> Result<(), RpcError> {
        self.require(Role::Reviewer).await?;
        let admin = self.role.may(Role::Admin);
        Ok(self.shared.cards.release(&self.identity, id, admin).await?)
    }
}

/// The wire's per-card results: the new version, or why not.
fn items(results: Vec<(CardId, Result<u64, CardError>)>) -> Vec<ItemResult> {
    results
        .into_iter()
        .map(|(id, result)| ItemResult {
            id,
            result: result.map_err(RpcError::from),
        })
        .collect()
}

/// A bulk call answers every card with the same error when the caller may not make it.
fn refuse_all(cards: &[CardRef], e: RpcError) -> Vec<ItemResult> {
    cards
        .iter()
        .map(|c| ItemResult {
            id: c.id,
            result: Err(e.clone()),
        })
        .collect()
}

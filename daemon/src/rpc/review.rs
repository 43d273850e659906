//! The reviewing calls of a session: deciding and verifying cards (one by one or in bulk),
//! corrections by the card's user or a reviewer, and claims. Each checks the caller's role, then
//! changes cards through the store, which writes the change and its audit event together.

use chrono::{DateTime, Utc};
use idreview_protocol::{
    Card, CardId, CardRef, DecideRequest, Decision, DecisionRecord, FieldCorrection, FieldSource,
    ItemResult, Role, RpcError,
};

use super::Session;
use crate::lifecycle::{self, Event};
use crate::store::Change;
use crate::store::outbox::{Job, OutboxOp, Task};
use crate::validate::data::{self, Rules};
use crate::verify::provider_decision;

/// A bulk call naming at least this many cards hands its garbage back to the system after.
const BIG_BULK: usize = 1000;

impl Session {
    /// Approves or rejects cards, each with its own result; a rejection needs a reason, and so
    /// does an approval over doubts, which must also say `override_doubts`.
    pub(super) async fn decide_cards(self, request: DecideRequest) -> Vec<ItemResult> {
        if let Err(e) = self.require(Role::Reviewer) {
            return Self::refuse_all(&request.cards, e);
        }
        let reason = request.reason.trim().to_string();
        if request.decision == Decision::Reject && reason.is_empty() {
            return Self::refuse_all(
                &request.cards,
                RpcError::Invalid("a rejection needs a reason".into()),
            );
        }
        let overriding = request.override_doubts && request.decision == Decision::Approve;
        if overriding && reason.is_empty() {
            return Self::refuse_all(
                &request.cards,
                RpcError::Invalid("approving over doubts needs a reason".into()),
            );
        }
        let identity = self.identity.to_string();
        let decision = request.decision;
        let threshold = self.shared.config.verification.confidence_threshold;
        let this = self.clone();
        let now = Utc::now();
        self.bulk(request.cards, |card| {
            Self::check_holder(card, &identity, now)?;
            let doubts = match decision {
                Decision::Approve => lifecycle::doubts(card, threshold),
                Decision::Reject => Vec::new(),
            };
            lifecycle::apply(card, Event::Decide(decision))?;
            if !doubts.is_empty() && !overriding {
                return Err(RpcError::Doubts {
                    id: card.id,
                    doubts,
                });
            }
            card.decision = Some(DecisionRecord {
                decision,
                by: identity.clone(),
                at: Utc::now(),
                reason: reason.clone(),
            });
            let action = match decision {
                Decision::Approve => "card.approved",
                Decision::Reject => "card.rejected",
            };
            let mut change = Change::new(action).because(reason.clone());
            change.overridden_doubts = doubts;
            change.outbox.extend(this.push_job(card, decision));
            Ok(change)
        })
        .await
    }

    /// Marks cards verified or not, each with its own result.
    pub(super) async fn set_cards_verified(
        self,
        cards: Vec<CardRef>,
        verified: bool,
    ) -> Vec<ItemResult> {
        if let Err(e) = self.require(Role::Reviewer) {
            return Self::refuse_all(&cards, e);
        }
        let (identity, now) = (self.identity.clone(), Utc::now());
        self.bulk(cards, |card| {
            Self::check_holder(card, &identity, now)?;
            lifecycle::apply(card, Event::SetVerified(verified))?;
            Ok(Change::new(if verified {
                "card.verified"
            } else {
                "card.unverified"
            }))
        })
        .await
    }

    /// The card's user confirms its fields, correcting some on the way.
    pub(super) async fn confirm_as_submitter(
        self,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.require(Role::Submitter)?;
        let owner = self.shared.store.get(card.id)?.map(|c| c.user_id);
        self.acts_for(owner.as_deref().ok_or(RpcError::NotFound(card.id))?)?;
        let store = self.shared.store.clone();
        store
            .update(card, &self.identity, |c| {
                lifecycle::apply(c, Event::Confirm)?;
                let mut change = Change::new("card.confirmed");
                if !corrections.is_empty() {
                    change.detail = Some(Self::correct(
                        c,
                        &corrections,
                        FieldSource::User,
                        &self.rules(),
                    )?);
                }
                Ok(change)
            })
            .await
    }

    /// A reviewer corrects fields; each becomes certain, from the reviewer.
    pub(super) async fn correct_as_reviewer(
        self,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.require(Role::Reviewer)?;
        if corrections.is_empty() {
            return Err(RpcError::Invalid("no corrections given".into()));
        }
        let store = self.shared.store.clone();
        store
            .update(card, &self.identity, |c| {
                Self::check_holder(c, &self.identity, Utc::now())?;
                lifecycle::apply(c, Event::Correct)?;
                let mut change = Change::new("field.corrected");
                change.detail = Some(Self::correct(
                    c,
                    &corrections,
                    FieldSource::Reviewer,
                    &self.rules(),
                )?);
                Ok(change)
            })
            .await
    }

    /// Takes a card for review under a lease, unless someone else holds it.
    pub(super) async fn claim(self, card: CardRef) -> Result<Card, RpcError> {
        self.require(Role::Reviewer)?;
        let lease = chrono::Duration::seconds(
            i64::try_from(self.shared.config.review.lease_secs).unwrap_or(i64::MAX / 1000),
        );
        let identity = self.identity.to_string();
        self.shared
            .store
            .update(card, &identity, |c| {
                let now = Utc::now();
                Self::check_holder(c, &identity, now)?;
                lifecycle::apply(c, Event::Claim)?;
                let until = now + lease;
                c.assignee = Some(identity.clone());
                c.lease_until = Some(until);
                Ok(Change::new("card.claimed").because(format!("until {}", until.to_rfc3339())))
            })
            .await
    }

    /// Gives a claim back: the holder's own, or anyone's for an admin.
    pub(super) async fn release(self, id: CardId) -> Result<(), RpcError> {
        self.require(Role::Reviewer)?;
        let card = self.shared.store.get(id)?.ok_or(RpcError::NotFound(id))?;
        if card.assignee.is_none() {
            return Ok(());
        }
        let (identity, admin) = (self.identity.to_string(), self.role >= Role::Admin);
        let any_version = CardRef {
            id,
            expected_version: None,
        };
        self.shared
            .store
            .update(any_version, &identity, |c| {
                if !admin {
                    Self::check_holder(c, &identity, Utc::now())?;
                }
                let holder = c.assignee.take().unwrap_or_default();
                c.lease_until = None;
                Ok(Change::new("card.released").because(format!("held by {holder}")))
            })
            .await
            .map(|_| ())
    }

    /// Refuses a change to a card someone else holds under a running claim.
    fn check_holder(card: &Card, identity: &str, now: DateTime<Utc>) -> Result<(), RpcError> {
        match (&card.assignee, card.lease_until) {
            (Some(holder), Some(until)) if holder != identity && until > now => {
                Err(RpcError::Held {
                    id: card.id,
                    holder: holder.clone(),
                    until,
                })
            }
            _ => Ok(()),
        }
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

    /// Applies `change` to every card in one store write; a big call hands its garbage back.
    async fn bulk(
        &self,
        cards: Vec<CardRef>,
        change: impl FnMut(&mut Card) -> Result<Change, RpcError>,
    ) -> Vec<ItemResult> {
        let results = match self
            .shared
            .store
            .update_many(&cards, &self.identity, change)
            .await
        {
            Ok(results) => results.into_iter().map(|(r, _)| r).collect(),
            Err(e) => Self::refuse_all(&cards, e.into()),
        };
        if cards.len() >= BIG_BULK {
            // The write set of thousands of cards is garbage now; hand it back.
            crate::memory::release();
        }
        results
    }

    /// Applies corrections to a card's fields; each becomes the field's value at full
    /// confidence from `source`. Unknown field names are added.
    fn correct(
        card: &mut Card,
        corrections: &[FieldCorrection],
        source: FieldSource,
        rules: &Rules,
    ) -> Result<(String, String), RpcError> {
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        for c in corrections {
            if c.name.trim().is_empty() {
                return Err(RpcError::Invalid("a correction needs a field name".into()));
            }
            match card.fields.iter_mut().find(|f| f.name == c.name) {
                Some(field) => {
                    // A card's country taken from its zone follows the zone's correction.
                    if field.name == "country" && card.country.as_deref() == Some(&field.value) {
                        card.country = Some(c.value.clone());
                    }
                    before.insert(c.name.clone(), field.value.clone().into());
                    field.value = c.value.clone();
                    field.confidence = 1.0;
                    field.source = source;
                }
                None => {
                    before.insert(c.name.clone(), serde_json::Value::Null);
                    card.fields.push(idreview_protocol::Field {
                        name: c.name.clone(),
                        value: c.value.clone(),
                        confidence: 1.0,
                        source,
                        side: idreview_protocol::Side::Front,
                        bbox: None,
                        candidates: Vec::new(),
                    });
                }
            }
            after.insert(c.name.clone(), c.value.clone().into());
        }
        // The data rules judge the corrected values, not the provider's.
        card.findings = data::check_card(card, rules);
        Ok((
            serde_json::Value::Object(before).to_string(),
            serde_json::Value::Object(after).to_string(),
        ))
    }

    /// The data rules as of today.
    fn rules(&self) -> Rules {
        Rules::new(&self.shared.config.validation, Utc::now().date_naive())
    }

    /// The job telling the provider about a decision, when config asks for it and the card has
    /// a provider transaction.
    fn push_job(&self, card: &Card, decision: Decision) -> Option<OutboxOp> {
        let config = &self.shared.config.verification;
        let pushes = config.provider == "idanalyzer" && config.idanalyzer.push_decisions;
        let verdict = card.provider.as_ref().filter(|_| pushes)?;
        let transaction_id = verdict.transaction_id.clone()?;
        let task = Task::PushDecision {
            transaction_id,
            decision: provider_decision(decision).to_string(),
        };
        Some(OutboxOp::Put(Job::new(card.id, task, Utc::now())))
    }
}

//! People's work on a card: a reviewer's decision (one card or thousands in one transaction),
//! the reviewer's check mark, the user's confirmation, corrections, and claims. Who may call
//! which is the front end's business (roles, a submitter's own user); what a change may do to a
//! card is decided here.

use chrono::{DateTime, Utc};
use idreview_protocol::{
    Card, CardId, CardRef, Decision, DecisionRecord, Field, FieldCorrection, FieldSource,
    PendingApproval, Side,
};

use super::state::{self, Event};
use super::{CardError, CardStore, Cards, rules};
use crate::store::Change;
use crate::store::outbox::{Job, OutboxOp, Task};
use crate::verify::provider_decision;

/// A call naming at least this many cards hands its garbage back to the system after.
const BIG_BULK: usize = 1000;

/// A reviewer's decision on cards.
#[derive(Debug, Clone, Copy)]
pub struct Approval<'a> {
    pub decision: Decision,
    /// Required to reject and to approve over doubts.
    pub reason: &'a str,
    /// Approve cards that still have doubts (fields below the threshold, error findings); the
    /// audit event names the doubts overridden.
    pub override_doubts: bool,
    /// The person behind the acting identity (a token's person, a local user's login name):
    /// under four eyes, the two approvals of a flagged card need two persons.
    pub person: &'a str,
}

impl<S: CardStore> Cards<S> {
    /// Approves or rejects cards in one durable write, each with its own result. A rejection
    /// needs a reason; so does an approval over doubts, which must also be asked for: without
    /// it a card with doubts is refused naming them. Under four eyes (`[review] four_eyes`) the
    /// approval of a flagged card (a reused document, or doubts overridden) is the first of
    /// two: recorded on the card as pending, answered per card as
    /// [`CardError::SecondApprovalNeeded`], the card staying undecided; the second must come
    /// from another person ([`CardError::SamePerson`] otherwise). A rejection needs one person.
    pub async fn decide(
        &self,
        actor: &str,
        cards: &[CardRef],
        approval: Approval<'_>,
    ) -> Vec<(CardId, Result<u64, CardError>)> {
        let reason = approval.reason.trim();
        let decision = approval.decision;
        if decision == Decision::Reject && reason.is_empty() {
            return refuse_all(cards, || {
                CardError::Invalid("a rejection needs a reason".into())
            });
        }
        let overriding = approval.override_doubts && decision == Decision::Approve;
        if overriding && reason.is_empty() {
            return refuse_all(cards, || {
                CardError::Invalid("approving over doubts needs a reason".into())
            });
        }
        let threshold = self.threshold();
        let four_eyes = self.config.review.four_eyes && decision == Decision::Approve;
        let person = approval.person;
        let now = Utc::now();
        // Cards whose approval was recorded as the first of two.
        let mut firsts = Vec::new();
        let mut results = self
            .bulk(cards, actor, |card| {
                check_holder(card, actor, now)?;
                let doubts = match decision {
                    Decision::Approve => state::doubts(card, threshold),
                    Decision::Reject => Vec::new(),
                };
                let flagged = four_eyes && (card.is_duplicate() || !doubts.is_empty());
                let first = flagged && card.pending_approval.is_none();
                if let Some(pending) = card.pending_approval.as_ref().filter(|_| flagged)
                    && pending.person == person
                {
                    return Err(CardError::SamePerson {
                        id: card.id,
                        person: person.to_string(),
                    });
                }
                if first {
                    // Legal as a decision, but the card stays undecided until the second.
                    state::apply(&mut card.clone(), Event::Decide(decision))?;
                } else {
                    state::apply(card, Event::Decide(decision))?;
                }
                if !doubts.is_empty() && !overriding {
                    return Err(CardError::Doubts {
                        id: card.id,
                        doubts,
                    });
                }
                if first {
                    card.pending_approval = Some(PendingApproval {
                        by: actor.to_string(),
                        person: person.to_string(),
                        at: now,
                        reason: reason.to_string(),
                    });
                    firsts.push(card.id);
                    let mut change = Change::new("card.first_approval").because(reason);
                    change.overridden_doubts = doubts;
                    return Ok(change);
                }
                let because = match card.pending_approval.take() {
                    Some(p) => format!(
                        "{reason} (second approval; the first by {} at {}: {})",
                        p.person,
                        p.at.format("%Y-%m-%d %H:%M UTC"),
                        p.reason
                    ),
                    None => reason.to_string(),
                };
                card.decision = Some(DecisionRecord {
                    decision,
                    by: actor.to_string(),
                    at: Utc::now(),
                    reason: reason.to_string(),
                });
                let action = match decision {
                    Decision::Approve => "card.approved",
                    Decision::Reject => "card.rejected",
                };
                let mut change = Change::new(action).because(because);
                change.overridden_doubts = doubts;
                change.outbox.extend(self.push_job(card, decision));
                Ok(change)
            })
            .await;
        for (id, result) in &mut results {
            if result.is_ok() && firsts.contains(id) {
                *result = Err(CardError::SecondApprovalNeeded {
                    id: *id,
                    person: person.to_string(),
                });
            }
        }
        results
    }

    /// Marks cards as checked by a reviewer (or takes that back), each with its own result.
    pub async fn set_verified(
        &self,
        actor: &str,
        cards: &[CardRef],
        verified: bool,
    ) -> Vec<(CardId, Result<u64, CardError>)> {
        let now = Utc::now();
        self.bulk(cards, actor, |card| {
            check_holder(card, actor, now)?;
            state::apply(card, Event::SetVerified(verified))?;
            Ok(Change::new(if verified {
                "card.verified"
            } else {
                "card.unverified"
            }))
        })
        .await
    }

    /// The card's user confirms its fields, correcting some on the way; corrections that
    /// cannot stand (a bad date, an unknown field) refuse the whole confirmation
    /// ([`CardError::Fields`], see `confirmation.rs`).
    pub async fn confirm(
        &self,
        actor: &str,
        card: CardRef,
        corrections: &[FieldCorrection],
    ) -> Result<Card, CardError> {
        let rules = self.rules();
        self.one_judged(card, actor, |c, reused| {
            state::apply(c, Event::Confirm)?;
            super::confirmation::check(c, corrections, &rules)?;
            let mut change = Change::new("card.confirmed");
            if !corrections.is_empty() {
                let values = correct(c, corrections, FieldSource::User, &rules, reused)?;
                change.detail = Some(values);
                c.pending_approval = None;
            }
            Ok(change)
        })
        .await
    }

    /// A reviewer corrects fields; each becomes certain, from the reviewer.
    pub async fn correct(
        &self,
        actor: &str,
        card: CardRef,
        corrections: &[FieldCorrection],
    ) -> Result<Card, CardError> {
        if corrections.is_empty() {
            return Err(CardError::Invalid("no corrections given".into()));
        }
        let rules = self.rules();
        self.one_judged(card, actor, |c, reused| {
            check_holder(c, actor, Utc::now())?;
            state::apply(c, Event::Correct)?;
            let mut change = Change::new("field.corrected");
            let values = correct(c, corrections, FieldSource::Reviewer, &rules, reused)?;
            change.detail = Some(values);
            // An approval given before the data changed no longer counts.
            c.pending_approval = None;
            Ok(change)
        })
        .await
    }

    /// Takes a card for review under a lease (renewing the caller's own), unless someone else
    /// holds it.
    pub async fn claim(&self, actor: &str, card: CardRef) -> Result<Card, CardError> {
        let secs = i64::try_from(self.config.review.lease_secs).unwrap_or(i64::MAX / 1000);
        let lease = chrono::Duration::seconds(secs);
        self.one(card, actor, |c| {
            let now = Utc::now();
            check_holder(c, actor, now)?;
            state::apply(c, Event::Claim)?;
            let until = now + lease;
            c.assignee = Some(actor.to_string());
            c.lease_until = Some(until);
            Ok(Change::new("card.claimed").because(format!("until {}", until.to_rfc3339())))
        })
        .await
    }

    /// Takes a decided card back into review (an admin's call, with a reason; the decision
    /// stays in the audit log). A rejected card is reopened only while its user has no other
    /// active card: one active card per user.
    pub async fn reopen(
        &self,
        actor: &str,
        card: CardRef,
        reason: &str,
    ) -> Result<Card, CardError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CardError::Invalid("reopening a card needs a reason".into()));
        }
        let current = self
            .store
            .get(card.id)
            .await?
            .ok_or(CardError::NotFound(card.id))?;
        if let Some(newer) = self.store.card_for_user(&current.user_id).await?
            && newer.id != current.id
            && newer.status != idreview_protocol::Status::Rejected
        {
            return Err(CardError::ActiveCard {
                user: current.user_id,
                card: newer.id,
            });
        }
        self.one(card, actor, |c| {
            let decided = c.decision.as_ref().map(|d| d.decision.as_str());
            state::apply(c, Event::Reopen)?;
            let why = format!("{reason} (was {})", decided.unwrap_or("decided"));
            Ok(Change::new("card.reopened").because(why))
        })
        .await
    }

    /// Gives a claim back: the holder's own, or anyone's when `anyone` (an admin).
    pub async fn release(&self, actor: &str, id: CardId, anyone: bool) -> Result<(), CardError> {
        let card = self.store.get(id).await?.ok_or(CardError::NotFound(id))?;
        if card.assignee.is_none() {
            return Ok(());
        }
        let any_version = CardRef {
            id,
            expected_version: None,
        };
        self.one(any_version, actor, |c| {
            if !anyone {
                check_holder(c, actor, Utc::now())?;
            }
            let holder = c.assignee.take().unwrap_or_default();
            c.lease_until = None;
            Ok(Change::new("card.released").because(format!("held by {holder}")))
        })
        .await
        .map(|_| ())
    }

    /// Applies `change` to every card in one transaction and one flush, answering each card's
    /// new version or why not; a big call hands its garbage back.
    pub(super) async fn bulk(
        &self,
        cards: &[CardRef],
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, CardError> + Send,
    ) -> Vec<(CardId, Result<u64, CardError>)> {
        let written = match self.store.change(cards, actor, change).await {
            Ok(results) => self.store.flush().await.map(|()| results),
            Err(e) => Err(e),
        };
        let results = match written {
            Ok(results) => results
                .into_iter()
                .map(|(id, result)| (id, result.map(|card| card.version)))
                .collect(),
            Err(e) => {
                let why = e.to_string();
                refuse_all(cards, || CardError::StoreFailed(why.clone()))
            }
        };
        if cards.len() >= BIG_BULK {
            // The changed cards were dropped above: their memory is garbage now; hand it back
            // once the answer is on its way.
            crate::memory::release_soon();
        }
        results
    }

    /// [`Cards::bulk`] for one card, answering with the changed card.
    pub(super) async fn one(
        &self,
        card: CardRef,
        actor: &str,
        change: impl FnMut(&mut Card) -> Result<Change, CardError> + Send,
    ) -> Result<Card, CardError> {
        let mut results = self.store.change(&[card], actor, change).await?;
        self.store.flush().await?;
        match results.pop() {
            Some((_, result)) => result,
            None => Err(CardError::NotFound(card.id)),
        }
    }

    /// [`Cards::one`] for a change that judges reused documents (`reused` answers the findings
    /// of the card as changed): the duplicates lookup is read first, for the card as the change
    /// leaves it, and the change applies only at the version that lookup saw (a card changed
    /// in between, when the caller named no version, is read again).
    async fn one_judged(
        &self,
        card: CardRef,
        actor: &str,
        mut change: impl FnMut(&mut Card, &super::Reused) -> Result<Change, CardError> + Send,
    ) -> Result<Card, CardError> {
        let mut tries = 0;
        loop {
            let current = self
                .store
                .get(card.id)
                .await?
                .ok_or(CardError::NotFound(card.id))?;
            let none = |_: &Card| Ok(Vec::new());
            let shared = self.shared_after(&current, |c| change(c, &none)).await?;
            let at = CardRef {
                id: card.id,
                expected_version: Some(card.expected_version.unwrap_or(current.version)),
            };
            let reused = |c: &Card| Ok(super::duplicates::findings(c, &shared));
            let result = self.one(at, actor, |c| change(c, &reused)).await;
            tries += 1;
            match result {
                Err(CardError::Conflict { .. }) if card.expected_version.is_none() && tries < 8 => {
                    continue;
                }
                other => return other,
            }
        }
    }

    /// The job telling the provider about a decision, when config asks for it and the card has
    /// a provider transaction.
    fn push_job(&self, card: &Card, decision: Decision) -> Option<OutboxOp> {
        let config = &self.config.verification;
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

/// The same refusal for every card of a call.
fn refuse_all(
    cards: &[CardRef],
    why: impl Fn() -> CardError,
) -> Vec<(CardId, Result<u64, CardError>)> {
    cards.iter().map(|c| (c.id, Err(why()))).collect()
}

/// Refuses a change to a card someone else holds under a running claim.
fn check_holder(card: &Card, actor: &str, now: DateTime<Utc>) -> Result<(), CardError> {
    match (&card.assignee, card.lease_until) {
        (Some(holder), Some(until)) if holder != actor && until > now => Err(CardError::Held {
            id: card.id,
            holder: holder.clone(),
            until,
        }),
        _ => Ok(()),
    }
}

/// Applies corrections to a card's fields; each becomes the field's value at full confidence
/// from `source`, unknown field names are added, and the data rules judge the new values.
/// `reused` adds the reused-document findings of the new values. Answers the audit detail: the
/// values before and after, as JSON.
fn correct(
    card: &mut Card,
    corrections: &[FieldCorrection],
    source: FieldSource,
    rules: &rules::Rules,
    reused: &super::Reused,
) -> Result<(String, String), CardError> {
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    for c in corrections {
        if c.name.trim().is_empty() {
            return Err(CardError::Invalid("a correction needs a field name".into()));
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
                card.fields.push(Field {
                    name: c.name.clone(),
                    value: c.value.clone(),
                    confidence: 1.0,
                    source,
                    side: Side::Front,
                    bbox: None,
                    candidates: Vec::new(),
                });
            }
        }
        after.insert(c.name.clone(), c.value.clone().into());
    }
    card.findings = rules::check_card(card, rules);
    card.findings.extend(reused(card)?);
    Ok((
        serde_json::Value::Object(before).to_string(),
        serde_json::Value::Object(after).to_string(),
    ))
}

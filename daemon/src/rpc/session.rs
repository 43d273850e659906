//! One connection's view of the daemon: the `IdReview` service bound to the identity and role
//! the handshake established. Each method checks the role, asks the store, and maps internal
//! errors onto the wire error.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, DecideRequest, Decision, DecisionRecord,
    FieldCorrection, FieldSource, Health, IdReview, ItemResult, ListQuery, OnboardingStage,
    PROTOCOL_VERSION, Role, RpcError,
};
use tarpc::context::Context;

use super::Shared;
use crate::lifecycle::{self, Event};
use crate::store::Change;

/// The service value for one connection.
#[derive(Clone)]
pub struct Session {
    shared: Shared,
    identity: Arc<str>,
    role: Role,
}

impl Session {
    pub fn new(shared: Shared, identity: String, role: Role) -> Session {
        Session {
            shared,
            identity: identity.into(),
            role,
        }
    }

    /// Refuses the call unless this connection's role is at least `needed`.
    fn require(&self, needed: Role) -> Result<(), RpcError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(RpcError::Forbidden(format!(
                "{} needs the {needed} role; this connection is {}",
                self.identity, self.role
            )))
        }
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

    async fn bulk(
        &self,
        cards: Vec<CardRef>,
        change: impl FnMut(&mut Card) -> Result<Change, RpcError>,
    ) -> Vec<ItemResult> {
        match self
            .shared
            .store
            .update_many(&cards, &self.identity, change)
            .await
        {
            Ok(results) => results.into_iter().map(|(r, _)| r).collect(),
            Err(e) => Self::refuse_all(&cards, e.into()),
        }
    }

    /// Applies corrections to a card's fields; each becomes the field's value at full
    /// confidence from `source`. Unknown field names are added.
    fn correct(
        card: &mut Card,
        corrections: &[FieldCorrection],
        source: FieldSource,
    ) -> Result<(String, String), RpcError> {
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        for c in corrections {
            if c.name.trim().is_empty() {
                return Err(RpcError::Invalid("a correction needs a field name".into()));
            }
            match card.fields.iter_mut().find(|f| f.name == c.name) {
                Some(field) => {
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
        Ok((
            serde_json::Value::Object(before).to_string(),
            serde_json::Value::Object(after).to_string(),
        ))
    }
}

impl IdReview for Session {
    async fn health(self, _: Context) -> Health {
        let store = &self.shared.store;
        Health {
            daemon_version: env!("CARGO_PKG_VERSION").to_string(),
            protocol_version: PROTOCOL_VERSION,
            identity: self.identity.to_string(),
            role: self.role,
            cards: store.card_count(),
            by_status: store.counts_by_status(),
            provider: self.shared.provider.to_string(),
            uptime_secs: self.shared.started.elapsed().as_secs(),
        }
    }

    async fn list_cards(self, _: Context, query: ListQuery) -> Result<CardPage, RpcError> {
        self.require(Role::Reviewer)?;
        if query.limit > ListQuery::MAX_LIMIT {
            return Err(RpcError::Invalid(format!(
                "limit {} is over {}; page with offset",
                query.limit,
                ListQuery::MAX_LIMIT
            )));
        }
        Ok(self.shared.store.list(&query, &self.identity))
    }

    async fn get_card(self, _: Context, id: CardId) -> Result<Card, RpcError> {
        self.require(Role::Reviewer)?;
        self.shared.store.get(id)?.ok_or(RpcError::NotFound(id))
    }

    async fn card_for_user(self, _: Context, user_id: String) -> Result<Option<Card>, RpcError> {
        self.require(Role::Submitter)?;
        Ok(self.shared.store.card_for_user(&user_id)?)
    }

    async fn onboarding_stage(
        self,
        _: Context,
        user_id: String,
    ) -> Result<OnboardingStage, RpcError> {
        self.require(Role::Submitter)?;
        Ok(lifecycle::onboarding_stage(
            self.shared.store.card_for_user(&user_id)?.as_ref(),
        ))
    }

    async fn decide(self, _: Context, request: DecideRequest) -> Vec<ItemResult> {
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
        let identity = self.identity.to_string();
        let decision = request.decision;
        let now = Utc::now();
        self.bulk(request.cards, |card| {
            Self::check_holder(card, &identity, now)?;
            lifecycle::apply(card, Event::Decide(decision))?;
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
            Ok(Change::new(action).because(reason.clone()))
        })
        .await
    }

    async fn set_verified(
        self,
        _: Context,
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

    async fn confirm_card(
        self,
        _: Context,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.require(Role::Submitter)?;
        let store = self.shared.store.clone();
        store
            .update(card, &self.identity, |c| {
                lifecycle::apply(c, Event::Confirm)?;
                let mut change = Change::new("card.confirmed");
                if !corrections.is_empty() {
                    change.detail = Some(Self::correct(c, &corrections, FieldSource::User)?);
                }
                Ok(change)
            })
            .await
    }

    async fn correct_fields(
        self,
        _: Context,
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
                change.detail = Some(Self::correct(c, &corrections, FieldSource::Reviewer)?);
                Ok(change)
            })
            .await
    }

    async fn audit_events(self, _: Context, id: CardId) -> Result<Vec<AuditEvent>, RpcError> {
        self.require(Role::Reviewer)?;
        Ok(self.shared.store.audit_for(id)?)
    }

    async fn claim_card(self, _: Context, card: CardRef) -> Result<Card, RpcError> {
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

    async fn release_card(self, _: Context, id: CardId) -> Result<(), RpcError> {
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

    async fn file_bytes(self, _: Context, id: CardId, name: String) -> Result<Vec<u8>, RpcError> {
        self.require(Role::Reviewer)?;
        let card = self.shared.store.get(id)?.ok_or(RpcError::NotFound(id))?;
        let file = card
            .files
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| RpcError::Invalid(format!("card {id} has no file {name:?}")))?;
        if file.size > MAX_FILE_BYTES {
            return Err(RpcError::Invalid(format!(
                "{name} is {} bytes, more than one frame carries ({MAX_FILE_BYTES})",
                file.size
            )));
        }
        self.shared
            .objects
            .get(&file.object_key)
            .await
            .map_err(|e| {
                tracing::warn!(card_id = %id, error = %e, "reading a file failed");
                RpcError::Unavailable(format!("cannot read {name} of card {id} from storage"))
            })
    }

    async fn changes(self, _: Context, since: u64, wait_ms: u32) -> Result<Changes, RpcError> {
        self.require(Role::Reviewer)?;
        let wait = std::time::Duration::from_millis(u64::from(wait_ms.min(MAX_WAIT_MS)));
        Ok(self.shared.store.changes(since, wait).await)
    }
}

/// The largest file `file_bytes` sends: below the 16 MiB frame, with room for the envelope.
const MAX_FILE_BYTES: u64 = 15 * 1024 * 1024;

/// The longest a change-feed call waits; clients keep their deadline above their `wait_ms`.
const MAX_WAIT_MS: u32 = 30_000;

#[cfg(test)]
mod tests;

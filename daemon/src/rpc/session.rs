//! One connection's view of the daemon: the `IdReview` service bound to the identity and role
//! the handshake established. Each method checks the role, asks the store, and maps internal
//! errors onto the wire error.

use std::sync::Arc;

use chrono::Utc;
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, DecideRequest, Decision, DecisionRecord,
    FieldCorrection, FieldSource, Health, IdReview, ItemResult, ListQuery, NewToken,
    OnboardingStage, PROTOCOL_VERSION, Role, RpcError, TokenInfo, TokenSpec, UploadManifest,
};
use tarpc::context::Context;

use super::{Caller, Shared};
use crate::lifecycle::{self, Event};
use crate::store::Change;

/// The service value for one connection.
#[derive(Clone)]
pub struct Session {
    pub(super) shared: Shared,
    pub(super) identity: Arc<str>,
    pub(super) role: Role,
    /// The token this connection authenticated with, re-checked on every call.
    token_id: Option<Arc<str>>,
    /// The only user a submitter token acts for.
    pub(super) user_id: Option<Arc<str>>,
}

impl Session {
    pub fn new(shared: Shared, caller: Caller) -> Session {
        Session {
            shared,
            identity: caller.identity.into(),
            role: caller.role,
            token_id: caller.token_id.map(Into::into),
            user_id: caller.user_id.map(Into::into),
        }
    }

    /// Refuses the call unless the connection's token is still valid, the caller is within its
    /// rate, and its role is at least `needed`.
    pub(super) fn require(&self, needed: Role) -> Result<(), RpcError> {
        if let Some(id) = &self.token_id {
            self.shared
                .store
                .check_token(id)
                .map_err(|e| RpcError::Unauthenticated(e.to_string()))?;
        }
        self.shared.limits.call(&self.identity)?;
        if self.role >= needed {
            Ok(())
        } else {
            Err(RpcError::Forbidden(format!(
                "{} needs the {needed} role; this connection is {}",
                self.identity, self.role
            )))
        }
    }

    /// [`Session::require`] for a call about `user_id`: a submitter acts only for its own user.
    pub(super) fn require_user(&self, user_id: &str) -> Result<(), RpcError> {
        self.require(Role::Submitter)?;
        self.acts_for(user_id)
    }

    /// Whether this connection may act for `user_id`: any reviewer, or the submitter bound to it.
    pub(super) fn acts_for(&self, user_id: &str) -> Result<(), RpcError> {
        if self.role > Role::Submitter || self.user_id.as_deref() == Some(user_id) {
            Ok(())
        } else {
            Err(RpcError::Forbidden(format!(
                "{} may act only for its own user, not {user_id:?}",
                self.identity
            )))
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
        // Counts are for reviewers with a valid token; everyone else learns only who they are.
        let may_count = self.require(Role::Reviewer).is_ok();
        Health {
            daemon_version: env!("CARGO_PKG_VERSION").to_string(),
            protocol_version: PROTOCOL_VERSION,
            identity: self.identity.to_string(),
            role: self.role,
            cards: if may_count { store.card_count() } else { 0 },
            by_status: if may_count {
                store.counts_by_status()
            } else {
                Vec::new()
            },
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
        self.require_user(&user_id)?;
        Ok(self.shared.store.card_for_user(&user_id)?)
    }

    async fn onboarding_stage(
        self,
        _: Context,
        user_id: String,
    ) -> Result<OnboardingStage, RpcError> {
        self.require_user(&user_id)?;
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
        self.bulk(request.cards, |card| {
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
        self.bulk(cards, |card| {
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
        let owner = self.shared.store.get(card.id)?.map(|c| c.user_id);
        self.acts_for(owner.as_deref().ok_or(RpcError::NotFound(card.id))?)?;
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

    async fn create_token(self, _: Context, spec: TokenSpec) -> Result<NewToken, RpcError> {
        self.require(Role::Admin)?;
        self.create_token_as_admin(spec).await
    }

    async fn list_tokens(self, _: Context) -> Result<Vec<TokenInfo>, RpcError> {
        self.require(Role::Admin)?;
        Ok(self.shared.store.list_tokens())
    }

    async fn revoke_token(self, _: Context, id: String) -> Result<TokenInfo, RpcError> {
        self.require(Role::Admin)?;
        self.revoke_token_as_admin(&id).await
    }

    async fn audit_export(
        self,
        _: Context,
        since: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, RpcError> {
        self.require(Role::Admin)?;
        self.audit_page(since, limit)
    }

    async fn begin_upload(self, _: Context, manifest: UploadManifest) -> Result<u64, RpcError> {
        self.require_user(&manifest.user_id)?;
        self.begin(manifest)
    }

    async fn upload_chunk(
        self,
        _: Context,
        upload: u64,
        name: String,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<u64, RpcError> {
        self.require(Role::Submitter)?;
        self.chunk(upload, &name, offset, &bytes).await
    }

    async fn finish_upload(self, _: Context, upload: u64) -> Result<String, RpcError> {
        self.require(Role::Submitter)?;
        self.finish(upload).await
    }
}

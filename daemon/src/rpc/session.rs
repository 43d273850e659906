//! One connection's view of the daemon: the `IdReview` service bound to the identity and role
//! the handshake established. Each method checks the role, asks the store, and maps internal
//! errors onto the wire error; the reviewing calls live in `review.rs`, the admin calls in
//! `admin.rs`, uploads in `upload.rs`, the dashboard and named views in `views.rs`.

use std::sync::Arc;
use std::time::Duration;

use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, DecideRequest, ErasureReport,
    ExportCursor, ExportHeader, ExportPage, FieldCorrection, FileMeta, Health, IdReview,
    ItemResult, ListQuery, LowConfidencePage, MAX_FILE_BYTES, NamedView, NewToken, OnboardingStage,
    PROTOCOL_VERSION, RejectedPage, Role, RpcError, Stats, StatsQuery, TokenInfo, TokenSpec,
    UploadManifest, ViewSpec,
};
use tarpc::context::Context;
use tracing::info;

use super::{Caller, Shared};
use crate::card::CardStore;
use crate::objects::ObjectError;
use crate::token_store::TokenStore;

/// The service value for one connection.
#[derive(Clone)]
pub struct Session {
    pub(super) shared: Shared,
    pub(super) identity: Arc<str>,
    /// The person behind the identity (see `Caller::person`).
    pub(super) person: Arc<str>,
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
            person: caller.person.into(),
            role: caller.role,
            token_id: caller.token_id.map(Into::into),
            user_id: caller.user_id.map(Into::into),
        }
    }

    /// Refuses the call unless the connection's token is still valid, the caller is within its
    /// rate, and its role is at least `needed`.
    pub(super) async fn require(&self, needed: Role) -> Result<(), RpcError> {
        if let Some(id) = &self.token_id {
            self.shared
                .store
                .check_token(id)
                .await
                .map_err(|e| RpcError::Unauthenticated(e.to_string()))?;
        }
        self.shared.limits.call(&self.identity)?;
        if self.role.may(needed) {
            Ok(())
        } else {
            Err(RpcError::Forbidden(format!(
                "{} needs the {needed} role; this connection is {}",
                self.identity, self.role
            )))
        }
    }

    /// [`Session::require`] for a call about `user_id`: a submitter acts only for its own user.
    pub(super) async fn require_user(&self, user_id: &str) -> Result<(), RpcError> {
        self.require(Role::Submitter).await?;
        self.acts_for(user_id)
    }

    /// Whether this connection may act for `user_id`: any reviewer, or the submitter bound to it.
    pub(super) fn acts_for(&self, user_id: &str) -> Result<(), RpcError> {
        if self.role.acts_for_any_user() || self.user_id.as_deref() == Some(user_id) {
            Ok(())
        } else {
            Err(RpcError::Forbidden(format!(
                "{} may act only for its own user, not {user_id:?}",
                self.identity
            )))
        }
    }
}

impl IdReview for Session {
    async fn health(self, _: Context) -> Health {
        let store = &self.shared.store;
        // Counts are for reviewers with a valid token; everyone else learns only who they are.
        let may_count = self.require(Role::Reviewer).await.is_ok();
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
            rejected: if may_count {
                crate::ingest::rejected::count(&self.shared.config.rejected_dir())
            } else {
                0
            },
        }
    }

    async fn list_cards(self, _: Context, query: ListQuery) -> Result<CardPage, RpcError> {
        self.require(Role::Reviewer).await?;
        page_limit(query.limit)?;
        Ok(self.shared.store.list(&query, &self.identity))
    }

    async fn list_refs(self, _: Context, query: ListQuery) -> Result<Vec<CardRef>, RpcError> {
        self.require(Role::Reviewer).await?;
        limit_at_most(query.limit, ListQuery::MAX_REFS)?;
        Ok(self.shared.store.refs(&query, &self.identity))
    }

    async fn low_confidence_cards(
        self,
        _: Context,
        offset: u64,
        limit: u32,
    ) -> Result<LowConfidencePage, RpcError> {
        self.require(Role::Reviewer).await?;
        page_limit(limit)?;
        Ok(self.shared.store.low_confidence(offset, limit))
    }

    async fn get_card(self, _: Context, id: CardId) -> Result<Card, RpcError> {
        self.require(Role::Reviewer).await?;
        self.shared
            .store
            .get(id)
            .await?
            .ok_or(RpcError::NotFound(id))
    }

    async fn card_for_user(self, _: Context, user_id: String) -> Result<Option<Card>, RpcError> {
        self.require_user(&user_id).await?;
        Ok(self.shared.store.card_for_user(&user_id).await?)
    }

    async fn onboarding_stage(
        self,
        _: Context,
        user_id: String,
    ) -> Result<OnboardingStage, RpcError> {
        self.require_user(&user_id).await?;
        Ok(crate::card::onboarding_stage(
            self.shared.store.card_for_user(&user_id).await?.as_ref(),
        ))
    }

    async fn decide(self, _: Context, request: DecideRequest) -> Vec<ItemResult> {
        self.decide_cards(request).await
    }

    async fn set_verified(
        self,
        _: Context,
        cards: Vec<CardRef>,
        verified: bool,
    ) -> Vec<ItemResult> {
        self.set_cards_verified(cards, verified).await
    }

    async fn confirm_card(
        self,
        _: Context,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.confirm_as_submitter(card, corrections).await
    }

    async fn correct_fields(
        self,
        _: Context,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        self.correct_as_reviewer(card, corrections).await
    }

    async fn audit_events(self, _: Context, id: CardId) -> Result<Vec<AuditEvent>, RpcError> {
        self.require(Role::Reviewer).await?;
        Ok(self.shared.store.audit_for(id).await?)
    }

    async fn file_url(self, _: Context, id: CardId, name: String) -> Result<String, RpcError> {
        self.require(Role::Reviewer).await?;
        let file = self.file(id, &name).await?;
        let lifetime = Duration::from_secs(self.shared.config.storage.presign_secs.max(1));
        self.shared
            .objects
            .presign(&file.object_key, lifetime)
            .await
            .map_err(object_error)
    }

    async fn claim_card(self, _: Context, card: CardRef) -> Result<Card, RpcError> {
        self.claim(card).await
    }

    async fn release_card(self, _: Context, id: CardId) -> Result<(), RpcError> {
        self.release(id).await
    }

    async fn file_bytes(self, _: Context, id: CardId, name: String) -> Result<Vec<u8>, RpcError> {
        self.require(Role::Reviewer).await?;
        let file = self.file(id, &name).await?;
        if file.size > MAX_FILE_BYTES {
            return Err(RpcError::Invalid(format!(
                "{name} is {} bytes, over the {MAX_FILE_BYTES} an RPC answer carries; use file_url",
                file.size
            )));
        }
        self.shared
            .objects
            .get(&file.object_key)
            .await
            .map_err(object_error)
    }

    async fn delete_card(self, _: Context, card: CardRef, reason: String) -> Result<(), RpcError> {
        self.require(Role::Admin).await?;
        let deleted = self
            .shared
            .cards
            .delete(&self.identity, card, &reason)
            .await?;
        info!(card_id = %deleted.id, user = %deleted.user_id, by = %self.identity, files = deleted.files.len(), "card deleted; its objects are queued for cleanup");
        Ok(())
    }

    async fn changes(self, _: Context, since: u64, wait_ms: u32) -> Result<Changes, RpcError> {
        self.require(Role::Reviewer).await?;
        let wait = std::time::Duration::from_millis(u64::from(wait_ms.min(MAX_WAIT_MS)));
        let store = &self.shared.store;
        // A long poll does not hold up shutdown: it answers with what there is.
        Ok(tokio::select! {
            changes = store.changes(since, wait) => changes,
            _ = self.shared.shutdown.cancelled() => store.changes(since, Duration::ZERO).await,
        })
    }

    async fn create_token(self, _: Context, spec: TokenSpec) -> Result<NewToken, RpcError> {
        self.require(Role::Admin).await?;
        self.create_token_as_admin(spec).await
    }

    async fn list_tokens(self, _: Context) -> Result<Vec<TokenInfo>, RpcError> {
        self.require(Role::Admin).await?;
        Ok(self.shared.store.list_tokens().await?)
    }

    async fn revoke_token(self, _: Context, id: String) -> Result<TokenInfo, RpcError> {
        self.require(Role::Admin).await?;
        self.revoke_token_as_admin(&id).await
    }

    async fn audit_export(
        self,
        _: Context,
        since: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, RpcError> {
        self.require(Role::Admin).await?;
        self.audit_page(since, limit).await
    }

    async fn begin_upload(self, _: Context, manifest: UploadManifest) -> Result<u64, RpcError> {
        self.require_user(&manifest.user_id).await?;
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
        self.require(Role::Submitter).await?;
        self.chunk(upload, &name, offset, &bytes).await
    }

    async fn finish_upload(self, _: Context, upload: u64) -> Result<String, RpcError> {
        self.require(Role::Submitter).await?;
        self.finish(upload).await
    }

    async fn export_begin(self, _: Context) -> Result<ExportHeader, RpcError> {
        self.require(Role::Admin).await?;
        self.export_begin_as_admin().await
    }

    async fn export_page(
        self,
        _: Context,
        id: u64,
        cursor: ExportCursor,
    ) -> Result<ExportPage, RpcError> {
        self.require(Role::Admin).await?;
        self.export_page_as_admin(id, cursor).await
    }

    async fn erase_user(
        self,
        _: Context,
        user_id: String,
        reason: String,
        dry_run: bool,
    ) -> Result<ErasureReport, RpcError> {
        self.require(Role::Admin).await?;
        self.erase_user_as_admin(&user_id, &reason, dry_run).await
    }

    async fn reopen_card(
        self,
        _: Context,
        card: CardRef,
        reason: String,
    ) -> Result<Card, RpcError> {
        self.require(Role::Admin).await?;
        Ok(self
            .shared
            .cards
            .reopen(&self.identity, card, &reason)
            .await?)
    }

    async fn rejected_submissions(
        self,
        _: Context,
        offset: u64,
        limit: u32,
    ) -> Result<RejectedPage, RpcError> {
        self.require(Role::Reviewer).await?;
        page_limit(limit)?;
        let dir = self.shared.config.rejected_dir();
        tokio::task::spawn_blocking(move || crate::ingest::rejected::page(&dir, offset, limit))
            .await
            .map_err(|e| RpcError::Internal(format!("listing rejected/: {e}")))
    }

    async fn stats(self, _: Context, query: StatsQuery) -> Result<Stats, RpcError> {
        self.stats_as_reviewer(query).await
    }

    async fn list_views(self, _: Context) -> Result<Vec<NamedView>, RpcError> {
        self.views_as_reviewer().await
    }

    async fn save_view(self, _: Context, view: ViewSpec) -> Result<NamedView, RpcError> {
        self.save_view_as_reviewer(view).await
    }

    async fn delete_view(self, _: Context, name: String, team: bool) -> Result<(), RpcError> {
        self.delete_view_as_reviewer(&name, team).await
    }
}

impl Session {
    /// The metadata of the card's file called `name`.
    async fn file(&self, id: CardId, name: &str) -> Result<FileMeta, RpcError> {
        let card = self
            .shared
            .store
            .get(id)
            .await?
            .ok_or(RpcError::NotFound(id))?;
        card.files
            .into_iter()
            .find(|f| f.name == name)
            .ok_or_else(|| RpcError::Invalid(format!("card {id} has no file named {name:?}")))
    }
}

/// Object store failures at the RPC edge: an unreachable store is worth retrying.
fn object_error(e: ObjectError) -> RpcError {
    if e.is_transient() {
        RpcError::Unavailable(e.to_string())
    } else {
        RpcError::Internal(e.to_string())
    }
}

/// The longest a change-feed call waits; clients keep their deadline above their `wait_ms`.
const MAX_WAIT_MS: u32 = 30_000;

#[cfg(test)]
mod four_eyes_tests;
#[cfg(test)]
pub(super) mod tests;

/// Refuses a page larger than one call answers.
fn page_limit(limit: u32) -> Result<(), RpcError> {
    limit_at_most(limit, ListQuery::MAX_LIMIT)
}

/// Refuses a `limit` over `max`.
fn limit_at_most(limit: u32, max: u32) -> Result<(), RpcError> {
    if limit > max {
        return Err(RpcError::Invalid(format!(
            "limit {limit} is over {max}; page with offset"
        )));
    }
    Ok(())
}

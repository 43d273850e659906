//! The admin-only calls of a session: managing tokens, paging through the audit log, exporting
//! a snapshot and erasing a person's data. Role checks happen in the service methods; these map
//! store errors onto the wire.

use idreview_protocol::{
    AuditEvent, ErasureReport, ExportCursor, ExportHeader, ExportPage, ItemResult, NewToken,
    RpcError, TokenInfo, TokenSpec,
};
use tracing::info;

use super::Session;
use crate::store::tokens::TokenError;
use crate::token_store::TokenStore;

/// Largest page of the audit log one call answers.
pub const MAX_AUDIT_PAGE: u32 = 10_000;

impl From<TokenError> for RpcError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid(why) => RpcError::Invalid(why),
            TokenError::Refused(why) => RpcError::Unauthenticated(why),
            TokenError::NotFound(id) => RpcError::Invalid(format!("no token with id {id}")),
            TokenError::Random(why) => RpcError::Internal(why),
            TokenError::Store(e) => e.into(),
        }
    }
}

impl Session {
    /// Creates a token as this connection's identity.
    pub(super) async fn create_token_as_admin(
        &self,
        spec: TokenSpec,
    ) -> Result<NewToken, RpcError> {
        Ok(self
            .shared
            .store
            .create_token(&spec, &self.identity)
            .await?)
    }

    /// Revokes a token as this connection's identity.
    pub(super) async fn revoke_token_as_admin(&self, id: &str) -> Result<TokenInfo, RpcError> {
        Ok(self.shared.store.revoke_token(id, &self.identity).await?)
    }

    /// One page of the whole audit log, at most [`MAX_AUDIT_PAGE`] events.
    pub(super) async fn audit_page(
        &self,
        since: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, RpcError> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE) as usize;
        Ok(self.shared.store.audit_since(since, limit).await?)
    }

    /// Takes an export snapshot; see [`super::exports::Exports`].
    pub(super) async fn export_begin_as_admin(&self) -> Result<ExportHeader, RpcError> {
        let store = self.shared.store.sled("export")?;
        let header = self.shared.exports.begin(store).await?;
        info!(export_id = header.export_id, cards = header.cards, audit_events = header.audit_events, by = %self.identity, "export snapshot taken");
        Ok(header)
    }

    /// The next page of an export snapshot.
    pub(super) async fn export_page_as_admin(
        &self,
        id: u64,
        cursor: ExportCursor,
    ) -> Result<ExportPage, RpcError> {
        let store = self.shared.store.sled("export")?;
        self.shared.exports.page(store, id, cursor).await
    }

    /// Erases one user's data as this connection's identity; a reason is required.
    pub(super) async fn erase_user_as_admin(
        &self,
        user_id: &str,
        reason: &str,
        dry_run: bool,
    ) -> Result<ErasureReport, RpcError> {
        let erasure = self
            .shared
            .cards
            .erase(&self.identity, user_id, reason, dry_run)
            .await?;
        let report = ErasureReport {
            cards: erasure
                .cards
                .into_iter()
                .map(|(id, result)| ItemResult {
                    id,
                    result: result.map_err(RpcError::from),
                })
                .collect(),
            files_queued: erasure.files_queued,
            events_scrubbed: erasure.events_scrubbed,
            tokens_revoked: erasure.tokens_revoked,
        };
        // The user id is not logged either: the log outlives the erasure.
        if !dry_run {
            info!(cards = report.cards.len(), files = report.files_queued, events_scrubbed = report.events_scrubbed, by = %self.identity, "user data erased");
        }
        Ok(report)
    }
}

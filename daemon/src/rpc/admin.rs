//! The admin-only calls of a session: managing tokens and paging through the audit log. Role
//! checks happen in the service methods; these map store errors onto the wire.

use idreview_protocol::{AuditEvent, NewToken, RpcError, TokenInfo, TokenSpec};

use super::Session;
use crate::store::tokens::TokenError;

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
    pub(super) fn audit_page(&self, since: u64, limit: u32) -> Result<Vec<AuditEvent>, RpcError> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE) as usize;
        Ok(self.shared.store.audit_since(since, limit)?)
    }
}

//! [`TokenStore`]: what authentication and token administration need from persistence. Two
//! implementations: the sled store (`store/tokens.rs`: a tree, and a table in memory that
//! every call checks) and `crate::pg::PgStore` (`pg/tokens.rs`: a table every daemon on the
//! database reads, so a revocation through one daemon refuses the token's next call on any).
//! Both keep only the SHA-256 of a token's secret, audit every token change in the change's
//! transaction, and share the rules (`store::tokens::mint`, `revoke`, `erase`). A user's
//! token binding and its erasure are the card domain's (`CardStore::user_token_identities`,
//! `CardStore::erase_user_tokens`).

use std::future::Future;

use idreview_protocol::{NewToken, TokenInfo, TokenSpec};

use crate::pg::PgStore;
use crate::store::Store;
use crate::store::tokens::TokenError;

/// Token persistence as authentication and administration see it.
pub trait TokenStore: Clone + Send + Sync + 'static {
    /// Creates a token for `spec`; its secret is in the answer only.
    fn create_token(
        &self,
        spec: &TokenSpec,
        actor: &str,
    ) -> impl Future<Output = Result<NewToken, TokenError>> + Send;

    /// Revokes the token `id`: every later check of it fails.
    fn revoke_token(
        &self,
        id: &str,
        actor: &str,
    ) -> impl Future<Output = Result<TokenInfo, TokenError>> + Send;

    /// Every token, oldest first.
    fn list_tokens(&self) -> impl Future<Output = Result<Vec<TokenInfo>, TokenError>> + Send;

    /// The token a bearer string names, if it is known, matches and is usable now.
    fn authenticate(
        &self,
        bearer: &str,
    ) -> impl Future<Output = Result<TokenInfo, TokenError>> + Send;

    /// Re-checks the token `id` for a call on an open connection and notes its use.
    fn check_token(&self, id: &str) -> impl Future<Output = Result<TokenInfo, TokenError>> + Send;
}

/// The sled store answers from its table in memory, at once.
impl TokenStore for Store {
    async fn create_token(&self, spec: &TokenSpec, actor: &str) -> Result<NewToken, TokenError> {
        Store::create_token(self, spec, actor).await
    }

    async fn revoke_token(&self, id: &str, actor: &str) -> Result<TokenInfo, TokenError> {
        Store::revoke_token(self, id, actor).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
        Ok(Store::list_tokens(self))
    }

    async fn authenticate(&self, bearer: &str) -> Result<TokenInfo, TokenError> {
        Store::authenticate(self, bearer)
    }

    async fn check_token(&self, id: &str) -> Result<TokenInfo, TokenError> {
        Store::check_token(self, id)
    }
}

/// PostgreSQL answers from the `tokens` table (one indexed read per check).
impl TokenStore for PgStore {
    async fn create_token(&self, spec: &TokenSpec, actor: &str) -> Result<NewToken, TokenError> {
        self.new_token(spec, actor).await
    }

    async fn revoke_token(&self, id: &str, actor: &str) -> Result<TokenInfo, TokenError> {
        self.revoke(id, actor).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
        self.tokens().await
    }

    async fn authenticate(&self, bearer: &str) -> Result<TokenInfo, TokenError> {
        self.bearer(bearer).await
    }

    async fn check_token(&self, id: &str) -> Result<TokenInfo, TokenError> {
        self.recheck(id).await
    }
}

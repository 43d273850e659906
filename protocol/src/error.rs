//! The error every RPC method can answer with. Daemon-internal errors are mapped onto it at the
//! server's edge and never serialised as they are.

use serde::{Deserialize, Serialize};

use crate::{CardId, Status};

/// Why a call (or one item of a bulk call) did not do what was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum RpcError {
    #[error("card {0} not found")]
    NotFound(CardId),
    #[error(
        "conflict: card {id} is at version {actual}, the change was based on {expected}; reload and try again"
    )]
    Conflict {
        id: CardId,
        expected: u64,
        actual: u64,
    },
    #[error("a card in status {from} cannot be {action}")]
    IllegalTransition { from: Status, action: String },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("the daemon is busy or shutting down: {0}")]
    Unavailable(String),
    #[error("internal error in the daemon: {0} (see its log)")]
    Internal(String),
    #[error("card {id} is held by {holder} until {until}; ask them or an admin to release it")]
    Held {
        id: CardId,
        holder: String,
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The connection's token is no longer valid (revoked or expired); reconnect with another.
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// Too many calls or uploaded bytes for this identity; try again after the pause.
    #[error("rate limit exceeded: {what}; retry in {retry_after_ms} ms")]
    RateLimited { what: String, retry_after_ms: u64 },
}

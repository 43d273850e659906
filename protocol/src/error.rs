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
    #[error(
        "card {id} is held by {holder} until {}; ask them or an admin to release it",
        until.format("%Y-%m-%d %H:%M UTC")
    )]
    Held {
        id: CardId,
        holder: String,
        #[serde(with = "crate::time")]
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The connection's token is no longer valid (revoked or expired); reconnect with another.
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// Too many calls or uploaded bytes for this identity; try again after the pause.
    #[error("rate limit exceeded: {what}; retry in {retry_after_ms} ms")]
    RateLimited { what: String, retry_after_ms: u64 },
    /// An approval of a card with unresolved doubts, without `override_doubts`.
    #[error(
        "card {id} has unresolved doubts: {}; approving it anyway takes an explicit override with a reason",
        .doubts.join(", ")
    )]
    Doubts { id: CardId, doubts: Vec<String> },
    /// Four eyes: the caller's approval of a flagged card was recorded as the first of two;
    /// the card stays undecided until another person approves it.
    #[error(
        "card {id}: approval 1/2 by {person} recorded; the card is flagged and needs a second reviewer's approval (four eyes)"
    )]
    SecondApprovalNeeded { id: CardId, person: String },
}

/// An error and its causes on one line for a person to read, each cause once: a message that
/// already quotes its source (`cannot decode the image: <why>`) is not followed by it again.
/// Both binaries print their fatal errors this way.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line = format!("{line}: {text}");
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("cannot decode the image: {0}")]
        Quoting(#[from] std::io::Error),
        #[error("reading scan.jpg")]
        Wrapping(#[source] std::io::Error),
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = || std::io::Error::other("not an image");
        assert_eq!(
            super::one_line(&Outer::Quoting(io())),
            "cannot decode the image: not an image"
        );
        assert_eq!(
            super::one_line(&Outer::Wrapping(io())),
            "reading scan.jpg: not an image"
        );
    }
}

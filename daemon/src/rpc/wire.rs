//! Domain and store errors as the wire carries them: the one place a `CardError` or a
//! `StoreError` becomes an `RpcError`. Internal failures keep their message (for the log the
//! client is pointed to) but never their type.

use idreview_protocol::RpcError;

use crate::backend::NotOnPostgres;
use crate::card::CardError;
use crate::store::StoreError;

impl From<CardError> for RpcError {
    fn from(e: CardError) -> Self {
        match e {
            CardError::NotFound(id) => RpcError::NotFound(id),
            CardError::Conflict {
                id,
                expected,
                actual,
            } => RpcError::Conflict {
                id,
                expected,
                actual,
            },
            CardError::IllegalTransition { from, action } => {
                RpcError::IllegalTransition { from, action }
            }
            CardError::Invalid(why) => RpcError::Invalid(why),
            e @ CardError::Fields(_) => RpcError::Invalid(e.to_string()),
            CardError::Held { id, holder, until } => RpcError::Held { id, holder, until },
            CardError::Doubts { id, doubts } => RpcError::Doubts { id, doubts },
            e @ (CardError::ActiveCard { .. }
            | CardError::DuplicateSubmission { .. }
            | CardError::DuplicateDocument { .. }
            | CardError::SamePerson { .. }) => RpcError::Invalid(e.to_string()),
            CardError::SecondApprovalNeeded { id, person } => {
                RpcError::SecondApprovalNeeded { id, person }
            }
            CardError::Store(e) => e.into(),
            e @ CardError::StoreFailed(_) => RpcError::Internal(e.to_string()),
        }
    }
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ActiveCard { .. } | StoreError::NotOnPostgres(_) => {
                RpcError::Invalid(e.to_string())
            }
            other => RpcError::Internal(other.to_string()),
        }
    }
}

impl From<NotOnPostgres> for RpcError {
    fn from(e: NotOnPostgres) -> Self {
        RpcError::Invalid(e.to_string())
    }
}

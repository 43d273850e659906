//! The card domain: the one home of every change to a card. [`Cards`] has one method per
//! change: a card created from a submission and moved through the pipeline ([`intake`]: the
//! upload, the verification result and later re-verifications), a reviewer's or user's work
//! ([`review`]: decide, verify, confirm, correct, claim, release) and a card's end
//! ([`removal`]: deletion, retention expiry, erasure). Each method checks the state machine
//! ([`state`]) and the data rules ([`rules`]), writes through the store with its audit event
//! in the same transaction, and answers a [`CardError`]. A bulk change is one transaction and
//! one flush.
//!
//! Front ends (the RPC session) only translate wire <-> domain and map [`CardError`] onto
//! their own error; the ingestion pipeline and the verification workers call the same methods.
//! Persistence is reached through [`CardStore`], the narrow interface the domain needs.

mod confirmation;
mod duplicates;
mod intake;
mod removal;
#[cfg(test)]
pub(crate) use removal::tests as removal_tests;
mod review;
pub mod rules;
pub mod state;
mod store;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use idreview_protocol::{CardId, Status};

use crate::backend::Backend;
use crate::config::Config;
use crate::store::{Refused, StoreError};

pub use confirmation::KNOWN_FIELDS;
pub use intake::NewCard;
pub use removal::{Erasure, Keep, RETENTION_ACTOR};
pub use review::Approval;
pub use state::{Event, onboarding_stage};
pub use store::CardStore;

/// Answers the reused-document findings of a card as a change leaves it (see `duplicates.rs`).
type Reused<'a> =
    dyn Fn(&idreview_protocol::Card) -> Result<Vec<idreview_protocol::Finding>, CardError> + 'a;

/// Why a change to a card was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
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
    /// The request breaks a rule of the card's data or of the call (a missing reason, a bad
    /// field name).
    #[error("{0}")]
    Invalid(String),
    /// Values a user sent that the card does not take, each with its field name and why (a
    /// date that is not a date, an age out of range, a field the card has no place for).
    #[error("{}", .0.iter().map(|(f, why)| format!("{f}: {why}")).collect::<Vec<_>>().join("; "))]
    Fields(Vec<(String, String)>),
    #[error(
        "card {id} is held by {holder} until {}; ask them or an admin to release it",
        until.format("%Y-%m-%d %H:%M UTC")
    )]
    Held {
        id: CardId,
        holder: String,
        until: DateTime<Utc>,
    },
    /// An approval of a card with unresolved doubts, without an override.
    #[error(
        "card {id} has unresolved doubts: {}; approving it anyway takes an explicit override with a reason",
        .doubts.join(", ")
    )]
    Doubts { id: CardId, doubts: Vec<String> },
    #[error("user {user} already has an active card ({card}); reject it before submitting again")]
    ActiveCard { user: String, card: CardId },
    /// The same files again for the same user: nothing new to review.
    #[error("user {user} already sent these files: card {card}; no second card was made")]
    DuplicateSubmission { user: String, card: CardId },
    /// A file already on another user's card, refused under `[inbox] duplicates = "reject"`.
    #[error("{what} is already on card {card} of another user (a reused document)")]
    DuplicateDocument {
        card: CardId,
        /// What is reused, e.g. `file front.jpg`.
        what: String,
        /// The submission's file that is reused, and its role.
        file: String,
        role: idreview_protocol::FileRole,
    },
    /// Four eyes: the approval was recorded as the first of two; the card stays undecided.
    #[error(
        "card {id}: approval 1/2 by {person} recorded; the card is flagged and needs a second reviewer's approval (four eyes)"
    )]
    SecondApprovalNeeded { id: CardId, person: String },
    /// Four eyes: the second approval came from the person who gave the first.
    #[error(
        "card {id}: {person} gave the first approval; the second must come from another person (four eyes)"
    )]
    SamePerson { id: CardId, person: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store failed a whole call (every card of it gets this).
    #[error("the store failed: {0}")]
    StoreFailed(String),
}

impl From<Refused> for CardError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::NotFound(id) => CardError::NotFound(id),
            Refused::Conflict {
                id,
                expected,
                actual,
            } => CardError::Conflict {
                id,
                expected,
                actual,
            },
            Refused::NamedTwice(id) => CardError::Invalid(format!("card {id} is named twice")),
        }
    }
}

/// The card domain's handle: cheap to clone, one per daemon, shared by every front end and
/// worker (over the daemon's [`Backend`]; tests also run it over one store directly).
#[derive(Clone)]
pub struct Cards<S: CardStore = Backend> {
    store: S,
    config: Arc<Config>,
}

impl<S: CardStore> Cards<S> {
    /// The domain over `store`, with the rules `config` sets (confidence threshold, ages,
    /// leases, decision pushes, retention).
    pub fn new(store: S, config: Arc<Config>) -> Cards<S> {
        Cards { store, config }
    }

    /// The data rules as of today.
    fn rules(&self) -> rules::Rules {
        rules::Rules::new(&self.config.validation, Utc::now().date_naive())
    }

    /// Below this confidence a field is unsure (a doubt, and no auto-verification).
    fn threshold(&self) -> f32 {
        self.config.verification.confidence_threshold
    }
}

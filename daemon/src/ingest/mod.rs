//! Ingestion: from a folder dropped in the inbox to a card, or to `rejected/` with a reason.
//!
//! - [`inbox`] watches the inbox and claims each complete submission;
//! - [`Claimed`] owns a claimed folder from the claim to its end;
//! - [`pipeline`] takes a claim through validate -> card -> object store -> verify, through the
//!   card domain, and ends it;
//! - `workarea` holds the crash-safe steps a claim ends by, and the repair at start;
//! - [`rejected`] reads `rejected/` back for reviewers.
//!
//! Nothing that enters the inbox is deleted without becoming a card or landing in `rejected/`.

mod claimed;
mod inbox;
pub mod pipeline;
pub mod rejected;
mod workarea;

pub use claimed::Claimed;
pub use inbox::{InboxError, run};
pub use pipeline::{Outcome, PIPELINE_ACTOR, Pipeline, Submitted};

//! The change feed's answer: which cards were written after a cursor.

use serde::{Deserialize, Serialize};

use crate::{CardId, CardSummary};

/// Cards that changed, or went, since a cursor of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// Pass this as `since` next time.
    pub cursor: u64,
    /// Summaries of the cards written after `since`, oldest change first (at most
    /// [`Changes::MAX_CARDS`]; more are picked up by the next call from `cursor`).
    pub cards: Vec<CardSummary>,
    /// Cards deleted after `since` (by an admin or by retention), oldest first.
    pub deleted: Vec<CardId>,
}

impl Changes {
    /// The most summaries one answer carries.
    pub const MAX_CARDS: usize = 1000;
}

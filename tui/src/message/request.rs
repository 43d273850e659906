//! What the console asks its RPC worker for ([`Request`]), and the bulk actions a request may
//! carry ([`BulkOp`]).

use std::time::Duration;

use idreview_protocol::{CardId, CardRef, ListQuery, ViewSpec};

/// A bulk action on many cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOp {
    Approve,
    /// Approve cards the daemon refused for their doubts, with the reviewer's reason.
    ApproveOverDoubts,
    Reject,
    Verify,
    Unverify,
}

impl BulkOp {
    /// The verb, for prompts: `approve`.
    pub fn verb(self) -> &'static str {
        match self {
            BulkOp::Approve => "approve",
            BulkOp::ApproveOverDoubts => "approve over doubts",
            BulkOp::Reject => "reject",
            BulkOp::Verify => "verify",
            BulkOp::Unverify => "unverify",
        }
    }

    /// The past tense, for results: `approved`.
    pub fn done(self) -> &'static str {
        match self {
            BulkOp::Approve | BulkOp::ApproveOverDoubts => "approved",
            BulkOp::Reject => "rejected",
            BulkOp::Verify => "verified",
            BulkOp::Unverify => "unverified",
        }
    }
}

/// What the console asks the RPC worker for. Each answer comes back as one [`Action`](super::Action) (a bulk
/// run also sends progress on the way).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Health,
    List(ListQuery),
    Card(CardId),
    Audit(CardId),
    /// Claim the card and load it.
    Claim(CardId),
    Release(CardId),
    Correct {
        card: CardRef,
        field: String,
        value: String,
    },
    /// The references of the cards at positions `from..to` of `query`'s order.
    Collect {
        query: ListQuery,
        from: u64,
        to: u64,
    },
    /// `op` on every card, in chunks of [`crate::rpc::CHUNK`].
    Bulk {
        op: BulkOp,
        cards: Vec<CardRef>,
        reason: String,
    },
    /// One long-poll of the change feed after cursor `since`.
    Changes(u64),
    /// The dashboard's numbers, asked for after waiting `after` (so that a burst of changes
    /// costs one call), for this machine's time zone.
    Stats {
        after: Duration,
    },
    /// The named views: the reviewer's own and the team's.
    Views,
    /// Save a named view.
    SaveView(ViewSpec),
    /// Delete one of the reviewer's named views (or, admins, a team view).
    DeleteView {
        name: String,
        team: bool,
    },
    /// A card's image file, fetched and decoded off the UI thread.
    Image {
        id: CardId,
        name: String,
    },
    /// A card's image file, fetched and written to `to`, or (`None`) to a private temporary
    /// file opened in the system viewer.
    ExportImage {
        id: CardId,
        name: String,
        to: Option<std::path::PathBuf>,
    },
}

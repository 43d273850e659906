//! The vocabulary of the console: every [`Action`] that may change its state (from keys, the
//! clock, the terminal and RPC answers) and every [`Command`] the state asks the outside world
//! to carry out.

use chrono::{DateTime, Utc};
use idreview_protocol::transport::Welcome;
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, DecideRequest, Health, ItemResult, ListQuery,
};

use crate::rpc::{CallError, Request};

/// One change to the console's state. [`crate::app::App::update`] is the only consumer.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave the console.
    Quit,
    /// Selection (list) or scroll (detail) one row up.
    MoveUp,
    /// Selection (list) or scroll (detail) one row down.
    MoveDown,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// To the first card.
    First,
    /// To the last card.
    Last,
    /// Open the selected card.
    OpenDetail,
    /// Close the help or the detail screen.
    Back,
    /// Show the help screen.
    ShowHelp,
    /// Open the filter bar with the current filter.
    OpenFilter,
    /// Step the quick status filter: any, needs_review, auto_verified, approved, rejected.
    CycleStatus,
    /// Start approving the current card (asks for an optional reason).
    Approve,
    /// Start rejecting the current card (asks for a reason).
    Reject,
    /// Reload what is on screen.
    Refresh,
    /// Accept the open prompt.
    Submit,
    /// Close the open prompt without acting.
    Cancel,
    /// Type one character into the open prompt.
    Input(char),
    /// Delete the last character of the prompt.
    DeleteChar,
    /// Clear the prompt.
    ClearInput,
    /// The clock ticked: time to refresh.
    Tick(DateTime<Utc>),
    /// The terminal has this many rows now.
    Resize { rows: u16 },
    /// The worker (re)connected.
    Connected(Welcome),
    /// The worker lost or could not make the connection.
    Disconnected(String),
    /// Answer to [`Request::Health`].
    HealthLoaded(Result<Health, CallError>),
    /// Answer to [`Request::List`], with the query it answers.
    PageLoaded {
        query: ListQuery,
        result: Result<CardPage, CallError>,
    },
    /// Answer to [`Request::Card`].
    CardLoaded {
        id: CardId,
        result: Result<Card, CallError>,
    },
    /// Answer to [`Request::Audit`].
    AuditLoaded {
        id: CardId,
        result: Result<Vec<AuditEvent>, CallError>,
    },
    /// Answer to [`Request::Decide`], with the request it answers.
    Decided {
        request: DecideRequest,
        result: Result<Vec<ItemResult>, CallError>,
    },
}

impl Action {
    /// The failure an RPC answer carries, if it is one that failed.
    pub fn call_error(&self) -> Option<&CallError> {
        match self {
            Action::HealthLoaded(Err(e))
            | Action::PageLoaded { result: Err(e), .. }
            | Action::CardLoaded { result: Err(e), .. }
            | Action::AuditLoaded { result: Err(e), .. }
            | Action::Decided { result: Err(e), .. } => Some(e),
            _ => None,
        }
    }
}

/// An effect the state asks for; the event loop carries it out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send a request to the RPC worker.
    Rpc(Request),
    /// Restore the terminal and leave.
    Quit,
}

//! Every [`Action`] that may change the console's state (from keys, the clock, the terminal
//! and RPC answers) and every [`Command`] the state asks the outside world to carry out.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use idreview_protocol::transport::Welcome;
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, Health, ItemResult, ListQuery, NamedView,
    Stats,
};
use image::DynamicImage;

use super::call_error::CallError;
use super::request::{BulkOp, Request};
use crate::saved::SavedView;

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
    /// Start approving the marked cards, or the current one (asks for an optional reason).
    Approve,
    /// Start rejecting the marked cards, or the current one (asks for a reason).
    Reject,
    /// Mark the marked cards, or the current one, as checked by a reviewer.
    Verify,
    /// Take the reviewer's check back.
    Unverify,
    /// Sort by the next column.
    NextSort,
    /// Flip the sort direction.
    ReverseSort,
    /// Mark or unmark the selected card for a bulk action, then move down.
    ToggleMark,
    /// Mark every card from the last toggled one to the selected one.
    MarkRange,
    /// Mark the selected card, move down and mark that one too (Shift-↓).
    MarkDown,
    /// Mark the selected card, move up and mark that one too (Shift-↑).
    MarkUp,
    /// Mark every card matching the filter (fetched page by page).
    MarkAll,
    /// Unmark everything.
    ClearMarks,
    /// Focus the next field of the open card.
    NextField,
    /// Tab in a prompt: complete the filter key, or the next preset reason.
    Complete,
    /// Focus the previous field of the open card.
    PrevField,
    /// Edit the focused field's value (sent as a correction).
    EditField,
    /// Narrow the list to the low-confidence queue.
    Queue,
    /// Accept the focused field's value as it is and move to the next unsure field.
    AcceptField,
    /// Leave the focused field and move to the next unsure one.
    SkipField,
    /// Close the card and open the next one in the list.
    NextCard,
    /// Close the card and open the previous one in the list.
    PrevCard,
    /// Show the document image instead of the card's text, or back.
    ToggleImage,
    /// Zoom the image to the focused field's box, or back to the whole image.
    ZoomField,
    /// Turn the image a quarter clockwise.
    Rotate,
    /// Show the card's next image file.
    NextImage,
    /// Open the card's image (the one shown, else the one `i` shows first) in the system viewer.
    OpenImage,
    /// Ask where to write the card's image (the one shown, else the one `i` shows first).
    WriteImage,
    /// Give up the claim on the selected or open card (admins: anyone's).
    Release,
    /// Answer yes to the open confirmation.
    Confirm,
    /// Reload what is on screen.
    Refresh,
    /// Open the dashboard: counts, the queue, reviewers' decisions and charts.
    ShowDashboard,
    /// Ask for a name to save the list's filter and sort under (a named view).
    SaveView,
    /// Open the picker of named views (the reviewer's own and the team's).
    PickView,
    /// Show the list through the view selected in the picker.
    ApplyView,
    /// Delete the reviewer's own view selected in the picker.
    DeleteView,
    /// Accept the open prompt.
    Submit,
    /// Close the open prompt without acting.
    Cancel,
    /// Type one character into the open prompt.
    Input(char),
    /// Delete the character before the prompt's cursor.
    DeleteChar,
    /// Delete the character under the prompt's cursor.
    DeleteForward,
    /// Move the prompt's cursor a character left.
    CursorLeft,
    /// Move the prompt's cursor a character right.
    CursorRight,
    /// Move the prompt's cursor to the start.
    CursorHome,
    /// Move the prompt's cursor to the end.
    CursorEnd,
    /// The filter bar: the previous filter applied.
    HistoryPrev,
    /// The filter bar: the next filter applied.
    HistoryNext,
    /// Clear the prompt.
    ClearInput,
    /// The clock ticked: time to refresh.
    Tick(DateTime<Utc>),
    /// The terminal has this many rows and columns now.
    Resize { rows: u16, cols: u16 },
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
    /// Answer to [`Request::Claim`]: the claimed card, or why it could not be claimed.
    Claimed {
        id: CardId,
        result: Result<Card, CallError>,
    },
    /// Answer to [`Request::Release`].
    Released {
        id: CardId,
        result: Result<(), CallError>,
    },
    /// Answer to [`Request::Correct`].
    Corrected {
        id: CardId,
        field: String,
        result: Result<Card, CallError>,
    },
    /// Answer to [`Request::Collect`]: the matching cards in `from..to` with their versions.
    Collected {
        query: ListQuery,
        result: Result<Vec<CardRef>, CallError>,
    },
    /// A chunk of a bulk run is done; `done` of `total` cards have an answer.
    BulkProgress { done: usize, total: usize },
    /// A bulk run finished (or stopped at `error`); a result for every card sent.
    BulkDone {
        op: BulkOp,
        total: usize,
        results: Vec<ItemResult>,
        error: Option<CallError>,
    },
    /// Answer to [`Request::Changes`].
    ChangesLoaded(Result<Changes, CallError>),
    /// Answer to [`Request::Stats`].
    StatsLoaded(Result<Stats, CallError>),
    /// Answer to [`Request::Views`].
    ViewsLoaded(Result<Vec<NamedView>, CallError>),
    /// Answer to [`Request::SaveView`].
    ViewSaved(Result<NamedView, CallError>),
    /// Answer to [`Request::DeleteView`].
    ViewDeleted {
        name: String,
        result: Result<(), CallError>,
    },
    /// Answer to [`Request::ExportImage`]: where the image went, or why it did not.
    ImageExported(Result<String, String>),
    /// Answer to [`Request::Image`]: the decoded image, or why there is none.
    ImageLoaded {
        id: CardId,
        name: String,
        result: Result<Arc<DynamicImage>, String>,
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
            | Action::Claimed { result: Err(e), .. }
            | Action::Released { result: Err(e), .. }
            | Action::Corrected { result: Err(e), .. }
            | Action::Collected { result: Err(e), .. }
            | Action::BulkDone { error: Some(e), .. }
            | Action::ChangesLoaded(Err(e))
            | Action::StatsLoaded(Err(e))
            | Action::ViewsLoaded(Err(e))
            | Action::ViewSaved(Err(e))
            | Action::ViewDeleted { result: Err(e), .. } => Some(e),
            _ => None,
        }
    }
}

/// An effect the state asks for; the event loop carries it out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send a request to the RPC worker.
    Rpc(Request),
    /// Remember the filter and sort for the next run.
    SaveView(SavedView),
    /// Restore the terminal and leave.
    Quit,
}

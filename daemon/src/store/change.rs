//! What one write did, as its audit event will tell it: the action, the reason, and the
//! before/after snapshot of a card's reviewable state.

use idreview_protocol::{Card, Status};
use serde::Serialize;

/// What a change did, for its audit event.
#[derive(Debug, Clone)]
pub struct Change {
    /// e.g. `card.approved`, `field.corrected`.
    pub action: String,
    pub reason: Option<String>,
    /// Before/after JSON for changes the status snapshot does not show (e.g. field values).
    pub detail: Option<(String, String)>,
}

impl Change {
    /// A change called `action`, without reason or detail.
    pub fn new(action: impl Into<String>) -> Change {
        Change {
            action: action.into(),
            reason: None,
            detail: None,
        }
    }

    /// The same change with a reason.
    pub fn because(mut self, reason: impl Into<String>) -> Change {
        self.reason = Some(reason.into());
        self
    }
}

/// The reviewable state of a card, as JSON, for an audit event's before/after.
pub(super) fn snapshot(card: &Card) -> String {
    #[derive(Serialize)]
    struct Snapshot<'a> {
        status: Status,
        verified: bool,
        confirmed: bool,
        assignee: &'a Option<String>,
        lease_until: Option<chrono::DateTime<chrono::Utc>>,
        version: u64,
    }
    serde_json::to_string(&Snapshot {
        status: card.status,
        verified: card.verified,
        confirmed: card.confirmed,
        assignee: &card.assignee,
        lease_until: card.lease_until,
        version: card.version,
    })
    .unwrap_or_default()
}

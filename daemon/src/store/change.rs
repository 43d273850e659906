//! What one card change did: the audit record it leaves (action, reason, the before/after
//! snapshot of the card's reviewable state) and the deferred work it adds or finishes, all
//! written in the change's transaction.

use chrono::Utc;
use idreview_protocol::{AuditEvent, Card, CardId, Status};
use serde::Serialize;

use super::outbox::OutboxOp;

/// What a change did, for its audit event.
#[derive(Debug, Clone)]
pub struct Change {
    /// e.g. `card.approved`, `field.corrected`.
    pub action: String,
    pub reason: Option<String>,
    /// Before/after JSON for changes the status snapshot does not show (e.g. field values).
    pub detail: Option<(String, String)>,
    /// Deferred work added or finished in the same transaction as the change.
    pub outbox: Vec<OutboxOp>,
    /// Doubts an approval overrode (see `lifecycle::doubts`); named in the event's `after`.
    pub overridden_doubts: Vec<String>,
}

impl Change {
    /// A change audited as `action`.
    pub fn new(action: impl Into<String>) -> Change {
        Change {
            action: action.into(),
            reason: None,
            detail: None,
            outbox: Vec::new(),
            overridden_doubts: Vec::new(),
        }
    }

    /// With the reason the actor gave.
    pub fn because(mut self, reason: impl Into<String>) -> Change {
        self.reason = Some(reason.into());
        self
    }

    /// The audit event of this change, numbered `seq`, made now by `actor`: its before/after
    /// are the change's own detail, else the snapshots of `before` and `after` (the outbox
    /// ops are the caller's to write).
    pub(crate) fn event(
        self,
        seq: u64,
        card_id: Option<CardId>,
        actor: &str,
        before: Option<&Card>,
        after: Option<&Card>,
    ) -> AuditEvent {
        let before = match self.detail {
            Some(_) => None,
            None => before.map(|c| snapshot(c, &[])),
        };
        self.event_after(seq, card_id, actor, before, after)
    }

    /// [`Change::event`] with the snapshot of the card before the change already taken (a
    /// bulk change works on the card itself, not a copy).
    pub(crate) fn event_after(
        self,
        seq: u64,
        card_id: Option<CardId>,
        actor: &str,
        before: Option<String>,
        after: Option<&Card>,
    ) -> AuditEvent {
        let (before, after) = match self.detail {
            Some((b, a)) => (Some(b), Some(a)),
            None => (before, after.map(|c| snapshot(c, &self.overridden_doubts))),
        };
        AuditEvent {
            seq,
            card_id,
            at: Utc::now(),
            actor: actor.to_string(),
            action: self.action,
            reason: self.reason,
            before,
            after,
        }
    }
}

/// The reviewable state of a card, as JSON, for an audit event's before/after; `overridden`
/// names the doubts an approval overrode, when there were any.
pub(crate) fn snapshot(card: &Card, overridden: &[String]) -> String {
    #[derive(Serialize)]
    struct Snapshot<'a> {
        status: Status,
        verified: bool,
        confirmed: bool,
        assignee: &'a Option<String>,
        lease_until: Option<chrono::DateTime<chrono::Utc>>,
        version: u64,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        overridden_doubts: &'a [String],
        /// The person of a first approval awaiting a second (four eyes).
        #[serde(skip_serializing_if = "Option::is_none")]
        approval_pending_by: Option<&'a str>,
    }
    serde_json::to_string(&Snapshot {
        status: card.status,
        verified: card.verified,
        confirmed: card.confirmed,
        assignee: &card.assignee,
        lease_until: card.lease_until,
        version: card.version,
        overridden_doubts: overridden,
        approval_pending_by: card.pending_approval.as_ref().map(|p| p.person.as_str()),
    })
    .unwrap_or_default()
}

//! What one card change did: the audit record it leaves and the deferred work it adds or
//! finishes, all written in the change's transaction.

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
}

impl Change {
    /// A change audited as `action`.
    pub fn new(action: impl Into<String>) -> Change {
        Change {
            action: action.into(),
            reason: None,
            detail: None,
            outbox: Vec::new(),
        }
    }

    /// With the reason the actor gave.
    pub fn because(mut self, reason: impl Into<String>) -> Change {
        self.reason = Some(reason.into());
        self
    }
}

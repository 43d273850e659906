//! Wire types of the admin calls that take data out of the daemon or erase it: the paged export
//! of a consistent snapshot ([`ExportHeader`], [`ExportPage`]) and the erasure of one person's
//! data ([`ErasureReport`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ItemResult;

/// The version of the export file's line format; an import refuses other versions.
pub const EXPORT_FORMAT: u32 = 1;

/// What an export snapshot holds, answered when it is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportHeader {
    /// Names the snapshot in [`crate::IdReview::export_page`] calls.
    pub export_id: u64,
    /// [`EXPORT_FORMAT`] of the lines.
    pub format: u32,
    pub daemon_version: String,
    #[serde(with = "crate::time")]
    pub taken_at: DateTime<Utc>,
    /// Every audit event with a seq up to this one is in the snapshot, and no later one.
    pub audit_high_seq: u64,
    /// The store's card id counter, so that a restored store never hands out an old id again.
    pub last_card_id: u64,
    pub cards: u64,
    pub tokens: u64,
    pub audit_events: u64,
    /// Ranges of seqs (first, last, inclusive) below `audit_high_seq` that no event has: numbers
    /// older daemons skipped (their audit seqs shared a counter with other queues), never a
    /// deleted event. Empty for a log numbered without gaps (and in files from before it).
    #[serde(default)]
    pub audit_gaps: Vec<(u64, u64)>,
}

/// Where the next page of an export starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCursor {
    /// Lines of cards and tokens already answered.
    pub item: u64,
    /// The last audit seq already answered.
    pub after_seq: u64,
}

/// One page of an export: JSON lines, each an object with a `kind` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportPage {
    pub lines: Vec<String>,
    /// `None` when the snapshot is exhausted (and released).
    pub next: Option<ExportCursor>,
}

/// What erasing one user's data did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureReport {
    /// One result per card the user had: erased (with its last version), or why not.
    pub cards: Vec<ItemResult>,
    /// Stored files queued for removal.
    pub files_queued: u64,
    /// Audit events whose personal data was removed.
    pub events_scrubbed: u64,
    /// Submitter tokens bound to the user, revoked and unbound.
    pub tokens_revoked: u64,
}

//! The dashboard's numbers ([`Stats`]): cards per status and document type, the review queue,
//! reviewers' decisions, the provider's auto-verified share, the confidence histogram and the
//! hourly activity, as one `stats` call answers them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DocumentType, Status};

/// What a `stats` call asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// The caller's offset from UTC in seconds (east positive), so that "today" and "this
    /// week" start at the caller's midnight; rounded to a quarter hour.
    pub utc_offset_secs: i32,
}

/// One reviewer's decisions (approvals and rejections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerStats {
    /// The identity the decisions were made as (`token:alice`, `local:root`).
    pub reviewer: String,
    /// Since the caller's midnight.
    pub today: u64,
    /// Since the caller's last Monday midnight.
    pub week: u64,
}

/// The dashboard's numbers. Counts of cards come from the daemon's index (every card); the
/// decisions, verification results and hourly activity from the audit log's last
/// [`Stats::WINDOW_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// When the daemon counted.
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
    /// Cards in all.
    pub cards: u64,
    /// Cards per status, in [`Status::ALL`] order.
    pub by_status: Vec<(Status, u64)>,
    /// Cards per document type, in [`DocumentType::ALL`] order.
    pub by_type: Vec<(DocumentType, u64)>,
    /// Cards waiting for a person (status `needs_review`).
    pub queue: u64,
    /// When the oldest of them was created.
    #[serde(with = "crate::time::option")]
    pub queue_oldest: Option<DateTime<Utc>>,
    /// Decisions per reviewer, most this week first.
    pub reviewers: Vec<ReviewerStats>,
    /// Cards the provider finished with in the window (their first verification result).
    pub verified: u64,
    /// Of those, the ones it auto-verified (no person needed).
    pub auto_verified: u64,
    /// Cards per tenth of confidence, [`Stats::BUCKETS`] of them: `[0, 0.1)`, ... `[0.9, 1]`.
    pub confidence: Vec<u64>,
    /// Cards without a confidence (nothing was read).
    pub unrated: u64,
    /// Decisions per hour of the last [`Stats::HOURS`] hours, oldest first; the last is the
    /// hour running now (hours start at the caller's whole hours).
    pub decisions_per_hour: Vec<u64>,
    /// New cards per hour, the same hours.
    pub cards_per_hour: Vec<u64>,
}

impl Stats {
    /// Days of audit log the decisions and verification results reach back.
    pub const WINDOW_DAYS: u32 = 7;
    /// Hours of the hourly series.
    pub const HOURS: usize = 24;
    /// Buckets of the confidence histogram.
    pub const BUCKETS: usize = 10;

    /// The share of verified cards the provider auto-verified, if it verified any.
    pub fn auto_share(&self) -> Option<f64> {
        (self.verified > 0).then(|| self.auto_verified as f64 / self.verified as f64)
    }

    /// The histogram bucket of a confidence (values outside 0..=1 go to the ends).
    pub fn bucket(confidence: f32) -> usize {
        let at = (f64::from(confidence) * Self::BUCKETS as f64).floor();
        (at.max(0.0) as usize).min(Self::BUCKETS - 1)
    }
}

//! The dashboard's numbers: the index's counts over every card and the audit log's tally of
//! the last week ([`tally`](super::tally)), caught up with the log on every call.

use chrono::{DateTime, Utc};
use idreview_protocol::{Stats, StatsQuery};

use super::index::Index;
use super::tally::Tally;
use super::{Store, StoreError};

impl Store {
    /// The dashboard's numbers at `now` for the caller `query` describes. Reads the audit
    /// events written since the last call (on the first, the last week's), so call it off the
    /// async threads.
    pub fn stats(&self, query: StatsQuery, now: DateTime<Utc>) -> Result<Stats, StoreError> {
        let activity = {
            let mut tally = self.inner.tally.lock().map_err(|_| StoreError::Poisoned)?;
            let since = match tally.seq {
                Some(seq) => seq,
                None => self.audit_seq_before(Tally::cutoff(now))?,
            };
            let last = self.audit_scan(since, |event| tally.fold(event, now))?;
            tally.seq = Some(last);
            tally.prune(now);
            tally.activity(now, query.utc_offset_secs)
        };
        let counts = self.read_index(Index::counts);
        Ok(Stats {
            at: now,
            cards: counts.cards,
            by_status: counts.by_status,
            by_type: counts.by_type,
            queue: counts.queue,
            queue_oldest: counts.queue_oldest,
            reviewers: activity.reviewers,
            verified: activity.verified,
            auto_verified: activity.auto_verified,
            confidence: counts.confidence,
            unrated: counts.unrated,
            decisions_per_hour: activity.decisions_per_hour,
            cards_per_hour: activity.cards_per_hour,
        })
    }
}

//! What the dashboard counts over every card, read from the index without visiting rows: the
//! bitmaps' lengths per status and type, the oldest card waiting for a person (ids grow with
//! creation, so the bitmap's smallest), and the confidence histogram kept beside the bitmaps.

use chrono::{DateTime, Utc};
use idreview_protocol::{DocumentType, Status};

use super::{Index, status_slot, type_slot};

/// The index's part of the dashboard's `Stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub cards: u64,
    pub by_status: Vec<(Status, u64)>,
    pub by_type: Vec<(DocumentType, u64)>,
    /// Cards in `needs_review`.
    pub queue: u64,
    /// When the oldest of them was created.
    pub queue_oldest: Option<DateTime<Utc>>,
    /// Cards per tenth of confidence.
    pub confidence: Vec<u64>,
    /// Cards without a confidence.
    pub unrated: u64,
}

impl Index {
    /// The counts the dashboard shows; a few bitmap lengths, no rows visited but one.
    pub fn counts(&self) -> Counts {
        let queue = &self.by_status[status_slot(Status::NeedsReview)];
        let queue_oldest = queue.min().and_then(|k| self.row(k)).map(|r| r.created_at);
        let rated: u64 = self.confidence.iter().sum();
        Counts {
            cards: self.all.len(),
            by_status: self.counts_by_status(),
            by_type: DocumentType::ALL
                .iter()
                .map(|t| (*t, self.by_type[type_slot(*t)].len()))
                .collect(),
            queue: queue.len(),
            queue_oldest,
            confidence: self.confidence.to_vec(),
            unrated: self.all.len().saturating_sub(rated),
        }
    }
}

#[cfg(test)]
mod tests {
    use idreview_protocol::FieldSource::Mrz;
    use idreview_protocol::fixtures::{card, field};

    use super::*;

    #[test]
    fn counts_follow_every_upsert_and_removal() {
        let mut index = Index::new(0.8, false);
        let sure = |id: u64, c: f32| card(id).field(field("surname", "X", c, Mrz));
        index.upsert(&sure(1, 0.95).status(Status::NeedsReview).build());
        index.upsert(&sure(2, 0.42).status(Status::NeedsReview).build());
        index.upsert(&sure(3, 0.42).status(Status::Approved).build());
        index.upsert(&card(4).status(Status::Received).build());
        let counts = index.counts();
        assert_eq!(counts.cards, 4);
        assert_eq!(counts.queue, 2);
        assert_eq!(counts.confidence[9], 1);
        assert_eq!(counts.confidence[4], 2);
        assert_eq!(counts.unrated, 1);
        let oldest = index
            .summary(idreview_protocol::CardId(1))
            .map(|s| s.created_at);
        assert_eq!(counts.queue_oldest, oldest);

        // Card 1 is decided and card 2 re-read: the queue and the histogram move with them.
        index.upsert(&sure(1, 0.95).status(Status::Approved).version(2).build());
        index.upsert(&sure(2, 0.15).status(Status::NeedsReview).version(2).build());
        index.remove(idreview_protocol::CardId(3));
        let counts = index.counts();
        assert_eq!(counts.queue, 1);
        assert_eq!(counts.confidence[4], 0);
        assert_eq!(counts.confidence[1], 1);
        assert_eq!(counts.confidence[9], 1);
        assert_eq!(counts.cards, 3);
        let status = |s: Status| counts.by_status.iter().find(|(x, _)| *x == s).map(|p| p.1);
        assert_eq!(status(Status::Approved), Some(1));
        assert_eq!(counts.by_type.iter().map(|(_, n)| n).sum::<u64>(), 3);
    }
}

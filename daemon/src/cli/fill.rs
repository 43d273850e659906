//! Synthetic cards written straight into the store (`idreviewd fill`, hidden): for benchmarks
//! and console tests that need many reviewable cards with extracted fields at once, without
//! images or the pipeline. Every card is created with its audit event, in large batches.

use chrono::{Duration, Utc};
use idreview_protocol::{
    BoundingBox, Candidate, Card, DocumentType, Field, FieldSource, Side, Status,
};

use crate::store::{Store, StoreError};

/// Cards per transaction.
const BATCH: usize = 5000;

/// Who the audit log names as the creator of filled cards.
const ACTOR: &str = "fill";

const SURNAMES: [&str; 8] = [
    "MUSTERMANN",
    "ERIKSSON",
    "ROSSI",
    "DUBOIS",
    "NOWAK",
    "SILVA",
    "JANSEN",
    "MEYER",
];
const GIVEN: [&str; 6] = ["ERIKA", "ANNA", "LUCA", "MARIE", "PIOTR", "JOAO"];
const COUNTRIES: [&str; 5] = ["DE", "FR", "IT", "NL", "PL"];

/// Writes `count` cards for users `{prefix}-00001`...; returns how many were written.
pub async fn fill(store: &Store, count: usize, prefix: &str) -> Result<usize, StoreError> {
    fill_with_progress(store, count, prefix, &indicatif::ProgressBar::hidden()).await
}

/// [`fill`], advancing `progress` by every batch written.
pub async fn fill_with_progress(
    store: &Store,
    count: usize,
    prefix: &str,
    progress: &indicatif::ProgressBar,
) -> Result<usize, StoreError> {
    let mut written = 0;
    while written < count {
        let n = BATCH.min(count - written);
        let mut cards = Vec::with_capacity(n);
        for i in written..written + n {
            cards.push(synthetic(store.next_id()?, i, count, prefix));
        }
        store.import(&cards, ACTOR).await?;
        written += n;
        progress.inc(n as u64);
    }
    Ok(written)
}

/// A cheap deterministic spread over `i`: statuses, types, countries and confidences; card
/// `i` of `count` is created `7 * (count - i)` seconds ago, so newer ids are newer cards.
pub fn synthetic(id: idreview_protocol::CardId, i: usize, count: usize, prefix: &str) -> Card {
    let pick = |n: usize, salt: usize| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 7) % n;
    let status = match pick(10, 1) {
        0..=5 => Status::NeedsReview,
        6 | 7 => Status::AutoVerified,
        8 => Status::Approved,
        _ => Status::Rejected,
    };
    let low = |salt: usize| 0.35 + (pick(65, salt) as f32) / 100.0;
    let field = |name: &str, value: String, confidence: f32, y: u32| Field {
        name: name.into(),
        value: value.clone(),
        confidence,
        source: FieldSource::Visual,
        side: Side::Front,
        bbox: Some(BoundingBox {
            x: 400,
            y,
            width: 600,
            height: 60,
        }),
        candidates: vec![Candidate {
            value,
            confidence,
            source: FieldSource::Visual,
            side: Side::Front,
            bbox: None,
        }],
    };
    let now = Utc::now();
    let created = now - Duration::seconds(i64::try_from((count - i) * 7).unwrap_or(0));
    Card {
        id,
        user_id: format!("{prefix}-{:05}", i + 1),
        document_type: DocumentType::ALL[pick(DocumentType::ALL.len(), 2)],
        country: Some(COUNTRIES[pick(COUNTRIES.len(), 3)].to_string()),
        status,
        verified: false,
        confirmed: false,
        fields: vec![
            field("surname", SURNAMES[pick(8, 4)].into(), low(5), 200),
            field("given_names", GIVEN[pick(6, 6)].into(), low(7), 280),
            field("document_number", format!("C{:08}", i), low(8), 360),
        ],
        files: Vec::new(),
        findings: Vec::new(),
        provider: None,
        raw_zone: None,
        decision: None,
        assignee: None,
        lease_until: None,
        version: 1,
        source: "fill".into(),
        created_at: created,
        updated_at: created,
        pending_approval: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fills_listable_cards_with_fields() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("store");
        assert_eq!(fill(&store, 12, "bench").await.expect("fills"), 12);
        assert_eq!(store.card_count(), 12);
        let card = store
            .card_for_user("bench-00003")
            .expect("reads")
            .expect("exists");
        assert_eq!(card.fields.len(), 3);
        assert_eq!(store.audit_for(card.id).expect("audit").len(), 1);
    }
}

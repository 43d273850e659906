//! Synthetic cards written straight into a store, for benchmarks and for trying the console
//! at scale (`idreviewd seed --cards 100000`). Deterministic for a given seed.

use chrono::{DateTime, Duration, Utc};
use idreview_protocol::{
    Card, CardId, Decision, DecisionRecord, DocumentType, Field, FieldSource, ProviderVerdict,
    Side, Status,
};

use crate::store::{Store, StoreError};

const SURNAMES: &[&str] = &[
    "SMITH", "MULLER", "GARCIA", "ROSSI", "NOWAK", "ERIKSSON", "DUBOIS", "JANSEN", "KOWALSKI",
    "SILVA", "NIELSEN", "HORVATH", "POPESCU", "MURPHY", "FISCHER", "MARTIN", "LOPEZ", "BAKER",
    "IVANOV", "KOCH",
];
const GIVEN: &[&str] = &[
    "ANNA", "JOHN", "MARIA", "PETER", "ELENA", "LUCAS", "SOFIA", "DAVID", "EMMA", "JONAS", "LAURA",
    "MARC", "NINA", "OSCAR", "PAULA", "RAFAEL", "SARA", "TOMAS", "VERA", "YUSUF",
];
const COUNTRIES: &[&str] = &[
    "DEU", "FRA", "ESP", "ITA", "POL", "NLD", "SWE", "AUT", "PRT", "IRL",
];

/// A small xorshift generator: enough variety for synthetic data, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f32 {
        (self.next() % 10_000) as f32 / 10_000.0
    }
}

/// `count` cards with ids from `first`, spread over the 90 days before `now`: most waiting
/// for review, some decided, with MRZ-like fields of varied confidence.
pub fn synthetic_cards(first: u64, count: usize, seed: u64, now: DateTime<Utc>) -> Vec<Card> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..count as u64)
        .map(|i| {
            let id = first + i;
            let created = now
                - Duration::seconds(
                    ((count as u64 - i) * 90 * 86_400 / count.max(1) as u64) as i64,
                );
            let surname = SURNAMES[rng.below(SURNAMES.len())];
            let given = GIVEN[rng.below(GIVEN.len())];
            let country = COUNTRIES[rng.below(COUNTRIES.len())];
            let document_type = DocumentType::ALL[rng.below(DocumentType::ALL.len())];
            let status = match rng.below(10) {
                0 => Status::Approved,
                1 => Status::Rejected,
                2 => Status::AutoVerified,
                _ => Status::NeedsReview,
            };
            let mut field = |name: &str, value: String| Field {
                name: name.into(),
                value,
                confidence: 0.45 + 0.55 * rng.unit(),
                source: FieldSource::Mrz,
                side: Side::Front,
                bbox: None,
                candidates: Vec::new(),
            };
            let fields = vec![
                field("surname", surname.into()),
                field("given_names", given.into()),
                field(
                    "document_number",
                    format!("X{:08}", id * 7919 % 100_000_000),
                ),
                field("nationality", country.into()),
                field(
                    "birth_date",
                    format!(
                        "19{:02}-{:02}-{:02}",
                        50 + id % 50,
                        1 + id % 12,
                        1 + id % 28
                    ),
                ),
                field(
                    "expiry_date",
                    format!(
                        "20{:02}-{:02}-{:02}",
                        27 + id % 10,
                        1 + id % 12,
                        1 + id % 28
                    ),
                ),
            ];
            let decision = status.is_decided().then(|| DecisionRecord {
                decision: if status == Status::Approved {
                    Decision::Approve
                } else {
                    Decision::Reject
                },
                by: "seed".into(),
                at: created,
                reason: "seeded".into(),
            });
            Card {
                id: CardId(id),
                user_id: format!("user-{id:07}"),
                document_type,
                country: Some(country.into()),
                status,
                verified: false,
                confirmed: false,
                fields,
                files: Vec::new(),
                findings: Vec::new(),
                provider: Some(ProviderVerdict {
                    provider: "seed".into(),
                    decision: "review".into(),
                    warnings: Vec::new(),
                    transaction_id: None,
                    failure: None,
                }),
                decision,
                assignee: None,
                version: 1,
                source: "seed".into(),
                created_at: created,
                updated_at: created,
            }
        })
        .collect()
}

/// Adds `count` synthetic cards to the store in batches; `progress` hears the running total.
pub async fn seed_store(
    store: &Store,
    count: usize,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Result<(), StoreError> {
    const BATCH: usize = 5_000;
    let first = store.next_id()?.0;
    let cards = synthetic_cards(first, count, seed, Utc::now());
    for (n, batch) in cards.chunks(BATCH).enumerate() {
        store.import(batch, "idreviewd:seed").await?;
        progress((n * BATCH + batch.len()).min(count));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use idreview_protocol::ListQuery;

    #[tokio::test]
    async fn seeded_cards_are_listed_and_ids_continue_after_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("open");
        let mut seen = Vec::new();
        seed_store(&store, 12_000, 3, |n| seen.push(n))
            .await
            .expect("seed");
        assert_eq!(seen, vec![5_000, 10_000, 12_000]);
        assert_eq!(store.list(&ListQuery::default(), "me").total, 12_000);
        assert_eq!(store.next_id().expect("id"), CardId(12_001));
        let user = store
            .card_for_user("user-0000005")
            .expect("read")
            .expect("indexed by user");
        assert_eq!(user.id, CardId(5));
    }
}

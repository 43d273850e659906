//! The console's test data, built on `idreview_protocol::fixtures`: a spread of list rows, a
//! card with fields of every band, its audit history and counts, at a fixed clock, so that
//! snapshots are stable.

use chrono::Duration;
use idreview_protocol::fixtures::{self, field};
use idreview_protocol::*;

pub use idreview_protocol::fixtures::now;

/// A summary of card `id`, created `id` hours (well, a spread of ages) before [`now`].
pub fn summary(id: u64) -> CardSummary {
    let ages = [300, 3 * 3600, 2 * 86_400, 45, 26 * 3600];
    let age = ages[(id as usize) % ages.len()];
    let types = DocumentType::ALL;
    let statuses = [
        Status::NeedsReview,
        Status::AutoVerified,
        Status::Approved,
        Status::Rejected,
    ];
    let confidences = [Some(0.42), Some(0.65), Some(0.93), None];
    let card = fixtures::card(id)
        .document_type(types[(id as usize) % types.len()])
        .country((!id.is_multiple_of(3)).then(|| ["DE", "FR", "NL"][(id % 3) as usize]))
        .status(statuses[(id as usize) % statuses.len()])
        .assignee(id.is_multiple_of(2).then_some("alice"), None)
        .version(id + 1)
        .created_at(now() - Duration::seconds(age))
        .build();
    CardSummary {
        confidence: confidences[(id as usize) % confidences.len()],
        low_confidence: (id % 3) as u32,
        ..CardSummary::of(&card, 0.8)
    }
}

/// A page of `len` cards starting at `offset`, out of `total`.
pub fn page(offset: u64, len: u64, total: u64) -> CardPage {
    CardPage {
        total,
        offset,
        cards: (offset + 1..=offset + len).map(summary).collect(),
    }
}

/// A whole card with fields of every band, files, findings and a provider verdict.
pub fn card(id: u64) -> Card {
    fixtures::card(id)
        .confirmed(true)
        .field(field("surname", "MUSTERMANN", 0.97, FieldSource::Mrz))
        .field(field("given_names", "ERIKA", 0.71, FieldSource::Visual))
        .field(field(
            "document_number",
            "C01X00T47",
            0.38,
            FieldSource::Visual,
        ))
        .field(field("birth_date", "1964-08-12", 0.88, FieldSource::Mrz))
        .file(fixtures::file(
            FileRole::Front,
            "front.jpg",
            &format!("users/user-{id:03}/id-card/{id}/front.jpg"),
        ))
        .finding(Finding {
            rule: "document_expired".into(),
            severity: Severity::Warning,
            message: "expired on 2025-12-31".into(),
        })
        .provider(ProviderVerdict {
            provider: "local".into(),
            decision: "review".into(),
            warnings: vec![],
            transaction_id: None,
            failure: None,
        })
        .raw_zone(zone())
        .version(3)
        .source("inbox/user-001")
        .created_at(now() - Duration::hours(5))
        .updated_at(now() - Duration::minutes(4))
        .build()
}

/// A passport's zone as read: sure of every character but the `0` of the document number
/// read as `O` at 0.42, with one check-digit repair at row 1, column 9.
pub fn zone() -> RawZone {
    let row = |text: String, unsure: &[usize]| {
        let confidences = (0..text.len())
            .map(|i| if unsure.contains(&i) { 0.42 } else { 0.97 })
            .collect();
        ZoneRow { text, confidences }
    };
    RawZone {
        side: Side::Front,
        rows: vec![
            row(format!("{:<<44}", "P<D<<MUSTERMANN<<ERIKA"), &[]),
            row(format!("{:<<44}", "C01XO0T478D<<6408125F2702283"), &[4]),
        ],
        repaired: vec![(1, 9)],
    }
}

/// The card's audit history.
pub fn audit(id: u64) -> Vec<AuditEvent> {
    vec![AuditEvent {
        seq: 17,
        card_id: Some(CardId(id)),
        at: now() - Duration::hours(5),
        actor: "inbox".into(),
        action: "card.created".into(),
        reason: None,
        before: None,
        after: None,
    }]
}

/// Counts as `health()` reports them.
pub fn health() -> Health {
    Health {
        daemon_version: "0.1.0".into(),
        protocol_version: PROTOCOL_VERSION,
        identity: "alice".into(),
        role: Role::Reviewer,
        cards: 42,
        by_status: vec![
            (Status::NeedsReview, 12),
            (Status::AutoVerified, 5),
            (Status::Approved, 20),
            (Status::Rejected, 5),
        ],
        provider: "local".into(),
        uptime_secs: 60,
        rejected: 0,
    }
}

/// The dashboard's numbers at [`now`]: every status and type, three reviewers, a queue whose
/// oldest card is two and a half hours old, and a day of hourly activity.
pub fn stats() -> Stats {
    let hourly = |scale: u64| -> Vec<u64> {
        (0..Stats::HOURS as u64)
            .map(|h| match h {
                0..=6 => 0,
                _ => scale * ((h * 7) % 11 + h / 3),
            })
            .collect()
    };
    Stats {
        at: now(),
        cards: 1240,
        by_status: Status::ALL
            .iter()
            .zip([3, 1, 4, 212, 168, 702, 150])
            .map(|(s, n)| (*s, n))
            .collect(),
        by_type: DocumentType::ALL
            .iter()
            .zip([610, 402, 151, 77])
            .map(|(t, n)| (*t, n))
            .collect(),
        queue: 212,
        queue_oldest: Some(now() - Duration::minutes(150)),
        reviewers: vec![
            ReviewerStats {
                reviewer: "token:alice".into(),
                today: 31,
                week: 188,
            },
            ReviewerStats {
                reviewer: "token:bob".into(),
                today: 12,
                week: 97,
            },
            ReviewerStats {
                reviewer: "local:root".into(),
                today: 0,
                week: 4,
            },
        ],
        verified: 640,
        auto_verified: 168,
        confidence: vec![2, 5, 9, 31, 88, 143, 201, 266, 248, 190],
        unrated: 57,
        decisions_per_hour: hourly(2),
        cards_per_hour: hourly(3),
    }
}

//! Fake cards, pages and a fixed clock for the console's tests, so that snapshots are stable.

use chrono::{DateTime, Duration, TimeZone, Utc};
use idreview_protocol::*;

/// The fixed "now" of every test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

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
    CardSummary {
        id: CardId(id),
        user_id: format!("user-{id:03}"),
        document_type: types[(id as usize) % types.len()],
        country: (!id.is_multiple_of(3)).then(|| ["DE", "FR", "NL"][(id % 3) as usize].to_string()),
        status: statuses[(id as usize) % statuses.len()],
        verified: false,
        confirmed: false,
        confidence: confidences[(id as usize) % confidences.len()],
        low_confidence: (id % 3) as u32,
        assignee: id.is_multiple_of(2).then(|| "alice".to_string()),
        version: id + 1,
        created_at: now() - Duration::seconds(age),
        updated_at: now(),
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

fn field(name: &str, value: &str, confidence: f32, source: FieldSource) -> Field {
    Field {
        name: name.into(),
        value: value.into(),
        confidence,
        source,
        side: Side::Front,
        bbox: None,
        candidates: vec![],
    }
}

/// A whole card with fields of every band, files, findings and a provider verdict.
pub fn card(id: u64) -> Card {
    let s = summary(id);
    Card {
        id: s.id,
        user_id: s.user_id,
        document_type: DocumentType::Passport,
        country: Some("DE".into()),
        status: Status::NeedsReview,
        verified: false,
        confirmed: true,
        fields: vec![
            field("surname", "MUSTERMANN", 0.97, FieldSource::Mrz),
            field("given_names", "ERIKA", 0.71, FieldSource::Visual),
            field("document_number", "C01X00T47", 0.38, FieldSource::Visual),
            field("birth_date", "1964-08-12", 0.88, FieldSource::Mrz),
        ],
        files: vec![FileMeta {
            role: FileRole::Front,
            name: "front.jpg".into(),
            object_key: format!("users/user-{id:03}/id-card/{id}/front.jpg"),
            sha256: "ab".repeat(32),
            size: 1_843_200,
            media_type: "image/jpeg".into(),
            dimensions: Some((1600, 1000)),
            etag: None,
        }],
        findings: vec![Finding {
            rule: "document_expired".into(),
            severity: Severity::Warning,
            message: "expired on 2025-12-31".into(),
        }],
        provider: Some(ProviderVerdict {
            provider: "local".into(),
            decision: "review".into(),
            warnings: vec![],
            transaction_id: None,
            failure: None,
        }),
        decision: None,
        assignee: None,
        lease_until: None,
        version: 3,
        source: "inbox/user-001".into(),
        created_at: now() - Duration::hours(5),
        updated_at: now() - Duration::minutes(4),
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
    }
}

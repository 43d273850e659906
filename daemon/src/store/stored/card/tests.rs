//! The card layout is pinned: `format2_card.hex` holds the bytes a store of format 2 (written
//! with protocol 3's `Card` under bincode, before the store had types of its own) keeps for
//! [`sample`]. They must decode to the same card, and encoding must give the same bytes.

use chrono::{TimeZone, Utc};
use idreview_protocol::*;

use super::{decode, encode};

/// A card with every field and every optional part set.
pub(crate) fn sample() -> Card {
    let at = |h| {
        Utc.with_ymd_and_hms(2026, 11, 25, h, 30, 0)
            .single()
            .expect("time")
    };
    let bbox = Some(BoundingBox {
        x: 10,
        y: 20,
        width: 300,
        height: 40,
    });
    Card {
        id: CardId(4242),
        user_id: "erika@example.org".into(),
        document_type: DocumentType::NationalId,
        country: Some("D".into()),
        status: Status::Approved,
        verified: true,
        confirmed: false,
        fields: vec![Field {
            name: "surname".into(),
            value: "MUSTERMANN".into(),
            confidence: 0.875,
            source: FieldSource::Mrz,
            side: Side::Back,
            bbox,
            candidates: vec![Candidate {
                value: "MUSTERMAN".into(),
                confidence: 0.25,
                source: FieldSource::Visual,
                side: Side::Front,
                bbox: None,
            }],
        }],
        files: vec![FileMeta {
            role: FileRole::Selfie,
            name: "selfie.mp4".into(),
            object_key: "users/erika/selfie/4242/selfie.mp4".into(),
            sha256: "ab".repeat(32),
            size: 1_234_567,
            media_type: "video/mp4".into(),
            dimensions: Some((1920, 1080)),
            etag: Some("\"e1\"".into()),
        }],
        findings: vec![Finding {
            rule: "document_expired".into(),
            severity: Severity::Error,
            message: "the document expired on 2025-01-01".into(),
        }],
        provider: Some(ProviderVerdict {
            provider: "idanalyzer".into(),
            decision: "review".into(),
            warnings: vec![ProviderWarning {
                code: "FAKE".into(),
                description: "looks edited".into(),
                severity: Severity::Warning,
                confidence: 0.5,
            }],
            transaction_id: Some("tx-1".into()),
            failure: None,
        }),
        decision: Some(DecisionRecord {
            decision: Decision::Reject,
            by: "token:alice".into(),
            at: at(12),
            reason: "expired".into(),
        }),
        assignee: Some("token:bob".into()),
        lease_until: Some(at(13)),
        version: 7,
        source: "inbox/erika-1".into(),
        created_at: at(9),
        updated_at: at(12),
    }
}

fn golden() -> Vec<u8> {
    hex::decode(include_str!("format2_card.hex").trim()).expect("hex")
}

#[test]
fn a_format_2_card_reads_in_place_and_writes_the_same_bytes() {
    let old = golden();
    assert_eq!(decode(&old).expect("decodes"), sample());
    assert_eq!(encode(&sample()).expect("encodes"), old);
}

#[test]
fn an_empty_card_round_trips() {
    let card = Card {
        country: None,
        fields: vec![],
        files: vec![],
        findings: vec![],
        provider: None,
        decision: None,
        assignee: None,
        lease_until: None,
        ..sample()
    };
    let bytes = encode(&card).expect("encodes");
    assert_eq!(decode(&bytes).expect("decodes"), card);
}

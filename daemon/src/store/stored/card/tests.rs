//! The card layout is pinned: `format2_card.hex` holds the bytes a store of format 2 (written
//! with protocol 3's `Card` under bincode, before the store had types of its own) keeps for
//! [`sample`]; they must still decode to the same card, read in place. `format3_card.hex`
//! (written out by hand from the layout: format 2, then `Some`, the side's position, the rows
//! and the repaired cells) holds [`sample_with_zone`]; it must decode to that card, and
//! encoding must give the same bytes.

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
        raw_zone: None,
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

/// [`sample`] with a zone of two rows, one cell repaired.
pub(crate) fn sample_with_zone() -> Card {
    let row = |text: &str, confidences: &[f32]| ZoneRow {
        text: text.into(),
        confidences: confidences.to_vec(),
    };
    Card {
        raw_zone: Some(RawZone {
            side: Side::Back,
            rows: vec![
                row("P<D<<O0", &[1.0, 0.875, 1.0, 1.0, 1.0, 0.25, 0.5]),
                row("C01X", &[0.75, 1.0, 1.0, 0.5]),
            ],
            repaired: vec![(0, 6)],
        }),
        ..sample()
    }
}

fn golden(text: &str) -> Vec<u8> {
    hex::decode(text.trim()).expect("hex")
}

#[test]
fn a_format_2_card_reads_in_place_and_is_written_as_format_3() {
    let old = golden(include_str!("format2_card.hex"));
    assert_eq!(decode(&old).expect("decodes"), sample());
    let mut now = old.clone();
    now.push(0);
    assert_eq!(
        encode(&sample()).expect("encodes"),
        now,
        "format 2 and no zone"
    );
}

#[test]
fn a_format_3_card_with_its_raw_zone_reads_and_writes_the_same_bytes() {
    let bytes = golden(include_str!("format3_card.hex"));
    assert_eq!(decode(&bytes).expect("decodes"), sample_with_zone());
    assert_eq!(encode(&sample_with_zone()).expect("encodes"), bytes);
    assert!(
        decode(&bytes[..bytes.len() - 3]).is_err(),
        "a cut tail is an error"
    );
}

#[test]
fn an_empty_card_round_trips() {
    let card = Card {
        country: None,
        raw_zone: None,
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

//! The card layout is pinned: `format2_card.hex` holds the bytes a store of format 2 (written
//! with protocol 3's `Card` under bincode, before the store had types of its own) keeps for
//! [`sample`]; they must still decode to the same card, read in place. `format3_card.hex`
//! (written out by hand from the layout: format 2, then `Some`, the side's position, the rows
//! and the repaired cells) holds [`sample_with_zone`]; it must decode to that card. Format 4,
//! the one written now, is format 3 with each time's text replaced by its two integers
//! ([`integer_times`] builds it from the format-3 bytes, so the layout stays pinned).
//! `format4_card.hex` is [`sample_with_zone`] as a format-4 daemon wrote it before four eyes
//! (the format-3 bytes with integer times, made by the same replacement): it must read in
//! place as a card without a pending approval, and a card written now is those bytes plus the
//! pending approval's tail.

use chrono::{DateTime, TimeZone, Utc};
use idreview_protocol::*;

use super::{Layout, decode, encode};

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
        pending_approval: None,
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

/// `text_layout` (format 2 or 3 bytes of [`sample`]) with each of its times as format 4 lays
/// it out: chrono's text under bincode (a u64 length, then RFC 3339) becomes
/// `(seconds: i64, nanoseconds: u32)`.
fn integer_times(text_layout: &[u8]) -> Vec<u8> {
    let card = sample();
    let decision = card.decision.as_ref().expect("decided");
    let times: [DateTime<Utc>; 4] = [
        decision.at,
        card.lease_until.expect("leased"),
        card.created_at,
        card.updated_at,
    ];
    let mut out = text_layout.to_vec();
    for at in times {
        let text = bincode::serialize(&at).expect("text");
        let integers = (at.timestamp(), at.timestamp_subsec_nanos());
        let integers = bincode::serialize(&integers).expect("integers");
        let start = out
            .windows(text.len())
            .position(|w| w == text.as_slice())
            .expect("the time's text is in the bytes");
        out.splice(start..start + text.len(), integers);
    }
    out
}

#[test]
fn a_format_2_card_reads_in_place_and_is_written_as_format_4() {
    let old = golden(include_str!("format2_card.hex"));
    assert_eq!(decode(&old, Layout::TextTimes).expect("decodes"), sample());
    let mut now = integer_times(&old);
    now.extend([0, 0]);
    assert_eq!(
        encode(&sample()).expect("encodes"),
        now,
        "format 2 with integer times, no zone and no pending approval"
    );
}

#[test]
fn a_format_3_card_with_its_raw_zone_reads_in_place_and_is_written_as_format_4() {
    let bytes = golden(include_str!("format3_card.hex"));
    assert_eq!(
        decode(&bytes, Layout::TextTimes).expect("decodes"),
        sample_with_zone()
    );
    assert!(
        decode(&bytes[..bytes.len() - 3], Layout::TextTimes).is_err(),
        "a cut tail is an error"
    );
    let mut now = integer_times(&bytes);
    assert!(now.len() < bytes.len(), "integers are shorter than text");
    now.push(0);
    assert_eq!(encode(&sample_with_zone()).expect("encodes"), now);
    assert_eq!(
        decode(&now, Layout::Current).expect("decodes"),
        sample_with_zone()
    );
    assert!(
        decode(&now, Layout::TextTimes).is_err(),
        "read as the wrong layout, the bytes do not pass for a card"
    );
}

#[test]
fn a_format_4_card_from_before_four_eyes_reads_in_place_without_a_pending_approval() {
    let old = golden(include_str!("format4_card.hex"));
    assert_eq!(
        old,
        integer_times(&golden(include_str!("format3_card.hex"))),
        "the golden bytes are format 3's with integer times"
    );
    assert_eq!(
        decode(&old, Layout::Current).expect("decodes"),
        sample_with_zone()
    );
    let pending = Card {
        pending_approval: Some(PendingApproval {
            by: "token:alice-laptop".into(),
            person: "alice".into(),
            at: sample().created_at,
            reason: "same photo, checked by phone".into(),
        }),
        ..sample_with_zone()
    };
    let now = encode(&pending).expect("encodes");
    assert_eq!(&now[..old.len()], old.as_slice(), "the tail is appended");
    assert_eq!(decode(&now, Layout::Current).expect("decodes"), pending);
    assert!(
        decode(&now[..now.len() - 2], Layout::Current).is_err(),
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
    assert_eq!(decode(&bytes, Layout::Current).expect("decodes"), card);
}

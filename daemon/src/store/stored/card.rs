//! A card as the store lays it out (format 3): [`encode`] writes a `protocol::Card` through
//! borrowed twins, [`decode`] reads the owned twins and moves them into one. Field order is
//! the layout; never reorder, only append (with a format bump and a reader for the old one).
//!
//! Format 3 is format 2 followed by the raw zone (`Option`, so one `0` byte without one). A
//! format-2 record ends where format 3's tail would start, so both read in place: the card's
//! format-2 part is decoded first and the tail only where bytes remain.

use chrono::{DateTime, Utc};
use idreview_protocol::{
    BoundingBox, Candidate, Card, CardId, DecisionRecord, Field, FileMeta, Finding,
    ProviderVerdict, ProviderWarning, RawZone, ZoneRow,
};
use serde::{Deserialize, Serialize};

use super::{
    DecisionCode, DocumentTypeCode, FieldSourceCode, FileRoleCode, Seq, SeverityCode, SideCode,
    StatusCode, ToStored,
};

/// The card's bytes as stored (without the record framing of `store::record`).
pub(in crate::store) fn encode(card: &Card) -> Result<Vec<u8>, bincode::Error> {
    bincode::serialize(&card.stored())
}

/// The card stored in `bytes` (format 2 or 3).
pub(in crate::store) fn decode(bytes: &[u8]) -> Result<Card, bincode::Error> {
    let mut rest = bytes;
    // Reading from the slice moves it past what was read: what is left is format 3's tail.
    let card: CardIn = bincode::deserialize_from(&mut rest)?;
    let mut card = Card::from(card);
    if !rest.is_empty() {
        let zone: Option<ZoneIn> = bincode::deserialize(rest)?;
        card.raw_zone = zone.map(Into::into);
    }
    Ok(card)
}

#[derive(Serialize)]
pub(in crate::store) struct CardOut<'a> {
    id: u64,
    user_id: &'a str,
    document_type: DocumentTypeCode,
    country: Option<&'a str>,
    status: StatusCode,
    verified: bool,
    confirmed: bool,
    fields: Seq<'a, Field>,
    files: Seq<'a, FileMeta>,
    findings: Seq<'a, Finding>,
    provider: Option<VerdictOut<'a>>,
    decision: Option<DecisionOut<'a>>,
    assignee: Option<&'a str>,
    lease_until: Option<DateTime<Utc>>,
    version: u64,
    source: &'a str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Format 3 from here on.
    raw_zone: Option<ZoneOut<'a>>,
}

/// The format-2 part of a stored card; format 3's tail is read after it (see [`decode`]).
#[derive(Deserialize)]
struct CardIn {
    id: u64,
    user_id: String,
    document_type: DocumentTypeCode,
    country: Option<String>,
    status: StatusCode,
    verified: bool,
    confirmed: bool,
    fields: Vec<FieldIn>,
    files: Vec<FileIn>,
    findings: Vec<FindingIn>,
    provider: Option<VerdictIn>,
    decision: Option<DecisionIn>,
    assignee: Option<String>,
    lease_until: Option<DateTime<Utc>>,
    version: u64,
    source: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ToStored for Card {
    type Out<'a> = CardOut<'a>;
    fn stored(&self) -> CardOut<'_> {
        CardOut {
            id: self.id.0,
            user_id: &self.user_id,
            document_type: self.document_type.into(),
            country: self.country.as_deref(),
            status: self.status.into(),
            verified: self.verified,
            confirmed: self.confirmed,
            fields: Seq(&self.fields),
            files: Seq(&self.files),
            findings: Seq(&self.findings),
            provider: self.provider.as_ref().map(ToStored::stored),
            decision: self.decision.as_ref().map(ToStored::stored),
            assignee: self.assignee.as_deref(),
            lease_until: self.lease_until,
            version: self.version,
            source: &self.source,
            created_at: self.created_at,
            updated_at: self.updated_at,
            raw_zone: self.raw_zone.as_ref().map(ToStored::stored),
        }
    }
}

impl From<CardIn> for Card {
    fn from(c: CardIn) -> Card {
        Card {
            id: CardId(c.id),
            user_id: c.user_id,
            document_type: c.document_type.into(),
            country: c.country,
            status: c.status.into(),
            verified: c.verified,
            confirmed: c.confirmed,
            fields: c.fields.into_iter().map(Into::into).collect(),
            files: c.files.into_iter().map(Into::into).collect(),
            findings: c.findings.into_iter().map(Into::into).collect(),
            provider: c.provider.map(Into::into),
            raw_zone: None,
            decision: c.decision.map(Into::into),
            assignee: c.assignee,
            lease_until: c.lease_until,
            version: c.version,
            source: c.source,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct ZoneOut<'a> {
    side: SideCode,
    rows: Seq<'a, ZoneRow>,
    repaired: &'a [(u32, u32)],
}

#[derive(Deserialize)]
struct ZoneIn {
    side: SideCode,
    rows: Vec<ZoneRowIn>,
    repaired: Vec<(u32, u32)>,
}

impl ToStored for RawZone {
    type Out<'a> = ZoneOut<'a>;
    fn stored(&self) -> ZoneOut<'_> {
        ZoneOut {
            side: self.side.into(),
            rows: Seq(&self.rows),
            repaired: &self.repaired,
        }
    }
}

impl From<ZoneIn> for RawZone {
    fn from(z: ZoneIn) -> RawZone {
        RawZone {
            side: z.side.into(),
            rows: z.rows.into_iter().map(Into::into).collect(),
            repaired: z.repaired,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct ZoneRowOut<'a> {
    text: &'a str,
    confidences: &'a [f32],
}

#[derive(Deserialize)]
struct ZoneRowIn {
    text: String,
    confidences: Vec<f32>,
}

impl ToStored for ZoneRow {
    type Out<'a> = ZoneRowOut<'a>;
    fn stored(&self) -> ZoneRowOut<'_> {
        ZoneRowOut {
            text: &self.text,
            confidences: &self.confidences,
        }
    }
}

impl From<ZoneRowIn> for ZoneRow {
    fn from(r: ZoneRowIn) -> ZoneRow {
        ZoneRow {
            text: r.text,
            confidences: r.confidences,
        }
    }
}

/// A pixel rectangle: `(x, y, width, height)`, laid out as four `u32`s.
type BoxStored = (u32, u32, u32, u32);

fn box_out(b: &Option<BoundingBox>) -> Option<BoxStored> {
    b.map(|b| (b.x, b.y, b.width, b.height))
}

fn box_in(b: Option<BoxStored>) -> Option<BoundingBox> {
    b.map(|(x, y, width, height)| BoundingBox {
        x,
        y,
        width,
        height,
    })
}

#[derive(Serialize)]
pub(in crate::store) struct FieldOut<'a> {
    name: &'a str,
    value: &'a str,
    confidence: f32,
    source: FieldSourceCode,
    side: SideCode,
    bbox: Option<BoxStored>,
    candidates: Seq<'a, Candidate>,
}

#[derive(Deserialize)]
struct FieldIn {
    name: String,
    value: String,
    confidence: f32,
    source: FieldSourceCode,
    side: SideCode,
    bbox: Option<BoxStored>,
    candidates: Vec<CandidateIn>,
}

impl ToStored for Field {
    type Out<'a> = FieldOut<'a>;
    fn stored(&self) -> FieldOut<'_> {
        FieldOut {
            name: &self.name,
            value: &self.value,
            confidence: self.confidence,
            source: self.source.into(),
            side: self.side.into(),
            bbox: box_out(&self.bbox),
            candidates: Seq(&self.candidates),
        }
    }
}

impl From<FieldIn> for Field {
    fn from(f: FieldIn) -> Field {
        Field {
            name: f.name,
            value: f.value,
            confidence: f.confidence,
            source: f.source.into(),
            side: f.side.into(),
            bbox: box_in(f.bbox),
            candidates: f.candidates.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct CandidateOut<'a> {
    value: &'a str,
    confidence: f32,
    source: FieldSourceCode,
    side: SideCode,
    bbox: Option<BoxStored>,
}

#[derive(Deserialize)]
struct CandidateIn {
    value: String,
    confidence: f32,
    source: FieldSourceCode,
    side: SideCode,
    bbox: Option<BoxStored>,
}

impl ToStored for Candidate {
    type Out<'a> = CandidateOut<'a>;
    fn stored(&self) -> CandidateOut<'_> {
        CandidateOut {
            value: &self.value,
            confidence: self.confidence,
            source: self.source.into(),
            side: self.side.into(),
            bbox: box_out(&self.bbox),
        }
    }
}

impl From<CandidateIn> for Candidate {
    fn from(c: CandidateIn) -> Candidate {
        Candidate {
            value: c.value,
            confidence: c.confidence,
            source: c.source.into(),
            side: c.side.into(),
            bbox: box_in(c.bbox),
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct FileOut<'a> {
    role: FileRoleCode,
    name: &'a str,
    object_key: &'a str,
    sha256: &'a str,
    size: u64,
    media_type: &'a str,
    dimensions: Option<(u32, u32)>,
    etag: Option<&'a str>,
}

#[derive(Deserialize)]
struct FileIn {
    role: FileRoleCode,
    name: String,
    object_key: String,
    sha256: String,
    size: u64,
    media_type: String,
    dimensions: Option<(u32, u32)>,
    etag: Option<String>,
}

impl ToStored for FileMeta {
    type Out<'a> = FileOut<'a>;
    fn stored(&self) -> FileOut<'_> {
        FileOut {
            role: self.role.into(),
            name: &self.name,
            object_key: &self.object_key,
            sha256: &self.sha256,
            size: self.size,
            media_type: &self.media_type,
            dimensions: self.dimensions,
            etag: self.etag.as_deref(),
        }
    }
}

impl From<FileIn> for FileMeta {
    fn from(f: FileIn) -> FileMeta {
        FileMeta {
            role: f.role.into(),
            name: f.name,
            object_key: f.object_key,
            sha256: f.sha256,
            size: f.size,
            media_type: f.media_type,
            dimensions: f.dimensions,
            etag: f.etag,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct FindingOut<'a> {
    rule: &'a str,
    severity: SeverityCode,
    message: &'a str,
}

#[derive(Deserialize)]
struct FindingIn {
    rule: String,
    severity: SeverityCode,
    message: String,
}

impl ToStored for Finding {
    type Out<'a> = FindingOut<'a>;
    fn stored(&self) -> FindingOut<'_> {
        FindingOut {
            rule: &self.rule,
            severity: self.severity.into(),
            message: &self.message,
        }
    }
}

impl From<FindingIn> for Finding {
    fn from(f: FindingIn) -> Finding {
        Finding {
            rule: f.rule,
            severity: f.severity.into(),
            message: f.message,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct VerdictOut<'a> {
    provider: &'a str,
    decision: &'a str,
    warnings: Seq<'a, ProviderWarning>,
    transaction_id: Option<&'a str>,
    failure: Option<&'a str>,
}

#[derive(Deserialize)]
struct VerdictIn {
    provider: String,
    decision: String,
    warnings: Vec<WarningIn>,
    transaction_id: Option<String>,
    failure: Option<String>,
}

impl ToStored for ProviderVerdict {
    type Out<'a> = VerdictOut<'a>;
    fn stored(&self) -> VerdictOut<'_> {
        VerdictOut {
            provider: &self.provider,
            decision: &self.decision,
            warnings: Seq(&self.warnings),
            transaction_id: self.transaction_id.as_deref(),
            failure: self.failure.as_deref(),
        }
    }
}

impl From<VerdictIn> for ProviderVerdict {
    fn from(v: VerdictIn) -> ProviderVerdict {
        ProviderVerdict {
            provider: v.provider,
            decision: v.decision,
            warnings: v.warnings.into_iter().map(Into::into).collect(),
            transaction_id: v.transaction_id,
            failure: v.failure,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct WarningOut<'a> {
    code: &'a str,
    description: &'a str,
    severity: SeverityCode,
    confidence: f32,
}

#[derive(Deserialize)]
struct WarningIn {
    code: String,
    description: String,
    severity: SeverityCode,
    confidence: f32,
}

impl ToStored for ProviderWarning {
    type Out<'a> = WarningOut<'a>;
    fn stored(&self) -> WarningOut<'_> {
        WarningOut {
            code: &self.code,
            description: &self.description,
            severity: self.severity.into(),
            confidence: self.confidence,
        }
    }
}

impl From<WarningIn> for ProviderWarning {
    fn from(w: WarningIn) -> ProviderWarning {
        ProviderWarning {
            code: w.code,
            description: w.description,
            severity: w.severity.into(),
            confidence: w.confidence,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct DecisionOut<'a> {
    decision: DecisionCode,
    by: &'a str,
    at: DateTime<Utc>,
    reason: &'a str,
}

#[derive(Deserialize)]
struct DecisionIn {
    decision: DecisionCode,
    by: String,
    at: DateTime<Utc>,
    reason: String,
}

impl ToStored for DecisionRecord {
    type Out<'a> = DecisionOut<'a>;
    fn stored(&self) -> DecisionOut<'_> {
        DecisionOut {
            decision: self.decision.into(),
            by: &self.by,
            at: self.at,
            reason: &self.reason,
        }
    }
}

impl From<DecisionIn> for DecisionRecord {
    fn from(d: DecisionIn) -> DecisionRecord {
        DecisionRecord {
            decision: d.decision.into(),
            by: d.by,
            at: d.at,
            reason: d.reason,
        }
    }
}

#[cfg(test)]
pub(super) mod tests;

//! A card as the store lays it out (format 4): [`encode`] writes a `protocol::Card` through
//! borrowed twins, [`decode`] reads the owned twins and moves them into one. Field order is
//! the layout; never reorder, only append (with a format bump and a reader for the old one).
//!
//! Format 3 is format 2 followed by the raw zone (`Option`, so one `0` byte without one). A
//! format-2 record ends where format 3's tail would start, so both read in place: the card's
//! format-2 part is decoded first and the tail only where bytes remain. Format 4 is format 3
//! with every time as two integers ([`Time`]) instead of chrono's text; the record says which
//! ([`Layout`], kept by `store::record`), so older cards are read in place beside it. A
//! format-4 card may end with one more optional tail, its pending approval (four eyes, always
//! with [`Time`]s); a card written before it existed ends after its zone and reads as having
//! none.

use chrono::{DateTime, Utc};
use idreview_protocol::{
    BoundingBox, Candidate, Card, CardId, DecisionRecord, Field, FileMeta, Finding,
    PendingApproval, ProviderVerdict, ProviderWarning,
};
use serde::{Deserialize, Serialize};

use super::{
    DecisionCode, DocumentTypeCode, FieldSourceCode, FileRoleCode, Seq, SeverityCode, SideCode,
    StatusCode, Time, ToStored,
};

mod zone;
use zone::{ZoneIn, ZoneOut};

/// How a card's times are laid out: what a record says of the card bytes it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Layout {
    /// Formats 2 and 3: chrono's RFC 3339 text.
    TextTimes,
    /// Format 4, the one [`encode`] writes: [`Time`].
    Current,
}

/// The card's bytes as stored, in [`Layout::Current`] (without the record framing of
/// `store::record`).
pub(in crate::store) fn encode(card: &Card) -> Result<Vec<u8>, bincode::Error> {
    bincode::serialize(&card.stored())
}

/// [`encode`], appending to `out`.
pub(in crate::store) fn encode_into(out: &mut Vec<u8>, card: &Card) -> Result<(), bincode::Error> {
    bincode::serialize_into(out, &card.stored())
}

/// The card stored in `bytes`, laid out as `layout` says (format 2, 3 or 4).
pub(in crate::store) fn decode(bytes: &[u8], layout: Layout) -> Result<Card, bincode::Error> {
    let mut rest = bytes;
    // Reading from the slice moves it past what was read: what is left is format 3's tail.
    let mut card = match layout {
        Layout::TextTimes => Card::from(bincode::deserialize_from::<_, CardIn<DateTime<Utc>>>(
            &mut rest,
        )?),
        Layout::Current => Card::from(bincode::deserialize_from::<_, CardIn<Time>>(&mut rest)?),
    };
    if !rest.is_empty() {
        let zone: Option<ZoneIn> = bincode::deserialize_from(&mut rest)?;
        card.raw_zone = zone.map(Into::into);
    }
    if !rest.is_empty() {
        let pending: Option<PendingIn> = bincode::deserialize(rest)?;
        card.pending_approval = pending.map(Into::into);
    }
    Ok(card)
}

/// A card as written, its times as `T`: [`Time`] (format 4), or chrono's text where a test writes
/// an older format.
#[derive(Serialize)]
pub(in crate::store) struct CardOut<'a, T> {
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
    decision: Option<DecisionOut<'a, T>>,
    assignee: Option<&'a str>,
    lease_until: Option<T>,
    version: u64,
    source: &'a str,
    created_at: T,
    updated_at: T,
    /// Format 3 from here on.
    raw_zone: Option<ZoneOut<'a>>,
    /// Format 4's optional tail: absent from cards written before four eyes.
    pending_approval: Option<PendingOut<'a>>,
}

/// The format-2 part of a stored card, with its times as `T` (chrono's text in formats 2 and
/// 3, [`Time`] in format 4); format 3's tail is read after it (see [`decode`]).
#[derive(Deserialize)]
struct CardIn<T> {
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
    decision: Option<DecisionIn<T>>,
    assignee: Option<String>,
    lease_until: Option<T>,
    version: u64,
    source: String,
    created_at: T,
    updated_at: T,
}

/// The card's bytes in format 3 (times as chrono's text), as an older daemon wrote them.
#[cfg(test)]
pub(in crate::store) fn encode_format_3(card: &Card) -> Result<Vec<u8>, bincode::Error> {
    assert!(
        card.pending_approval.is_none(),
        "format 3 has no pending approval"
    );
    let mut bytes = bincode::serialize(&laid_out::<DateTime<Utc>>(card))?;
    // Format 3 ends with the zone: drop the `None` of format 4's tail.
    bytes.pop();
    Ok(bytes)
}

impl ToStored for Card {
    type Out<'a> = CardOut<'a, Time>;
    fn stored(&self) -> CardOut<'_, Time> {
        laid_out(self)
    }
}

/// `card` laid out with its times as `T`.
fn laid_out<T: From<DateTime<Utc>>>(card: &Card) -> CardOut<'_, T> {
    CardOut {
        id: card.id.0,
        user_id: &card.user_id,
        document_type: card.document_type.into(),
        country: card.country.as_deref(),
        status: card.status.into(),
        verified: card.verified,
        confirmed: card.confirmed,
        fields: Seq(&card.fields),
        files: Seq(&card.files),
        findings: Seq(&card.findings),
        provider: card.provider.as_ref().map(ToStored::stored),
        decision: card.decision.as_ref().map(decision_out),
        assignee: card.assignee.as_deref(),
        lease_until: card.lease_until.map(T::from),
        version: card.version,
        source: &card.source,
        created_at: T::from(card.created_at),
        updated_at: T::from(card.updated_at),
        raw_zone: card.raw_zone.as_ref().map(ToStored::stored),
        pending_approval: card.pending_approval.as_ref().map(ToStored::stored),
    }
}

impl<T: Into<DateTime<Utc>>> From<CardIn<T>> for Card {
    fn from(c: CardIn<T>) -> Card {
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
            pending_approval: None,
            decision: c.decision.map(Into::into),
            assignee: c.assignee,
            lease_until: c.lease_until.map(Into::into),
            version: c.version,
            source: c.source,
            created_at: c.created_at.into(),
            updated_at: c.updated_at.into(),
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct PendingOut<'a> {
    by: &'a str,
    person: &'a str,
    at: Time,
    reason: &'a str,
}

#[derive(Deserialize)]
struct PendingIn {
    by: String,
    person: String,
    at: Time,
    reason: String,
}

impl ToStored for PendingApproval {
    type Out<'a> = PendingOut<'a>;
    fn stored(&self) -> PendingOut<'_> {
        PendingOut {
            by: &self.by,
            person: &self.person,
            at: Time::from(self.at),
            reason: &self.reason,
        }
    }
}

impl From<PendingIn> for PendingApproval {
    fn from(p: PendingIn) -> PendingApproval {
        PendingApproval {
            by: p.by,
            person: p.person,
            at: p.at.into(),
            reason: p.reason,
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
pub(in crate::store) struct DecisionOut<'a, T> {
    decision: DecisionCode,
    by: &'a str,
    at: T,
    reason: &'a str,
}

#[derive(Deserialize)]
struct DecisionIn<T> {
    decision: DecisionCode,
    by: String,
    at: T,
    reason: String,
}

fn decision_out<T: From<DateTime<Utc>>>(d: &DecisionRecord) -> DecisionOut<'_, T> {
    DecisionOut {
        decision: d.decision.into(),
        by: &d.by,
        at: T::from(d.at),
        reason: &d.reason,
    }
}

impl<T: Into<DateTime<Utc>>> From<DecisionIn<T>> for DecisionRecord {
    fn from(d: DecisionIn<T>) -> DecisionRecord {
        DecisionRecord {
            decision: d.decision.into(),
            by: d.by,
            at: d.at.into(),
            reason: d.reason,
        }
    }
}

#[cfg(test)]
pub(super) mod tests;

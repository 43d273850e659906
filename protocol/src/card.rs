//! Domain types that cross the wire: cards, their fields and files, decisions, onboarding
//! stages and audit events.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A card's identity: a number handed out by the store, increasing with creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CardId(pub u64);

impl fmt::Display for CardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for CardId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().trim_start_matches('#').parse().map(CardId)
    }
}

/// A type name as people say it: `DocumentType` -> `document type`.
fn words(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Declares a plain enum together with its snake_case names, used by the manifest, the query
/// language, the CLI and the console alike so that a name is spelled the same everywhere.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("unknown {} {s:?}; expected one of: {}", words(stringify!($name)), names.join(", "))
                    })
            }
        }
    };
}

named_enum!(
    /// The kind of identity document.
    DocumentType {
        Passport => "passport",
        NationalId => "national_id",
        DriverLicense => "driver_license",
        ResidencePermit => "residence_permit",
    }
);

impl DocumentType {
    /// Whether a back image is required: every card-shaped document has data on both sides.
    pub fn requires_back(self) -> bool {
        !matches!(self, DocumentType::Passport)
    }
}

named_enum!(
    /// Where a card is in its life. Every change goes through the daemon's one state-machine
    /// function; `verified` and `confirmed` are flags beside the status (see [`Card`]).
    Status {
        Received => "received",
        Uploading => "uploading",
        Verifying => "verifying",
        NeedsReview => "needs_review",
        AutoVerified => "auto_verified",
        Approved => "approved",
        Rejected => "rejected",
    }
);

impl Status {
    /// A decided card is final: approved or rejected.
    pub fn is_decided(self) -> bool {
        matches!(self, Status::Approved | Status::Rejected)
    }
}

named_enum!(
    /// Where an extracted value came from.
    FieldSource {
        Mrz => "mrz",
        Visual => "visual",
        Barcode => "barcode",
        Reviewer => "reviewer",
        User => "user",
    }
);

named_enum!(
    /// Which side of the document a value was read from.
    Side {
        Front => "front",
        Back => "back",
    }
);

named_enum!(
    /// What a stored file is for; also the category in its object key.
    FileRole {
        Front => "front",
        Back => "back",
        Selfie => "selfie",
        Extra => "extra",
    }
);

named_enum!(
    /// A reviewer's final decision on a card.
    Decision {
        Approve => "approve",
        Reject => "reject",
    }
);

named_enum!(
    /// A user's progress through onboarding, derived from their card's life.
    OnboardingStage {
        NotStarted => "not_started",
        DocumentsUploaded => "documents_uploaded",
        DataExtracted => "data_extracted",
        DataConfirmed => "data_confirmed",
        UnderReview => "under_review",
        Approved => "approved",
        Rejected => "rejected",
    }
);

named_enum!(
    /// How serious a validation finding or provider warning is.
    Severity {
        Info => "info",
        Warning => "warning",
        Error => "error",
    }
);

/// A rectangle on the document image, in pixels of the stored file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// One candidate value for a field, as a provider read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub value: String,
    /// 0.0 (a guess) ..= 1.0 (certain).
    pub confidence: f32,
    pub source: FieldSource,
    pub side: Side,
    pub bbox: Option<BoundingBox>,
}

/// One extracted data field: its current value plus every candidate the provider offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Canonical name, e.g. `document_number`, `birth_date`, `surname`.
    pub name: String,
    pub value: String,
    /// 0.0 ..= 1.0; a reviewer's or user's correction is 1.0.
    pub confidence: f32,
    pub source: FieldSource,
    pub side: Side,
    pub bbox: Option<BoundingBox>,
    /// Every value the provider read, best first; empty for corrections.
    pub candidates: Vec<Candidate>,
}

/// One row of a machine-readable zone as read: its characters and OCR's confidence in each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneRow {
    pub text: String,
    /// One per character of `text`, 0.0 ..= 1.0.
    pub confidences: Vec<f32>,
}

/// The machine-readable zone as the reader saw it, so that a reviewer can check it character
/// by character (an `O` read for a `0`). Only a reader of the zone fills it; a provider that
/// returns fields alone (ID Analyzer) leaves it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawZone {
    /// The side the zone was read from.
    pub side: Side,
    /// The rows, top first, after the reader's layout repairs.
    pub rows: Vec<ZoneRow>,
    /// Cells `(row, column)` a check-digit-guided repair changed; the rows show the repaired
    /// character.
    pub repaired: Vec<(u32, u32)>,
}

/// What the daemon knows about one stored file of a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    pub role: FileRole,
    /// The file name as submitted.
    pub name: String,
    /// Key in the object store: `users/{user}/{category}/{card}/{name}`.
    pub object_key: String,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
    /// Sniffed from content, e.g. `image/jpeg`, `video/mp4`.
    pub media_type: String,
    /// Pixel size for images.
    pub dimensions: Option<(u32, u32)>,
    /// ETag the object store returned, when it returns one.
    pub etag: Option<String>,
}

/// A rule's verdict on a card's data, shown to reviewers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule name, e.g. `age_range`, `document_expired`.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
}

/// A warning the verification provider raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderWarning {
    pub code: String,
    pub description: String,
    pub severity: Severity,
    pub confidence: f32,
}

/// What the verification provider said about the card as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderVerdict {
    /// `manual`, `local` or `idanalyzer`.
    pub provider: String,
    /// `accept`, `review` or `reject` as the provider put it; `review` when it did not say.
    pub decision: String,
    pub warnings: Vec<ProviderWarning>,
    /// The provider's own reference for this check, when it has one.
    pub transaction_id: Option<String>,
    /// Why the card was routed to review when the provider failed, for reviewers.
    pub failure: Option<String>,
}

/// Who decided a card, how, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision: Decision,
    pub by: String,
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// The rule of the finding a card gets when one of its files, or its document number and
/// country, is also on another user's card (a reused document: a fraud signal); also the
/// rule of an inbox rejection under `[inbox] duplicates = "reject"`.
pub const DUPLICATE_DOCUMENT: &str = "duplicate_document";

/// The first of the two approvals a flagged card needs under four eyes (`[review]
/// four_eyes`): who gave it, when and why. The card stays undecided until another person
/// approves it too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The identity that approved, e.g. `token:alice-laptop`.
    pub by: String,
    /// The person behind that identity (one person's tokens share it).
    pub person: String,
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// A card: one user's identity document and everything the daemon learnt about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub id: CardId,
    pub user_id: String,
    pub document_type: DocumentType,
    /// ISO 3166 alpha-2 or alpha-3 code or an ICAO Doc 9303 code (see [`crate::country`]), as
    /// submitted or extracted.
    pub country: Option<String>,
    pub status: Status,
    /// A reviewer checked the extracted data.
    pub verified: bool,
    /// The user confirmed the extracted data.
    pub confirmed: bool,
    pub fields: Vec<Field>,
    pub files: Vec<FileMeta>,
    pub findings: Vec<Finding>,
    pub provider: Option<ProviderVerdict>,
    /// The machine-readable zone as the reader saw it; `None` from providers that do not read
    /// one (ID Analyzer, manual) and when no zone was found. Absent from export files written
    /// before it existed.
    #[serde(default)]
    pub raw_zone: Option<RawZone>,
    pub decision: Option<DecisionRecord>,
    /// The reviewer holding the card, if any.
    pub assignee: Option<String>,
    /// When the assignee's claim lapses; an expired lease counts as unassigned. `None` with an
    /// assignee: held until released.
    #[serde(default, with = "crate::time::option")]
    pub lease_until: Option<DateTime<Utc>>,
    /// Bumped on every change; a write naming an older version is refused as a conflict.
    pub version: u64,
    /// Name of the inbox folder or upload the card came from.
    pub source: String,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time")]
    pub updated_at: DateTime<Utc>,
    /// The first approval of a flagged card awaiting a second person's (four eyes). Absent
    /// from export files written before it existed.
    #[serde(default)]
    pub pending_approval: Option<PendingApproval>,
}

impl Card {
    /// Whether a file or the document number of this card is also on another user's card
    /// (a [`DUPLICATE_DOCUMENT`] finding).
    pub fn is_duplicate(&self) -> bool {
        self.findings.iter().any(|f| f.rule == DUPLICATE_DOCUMENT)
    }

    /// The card's confidence: the lowest confidence of any field (a card is only as sure as its
    /// weakest value). `None` while nothing has been extracted.
    pub fn confidence(&self) -> Option<f32> {
        self.fields.iter().map(|f| f.confidence).reduce(f32::min)
    }

    /// Names of the fields whose confidence is below `threshold`.
    pub fn low_confidence_fields(&self, threshold: f32) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|f| f.confidence < threshold)
            .map(|f| f.name.as_str())
            .collect()
    }

    /// The field called `name`, if present.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The holder's name as read: `full_name`, else the given names and the surname (a zone's
    /// `given_names` and `surname`, a provider's `first_name` and `last_name`). `None` while no
    /// name was read.
    pub fn holder(&self) -> Option<String> {
        let value = |name: &str| {
            self.field(name)
                .map(|f| f.value.trim())
                .filter(|v| !v.is_empty())
        };
        if let Some(full) = value("full_name") {
            return Some(full.to_string());
        }
        let given = value("given_names").or_else(|| value("first_name"));
        let family = value("surname").or_else(|| value("last_name"));
        match (given, family) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (one, other) => one.or(other).map(str::to_string),
        }
    }
}

/// One line of a card list: what listing needs, never the whole card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardSummary {
    pub id: CardId,
    pub user_id: String,
    /// The holder's name as read ([`Card::holder`]).
    pub holder: Option<String>,
    pub document_type: DocumentType,
    pub country: Option<String>,
    pub status: Status,
    pub verified: bool,
    pub confirmed: bool,
    pub confidence: Option<f32>,
    /// How many fields are below the daemon's confidence threshold.
    pub low_confidence: u32,
    /// How many fields were extracted (0: nothing was read, e.g. no zone found).
    pub fields: u32,
    /// How many findings of severity error the card has (an expired document, a bad date...).
    pub error_findings: u32,
    /// The verification provider failed (the card waits for a re-verification or a person).
    pub provider_failed: bool,
    pub assignee: Option<String>,
    pub version: u64,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time")]
    pub updated_at: DateTime<Utc>,
    /// A file or the document number is also on another user's card ([`Card::is_duplicate`]).
    pub duplicate: bool,
    /// The person who gave the first of two approvals (four eyes), while the second is awaited.
    pub pending_approval: Option<String>,
}

impl CardSummary {
    /// The list row of `card`, counting its fields below `threshold` as unsure.
    pub fn of(card: &Card, threshold: f32) -> CardSummary {
        CardSummary {
            id: card.id,
            user_id: card.user_id.clone(),
            holder: card.holder(),
            document_type: card.document_type,
            country: card.country.clone(),
            status: card.status,
            verified: card.verified,
            confirmed: card.confirmed,
            confidence: card.confidence(),
            low_confidence: u32::try_from(card.low_confidence_fields(threshold).len())
                .unwrap_or(u32::MAX),
            fields: u32::try_from(card.fields.len()).unwrap_or(u32::MAX),
            error_findings: u32::try_from(
                card.findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count(),
            )
            .unwrap_or(u32::MAX),
            provider_failed: card.provider.as_ref().is_some_and(|p| p.failure.is_some()),
            assignee: card.assignee.clone(),
            version: card.version,
            created_at: card.created_at,
            updated_at: card.updated_at,
            duplicate: card.is_duplicate(),
            pending_approval: card.pending_approval.as_ref().map(|p| p.person.clone()),
        }
    }
}

/// One page of a list, with the number of cards matching the filter in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardPage {
    pub total: u64,
    pub offset: u64,
    pub cards: Vec<CardSummary>,
}

/// A card named together with the version the caller last saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRef {
    pub id: CardId,
    /// The version the caller based its change on; `None` skips the check.
    pub expected_version: Option<u64>,
}

/// Approve or reject several cards at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideRequest {
    pub cards: Vec<CardRef>,
    pub decision: Decision,
    pub reason: String,
    /// Approve cards that still have doubts (fields below the confidence threshold, findings of
    /// severity error). Without it such a card is refused with [`crate::RpcError::Doubts`];
    /// with it the reason is required and the audit event names the doubts overridden.
    pub override_doubts: bool,
}

/// A new value for one field, from a reviewer or the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldCorrection {
    pub name: String,
    pub value: String,
}

/// The outcome for one card of a bulk call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: CardId,
    /// The card's new version, or why nothing changed.
    pub result: Result<u64, crate::RpcError>,
}

/// An append-only record of one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the daemon's audit log, increasing.
    pub seq: u64,
    pub card_id: Option<CardId>,
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
    /// The token identity (or local user) that made the change.
    pub actor: String,
    /// What happened, e.g. `card.created`, `card.approved`, `field.corrected`.
    pub action: String,
    pub reason: Option<String>,
    /// A short JSON rendering of the changed state before and after.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What the daemon says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub daemon_version: String,
    pub protocol_version: u32,
    /// The identity this connection acts as.
    pub identity: String,
    pub role: Role,
    pub cards: u64,
    /// Cards per status, in [`Status::ALL`] order.
    pub by_status: Vec<(Status, u64)>,
    pub provider: String,
    pub uptime_secs: u64,
    /// Submissions waiting in `rejected/` (reviewers only; 0 for others).
    pub rejected: u64,
}

named_enum!(
    /// What a connection may do. Stored (bincode) and sent by variant index: a new role goes
    /// last. What each may do is [`Role::may`]'s table, never the variants' order. `service`:
    /// an app backend acting for the users it names (the HTTP API's `X-Idreview-User`), a
    /// submitter's calls for any user, never a reviewer's or an admin's.
    Role {
        Submitter => "submitter",
        Reviewer => "reviewer",
        Admin => "admin",
        Service => "service",
    }
);

#[cfg(test)]
mod tests;

impl Role {
    /// Whether this role may make the calls that need `needed`: the permission table.
    pub fn may(self, needed: Role) -> bool {
        use Role::*;
        matches!(
            (self, needed),
            (Submitter, Submitter)
                | (Reviewer, Submitter | Reviewer)
                | (Admin, Submitter | Reviewer | Admin)
                | (Service, Submitter | Service)
        )
    }

    /// Whether this role acts for any user, not only the one its token is bound to.
    pub fn acts_for_any_user(self) -> bool {
        matches!(self, Role::Reviewer | Role::Admin | Role::Service)
    }
}

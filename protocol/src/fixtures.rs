//! Test data for every crate's tests (feature `test-fixtures`): a fixed clock ([`now`]), a
//! [`CardBuilder`] that starts from a plain valid card and changes one thing at a time, and
//! the parts cards are made of ([`field`], [`file`]). A card's list row is
//! [`CardSummary::of`](crate::CardSummary::of).

use chrono::{DateTime, TimeZone, Utc};

use crate::{
    Card, CardId, DecisionRecord, DocumentType, Field, FieldSource, FileMeta, FileRole, Finding,
    PendingApproval, ProviderVerdict, RawZone, Side, Status,
};

/// The fixed "now" of tests: 2026-03-01 12:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A builder for card `id`; see [`CardBuilder::new`] for what it starts as.
pub fn card(id: u64) -> CardBuilder {
    CardBuilder::new(CardId(id))
}

/// A field read from the front with `confidence`, without a box or other candidates.
pub fn field(name: &str, value: &str, confidence: f32, source: FieldSource) -> Field {
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

/// A stored JPEG of 1600x1000 and 1,843,200 bytes under `object_key`.
pub fn file(role: FileRole, name: &str, object_key: &str) -> FileMeta {
    FileMeta {
        role,
        name: name.into(),
        object_key: object_key.into(),
        sha256: "ab".repeat(32),
        size: 1_843_200,
        media_type: "image/jpeg".into(),
        dimensions: Some((1600, 1000)),
        etag: None,
    }
}

/// A card under construction; [`CardBuilder::build`] hands it out.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct CardBuilder {
    card: Card,
}

impl CardBuilder {
    /// Card `id`: a German passport of `user-{id:03}` (three digits at least) waiting for
    /// review, at version 1, from the inbox, created and updated at [`now`]; no fields, files,
    /// findings, provider verdict, decision or claim, neither verified nor confirmed.
    pub fn new(id: CardId) -> CardBuilder {
        CardBuilder {
            card: Card {
                id,
                user_id: format!("user-{:03}", id.0),
                document_type: DocumentType::Passport,
                country: Some("DE".into()),
                status: Status::NeedsReview,
                verified: false,
                confirmed: false,
                fields: vec![],
                files: vec![],
                findings: vec![],
                provider: None,
                raw_zone: None,
                decision: None,
                assignee: None,
                lease_until: None,
                version: 1,
                source: "inbox".into(),
                created_at: now(),
                updated_at: now(),
                pending_approval: None,
            },
        }
    }

    /// The card.
    pub fn build(self) -> Card {
        self.card
    }

    /// Another id.
    pub fn id(mut self, id: CardId) -> Self {
        self.card.id = id;
        self
    }

    /// Another user id.
    pub fn user(mut self, user_id: &str) -> Self {
        self.card.user_id = user_id.into();
        self
    }

    /// Another document type.
    pub fn document_type(mut self, document_type: DocumentType) -> Self {
        self.card.document_type = document_type;
        self
    }

    /// The issuing country's code, or none.
    pub fn country(mut self, country: Option<&str>) -> Self {
        self.card.country = country.map(str::to_string);
        self
    }

    /// Another status (no transition is checked).
    pub fn status(mut self, status: Status) -> Self {
        self.card.status = status;
        self
    }

    /// Checked by a reviewer, or not.
    pub fn verified(mut self, verified: bool) -> Self {
        self.card.verified = verified;
        self
    }

    /// Confirmed by the user, or not.
    pub fn confirmed(mut self, confirmed: bool) -> Self {
        self.card.confirmed = confirmed;
        self
    }

    /// Adds a field (see [`field`]).
    pub fn field(mut self, field: Field) -> Self {
        self.card.fields.push(field);
        self
    }

    /// Replaces the fields.
    pub fn fields(mut self, fields: Vec<Field>) -> Self {
        self.card.fields = fields;
        self
    }

    /// Adds a file (see [`file`]).
    pub fn file(mut self, file: FileMeta) -> Self {
        self.card.files.push(file);
        self
    }

    /// Adds a validation finding.
    pub fn finding(mut self, finding: Finding) -> Self {
        self.card.findings.push(finding);
        self
    }

    /// The provider's verdict.
    pub fn provider(mut self, provider: ProviderVerdict) -> Self {
        self.card.provider = Some(provider);
        self
    }

    /// The zone as a reader saw it.
    pub fn raw_zone(mut self, zone: RawZone) -> Self {
        self.card.raw_zone = Some(zone);
        self
    }

    /// A reviewer's decision.
    pub fn decision(mut self, decision: DecisionRecord) -> Self {
        self.card.decision = Some(decision);
        self
    }

    /// Claimed by `who` (or no one) until `lease_until` (or without a lease).
    pub fn assignee(mut self, who: Option<&str>, lease_until: Option<DateTime<Utc>>) -> Self {
        self.card.assignee = who.map(str::to_string);
        self.card.lease_until = lease_until;
        self
    }

    /// The first of two approvals (four eyes), given by `person` at [`now`].
    pub fn pending_approval(mut self, person: &str, reason: &str) -> Self {
        self.card.pending_approval = Some(PendingApproval {
            by: format!("token:{person}"),
            person: person.into(),
            at: now(),
            reason: reason.into(),
        });
        self
    }

    /// Another version.
    pub fn version(mut self, version: u64) -> Self {
        self.card.version = version;
        self
    }

    /// Where the submission came from, e.g. `inbox/user-001`.
    pub fn source(mut self, source: &str) -> Self {
        self.card.source = source.into();
        self
    }

    /// Created at `at`.
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.card.created_at = at;
        self
    }

    /// Last changed at `at`.
    pub fn updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.card.updated_at = at;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_card_is_reviewable_and_setters_change_one_thing() {
        let plain = card(7).build();
        assert_eq!(
            (
                plain.id,
                plain.user_id.as_str(),
                plain.status,
                plain.version
            ),
            (CardId(7), "user-007", Status::NeedsReview, 1)
        );
        assert_eq!(plain.confidence(), None);
        let changed = card(7)
            .field(field("surname", "ROSSI", 0.4, FieldSource::Mrz))
            .field(field("given_names", "LUCA", 0.9, FieldSource::Visual))
            .assignee(Some("alice"), None)
            .build();
        assert_eq!(
            Card {
                fields: plain.fields.clone(),
                assignee: None,
                ..changed.clone()
            },
            plain
        );
        let row = crate::CardSummary::of(&changed, 0.8);
        assert_eq!(row.confidence, Some(0.4));
        assert_eq!(row.low_confidence, 1);
        assert_eq!(row.assignee.as_deref(), Some("alice"));
    }
}

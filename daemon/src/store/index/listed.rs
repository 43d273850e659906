//! A card's list row as the index keeps it: the fields of its [`CardSummary`], with the short
//! texts (user id, holder, country, assignee) held inline. A `CompactString` keeps up to 24
//! bytes without a heap allocation, so a row costs one allocation-free struct instead of four
//! small strings on the heap (100,000 rows add up). Clients get a `CardSummary` built from it
//! per page.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use idreview_protocol::{CardId, CardSummary, DocumentType, Status};

pub(super) struct Listed {
    pub id: CardId,
    pub user_id: CompactString,
    pub holder: Option<CompactString>,
    pub document_type: DocumentType,
    pub country: Option<CompactString>,
    pub status: Status,
    pub verified: bool,
    pub confirmed: bool,
    pub provider_failed: bool,
    pub confidence: Option<f32>,
    pub low_confidence: u32,
    pub fields: u32,
    pub error_findings: u32,
    pub assignee: Option<CompactString>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub duplicate: bool,
    pub pending_approval: Option<CompactString>,
}

impl Listed {
    /// The row of `s`.
    pub fn of(s: CardSummary) -> Listed {
        Listed {
            id: s.id,
            user_id: s.user_id.into(),
            holder: s.holder.map(CompactString::from),
            document_type: s.document_type,
            country: s.country.map(CompactString::from),
            status: s.status,
            verified: s.verified,
            confirmed: s.confirmed,
            provider_failed: s.provider_failed,
            confidence: s.confidence,
            low_confidence: s.low_confidence,
            fields: s.fields,
            error_findings: s.error_findings,
            assignee: s.assignee.map(CompactString::from),
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
            duplicate: s.duplicate,
            pending_approval: s.pending_approval.map(CompactString::from),
        }
    }

    /// The summary clients see, with `assignee` as the caller decides (a lapsed claim reads
    /// as unassigned).
    pub fn summary(&self, assignee: Option<&str>) -> CardSummary {
        CardSummary {
            id: self.id,
            user_id: self.user_id.to_string(),
            holder: self.holder.as_ref().map(|h| h.to_string()),
            document_type: self.document_type,
            country: self.country.as_ref().map(|c| c.to_string()),
            status: self.status,
            verified: self.verified,
            confirmed: self.confirmed,
            confidence: self.confidence,
            low_confidence: self.low_confidence,
            fields: self.fields,
            error_findings: self.error_findings,
            provider_failed: self.provider_failed,
            assignee: assignee.map(String::from),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            duplicate: self.duplicate,
            pending_approval: self.pending_approval.as_ref().map(|p| p.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gives_back_the_summary_it_was_made_of() {
        let card = idreview_protocol::fixtures::card(7)
            .user("a-user-id-longer-than-twenty-four-bytes")
            .country(Some("DE"))
            .assignee(Some("rita"), None)
            .pending_approval("alice", "checked")
            .build();
        let summary = CardSummary::of(&card, 0.8);
        let row = Listed::of(summary.clone());
        assert_eq!(row.summary(summary.assignee.as_deref()), summary);
        assert!(row.user_id.is_heap_allocated(), "long texts still fit");
        assert!(!row.country.as_ref().is_some_and(|c| c.is_heap_allocated()));
    }
}

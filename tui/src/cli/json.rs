//! The documented JSON shapes of the commands' `--json` output, apart from the wire types
//! (which travel as bincode and keep serde's defaults): enums as snake_case strings, a per-card
//! result as `{"card", "ok", "version"}` or `{"card", "ok": false, "error": {"kind",
//! "message", ...}}` instead of serde's `{"Ok": ..}` / `{"Err": ..}`, confidences rounded to
//! two places, times in RFC 3339 UTC. README "JSON output" lists every shape.

use chrono::{DateTime, SecondsFormat, Utc};
use idreview_protocol::{
    AuditEvent, Card, CardPage, CardSummary, ErasureReport, Field, FileMeta, Finding, ItemResult,
    RejectedSubmission, RpcError,
};
use serde::Serialize;

/// A confidence, rounded to two places so that `0.42` does not print as `0.41999998688697815`.
pub fn confidence(value: f32) -> f64 {
    (f64::from(value) * 100.0).round() / 100.0
}

/// A time as RFC 3339 in UTC with milliseconds: `2026-12-06T20:14:49.802Z`.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One card's result of a bulk call.
#[derive(Debug, Serialize)]
pub struct ItemJson {
    pub card: u64,
    pub ok: bool,
    /// The card's new version, when it took the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorJson>,
}

impl From<&ItemResult> for ItemJson {
    fn from(item: &ItemResult) -> ItemJson {
        ItemJson {
            card: item.id.0,
            ok: item.result.is_ok(),
            version: item.result.as_ref().ok().copied(),
            error: item.result.as_ref().err().map(ErrorJson::from),
        }
    }
}

/// Why something was refused: a stable `kind`, the message people read, and the details the
/// kind has.
#[derive(Debug, Serialize)]
pub struct ErrorJson {
    /// `not_found`, `conflict`, `illegal_transition`, `invalid`, `forbidden`, `unavailable`,
    /// `internal`, `held`, `unauthenticated`, `rate_limited`, `doubts`.
    pub kind: &'static str,
    pub message: String,
    /// For `doubts`: the fields below the threshold and the error findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doubts: Option<Vec<String>>,
    /// For `held`: who holds the card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// For `conflict`: the card's version now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
}

impl From<&RpcError> for ErrorJson {
    fn from(e: &RpcError) -> ErrorJson {
        let mut json = ErrorJson {
            kind: "internal",
            message: e.to_string(),
            doubts: None,
            holder: None,
            actual_version: None,
        };
        json.kind = match e {
            RpcError::NotFound(_) => "not_found",
            RpcError::Conflict { actual, .. } => {
                json.actual_version = Some(*actual);
                "conflict"
            }
            RpcError::IllegalTransition { .. } => "illegal_transition",
            RpcError::Invalid(_) => "invalid",
            RpcError::Forbidden(_) => "forbidden",
            RpcError::Unavailable(_) => "unavailable",
            RpcError::Internal(_) => "internal",
            RpcError::Held { holder, .. } => {
                json.holder = Some(holder.clone());
                "held"
            }
            RpcError::Unauthenticated(_) => "unauthenticated",
            RpcError::RateLimited { .. } => "rate_limited",
            RpcError::Doubts { doubts, .. } => {
                json.doubts = Some(doubts.clone());
                "doubts"
            }
            RpcError::SecondApprovalNeeded { .. } => "second_approval_needed",
        };
        json
    }
}

/// `decide --json`: what the call was, and each card's result.
#[derive(Debug, Serialize)]
pub struct DecideJson {
    pub decision: &'static str,
    pub requested: usize,
    pub decided: usize,
    pub results: Vec<ItemJson>,
}

/// `erase --json`.
#[derive(Debug, Serialize)]
pub struct ErasureJson {
    pub user: String,
    pub cards: Vec<ItemJson>,
    pub files_queued: u64,
    pub events_scrubbed: u64,
    pub tokens_revoked: u64,
}

impl ErasureJson {
    pub fn of(user: &str, report: &ErasureReport) -> ErasureJson {
        ErasureJson {
            user: user.to_string(),
            cards: report.cards.iter().map(ItemJson::from).collect(),
            files_queued: report.files_queued,
            events_scrubbed: report.events_scrubbed,
            tokens_revoked: report.tokens_revoked,
        }
    }
}

/// `rejected --json`: the refused submissions shown, newest first, and how many there are.
#[derive(Debug, Serialize)]
pub struct RejectedJson<'a> {
    pub total: u64,
    pub submissions: Vec<RejectedItemJson<'a>>,
}

/// One refused submission.
#[derive(Debug, Serialize)]
pub struct RejectedItemJson<'a> {
    pub folder: &'a str,
    pub rule: &'a str,
    pub file: Option<&'a str>,
    pub message: &'a str,
    pub rejected_at: Option<String>,
}

impl<'a> From<&'a RejectedSubmission> for RejectedItemJson<'a> {
    fn from(r: &'a RejectedSubmission) -> RejectedItemJson<'a> {
        RejectedItemJson {
            folder: &r.folder,
            rule: &r.rule,
            file: r.file.as_deref(),
            message: &r.message,
            rejected_at: r.rejected_at.map(time),
        }
    }
}

/// A list row.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub id: u64,
    pub user_id: &'a str,
    pub document_type: &'static str,
    pub country: Option<&'a str>,
    pub status: &'static str,
    pub verified: bool,
    pub confirmed: bool,
    pub confidence: Option<f64>,
    pub low_confidence_fields: u32,
    pub error_findings: u32,
    pub assignee: Option<&'a str>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a CardSummary> for SummaryJson<'a> {
    fn from(s: &'a CardSummary) -> SummaryJson<'a> {
        SummaryJson {
            id: s.id.0,
            user_id: &s.user_id,
            document_type: s.document_type.as_str(),
            country: s.country.as_deref(),
            status: s.status.as_str(),
            verified: s.verified,
            confirmed: s.confirmed,
            confidence: s.confidence.map(confidence),
            low_confidence_fields: s.low_confidence,
            error_findings: s.error_findings,
            assignee: s.assignee.as_deref(),
            version: s.version,
            created_at: time(s.created_at),
            updated_at: time(s.updated_at),
        }
    }
}

/// `list --json`.
#[derive(Debug, Serialize)]
pub struct PageJson<'a> {
    pub total: u64,
    pub offset: u64,
    pub cards: Vec<SummaryJson<'a>>,
}

impl<'a> From<&'a CardPage> for PageJson<'a> {
    fn from(page: &'a CardPage) -> PageJson<'a> {
        PageJson {
            total: page.total,
            offset: page.offset,
            cards: page.cards.iter().map(SummaryJson::from).collect(),
        }
    }
}

/// One extracted field.
#[derive(Debug, Serialize)]
pub struct FieldJson<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub confidence: f64,
    pub source: &'static str,
    pub side: &'static str,
    /// Every other value the provider read, with its confidence.
    pub candidates: Vec<(&'a str, f64)>,
}

impl<'a> From<&'a Field> for FieldJson<'a> {
    fn from(f: &'a Field) -> FieldJson<'a> {
        FieldJson {
            name: &f.name,
            value: &f.value,
            confidence: confidence(f.confidence),
            source: f.source.as_str(),
            side: f.side.as_str(),
            candidates: f
                .candidates
                .iter()
                .filter(|c| c.value != f.value)
                .map(|c| (c.value.as_str(), confidence(c.confidence)))
                .collect(),
        }
    }
}

/// One stored file.
#[derive(Debug, Serialize)]
pub struct FileJson<'a> {
    pub role: &'static str,
    pub name: &'a str,
    pub media_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub dimensions: Option<(u32, u32)>,
    pub object_key: &'a str,
}

impl<'a> From<&'a FileMeta> for FileJson<'a> {
    fn from(f: &'a FileMeta) -> FileJson<'a> {
        FileJson {
            role: f.role.as_str(),
            name: &f.name,
            media_type: &f.media_type,
            size: f.size,
            sha256: &f.sha256,
            dimensions: f.dimensions,
            object_key: &f.object_key,
        }
    }
}

/// One finding.
#[derive(Debug, Serialize)]
pub struct FindingJson<'a> {
    pub rule: &'a str,
    pub severity: &'static str,
    pub message: &'a str,
}

impl<'a> From<&'a Finding> for FindingJson<'a> {
    fn from(f: &'a Finding) -> FindingJson<'a> {
        FindingJson {
            rule: &f.rule,
            severity: f.severity.as_str(),
            message: &f.message,
        }
    }
}

/// One audit event.
#[derive(Debug, Serialize)]
pub struct EventJson<'a> {
    pub seq: u64,
    pub card_id: Option<u64>,
    pub at: String,
    pub actor: &'a str,
    pub action: &'a str,
    pub reason: Option<&'a str>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

impl<'a> From<&'a AuditEvent> for EventJson<'a> {
    fn from(e: &'a AuditEvent) -> EventJson<'a> {
        EventJson {
            seq: e.seq,
            card_id: e.card_id.map(|c| c.0),
            at: time(e.at),
            actor: &e.actor,
            action: &e.action,
            reason: e.reason.as_deref(),
            before: e.before.as_deref(),
            after: e.after.as_deref(),
        }
    }
}

/// `show --json`: the card and its audit history.
#[derive(Debug, Serialize)]
pub struct CardJson<'a> {
    pub id: u64,
    pub user_id: &'a str,
    pub document_type: &'static str,
    pub country: Option<&'a str>,
    pub status: &'static str,
    pub verified: bool,
    pub confirmed: bool,
    /// The lowest field confidence; `null` before anything was read.
    pub confidence: Option<f64>,
    pub fields: Vec<FieldJson<'a>>,
    pub files: Vec<FileJson<'a>>,
    pub findings: Vec<FindingJson<'a>>,
    /// The provider's verdict: `{provider, decision, failure, warnings: [code]}`.
    pub provider: Option<ProviderJson<'a>>,
    /// `{decision: approve|reject, by, at, reason}` once decided.
    pub decision: Option<DecisionJson<'a>>,
    pub assignee: Option<&'a str>,
    pub lease_until: Option<String>,
    pub version: u64,
    pub source: &'a str,
    pub created_at: String,
    pub updated_at: String,
    pub audit: Vec<EventJson<'a>>,
}

/// The provider's verdict.
#[derive(Debug, Serialize)]
pub struct ProviderJson<'a> {
    pub provider: &'a str,
    pub decision: &'a str,
    pub failure: Option<&'a str>,
    pub transaction_id: Option<&'a str>,
    pub warnings: Vec<&'a str>,
}

/// The decision on a card.
#[derive(Debug, Serialize)]
pub struct DecisionJson<'a> {
    pub decision: &'static str,
    pub by: &'a str,
    pub at: String,
    pub reason: &'a str,
}

impl<'a> CardJson<'a> {
    pub fn of(card: &'a Card, audit: &'a [AuditEvent]) -> CardJson<'a> {
        CardJson {
            id: card.id.0,
            user_id: &card.user_id,
            document_type: card.document_type.as_str(),
            country: card.country.as_deref(),
            status: card.status.as_str(),
            verified: card.verified,
            confirmed: card.confirmed,
            confidence: card.confidence().map(confidence),
            fields: card.fields.iter().map(FieldJson::from).collect(),
            files: card.files.iter().map(FileJson::from).collect(),
            findings: card.findings.iter().map(FindingJson::from).collect(),
            provider: card.provider.as_ref().map(|p| ProviderJson {
                provider: &p.provider,
                decision: &p.decision,
                failure: p.failure.as_deref(),
                transaction_id: p.transaction_id.as_deref(),
                warnings: p.warnings.iter().map(|w| w.code.as_str()).collect(),
            }),
            decision: card.decision.as_ref().map(|d| DecisionJson {
                decision: d.decision.as_str(),
                by: &d.by,
                at: time(d.at),
                reason: &d.reason,
            }),
            assignee: card.assignee.as_deref(),
            lease_until: card.lease_until.map(time),
            version: card.version,
            source: &card.source,
            created_at: time(card.created_at),
            updated_at: time(card.updated_at),
            audit: audit.iter().map(EventJson::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idreview_protocol::CardId;

    #[test]
    fn results_are_flat_and_errors_have_a_kind() {
        let ok = ItemResult {
            id: CardId(8),
            result: Ok(3),
        };
        let refused = ItemResult {
            id: CardId(9),
            result: Err(RpcError::Doubts {
                id: CardId(9),
                doubts: vec!["surname at 0.42".into()],
            }),
        };
        let json =
            serde_json::to_string(&[ItemJson::from(&ok), ItemJson::from(&refused)]).expect("json");
        assert_eq!(
            json,
            r#"[{"card":8,"ok":true,"version":3},{"card":9,"ok":false,"error":{"kind":"doubts","message":"card 9 has unresolved doubts: surname at 0.42; approving it anyway takes an explicit override with a reason","doubts":["surname at 0.42"]}}]"#
        );
        assert!(!json.contains("\"Ok\"") && !json.contains("\"Err\""));
    }

    #[test]
    fn confidences_and_times_are_plain() {
        assert_eq!(
            serde_json::to_string(&confidence(0.42)).expect("json"),
            "0.42"
        );
        assert_eq!(
            serde_json::to_string(&confidence(0.998)).expect("json"),
            "1.0"
        );
        let at = idreview_protocol::fixtures::now();
        assert_eq!(time(at), "2026-03-01T12:00:00.000Z");
    }
}

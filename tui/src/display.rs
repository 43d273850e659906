//! How domain values are written for people, shared by the console screens and the command
//! tables: ages (`5m`, `3h`, `2d`), confidences, byte sizes and confidence bands.

use chrono::{DateTime, Utc};

/// The program's name and the gap after it, first on the console's header.
pub const TITLE: &str = "idreview  ";

/// What separates the header's counts from the connection when they share its first line.
pub const COUNTS_BESIDE: &str = "  | ";

/// Where a confidence falls against the configured bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Below the first band: look closely.
    Low,
    /// Between the bands.
    Medium,
    /// At or above the second band.
    High,
    /// Nothing extracted yet.
    Unknown,
}

/// Classifies `confidence` against `[low, high]`: red below `low`, yellow below `high`.
pub fn band(confidence: Option<f32>, bands: [f32; 2]) -> Band {
    match confidence {
        None => Band::Unknown,
        Some(c) if c < bands[0] => Band::Low,
        Some(c) if c < bands[1] => Band::Medium,
        Some(_) => Band::High,
    }
}

/// A first approval awaiting the second (four eyes), as the list and the detail show it:
/// `approval 1/2 by alice`.
pub fn pending_approval(person: Option<&str>) -> Option<String> {
    person.map(|p| format!("approval 1/2 by {p}"))
}

/// Why a card waits for a person, most pressing first: `approval 1/2 by alice`, `reused
/// document`, `provider failed`, `nothing read`, `2 findings`, `3 unsure`; empty when nothing
/// speaks against it (or it is decided).
pub fn attention(card: &idreview_protocol::CardSummary) -> String {
    let pending = pending_approval(card.pending_approval.as_deref());
    if card.status != idreview_protocol::Status::NeedsReview {
        return pending.unwrap_or_default();
    }
    let mut why: Vec<String> = pending.into_iter().collect();
    if card.duplicate {
        why.push("reused document".into());
    }
    if card.provider_failed {
        why.push("provider failed".to_string());
    } else if card.fields == 0 {
        why.push("nothing read".to_string());
    }
    match card.error_findings {
        0 => {}
        1 => why.push("1 finding".into()),
        n => why.push(format!("{n} findings")),
    }
    if card.low_confidence > 0 {
        why.push(format!("{} unsure", card.low_confidence));
    }
    match why.is_empty() {
        true => "to decide".into(),
        false => why.join(", "),
    }
}

/// `0.82` as `0.82`; `-` when there is none.
pub fn confidence(confidence: Option<f32>) -> String {
    confidence.map_or_else(|| "-".to_string(), |c| format!("{c:.2}"))
}

/// `0.82` as `82%`.
pub fn percent(confidence: f32) -> String {
    format!("{:.0}%", confidence * 100.0)
}

/// How long ago `then` was, in the largest whole unit: `42s`, `5m`, `3h`, `2d`.
pub fn age(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Bytes in binary units: `812 B`, `1.5 KiB`, `3.2 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `approved` or `rejected`.
pub fn decided(decision: idreview_protocol::Decision) -> &'static str {
    match decision {
        idreview_protocol::Decision::Approve => "approved",
        idreview_protocol::Decision::Reject => "rejected",
    }
}

/// An optional text, `-` when absent.
pub fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

/// A ten-cell bar for a confidence: `########--`.
pub fn bar(confidence: f32, cells: usize) -> String {
    let filled = ((confidence.clamp(0.0, 1.0) * cells as f32).round() as usize).min(cells);
    format!("{}{}", "█".repeat(filled), "░".repeat(cells - filled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_use_the_largest_unit() {
        let now = Utc
            .with_ymd_and_hms(2026, 1, 10, 12, 0, 0)
            .single()
            .expect("date");
        let ago = |s: i64| age(now - chrono::Duration::seconds(s), now);
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(300), "5m");
        assert_eq!(ago(3 * 3600 + 59), "3h");
        assert_eq!(ago(2 * 86_400), "2d");
        assert_eq!(ago(-10), "0s");
    }

    #[test]
    fn bands_split_at_their_bounds() {
        let b = [0.5, 0.8];
        assert_eq!(band(Some(0.49), b), Band::Low);
        assert_eq!(band(Some(0.5), b), Band::Medium);
        assert_eq!(band(Some(0.8), b), Band::High);
        assert_eq!(band(None, b), Band::Unknown);
    }

    #[test]
    fn sizes_and_bars() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(bar(0.8, 10), "████████░░");
        assert_eq!(confidence(None), "-");
        assert_eq!(percent(0.82), "82%");
    }

    #[test]
    fn the_reason_a_card_waits_names_what_needs_a_person() {
        use idreview_protocol::fixtures::{card, field};
        use idreview_protocol::{
            CardSummary, FieldSource, Finding, ProviderVerdict, Severity, Status,
        };
        let waiting = |c: idreview_protocol::Card| attention(&CardSummary::of(&c, 0.8));
        assert_eq!(waiting(card(1).build()), "nothing read");
        let unsure = card(2)
            .field(field("surname", "X", 0.4, FieldSource::Mrz))
            .field(field("given_names", "Y", 0.5, FieldSource::Mrz))
            .build();
        assert_eq!(waiting(unsure), "2 unsure");
        let expired = card(3)
            .field(field("surname", "X", 0.95, FieldSource::Mrz))
            .finding(Finding {
                rule: "document_expired".into(),
                severity: Severity::Error,
                message: "expired".into(),
            })
            .build();
        assert_eq!(
            waiting(expired),
            "1 finding",
            "an error finding at high confidence"
        );
        let failed = card(4)
            .provider(ProviderVerdict {
                provider: "idanalyzer".into(),
                decision: "review".into(),
                warnings: vec![],
                transaction_id: None,
                failure: Some("timed out".into()),
            })
            .build();
        assert_eq!(waiting(failed), "provider failed");
        let clean = card(5)
            .field(field("surname", "X", 0.95, FieldSource::Mrz))
            .build();
        assert_eq!(waiting(clean), "to decide");
        let decided = card(6).status(Status::Approved).build();
        assert_eq!(waiting(decided), "");
    }
}

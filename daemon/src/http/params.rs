//! The admin list's query parameters (django-filter's names and DRF's `search`, `ordering` and
//! `page`), parsed into a [`SeedQuery`]; a bad value is a 400 keyed by its parameter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use idreview_protocol::DocumentType;
use serde_json::{Value, json};

use super::ApiError;
use crate::seed::{SeedDecision, SeedOrder, SeedQuery, SeedStatus};

/// Cards per page, as the seed's pagination has it.
pub const PAGE_SIZE: usize = 20;

/// The query and the page number (from 1).
pub fn parse(params: &[(String, String)]) -> Result<(SeedQuery, usize), ApiError> {
    let mut q = SeedQuery::default();
    let mut errors: BTreeMap<String, Value> = BTreeMap::new();
    let mut refuse = |name: &str, why: String| {
        errors.insert(name.to_string(), json!([why]));
    };
    let mut page = 1usize;
    // The last value of a parameter counts, as in Django's QueryDict.get.
    let mut last: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, value) in params {
        last.insert(name.as_str(), value.as_str());
    }
    let choice =
        |v: &str| format!("Select a valid choice. {v} is not one of the available choices.");
    for (name, value) in last {
        if value.is_empty() && name != "page" {
            continue;
        }
        match name {
            "page" => match value.parse::<usize>() {
                Ok(n) if n >= 1 => page = n,
                _ => return Err(ApiError::NotFound("Invalid page.".into())),
            },
            "status" => match SeedStatus::parse(value) {
                Some(s) => q.status = Some(s),
                None => refuse(name, choice(value)),
            },
            "decision" => match SeedDecision::parse(value) {
                Some(d) => q.decision = Some(d),
                None => refuse(name, choice(value)),
            },
            "document_type" => match DocumentType::ALL.iter().find(|t| t.as_str() == value) {
                Some(t) => q.document_type = Some(*t),
                None => refuse(name, choice(value)),
            },
            "country" => q.country = Some(value.to_string()),
            "verified" => match value {
                "true" | "True" | "1" => q.verified = Some(true),
                "false" | "False" | "0" => q.verified = Some(false),
                _ => refuse(name, format!("\"{value}\" is not a valid boolean.")),
            },
            "confidence_min" | "confidence_max" => match value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => {
                    if name == "confidence_min" {
                        q.confidence_min = Some(n);
                    } else {
                        q.confidence_max = Some(n);
                    }
                }
                _ => refuse(name, "Enter a number.".into()),
            },
            "created_after" | "created_before" => match datetime(value) {
                Some(t) => {
                    if name == "created_after" {
                        q.created_after = Some(t);
                    } else {
                        q.created_before = Some(t);
                    }
                }
                None => refuse(name, "Enter a valid date/time.".into()),
            },
            "search" => {
                q.search = value
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_lowercase)
                    .collect();
            }
            "ordering" => {
                // DRF takes the valid terms of a comma-separated list; the first orders here.
                let first = value
                    .split(',')
                    .map(str::trim)
                    .find(|t| SeedOrder::parse(t.trim_start_matches('-')).is_some());
                if let Some(term) = first {
                    q.descending = term.starts_with('-');
                    if let Some(order) = SeedOrder::parse(term.trim_start_matches('-')) {
                        q.order = order;
                    }
                }
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    q.offset = (page - 1) * PAGE_SIZE;
    q.limit = PAGE_SIZE;
    Ok((q, page))
}

/// An ISO 8601 date-time (with a zone, or UTC without one), or a date (its midnight UTC).
fn datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parameters_become_the_query() {
        let (q, page) = parse(&params(&[
            ("status", "needs_review"),
            ("search", "Rossi, 42 "),
            ("ordering", "-confidence"),
            ("page", "3"),
            ("created_after", "2026-11-25T10:00:00.000000Z"),
        ]))
        .expect("valid");
        assert_eq!(q.status, Some(SeedStatus::NeedsReview));
        assert_eq!(q.search, vec!["rossi", "42"]);
        assert_eq!((q.order, q.descending), (SeedOrder::Confidence, true));
        assert_eq!((page, q.offset), (3, 40));
        assert!(q.created_after.is_some());
    }

    #[test]
    fn bad_values_are_keyed_by_their_parameter() {
        for (name, value) in [
            ("status", "done"),
            ("decision", "maybe"),
            ("document_type", "visa"),
            ("confidence_min", "high"),
            ("created_before", "yesterday"),
            ("verified", "perhaps"),
        ] {
            match parse(&params(&[(name, value)])) {
                Err(ApiError::Fields(f)) => assert!(f.contains_key(name), "{name}: {f:?}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(&params(&[("page", "0")])),
            Err(ApiError::NotFound(_))
        ));
    }
}

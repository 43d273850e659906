//! List queries: the filter, sort and page a client asks for, and the short text form people
//! type (`status:needs_review type:passport conf:<0.8 smith`), shared by the console and the CLI.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{DocumentType, Status};

/// Whose cards to list by assignee.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssigneeFilter {
    #[default]
    Anyone,
    Unassigned,
    /// The caller's own identity.
    Me,
    Named(String),
}

/// Which cards to list. Empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardFilter {
    pub statuses: Vec<Status>,
    pub document_types: Vec<DocumentType>,
    /// Upper-case country codes.
    pub countries: Vec<String>,
    /// Inclusive lower bound of card confidence; cards without confidence never match a bound.
    pub min_confidence: Option<f32>,
    /// Exclusive upper bound of card confidence.
    pub max_confidence: Option<f32>,
    /// Only cards with at least one field below the daemon's threshold.
    pub low_confidence_only: bool,
    #[serde(default, with = "crate::time::option")]
    pub created_from: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::time::option")]
    pub created_to: Option<DateTime<Utc>>,
    /// Inclusive lower bound of the last change.
    #[serde(default, with = "crate::time::option")]
    pub updated_from: Option<DateTime<Utc>>,
    /// Exclusive upper bound of the last change.
    #[serde(default, with = "crate::time::option")]
    pub updated_to: Option<DateTime<Utc>>,
    pub verified: Option<bool>,
    pub assignee: AssigneeFilter,
    /// Exact card ids (`id:22,23`).
    pub ids: Vec<u64>,
    /// Exact user ids, compared without regard to case (`user:erika`).
    pub users: Vec<String>,
    /// Words that must all occur (case-insensitive prefix match) in the user id, the document
    /// fields or the card id.
    pub text: Option<String>,
    /// Only cards whose file or document number is (or is not) also on another user's card
    /// (`dup:yes`, `dup:no`).
    #[serde(default)]
    pub duplicate: Option<bool>,
}

/// What to order a list by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Created,
    Updated,
    User,
    DocumentType,
    Country,
    Status,
    Confidence,
    Assignee,
}

impl SortKey {
    /// Every key, in the order the console steps through them.
    pub const ALL: &'static [SortKey] = &[
        SortKey::Created,
        SortKey::Updated,
        SortKey::User,
        SortKey::DocumentType,
        SortKey::Country,
        SortKey::Status,
        SortKey::Confidence,
        SortKey::Assignee,
    ];

    /// The name `parse` reads.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::User => "user",
            SortKey::DocumentType => "type",
            SortKey::Country => "country",
            SortKey::Status => "status",
            SortKey::Confidence => "confidence",
            SortKey::Assignee => "assignee",
        }
    }

    /// Reads a name written by `as_str`.
    pub fn parse(s: &str) -> Result<SortKey, String> {
        SortKey::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown sort key {s:?}"))
    }
}

/// A filtered, sorted page of cards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub filter: CardFilter,
    pub sort: SortKey,
    pub descending: bool,
    pub offset: u64,
    /// At most [`ListQuery::MAX_LIMIT`] cards come back per call.
    pub limit: u32,
}

impl ListQuery {
    /// The largest page one call returns; page further with `offset`.
    pub const MAX_LIMIT: u32 = 1000;
    /// The most card refs one `list_refs` call returns (about 1.7 MB on the wire).
    pub const MAX_REFS: u32 = 100_000;
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: CardFilter::default(),
            sort: SortKey::Created,
            descending: true,
            offset: 0,
            limit: 50,
        }
    }
}

impl CardFilter {
    /// Every key the text form knows, with what it takes: for help and completion.
    pub const KEYS: &'static [(&'static str, &'static str)] = &[
        ("status:", "needs_review,approved,... (comma-separated)"),
        ("type:", "passport,national_id,..."),
        ("country:", "DE,FR,... (ISO codes)"),
        ("conf:", "<0.8, >=0.5 or 0.5..0.8 (card confidence)"),
        ("low:", "yes (a field below the threshold)"),
        ("verified:", "yes or no"),
        ("assignee:", "me, none or a name"),
        ("created:", ">2026-01-31, <2026-02-01 or a..b"),
        ("updated:", "the same ranges as created:"),
        ("id:", "exact card ids, comma-separated"),
        ("user:", "exact user ids, comma-separated"),
        (
            "dup:",
            "yes or no (a file or document number on another user's card)",
        ),
    ];

    /// Parses the text form: space-separated `key:value` terms, the rest free text.
    ///
    /// Keys: see [`CardFilter::KEYS`]; `s:`, `t:`, `c:` and `a:` are short for `status:`,
    /// `type:`, `country:` and `assignee:`. A term with any other key is refused, naming the
    /// closest key, rather than searched as text; to search for text holding a colon, quote the
    /// term (`"12:30"`).
    pub fn parse(text: &str) -> Result<CardFilter, String> {
        let mut filter = CardFilter::default();
        let mut words = Vec::new();
        for term in text.split_whitespace() {
            if let Some(quoted) = term.strip_prefix('"') {
                words.push(quoted.strip_suffix('"').unwrap_or(quoted));
                continue;
            }
            let Some((key, value)) = term.split_once(':') else {
                words.push(term);
                continue;
            };
            match key.to_ascii_lowercase().as_str() {
                "status" | "s" => {
                    for v in value.split(',').filter(|v| !v.is_empty()) {
                        filter.statuses.push(v.parse()?);
                    }
                }
                "type" | "t" => {
                    for v in value.split(',').filter(|v| !v.is_empty()) {
                        filter.document_types.push(v.parse()?);
                    }
                }
                "country" | "c" => {
                    for v in value.split(',').filter(|v| !v.is_empty()) {
                        filter.countries.push(v.to_ascii_uppercase());
                    }
                }
                "conf" | "confidence" => {
                    let (lo, hi) = parse_range(value, parse_confidence)?;
                    filter.min_confidence = lo;
                    filter.max_confidence = hi;
                }
                "created" => {
                    let (lo, hi) = parse_range(value, parse_date)?;
                    filter.created_from = lo;
                    filter.created_to = hi;
                }
                "updated" => {
                    let (lo, hi) = parse_range(value, parse_date)?;
                    filter.updated_from = lo;
                    filter.updated_to = hi;
                }
                "low" => filter.low_confidence_only = parse_bool(value)?,
                "verified" => filter.verified = Some(parse_bool(value)?),
                "dup" | "duplicate" => filter.duplicate = Some(parse_bool(value)?),
                "assignee" | "a" => {
                    filter.assignee = match value.to_ascii_lowercase().as_str() {
                        "me" => AssigneeFilter::Me,
                        "none" | "unassigned" => AssigneeFilter::Unassigned,
                        "any" | "anyone" | "" => AssigneeFilter::Anyone,
                        _ => AssigneeFilter::Named(value.to_string()),
                    }
                }
                "id" => {
                    for v in value.split(',').filter(|v| !v.is_empty()) {
                        let id = v.trim_start_matches('#').parse().map_err(|_| {
                            format!("card id {v:?} is not a number (id:22 or id:22,23)")
                        })?;
                        filter.ids.push(id);
                    }
                    if filter.ids.is_empty() {
                        return Err("id: needs a card id (id:22)".into());
                    }
                }
                "user" | "u" => {
                    filter
                        .users
                        .extend(value.split(',').filter(|v| !v.is_empty()).map(String::from));
                    if filter.users.is_empty() {
                        return Err("user: needs a user id (user:erika)".into());
                    }
                }
                _ => return Err(unknown_key(key)),
            }
        }
        if !words.is_empty() {
            filter.text = Some(words.join(" "));
        }
        Ok(filter)
    }

    /// The text form [`CardFilter::parse`] reads back into an equal filter.
    pub fn to_query_string(&self) -> String {
        let mut out = String::new();
        let mut push = |term: String| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&term);
        };
        let join = |items: Vec<String>| items.join(",");
        if !self.statuses.is_empty() {
            push(format!(
                "status:{}",
                join(self.statuses.iter().map(|s| s.to_string()).collect())
            ));
        }
        if !self.document_types.is_empty() {
            push(format!(
                "type:{}",
                join(self.document_types.iter().map(|s| s.to_string()).collect())
            ));
        }
        if !self.countries.is_empty() {
            push(format!("country:{}", self.countries.join(",")));
        }
        if let Some(range) =
            format_range(self.min_confidence, self.max_confidence, |c| c.to_string())
        {
            push(format!("conf:{range}"));
        }
        if let Some(range) = format_range(self.created_from, self.created_to, |d| {
            d.format("%Y-%m-%d").to_string()
        }) {
            push(format!("created:{range}"));
        }
        if let Some(range) = format_range(self.updated_from, self.updated_to, |d| {
            d.format("%Y-%m-%d").to_string()
        }) {
            push(format!("updated:{range}"));
        }
        if self.low_confidence_only {
            push("low:yes".into());
        }
        if let Some(v) = self.verified {
            push(format!("verified:{}", if v { "yes" } else { "no" }));
        }
        if let Some(v) = self.duplicate {
            push(format!("dup:{}", if v { "yes" } else { "no" }));
        }
        match &self.assignee {
            AssigneeFilter::Anyone => {}
            AssigneeFilter::Unassigned => push("assignee:none".into()),
            AssigneeFilter::Me => push("assignee:me".into()),
            AssigneeFilter::Named(n) => push(format!("assignee:{n}")),
        }
        if !self.ids.is_empty() {
            push(format!(
                "id:{}",
                join(self.ids.iter().map(|i| i.to_string()).collect())
            ));
        }
        if !self.users.is_empty() {
            push(format!("user:{}", self.users.join(",")));
        }
        if let Some(text) = &self.text {
            for word in text.split_whitespace() {
                if word.contains(':') {
                    push(format!("\"{word}\""));
                } else {
                    push(word.to_string());
                }
            }
        }
        out
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        *self == CardFilter::default()
    }
}

/// The error for a term whose key the language does not know, naming the closest one.
fn unknown_key(key: &str) -> String {
    let known = CardFilter::KEYS
        .iter()
        .map(|(k, _)| k.trim_end_matches(':'));
    let closest = known
        .clone()
        .map(|k| (strsim::damerau_levenshtein(&key.to_ascii_lowercase(), k), k))
        .min()
        .filter(|(distance, _)| *distance <= 2);
    let keys = known.collect::<Vec<_>>().join(", ");
    match closest {
        Some((_, k)) => format!("unknown filter key {key:?}: did you mean {k}:? (keys: {keys})"),
        None => format!(
            "unknown filter key {key:?} (keys: {keys}); quote a search word that holds a colon"
        ),
    }
}

/// Reads `<x`, `<=x`, `>x`, `>=x`, `a..b` (`b` inclusive), `a..<b` or a bare value (an exact match where that means
/// something: a day for dates, `[x, x]` otherwise) into an inclusive-exclusive pair.
fn parse_range<T: Copy>(
    value: &str,
    parse: impl Fn(&str, Bound) -> Result<T, String>,
) -> Result<(Option<T>, Option<T>), String> {
    if let Some((lo, hi)) = value.split_once("..") {
        let lo = (!lo.is_empty())
            .then(|| parse(lo, Bound::Lower))
            .transpose()?;
        let hi = match hi.strip_prefix('<') {
            Some(hi) => Some(parse(hi, Bound::Upper)?),
            None => (!hi.is_empty())
                .then(|| parse(hi, Bound::UpperInclusive))
                .transpose()?,
        };
        return Ok((lo, hi));
    }
    if let Some(v) = value.strip_prefix("<=") {
        return Ok((None, Some(parse(v, Bound::UpperInclusive)?)));
    }
    if let Some(v) = value.strip_prefix('<') {
        return Ok((None, Some(parse(v, Bound::Upper)?)));
    }
    if let Some(v) = value.strip_prefix(">=") {
        return Ok((Some(parse(v, Bound::Lower)?), None));
    }
    if let Some(v) = value.strip_prefix('>') {
        return Ok((Some(parse(v, Bound::LowerExclusive)?), None));
    }
    Ok((
        Some(parse(value, Bound::Lower)?),
        Some(parse(value, Bound::UpperInclusive)?),
    ))
}

/// Which end of a range a value is read for; ranges are stored as `[lower, upper)`.
#[derive(Clone, Copy)]
enum Bound {
    Lower,
    LowerExclusive,
    Upper,
    UpperInclusive,
}

fn parse_confidence(v: &str, bound: Bound) -> Result<f32, String> {
    let c: f32 = v
        .parse()
        .map_err(|_| format!("confidence {v:?} is not a number"))?;
    if !(0.0..=1.0).contains(&c) {
        return Err(format!("confidence {v} is outside 0..1"));
    }
    // Nudge inclusive uppers and exclusive lowers by the smallest step so `[lo, hi)` holds.
    Ok(match bound {
        Bound::UpperInclusive | Bound::LowerExclusive => c + f32::EPSILON,
        Bound::Lower | Bound::Upper => c,
    })
}

fn parse_date(v: &str, bound: Bound) -> Result<DateTime<Utc>, String> {
    let day = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| format!("date {v:?} is not YYYY-MM-DD"))?;
    let day = match bound {
        Bound::UpperInclusive | Bound::LowerExclusive => day.succ_opt().unwrap_or(day),
        Bound::Lower | Bound::Upper => day,
    };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn format_range<T: Copy>(
    lo: Option<T>,
    hi: Option<T>,
    fmt: impl Fn(T) -> String,
) -> Option<String> {
    match (lo, hi) {
        (None, None) => None,
        (Some(lo), None) => Some(format!(">={}", fmt(lo))),
        (None, Some(hi)) => Some(format!("<{}", fmt(hi))),
        (Some(lo), Some(hi)) => Some(format!("{}..<{}", fmt(lo), fmt(hi))),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(format!("{v:?} is not yes or no")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_free_text() {
        let f = CardFilter::parse("status:needs_review,approved type:passport conf:<0.8 smith jo")
            .expect("parses");
        assert_eq!(f.statuses, vec![Status::NeedsReview, Status::Approved]);
        assert_eq!(f.document_types, vec![DocumentType::Passport]);
        assert_eq!(f.max_confidence, Some(0.8));
        assert_eq!(f.min_confidence, None);
        assert_eq!(f.text.as_deref(), Some("smith jo"));
    }

    #[test]
    fn unknown_values_are_errors_that_name_the_choices() {
        let err = CardFilter::parse("status:done").expect_err("refused");
        assert!(err.contains("needs_review"), "{err}");
        assert!(CardFilter::parse("conf:1.5").is_err());
        assert!(CardFilter::parse("created:yesterday").is_err());
    }

    #[test]
    fn unknown_keys_are_refused_with_the_closest_key() {
        let err = CardFilter::parse("stauts:needs_review").expect_err("refused");
        assert!(err.contains("did you mean status:?"), "{err}");
        let err = CardFilter::parse("verifed:yes").expect_err("refused");
        assert!(err.contains("did you mean verified:?"), "{err}");
        let err = CardFilter::parse("colour:red").expect_err("refused");
        assert!(err.contains("unknown filter key \"colour\""), "{err}");
        assert!(!err.contains("did you mean"), "{err}");
        // A quoted term is text, colon and all.
        let f = CardFilter::parse("\"12:30\" smith").expect("parses");
        assert_eq!(f.text.as_deref(), Some("12:30 smith"));
    }

    #[test]
    fn id_and_user_are_exact_lists() {
        let f = CardFilter::parse("id:22,#23 user:erika,Max").expect("parses");
        assert_eq!(f.ids, vec![22, 23]);
        assert_eq!(f.users, vec!["erika".to_string(), "Max".to_string()]);
        assert!(CardFilter::parse("id:twenty").is_err());
        assert!(CardFilter::parse("id:").is_err());
        assert!(CardFilter::parse("user:").is_err());
    }

    #[test]
    fn round_trips_through_text() {
        for text in [
            "status:needs_review type:national_id,passport country:DE,FR",
            "conf:>=0.5 verified:no assignee:me low:yes",
            "conf:<0.9 created:>=2026-01-02 anna maria",
            "assignee:none created:<2026-03-01",
            "updated:2026-02-01..2026-02-03 status:approved",
            "id:7,9 user:erika \"a:b\" smith",
            "dup:yes status:needs_review",
            "dup:no",
        ] {
            let f = CardFilter::parse(text).expect("parses");
            let again = CardFilter::parse(&f.to_query_string()).expect("parses back");
            assert_eq!(f, again, "{text} -> {}", f.to_query_string());
        }
    }

    #[test]
    fn dup_filters_reused_documents_both_ways() {
        assert_eq!(
            CardFilter::parse("dup:yes").expect("parses").duplicate,
            Some(true)
        );
        assert_eq!(
            CardFilter::parse("dup:no").expect("parses").duplicate,
            Some(false)
        );
        assert!(CardFilter::parse("dup:maybe").is_err());
        let typo = CardFilter::parse("dupe:yes").expect_err("unknown key");
        assert!(typo.contains("dup:"), "{typo}");
    }

    #[test]
    fn date_ranges_are_half_open_days() {
        let f = CardFilter::parse("created:2026-01-01").expect("parses");
        assert_eq!(
            f.created_from.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-01-01T00:00:00+00:00")
        );
        assert_eq!(
            f.created_to.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-01-02T00:00:00+00:00")
        );
    }
}

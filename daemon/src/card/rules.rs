//! Data rules on the fields a provider extracted, run after verification and again after every
//! correction: age 18..=120 from the birth date, logical dates (birth < issue <= today < expiry),
//! expired documents, the formats of document numbers, names and country codes, and the back
//! image a document type needs. Pure functions over the fields and an injected `today`; each
//! broken rule is a [`Finding`] with a stable rule name. A field the provider did not read is
//! not a finding here: a reviewer sees it missing and the card is not auto-verified.
//! Rule names: `date_format`, `age_range`, `dates_illogical`, `document_expired`,
//! `document_number_format`, `name_format`, `country_code`, `country_mismatch`, `back_missing`.

use chrono::{Datelike, NaiveDate};
use idreview_protocol::{Card, DocumentType, Field, FileRole, Finding, Severity, Side, country};

use crate::config::ValidationConfig;

/// What the rules measure against: today's date and the accepted ages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub today: NaiveDate,
    pub min_age: i32,
    pub max_age: i32,
}

impl Rules {
    /// The configured ages, as of `today`.
    pub fn new(limits: &ValidationConfig, today: NaiveDate) -> Rules {
        Rules {
            today,
            min_age: limits.min_age.try_into().unwrap_or(i32::MAX),
            max_age: limits.max_age.try_into().unwrap_or(i32::MAX),
        }
    }
}
/// Fields holding dates, stored as ISO `YYYY-MM-DD`.
pub const DATE_FIELDS: [&str; 3] = ["birth_date", "issue_date", "expiry_date"];
const NAME_FIELDS: [&str; 4] = ["first_name", "middle_name", "last_name", "full_name"];
const COUNTRY_FIELDS: [&str; 2] = ["nationality", "country"];

/// Every finding on the card's data, in rule order; `declared` is the country the submission
/// named (its manifest), which the document's issuing state must match.
pub fn check(
    fields: &[Field],
    document_type: DocumentType,
    has_back: bool,
    declared: Option<&str>,
    rules: &Rules,
) -> Vec<Finding> {
    let today = rules.today;
    let value = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.trim())
    };
    let mut out = Vec::new();
    let mut date = |name: &str| {
        let raw = value(name).filter(|v| !v.is_empty())?;
        let parsed = parse_date(raw);
        if parsed.is_none() {
            out.push(error(
                "date_format",
                format!("{name} {raw:?} is not a date (expected YYYY-MM-DD)"),
            ));
        }
        parsed
    };
    let (birth, issue, expiry) = (date("birth_date"), date("issue_date"), date("expiry_date"));
    out.extend(birth.and_then(|b| age_rule(b, rules)));
    out.extend(dates_rule(birth, issue, expiry, today));
    out.extend(expiry.and_then(|e| expired_rule(e, today)));
    out.extend(value("document_number").and_then(document_number_rule));
    for name in NAME_FIELDS {
        out.extend(value(name).and_then(|v| name_rule(name, v)));
    }
    for name in COUNTRY_FIELDS {
        out.extend(value(name).and_then(|v| country_rule(name, v)));
    }
    let issuer = fields.iter().find(|f| f.name == "country");
    out.extend(issuer.and_then(sides_rule));
    let issuer = issuer.map(|f| f.value.trim());
    out.extend(declared.zip(issuer).and_then(|(d, i)| declared_rule(d, i)));
    out.extend(back_rule(document_type, has_back));
    out
}

/// Every finding on `card`'s data: [`check`] with the card's own document type, back image
/// and declared country.
pub fn check_card(card: &Card, rules: &Rules) -> Vec<Finding> {
    let has_back = card.files.iter().any(|f| f.role == FileRole::Back);
    check(
        &card.fields,
        card.document_type,
        has_back,
        card.country.as_deref(),
        rules,
    )
}

/// An ISO `YYYY-MM-DD` date (the provider's `YYYY/MM/DD` too).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text.trim(), "%Y/%m/%d"))
        .ok()
}

/// Whole years between `birth` and `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// `age_range`: the holder must be `min_age..=max_age` (18..=120 by default) years old.
pub fn age_rule(birth: NaiveDate, rules: &Rules) -> Option<Finding> {
    let age = age_on(birth, rules.today);
    (!(rules.min_age..=rules.max_age).contains(&age)).then(|| {
        error(
            "age_range",
            format!(
                "the holder is {age} years old (born {birth}); accepted ages are {}..={}",
                rules.min_age, rules.max_age
            ),
        )
    })
}

/// `dates_illogical`: birth < issue <= today, birth <= today, issue < expiry.
pub fn dates_rule(
    birth: Option<NaiveDate>,
    issue: Option<NaiveDate>,
    expiry: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut broken = |message: String| out.push(error("dates_illogical", message));
    if let Some(b) = birth.filter(|b| *b > today) {
        broken(format!("birth date {b} is in the future"));
    }
    if let (Some(b), Some(i)) = (birth, issue)
        && b >= i
    {
        broken(format!("issued {i}, not after the birth date {b}"));
    }
    if let Some(i) = issue.filter(|i| *i > today) {
        broken(format!("issue date {i} is in the future"));
    }
    if let (Some(i), Some(e)) = (issue, expiry)
        && e <= i
    {
        broken(format!("expires {e}, not after the issue date {i}"));
    }
    out
}

/// `document_expired`: the document must still be valid today (today < expiry).
pub fn expired_rule(expiry: NaiveDate, today: NaiveDate) -> Option<Finding> {
    (expiry <= today).then(|| {
        error(
            "document_expired",
            format!("the document expired on {expiry}"),
        )
    })
}

/// `document_number_format`: 5..=20 letters, digits or dashes.
pub fn document_number_rule(value: &str) -> Option<Finding> {
    let len = value.chars().count();
    let ok = (5..=20).contains(&len)
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && value.chars().any(|c| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        error(
            "document_number_format",
            format!("document number {value:?} is not 5 to 20 letters, digits or dashes"),
        )
    })
}

/// `name_format`: 1..=100 letters, spaces, dashes, apostrophes and dots; no digits.
pub fn name_rule(field: &str, value: &str) -> Option<Finding> {
    let len = value.chars().count();
    let ok = (1..=100).contains(&len)
        && value.chars().any(char::is_alphabetic)
        && value
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.' | ','));
    (!ok).then(|| {
        error(
            "name_format",
            format!("{field} {value:?} is not a name (1 to 100 letters, spaces, - ' .)"),
        )
    })
}

/// `country_code`: an ISO 3166 alpha-2 or alpha-3 code, or a code ICAO Doc 9303 adds (`D` for
/// Germany, `GBN`, `XXA`, `UNO`, ...), in capitals.
pub fn country_rule(field: &str, value: &str) -> Option<Finding> {
    let ok = value.chars().all(|c| c.is_ascii_uppercase()) && country::is_known(value);
    (!ok).then(|| {
        error(
            "country_code",
            format!(
                "{field} {value:?} is not an ISO 3166 alpha-2 or alpha-3 code nor an ICAO Doc 9303 code"
            ),
        )
    })
}

/// `country_mismatch`: the document's issuing state is the country the submission declared
/// (equivalent codes agree: `D`, `DE` and `DEU` are one country).
pub fn declared_rule(declared: &str, issuer: &str) -> Option<Finding> {
    let comparable = country::is_known(declared) && country::is_known(issuer);
    (comparable && !country::same(declared, issuer)).then(|| {
        error(
            "country_mismatch",
            format!("the document was issued by {issuer}, but the submission declared {declared}"),
        )
    })
}

/// `country_mismatch`: the zones read on the front and on the back name the same issuing state
/// (a front and a back of two different documents do not).
pub fn sides_rule(issuer: &Field) -> Option<Finding> {
    let read = std::iter::once((issuer.side, issuer.value.as_str()))
        .chain(issuer.candidates.iter().map(|c| (c.side, c.value.as_str())))
        .filter(|(_, v)| country::is_known(v));
    let (mut front, mut back) = (None, None);
    for (side, value) in read {
        let slot = match side {
            Side::Front => &mut front,
            Side::Back => &mut back,
        };
        slot.get_or_insert(value);
    }
    let (front, back) = front.zip(back)?;
    (!country::same(front, back)).then(|| {
        error(
            "country_mismatch",
            format!("the front names issuing state {front}, the back {back}"),
        )
    })
}

/// `back_missing`: card-shaped documents carry data on both sides.
pub fn back_rule(document_type: DocumentType, has_back: bool) -> Option<Finding> {
    (document_type.requires_back() && !has_back).then(|| {
        error(
            "back_missing",
            format!("a {document_type} needs a back image"),
        )
    })
}

fn error(rule: &str, message: String) -> Finding {
    Finding {
        rule: rule.to_string(),
        severity: Severity::Error,
        message,
    }
}

#[cfg(test)]
mod tests;

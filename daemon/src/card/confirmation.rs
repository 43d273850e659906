//! What a user's confirmation may change. A reviewer's correction is judged afterwards (its
//! broken rules become findings a reviewer sees); a user's is refused outright when a value
//! cannot stand: a date that is not `YYYY-MM-DD`, an age outside the accepted range, an issue
//! date in the future or not after the birth date, an expiry date before today or not after the
//! issue date, or a field name the card has no place for. A refused confirmation changes
//! nothing.

use chrono::NaiveDate;
use idreview_protocol::{Card, FieldCorrection};

use super::CardError;
use super::rules::{Rules, age_on};

/// Every field name a provider writes or a user may add; a correction naming a field that is
/// neither on the card nor here is refused.
pub const KNOWN_FIELDS: &[&str] = &[
    "given_names",
    "first_name",
    "middle_name",
    "surname",
    "last_name",
    "full_name",
    "document_number",
    "personal_number",
    "birth_date",
    "issue_date",
    "expiry_date",
    "nationality",
    "country",
    "sex",
    "birth_place",
    "address",
    "address1",
    "issuing_authority",
    "authority",
];

/// Refuses a user's corrections that cannot stand, naming each field and why; the dates are
/// judged among themselves (a date the user did not send is not held against the others).
pub fn check(card: &Card, corrections: &[FieldCorrection], rules: &Rules) -> Result<(), CardError> {
    let mut refused: Vec<(String, String)> = Vec::new();
    let mut refuse = |field: &str, why: String| refused.push((field.to_string(), why));
    for c in corrections {
        let known = KNOWN_FIELDS.contains(&c.name.as_str()) || card.field(&c.name).is_some();
        if !known {
            refuse(&c.name, "unknown field".into());
        }
    }
    let mut date = |name: &str| -> Option<NaiveDate> {
        let value = corrections
            .iter()
            .rev()
            .find(|c| c.name == name)?
            .value
            .trim();
        if value.is_empty() {
            return None;
        }
        let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
        if parsed.is_none() {
            refuse(
                name,
                format!("{value:?} is not a date in YYYY-MM-DD format"),
            );
        }
        parsed
    };
    let (birth, issue, expiry) = (date("birth_date"), date("issue_date"), date("expiry_date"));
    let today = rules.today;
    if let Some(b) = birth {
        let age = age_on(b, today);
        if !(rules.min_age..=rules.max_age).contains(&age) {
            refuse(
                "birth_date",
                format!(
                    "age must be between {} and {} years (got {age})",
                    rules.min_age, rules.max_age
                ),
            );
        }
    }
    if let Some(i) = issue {
        if i > today {
            refuse("issue_date", format!("issue date {i} is in the future"));
        }
        if let Some(b) = birth.filter(|b| i <= *b) {
            refuse(
                "issue_date",
                format!("issue date {i} must be after the date of birth {b}"),
            );
        }
    }
    if let Some(e) = expiry {
        if e < today {
            refuse("expiry_date", format!("the document expired on {e}"));
        }
        if let Some(i) = issue.filter(|i| e <= *i) {
            refuse(
                "expiry_date",
                format!("expiry date {e} must be after the issue date {i}"),
            );
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CardError::Fields(refused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(name: &str, value: &str) -> FieldCorrection {
        FieldCorrection {
            name: name.into(),
            value: value.into(),
        }
    }

    fn rules() -> Rules {
        Rules {
            today: NaiveDate::from_ymd_opt(2026, 12, 7).expect("date"),
            min_age: 18,
            max_age: 120,
        }
    }

    fn refused(corrections: &[FieldCorrection]) -> Vec<(String, String)> {
        let card = super::super::state::tests::card(idreview_protocol::Status::NeedsReview);
        match check(&card, corrections, &rules()) {
            Ok(()) => Vec::new(),
            Err(CardError::Fields(f)) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn good_values_pass() {
        let ok = [
            fix("birth_date", "1990-01-31"),
            fix("issue_date", "2020-01-01"),
            fix("expiry_date", "2030-01-01"),
            fix("surname", "Rossi"),
            fix("address", ""),
        ];
        assert!(refused(&ok).is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        let names = |fixes: &[FieldCorrection]| -> Vec<String> {
            let mut names: Vec<String> = refused(fixes).into_iter().map(|(f, _)| f).collect();
            names.dedup();
            names
        };
        assert_eq!(names(&[fix("birth_date", "31/01/1990")]), ["birth_date"]);
        assert_eq!(names(&[fix("birth_date", "2015-01-01")]), ["birth_date"]);
        assert_eq!(names(&[fix("birth_date", "1890-01-01")]), ["birth_date"]);
        assert_eq!(names(&[fix("expiry_date", "2026-12-06")]), ["expiry_date"]);
        assert!(
            names(&[fix("expiry_date", "2026-12-07")]).is_empty(),
            "today is fine"
        );
        assert_eq!(names(&[fix("issue_date", "2027-01-01")]), ["issue_date"]);
        assert_eq!(
            names(&[
                fix("birth_date", "1990-01-01"),
                fix("issue_date", "1989-01-01")
            ]),
            ["issue_date"]
        );
        assert_eq!(
            names(&[
                fix("issue_date", "2020-01-01"),
                fix("expiry_date", "2020-01-01")
            ]),
            ["expiry_date"]
        );
        assert_eq!(
            names(&[fix("favourite_colour", "red")]),
            ["favourite_colour"]
        );
    }
}

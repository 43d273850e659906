//! Unit tests of the data rules, with a fixed `today`.

use super::*;
use crate::config::ValidationConfig;
use idreview_protocol::{Candidate, FieldSource, Side};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("date")
}

fn rules() -> Rules {
    Rules::new(&ValidationConfig::default(), today())
}

fn d(text: &str) -> NaiveDate {
    parse_date(text).expect("date")
}

fn field(name: &str, value: &str) -> Field {
    Field {
        name: name.into(),
        value: value.into(),
        confidence: 0.99,
        source: FieldSource::Mrz,
        side: Side::Front,
        bbox: None,
        candidates: vec![],
    }
}

fn names(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

fn clean() -> Vec<Field> {
    vec![
        field("first_name", "Anna-Maria"),
        field("last_name", "O'Brien"),
        field("birth_date", "1990-05-17"),
        field("issue_date", "2020-01-10"),
        field("expiry_date", "2030-01-09"),
        field("document_number", "C01X00T47"),
        field("nationality", "DE"),
        field("country", "DEU"),
    ]
}

#[test]
fn a_clean_document_has_no_findings() {
    assert!(check(&clean(), DocumentType::Passport, false, None, &rules()).is_empty());
    assert!(check(&[], DocumentType::Passport, false, None, &rules()).is_empty());
}

#[test]
fn age_is_whole_years_and_bounded() {
    assert_eq!(age_on(d("2008-11-25"), today()), 18);
    assert_eq!(age_on(d("2008-11-26"), today()), 17);
    assert!(age_rule(d("2008-11-25"), &rules()).is_none(), "18 today");
    assert!(age_rule(d("2008-11-26"), &rules()).is_some(), "18 tomorrow");
    assert!(age_rule(d("1906-11-25"), &rules()).is_none(), "120");
    assert!(age_rule(d("1905-11-24"), &rules()).is_some(), "121");
}

#[test]
fn the_age_range_comes_from_config() {
    let limits = ValidationConfig {
        min_age: 21,
        max_age: 65,
        ..ValidationConfig::default()
    };
    let rules = Rules::new(&limits, today());
    assert!(age_rule(d("2006-01-01"), &rules).is_some(), "20");
    assert!(age_rule(d("2004-01-01"), &rules).is_none(), "22");
    assert!(age_rule(d("1950-01-01"), &rules).is_some(), "76");
}

#[test]
fn dates_must_be_in_order() {
    let t = today();
    assert!(
        dates_rule(
            Some(d("1990-01-01")),
            Some(d("2020-01-01")),
            Some(d("2030-01-01")),
            t
        )
        .is_empty()
    );
    let born_after_issue = dates_rule(Some(d("2021-01-01")), Some(d("2020-01-01")), None, t);
    assert_eq!(names(&born_after_issue), vec!["dates_illogical"]);
    let issued_in_future = dates_rule(None, Some(d("2027-01-01")), Some(d("2037-01-01")), t);
    assert_eq!(names(&issued_in_future), vec!["dates_illogical"]);
    assert!(
        dates_rule(None, Some(t), None, t).is_empty(),
        "issued today is fine"
    );
    let expires_before_issue = dates_rule(None, Some(d("2020-01-01")), Some(d("2019-01-01")), t);
    assert_eq!(names(&expires_before_issue), vec!["dates_illogical"]);
    assert_eq!(
        names(&dates_rule(Some(d("2027-01-01")), None, None, t)),
        vec!["dates_illogical"]
    );
}

#[test]
fn expired_means_expiry_not_after_today() {
    assert!(
        expired_rule(today(), today()).is_some(),
        "expiring today is expired"
    );
    assert!(expired_rule(d("2026-11-26"), today()).is_none());
    let mut fields = clean();
    fields[4] = field("expiry_date", "2024-01-09");
    let found = check(&fields, DocumentType::Passport, false, None, &rules());
    assert_eq!(names(&found), vec!["document_expired"]);
    assert_eq!(found[0].severity, Severity::Error);
}

#[test]
fn unparseable_dates_are_findings_not_panics() {
    let mut fields = clean();
    fields[2] = field("birth_date", "17.05.1990");
    assert_eq!(
        names(&check(
            &fields,
            DocumentType::Passport,
            false,
            None,
            &rules()
        )),
        vec!["date_format"]
    );
    assert_eq!(parse_date("1990/05/17"), Some(d("1990-05-17")));
}

#[test]
fn document_numbers_names_and_countries_have_formats() {
    assert!(document_number_rule("AB12345").is_none());
    assert!(document_number_rule("X-1234-Y").is_none());
    assert!(document_number_rule("1234").is_some(), "too short");
    assert!(document_number_rule(&"1".repeat(21)).is_some(), "too long");
    assert!(document_number_rule("AB 12345").is_some(), "space");
    assert!(document_number_rule("-----").is_some(), "dashes only");
    assert!(name_rule("first_name", "Zoë").is_none());
    assert!(name_rule("last_name", "Smith Jr.").is_none());
    assert!(name_rule("last_name", "R2D2").is_some());
    assert!(name_rule("last_name", "").is_some());
    assert!(name_rule("last_name", &"a".repeat(101)).is_some());
    assert!(country_rule("country", "FR").is_none());
    assert!(country_rule("country", "FRA").is_none());
    assert!(country_rule("country", "fr").is_some());
    assert!(country_rule("country", "FRAN").is_some());
    let mut fields = clean();
    fields.push(field("nationality", "Germany"));
    fields[6] = field("nationality", "D1");
    fields[5] = field("document_number", "12");
    fields[0] = field("first_name", "4nna");
    let found = check(&fields, DocumentType::Passport, false, None, &rules());
    assert_eq!(
        names(&found),
        vec!["document_number_format", "name_format", "country_code"]
    );
}

#[test]
fn card_shaped_documents_need_a_back() {
    assert!(back_rule(DocumentType::Passport, false).is_none());
    assert!(back_rule(DocumentType::NationalId, true).is_none());
    for t in [
        DocumentType::NationalId,
        DocumentType::DriverLicense,
        DocumentType::ResidencePermit,
    ] {
        assert_eq!(
            names(&check(&clean(), t, false, None, &rules())),
            vec!["back_missing"]
        );
    }
}

#[test]
fn icao_codes_are_valid_countries() {
    for code in [
        "D", "GBD", "GBN", "GBO", "GBP", "GBS", "EUE", "UNO", "XXA", "XXC", "XOM",
    ] {
        assert!(country_rule("nationality", code).is_none(), "{code}");
    }
    assert!(
        country_rule("country", "UTO").is_some(),
        "ICAO's specimen state"
    );
    assert!(country_rule("country", "ZZ").is_some());
    let mut fields = clean();
    fields[6] = field("nationality", "D");
    fields[7] = field("country", "D");
    assert!(check(&fields, DocumentType::Passport, false, Some("DE"), &rules()).is_empty());
}

#[test]
fn a_document_of_another_country_than_declared_is_flagged() {
    let found = check(
        &clean(),
        DocumentType::Passport,
        false,
        Some("FR"),
        &rules(),
    );
    assert_eq!(names(&found), vec!["country_mismatch"]);
    assert!(
        found[0].message.contains("issued by DEU"),
        "{}",
        found[0].message
    );
    for same in ["DE", "DEU", "D", "deu"] {
        let found = check(
            &clean(),
            DocumentType::Passport,
            false,
            Some(same),
            &rules(),
        );
        assert!(found.is_empty(), "{same}: {found:?}");
    }
    let mut fields = clean();
    fields[7] = field("country", "GBN");
    assert!(check(&fields, DocumentType::Passport, false, Some("GB"), &rules()).is_empty());
}

#[test]
fn front_and_back_zones_must_name_one_issuer() {
    let candidate = |value: &str, side| Candidate {
        value: value.into(),
        confidence: 0.9,
        source: FieldSource::Mrz,
        side,
        bbox: None,
    };
    let mut issuer = field("country", "DEU");
    issuer.candidates = vec![candidate("D", Side::Back)];
    assert!(sides_rule(&issuer).is_none(), "D and DEU are one country");
    issuer.candidates.push(candidate("AUT", Side::Back));
    assert!(
        sides_rule(&issuer).is_none(),
        "the back's first read counts"
    );
    issuer.candidates = vec![candidate("AUT", Side::Back)];
    let finding = sides_rule(&issuer).expect("two documents");
    assert_eq!(finding.rule, "country_mismatch");
    assert_eq!(
        finding.message,
        "the front names issuing state DEU, the back AUT"
    );
}

//! The submission manifest (`submission.toml`): who submitted, which document, which country.

use idreview_protocol::card::DocumentType;
use serde::Deserialize;

use super::Rejection;

/// The longest `user_id` accepted.
const MAX_USER_ID: usize = 128;

/// A parsed, checked `submission.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// 1..=128 characters of `[A-Za-z0-9._@+-]`.
    pub user_id: String,
    pub document_type: DocumentType,
    /// Two or three ASCII letters, upper-cased.
    pub country: Option<String>,
}

/// The manifest as written; checked and converted into [`Manifest`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    user_id: String,
    document_type: String,
    country: Option<String>,
}

/// Parses and checks the text of `submission.toml`.
/// Rules: `manifest_malformed` (not TOML, a missing or unknown key, a bad `user_id` or
/// `country`), `unknown_document_type`. A missing file (`manifest_missing`) is the caller's.
pub fn parse_manifest(text: &str) -> Result<Manifest, Rejection> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!(" (line {line})")
            })
            .unwrap_or_default();
        malformed(format!(
            "submission.toml is not valid{at}: {}; it needs user_id and document_type, and may have country",
            e.message().trim_end_matches('.')
        ))
    })?;
    check_user_id(&raw.user_id)?;
    let document_type = raw.document_type.parse::<DocumentType>().map_err(|_| {
        let names: Vec<&str> = DocumentType::ALL.iter().map(|d| d.as_str()).collect();
        Rejection::file(
            "unknown_document_type",
            super::MANIFEST_FILE,
            format!(
                "document_type {:?} is not known; use one of: {}",
                raw.document_type,
                names.join(", ")
            ),
        )
    })?;
    let country = raw.country.map(|c| check_country(&c)).transpose()?;
    Ok(Manifest {
        user_id: raw.user_id,
        document_type,
        country,
    })
}

fn malformed(message: String) -> Rejection {
    Rejection::file("manifest_malformed", super::MANIFEST_FILE, message)
}

fn check_user_id(id: &str) -> Result<(), Rejection> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if id.is_empty() || id.len() > MAX_USER_ID || !id.chars().all(allowed) {
        return Err(malformed(format!(
            "user_id {id:?} is not valid; use 1 to {MAX_USER_ID} characters of letters, digits and . _ @ + -"
        )));
    }
    Ok(())
}

fn check_country(country: &str) -> Result<String, Rejection> {
    let code = country.trim();
    if !idreview_protocol::country::is_known(code) || code.contains('<') {
        return Err(malformed(format!(
            "country {country:?} is not valid; use an ISO 3166 code such as DE or DEU (or an ICAO \
             Doc 9303 code such as D), or leave it out"
        )));
    }
    Ok(code.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> &'static str {
        parse_manifest(text).expect_err("should be refused").rule
    }

    #[test]
    fn parses_a_full_manifest() {
        let m = parse_manifest(
            "user_id = \"alice@example.com\"\ndocument_type = \"national_id\"\ncountry = \"deu\"\n",
        )
        .expect("valid");
        assert_eq!(m.user_id, "alice@example.com");
        assert_eq!(m.document_type, DocumentType::NationalId);
        assert_eq!(m.country.as_deref(), Some("DEU"));
    }

    #[test]
    fn country_is_optional() {
        let m = parse_manifest("user_id = \"u-1\"\ndocument_type = \"passport\"\n").expect("valid");
        assert_eq!(m.country, None);
    }

    #[test]
    fn malformed_toml_is_refused_with_line() {
        let r = parse_manifest("user_id = \"u\"\ndocument_type = passport\n").expect_err("bad");
        assert_eq!(r.rule, "manifest_malformed");
        assert!(r.message.contains("line 2"), "{}", r.message);
        assert_eq!(r.file.as_deref(), Some("submission.toml"));
    }

    #[test]
    fn missing_and_extra_keys_are_refused() {
        assert_eq!(rule("document_type = \"passport\"\n"), "manifest_malformed");
        assert_eq!(rule("user_id = \"u\"\n"), "manifest_malformed");
        assert_eq!(
            rule("user_id = \"u\"\ndocument_type = \"passport\"\nname = \"x\"\n"),
            "manifest_malformed"
        );
    }

    #[test]
    fn bad_user_ids_are_refused() {
        for id in ["", "a b", "../etc", "é", &"x".repeat(129)] {
            let text = format!("user_id = {id:?}\ndocument_type = \"passport\"\n");
            assert_eq!(rule(&text), "manifest_malformed", "{id:?}");
        }
        let ok = format!(
            "user_id = {:?}\ndocument_type = \"passport\"\n",
            "x".repeat(128)
        );
        assert!(parse_manifest(&ok).is_ok());
    }

    #[test]
    fn icao_codes_are_countries() {
        let m = parse_manifest("user_id = \"u\"\ndocument_type = \"passport\"\ncountry = \"d\"\n")
            .expect("D is Germany in ICAO Doc 9303");
        assert_eq!(m.country.as_deref(), Some("D"));
        let m =
            parse_manifest("user_id = \"u\"\ndocument_type = \"passport\"\ncountry = \"GBN\"\n")
                .expect("British National (Overseas)");
        assert_eq!(m.country.as_deref(), Some("GBN"));
    }

    #[test]
    fn bad_country_is_refused() {
        assert_eq!(
            rule("user_id = \"u\"\ndocument_type = \"passport\"\ncountry = \"ZZ\"\n"),
            "manifest_malformed"
        );
        assert_eq!(
            rule("user_id = \"u\"\ndocument_type = \"passport\"\ncountry = \"UTO\"\n"),
            "manifest_malformed",
            "Utopia is ICAO's specimen state"
        );
        assert_eq!(
            rule("user_id = \"u\"\ndocument_type = \"passport\"\ncountry = \"D1\"\n"),
            "manifest_malformed"
        );
    }

    #[test]
    fn unknown_document_type_is_refused() {
        let r = parse_manifest("user_id = \"u\"\ndocument_type = \"library_card\"\n")
            .expect_err("unknown");
        assert_eq!(r.rule, "unknown_document_type");
        assert!(r.message.contains("passport"), "{}", r.message);
    }
}

//! Country codes as identity documents print them: ISO 3166-1 alpha-2 and alpha-3 (from the
//! `isocountry` crate), plus the codes ICAO Doc 9303 part 3 adds for nationalities and issuing
//! states that ISO 3166 does not have (`D` for Germany, the British `GB*` nationality classes,
//! the United Nations, international organisations, stateless persons and refugees).
//!
//! Two codes name the same country when their [`canonical`] forms are equal: `D`, `DE` and `DEU`
//! are Germany; `GBD`, `GBN`, `GBO`, `GBP`, `GBS`, `GB` and `GBR` are the United Kingdom. Every
//! comparison of countries (the data rules, the list filter, the index) goes through here.

use std::collections::HashMap;
use std::sync::LazyLock;

use isocountry::CountryCode;

/// Codes ICAO Doc 9303 part 3 (section 5) uses that are not ISO 3166-1 alpha-3 codes, each with
/// the ISO alpha-3 code it stands for, or itself when it stands for no state.
pub const ICAO_CODES: &[(&str, &str, &str)] = &[
    ("D", "DEU", "Germany"),
    ("GBD", "GBR", "British Overseas Territories Citizen"),
    ("GBN", "GBR", "British National (Overseas)"),
    ("GBO", "GBR", "British Overseas Citizen"),
    ("GBP", "GBR", "British Protected Person"),
    ("GBS", "GBR", "British Subject"),
    ("EUE", "EUE", "European Union"),
    (
        "UNO",
        "UNO",
        "United Nations Organization or one of its officials",
    ),
    (
        "UNA",
        "UNA",
        "a specialized agency of the United Nations or one of its officials",
    ),
    (
        "UNK",
        "UNK",
        "resident of Kosovo with a travel document issued by UNMIK",
    ),
    ("XBA", "XBA", "African Development Bank"),
    ("XIM", "XIM", "African Export-Import Bank"),
    ("XCC", "XCC", "Caribbean Community or one of its emissaries"),
    ("XCE", "XCE", "Council of Europe"),
    (
        "XCO",
        "XCO",
        "Common Market for Eastern and Southern Africa",
    ),
    ("XDC", "XDC", "Southern African Development Community"),
    ("XEC", "XEC", "Economic Community of West African States"),
    ("XES", "XES", "Organisation of Eastern Caribbean States"),
    ("XMP", "XMP", "Parliamentary Assembly of the Mediterranean"),
    (
        "XOM",
        "XOM",
        "Sovereign Military Order of Malta or one of its emissaries",
    ),
    (
        "XPO",
        "XPO",
        "International Criminal Police Organization (INTERPOL)",
    ),
    ("XXA", "XXA", "stateless person (1954 Convention)"),
    ("XXB", "XXB", "refugee (1951 Convention)"),
    ("XXC", "XXC", "refugee, other than under XXB"),
    ("XXX", "XXX", "person of unspecified nationality"),
];

/// The code `code` stands for, in the form every comparison uses: the ISO 3166-1 alpha-3 code
/// of its country, or the ICAO code itself for organisations and status codes. Accepts upper or
/// lower case and the fillers (`<`) of a machine-readable zone (`D<<`). `None` for a code that
/// neither ISO 3166 nor ICAO knows.
pub fn canonical(code: &str) -> Option<&'static str> {
    let code = code.trim().trim_end_matches('<').as_bytes();
    // Every code is one to three ASCII letters: upper-cased on the stack, looked up once (the
    // index and the duplicates keys ask for every card a store writes).
    if code.is_empty() || code.len() > 3 {
        return None;
    }
    let mut upper = [0u8; 3];
    for (u, c) in upper.iter_mut().zip(code) {
        *u = c.to_ascii_uppercase();
    }
    let upper = std::str::from_utf8(&upper[..code.len()]).ok()?;
    CODES.get(upper).copied()
}

/// Every code [`canonical`] knows, to its canonical form: ISO 3166-1 alpha-2 and alpha-3, then
/// ICAO's (which win where they overlap, as `D`).
static CODES: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut codes = HashMap::new();
    for country in CountryCode::iter() {
        codes.insert(country.alpha2(), country.alpha3());
        codes.insert(country.alpha3(), country.alpha3());
    }
    for (icao, iso, _) in ICAO_CODES {
        codes.insert(*icao, *iso);
    }
    codes
});

/// Whether ISO 3166 or ICAO Doc 9303 knows `code`.
pub fn is_known(code: &str) -> bool {
    canonical(code).is_some()
}

/// Whether two codes name the same country or organisation. Unknown codes are equal only when
/// they are spelled alike (ignoring case), so an unknown code never matches a known one.
pub fn same(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

/// The key a country is indexed and filtered under: its canonical code, or the code in capitals
/// when it is unknown.
pub fn key(code: &str) -> String {
    canonical(code).map_or_else(|| code.trim().to_ascii_uppercase(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup table answers what ICAO's list and isocountry's own parsers answer, for
    /// every code of one to three letters.
    #[test]
    fn the_lookup_agrees_with_the_lists_for_every_short_code() {
        fn by_the_lists(code: &str) -> Option<&'static str> {
            if let Some((_, iso, _)) = ICAO_CODES.iter().find(|(icao, _, _)| *icao == code) {
                return Some(iso);
            }
            match code.len() {
                2 => CountryCode::for_alpha2(code).ok().map(|c| c.alpha3()),
                3 => CountryCode::for_alpha3(code).ok().map(|c| c.alpha3()),
                _ => None,
            }
        }
        let letters = || (b'A'..=b'Z').map(char::from);
        let mut codes: Vec<String> = letters().map(String::from).collect();
        for len in 2..=3 {
            let longer: Vec<String> = codes
                .iter()
                .filter(|c| c.len() == len - 1)
                .flat_map(|c| letters().map(move |l| format!("{c}{l}")))
                .collect();
            codes.extend(longer);
        }
        assert_eq!(codes.len(), 26 + 26 * 26 + 26 * 26 * 26);
        let mut known = 0;
        for code in &codes {
            let expected = by_the_lists(code);
            known += usize::from(expected.is_some());
            assert_eq!(canonical(code), expected, "{code}");
            assert_eq!(canonical(&format!(" {}<<", code.to_lowercase())), expected);
        }
        assert!(known > 2 * 240, "{known} codes known");
        assert_eq!(canonical("DEUT"), None);
        assert_eq!(canonical("É"), None);
    }

    #[test]
    fn iso_codes_of_both_lengths_are_known() {
        assert_eq!(canonical("DE"), Some("DEU"));
        assert_eq!(canonical("deu"), Some("DEU"));
        assert_eq!(canonical("FR"), Some("FRA"));
        assert_eq!(
            canonical("UTO"),
            None,
            "Utopia is ICAO's specimen state, not a country"
        );
        assert_eq!(canonical("ZZ"), None);
        assert_eq!(canonical(""), None);
        assert_eq!(canonical("DEUT"), None);
    }

    #[test]
    fn every_icao_code_is_known_and_germany_is_d() {
        for (code, iso, _) in ICAO_CODES {
            assert_eq!(canonical(code), Some(*iso), "{code}");
            assert!(
                *iso == *code || CountryCode::for_alpha3(iso).is_ok(),
                "{code} stands for {iso}, which must be ISO or itself"
            );
        }
        assert_eq!(canonical("D<<"), Some("DEU"), "as the zone prints it");
        assert!(is_known("XXC"), "the refugee code of the Latvian specimen");
    }

    #[test]
    fn equivalent_codes_are_the_same_country() {
        assert!(same("D", "DE"));
        assert!(same("D", "DEU"));
        assert!(same("GBD", "GB"));
        assert!(same("GBN", "GBR"));
        assert!(same("gbs", "GBO"));
        assert!(!same("D", "AT"));
        assert!(!same("GBR", "IRL"));
        assert!(!same("UNO", "UNA"), "organisations are not one another");
        assert!(!same("UTO", "DEU"));
        assert!(same("UTO", "uto"), "an unknown code equals only itself");
        assert_eq!(key("de"), "DEU");
        assert_eq!(key("uto"), "UTO");
    }
}

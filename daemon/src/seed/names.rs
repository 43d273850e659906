//! The seed's OCR field names and ours. A seed name maps to one or more of our names: the first
//! is the one the local reader writes, the others what another provider calls the same field
//! (ID Analyzer's `first_name` beside our `given_names`). Reading takes the first present on the
//! card; writing a correction goes to the one the card already has, else to the first.

use idreview_protocol::{Card, Field};

/// Every OCR name the seed knows, in its order, with our names for it.
pub const OCR_NAMES: [(&str, &[&str]); 12] = [
    ("firstName", &["given_names", "first_name"]),
    ("lastName", &["surname", "last_name"]),
    ("documentNumber", &["document_number"]),
    ("dateOfBirth", &["birth_date"]),
    ("dateOfExpiry", &["expiry_date"]),
    ("dateOfIssue", &["issue_date"]),
    ("nationality", &["nationality"]),
    ("sex", &["sex"]),
    ("placeOfBirth", &["birth_place"]),
    ("address", &["address", "address1"]),
    ("issuingAuthority", &["issuing_authority", "authority"]),
    ("personalNumber", &["personal_number"]),
];

/// Our names for the seed's `ocr` name; `None` for a name the seed does not know.
pub fn ours(ocr: &str) -> Option<&'static [&'static str]> {
    OCR_NAMES
        .iter()
        .find(|(theirs, _)| *theirs == ocr)
        .map(|(_, ours)| *ours)
}

/// The seed's name for our field `name`, if the seed has one.
pub fn seed_name(name: &str) -> Option<&'static str> {
    OCR_NAMES
        .iter()
        .find(|(_, ours)| ours.contains(&name))
        .map(|(theirs, _)| *theirs)
}

/// The card's field for the seed's `ocr` name: the first of our names the card has.
pub fn field<'a>(card: &'a Card, ocr: &str) -> Option<&'a Field> {
    ours(ocr)?.iter().find_map(|name| card.field(name))
}

/// Where a correction of the seed's `ocr` name goes on `card`: the name the card already holds
/// the value under, else our first name for it. `None` for a name the seed does not know.
pub fn target(card: &Card, ocr: &str) -> Option<&'static str> {
    let names = ours(ocr)?;
    names
        .iter()
        .copied()
        .find(|name| card.field(name).is_some())
        .or_else(|| names.first().copied())
}

/// The card's fields under the seed's names, in the seed's order (each seed name once).
pub fn ocr_fields(card: &Card) -> impl Iterator<Item = (&'static str, &Field)> {
    OCR_NAMES.iter().filter_map(move |(theirs, ours)| {
        let field = ours.iter().find_map(|name| card.field(name))?;
        Some((*theirs, field))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_name_maps_both_ways() {
        for (theirs, ours_) in OCR_NAMES {
            assert_eq!(ours(theirs), Some(ours_));
            for name in ours_ {
                assert_eq!(seed_name(name), Some(theirs), "{name}");
            }
        }
        assert_eq!(ours("favouriteColour"), None);
        assert_eq!(seed_name("country"), None);
    }
}

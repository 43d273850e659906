use idreview_protocol::{Card, CardId, Field, FieldSource, Side, Status};

use super::*;

fn field(name: &str, value: &str, confidence: f32) -> Field {
    Field {
        name: name.into(),
        value: value.into(),
        confidence,
        source: FieldSource::Mrz,
        side: Side::Front,
        bbox: None,
        candidates: vec![],
    }
}

fn card(id: u64, user: &str, surname: &str, confidences: &[f32]) -> Card {
    let mut card = crate::card::state::tests::card(Status::NeedsReview);
    card.id = CardId(id);
    card.user_id = user.into();
    card.fields = vec![field("surname", surname, confidences[0])];
    for (i, c) in confidences.iter().enumerate().skip(1) {
        let name = ["given_names", "document_number", "birth_date"][i - 1];
        card.fields.push(field(name, "X12345", *c));
    }
    card
}

fn ids(page: &SeedPage) -> Vec<u64> {
    page.ids.iter().map(|id| id.0).collect()
}

fn index() -> SeedIndex {
    let mut index = SeedIndex::default();
    index.upsert(1, &card(1, "alice", "Eriksson", &[0.9, 0.9]));
    index.upsert(2, &card(2, "bob", "Smith", &[0.5, 0.7]));
    index.upsert(3, &card(3, "carol", "Kerik", &[0.7, 0.7]));
    let mut verified = card(4, "dave", "Rossi", &[0.2, 0.2]);
    verified.verified = true;
    index.upsert(4, &verified);
    index
}

#[test]
fn search_is_a_case_insensitive_substring_per_term() {
    let index = index();
    let query = |terms: &[&str]| SeedQuery {
        search: terms.iter().map(|t| t.to_string()).collect(),
        ..SeedQuery::default()
    };
    assert_eq!(ids(&index.list(&query(&["RIK"]), 0.8)), vec![3, 1]);
    assert_eq!(ids(&index.list(&query(&["rik", "car"]), 0.8)), vec![3]);
    assert_eq!(
        ids(&index.list(&query(&["ob"]), 0.8)),
        vec![2],
        "two letters"
    );
    assert_eq!(index.list(&query(&["zzz"]), 0.8).total, 0);
    assert_eq!(
        index.list(&query(&["x123"]), 0.8).total,
        4,
        "document number"
    );
}

#[test]
fn low_confidence_is_unverified_below_the_threshold_worst_first() {
    let index = index();
    let q = SeedQuery {
        low_confidence: true,
        order: SeedOrder::Confidence,
        descending: false,
        ..SeedQuery::default()
    };
    let page = index.list(&q, 0.8);
    assert_eq!((page.total, ids(&page)), (2, vec![2, 3]));
}

#[test]
fn the_kept_low_confidence_bitmap_follows_changes_and_agrees_with_the_gathered_one() {
    let mut kept = SeedIndex::new(0.8);
    let mut gathered = index();
    for (k, c) in [(1u32, 0.9), (2, 0.6), (3, 0.7)] {
        kept.upsert(k, &card(u64::from(k), "u", "Name", &[c, c]));
    }
    let mut verified = card(4, "dave", "Rossi", &[0.2, 0.2]);
    verified.verified = true;
    kept.upsert(4, &verified);
    let q = SeedQuery {
        low_confidence: true,
        ..SeedQuery::default()
    };
    let low = |index: &SeedIndex| ids(&index.list(&q, 0.8));
    assert_eq!(low(&kept), vec![3, 2]);
    assert_eq!(low(&kept), low(&gathered));
    // Across the threshold both ways, exactly at it (0.8 is not below 0.8, although the
    // threshold is an f32 whose f64 is 0.8000000119), and removed.
    for index in [&mut kept, &mut gathered] {
        index.upsert(1, &card(1, "u", "Name", &[0.5, 0.5]));
        index.upsert(2, &card(2, "u", "Name", &[0.8, 0.8]));
        index.remove(3);
    }
    assert_eq!(low(&kept), vec![1]);
    assert_eq!(low(&kept), low(&gathered));
    // Another threshold than the kept one is gathered, not answered from the bitmap.
    assert_eq!(ids(&kept.list(&q, 0.9)), vec![2, 1]);
}

#[test]
fn confidence_bounds_are_inclusive_and_updates_move_cards() {
    let mut index = index();
    let q = SeedQuery {
        confidence_min: Some(0.6),
        confidence_max: Some(0.7),
        ..SeedQuery::default()
    };
    assert_eq!(ids(&index.list(&q, 0.8)), vec![3, 2]);
    index.upsert(2, &card(2, "bob", "Smith", &[1.0, 1.0]));
    assert_eq!(ids(&index.list(&q, 0.8)), vec![3]);
    index.remove(3);
    assert_eq!(index.list(&q, 0.8).total, 0);
    let by_search = SeedQuery {
        search: vec!["kerik".into()],
        ..SeedQuery::default()
    };
    assert_eq!(index.list(&by_search, 0.8).total, 0, "removed from search");
}

#[test]
fn pages_follow_the_ordering() {
    let index = index();
    let q = |order, descending, offset| SeedQuery {
        order,
        descending,
        offset,
        limit: 2,
        ..SeedQuery::default()
    };
    assert_eq!(
        ids(&index.list(&q(SeedOrder::Created, true, 0), 0.8)),
        vec![4, 3]
    );
    assert_eq!(
        ids(&index.list(&q(SeedOrder::Created, true, 2), 0.8)),
        vec![2, 1]
    );
    assert_eq!(
        ids(&index.list(&q(SeedOrder::Confidence, true, 0), 0.8)),
        vec![1, 3]
    );
    assert_eq!(
        ids(&index.list(&q(SeedOrder::Confidence, false, 0), 0.8)),
        vec![4, 2]
    );
}

#[test]
fn a_change_that_keeps_the_texts_keeps_them_searchable_and_a_new_name_replaces_the_old() {
    let mut index = index();
    let query = |term: &str| SeedQuery {
        search: vec![term.to_string()],
        ..SeedQuery::default()
    };
    // A decision: the texts stay, so do their trigrams.
    let mut decided = card(1, "alice", "Eriksson", &[0.9, 0.9]);
    decided.status = Status::Approved;
    index.upsert(1, &decided);
    assert_eq!(ids(&index.list(&query("eriksson"), 0.8)), vec![1]);
    // A correction of the name: the old name is gone, the new one found.
    index.upsert(1, &card(1, "alice", "Andersson", &[0.9, 0.9]));
    assert_eq!(index.list(&query("eriksson"), 0.8).total, 0);
    assert_eq!(ids(&index.list(&query("anders"), 0.8)), vec![1]);
    index.remove(1);
    assert_eq!(index.list(&query("anders"), 0.8).total, 0);
    assert!(
        index.grams.values().all(|ids| !ids.contains(1)),
        "no trigram keeps a removed card"
    );
}

/// The searched texts, written without a copy per text, are what lower-casing each text (new
/// lines as spaces) and joining them by lines gives, for plain and for non-ASCII names (a
/// Greek capital sigma lower-cases by its place in the word).
#[test]
fn the_searched_texts_are_the_lower_cased_lines() {
    for (user, surname) in [
        ("Alice\nB", "ERIKSSON"),
        ("bob", "ΟΔΥΣΣΕΥΣ"),
        ("Zoë", "Ǆemal\nİnan"),
        ("", ""),
    ] {
        let card = card(1, user, surname, &[0.9, 0.9]);
        let value = |ocr: &str| names::field(&card, ocr).map_or("", |f| f.value.as_str());
        let expected = [
            card.user_id.as_str(),
            value("firstName"),
            value("lastName"),
            value("documentNumber"),
        ]
        .map(|t| t.replace('\n', " ").to_lowercase())
        .join("\n");
        let mut text = String::from("left over");
        search_text(&card, &mut text);
        assert_eq!(text, expected);
    }
}

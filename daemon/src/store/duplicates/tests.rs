//! The duplicates index follows every card write in its transaction, and is built at open for
//! a store that predates it.

use idreview_protocol::{CardRef, Field, FieldSource, FileRole, Side, Status};

use super::*;
use crate::card::CardError;
use crate::card::state::tests::card;
use crate::store::{Change, Store};

/// A new card of `user` with a front file of content `sha` and, when given, a document number.
fn new_card(store: &Store, user: &str, sha: &str, number: Option<&str>) -> Card {
    let mut c = card(Status::NeedsReview);
    c.id = store.next_id().expect("id");
    c.user_id = user.into();
    c.country = Some("DEU".into());
    let mut f = idreview_protocol::fixtures::file(FileRole::Front, "front.jpg", "k");
    f.sha256 = sha.into();
    c.files.push(f);
    if let Some(n) = number {
        c.fields.push(Field {
            name: NUMBER_FIELD.into(),
            value: n.into(),
            confidence: 0.9,
            source: FieldSource::Mrz,
            side: Side::Front,
            bbox: None,
            candidates: vec![],
        });
    }
    c
}

fn cards_sharing(store: &Store, card: &Card) -> Vec<(u64, String)> {
    store
        .shared_with(card)
        .expect("lookup")
        .into_iter()
        .map(|s| (s.card.0, s.user_id))
        .collect()
}

#[tokio::test]
async fn files_and_numbers_are_found_on_other_cards_and_follow_corrections_and_removals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    let first = store
        .create(
            new_card(&store, "u1", &"aa".repeat(32), Some("C01X 00T47")),
            "t",
        )
        .await
        .expect("create");
    // Another user, the same front file; a third, the same number as written differently.
    let probe = new_card(&store, "u2", &"AA".repeat(32), None);
    assert_eq!(cards_sharing(&store, &probe), [(first.id.0, "u1".into())]);
    let mut number = new_card(&store, "u3", &"cc".repeat(32), Some("c01x00t47"));
    number.country = Some("D".into());
    let found = store.shared_with(&number).expect("lookup");
    assert_eq!(found.len(), 1, "D and DEU are one country: {found:?}");
    assert!(matches!(&found[0].what, SharedWhat::Number { number, .. } if number == "C01X00T47"));
    assert!(
        cards_sharing(&store, &first).is_empty(),
        "a card does not share with itself"
    );

    // A correction of the number moves its entry.
    let at = CardRef {
        id: first.id,
        expected_version: None,
    };
    store
        .update(at, "t", |c| {
            c.fields[0].value = "X9".into();
            Ok::<_, CardError>(Change::new("field.corrected"))
        })
        .await
        .expect("correct");
    assert!(store.shared_with(&number).expect("lookup").is_empty());
    let mut x9 = number.clone();
    x9.fields[0].value = "X9".into();
    assert_eq!(cards_sharing(&store, &x9), [(first.id.0, "u1".into())]);

    // A removal (a deletion, an expiry, an erasure) purges the card's entries.
    store
        .remove_card(
            at,
            "t",
            |_| Ok::<_, CardError>(Change::new("card.erased")),
            crate::store::retention::Trail::Keep,
        )
        .await
        .expect("remove");
    assert!(store.shared_with(&probe).expect("lookup").is_empty());
    assert!(store.shared_with(&x9).expect("lookup").is_empty());
    assert!(
        store.inner.duplicates.is_empty(),
        "nothing of the card is left"
    );
}

#[tokio::test]
async fn a_store_without_the_index_has_it_built_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, two) = {
        let store = Store::open(dir.path(), 0.8).expect("open");
        let one = store
            .create(new_card(&store, "u1", &"aa".repeat(32), Some("P1")), "t")
            .await
            .expect("create");
        let two = store
            .create(new_card(&store, "u2", &"bb".repeat(32), None), "t")
            .await
            .expect("create");
        store.flush().await.expect("flush");
        (one, two)
    };
    {
        // As a daemon before the index left it: no `duplicates` tree.
        let db = crate::store::tests::raw_db(dir.path());
        assert!(db.drop_tree("duplicates").expect("drop"));
        db.flush().expect("flush");
    }
    let store = crate::store::reopen(dir.path());
    let probe = new_card(&store, "u3", &"aa".repeat(32), None);
    assert_eq!(cards_sharing(&store, &probe), [(one.id.0, "u1".into())]);
    let mut number = new_card(&store, "u3", &"dd".repeat(32), Some("P1"));
    number.country = Some("DE".into());
    assert_eq!(cards_sharing(&store, &number), [(one.id.0, "u1".into())]);
    let probe = new_card(&store, "u3", &"bb".repeat(32), None);
    assert_eq!(cards_sharing(&store, &probe), [(two.id.0, "u2".into())]);
}

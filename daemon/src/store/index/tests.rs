//! The index's listing, filtering, sorting, claims and change feed over thirty small cards.

use super::*;
use crate::card::state::tests::card;
use idreview_protocol::{DocumentType, Field, FieldSource, Side};

fn index() -> Index {
    let mut index = Index::new(0.8, true);
    for i in 1..=30u64 {
        let mut c = card(if i % 3 == 0 {
            Status::Approved
        } else {
            Status::NeedsReview
        });
        c.id = CardId(i);
        c.user_id = format!("user-{i}");
        c.document_type = if i % 2 == 0 {
            DocumentType::Passport
        } else {
            DocumentType::NationalId
        };
        c.created_at += chrono::Duration::seconds(i as i64);
        c.fields.push(Field {
            name: "surname".into(),
            value: if i == 7 {
                "Eriksson".into()
            } else {
                "Doe".into()
            },
            confidence: i as f32 / 30.0,
            source: FieldSource::Mrz,
            side: Side::Front,
            bbox: None,
            candidates: vec![],
        });
        index.upsert(&c);
    }
    index
}

fn ids(page: &CardPage) -> Vec<u64> {
    page.cards.iter().map(|c| c.id.0).collect()
}

#[test]
fn pages_newest_first_with_total() {
    let q = ListQuery {
        offset: 2,
        limit: 3,
        ..ListQuery::default()
    };
    let page = index().list(&q, "me");
    assert_eq!(page.total, 30);
    assert_eq!(ids(&page), vec![28, 27, 26]);
}

#[test]
fn filters_combine() {
    let filter = CardFilter::parse("status:needs_review type:passport conf:<0.5").expect("parses");
    let q = ListQuery {
        filter,
        limit: 100,
        descending: false,
        ..ListQuery::default()
    };
    let page = index().list(&q, "me");
    // Even ids below 15 (confidence i/30 < 0.5), not multiples of 3.
    assert_eq!(ids(&page), vec![2, 4, 8, 10, 14]);
    assert_eq!(page.total, 5);
}

#[test]
fn id_and_user_terms_match_exactly() {
    let list = |text: &str| {
        let q = ListQuery {
            filter: CardFilter::parse(text).expect("parses"),
            limit: 100,
            descending: false,
            ..ListQuery::default()
        };
        ids(&index().list(&q, "me"))
    };
    // `user-1` is a prefix of user-10..19 as a word; the term matches the one user only.
    assert_eq!(list("user:user-1"), vec![1]);
    assert_eq!(list("user:USER-12,user-3"), vec![3, 12]);
    assert_eq!(list("user:user-"), Vec::<u64>::new());
    assert_eq!(list("id:22,7,999"), vec![7, 22]);
    assert_eq!(list("id:22 status:approved"), Vec::<u64>::new());
    assert_eq!(list("id:21 status:approved"), vec![21]);
}

#[test]
fn text_search_matches_prefixes_of_any_field() {
    let q = ListQuery {
        filter: CardFilter::parse("eriks").expect("parses"),
        ..ListQuery::default()
    };
    assert_eq!(ids(&index().list(&q, "me")), vec![7]);
    let q = ListQuery {
        filter: CardFilter::parse("user-12").expect("parses"),
        ..ListQuery::default()
    };
    assert_eq!(ids(&index().list(&q, "me")), vec![12]);
}

#[test]
fn sorts_by_confidence_both_ways() {
    let mut q = ListQuery {
        sort: SortKey::Confidence,
        limit: 2,
        descending: true,
        ..ListQuery::default()
    };
    assert_eq!(ids(&index().list(&q, "me")), vec![30, 29]);
    q.descending = false;
    assert_eq!(ids(&index().list(&q, "me")), vec![1, 2]);
}

#[test]
fn low_confidence_counts_against_threshold() {
    let q = ListQuery {
        filter: CardFilter::parse("low:yes").expect("parses"),
        ..ListQuery::default()
    };
    // confidence i/30 < 0.8  <=>  i < 24
    assert_eq!(index().list(&q, "me").total, 23);
}

#[test]
fn lapsed_claims_read_as_unassigned_and_updated_ranges_filter() {
    let mut index = index();
    let now = Utc::now();
    let mut held = card(Status::NeedsReview);
    held.id = CardId(3);
    held.version = 5;
    held.assignee = Some("bob".into());
    held.lease_until = Some(now + chrono::Duration::minutes(10));
    index.upsert(&held);
    let mut lapsed = held.clone();
    lapsed.id = CardId(4);
    lapsed.lease_until = Some(now - chrono::Duration::seconds(1));
    index.upsert(&lapsed);
    let q = |text: &str| ListQuery {
        filter: CardFilter::parse(text).expect("parses"),
        limit: 100,
        ..ListQuery::default()
    };
    assert_eq!(ids(&index.list(&q("assignee:bob"), "me")), vec![3]);
    assert_eq!(ids(&index.list(&q("assignee:me"), "bob")), vec![3]);
    assert_eq!(index.list(&q("assignee:none"), "me").total, 29);
    assert_eq!(index.summary(CardId(4)).and_then(|s| s.assignee), None);
    let by_assignee = ListQuery {
        sort: SortKey::Assignee,
        descending: true,
        limit: 1,
        ..ListQuery::default()
    };
    assert_eq!(
        ids(&index.list(&by_assignee, "me")),
        vec![3],
        "only the running claim sorts as held"
    );
    let today = now.format("%Y-%m-%d").to_string();
    let tomorrow = (now + chrono::Duration::days(1)).format("%Y-%m-%d");
    assert_eq!(index.list(&q(&format!("updated:{today}")), "me").total, 30);
    assert_eq!(
        index.list(&q(&format!("updated:>={tomorrow}")), "me").total,
        0
    );
}

#[test]
fn the_change_feed_names_cards_written_after_a_cursor() {
    let mut index = index();
    let cursor = index.cursor();
    assert_eq!(cursor, 30);
    assert!(index.changes_since(cursor).cards.is_empty());
    let mut c = card(Status::Approved);
    c.id = CardId(9);
    c.version = 7;
    index.upsert(&c);
    let changes = index.changes_since(cursor);
    assert_eq!(changes.cursor, 31);
    assert_eq!(
        changes.cards.iter().map(|c| c.id.0).collect::<Vec<_>>(),
        vec![9]
    );
    assert_eq!(index.changes_since(0).cards.len(), 30);
    assert!(changes.deleted.is_empty());
    index.remove(CardId(4));
    let gone = index.changes_since(changes.cursor);
    assert_eq!(gone.cursor, 32, "a removal moves the cursor");
    assert!(gone.cards.is_empty());
    assert_eq!(gone.deleted, vec![CardId(4)]);
    assert!(index.changes_since(gone.cursor).deleted.is_empty());
    assert_eq!(index.changes_since(cursor).deleted, vec![CardId(4)]);
}

#[test]
fn older_versions_never_overwrite_newer() {
    let mut index = index();
    let mut c = card(Status::Rejected);
    c.id = CardId(5);
    c.version = 0;
    index.upsert(&c);
    assert_eq!(
        index.summary(CardId(5)).map(|s| s.status),
        Some(Status::NeedsReview)
    );
}

#[test]
fn sorted_pages_deep_in_the_list_are_in_order() {
    let index = index();
    for (descending, want) in [(false, vec![6, 7, 8]), (true, vec![25, 24, 23])] {
        let q = ListQuery {
            sort: SortKey::Confidence,
            offset: 5,
            limit: 3,
            descending,
            ..ListQuery::default()
        };
        let page = index.list(&q, "me");
        assert_eq!(ids(&page), want, "descending {descending}");
        assert_eq!(page.total, 30);
    }
    let q = ListQuery {
        sort: SortKey::User,
        offset: 28,
        limit: 10,
        descending: false,
        ..ListQuery::default()
    };
    assert_eq!(
        index.list(&q, "me").cards.len(),
        2,
        "the last page is short"
    );
}

#[test]
fn low_confidence_queue_names_the_fields_and_skips_decided_cards() {
    let page = index().low_confidence(1, 2);
    // i < 24 and not a multiple of 3 (approved): 1, 2, 4, 5, ...; 16 in all.
    assert_eq!(page.total, 16);
    let ids: Vec<u64> = page.cards.iter().map(|c| c.summary.id.0).collect();
    assert_eq!(ids, vec![2, 4]);
    assert_eq!(page.cards[0].fields, vec!["surname".to_string()]);
    assert_eq!(page.threshold, 0.8);
}

#[test]
fn a_changed_card_moves_between_bitmaps_and_words() {
    let mut index = index();
    let mut c = card(Status::Approved);
    c.id = CardId(7);
    c.user_id = "user-7".into();
    c.version = 9;
    c.assignee = Some("rev".into());
    c.fields.clear();
    index.upsert(&c);
    let count = |index: &Index, q: &str| {
        let q = ListQuery {
            filter: CardFilter::parse(q).expect("parses"),
            ..ListQuery::default()
        };
        index.list(&q, "rev").total
    };
    assert_eq!(
        count(&index, "eriksson"),
        0,
        "the old surname is no longer indexed"
    );
    assert_eq!(count(&index, "assignee:me"), 1);
    assert_eq!(count(&index, "assignee:none"), 29);
    assert_eq!(count(&index, "status:approved"), 11);
    let counts = index.counts_by_status();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 30);
    index.remove(CardId(7));
    assert_eq!(count(&index, "status:approved"), 10);
    assert_eq!(count(&index, "user-7"), 0);
    assert_eq!(index.len(), 29);
}

#[test]
fn a_number_finds_the_card_with_that_id() {
    let q = ListQuery {
        filter: CardFilter::parse("#12").expect("parses"),
        ..ListQuery::default()
    };
    assert_eq!(ids(&index().list(&q, "me")), vec![12]);
}

#[test]
fn refs_follow_the_lists_order_and_versions_in_every_sort() {
    let index = index();
    for sort in [SortKey::Created, SortKey::Confidence, SortKey::User] {
        let q = ListQuery {
            filter: CardFilter::parse("status:needs_review").expect("parses"),
            sort,
            descending: sort == SortKey::Created,
            offset: 3,
            limit: 1000,
        };
        let page = index.list(&q, "me");
        let refs = index.refs(&q, "me");
        let listed: Vec<(CardId, Option<u64>)> =
            page.cards.iter().map(|c| (c.id, Some(c.version))).collect();
        let got: Vec<(CardId, Option<u64>)> =
            refs.iter().map(|r| (r.id, r.expected_version)).collect();
        assert_eq!(got, listed, "{sort:?}");
        assert_eq!(refs.len(), 20 - 3, "20 cards need review, from the fourth");
    }
    let huge = ListQuery {
        limit: u32::MAX,
        ..ListQuery::default()
    };
    assert_eq!(index.refs(&huge, "me").len(), 30);
    assert_eq!(index.list(&huge, "me").cards.len(), 30);
}

#[test]
fn dup_terms_split_the_cards_by_their_reused_document_finding() {
    let mut index = index();
    let list = |index: &Index, text: &str| {
        let q = ListQuery {
            filter: CardFilter::parse(text).expect("parses"),
            limit: 100,
            descending: false,
            ..ListQuery::default()
        };
        index.list(&q, "me")
    };
    assert_eq!(list(&index, "dup:yes").total, 0);
    let mut flagged = card(Status::NeedsReview);
    flagged.id = CardId(4);
    flagged.version = 2;
    flagged.findings.push(idreview_protocol::Finding {
        rule: idreview_protocol::DUPLICATE_DOCUMENT.into(),
        severity: idreview_protocol::Severity::Error,
        message: "reused document: file front.jpg also on card 2 of another user".into(),
    });
    index.upsert(&flagged);
    let page = list(&index, "dup:yes");
    assert_eq!(ids(&page), vec![4]);
    assert!(page.cards[0].duplicate);
    assert_eq!(list(&index, "dup:no").total, 29);
    flagged.findings.clear();
    flagged.version = 3;
    index.upsert(&flagged);
    assert_eq!(
        list(&index, "dup:yes").total,
        0,
        "a cleared finding leaves the bitmap"
    );
}

#[test]
fn a_new_user_id_or_country_unindexes_the_words_of_the_old() {
    let mut index = index();
    let found = |index: &Index, q: &str| {
        let q = ListQuery {
            filter: CardFilter::parse(q).expect("parses"),
            ..ListQuery::default()
        };
        ids(&index.list(&q, "me"))
    };
    let mut c = card(Status::NeedsReview);
    c.id = CardId(31);
    c.user_id = "Anna-Berg".into();
    c.country = Some("Qx".into());
    c.fields.push(Field {
        name: "surname".into(),
        value: "Quist".into(),
        confidence: 0.9,
        source: FieldSource::Mrz,
        side: Side::Front,
        bbox: None,
        candidates: vec![],
    });
    index.upsert(&c);
    for q in ["berg", "anna-berg", "qx", "quist"] {
        assert_eq!(found(&index, q), vec![31], "{q}");
    }
    c.user_id = "otto-lind".into();
    c.country = Some("Zy".into());
    c.version += 1;
    index.upsert(&c);
    for q in ["berg", "anna-berg", "qx"] {
        assert!(found(&index, q).is_empty(), "{q} is gone");
    }
    for q in ["lind", "otto-lind", "zy", "quist"] {
        assert!(found(&index, q).contains(&31), "{q}");
    }
    index.remove(CardId(31));
    for q in ["lind", "otto-lind", "zy"] {
        assert!(found(&index, q).is_empty(), "{q} is gone with the card");
    }
}

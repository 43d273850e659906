use idreview_protocol::{CardId, CardRef, ExportCursor, Role, Status, TokenSpec};

use super::*;
use crate::card::removal_tests::card;
use crate::store::{Change, Store};

/// Every line of the snapshot, paged `max_bytes` at a time.
fn lines(store: &Store, snapshot: &ExportSnapshot, max_bytes: usize) -> Vec<Line> {
    let mut out = Vec::new();
    let mut cursor = Some(ExportCursor::default());
    while let Some(at) = cursor {
        let (page, next) = store.export_page(snapshot, at, max_bytes).expect("page");
        assert!(
            !page.is_empty() || next.is_none(),
            "no empty page before the end"
        );
        out.extend(
            page.iter()
                .map(|l| serde_json::from_str::<Line>(l).expect("a line")),
        );
        cursor = next;
    }
    out
}

async fn seeded() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    let cards = [
        card(1, "ann", Status::Approved, 3),
        card(2, "bob", Status::NeedsReview, 3),
        card(3, "cat", Status::Rejected, 3),
    ];
    store.import(&cards, "t").await.expect("import");
    let spec = TokenSpec {
        name: "ops".into(),
        role: Role::Admin,
        expires_days: None,
        user_id: None,
        person: None,
    };
    let token = store
        .create_token(&spec, "local:root")
        .await
        .expect("token");
    (dir, store, token.token)
}

#[tokio::test]
async fn a_snapshot_leaves_out_what_was_written_after_it() {
    let (_dir, store, _) = seeded().await;
    let snapshot = store.export_snapshot(7).expect("snapshot");
    let h = &snapshot.header;
    assert_eq!(
        (h.export_id, h.cards, h.tokens, h.audit_events),
        (7, 3, 1, 4)
    );
    assert_eq!(
        h.audit_high_seq,
        store
            .audit_since(0, 100)
            .expect("audit")
            .last()
            .expect("one")
            .seq
    );
    // Writes after the cut: a new card and a change to card 2.
    store
        .import(&[card(4, "dan", Status::NeedsReview, 1)], "t")
        .await
        .expect("later card");
    let at = CardRef {
        id: CardId(2),
        expected_version: None,
    };
    store
        .update(at, "t", |c| {
            c.verified = true;
            Ok::<_, crate::card::CardError>(Change::new("card.verified"))
        })
        .await
        .expect("update");
    // One line per page and one page for everything give the same lines.
    let all = lines(&store, &snapshot, 1);
    assert_eq!(all, lines(&store, &snapshot, usize::MAX));
    let cards: Vec<&Card> = all
        .iter()
        .filter_map(|l| match l {
            Line::Card(c) => Some(&**c),
            _ => None,
        })
        .collect();
    assert_eq!(
        cards.iter().map(|c| c.id.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(!cards[1].verified, "card 2 as it was at the cut");
    let events = all.iter().filter(|l| matches!(l, Line::Audit(_))).count();
    assert_eq!(events, 4);
    let token = all
        .iter()
        .find_map(|l| match l {
            Line::Token(t) => Some(t),
            _ => None,
        })
        .expect("token");
    assert_eq!(token.secret_sha256.len(), 64);
}

#[tokio::test]
async fn a_restore_round_trips_into_an_empty_store_only() {
    let (_dir, store, bearer) = seeded().await;
    let snapshot = store.export_snapshot(1).expect("snapshot");
    let all = lines(&store, &snapshot, 4096);
    let target = tempfile::tempdir().expect("tempdir");
    {
        let fresh = Store::open(target.path(), 0.8).expect("open");
        assert_eq!(fresh.contents(), None);
        fresh.restore(&all).expect("restore");
        fresh
            .finish_restore(&snapshot.header)
            .await
            .expect("finish");
        assert!(fresh.contents().is_some_and(|c| c.contains("3 cards")));
    }
    let fresh = crate::store::reopen(target.path());
    for id in 1..=3 {
        assert_eq!(
            fresh.get(CardId(id)).expect("get"),
            store.get(CardId(id)).expect("get")
        );
        assert_eq!(
            fresh.audit_for(CardId(id)).expect("a"),
            store.audit_for(CardId(id)).expect("a")
        );
    }
    assert_eq!(
        fresh.audit_since(0, 100).expect("a"),
        store.audit_since(0, 100).expect("a")
    );
    assert_eq!(
        fresh.card_for_user("bob").expect("user").map(|c| c.id),
        Some(CardId(2))
    );
    assert_eq!(fresh.card_count(), 3, "the index is rebuilt");
    assert_eq!(fresh.authenticate(&bearer).expect("same token").name, "ops");
    // New ids and seqs continue after the restored ones.
    assert_eq!(fresh.next_id().expect("id"), CardId(4));
    fresh
        .import(&[card(9, "eve", Status::NeedsReview, 1)], "t")
        .await
        .expect("new");
    let last = fresh
        .audit_since(0, 100)
        .expect("a")
        .last()
        .cloned()
        .expect("event");
    assert!(last.seq > snapshot.header.audit_high_seq);
}

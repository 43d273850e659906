//! The store's own rules: card ids, one active card per user, bulk updates with their audit.

use super::*;
use crate::card::CardError;
use crate::card::state::tests::card;
use idreview_protocol::{AuditEvent, CardRef};

fn new_card(store: &Store, user: &str) -> Card {
    let mut c = card(Status::NeedsReview);
    c.id = store.next_id().expect("id");
    c.user_id = user.into();
    c
}

#[tokio::test]
async fn ids_are_consecutive_and_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path(), 0.8).expect("open");
        let ids: Vec<u64> = (0..3).map(|_| store.next_id().expect("id").0).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        store.flush().await.expect("flush");
    }
    let store = crate::store::reopen(dir.path());
    assert_eq!(store.next_id().expect("id"), CardId(4));
}

#[tokio::test]
async fn one_active_card_per_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    let first = store
        .create(new_card(&store, "u"), "t")
        .await
        .expect("first");
    let err = store
        .create(new_card(&store, "u"), "t")
        .await
        .expect_err("second refused");
    assert!(matches!(err, StoreError::ActiveCard { card, .. } if card == first.id));
    let at = CardRef {
        id: first.id,
        expected_version: Some(first.version),
    };
    store
        .update(at, "t", |c| {
            c.status = Status::Rejected;
            Ok::<_, CardError>(Change::new("card.rejected"))
        })
        .await
        .expect("reject");
    let again = store
        .create(new_card(&store, "u"), "t")
        .await
        .expect("allowed after rejection");
    assert_eq!(
        store.card_for_user("u").expect("read").map(|c| c.id),
        Some(again.id)
    );
}

#[tokio::test]
async fn bulk_updates_answer_per_card_and_audit_each_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    let a = store.create(new_card(&store, "a"), "t").await.expect("a");
    let b = store.create(new_card(&store, "b"), "t").await.expect("b");
    let refs = [
        CardRef {
            id: a.id,
            expected_version: Some(a.version),
        },
        CardRef {
            id: b.id,
            expected_version: Some(b.version + 5),
        },
        CardRef {
            id: CardId(999),
            expected_version: None,
        },
        CardRef {
            id: a.id,
            expected_version: None,
        },
    ];
    let results = store
        .update_many(&refs, "reviewer", |c| {
            c.verified = true;
            Ok::<_, CardError>(Change::new("card.verified"))
        })
        .await
        .expect("bulk");
    let version = |i: usize| results[i].1.as_ref().map(|c| c.version).ok();
    assert_eq!(version(0), Some(a.version + 1));
    assert!(matches!(results[1].1, Err(CardError::Conflict { .. })));
    assert!(matches!(results[2].1, Err(CardError::NotFound(_))));
    assert!(
        matches!(results[3].1, Err(CardError::Invalid(_))),
        "named twice"
    );
    assert!(store.get(a.id).expect("read").is_some_and(|c| c.verified));
    assert!(store.get(b.id).expect("read").is_some_and(|c| !c.verified));
    let events = store.audit_for(a.id).expect("audit");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["card.created", "card.verified"]);
    assert_eq!(events[1].actor, "reviewer");
    assert!(
        store.audit_for(b.id).expect("audit").len() == 1,
        "no event for a refused change"
    );
    assert_eq!(
        store.summary(a.id).map(|s| s.verified),
        Some(true),
        "the index follows the write"
    );
}

#[tokio::test]
async fn audit_seqs_are_gapless_across_queues_and_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path(), 0.8).expect("open");
        let a = store.create(new_card(&store, "a"), "t").await.expect("a");
        // A deletion queues cleanup jobs, which draw numbers of their own.
        let mut gone = new_card(&store, "b");
        gone.files.push(idreview_protocol::fixtures::file(
            idreview_protocol::FileRole::Front,
            "front.jpg",
            "users/b/id-card/2/front.jpg",
        ));
        let gone = store.create(gone, "t").await.expect("b");
        let at = CardRef {
            id: gone.id,
            expected_version: None,
        };
        store
            .remove_card(
                at,
                "admin",
                |_| Ok::<_, CardError>(Change::new("card.deleted")),
                retention::Trail::Keep,
            )
            .await
            .expect("deleted");
        // A refused change numbers nothing.
        let stale = CardRef {
            id: a.id,
            expected_version: Some(99),
        };
        let refused = store
            .update(stale, "t", |_| {
                Ok::<_, CardError>(Change::new("card.verified"))
            })
            .await;
        assert!(refused.is_err());
        store.flush().await.expect("flush");
    }
    let store = crate::store::reopen(dir.path());
    let c = store.create(new_card(&store, "c"), "t").await.expect("c");
    let seqs: Vec<u64> = store
        .audit_since(0, 100)
        .expect("audit")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2, 3, 4],
        "created a, created b, deleted b, created c"
    );
    assert_eq!(store.audit_gaps(4).expect("gaps"), vec![]);
    assert!(store.audit_for(c.id).expect("audit")[0].seq == 4);
}

#[tokio::test]
async fn an_older_logs_gaps_are_listed_and_numbering_continues_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    // A log as an older daemon numbered it, its seqs drawn from a counter shared with the
    // cleanup queue: 1, 2, then 5.
    let event = |seq| AuditEvent {
        seq,
        card_id: None,
        at: Utc::now(),
        actor: "t".into(),
        action: "token.created".into(),
        reason: None,
        before: None,
        after: None,
    };
    let batch = audit_log::Batch::encode(&[event(1), event(2), event(5)])
        .expect("encodes")
        .expect("a batch");
    store
        .inner
        .audit
        .transaction(|audit| {
            batch.write(audit)?;
            Ok::<_, sled::transaction::ConflictableTransactionError<StoreError>>(())
        })
        .expect("written");
    assert_eq!(store.audit_gaps(5).expect("gaps"), vec![(3, 4)]);
    let c = store.create(new_card(&store, "c"), "t").await.expect("c");
    assert_eq!(store.audit_for(c.id).expect("audit")[0].seq, 6);
    let snapshot = store.export_snapshot(1).expect("snapshot");
    assert_eq!(snapshot.header.audit_gaps, vec![(3, 4)]);
}

/// Opens the sled database of a store a test has just closed (its lock lapses a moment later).
pub(super) fn raw_db(path: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("open {}: {e}", path.display()),
        }
    }
}

#[tokio::test]
async fn older_stores_are_read_in_place_and_stamped_4_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (two, three, four) = {
        let store = Store::open(dir.path(), 0.8).expect("open");
        let mut made = Vec::new();
        for user in ["u2", "u3", "u4"] {
            let card = store
                .create(new_card(&store, user), "t")
                .await
                .expect("create");
            made.push(card);
        }
        store.flush().await.expect("flush");
        let four = made.pop().expect("card");
        let three = made.pop().expect("card");
        (made.pop().expect("card"), three, four)
    };
    {
        // Back to what older daemons wrote, one card each: format 2 (no raw zone's byte) and
        // format 3 (times as text); the third stays as this build wrote it.
        let db = raw_db(dir.path());
        let cards = db.open_tree("cards").expect("cards");
        for (card, cut) in [(&two, 1), (&three, 0)] {
            let key = card.id.0.to_be_bytes();
            let record = cards.get(key).expect("get").expect("record");
            let bytes = crate::store::stored::card::encode_format_3(card).expect("format 3");
            assert_eq!(bytes.last(), Some(&0), "format 3 ends in the zone's None");
            let old = record::encode(
                record::CardBytes::text_times(&bytes[..bytes.len() - cut]),
                &[record::history(&record).expect("h")],
            );
            cards.insert(key, old).expect("insert");
        }
        let meta = db.open_tree("meta").expect("meta");
        meta.insert(FORMAT, &3u64.to_be_bytes()).expect("stamp");
        db.flush().expect("flush");
    }
    {
        let store = crate::store::reopen(dir.path());
        for card in [&two, &three, &four] {
            assert_eq!(store.get(card.id).expect("reads").as_ref(), Some(card));
            assert_eq!(store.audit_for(card.id).expect("audit").len(), 1);
        }
        assert_eq!(
            store.card_count(),
            3,
            "the index was built from every layout"
        );
    }
    {
        let db = raw_db(dir.path());
        let meta = db.open_tree("meta").expect("meta");
        let stamp = meta.get(FORMAT).expect("get").map(|v| be_u64(&v));
        assert_eq!(stamp, Some(FORMAT_VERSION));
        meta.insert(FORMAT, &(FORMAT_VERSION + 1).to_be_bytes())
            .expect("stamp");
        db.flush().expect("flush");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let refused = loop {
        match Store::open(dir.path(), 0.8) {
            Err(StoreError::Format { found }) => break found,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => panic!("a newer store opened: {:?}", other.map(|_| ())),
        }
    };
    assert_eq!(refused, FORMAT_VERSION + 1);
}

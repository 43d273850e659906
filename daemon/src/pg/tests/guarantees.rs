//! Each guarantee of `pg/mod.rs`, under the concurrency that would break it without its
//! mechanism: one transaction per change, `FOR UPDATE` before the version check, the audit
//! counter row, the partial unique index.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use idreview_protocol::{CardId, CardRef, Finding, Severity, Status};
use tokio::sync::Barrier;

use super::{card, seqs, store};
use crate::card::{CardError, CardStore};
use crate::pg::testdb::TestDb;
use crate::store::outbox::{Job, OutboxOp, Task};
use crate::store::{Change, StoreError};

fn at(id: u64, version: Option<u64>) -> CardRef {
    CardRef {
        id: CardId(id),
        expected_version: version,
    }
}

/// An audit row numbered past the counter, as if a writer had taken seq 2 without counting it:
/// the next write's audit insert fails, after its card was written.
async fn sabotage_seq(db: &TestDb, seq: i64) {
    db.client()
        .await
        .execute(
            "INSERT INTO audit (seq, at, actor, action) VALUES ($1, now(), 'test', 'test.block')",
            &[&seq],
        )
        .await
        .expect("blocking row");
}

#[tokio::test]
async fn a_card_write_and_its_audit_event_commit_together_or_not_at_all() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    pg.create(card(1, "ann"), "t").await.expect("create");
    let events = pg.audit_for(CardId(1)).await.expect("audit");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].seq, events[0].action.as_str()),
        (1, "card.created")
    );
    sabotage_seq(&db, 2).await;

    // A creation whose event cannot be written leaves no card and no duplicates rows.
    let err = pg.create(card(2, "bob"), "t").await.expect_err("blocked");
    assert!(
        matches!(err, CardError::Store(StoreError::Database(_))),
        "{err}"
    );
    assert!(
        pg.get(CardId(2)).await.expect("get").is_none(),
        "card without its event"
    );
    let rows: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM duplicates WHERE card_id = 2", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 0, "duplicates rows without their card");

    // A change whose event cannot be written leaves the card and the outbox as they were.
    let outcome = pg
        .change(&[at(1, Some(1))], "t", |c| {
            c.status = Status::Approved;
            let mut change = Change::new("card.approved");
            let job = Job::new(c.id, Task::Reverify, Utc::now());
            change.outbox.push(OutboxOp::Put(job));
            Ok::<_, CardError>(change)
        })
        .await;
    assert!(
        matches!(outcome, Err(StoreError::Database(_))),
        "{outcome:?}"
    );
    let kept = pg.get(CardId(1)).await.expect("get").expect("card");
    assert_eq!((kept.version, kept.status), (1, Status::NeedsReview));
    assert!(
        pg.jobs().await.expect("jobs").is_empty(),
        "a job without its change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_changes_of_one_card_at_one_version_have_exactly_one_winner() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    pg.create(card(1, "ann"), "t").await.expect("create");
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for who in ["rita", "sam"] {
        let (pg, barrier) = (pg.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut results = pg
                .change(&[at(1, Some(1))], who, |c| {
                    // Long enough for the other to read the card, were it not locked.
                    std::thread::sleep(Duration::from_millis(300));
                    c.status = Status::Approved;
                    Ok::<_, CardError>(Change::new("card.approved"))
                })
                .await
                .expect("store");
            results.pop().expect("one result").1
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(card) => {
                won += 1;
                assert_eq!(card.version, 2);
            }
            Err(CardError::Conflict {
                expected, actual, ..
            }) => assert_eq!((expected, actual), (1, 2)),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(won, 1, "exactly one winner");
    let approvals = pg.audit_for(CardId(1)).await.expect("audit");
    assert_eq!(
        approvals
            .iter()
            .filter(|e| e.action == "card.approved")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_changes_naming_no_version_both_land() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    pg.create(card(1, "ann"), "t").await.expect("create");
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for who in ["rita", "sam"] {
        let (pg, barrier) = (pg.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            pg.change(&[at(1, None)], who, |c| {
                std::thread::sleep(Duration::from_millis(300));
                c.findings.push(Finding {
                    rule: format!("note_by_{who}"),
                    severity: Severity::Warning,
                    message: who.into(),
                });
                Ok::<_, CardError>(Change::new("card.noted"))
            })
            .await
            .expect("store")
            .pop()
            .expect("one")
            .1
            .expect("applied")
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let card = pg.get(CardId(1)).await.expect("get").expect("card");
    assert_eq!(card.version, 3);
    let rules: Vec<&str> = card.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(
        rules.contains(&"note_by_rita") && rules.contains(&"note_by_sam"),
        "a change was lost: {rules:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_seqs_are_gapless_and_visible_in_order_under_concurrency() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let (writers, cards_each, rounds) = (6u64, 2u64, 20u64);
    for id in 1..=writers * cards_each {
        pg.create(card(id, &format!("u{id}")), "t")
            .await
            .expect("create");
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (client, done) = (db.client().await, done.clone());
        tokio::spawn(async move {
            let mut looks = 0u64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                // One statement, one snapshot: every seq up to the largest is there.
                let row = client
                    .query_one("SELECT count(*), coalesce(max(seq), 0) FROM audit", &[])
                    .await
                    .expect("look");
                let (count, max): (i64, i64) = (row.get(0), row.get(1));
                assert_eq!(count, max, "a reader saw seq {max} before a smaller one");
                looks += 1;
            }
            looks
        })
    };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let pg = pg.clone();
        tasks.push(tokio::spawn(async move {
            let mut written = 0u64;
            for round in 0..rounds {
                let id = 1 + w * cards_each + round % cards_each;
                let fail = round % 5 == 4;
                let results = pg
                    .change(&[at(id, None)], "t", |c| {
                        if fail {
                            // Refused in the change: the transaction writes nothing.
                            return Err(CardError::Invalid("no".into()));
                        }
                        c.verified = !c.verified;
                        Ok(Change::new("card.verified"))
                    })
                    .await
                    .expect("store");
                written += u64::from(results.iter().all(|(_, r)| r.is_ok()));
                // A stale version: refused by the store.
                let stale = pg
                    .change(&[at(id, Some(0))], "t", |_| {
                        Ok::<_, CardError>(Change::new("never"))
                    })
                    .await
                    .expect("store");
                assert!(matches!(stale[0].1, Err(CardError::Conflict { .. })));
            }
            written
        }));
    }
    let mut written = writers * cards_each;
    for task in tasks {
        written += task.await.expect("writer");
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let looks = reader.await.expect("reader");
    assert!(looks > 0);
    let expected: Vec<i64> = (1..=i64::try_from(written).expect("fits")).collect();
    assert_eq!(seqs(&db).await, expected, "gapless from 1");
    assert_eq!(
        pg.audit_since(0, 10_000).await.expect("since").len() as u64,
        written
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_active_card_per_user_holds_under_concurrent_creations() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let tries = 8u64;
    // A connection open for each creation, so that they race rather than queue on connecting.
    let warm = (0..tries).map(|_| pg.get(CardId(0)));
    futures::future::try_join_all(warm)
        .await
        .expect("warm the pool");
    let barrier = Arc::new(Barrier::new(tries as usize));
    let mut tasks = Vec::new();
    for id in 1..=tries {
        let (pg, barrier) = (pg.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            pg.create(card(id, "ann"), "t").await
        }));
    }
    let mut winners = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(card) => winners.push(card.id),
            Err(CardError::ActiveCard { card, .. }) => refused.push(card),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "one card made: {winners:?}");
    assert!(
        refused.iter().all(|c| *c == winners[0]),
        "{refused:?} name the winner"
    );
    assert_eq!(seqs(&db).await, vec![1], "one creation event");

    // Rejected, the card lets a new one in; reopened then, it would be a second active card.
    let winner = winners[0];
    pg.change(&[at(winner.0, None)], "t", |c| {
        c.status = Status::Rejected;
        Ok::<_, CardError>(Change::new("card.rejected"))
    })
    .await
    .expect("reject");
    let next = pg
        .create(card(100, "ann"), "t")
        .await
        .expect("after rejection");
    let reopened = pg
        .change(&[at(winner.0, None)], "t", |c| {
            c.status = Status::NeedsReview;
            Ok::<_, CardError>(Change::new("card.reopened"))
        })
        .await;
    match reopened {
        Err(StoreError::ActiveCard { user, card }) => {
            assert_eq!((user.as_str(), card), ("ann", next.id));
        }
        other => panic!("a second active card: {other:?}"),
    }
}

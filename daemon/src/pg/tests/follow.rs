//! The follower (`follow.rs`) with two stores on one database standing for two daemons: a
//! change through one reaches the other's index within a second, a dropped listening
//! connection catches up, an index built at start equals one kept live, and a bulk change
//! notifies once.

use std::time::{Duration, Instant};

use idreview_protocol::fixtures::field;
use idreview_protocol::{Card, CardId, CardRef, FieldSource, ListQuery, Status};
use tokio_postgres::types::Json;

use super::{card, store};
use crate::card::{CardError, CardStore};
use crate::pg::testdb::TestDb;
use crate::pg::{FollowOptions, Follower, PgStore};
use crate::store::Change;
use crate::store::index::Index;
use crate::store::retention::Trail;

fn options(retry: Duration) -> FollowOptions {
    FollowOptions {
        threshold: 0.8,
        seed_view: false,
        retry,
        retry_max: retry * 4,
    }
}

async fn follower(pg: &PgStore) -> Follower {
    Follower::start(pg, options(Duration::from_millis(100)))
        .await
        .expect("follow")
}

fn at(id: u64) -> CardRef {
    CardRef {
        id: CardId(id),
        expected_version: None,
    }
}

/// Whether `check` holds of the follower's index within `within`.
async fn within(f: &Follower, within: Duration, check: impl Fn(&Index) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if f.read(&check) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    f.read(&check)
}

fn status(i: &Index, id: u64) -> Option<Status> {
    i.summary(CardId(id)).map(|s| s.status)
}

async fn set_status(pg: &PgStore, ids: &[u64], to: Status) {
    let refs: Vec<CardRef> = ids.iter().map(|id| at(*id)).collect();
    let outcomes = pg
        .change(&refs, "t", |c| {
            c.status = to;
            Ok::<_, CardError>(Change::new("card.decided"))
        })
        .await
        .expect("change");
    assert!(
        outcomes.iter().all(|(_, r)| r.is_ok()),
        "every card changed"
    );
}

async fn remove(pg: &PgStore, id: u64) {
    pg.remove(
        at(id),
        "t",
        |_| Ok::<_, CardError>(Change::new("card.deleted")),
        Trail::Keep,
    )
    .await
    .expect("remove");
}

/// Cards `1..=n` written straight into the table (no events): quicker than `n` creations.
async fn insert_cards(db: &TestDb, n: u64) {
    let client = db.client().await;
    let ids: Vec<u64> = (1..=n).collect();
    for chunk in ids.chunks(5000) {
        let cards: Vec<Card> = chunk.iter().map(|i| card(*i, &format!("u{i}"))).collect();
        let ids: Vec<i64> = chunk.iter().map(|i| *i as i64).collect();
        let users: Vec<&str> = cards.iter().map(|c| c.user_id.as_str()).collect();
        let bodies: Vec<Json<&Card>> = cards.iter().map(Json).collect();
        let times: Vec<_> = cards.iter().map(|c| c.created_at).collect();
        client
            .execute(
                "INSERT INTO cards (id, user_id, status, version, body, created_at, updated_at) \
                 SELECT id, u, 'needs_review', 1, b, t, t FROM unnest($1::bigint[], \
                 $2::text[], $3::jsonb[], $4::timestamptz[]) AS x(id, u, b, t)",
                &[&ids, &users, &bodies, &times],
            )
            .await
            .expect("insert cards");
    }
    client
        .execute("SELECT setval('card_ids', $1)", &[&(n as i64)])
        .await
        .expect("ids");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_daemon_is_in_the_others_index_within_a_second() {
    let db = TestDb::new().await;
    let (a, b) = (store(&db).await, store(&db).await);
    let fb = follower(&b).await;
    let second = Duration::from_secs(1);

    a.create(card(1, "ann"), "t").await.expect("create");
    assert!(
        within(&fb, second, |i| status(i, 1) == Some(Status::NeedsReview)).await,
        "a creation through A is in B's index"
    );
    let cursor = fb.read(Index::cursor);
    let (changes, ()) = tokio::join!(
        fb.changes(cursor, Duration::from_secs(5)),
        set_status(&a, &[1], Status::Approved)
    );
    assert_eq!(
        changes
            .cards
            .iter()
            .map(|c| (c.id, c.status))
            .collect::<Vec<_>>(),
        [(CardId(1), Status::Approved)],
        "B's change feed wakes with A's decision"
    );
    assert!(within(&fb, second, |i| status(i, 1) == Some(Status::Approved)).await);

    remove(&a, 1).await;
    assert!(
        within(&fb, second, |i| i.summary(CardId(1)).is_none()
            && i.is_empty())
        .await,
        "a removal through A leaves B's index"
    );
    let gone = fb.changes(cursor, Duration::ZERO).await;
    assert_eq!(gone.deleted, [CardId(1)], "B's feed tells of the removal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_whose_connection_drops_catches_up_on_reconnect() {
    let db = TestDb::new().await;
    let (a, b) = (store(&db).await, store(&db).await);
    for id in 1..=3 {
        a.create(card(id, &format!("u{id}")), "t")
            .await
            .expect("create");
    }
    // A second's wait before reconnecting: the changes below land while B is not listening.
    let fb = Follower::start(&b, options(Duration::from_secs(1)))
        .await
        .expect("follow");
    assert_eq!(fb.read(Index::len), 3);
    let mut link = fb.link();
    let pid = link.borrow().backend_pid.expect("listening");
    db.client()
        .await
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .expect("terminate");
    tokio::time::timeout(
        Duration::from_secs(5),
        link.wait_for(|l| l.backend_pid.is_none()),
    )
    .await
    .expect("the follower sees its connection end")
    .expect("link");

    a.create(card(4, "u4"), "t").await.expect("create");
    set_status(&a, &[2], Status::Approved).await;
    remove(&a, 3).await;
    let during = *link.borrow();
    assert_eq!(
        (during.backend_pid, during.connects),
        (None, 1),
        "the changes were made while B was not listening"
    );

    tokio::time::timeout(Duration::from_secs(10), link.wait_for(|l| l.connects == 2))
        .await
        .expect("the follower reconnects")
        .expect("link");
    assert!(
        within(&fb, Duration::from_secs(2), |i| {
            status(i, 4) == Some(Status::NeedsReview)
                && status(i, 2) == Some(Status::Approved)
                && status(i, 3).is_none()
                && i.len() == 3
        })
        .await,
        "B caught up with every change made while it was away"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_built_at_start_equals_the_one_kept_live() {
    let db = TestDb::new().await;
    let (a, b) = (store(&db).await, store(&db).await);
    let fa = follower(&a).await;
    for id in 1..=40 {
        let mut c = card(id, &format!("u{id}"));
        if id % 3 == 0 {
            // Unsure fields: the low-confidence queue.
            c.fields
                .push(field("surname", "ROSSI", 0.3, FieldSource::Mrz));
        }
        // Through both daemons.
        let through = if id % 2 == 0 { &a } else { &b };
        through.create(c, "t").await.expect("create");
    }
    set_status(&b, &[1, 2, 3, 4, 5], Status::Approved).await;
    set_status(&a, &[6, 7], Status::Rejected).await;
    remove(&b, 8).await;
    remove(&a, 9).await;
    let newest = a.audit_since(0, 1000).await.expect("audit").len() as u64;
    assert!(
        within(&fa, Duration::from_secs(2), |_| fa.position() == newest).await,
        "A's follower reached the newest change"
    );

    let fb = follower(&b).await;
    assert_eq!(fb.position(), newest);
    let query = ListQuery {
        limit: 1000,
        ..ListQuery::default()
    };
    let view = |f: &Follower| {
        f.read(|i| {
            let low = i.low_confidence(0, 1000);
            (
                i.len(),
                i.counts_by_status(),
                i.refs(&query, "t"),
                low.total,
                low.cards.iter().map(|c| c.summary.id).collect::<Vec<_>>(),
            )
        })
    };
    let (live, built) = (view(&fa), view(&fb));
    assert_eq!(live.0, 38);
    assert!(live.3 > 0, "some cards are in the low-confidence queue");
    assert_eq!(
        live, built,
        "the index built at start equals the one kept live"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_change_of_10000_cards_notifies_once() {
    let db = TestDb::new().await;
    let (a, b) = (store(&db).await, store(&db).await);
    let n = 10_000u64;
    insert_cards(&db, n).await;
    let fb = follower(&b).await;
    assert_eq!(fb.read(Index::len), n as usize);
    let heard = fb.link().borrow().heard;

    let ids: Vec<u64> = (1..=n).collect();
    let start = Instant::now();
    set_status(&a, &ids, Status::Approved).await;
    let written = start.elapsed();
    let all_approved = |i: &Index| i.counts_by_status().contains(&(Status::Approved, n));
    assert!(
        within(&fb, Duration::from_secs(10), all_approved).await,
        "B applies the bulk change"
    );
    println!(
        "bulk change of {n}: written in {written:?}, in B's index after {:?}",
        start.elapsed()
    );
    assert_eq!(
        fb.link().borrow().heard - heard,
        1,
        "one notification for the whole transaction"
    );
}

/// How long a follower takes to load 100,000 cards. Run by hand:
/// `cargo test -p idreview-daemon --lib pg::tests::follow::load -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn load_time_at_100k() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let n = 100_000;
    insert_cards(&db, n).await;
    for _ in 0..3 {
        let start = Instant::now();
        let f = follower(&pg).await;
        println!(
            "loaded {} cards in {:?}",
            f.read(Index::len),
            start.elapsed()
        );
    }
}

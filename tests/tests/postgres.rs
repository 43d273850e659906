//! Two real `idreviewd` processes on one PostgreSQL database and one S3 bucket (issue #21),
//! each with its own data dir (inbox, work area, socket): what one ingests the other lists, a
//! decision through one reaches a change-feed client of the other within a second, two
//! reviewers deciding one card at one version through the two daemons get one winner, and a
//! card deleted through one has its objects removed from the bucket by a cleanup worker.
//! (A daemon killed mid-ingest: `postgres_takeover.rs`; connections cut: `postgres_outage.rs`.)
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (or `IDREVIEW_TEST_PG_URL`): each test makes its own
//! database and drops it.

use std::time::{Duration, Instant};

use idreview_daemon::pg::testdb::TestDb;
use idreview_protocol::{
    Card, CardRef, CardSummary, DecideRequest, Decision, IdReviewClient, ItemResult, ListQuery,
    RpcError, Status,
};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::ledger::all_cards;
use idreview_tests::s3::S3Server;
use idreview_tests::{Daemon, decide_each, refs_at, wait_for};
use tarpc::context;

/// Two daemons on one database and one bucket; everything stops and is dropped with it.
struct Pair {
    a: Daemon,
    b: Daemon,
    _s3: S3Server,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start() -> Pair {
        let dir = tempfile::tempdir().expect("tempdir");
        let s3 = S3Server::start(&dir.path().join("s3")).await;
        let db = TestDb::new().await;
        let mut env = s3.daemon_env();
        env.extend([
            ("IDREVIEW__STORE__BACKEND", "postgres".to_string()),
            ("IDREVIEW__STORE__URL", db.url()),
            ("IDREVIEW__VERIFICATION__PROVIDER", "manual".into()),
        ]);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = Daemon::start_with(&dir.path().join("a"), &env).await;
        let b = Daemon::start_with(&dir.path().join("b"), &env).await;
        Pair {
            a,
            b,
            _s3: s3,
            _db: db,
            _dir: dir,
        }
    }
}

/// Drops a passport submission for `user` into `daemon`'s inbox; answers its front image.
fn submit(daemon: &Daemon, user: &str) -> Vec<u8> {
    let front = jpeg(800, 600);
    write_submission(
        &daemon.inbox(),
        user,
        Some(&manifest(user, "passport")),
        &[("front.jpg", front.clone())],
    );
    front
}

/// `user`'s card as `client`'s daemon lists it (from its index), once it waits for review.
async fn listed(client: &IdReviewClient, user: &str) -> Option<CardSummary> {
    let page = client
        .list_cards(context::current(), ListQuery::default())
        .await
        .ok()?
        .ok()?;
    page.cards
        .into_iter()
        .find(|c| c.user_id == user && c.status == Status::NeedsReview)
}

/// Waits until `client`'s daemon lists every one of `users`' cards in review.
async fn all_listed(client: &IdReviewClient, users: &[String]) -> Vec<Card> {
    wait_for(Duration::from_secs(90), "every card listed", || async {
        let cards = all_cards(client).await;
        let ready = cards
            .iter()
            .filter(|c| c.status == Status::NeedsReview && users.contains(&c.user_id))
            .count();
        (ready == users.len()).then_some(cards)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_ingested_by_one_daemon_is_listed_by_the_other() {
    let pair = Pair::start().await;
    let b = pair.b.client().await;
    let front = submit(&pair.a, "alice");
    // 90 s: debug builds decoding images on a busy two-core box.
    let summary = wait_for(Duration::from_secs(90), "alice's card listed by B", || {
        listed(&b, "alice")
    })
    .await;
    let card = b
        .get_card(context::current(), summary.id)
        .await
        .expect("rpc")
        .expect("B reads the card");
    assert_eq!(card.source, "alice", "the card of A's submission");
    let bytes = b
        .file_bytes(context::current(), card.id, "front.jpg".into())
        .await
        .expect("rpc")
        .expect("B serves the file from the shared bucket");
    assert_eq!(bytes, front);
    assert!(
        std::fs::read_dir(pair.b.data_dir.join("work"))
            .map(|mut d| d.next().is_none())
            .unwrap_or(true),
        "B's work area never held A's submission"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_through_one_daemon_reaches_the_others_change_feed_within_a_second() {
    let pair = Pair::start().await;
    let (a, b) = (pair.a.client().await, pair.b.client().await);
    // Ingested by A (its own writes are in its index at once), decided through B: only the
    // notification can bring the decision to A.
    submit(&pair.a, "bob");
    let summary = wait_for(Duration::from_secs(90), "bob's card listed by A", || {
        listed(&a, "bob")
    })
    .await;
    let cursor = a
        .changes(context::current(), 0, 0)
        .await
        .expect("rpc")
        .expect("feed")
        .cursor;
    let decision = DecideRequest {
        cards: vec![CardRef {
            id: summary.id,
            expected_version: Some(summary.version),
        }],
        decision: Decision::Reject,
        reason: "blurred photo".into(),
        override_doubts: false,
    };
    let decided = b.decide(context::current(), decision).await.expect("rpc");
    assert!(decided[0].result.is_ok(), "{decided:?}");
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut since = cursor;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = u32::try_from(left.as_millis()).unwrap_or(u32::MAX);
        let changes = a
            .changes(context::current(), since, wait)
            .await
            .expect("rpc")
            .expect("feed");
        since = changes.cursor;
        let seen = changes
            .cards
            .iter()
            .any(|c| c.id == summary.id && c.status == Status::Rejected);
        if seen {
            let left = deadline.saturating_duration_since(Instant::now());
            eprintln!(
                "B's decision in A's feed {} ms after B answered",
                (Duration::from_secs(1) - left).as_millis()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A's change feed did not show B's decision within 1 s"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_on_two_daemons_deciding_one_card_at_one_version_one_wins() {
    const CARDS: usize = 20;
    let pair = Pair::start().await;
    let (a, b) = (pair.a.client().await, pair.b.client().await);
    let users: Vec<String> = (0..CARDS).map(|i| format!("u-{i}")).collect();
    for (i, user) in users.iter().enumerate() {
        submit(if i % 2 == 0 { &pair.a } else { &pair.b }, user);
    }
    let cards = all_listed(&a, &users).await;
    all_listed(&b, &users).await;
    let refs = refs_at(&cards);
    // Opposite orders: the two meet in the middle, and every card is raced for.
    let reversed: Vec<CardRef> = refs.iter().rev().cloned().collect();
    let (approvals, rejections) = tokio::join!(
        tokio::spawn(decide_each(a.clone(), refs.clone(), Decision::Approve)),
        tokio::spawn(decide_each(b.clone(), reversed, Decision::Reject)),
    );
    let (approvals, rejections) = (approvals.expect("A"), rejections.expect("B"));
    for card in &cards {
        let result = |results: &[ItemResult]| {
            let r = results.iter().find(|r| r.id == card.id).expect("a result");
            match &r.result {
                Ok(_) => true,
                Err(RpcError::Conflict { .. }) => false,
                Err(other) => panic!("card {}: {other:?}", card.id),
            }
        };
        let (approved, rejected) = (result(&approvals), result(&rejections));
        assert!(
            approved != rejected,
            "card {}: exactly one winner, got approve {approved} / reject {rejected}",
            card.id
        );
        let want = if approved {
            Status::Approved
        } else {
            Status::Rejected
        };
        for client in [&a, &b] {
            let now = client
                .get_card(context::current(), card.id)
                .await
                .expect("rpc")
                .expect("card");
            assert_eq!((now.status, now.version), (want, card.version + 1));
        }
        let events = a
            .audit_events(context::current(), card.id)
            .await
            .expect("rpc")
            .expect("audit");
        let decisions = events
            .iter()
            .filter(|e| e.action == "card.approved" || e.action == "card.rejected")
            .count();
        assert_eq!(decisions, 1, "card {}: one decision audited", card.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_deleted_through_one_daemon_has_its_objects_removed_from_the_bucket() {
    let pair = Pair::start().await;
    let b = pair.b.client().await;
    submit(&pair.a, "dora");
    let summary = wait_for(Duration::from_secs(90), "dora's card listed by B", || {
        listed(&b, "dora")
    })
    .await;
    let card = b
        .get_card(context::current(), summary.id)
        .await
        .expect("rpc")
        .expect("card");
    let keys: Vec<String> = card.files.iter().map(|f| f.object_key.clone()).collect();
    assert!(
        keys.iter().all(|k| pair._s3.keys().contains(k)),
        "stored: {keys:?}"
    );
    let at = CardRef {
        id: card.id,
        expected_version: Some(card.version),
    };
    b.delete_card(context::current(), at, "asked by the user".into())
        .await
        .expect("rpc")
        .expect("deleted");
    // The cleanup queue is in the database; a daemon's worker takes it under a lease.
    wait_for(
        Duration::from_secs(20),
        "the card's objects to go",
        || async {
            let left = pair._s3.keys();
            keys.iter().all(|k| !left.contains(k)).then_some(())
        },
    )
    .await;
}

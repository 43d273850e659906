//! The shared verification queue: three takers at once take every due job exactly once; a
//! taker that died loses its jobs to another after the lease; a newer job replaces a leased one.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use idreview_protocol::{CardId, CardRef};
use tokio::sync::Barrier;

use super::{card, store};
use crate::card::{CardError, CardStore};
use crate::pg::PgStore;
use crate::pg::testdb::TestDb;
use crate::store::Change;
use crate::store::outbox::{Job, OutboxOp, Task};

/// Queues a re-verification of card `id`, due at `due`, with a change of the card.
async fn queue(pg: &PgStore, id: u64, due: chrono::DateTime<Utc>) {
    let at = CardRef {
        id: CardId(id),
        expected_version: None,
    };
    pg.change(&[at], "t", |c| {
        let mut change = Change::new("card.verification_failed");
        change
            .outbox
            .push(OutboxOp::Put(Job::new(c.id, Task::Reverify, due)));
        Ok::<_, CardError>(change)
    })
    .await
    .expect("queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn takers_at_once_take_each_due_job_exactly_once() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let jobs = 40u64;
    let past = Utc::now() - Duration::seconds(1);
    for id in 1..=jobs {
        pg.create(card(id, &format!("u{id}")), "t")
            .await
            .expect("create");
        queue(&pg, id, past).await;
    }
    let warm = (0..6).map(|_| pg.get(CardId(0)));
    futures::future::try_join_all(warm)
        .await
        .expect("warm the pool");
    let barrier = Arc::new(Barrier::new(3));
    let mut takers = Vec::new();
    for name in ["a", "b", "c"] {
        let (pg, barrier) = (pg.clone(), barrier.clone());
        takers.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut taken = Vec::new();
            loop {
                let now = Utc::now();
                let got = pg
                    .take_jobs(name, now, Duration::seconds(60), 2)
                    .await
                    .expect("take");
                if got.is_empty() {
                    return taken;
                }
                taken.extend(got.iter().map(|j| j.card));
            }
        }));
    }
    let mut all = Vec::new();
    for taker in takers {
        all.extend(taker.await.expect("taker"));
    }
    let once: BTreeSet<CardId> = all.iter().copied().collect();
    assert_eq!(all.len(), once.len(), "a job was taken twice: {all:?}");
    assert_eq!(once.len() as u64, jobs, "every job taken");
}

#[tokio::test]
async fn a_dead_takers_job_is_taken_after_its_lease_and_a_newer_job_wins() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    pg.create(card(1, "ann"), "t").await.expect("create");
    let t0 = Utc::now();
    queue(&pg, 1, t0).await;
    let lease = Duration::seconds(60);
    let taken = pg.take_jobs("a", t0, lease, 10).await.expect("take");
    assert_eq!(taken.len(), 1);
    // "a" dies. Within its lease nobody else gets the job; after it, "b" does.
    let early = t0 + Duration::seconds(10);
    assert!(
        pg.take_jobs("b", early, lease, 10)
            .await
            .expect("take")
            .is_empty()
    );
    let late = t0 + Duration::seconds(61);
    let again = pg.take_jobs("b", late, lease, 10).await.expect("take");
    assert_eq!(again, taken);
    assert!(
        !pg.finish_leased("a", &taken[0]).await.expect("finish"),
        "a's lease is over"
    );
    // A newer job (another failure) replaces the leased one: finishing the old removes nothing.
    queue(&pg, 1, late).await;
    assert!(!pg.finish_leased("b", &taken[0]).await.expect("finish"));
    let newer = pg.take_jobs("c", late, lease, 10).await.expect("take");
    assert_eq!(newer.len(), 1, "the newer job is free to take");
    assert!(pg.finish_leased("c", &newer[0]).await.expect("finish"));
    assert!(pg.jobs().await.expect("jobs").is_empty());
}

#[tokio::test]
async fn a_failed_job_is_put_back_by_its_taker_only() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    pg.create(card(1, "ann"), "t").await.expect("create");
    let t0 = Utc::now();
    queue(&pg, 1, t0).await;
    let lease = Duration::seconds(60);
    let taken = pg.take_jobs("a", t0, lease, 10).await.expect("take");
    let later = Job {
        attempts: 1,
        due: t0 + Duration::seconds(5),
        last_error: Some("provider down".into()),
        ..taken[0].clone()
    };
    assert!(
        !pg.reschedule_leased("b", &taken[0], &later)
            .await
            .expect("put back"),
        "not b's to put back"
    );
    assert!(
        pg.reschedule_leased("a", &taken[0], &later)
            .await
            .expect("put back")
    );
    assert_eq!(pg.jobs().await.expect("jobs"), vec![later.clone()]);
    // Put back, it is free again at its new due time, not before: "b" takes it then.
    assert!(
        pg.take_jobs("b", t0, lease, 10)
            .await
            .expect("take")
            .is_empty()
    );
    let again = pg.take_jobs("b", later.due, lease, 10).await.expect("take");
    assert_eq!(again, vec![later]);
}

#[tokio::test]
async fn a_dead_takers_cleanup_is_taken_after_its_lease_and_finished_once() {
    let db = TestDb::new().await;
    let (a, b) = (store(&db).await, store(&db).await);
    for id in 1..=2 {
        a.create(card(id, &format!("u{id}")), "t")
            .await
            .expect("create");
        let at = CardRef {
            id: CardId(id),
            expected_version: None,
        };
        let trail = crate::store::retention::Trail::Keep;
        a.remove(
            at,
            "t",
            |_| Ok::<_, CardError>(Change::new("card.deleted")),
            trail,
        )
        .await
        .expect("remove");
    }
    let (now, lease) = (Utc::now(), Duration::seconds(60));
    let taken = a.take_cleanup("a", now, lease, 10).await.expect("take");
    let keys: Vec<&str> = taken.iter().map(|(_, j)| j.key.as_str()).collect();
    assert_eq!(keys, ["users/u1/1/front.jpg", "users/u2/2/front.jpg"]);
    assert!(
        b.take_cleanup("b", now, lease, 10)
            .await
            .expect("take")
            .is_empty(),
        "leased jobs are not taken twice"
    );
    assert!(a.finish_cleanup("a", taken[0].0).await.expect("finish"));

    // A died holding the second job: B takes it once the lease ends, and A's late finish
    // removes nothing.
    let later = now + lease + Duration::seconds(1);
    let retaken = b.take_cleanup("b", later, lease, 10).await.expect("take");
    assert_eq!(retaken, taken[1..]);
    assert!(!a.finish_cleanup("a", taken[1].0).await.expect("finish"));
    assert!(b.finish_cleanup("b", taken[1].0).await.expect("finish"));
    assert_eq!(a.cleanup_len().await.expect("len"), 0);
}

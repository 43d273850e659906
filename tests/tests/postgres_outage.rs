//! The database cutting every daemon's connections under load (issue #21): two real
//! `idreviewd` on one PostgreSQL database and one S3 bucket ingest while every connection
//! to the database is terminated again and again (`pg_terminate_backend`, what a restarting
//! server does to its clients). The daemons stay up, reconnect, and lose nothing: every
//! submission ends as exactly one card or one rejection, each card created once, both
//! daemons list the same cards, and the log says what happened.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (or `IDREVIEW_TEST_PG_URL`).

use std::time::{Duration, Instant};

use idreview_daemon::pg::testdb::TestDb;
use idreview_protocol::{Card, CardId};
use idreview_tests::fixtures::{jpeg, write_passport};
use idreview_tests::ledger::{Ledger, all_cards, entries, rejected_folders};
use idreview_tests::s3::S3Server;
use idreview_tests::{Daemon, wait_for};
use tarpc::context;

/// Submissions per daemon.
const EACH: usize = 30;
/// How long the connections are cut, every [`CUT_EVERY`].
const CUTTING: Duration = Duration::from_secs(4);
const CUT_EVERY: Duration = Duration::from_millis(300);

/// Every seventh submission has a text file as its front and must be rejected (`file_type`).
fn valid(i: usize) -> bool {
    i % 7 != 3
}

fn names(daemon: &str, i: usize) -> (String, String) {
    (
        format!("{daemon}-sub-{i:02}"),
        format!("{daemon}-user-{i:02}"),
    )
}

/// Each card's id and version, in id order.
fn versions(cards: &[Card]) -> Vec<(CardId, u64)> {
    let mut v: Vec<(CardId, u64)> = cards.iter().map(|c| (c.id, c.version)).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_under_load_lose_nothing() {
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
    let mut a = Daemon::start_with(&dir.path().join("a"), &env).await;
    let mut b = Daemon::start_with(&dir.path().join("b"), &env).await;

    let front = jpeg(800, 600);
    for (daemon, tag) in [(&a, "a"), (&b, "b")] {
        for i in 0..EACH {
            let (name, user) = names(tag, i);
            let photo = valid(i).then_some(front.as_slice());
            write_passport(&daemon.inbox(), &name, &user, photo);
        }
    }
    // Cut every connection of the daemons, again and again, while they ingest.
    let admin = db.client().await;
    let (mut cuts, mut cut) = (0, 0i64);
    let until = Instant::now() + CUTTING;
    while Instant::now() < until {
        let row = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .expect("terminate");
        cut += row.get::<_, i64>(0);
        cuts += 1;
        tokio::time::sleep(CUT_EVERY).await;
    }
    let a_client = a.client().await;
    let ended = |c: &Ledger| c.in_flight() == 0 && c.cards.len() + c.rejected.len() >= 2 * EACH;
    let ledger = wait_for(Duration::from_secs(120), "every submission to end", || {
        let (a_client, root) = (a_client.clone(), dir.path().to_path_buf());
        async move {
            for d in ["a", "b"] {
                let busy = entries(&root.join(d).join("inbox")).len()
                    + entries(&root.join(d).join("work")).len();
                if busy > 0 {
                    return None;
                }
            }
            let mut ledger = Ledger::read(&a_client, &root.join("a").join("rejected")).await;
            ledger
                .rejected
                .extend(rejected_folders(&root.join("b").join("rejected")));
            ended(&ledger).then_some(ledger)
        }
    })
    .await;
    eprintln!(
        "{cut} connections cut in {cuts} rounds; {} cards, {} rejections",
        ledger.cards.len(),
        ledger.rejected.len()
    );
    assert!(cut > 0, "connections were cut");

    let mut problems = Vec::new();
    for tag in ["a", "b"] {
        for i in 0..EACH {
            let (name, user) = names(tag, i);
            problems.extend(ledger.problems_for(&name, &user, valid(i)));
        }
    }
    problems.extend(ledger.unexplained_rejections());
    for c in &ledger.cards {
        let created = a_client
            .audit_events(context::current(), c.id)
            .await
            .expect("rpc")
            .expect("audit")
            .iter()
            .filter(|e| e.action == "card.created")
            .count();
        if created != 1 {
            problems.push(format!("card {} created {created} times", c.id));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Both daemons' indexes caught up: B lists every card at the version A lists it.
    let want = versions(&ledger.cards);
    let b_client = b.client().await;
    wait_for(Duration::from_secs(10), "B to list what A lists", || {
        let (b_client, want) = (b_client.clone(), want.clone());
        async move { (versions(&all_cards(&b_client).await) == want).then_some(()) }
    })
    .await;
    // Still up, and the log says what happened: the database's own words, no panic.
    for d in [&mut a, &mut b] {
        assert_eq!(d.wait_exit(Duration::ZERO), None, "the daemon stayed up");
        let log = d.log();
        assert!(!log.contains("panicked"), "{log}");
        let ours = |l: &&str| l.contains("idreview_daemon");
        let deferred = log
            .lines()
            .filter(ours)
            .filter(|l| l.contains("submission kept in the work area to be tried again"))
            .count();
        eprintln!(
            "{}: {deferred} submissions deferred and retried",
            d.data_dir.display()
        );
        assert!(
            log.lines()
                .filter(ours)
                .any(|l| l.contains("terminating connection due to administrator command")),
            "the log gives the server's reason:\n{log}"
        );
    }
}

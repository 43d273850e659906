//! Crash safety: 300 submissions are ingested while the real daemon is killed with SIGKILL at
//! random moments (six times, restarted on the same data dir each time). Afterwards every
//! submission is exactly one card or exactly one folder in `rejected/`, no card is doubled, no
//! audit history is doubled, and the object store holds exactly the cards' files, intact.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use idreview_protocol::Status;
use idreview_tests::Daemon;
use idreview_tests::fixtures::{jpeg, write_passport};
use idreview_tests::ledger::{Ledger, entries, files_below};
use tarpc::context;

const TOTAL: usize = 300;
const KILLS: usize = 6;

/// Every seventh submission has a text file as its front and must be rejected (`file_type`).
fn valid(i: usize) -> bool {
    i % 7 != 3
}

fn names(i: usize) -> (String, String) {
    (format!("sub-{i:03}"), format!("user-{i:03}"))
}

const ENV: &[(&str, &str)] = &[
    ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
    ("IDREVIEW__RPC__CALLS_PER_SEC", "100000"),
    ("IDREVIEW__RPC__CALLS_BURST", "100000"),
];

/// A small xorshift generator: the kill moments are random, and the seed is printed so that a
/// failing run can be repeated (`CRASH_SEED=...`).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_doubles_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let front = jpeg(800, 600);

    let batch = TOTAL / KILLS;
    let mut daemon = Daemon::start_with(dir.path(), ENV).await;
    for round in 0..KILLS {
        for i in round * batch..(round + 1) * batch {
            let (name, user) = names(i);
            let photo = valid(i).then_some(front.as_slice());
            write_passport(&daemon.inbox(), &name, &user, photo);
        }
        let wait = 30 + rng.next(400);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let busy = entries(&dir.path().join("work")).len();
        eprintln!(
            "kill {} after {wait} ms, {busy} submissions in work/",
            round + 1
        );
        drop(daemon); // SIGKILL, then reaped
        daemon = Daemon::start_with(dir.path(), ENV).await;
    }

    let client = daemon.client().await;
    let ledger = Ledger::when_settled(&client, dir.path(), TOTAL, Duration::from_secs(90)).await;

    let mut problems = Vec::new();
    for i in 0..TOTAL {
        let (name, user) = names(i);
        problems.extend(ledger.problems_for(&name, &user, valid(i)));
    }
    for name in ledger.unexplained_rejections() {
        problems.push(format!("rejected/{name} has no reason.json"));
    }
    for (name, reason) in &ledger.rejected {
        if let Some((_, rule)) = reason
            && rule != "file_type"
        {
            problems.push(format!("rejected/{name} for {rule}, not file_type"));
        }
    }
    for card in &ledger.cards {
        if card.status != Status::NeedsReview {
            problems.push(format!("card {} is {}", card.id, card.status));
        }
        let created = client
            .audit_events(context::current(), card.id)
            .await
            .expect("rpc")
            .expect("audit")
            .iter()
            .filter(|e| e.action == "card.created")
            .count();
        if created != 1 {
            problems.push(format!("card {} was created {created} times", card.id));
        }
    }
    problems.extend(ledger.object_problems(&files_below(&dir.path().join("objects"))));
    assert!(
        problems.is_empty(),
        "CRASH_SEED={seed}: {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    let cards = ledger.cards.len();
    assert_eq!(cards, (0..TOTAL).filter(|i| valid(*i)).count());
    assert!(daemon.stop(), "clean shutdown after the crashes");
}

//! A daemon killed in the middle of ingesting, beside another on the same PostgreSQL database
//! and S3 bucket (issue #21): the survivor finishes, after their lease, the jobs of the dead
//! one whose files are in the bucket (cards stored, not yet verified), without reading the
//! dead one's folders; the dead one, restarted, finishes the rest from its work area; every
//! submission ends as exactly one card or one rejection.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (or `IDREVIEW_TEST_PG_URL`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use idreview_daemon::pg::testdb::TestDb;
use idreview_protocol::{Card, CardId, IdReviewClient, Status};
use idreview_tests::fixtures::{jpeg, write_passport};
use idreview_tests::ledger::{Ledger, all_cards, entries};
use idreview_tests::s3::S3Server;
use idreview_tests::{Daemon, wait_for};
use tarpc::context;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOTAL: usize = 100;
/// `[store] lease_secs` of both daemons: how long B leaves A's stored cards to A.
const LEASE_SECS: u64 = 3;
/// How long the verifier takes to answer: cards spend it in `verifying`, files in the bucket.
const VERIFIER_DELAY: Duration = Duration::from_millis(500);

/// Every tenth submission has a text file as its front and must be rejected (`file_type`).
fn valid(i: usize) -> bool {
    i % 10 != 4
}

fn names(i: usize) -> (String, String) {
    (format!("sub-{i:03}"), format!("user-{i:03}"))
}

/// The verifier: the ID Analyzer look-alike, answering every scan after [`VERIFIER_DELAY`].
async fn verifier() -> MockServer {
    let server = MockServer::start().await;
    let file = format!(
        "{}/../daemon/tests/fixtures/idanalyzer/accept.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let answer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("fixture")).expect("JSON");
    Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(answer)
                .set_delay(VERIFIER_DELAY),
        )
        .mount(&server)
        .await;
    server
}

/// Every file and folder below `root` with its size and modification time.
fn tree(root: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(list) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in list.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let rel = path.strip_prefix(root).expect("below").to_string_lossy();
            let mtime = meta.modified().expect("mtime");
            out.insert(rel.into_owned(), (meta.len(), mtime));
            if meta.is_dir() {
                dirs.push(path);
            }
        }
    }
    out
}

/// Out of the pipeline: waiting for a person, or verified without one.
const ENDED: &[Status] = &[Status::NeedsReview, Status::AutoVerified];
/// The first verification's answer, a good one or a failure (then retried later).
const FIRST_ANSWER: &[&str] = &["card.verified_by_provider", "card.verification_failed"];

fn with_status(cards: &[Card], status: &[Status]) -> Vec<CardId> {
    cards
        .iter()
        .filter(|c| status.contains(&c.status))
        .map(|c| c.id)
        .collect()
}

async fn card(client: &IdReviewClient, id: CardId) -> Card {
    client
        .get_card(context::current(), id)
        .await
        .expect("rpc")
        .expect("card")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_mid_ingest_is_finished_by_the_other_and_by_its_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(&dir.path().join("s3")).await;
    let db = TestDb::new().await;
    let verifier = verifier().await;
    let mut env = s3.daemon_env();
    env.extend([
        ("IDREVIEW__STORE__BACKEND", "postgres".to_string()),
        ("IDREVIEW__STORE__URL", db.url()),
        ("IDREVIEW__STORE__LEASE_SECS", LEASE_SECS.to_string()),
        ("IDREVIEW__VERIFICATION__PROVIDER", "idanalyzer".into()),
        (
            "IDREVIEW__VERIFICATION__IDANALYZER__BASE_URL",
            verifier.uri(),
        ),
        ("IDREVIEW__VERIFICATION__IDANALYZER__API_KEY", "k".into()),
        (
            "IDREVIEW__VERIFICATION__IDANALYZER__TIMEOUT_SECS",
            "2".into(),
        ),
        ("IDREVIEW__VERIFICATION__IDANALYZER__ATTEMPTS", "1".into()),
        ("IDREVIEW__INBOX__WORKERS", "8".into()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    // B is told nothing of A's folders: its settings name no path of A's.
    let a_path = a_dir.to_string_lossy().into_owned();
    assert!(!b_dir.starts_with(&a_dir));
    assert!(env.iter().all(|(_, v)| !v.contains(&a_path)), "{env:?}");
    let a = Daemon::start_with(&a_dir, &env).await;
    let b = Daemon::start_with(&b_dir, &env).await;
    let b_client = b.client().await;

    let front = jpeg(800, 600);
    for i in 0..TOTAL {
        let (name, user) = names(i);
        let photo = valid(i).then_some(front.as_slice());
        write_passport(&a.inbox(), &name, &user, photo);
    }
    // Kill A while some cards are done and some wait for the verifier, files stored.
    wait_for(
        Duration::from_secs(90),
        "A in the middle of ingesting",
        || {
            let b_client = b_client.clone();
            async move {
                let cards = all_cards(&b_client).await;
                let done = with_status(&cards, ENDED).len();
                let verifying = with_status(&cards, &[Status::Verifying]).len();
                (done >= 10 && verifying >= 3).then_some(())
            }
        },
    )
    .await;
    drop(a); // SIGKILL, then reaped
    // B's index settles on A's last commits.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_kill = all_cards(&b_client).await;
    let stored = with_status(&at_kill, &[Status::Verifying]);
    let unstored = with_status(&at_kill, &[Status::Received, Status::Uploading]);
    let busy = entries(&a_dir.join("work")).len();
    eprintln!(
        "A killed with {} cards, {} verifying, {} not yet stored, {busy} submissions in its work area",
        at_kill.len(),
        stored.len(),
        unstored.len(),
    );
    assert!(!stored.is_empty(), "A was killed with cards being verified");
    let a_before = tree(&a_dir);

    // B takes over the stored cards once their lease is over, from the bucket.
    let takeover = wait_for(
        Duration::from_secs(LEASE_SECS + 60),
        "B to finish A's stored cards",
        || {
            let (b_client, stored) = (b_client.clone(), stored.clone());
            async move {
                let mut done = Vec::new();
                for id in stored {
                    let c = card(&b_client, id).await;
                    if c.status == Status::Verifying {
                        return None;
                    }
                    done.push(c);
                }
                Some(done)
            }
        },
    )
    .await;
    for c in &takeover {
        assert!(ENDED.contains(&c.status), "card {} is {}", c.id, c.status);
        let events = b_client
            .audit_events(context::current(), c.id)
            .await
            .expect("rpc")
            .expect("audit");
        let answers: Vec<_> = events
            .iter()
            .filter(|e| FIRST_ANSWER.contains(&e.action.as_str()))
            .collect();
        let by_b: Vec<_> = answers.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(by_b, ["idreviewd:verifier"], "card {}: {events:?}", c.id);
        // Not before the lease A had on it ran out.
        let stored_at = events
            .iter()
            .find(|e| e.action == "card.stored")
            .expect("stored")
            .at;
        let waited = answers[0].at - stored_at;
        assert!(
            waited >= chrono::Duration::seconds(LEASE_SECS as i64),
            "card {}: taken over {waited} after it was stored, within A's lease",
            c.id
        );
    }
    // What was not in the bucket yet is A's: B left it, and never touched A's folders.
    for id in &unstored {
        let c = card(&b_client, *id).await;
        assert!(
            matches!(c.status, Status::Received | Status::Uploading),
            "card {} left to A, now {}",
            c.id,
            c.status
        );
    }
    assert_eq!(
        tree(&a_dir),
        a_before,
        "B changed something under A's data dir"
    );
    assert!(entries(&b_dir.join("work")).is_empty(), "B's work area");

    // A restarted finishes the rest.
    let a = Daemon::start_with(&a_dir, &env).await;
    let a_client = a.client().await;
    let ledger = Ledger::when_settled(&a_client, &a_dir, TOTAL, Duration::from_secs(120)).await;

    let mut problems = Vec::new();
    for i in 0..TOTAL {
        let (name, user) = names(i);
        problems.extend(ledger.problems_for(&name, &user, valid(i)));
    }
    problems.extend(ledger.unexplained_rejections());
    for c in &ledger.cards {
        if !ENDED.contains(&c.status) {
            problems.push(format!("card {} is {}", c.id, c.status));
        }
        let events = a_client
            .audit_events(context::current(), c.id)
            .await
            .expect("rpc")
            .expect("audit");
        let count = |actions: &[&str]| {
            let n = events
                .iter()
                .filter(|e| actions.contains(&e.action.as_str()));
            n.count()
        };
        for actions in [&["card.created"][..], &["card.stored"], FIRST_ANSWER] {
            let n = count(actions);
            if n != 1 {
                problems.push(format!("card {}: {actions:?} {n} times", c.id));
            }
        }
    }
    let objects: BTreeMap<String, Vec<u8>> = s3
        .keys()
        .into_iter()
        .map(|k| {
            let bytes = std::fs::read(s3.object_path(&k)).expect("object");
            (k, bytes)
        })
        .collect();
    problems.extend(ledger.object_problems(&objects));
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        entries(&b_dir.join("rejected")).is_empty(),
        "B rejected nothing of A's"
    );
    eprintln!(
        "B took over {} stored cards; A's restart finished {} not yet stored; {} cards, {} rejections",
        takeover.len(),
        unstored.len(),
        ledger.cards.len(),
        ledger.rejected.len()
    );
}

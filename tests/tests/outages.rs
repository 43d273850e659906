//! Outages: the object store (a real in-process S3 server) is down while submissions arrive,
//! and then the verifier (a real local HTTP server speaking the ID Analyzer API) first times
//! out, then fails with 503, then recovers. Throughout, the daemon answers `health` and
//! `list_cards`; afterwards every card is complete and verified, nothing is lost or doubled,
//! and the bucket holds exactly the cards' files.

use std::time::{Duration, Instant};

use idreview_protocol::transport::context_with_timeout;
use idreview_protocol::{IdReviewClient, ListQuery, Status};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::ledger::{Ledger, all_cards, files_below};
use idreview_tests::s3::{BUCKET, S3Server};
use idreview_tests::{Daemon, wait_for};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUBMISSIONS: usize = 8;

fn fixture(name: &str) -> serde_json::Value {
    let file = format!(
        "{}/../daemon/tests/fixtures/idanalyzer/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(file).expect("fixture")).expect("JSON")
}

fn scan(answer: ResponseTemplate) -> Mock {
    Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(answer)
}

/// The verifier's answer with another document number each time, as for different people.
struct EachItsOwnNumber {
    answer: serde_json::Value,
    next: std::sync::atomic::AtomicUsize,
}

impl EachItsOwnNumber {
    fn new(answer: serde_json::Value) -> EachItsOwnNumber {
        let next = std::sync::atomic::AtomicUsize::new(0);
        EachItsOwnNumber { answer, next }
    }
}

impl wiremock::Respond for EachItsOwnNumber {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut answer = self.answer.clone();
        for read in answer["data"]["documentNumber"]
            .as_array_mut()
            .expect("the fixture reads a document number")
        {
            read["value"] = serde_json::json!(format!("C01X{n:05}"));
        }
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

/// Calls `health` and `list_cards` for `period`, each with a 5 s deadline; panics on the
/// first that fails or is late.
async fn stays_responsive(client: &IdReviewClient, period: Duration, what: &str) {
    let end = Instant::now() + period;
    let mut calls = 0;
    while Instant::now() < end {
        let health = client
            .health(context_with_timeout(Duration::from_secs(5)))
            .await;
        assert!(health.is_ok(), "health during {what}: {health:?}");
        let query = ListQuery::default();
        let page = client
            .list_cards(context_with_timeout(Duration::from_secs(5)), query)
            .await;
        assert!(
            matches!(page, Ok(Ok(_))),
            "list_cards during {what}: {page:?}"
        );
        calls += 2;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("{calls} calls answered during {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_verifier_outages_lose_nothing_and_rpc_stays_up() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut s3 = S3Server::start(&root.path().join("s3")).await;
    let port = s3.addr.port();
    let verifier = MockServer::start().await;
    let slow = scan(ResponseTemplate::new(200).set_delay(Duration::from_secs(4)))
        .mount_as_scoped(&verifier)
        .await;
    let uri = verifier.uri();
    let mut env: Vec<(&str, String)> = s3.daemon_env();
    env.extend([
        ("IDREVIEW__VERIFICATION__PROVIDER", "idanalyzer".into()),
        ("IDREVIEW__VERIFICATION__IDANALYZER__BASE_URL", uri),
        ("IDREVIEW__VERIFICATION__IDANALYZER__API_KEY", "k".into()),
        (
            "IDREVIEW__VERIFICATION__IDANALYZER__TIMEOUT_SECS",
            "1".into(),
        ),
        ("IDREVIEW__VERIFICATION__IDANALYZER__ATTEMPTS", "1".into()),
        ("IDREVIEW__VERIFICATION__RETRY_INITIAL_SECS", "1".into()),
        ("IDREVIEW__VERIFICATION__RETRY_MAX_SECS", "1".into()),
        ("IDREVIEW__STORAGE__MAX_ATTEMPTS", "1".into()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let data = root.path().join("data");
    let daemon = Daemon::start_with(&data, &env).await;
    let client = daemon.client().await;

    // S3 goes down; submissions arrive anyway.
    s3.stop().await;
    // Each user's own document (the same file or number on two users' cards is a reused
    // document, which is never auto-verified).
    for i in 0..SUBMISSIONS {
        write_submission(
            &daemon.inbox(),
            &format!("out-{i}"),
            Some(&manifest(&format!("out-{i}"), "passport")),
            &[("front.jpg", jpeg(800 + i as u32, 600))],
        );
    }
    stays_responsive(&client, Duration::from_secs(4), "the S3 outage").await;
    let stuck = all_cards(&client).await;
    assert!(
        stuck.iter().all(|c| c.status == Status::Uploading),
        "nothing passes upload while S3 is down: {:?}",
        stuck.iter().map(|c| c.status).collect::<Vec<_>>()
    );

    // S3 comes back; the verifier times out, then fails outright.
    s3 = S3Server::start_on(&root.path().join("s3"), port).await;
    let in_review = wait_for(Duration::from_secs(60), "cards routed to review", || {
        let client = client.clone();
        async move {
            let cards = all_cards(&client).await;
            let done = cards.iter().filter(|c| c.status == Status::NeedsReview);
            (done.count() == SUBMISSIONS).then_some(cards)
        }
    })
    .await;
    assert!(
        in_review
            .iter()
            .all(|c| c.provider.as_ref().is_some_and(|p| p.failure.is_some())),
        "each card says why the provider failed"
    );
    drop(slow);
    let failing = scan(ResponseTemplate::new(503))
        .mount_as_scoped(&verifier)
        .await;
    stays_responsive(&client, Duration::from_secs(3), "the verifier outage").await;

    // The verifier recovers: the retry queue re-verifies every card.
    drop(failing);
    Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(EachItsOwnNumber::new(fixture("accept")))
        .mount(&verifier)
        .await;
    let ledger = wait_for(Duration::from_secs(60), "every card re-verified", || {
        let client = client.clone();
        let rejected = daemon.rejected();
        async move {
            let ledger = Ledger::read(&client, &rejected).await;
            let verified = ledger
                .cards
                .iter()
                .filter(|c| c.status == Status::AutoVerified);
            (verified.count() == SUBMISSIONS).then_some(ledger)
        }
    })
    .await;
    let mut problems = Vec::new();
    for i in 0..SUBMISSIONS {
        let name = format!("out-{i}");
        problems.extend(ledger.problems_for(&name, &name, true));
    }
    problems.extend(ledger.object_problems(&files_below(&s3.root.join(BUCKET))));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

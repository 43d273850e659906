//! End to end with the `idanalyzer` provider: submissions dropped into the real daemon's inbox
//! are stored, sent to an HTTP server answering like the ID Analyzer API v2 (env overrides point
//! the daemon at it), and come back over RPC as cards with fields and confidences; the
//! low-confidence queue, corrections, the user's confirmation, onboarding stages and decision
//! pushes follow; a provider that is down and comes back gets the card re-verified.

use std::time::Duration;

use idreview_protocol::{
    CardRef, DecideRequest, Decision, FieldCorrection, FieldSource, IdReviewClient,
    OnboardingStage, Status,
};
use idreview_tests::fixtures::{jpeg, manifest, png, write_submission};
use idreview_tests::{Daemon, any_version, card_of, wait_for};
use tarpc::context;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fixture answer shared with the daemon's provider tests.
fn fixture(name: &str) -> serde_json::Value {
    let file = format!(
        "{}/../daemon/tests/fixtures/idanalyzer/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(file).expect("fixture")).expect("JSON")
}

fn scan_answer(name: &str) -> Mock {
    Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(name)))
}

async fn start(dir: &std::path::Path, server: &MockServer) -> Daemon {
    let uri = server.uri();
    Daemon::start_with(
        dir,
        &[
            ("IDREVIEW__VERIFICATION__PROVIDER", "idanalyzer"),
            ("IDREVIEW__VERIFICATION__IDANALYZER__BASE_URL", uri.as_str()),
            ("IDREVIEW__VERIFICATION__IDANALYZER__API_KEY", "e2e-key"),
            ("IDREVIEW__VERIFICATION__IDANALYZER__TIMEOUT_SECS", "5"),
            ("IDREVIEW__VERIFICATION__IDANALYZER__ATTEMPTS", "1"),
            ("IDREVIEW__VERIFICATION__IDANALYZER__PUSH_DECISIONS", "true"),
            ("IDREVIEW__VERIFICATION__RETRY_INITIAL_SECS", "1"),
            ("IDREVIEW__VERIFICATION__RETRY_MAX_SECS", "1"),
        ],
    )
    .await
}

fn submit(daemon: &Daemon, user: &str) {
    write_submission(
        &daemon.inbox(),
        &format!("{user}-upload"),
        Some(&manifest(user, "national_id")),
        &[("front.jpg", jpeg(1200, 800)), ("back.png", png(1000, 700))],
    );
}

async fn stage(client: &IdReviewClient, user: &str) -> OnboardingStage {
    client
        .onboarding_stage(context::current(), user.into())
        .await
        .expect("rpc")
        .expect("stage")
}

#[tokio::test]
async fn provider_fields_reach_reviewers_and_users_over_rpc() {
    let server = MockServer::start().await;
    let accept = scan_answer("accept").mount_as_scoped(&server).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = start(dir.path(), &server).await;
    let client = daemon.client().await;

    submit(&daemon, "erika");
    let card = wait_for(Duration::from_secs(20), "erika's card", || {
        card_of(&client, "erika")
    })
    .await;
    assert_eq!(card.status, Status::AutoVerified, "{}", daemon.log());
    assert_eq!(card.confidence(), Some(0.88));
    let number = card.field("document_number").expect("document number");
    assert_eq!(
        (number.value.as_str(), number.confidence),
        ("C01X00T47", 0.99)
    );
    assert_eq!(number.candidates.len(), 2);
    assert_eq!(
        card.field("birth_date").map(|f| f.value.as_str()),
        Some("1990-05-17")
    );
    assert_eq!(
        stage(&client, "erika").await,
        OnboardingStage::DataExtracted
    );

    // The user confirms, correcting the address; the stage follows, the change is audited.
    let fix = vec![FieldCorrection {
        name: "address1".into(),
        value: "Heidestrasse 17, Koeln".into(),
    }];
    let confirmed = client
        .confirm_card(context::current(), any_version(card.id), fix)
        .await
        .expect("rpc")
        .expect("confirmed");
    assert!(confirmed.confirmed);
    let address = confirmed.field("address1").expect("address");
    assert_eq!(
        (address.source, address.confidence),
        (FieldSource::User, 1.0)
    );
    assert_eq!(
        stage(&client, "erika").await,
        OnboardingStage::DataConfirmed
    );

    // A second user's card comes back unsure: it waits in the low-confidence queue.
    drop(accept);
    scan_answer("low_confidence").mount(&server).await;
    submit(&daemon, "lena");
    let low = wait_for(Duration::from_secs(20), "lena's card", || {
        card_of(&client, "lena")
    })
    .await;
    assert_eq!(low.status, Status::NeedsReview);
    let queue = client
        .low_confidence_cards(context::current(), 0, 50)
        .await
        .expect("rpc")
        .expect("queue");
    assert_eq!(queue.total, 1);
    assert_eq!(queue.cards[0].summary.id, low.id);
    assert_eq!(queue.cards[0].fields, vec!["birth_date", "first_name"]);

    // A reviewer fixes the birth date: audited with before and after, the queue shrinks.
    let fix = vec![FieldCorrection {
        name: "birth_date".into(),
        value: "1990-05-18".into(),
    }];
    client
        .correct_fields(context::current(), any_version(low.id), fix)
        .await
        .expect("rpc")
        .expect("corrected");
    let audit = client
        .audit_events(context::current(), low.id)
        .await
        .expect("rpc")
        .expect("audit");
    let event = audit
        .iter()
        .find(|e| e.action == "field.corrected")
        .expect("correction audited");
    assert_eq!(
        event.before.as_deref(),
        Some(r#"{"birth_date":"1990-05-17"}"#)
    );
    assert_eq!(
        event.after.as_deref(),
        Some(r#"{"birth_date":"1990-05-18"}"#)
    );
    let queue = client
        .low_confidence_cards(context::current(), 0, 50)
        .await
        .expect("rpc")
        .expect("queue");
    assert_eq!(queue.cards[0].fields, vec!["first_name"]);

    // Approving erika pushes the decision back to the provider's transaction.
    Mock::given(method("PATCH"))
        .and(path("/transaction/tx-accept-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("transaction_updated")))
        .mount(&server)
        .await;
    let request = DecideRequest {
        cards: vec![CardRef {
            id: card.id,
            expected_version: Some(confirmed.version),
        }],
        decision: Decision::Approve,
        reason: "documents match".into(),
        override_doubts: false,
    };
    let results = client
        .decide(context::current(), request)
        .await
        .expect("rpc");
    assert!(results[0].result.is_ok(), "{results:?}");
    assert_eq!(stage(&client, "erika").await, OnboardingStage::Approved);
    let pushed = wait_for(Duration::from_secs(10), "the decision push", || async {
        let requests = server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .find(|r| r.method.as_str() == "PATCH")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
    })
    .await;
    assert_eq!(pushed, r#"{"decision":"accept"}"#);
}

#[tokio::test]
async fn provider_down_then_up_reverifies_the_card() {
    let server = MockServer::start().await;
    let down = Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .mount_as_scoped(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = start(dir.path(), &server).await;
    let client = daemon.client().await;

    submit(&daemon, "max");
    let card = wait_for(Duration::from_secs(20), "max's card", || {
        card_of(&client, "max")
    })
    .await;
    assert_eq!(card.status, Status::NeedsReview);
    let failure = card.provider.as_ref().and_then(|p| p.failure.clone());
    assert!(
        failure.is_some_and(|f| f.contains("502")),
        "reason shown to reviewers"
    );
    assert!(card.fields.is_empty());
    assert_eq!(stage(&client, "max").await, OnboardingStage::UnderReview);

    drop(down);
    scan_answer("accept").mount(&server).await;
    let card = wait_for(Duration::from_secs(20), "re-verification", || async {
        card_of(&client, "max")
            .await
            .filter(|c| !c.fields.is_empty())
    })
    .await;
    assert_eq!(card.status, Status::AutoVerified, "{}", daemon.log());
    assert_eq!(card.provider.as_ref().and_then(|p| p.failure.clone()), None);
    assert_eq!(
        card.field("last_name").map(|f| f.value.as_str()),
        Some("MUSTERMANN")
    );
}

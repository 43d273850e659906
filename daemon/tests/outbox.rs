//! The outbox worker against the ID Analyzer look-alike: a card whose verification failed is
//! verified again once the provider is back (through the state machine, keeping corrections),
//! a failing retry waits longer, and reviewer decisions are pushed back with
//! `PATCH /transaction/{id}` until the provider takes them.

mod common;

use chrono::Utc;
use common::{env, fixture};
use idreview_daemon::card::CardError;
use idreview_daemon::store::Change;
use idreview_daemon::store::outbox::{Job, OutboxOp, Task};
use idreview_protocol::{CardRef, FieldSource, Status};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn provider_down_then_up_reverifies_the_card() {
    let env = env(|_| {}).await;
    let card = env.card("erika").await;
    let down = Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(ResponseTemplate::new(503).set_body_string("unavailable"))
        .mount_as_scoped(&env.server)
        .await;
    let card = env.verify(&card).await;
    assert_eq!(card.status, Status::NeedsReview);
    assert!(
        card.provider
            .as_ref()
            .and_then(|p| p.failure.as_ref())
            .is_some()
    );

    // Still down: the job stays, waiting longer each time.
    env.worker().drain().await;
    let jobs = env.store.jobs().expect("outbox");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempts, 1);
    assert!(
        jobs[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503"))
    );
    assert_eq!(
        env.get(card.id).version,
        card.version,
        "a failed retry leaves the card alone"
    );
    drop(down);

    // A reviewer corrected a name meanwhile; the provider comes back.
    let corrected = env
        .store
        .update(
            CardRef {
                id: card.id,
                expected_version: None,
            },
            "rev",
            |c| {
                c.fields.push(idreview_protocol::Field {
                    name: "first_name".into(),
                    value: "Erika Maria".into(),
                    confidence: 1.0,
                    source: FieldSource::Reviewer,
                    side: idreview_protocol::Side::Front,
                    bbox: None,
                    candidates: vec![],
                });
                Ok::<_, CardError>(Change::new("field.corrected"))
            },
        )
        .await
        .expect("corrected");
    assert_eq!(corrected.status, Status::NeedsReview);
    Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("accept")))
        .mount(&env.server)
        .await;
    let mut job = env.store.jobs().expect("outbox").remove(0);
    let old = job.clone();
    job.due = Utc::now();
    env.store.reschedule(&old, &job).await.expect("due now");
    env.worker().drain().await;

    let card = env.get(card.id);
    assert_eq!(card.status, Status::AutoVerified, "{:?}", card.findings);
    assert_eq!(card.provider.as_ref().and_then(|p| p.failure.clone()), None);
    let first = card.field("first_name").expect("first name");
    assert_eq!(first.value, "Erika Maria", "the reviewer's correction wins");
    assert_eq!(
        first.candidates.len(),
        2,
        "the provider's reads stay beside it"
    );
    assert_eq!(
        card.field("last_name").map(|f| f.value.as_str()),
        Some("MUSTERMANN")
    );
    assert!(env.store.jobs().expect("outbox").is_empty(), "job done");
    let actions: Vec<String> = env
        .store
        .audit_for(card.id)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            "card.created",
            "card.verification_failed",
            "field.corrected",
            "card.reverified_by_provider"
        ]
    );
}

#[tokio::test]
async fn a_decided_card_is_not_reverified() {
    let env = env(|_| {}).await;
    let card = env.card("u").await;
    let down = Mock::given(method("POST"))
        .and(path("/scan"))
        .respond_with(ResponseTemplate::new(500))
        .mount_as_scoped(&env.server)
        .await;
    let card = env.verify(&card).await;
    drop(down);
    env.store
        .update(
            CardRef {
                id: card.id,
                expected_version: None,
            },
            "rev",
            |c| {
                c.status = Status::Rejected;
                Ok::<_, CardError>(Change::new("card.rejected"))
            },
        )
        .await
        .expect("rejected");
    env.worker().drain().await;
    assert!(env.store.jobs().expect("outbox").is_empty());
    assert_eq!(env.calls().await, 2, "no call after the decision");
}

#[tokio::test]
async fn decisions_are_pushed_until_the_provider_takes_them() {
    let env = env(|_| {}).await;
    let card = env.card("u").await;
    let push = Task::PushDecision {
        transaction_id: "tx-accept-1".into(),
        decision: "accept".into(),
    };
    env.store
        .update(
            CardRef {
                id: card.id,
                expected_version: None,
            },
            "rev",
            |_| {
                let mut change = Change::new("card.approved");
                change
                    .outbox
                    .push(OutboxOp::Put(Job::new(card.id, push.clone(), Utc::now())));
                Ok::<_, CardError>(change)
            },
        )
        .await
        .expect("queued with the change");
    let failing = Mock::given(method("PATCH"))
        .and(path("/transaction/tx-accept-1"))
        .respond_with(ResponseTemplate::new(500).set_body_json(fixture("error_500")))
        .mount_as_scoped(&env.server)
        .await;
    env.worker().drain().await;
    let jobs = env.store.jobs().expect("outbox");
    assert_eq!((jobs.len(), jobs[0].attempts), (1, 1), "kept for later");
    drop(failing);

    Mock::given(method("PATCH"))
        .and(path("/transaction/tx-accept-1"))
        .and(body_json(json!({"decision": "accept"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("transaction_updated")))
        .expect(1)
        .mount(&env.server)
        .await;
    let mut job = jobs[0].clone();
    job.due = Utc::now();
    env.store.reschedule(&jobs[0], &job).await.expect("due now");
    env.worker().drain().await;
    assert!(env.store.jobs().expect("outbox").is_empty(), "pushed");
}

#[tokio::test]
async fn queued_jobs_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let job = {
        let store = idreview_daemon::store::Store::open(&path, 0.8).expect("store");
        let env_card = {
            let mut card = common::bare_card(store.next_id().expect("id"));
            card.status = Status::NeedsReview;
            store.create(card, "test").await.expect("create")
        };
        let job = Job::new(env_card.id, Task::Reverify, Utc::now());
        store
            .update(
                CardRef {
                    id: env_card.id,
                    expected_version: None,
                },
                "t",
                |_| {
                    let mut change = Change::new("card.verification_failed");
                    change.outbox.push(OutboxOp::Put(job.clone()));
                    Ok::<_, CardError>(change)
                },
            )
            .await
            .expect("queued");
        job
    };
    let store = idreview_daemon::store::Store::open(&path, 0.8).expect("reopened");
    assert_eq!(store.jobs().expect("outbox"), vec![job.clone()]);
    assert_eq!(store.due_jobs(Utc::now(), 10).expect("due"), vec![job]);
}

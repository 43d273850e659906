//! Conflicts: two reviewers (two tokens, two connections) decide the same cards at the same
//! time, each naming the version they read. Exactly one decision wins per card, the other gets
//! a conflict, and the audit log holds exactly one decision event per card.

use std::time::Duration;

use idreview_protocol::transport::connect_unix;
use idreview_protocol::{
    CardRef, Decision, IdReviewClient, ItemResult, Role, RpcError, Status, TokenSpec,
};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::ledger::all_cards;
use idreview_tests::{Daemon, decide_each, refs_at, wait_for};
use tarpc::context;

const CARDS: usize = 40;

async fn reviewer(daemon: &Daemon, admin: &IdReviewClient, name: &str) -> IdReviewClient {
    let spec = TokenSpec {
        name: name.into(),
        role: Role::Reviewer,
        expires_days: None,
        user_id: None,
        person: None,
    };
    let token = admin
        .create_token(context::current(), spec)
        .await
        .expect("rpc")
        .expect("token");
    let (client, welcome) = connect_unix(&daemon.socket(), Some(token.token))
        .await
        .expect("connect as reviewer");
    assert_eq!(welcome.role, Role::Reviewer);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_decision_wins_per_card_and_is_audited_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start_with(
        dir.path(),
        &[
            ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
            ("IDREVIEW__RPC__CALLS_PER_SEC", "100000"),
            ("IDREVIEW__RPC__CALLS_BURST", "100000"),
        ],
    )
    .await;
    let admin = daemon.client().await;
    let front = jpeg(800, 600);
    for i in 0..CARDS {
        write_submission(
            &daemon.inbox(),
            &format!("c-{i}"),
            Some(&manifest(&format!("u-{i}"), "passport")),
            &[("front.jpg", front.clone())],
        );
    }
    let cards = wait_for(Duration::from_secs(60), "every card in review", || {
        let admin = admin.clone();
        async move {
            let cards = all_cards(&admin).await;
            let ready = cards.iter().filter(|c| c.status == Status::NeedsReview);
            (ready.count() == CARDS).then_some(cards)
        }
    })
    .await;
    let refs = refs_at(&cards);

    let alice = reviewer(&daemon, &admin, "alice").await;
    let bob = reviewer(&daemon, &admin, "bob").await;
    // Opposite orders: the two meet in the middle, and every card is raced for.
    let reversed: Vec<CardRef> = refs.iter().rev().cloned().collect();
    let (approvals, rejections) = tokio::join!(
        tokio::spawn(decide_each(alice, refs.clone(), Decision::Approve)),
        tokio::spawn(decide_each(bob, reversed, Decision::Reject)),
    );
    let approvals = approvals.expect("alice");
    let rejections = rejections.expect("bob");

    let mut problems = Vec::new();
    for card in &cards {
        let won = |results: &[ItemResult]| {
            let result = results.iter().find(|r| r.id == card.id).expect("a result");
            match &result.result {
                Ok(_) => Some(true),
                Err(RpcError::Conflict { .. }) => Some(false),
                Err(other) => {
                    eprintln!("card {}: unexpected {other:?}", card.id);
                    None
                }
            }
        };
        let (a, b) = (won(&approvals), won(&rejections));
        let expected = match (a, b) {
            (Some(true), Some(false)) => Status::Approved,
            (Some(false), Some(true)) => Status::Rejected,
            other => {
                problems.push(format!("card {}: approve/reject won {other:?}", card.id));
                continue;
            }
        };
        let now = admin
            .get_card(context::current(), card.id)
            .await
            .expect("rpc")
            .expect("card");
        if now.status != expected {
            problems.push(format!(
                "card {} is {}, expected {expected}",
                card.id, now.status
            ));
        }
        let decisions = admin
            .audit_events(context::current(), card.id)
            .await
            .expect("rpc")
            .expect("audit")
            .into_iter()
            .filter(|e| matches!(e.action.as_str(), "card.approved" | "card.rejected"))
            .count();
        if decisions != 1 {
            problems.push(format!("card {}: {decisions} decision events", card.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let won_by_alice = approvals.iter().filter(|r| r.result.is_ok()).count();
    eprintln!("alice won {won_by_alice} of {CARDS}, bob the rest");
}

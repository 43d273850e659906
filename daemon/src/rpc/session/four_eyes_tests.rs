//! Four eyes (`[review] four_eyes`) as reviewers meet it over the service: the approval of a
//! flagged card (a reused document, or doubts overridden) is the first of two, recorded on the
//! card and in the audit log; the second must come from another person, however many tokens
//! the first one holds; a bulk approval gives flagged cards their first approval only; a
//! rejection takes one person.

use idreview_protocol::fixtures::{card, field};
use idreview_protocol::{
    CardId, DUPLICATE_DOCUMENT, DecideRequest, Decision, FieldSource, Finding, IdReview,
    ItemResult, Role, RpcError, Severity, Status, TokenSpec,
};
use tarpc::context;

use super::Session;
use super::tests::{World, any};
use crate::config::Config;

/// A world with four eyes on, and two cards of its own without doubts: one plain, one with a
/// reused document.
async fn world() -> (World, CardId, CardId) {
    let mut config = Config::default();
    config.review.four_eyes = true;
    let w = World::with(config).await;
    let store = w.store();
    let sure = |id: CardId| {
        card(id.0).user(&format!("sure-{id}")).field(field(
            "surname",
            "ROSSI",
            0.99,
            FieldSource::Mrz,
        ))
    };
    let plain = sure(store.next_id().expect("id")).build();
    let reused = sure(store.next_id().expect("id"))
        .finding(Finding {
            rule: DUPLICATE_DOCUMENT.into(),
            severity: Severity::Warning,
            message: format!(
                "reused document: file front.jpg also on card {} of another user",
                plain.id
            ),
        })
        .build();
    let ids = (plain.id, reused.id);
    store
        .import(&[plain, reused], "test")
        .await
        .expect("import");
    (w, ids.0, ids.1)
}

/// A session as the token `name` of `person` would open it (through the handshake's own
/// token -> caller mapping).
async fn token(w: &World, name: &str, person: &str) -> Session {
    let spec = TokenSpec {
        name: name.into(),
        role: Role::Reviewer,
        expires_days: None,
        user_id: None,
        person: Some(person.into()),
    };
    let store = w.store();
    let new = store
        .create_token(&spec, "local:root")
        .await
        .expect("token");
    let info = store.authenticate(&new.token).expect("authenticates");
    Session::new(w.shared.clone(), crate::rpc::Caller::of_token(info))
}

fn approve(ids: &[CardId], reason: &str) -> DecideRequest {
    DecideRequest {
        cards: ids.iter().copied().map(any).collect(),
        decision: Decision::Approve,
        reason: reason.into(),
        override_doubts: false,
    }
}

async fn decide(session: &Session, request: DecideRequest) -> Vec<ItemResult> {
    session.clone().decide(context::current(), request).await
}

#[tokio::test]
async fn a_flagged_card_needs_a_second_person_and_one_persons_two_tokens_count_once() {
    let (w, _, reused) = world().await;
    let laptop = token(&w, "alice-laptop", "alice").await;
    let phone = token(&w, "alice-phone", "alice").await;
    let bob = token(&w, "bob", "bob").await;

    let first = decide(&laptop, approve(&[reused], "same photo as card 5, checked")).await;
    assert!(
        matches!(&first[0].result, Err(RpcError::SecondApprovalNeeded { id, person }) if *id == reused && person == "alice"),
        "{first:?}"
    );
    let message = first[0].result.clone().expect_err("pending").to_string();
    assert!(message.contains("approval 1/2 by alice"), "{message}");
    let pending = w.store().get(reused).expect("reads").expect("card");
    assert_eq!(pending.status, Status::NeedsReview, "still undecided");
    assert_eq!(pending.decision, None);
    let p = pending.pending_approval.as_ref().expect("pending approval");
    assert_eq!(
        (p.by.as_str(), p.person.as_str()),
        ("token:alice-laptop", "alice")
    );
    assert_eq!(p.reason, "same photo as card 5, checked");
    let summary = w.store().summary(reused).expect("summary");
    assert_eq!(summary.pending_approval.as_deref(), Some("alice"));

    let again = decide(&phone, approve(&[reused], "looks fine")).await;
    assert!(
        matches!(&again[0].result, Err(RpcError::Invalid(why)) if why.contains("another person")),
        "alice's second token is still alice: {again:?}"
    );
    let unchanged = w.store().get(reused).expect("reads").expect("card");
    assert_eq!(
        unchanged.version, pending.version,
        "a refused approval writes nothing"
    );

    let second = decide(&bob, approve(&[reused], "agreed")).await;
    assert!(second[0].result.is_ok(), "{second:?}");
    let approved = w.store().get(reused).expect("reads").expect("card");
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.pending_approval, None);
    assert_eq!(
        approved.decision.as_ref().map(|d| d.by.as_str()),
        Some("token:bob")
    );

    let events = w.store().audit_for(reused).expect("audit");
    let trail: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        trail,
        [
            ("test", "card.imported"),
            ("token:alice-laptop", "card.first_approval"),
            ("token:bob", "card.approved"),
        ]
    );
    let why = events[2].reason.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("agreed (second approval; the first by alice"),
        "{why}"
    );
    assert!(why.ends_with("same photo as card 5, checked)"), "{why}");
    let after = events[1].after.as_deref().unwrap_or_default();
    assert!(
        after.contains(r#""approval_pending_by":"alice""#),
        "{after}"
    );
}

#[tokio::test]
async fn a_bulk_approval_gives_flagged_cards_their_first_approval_only() {
    let (w, plain, reused) = world().await;
    // A filled card has unsure fields: approving it over doubts flags it too.
    let query = idreview_protocol::ListQuery {
        filter: idreview_protocol::CardFilter::parse("status:needs_review low:yes")
            .expect("parses"),
        ..Default::default()
    };
    let doubtful = w.store().list(&query, "x").cards[0].id;
    let alice = w.as_("alice", Role::Reviewer);
    let mut request = approve(&[plain, reused, doubtful], "batch checked");
    request.override_doubts = true;
    let results = decide(&alice, request).await;
    let by_id = |id: CardId| {
        &results
            .iter()
            .find(|r| r.id == id)
            .expect("reported")
            .result
    };
    assert!(by_id(plain).is_ok(), "{results:?}");
    for flagged in [reused, doubtful] {
        assert!(
            matches!(by_id(flagged), Err(RpcError::SecondApprovalNeeded { .. })),
            "{results:?}"
        );
        let summary = w.store().summary(flagged).expect("summary");
        assert_eq!(summary.pending_approval.as_deref(), Some("alice"));
        assert_ne!(summary.status, Status::Approved);
    }
    assert_eq!(
        w.store().summary(plain).map(|s| s.status),
        Some(Status::Approved)
    );
    // The whole bulk is one commit: its three events have consecutive seqs.
    let mut seqs: Vec<u64> = [plain, reused, doubtful]
        .iter()
        .map(|id| {
            w.store()
                .audit_for(*id)
                .expect("audit")
                .last()
                .expect("event")
                .seq
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs[2] - seqs[0], 2, "{seqs:?}");
}

#[tokio::test]
async fn a_rejection_takes_one_person_and_clears_a_pending_approval() {
    let (w, _, reused) = world().await;
    let alice = w.as_("alice", Role::Reviewer);
    let first = decide(&alice, approve(&[reused], "fine")).await;
    assert!(first[0].result.is_err(), "pending: {first:?}");
    let reject = DecideRequest {
        decision: Decision::Reject,
        ..approve(&[reused], "the same passport as another user's")
    };
    let results = decide(&alice, reject).await;
    assert!(results[0].result.is_ok(), "{results:?}");
    let card = w.store().get(reused).expect("reads").expect("card");
    assert_eq!(card.status, Status::Rejected);
    assert_eq!(card.pending_approval, None);
}

#[tokio::test]
async fn without_four_eyes_a_flagged_card_is_approved_at_once() {
    let (w, _, reused) = world().await;
    let mut config = (*w.shared.config).clone();
    config.review.four_eyes = false;
    let mut shared = w.shared.clone();
    shared.cards = crate::card::Cards::new(shared.store.clone(), std::sync::Arc::new(config));
    let caller = crate::rpc::Caller {
        identity: "alice".into(),
        role: Role::Reviewer,
        token_id: None,
        user_id: None,
        person: "alice".into(),
    };
    let alice = Session::new(shared, caller);
    let results = decide(&alice, approve(&[reused], "fine")).await;
    assert!(results[0].result.is_ok(), "{results:?}");
}

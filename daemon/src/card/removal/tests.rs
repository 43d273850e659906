//! Deletion, retention and erasure through the domain, on a real store: what goes, what the
//! cleanup queue and the audit log keep, and what is refused.

use std::sync::Arc;

use chrono::{Duration, Utc};
use idreview_protocol::fixtures::{field, file};
use idreview_protocol::{
    Card, CardId, CardRef, Decision, DecisionRecord, FieldSource, FileRole, Role, Status, TokenSpec,
};

use super::*;
use crate::config::Config;
use crate::store::Store;

fn domain(store: &Store) -> Cards<Store> {
    Cards::new(store.clone(), Arc::new(Config::default()))
}

/// A card of `user` in `status` with one file and one field; decided `days_ago` when decided.
pub(crate) fn card(id: u64, user: &str, status: Status, days_ago: i64) -> Card {
    let now = Utc::now();
    let decided = now - Duration::days(days_ago);
    let decision = match status {
        Status::Approved => Some(Decision::Approve),
        Status::Rejected => Some(Decision::Reject),
        _ => None,
    };
    let builder = idreview_protocol::fixtures::card(id)
        .user(user)
        .status(status)
        .field(field(
            "surname",
            &format!("SURNAME-OF-{user}"),
            0.9,
            FieldSource::Mrz,
        ))
        .file(file(
            FileRole::Front,
            "front.jpg",
            &format!("users/{user}/id-card/{id}/front.jpg"),
        ))
        .assignee(Some("token:rita"), None)
        .version(3)
        .created_at(decided - Duration::days(1))
        .updated_at(decided);
    match decision {
        Some(decision) => builder
            .decision(DecisionRecord {
                decision,
                by: "token:rita".into(),
                at: decided,
                reason: format!("checked {user}"),
            })
            .build(),
        None => builder.build(),
    }
}

fn keep(approved_days: u32, rejected_days: u32) -> Keep {
    Keep {
        approved_days,
        rejected_days,
        ..Keep::default()
    }
}

fn card_at(store: &Store, id: u64) -> Option<Card> {
    store.get(CardId(id)).expect("get")
}

/// A store with: 1 approved 40 days ago, 2 approved 10 days ago, 3 rejected 40 days ago,
/// 4 in review since 400 days.
async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    let cards = [
        card(1, "ann", Status::Approved, 40),
        card(2, "bob", Status::Approved, 10),
        card(3, "cat", Status::Rejected, 40),
        card(4, "dan", Status::NeedsReview, 400),
    ];
    store.import(&cards, "t").await.expect("import");
    (dir, store)
}

#[tokio::test]
async fn expired_decided_cards_go_with_their_files_and_leave_tombstones() {
    let (_dir, store) = store().await;
    let cards = domain(&store);
    let now = Utc::now();
    assert_eq!(cards.expire(Keep::default(), now).await.expect("none"), 0);
    assert!(card_at(&store, 1).is_some());
    let removed = cards.expire(keep(30, 60), now).await.expect("expire");
    assert_eq!(removed, 1, "only card 1 is past its time");
    assert!(store.get(CardId(1)).expect("get").is_none());
    for id in [2, 3, 4] {
        assert!(
            store.get(CardId(id)).expect("get").is_some(),
            "card {id} kept"
        );
    }
    let jobs = store.cleanup_pending(10).expect("queue");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1.key, "users/ann/id-card/1/front.jpg");
    let trail = store.audit_for(CardId(1)).expect("audit");
    let tombstone = trail.last().expect("tombstone");
    assert_eq!(
        (tombstone.action.as_str(), tombstone.actor.as_str()),
        ("card.expired", RETENTION_ACTOR)
    );
    let why = tombstone.reason.as_deref().expect("why");
    assert!(why.contains("approved") && why.contains("30 days"), "{why}");
    assert!(!why.contains("ann"));
    for e in &trail {
        assert_eq!((&e.before, &e.after), (&None, &None), "{e:?}");
        assert!(!format!("{e:?}").contains("ann"), "no personal data: {e:?}");
    }
    let untouched = store.audit_for(CardId(2)).expect("audit");
    assert!(
        untouched[0].after.is_some(),
        "others' events keep their detail"
    );
    // A later clock removes the rejected card too; the one in review never goes.
    let later = now + Duration::days(100);
    assert_eq!(cards.expire(keep(30, 60), later).await.expect("expire"), 2);
    assert!(store.get(CardId(4)).expect("get").is_some());
}

#[tokio::test]
async fn auto_verified_cards_expire_after_their_own_keep_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), 0.8).expect("open");
    let cards = [
        card(1, "ann", Status::AutoVerified, 40),
        card(2, "bob", Status::AutoVerified, 10),
        card(3, "cat", Status::Approved, 40),
    ];
    store.import(&cards, "t").await.expect("import");
    let cards = domain(&store);
    let now = Utc::now();
    // Keeping decided cards says nothing about auto-verified ones.
    assert_eq!(cards.expire(keep(0, 30), now).await.expect("expire"), 0);
    let auto = Keep {
        auto_verified_days: 30,
        ..Keep::default()
    };
    assert_eq!(cards.expire(auto, now).await.expect("expire"), 1);
    assert!(card_at(&store, 1).is_none(), "40 days old: gone");
    assert!(card_at(&store, 2).is_some(), "10 days old: kept");
    assert!(card_at(&store, 3).is_some(), "approved_days is 0: kept");
    let jobs = store.cleanup_pending(10).expect("queue");
    assert_eq!(jobs[0].1.key, "users/ann/id-card/1/front.jpg");
    let trail = store.audit_for(CardId(1)).expect("audit");
    let tombstone = trail.last().expect("tombstone");
    assert_eq!(tombstone.action, "card.expired");
    let why = tombstone.reason.as_deref().expect("why");
    assert!(why.contains("auto_verified_days"), "{why}");
}

#[tokio::test]
async fn a_card_changed_since_the_scan_waits_for_the_next_run() {
    let (_dir, store) = store().await;
    let stale = CardRef {
        id: CardId(1),
        expected_version: Some(1),
    };
    let change = Change::new("card.expired");
    let removal = store.remove_card(
        stale,
        RETENTION_ACTOR,
        |_| Ok::<_, CardError>(change),
        Trail::Scrub(&[]),
    );
    assert!(matches!(removal.await, Err(CardError::Conflict { .. })));
    assert!(store.get(CardId(1)).expect("get").is_some());
}

#[tokio::test]
async fn erasing_a_user_removes_only_their_cards_files_and_personal_audit_data() {
    let (_dir, store) = store().await;
    store
        .import(&[card(5, "ann", Status::Rejected, 100)], "t")
        .await
        .expect("second card");
    let spec = TokenSpec {
        name: "ann-phone".into(),
        role: Role::Submitter,
        expires_days: None,
        user_id: Some("ann".into()),
        person: None,
    };
    let token = store
        .create_token(&spec, "local:root")
        .await
        .expect("token");
    let report = domain(&store)
        .erase("token:dpo", "ann", "request 2026-11", false)
        .await
        .expect("erase");
    let erased: Vec<u64> = report.cards.iter().map(|c| c.0.0).collect();
    assert_eq!(erased, vec![1, 5]);
    assert!(report.cards.iter().all(|c| c.1.is_ok()));
    assert_eq!((report.files_queued, report.tokens_revoked), (2, 1));
    assert!(store.get(CardId(1)).expect("get").is_none());
    assert!(store.card_for_user("ann").expect("user").is_none());
    for id in [2, 3, 4] {
        assert!(store.get(CardId(id)).expect("get").is_some());
    }
    let keys: Vec<String> = store
        .cleanup_pending(10)
        .expect("queue")
        .into_iter()
        .map(|(_, j)| j.key)
        .collect();
    assert_eq!(
        keys,
        vec![
            "users/ann/id-card/1/front.jpg",
            "users/ann/id-card/5/front.jpg"
        ]
    );
    assert!(
        store.authenticate(&token.token).is_err(),
        "the token is revoked"
    );
    let listed = store.list_tokens();
    assert_eq!(listed[0].user_id, None, "and no longer names the user");
    let everything = store.audit_since(0, 1000).expect("audit");
    for e in &everything {
        if e.card_id.is_some_and(|c| c.0 == 1 || c.0 == 5) || e.card_id.is_none() {
            assert!(
                !format!("{e:?}").contains("ann\""),
                "personal data left: {e:?}"
            );
        }
    }
    let tombstones: Vec<_> = everything
        .iter()
        .filter(|e| e.action == "card.erased")
        .collect();
    assert_eq!(tombstones.len(), 2);
    assert!(tombstones.iter().all(|t| t.actor == "token:dpo"
        && t.reason.as_deref() == Some("request 2026-11")
        && t.before.is_none()));
    let bob = store.audit_for(CardId(2)).expect("audit");
    assert!(bob[0].after.is_some(), "other users' events are untouched");
}

#[tokio::test]
async fn erasing_a_user_drops_their_undelivered_webhooks_only() {
    let (_dir, store) = store().await;
    store.enable_webhooks(crate::store::webhook_outbox::WebhookEvent::ALL.to_vec());
    store
        .import(&[card(6, "eve", Status::NeedsReview, 1)], "t")
        .await
        .expect("another user's card");
    let cards = domain(&store);
    let approve = crate::card::Approval {
        decision: Decision::Approve,
        reason: "fine",
        override_doubts: true,
        person: "rita",
    };
    let decided = cards
        .decide("token:rita", &[any_card(4), any_card(6)], approve)
        .await;
    assert!(decided.iter().all(|(_, r)| r.is_ok()), "{decided:?}");
    let bodies = || -> Vec<String> {
        let items = store.outbox_peek(100).expect("outbox");
        items.into_iter().map(|i| i.body).collect()
    };
    assert_eq!(bodies().len(), 2, "both decisions wait for delivery");
    assert!(bodies().iter().any(|b| b.contains("\"dan\"")));
    cards
        .erase("token:dpo", "dan", "request 2026-12", false)
        .await
        .expect("erase");
    let left = bodies();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains("\"eve\""), "{left:?}");
    assert!(!left.iter().any(|b| b.contains("dan")), "{left:?}");
}

fn any_card(id: u64) -> CardRef {
    CardRef {
        id: CardId(id),
        expected_version: None,
    }
}

#[tokio::test]
async fn deleting_needs_a_reason_spares_cards_in_the_pipeline_and_queues_cleanup() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path(), 0.8).expect("open");
        store
            .import(
                &[
                    card(5, "u5", Status::NeedsReview, 0),
                    card(6, "u6", Status::Uploading, 0),
                ],
                "t",
            )
            .await
            .expect("import");
        let cards = domain(&store);
        let at = |id, version| CardRef {
            id: CardId(id),
            expected_version: version,
        };
        assert!(matches!(
            cards.delete("admin", at(6, None), "gdpr").await,
            Err(CardError::IllegalTransition { .. })
        ));
        assert!(matches!(
            cards.delete("admin", at(5, None), " ").await,
            Err(CardError::Invalid(_))
        ));
        cards
            .delete("admin", at(5, Some(3)), "gdpr")
            .await
            .expect("delete");
        assert!(card_at(&store, 5).is_none());
        assert!(store.card_for_user("u5").expect("user").is_none());
        assert_eq!(store.card_count(), 1);
        let audit = store.audit_for(CardId(5)).expect("audit");
        let last = audit.last().expect("an event");
        assert_eq!(last.action, "card.deleted");
        assert_eq!(last.reason.as_deref(), Some("gdpr"));
    }
    let store = crate::store::reopen(dir.path());
    let pending = store.cleanup_pending(10).expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1.key, "users/u5/id-card/5/front.jpg");
    store.cleanup_done(pending[0].0).expect("done");
    store.flush().await.expect("flush");
    assert_eq!(store.cleanup_len(), 0);
}

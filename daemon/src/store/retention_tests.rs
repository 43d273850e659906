use chrono::{Duration, Utc};
use idreview_protocol::{
    Card, CardId, CardRef, Decision, DecisionRecord, DocumentType, Field, FieldSource, FileMeta,
    FileRole, Role, Side, Status, TokenSpec,
};

use super::*;
use crate::store::Store;

/// A card of `user` in `status` with one file and one field; decided `days_ago` when decided.
pub(crate) fn card(id: u64, user: &str, status: Status, days_ago: i64) -> Card {
    let now = Utc::now();
    let decided = now - Duration::days(days_ago);
    let decision = match status {
        Status::Approved => Some(Decision::Approve),
        Status::Rejected => Some(Decision::Reject),
        _ => None,
    };
    Card {
        id: CardId(id),
        user_id: user.into(),
        document_type: DocumentType::Passport,
        country: Some("DE".into()),
        status,
        verified: false,
        confirmed: false,
        fields: vec![Field {
            name: "surname".into(),
            value: format!("SURNAME-OF-{user}"),
            confidence: 0.9,
            source: FieldSource::Mrz,
            side: Side::Front,
            bbox: None,
            candidates: Vec::new(),
        }],
        files: vec![FileMeta {
            role: FileRole::Front,
            name: "front.jpg".into(),
            object_key: format!("users/{user}/id-card/{id}/front.jpg"),
            sha256: "00".into(),
            size: 1,
            media_type: "image/jpeg".into(),
            dimensions: None,
            etag: None,
        }],
        findings: Vec::new(),
        provider: None,
        decision: decision.map(|decision| DecisionRecord {
            decision,
            by: "token:rita".into(),
            at: decided,
            reason: format!("checked {user}"),
        }),
        assignee: Some("token:rita".into()),
        lease_until: None,
        version: 3,
        source: "inbox".into(),
        created_at: decided - Duration::days(1),
        updated_at: decided,
    }
}

fn keep(approved_days: u32, rejected_days: u32) -> Keep {
    Keep {
        approved_days,
        rejected_days,
    }
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
    let now = Utc::now();
    assert!(
        store
            .expired_cards(Keep::default(), now)
            .expect("none")
            .is_empty()
    );
    let expired = store.expired_cards(keep(30, 0), now).expect("scan");
    assert_eq!(
        expired.iter().map(|(r, _)| r.id.0).collect::<Vec<_>>(),
        vec![1]
    );
    let removed = store.purge_expired(keep(30, 60), now).await.expect("purge");
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
    assert_eq!(
        store
            .purge_expired(keep(30, 60), later)
            .await
            .expect("purge"),
        2
    );
    assert!(store.get(CardId(4)).expect("get").is_some());
}

#[tokio::test]
async fn a_card_changed_since_the_scan_waits_for_the_next_run() {
    let (_dir, store) = store().await;
    let stale = CardRef {
        id: CardId(1),
        expected_version: Some(1),
    };
    let change = Change::new("card.expired");
    assert!(
        store
            .remove_card(stale, RETENTION_ACTOR, change, Trail::Scrub(&[]))
            .await
            .is_err()
    );
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
    };
    let token = store
        .create_token(&spec, "local:root")
        .await
        .expect("token");
    let report = store
        .erase_user("ann", "token:dpo", "request 2026-11")
        .await
        .expect("erase");
    let erased: Vec<u64> = report.cards.iter().map(|c| c.id.0).collect();
    assert_eq!(erased, vec![1, 5]);
    assert!(report.cards.iter().all(|c| c.result.is_ok()));
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

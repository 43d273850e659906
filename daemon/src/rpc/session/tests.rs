//! The review service as two reviewers and an admin see it, over one store: claims, leases
//! that lapse, releases, decisions refused on held cards, and the change feed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idreview_protocol::{
    CardId, CardRef, DecideRequest, Decision, IdReview, Role, RpcError, Status,
};
use tarpc::context;

use super::Session;
use crate::config::Config;
use crate::rpc::Shared;
use crate::store::Store;

/// A daemon's shared state over a temporary data folder, for service tests.
pub(in crate::rpc) struct World {
    _dir: tempfile::TempDir,
    pub(in crate::rpc) shared: Shared,
}

impl World {
    pub(in crate::rpc) async fn new(lease_secs: u64) -> World {
        let mut config = Config::default();
        config.review.lease_secs = lease_secs;
        World::with(config).await
    }

    /// Four filled cards under `config` (its data folder set to the temporary one).
    pub(in crate::rpc) async fn with(mut config: Config) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("store");
        crate::cli::fill::fill(&store, 4, "u").await.expect("fills");
        config.daemon.data_dir = Some(dir.path().join("data"));
        let config = Arc::new(config);
        let shared = Shared {
            objects: crate::objects::ObjectStore::local(dir.path().join("objects")),
            cards: crate::card::Cards::new(store.clone().into(), config.clone()),
            store: store.into(),
            limits: Arc::new(crate::rpc::limits::Limits::new(&config.rpc)),
            uploads: Arc::new(crate::rpc::Uploads::new(&config)),
            exports: Arc::default(),
            tasks: tokio_util::task::TaskTracker::new(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            config,
            provider: "manual",
            started: Instant::now(),
        };
        World { _dir: dir, shared }
    }

    /// The sled store the world serves from.
    pub(in crate::rpc) fn store(&self) -> &Store {
        self.shared.store.sled("tests").expect("a sled world")
    }

    pub(in crate::rpc) fn as_(&self, who: &str, role: Role) -> Session {
        let caller = crate::rpc::Caller {
            identity: who.to_string(),
            role,
            token_id: None,
            user_id: None,
            person: who.to_string(),
        };
        Session::new(self.shared.clone(), caller)
    }

    /// The first card waiting for review.
    pub(super) fn reviewable(&self) -> CardId {
        let query = idreview_protocol::ListQuery {
            filter: idreview_protocol::CardFilter::parse("status:needs_review").expect("parses"),
            ..Default::default()
        };
        self.store().list(&query, "x").cards[0].id
    }
}

pub(super) fn any(id: CardId) -> CardRef {
    CardRef {
        id,
        expected_version: None,
    }
}

#[tokio::test]
async fn a_claim_keeps_others_off_until_released() {
    let w = World::new(900).await;
    let id = w.reviewable();
    let ctx = context::current;
    let card = w
        .as_("alice", Role::Reviewer)
        .claim_card(ctx(), any(id))
        .await
        .expect("claims");
    assert_eq!(card.assignee.as_deref(), Some("alice"));
    assert!(card.lease_until.is_some_and(|t| t > chrono::Utc::now()));
    let again = w
        .as_("alice", Role::Reviewer)
        .claim_card(ctx(), any(id))
        .await;
    assert!(again.is_ok(), "the holder renews");

    let bob = w.as_("bob", Role::Reviewer);
    let err = bob
        .clone()
        .claim_card(ctx(), any(id))
        .await
        .expect_err("held");
    assert!(
        matches!(&err, RpcError::Held { holder, .. } if holder == "alice"),
        "{err}"
    );
    assert!(err.to_string().contains("held by alice"), "{err}");
    // The filled card has fields below the threshold: approving it is an override.
    let request = DecideRequest {
        cards: vec![any(id)],
        decision: Decision::Approve,
        reason: "ok".into(),
        override_doubts: true,
    };
    let results = bob.clone().decide(ctx(), request.clone()).await;
    assert!(matches!(results[0].result, Err(RpcError::Held { .. })));
    let err = bob
        .clone()
        .release_card(ctx(), id)
        .await
        .expect_err("not his");
    assert!(matches!(err, RpcError::Held { .. }));

    w.as_("root", Role::Admin)
        .release_card(ctx(), id)
        .await
        .expect("admins release");
    let summary = w.store().summary(id).expect("summary");
    assert_eq!(summary.assignee, None);
    let results = bob.decide(ctx(), request).await;
    assert!(results[0].result.is_ok(), "{:?}", results[0]);

    let actions: Vec<String> = w
        .store()
        .audit_for(id)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "card.imported",
            "card.claimed",
            "card.claimed",
            "card.released",
            "card.approved"
        ]
    );
}

#[tokio::test]
async fn approving_over_doubts_takes_an_override_and_a_reason_and_is_audited() {
    let w = World::new(0).await;
    let id = w.reviewable();
    let card = w.store().get(id).expect("reads").expect("card");
    let low: Vec<String> = card
        .fields
        .iter()
        .filter(|f| f.confidence < 0.8)
        .map(|f| format!("{} at {:.2}", f.name, f.confidence))
        .collect();
    assert!(!low.is_empty(), "the filled card has unsure fields");
    let alice = w.as_("alice", Role::Reviewer);
    let approve = |override_doubts: bool, reason: &str| DecideRequest {
        cards: vec![any(id)],
        decision: Decision::Approve,
        reason: reason.into(),
        override_doubts,
    };

    let results = alice
        .clone()
        .decide(context::current(), approve(false, "looks fine"))
        .await;
    let Err(RpcError::Doubts {
        id: refused,
        doubts,
    }) = &results[0].result
    else {
        panic!("refused for its doubts: {results:?}");
    };
    assert_eq!((*refused, doubts), (id, &low));
    let message = results[0].result.clone().expect_err("refused").to_string();
    assert!(message.contains("override"), "{message}");

    let results = alice
        .clone()
        .decide(context::current(), approve(true, " "))
        .await;
    assert!(
        matches!(&results[0].result, Err(RpcError::Invalid(why)) if why.contains("reason")),
        "{results:?}"
    );
    assert_eq!(
        w.store().summary(id).map(|s| s.status),
        Some(Status::NeedsReview)
    );

    let results = alice
        .decide(context::current(), approve(true, "checked by phone"))
        .await;
    assert!(results[0].result.is_ok(), "{results:?}");
    let events = w.store().audit_for(id).expect("audit");
    let approved = events.last().expect("an event");
    assert_eq!(approved.action, "card.approved");
    assert_eq!(approved.reason.as_deref(), Some("checked by phone"));
    let after: serde_json::Value =
        serde_json::from_str(approved.after.as_deref().unwrap_or("null")).expect("json");
    let named: Vec<String> = after["overridden_doubts"]
        .as_array()
        .expect("the doubts overridden are named")
        .iter()
        .filter_map(|d| d.as_str().map(String::from))
        .collect();
    assert_eq!(named, low);
}

#[tokio::test]
async fn a_card_without_doubts_is_approved_without_an_override() {
    let w = World::new(0).await;
    let id = w.reviewable();
    let reviewer = w.as_("alice", Role::Reviewer);
    let card = reviewer
        .clone()
        .claim_card(context::current(), any(id))
        .await
        .expect("claims");
    // The reviewer settles every unsure field by accepting it as read.
    let corrections = card
        .fields
        .iter()
        .map(|f| idreview_protocol::FieldCorrection {
            name: f.name.clone(),
            value: f.value.clone(),
        })
        .collect();
    let card = reviewer
        .clone()
        .correct_fields(context::current(), any(id), corrections)
        .await
        .expect("corrects");
    let errors: Vec<&str> = card
        .findings
        .iter()
        .filter(|f| f.severity == idreview_protocol::Severity::Error)
        .map(|f| f.rule.as_str())
        .collect();
    let request = DecideRequest {
        cards: vec![any(id)],
        decision: Decision::Approve,
        reason: String::new(),
        override_doubts: false,
    };
    let results = reviewer.decide(context::current(), request).await;
    // Corrected fields are sure; what may remain are the error findings, and only those.
    match (&results[0].result, errors.is_empty()) {
        (Ok(_), true) => {}
        (Err(RpcError::Doubts { doubts, .. }), false) => assert_eq!(doubts, &errors),
        (other, _) => panic!("{other:?} with error findings {errors:?}"),
    }
}

#[tokio::test]
async fn lapsed_leases_count_as_unassigned() {
    let w = World::new(0).await;
    let id = w.reviewable();
    w.as_("alice", Role::Reviewer)
        .claim_card(context::current(), any(id))
        .await
        .expect("claims");
    assert_eq!(w.store().summary(id).and_then(|s| s.assignee), None);
    let card = w
        .as_("bob", Role::Reviewer)
        .claim_card(context::current(), any(id))
        .await
        .expect("the lapsed claim is free");
    assert_eq!(card.assignee.as_deref(), Some("bob"));
}

#[tokio::test]
async fn decided_cards_cannot_be_claimed() {
    let w = World::new(900).await;
    let id = w.reviewable();
    let request = DecideRequest {
        cards: vec![any(id)],
        decision: Decision::Reject,
        reason: "blurry".into(),
        override_doubts: false,
    };
    let admin = w.as_("root", Role::Admin);
    assert!(
        admin.decide(context::current(), request).await[0]
            .result
            .is_ok()
    );
    let err = w
        .as_("alice", Role::Reviewer)
        .claim_card(context::current(), any(id))
        .await
        .expect_err("final");
    assert!(matches!(err, RpcError::IllegalTransition { .. }), "{err}");
}

#[tokio::test]
async fn the_change_feed_wakes_on_a_write() {
    let w = World::new(900).await;
    let id = w.reviewable();
    let alice = w.as_("alice", Role::Reviewer);
    let start = alice
        .clone()
        .changes(context::current(), 0, 5000)
        .await
        .expect("feed");
    assert!(start.cards.is_empty(), "since 0: only the cursor");
    let waiting = tokio::spawn(
        alice
            .clone()
            .changes(context::current(), start.cursor, 5000),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    alice
        .claim_card(context::current(), any(id))
        .await
        .expect("claims");
    let changes = waiting.await.expect("joins").expect("feed");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "woken, not timed out"
    );
    assert_eq!(
        changes.cards.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![id]
    );
    assert!(changes.cursor > start.cursor);
    assert_eq!(changes.cards[0].status, Status::NeedsReview);
}

#[tokio::test]
async fn file_bytes_reads_a_cards_file_from_the_object_store() {
    use sha2::Digest;
    let w = World::new(900).await;
    let id = w.reviewable();
    let bytes = b"\x89PNG\r\n\x1a\n not really".to_vec();
    let src = w._dir.path().join("front.png");
    std::fs::write(&src, &bytes).expect("writes");
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let key = format!("users/u/id-card/{id}/front.png");
    w.shared
        .objects
        .put_file(&key, &src, &sha, None)
        .await
        .expect("stores");
    let meta = idreview_protocol::FileMeta {
        role: idreview_protocol::FileRole::Front,
        name: "front.png".into(),
        object_key: key,
        sha256: sha,
        size: bytes.len() as u64,
        media_type: "image/png".into(),
        dimensions: Some((1, 1)),
        etag: None,
    };
    w.store()
        .update(any(id), "test", |c| {
            c.files.push(meta.clone());
            Ok::<_, crate::card::CardError>(crate::store::Change::new("test.file_added"))
        })
        .await
        .expect("adds the file");
    let alice = w.as_("alice", Role::Reviewer);
    let got = alice
        .clone()
        .file_bytes(context::current(), id, "front.png".into())
        .await
        .expect("reads");
    assert_eq!(got, bytes);
    let err = alice
        .file_bytes(context::current(), id, "back.png".into())
        .await
        .expect_err("no such file");
    assert!(matches!(err, RpcError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn a_deletion_wakes_the_change_feed_and_names_the_card() {
    let w = World::new(900).await;
    let id = w.reviewable();
    let alice = w.as_("alice", Role::Reviewer);
    let start = alice
        .clone()
        .changes(context::current(), 0, 0)
        .await
        .expect("feed");
    // Asks to wait 30 s, longer than the test's limit below: only a wake-up answers in time.
    let waiting = tokio::spawn(
        alice
            .clone()
            .changes(context::current(), start.cursor, 30_000),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    w.as_("root", Role::Admin)
        .delete_card(context::current(), any(id), "gdpr request".into())
        .await
        .expect("deletes");
    let changes = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the deletion wakes the feed")
        .expect("joins")
        .expect("feed");
    assert_eq!(changes.deleted, vec![id]);
    assert!(changes.cards.is_empty());
    assert!(changes.cursor > start.cursor);
}

#[tokio::test]
async fn an_admin_reopens_a_decided_card_with_a_reason() {
    let w = World::new(0).await;
    let id = w.reviewable();
    let root = w.as_("root", Role::Admin);
    let reject = DecideRequest {
        cards: vec![any(id)],
        decision: Decision::Reject,
        reason: "blurry".into(),
        override_doubts: false,
    };
    assert!(
        root.clone().decide(context::current(), reject).await[0]
            .result
            .is_ok()
    );
    let reviewer = w.as_("alice", Role::Reviewer);
    let err = reviewer
        .reopen_card(context::current(), any(id), "second look".into())
        .await
        .expect_err("admins only");
    assert!(matches!(err, RpcError::Forbidden(_)), "{err}");
    let err = root
        .clone()
        .reopen_card(context::current(), any(id), " ".into())
        .await
        .expect_err("a reason");
    assert!(matches!(err, RpcError::Invalid(_)), "{err}");
    let card = root
        .clone()
        .reopen_card(context::current(), any(id), "second look".into())
        .await
        .expect("reopened");
    assert_eq!(card.status, Status::NeedsReview);
    assert!(card.decision.is_none());
    let last = w
        .store()
        .audit_for(id)
        .expect("audit")
        .pop()
        .expect("event");
    assert_eq!(last.action, "card.reopened");
    assert_eq!(last.reason.as_deref(), Some("second look (was reject)"));
    let err = root
        .reopen_card(context::current(), any(id), "again".into())
        .await
        .expect_err("not decided");
    assert!(matches!(err, RpcError::IllegalTransition { .. }), "{err}");
}

mod dashboard;

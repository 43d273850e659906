//! The first end-to-end path: a submission dropped into the inbox of the real daemon becomes a
//! card over RPC, a reviewer decides it, and the audit log holds the decision.

use std::time::Duration;

use idreview_protocol::{
    CardFilter, CardRef, DecideRequest, Decision, FileRole, ListQuery, OnboardingStage, Status,
};
use idreview_tests::fixtures::{jpeg, manifest, png, write_submission};
use idreview_tests::{Daemon, card_of, wait_for};
use tarpc::context;

#[tokio::test]
async fn dropped_submission_becomes_a_card_that_can_be_decided() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;

    let front = jpeg(1200, 800);
    let back = png(1000, 700);
    write_submission(
        &daemon.inbox(),
        "alice-upload",
        Some(&manifest("alice", "national_id")),
        &[
            ("front.jpg", front.clone()),
            ("back.png", back.clone()),
            ("utility-bill.pdf", b"%PDF-1.4\n%%EOF\n".to_vec()),
        ],
    );
    let card = wait_for(Duration::from_secs(20), "alice's card", || {
        card_of(&client, "alice")
    })
    .await;

    assert_eq!(
        card.status,
        Status::NeedsReview,
        "the manual provider routes every card to review"
    );
    assert_eq!(card.country.as_deref(), Some("DE"));
    assert_eq!(card.source, "alice-upload");
    let roles: Vec<FileRole> = card.files.iter().map(|f| f.role).collect();
    assert_eq!(
        roles,
        vec![FileRole::Front, FileRole::Back, FileRole::Extra]
    );
    let front_meta = &card.files[0];
    assert_eq!(front_meta.media_type, "image/jpeg");
    assert_eq!(front_meta.dimensions, Some((1200, 800)));
    assert_eq!(front_meta.size, front.len() as u64);
    assert_eq!(
        front_meta.object_key,
        format!("users/alice/id-card/{}/front.jpg", card.id)
    );
    let stored = std::fs::read(dir.path().join("objects").join(&front_meta.object_key))
        .expect("object stored");
    assert_eq!(stored, front, "the object store holds the exact bytes");
    let url = client
        .file_url(context::current(), card.id, "front.jpg".into())
        .await
        .expect("rpc")
        .expect("url");
    let path = url.strip_prefix("file://").expect("a file:// URL locally");
    assert_eq!(std::fs::read(path).expect("url path"), front);
    let bytes = client
        .file_bytes(context::current(), card.id, "back.png".into())
        .await
        .expect("rpc")
        .expect("bytes");
    assert_eq!(bytes, back, "the console can fetch a document image");
    assert_eq!(card.files[1].dimensions, Some((1000, 700)));
    assert!(
        !daemon.inbox().join("alice-upload").exists(),
        "the ingested submission left the inbox"
    );

    let stage = client
        .onboarding_stage(context::current(), "alice".into())
        .await
        .expect("rpc")
        .expect("stage");
    assert_eq!(stage, OnboardingStage::UnderReview);

    // Listing and text search find it; a stale version is refused as a conflict.
    let query = ListQuery {
        filter: CardFilter::parse("status:needs_review alice").expect("query"),
        ..ListQuery::default()
    };
    let page = client
        .list_cards(context::current(), query)
        .await
        .expect("rpc")
        .expect("list");
    assert_eq!(page.total, 1);
    assert_eq!(page.cards[0].id, card.id);

    let stale = DecideRequest {
        cards: vec![CardRef {
            id: card.id,
            expected_version: Some(card.version - 1),
        }],
        decision: Decision::Approve,
        reason: "looks fine".into(),
        override_doubts: false,
    };
    let results = client.decide(context::current(), stale).await.expect("rpc");
    assert!(
        matches!(
            results[0].result,
            Err(idreview_protocol::RpcError::Conflict { .. })
        ),
        "{results:?}"
    );

    let approve = DecideRequest {
        cards: vec![CardRef {
            id: card.id,
            expected_version: Some(card.version),
        }],
        decision: Decision::Approve,
        reason: "document matches the selfie".into(),
        override_doubts: false,
    };
    let results = client
        .decide(context::current(), approve)
        .await
        .expect("rpc");
    assert_eq!(results[0].result, Ok(card.version + 1));

    let decided = client
        .get_card(context::current(), card.id)
        .await
        .expect("rpc")
        .expect("card");
    assert_eq!(decided.status, Status::Approved);
    let record = decided.decision.expect("decision recorded");
    assert_eq!(record.reason, "document matches the selfie");
    assert!(record.by.starts_with("local:"), "{}", record.by);

    let events = client
        .audit_events(context::current(), card.id)
        .await
        .expect("rpc")
        .expect("audit");
    let approved = events
        .iter()
        .find(|e| e.action == "card.approved")
        .expect("approval audited");
    assert_eq!(approved.actor, record.by);
    assert_eq!(
        approved.reason.as_deref(),
        Some("document matches the selfie")
    );
    assert!(
        approved
            .before
            .as_deref()
            .unwrap_or("")
            .contains("needs_review")
    );
    assert!(approved.after.as_deref().unwrap_or("").contains("approved"));
    assert_eq!(
        events.first().map(|e| e.action.as_str()),
        Some("card.created")
    );

    // Approving again is an illegal transition, reported per card.
    let again = DecideRequest {
        cards: vec![idreview_tests::any_version(card.id)],
        decision: Decision::Approve,
        reason: String::new(),
        override_doubts: false,
    };
    let results = client.decide(context::current(), again).await.expect("rpc");
    assert!(
        matches!(
            results[0].result,
            Err(idreview_protocol::RpcError::IllegalTransition { .. })
        ),
        "{results:?}"
    );
}

#[tokio::test]
async fn cards_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    for user in ["bob", "carol", "dave"] {
        write_submission(
            &daemon.inbox(),
            user,
            Some(&manifest(user, "passport")),
            &[("front.jpg", jpeg(900, 650))],
        );
    }
    let mut before = Vec::new();
    for user in ["bob", "carol", "dave"] {
        before.push(wait_for(Duration::from_secs(20), user, || card_of(&client, user)).await);
    }
    drop(client);
    assert!(
        daemon.stop(),
        "idreviewd exits cleanly on SIGTERM; log:\n{}",
        daemon.log()
    );

    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    for card in &before {
        let again = client
            .get_card(context::current(), card.id)
            .await
            .expect("rpc")
            .expect("card kept");
        assert_eq!(&again, card);
    }
    let page = client
        .list_cards(context::current(), ListQuery::default())
        .await
        .expect("rpc")
        .expect("list");
    assert_eq!(page.total, 3);
}

#[tokio::test]
async fn half_written_submission_waits_for_its_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    let folder = write_submission(
        &daemon.inbox(),
        "erin",
        None,
        &[("front.jpg", jpeg(1000, 700))],
    );
    // Two rescans (1 s each in tests) pass without the folder being touched.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        folder.join("front.jpg").exists(),
        "a folder without a manifest is left alone"
    );
    assert!(!daemon.rejected().join("erin").exists());

    idreview_tests::fixtures::write_manifest(&folder, &manifest("erin", "passport"));
    let card = wait_for(Duration::from_secs(20), "erin's card", || {
        card_of(&client, "erin")
    })
    .await;
    assert_eq!(card.files.len(), 1);
    assert!(!folder.exists());
}

#[tokio::test]
async fn a_failing_object_store_delays_a_card_but_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    // A file where the object store needs a folder: every upload fails (even for root).
    let objects = dir.path().join("objects");
    std::fs::create_dir_all(&objects).expect("objects dir");
    std::fs::write(objects.join("users"), b"in the way").expect("blocker");

    write_submission(
        &daemon.inbox(),
        "hank",
        Some(&manifest("hank", "passport")),
        &[("front.jpg", jpeg(1000, 700))],
    );
    let stuck = wait_for(
        Duration::from_secs(20),
        "hank's card to be created",
        || async {
            let card = client
                .card_for_user(context::current(), "hank".into())
                .await
                .ok()?
                .ok()??;
            Some(card)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let card = client
        .get_card(context::current(), stuck.id)
        .await
        .expect("rpc")
        .expect("card");
    assert_eq!(
        card.status,
        Status::Uploading,
        "the card waits for its files"
    );
    assert!(
        dir.path().join("work/hank/front.jpg").exists(),
        "the submission is kept in the work area"
    );
    assert!(
        daemon.log().contains("kept in the work area"),
        "the failure is logged:\n{}",
        daemon.log()
    );

    std::fs::remove_file(objects.join("users")).expect("unblock");
    let card = wait_for(
        Duration::from_secs(30),
        "hank's card after the retry",
        || card_of(&client, "hank"),
    )
    .await;
    assert_eq!(
        card.id, stuck.id,
        "the same card is resumed, not a second one created"
    );
    assert_eq!(card.status, Status::NeedsReview);
    assert!(objects.join(&card.files[0].object_key).exists());
    // The folder leaves the work area just after the card is written.
    wait_for(
        Duration::from_secs(30),
        "hank's folder to leave the work area",
        || async { (!dir.path().join("work/hank").exists()).then_some(()) },
    )
    .await;
}

//! Retention and erasure end to end, on the real daemon with the local object store: with the
//! retention job's clock shifted forward, expired decided cards and their files go and leave
//! tombstones while everything else stays; `idreview erase` removes one person's cards and files
//! only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use idreview_protocol::{AuditEvent, Card, DecideRequest, Decision, IdReviewClient, RpcError};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, any_version, binary, card_of, wait_for};
use tarpc::context::current as ctx;

const MANUAL: (&str, &str) = ("IDREVIEW__VERIFICATION__PROVIDER", "manual");

/// Every stored file under `users/<user>/` in the local object store.
fn objects_of(data: &Path, user: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("objects").join("users").join(user), &mut out);
    out
}

async fn ingest(daemon: &Daemon, client: &IdReviewClient, users: &[&str]) -> Vec<Card> {
    for user in users {
        write_submission(
            &daemon.inbox(),
            &format!("{user}-{}", users.len()),
            Some(&manifest(user, "national_id")),
            &[("front.jpg", jpeg(800, 600)), ("back.jpg", jpeg(800, 600))],
        );
    }
    let mut cards = Vec::new();
    for user in users {
        let card = wait_for(Duration::from_secs(30), user, || card_of(client, user)).await;
        cards.push(card);
    }
    cards
}

async fn decide(client: &IdReviewClient, card: &Card, decision: Decision, reason: &str) {
    let request = DecideRequest {
        cards: vec![any_version(card.id)],
        decision,
        reason: reason.into(),
        override_doubts: false,
    };
    let results = client.decide(ctx(), request).await.expect("decide");
    assert!(results[0].result.is_ok(), "{results:?}");
}

async fn audit(client: &IdReviewClient) -> Vec<AuditEvent> {
    client
        .audit_export(ctx(), 0, 10_000)
        .await
        .expect("call")
        .expect("audit")
}

async fn gone(client: &IdReviewClient, card: &Card) -> bool {
    matches!(
        client.get_card(ctx(), card.id).await,
        Ok(Err(RpcError::NotFound(_)))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_cards_and_their_files_go_leaving_tombstones_and_nothing_else_is_touched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let keep = [
        MANUAL,
        ("IDREVIEW__RETENTION__APPROVED_DAYS", "30"),
        ("IDREVIEW__RETENTION__REJECTED_DAYS", "7"),
        ("IDREVIEW__RETENTION__INTERVAL_SECS", "1"),
    ];
    let mut daemon = Daemon::start_with(&data, &keep).await;
    let client = daemon.client().await;
    let cards = ingest(&daemon, &client, &["ann", "bob", "cat"]).await;
    decide(&client, &cards[0], Decision::Approve, "fine").await;
    decide(&client, &cards[1], Decision::Reject, "blurry photo of bob").await;
    let before: Vec<Card> = {
        let mut v = Vec::new();
        for c in &cards {
            v.push(
                client
                    .get_card(ctx(), c.id)
                    .await
                    .expect("call")
                    .expect("card"),
            );
        }
        v
    };
    for user in ["ann", "bob", "cat"] {
        assert_eq!(
            objects_of(&data, user).len(),
            2,
            "{user}'s files are stored"
        );
    }
    // Nothing has expired yet: a few runs of the job change nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!gone(&client, &cards[1]).await);
    assert!(daemon.stop());

    // Ten days later: bob's rejection (kept 7 days) has expired, ann's approval (30) has not.
    let mut later = keep.to_vec();
    later.push(("IDREVIEWD_RETENTION_CLOCK_SKEW_DAYS", "10"));
    let daemon = Daemon::start_with(&data, &later).await;
    let client = daemon.client().await;
    wait_for(Duration::from_secs(30), "bob's card to expire", || async {
        gone(&client, &cards[1]).await.then_some(())
    })
    .await;
    wait_for(
        Duration::from_secs(30),
        "bob's files to be removed",
        || async { objects_of(&data, "bob").is_empty().then_some(()) },
    )
    .await;
    for kept in [&before[0], &before[2]] {
        let now = client
            .get_card(ctx(), kept.id)
            .await
            .expect("call")
            .expect("kept");
        assert_eq!(&now, kept, "untouched");
        assert_eq!(objects_of(&data, &kept.user_id).len(), 2);
    }
    let log = audit(&client).await;
    let bob: Vec<&AuditEvent> = log
        .iter()
        .filter(|e| e.card_id == Some(cards[1].id))
        .collect();
    let tombstone = bob.last().expect("bob's events");
    assert_eq!(
        (tombstone.action.as_str(), tombstone.actor.as_str()),
        ("card.expired", "retention")
    );
    assert!(
        tombstone
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("rejected"))
    );
    for e in &bob {
        assert_eq!((&e.before, &e.after), (&None, &None));
        assert!(
            !format!("{e:?}").contains("bob"),
            "personal data left: {e:?}"
        );
    }
    assert!(
        bob.iter().any(|e| e.action == "card.rejected"),
        "who did what when stays"
    );
    let ann = log.iter().filter(|e| e.card_id == Some(cards[0].id));
    assert!(
        ann.clone().all(|e| e.after.is_some()),
        "others' events keep their detail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_user_removes_their_cards_and_files_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let daemon = Daemon::start_with(&data, &[MANUAL]).await;
    let client = daemon.client().await;
    let first = ingest(&daemon, &client, &["ann", "bob"]).await;
    // Ann's first card is rejected; she submits a new photo and has two cards (the same
    // files again would be a duplicate submission).
    decide(&client, &first[0], Decision::Reject, "glare").await;
    write_submission(
        &daemon.inbox(),
        "ann-again",
        Some(&manifest("ann", "passport")),
        &[("front.jpg", jpeg(801, 600))],
    );
    let second = wait_for(Duration::from_secs(30), "ann's second card", || async {
        card_of(&client, "ann")
            .await
            .filter(|c| c.id != first[0].id)
    })
    .await;
    assert_eq!(objects_of(&data, "ann").len(), 3);

    let erase = |extra: &[&str]| {
        Command::new(binary("idreview"))
            .arg("--data-dir")
            .arg(&data)
            .args(["erase", "--user", "ann", "--reason", "erasure request #17"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run idreview")
    };
    // A dry run says what would go and changes nothing; without --yes, off a terminal,
    // nothing is erased and the command says how to go on.
    let plan = erase(&["--dry-run"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(plan.status.success(), "{text}");
    assert!(
        text.contains("dry run") && text.contains("3 files queued"),
        "{text}"
    );
    let unasked = erase(&[]);
    assert!(!unasked.status.success());
    let why = String::from_utf8_lossy(&unasked.stderr);
    assert!(
        why.contains("erase 2 cards of ann") && why.contains("--yes"),
        "{why}"
    );
    for card in [&first[0], &second] {
        assert!(
            !gone(&client, card).await,
            "card {} is still there",
            card.id
        );
    }
    let out = erase(&["--yes"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 files queued"), "{stdout}");

    for card in [&first[0], &second] {
        assert!(gone(&client, card).await, "card {} erased", card.id);
    }
    wait_for(
        Duration::from_secs(30),
        "ann's files to be removed",
        || async { objects_of(&data, "ann").is_empty().then_some(()) },
    )
    .await;
    let bob = client
        .get_card(ctx(), first[1].id)
        .await
        .expect("call")
        .expect("bob stays");
    assert_eq!(bob, first[1]);
    assert_eq!(objects_of(&data, "bob").len(), 2, "bob's files stay");
    let log = audit(&client).await;
    let tombstones: Vec<&AuditEvent> = log.iter().filter(|e| e.action == "card.erased").collect();
    assert_eq!(tombstones.len(), 2);
    assert!(
        tombstones
            .iter()
            .all(|t| t.reason.as_deref() == Some("erasure request #17"))
    );
    for e in log
        .iter()
        .filter(|e| e.card_id == Some(first[0].id) || e.card_id == Some(second.id))
    {
        assert!(
            !format!("{e:?}").contains("ann") && !format!("{e:?}").contains("glare"),
            "{e:?}"
        );
    }
    assert!(
        log.iter()
            .any(|e| e.card_id == Some(bob.id) && e.after.is_some())
    );
    // Erasing someone without cards is no error; an empty reason is refused.
    let none = client
        .erase_user(ctx(), "nobody".into(), "request".into(), false)
        .await
        .expect("call")
        .expect("ok");
    assert!(none.cards.is_empty());
    let refused = client
        .erase_user(ctx(), "bob".into(), " ".into(), false)
        .await
        .expect("call");
    assert!(matches!(refused, Err(RpcError::Invalid(_))));
}

//! The real `idreview` console in a real terminal: `tmux` on a private socket with a fixed
//! 120x40 pane runs the console against the real daemon holding filled cards. Keys go in with
//! `send-keys`, the screen comes back with `capture-pane -p`, and what the console did is
//! checked in the store over RPC: a bulk approval, a claim and a field correction.

use std::process::Command;
use std::time::{Duration, Instant};

use idreview_protocol::{FieldSource, Status};
use idreview_tests::tmux::Tmux;
use idreview_tests::{Daemon, binary, card, fill, newest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_approval_claim_and_correction_reach_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 30, "tmux");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    let reviewable = newest(&client, "status:needs_review", 1000).await.len();
    assert!(reviewable >= 6, "the fill makes cards to review");
    let first_three = newest(&client, "status:needs_review", 3).await;

    let command = format!(
        "env NO_COLOR=1 {} --data-dir {} --no-spawn",
        binary("idreview").display(),
        dir.path().display()
    );
    let tmux = Tmux::start(&command);
    tmux.wait_for(&["rows 1-", "of 30"], dir.path());

    tmux.keys(&["/"]);
    tmux.keys(&["C-u"]);
    tmux.type_text("status:needs_review");
    tmux.keys(&["Enter"]);
    let rows = format!("of {reviewable}");
    tmux.wait_for(&["filter: status:needs_review", &rows], dir.path());

    tmux.keys(&["Space", "Space", "Space"]);
    tmux.wait_for(&["marked: 3"], dir.path());
    tmux.keys(&["a"]);
    tmux.wait_for(&["approve 3 cards - reason"], dir.path());
    tmux.type_text("documents match");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["approve 3 cards? y/n"], dir.path());
    let mut doubtful = Vec::new();
    for id in &first_three {
        if card(&client, *id)
            .await
            .fields
            .iter()
            .any(|f| f.confidence < 0.8)
        {
            doubtful.push(*id);
        }
    }
    tmux.keys(&["y"]);
    match doubtful.as_slice() {
        [] => {
            tmux.wait_for(&["approve 3 cards: 3 approved, 0 failed"], dir.path());
        }
        // Cards with unsure fields are approved only over an explicit, reasoned override.
        [one] => {
            tmux.wait_for(
                &[&format!("approve card {one} over doubts - reason:")],
                dir.path(),
            );
            tmux.type_text("documents match");
            tmux.keys(&["Enter"]);
            tmux.wait_for(&[&format!("card {one} approved")], dir.path());
        }
        many => {
            let n = many.len();
            tmux.wait_for(
                &[&format!("approve {n} cards over doubts - reason:")],
                dir.path(),
            );
            tmux.type_text("documents match");
            tmux.keys(&["Enter"]);
            let done = format!("approve over doubts {n} cards: {n} approved, 0 failed");
            tmux.wait_for(&[&done], dir.path());
        }
    }
    for id in &first_three {
        let c = card(&client, *id).await;
        assert_eq!(c.status, Status::Approved, "card {id}");
        let reason = c.decision.map(|d| d.reason);
        assert_eq!(reason.as_deref(), Some("documents match"));
    }

    tmux.keys(&["Escape"]);
    let rows = format!("of {}", reviewable - 3);
    tmux.wait_for(&[&rows], dir.path());
    let target = newest(&client, "status:needs_review", 1).await[0];
    tmux.keys(&["g", "Enter"]);
    tmux.wait_for(&[&format!("card {target} is yours")], dir.path());
    let claimed = card(&client, target).await;
    assert!(
        claimed
            .assignee
            .as_deref()
            .is_some_and(|a| a.starts_with("local:")),
        "the claim is in the store: {:?}",
        claimed.assignee
    );
    assert!(claimed.lease_until.is_some());

    // The card opens on its first field below the console's upper band (0.8).
    let focused = claimed
        .fields
        .iter()
        .find(|f| f.confidence < 0.8)
        .or(claimed.fields.first())
        .map(|f| f.name.clone())
        .expect("filled cards have fields");
    tmux.keys(&["e", "C-u"]);
    tmux.type_text("TESTVALUE");
    tmux.keys(&["Enter"]);
    let corrected_line = format!("corrected {focused} of card {target}");
    tmux.wait_for(&[&corrected_line], dir.path());
    let corrected = card(&client, target).await;
    let field = corrected.field(&focused).expect("the field");
    assert_eq!(field.value, "TESTVALUE");
    assert_eq!(field.source, FieldSource::Reviewer);
    assert_eq!(field.confidence, 1.0);

    tmux.keys(&["Escape"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while card(&client, target).await.assignee.is_some() {
        assert!(
            Instant::now() < deadline,
            "closing the card releases the claim"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Live updates: a card that arrives while the console is open shows up without a key.
    tmux.keys(&["/", "C-u", "Enter"]);
    tmux.wait_for(&["filter: none", "of 30"], dir.path());
    let demo = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo", "--count", "1", "--seed", "5"])
        .output()
        .expect("run idreviewd demo");
    assert!(demo.status.success());
    tmux.wait_for(&["of 31", "31 cards"], dir.path());

    // The daemon restarts under the console: it says so, then reconnects by itself.
    let mut daemon = daemon;
    assert!(daemon.stop(), "the daemon stops cleanly");
    tmux.wait_for(&["disconnected"], dir.path());
    let daemon = Daemon::start(dir.path()).await;
    let screen = tmux.wait_for(&["local:", "of 31"], dir.path());
    assert!(!screen.contains("disconnected"), "{screen}");

    tmux.keys(&["q"]);
    drop(daemon);
}

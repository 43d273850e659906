//! Safe triage with the real console in tmux against the real daemon, at the sizes reviewers
//! use (80x24 and 200x50): `]` after a decision opens the next card of the queue, not the one
//! after it; approving a card with doubts asks for a reason and the audit log names the doubts;
//! a decision on a card that is not on screen says so and waits for `y`; a filter change
//! clears the marks; quitting with Ctrl-C gives the claim back; after a daemon restart the open
//! card is claimed again and the status line and the title agree.

use std::time::{Duration, Instant};

use idreview_protocol::Status;
use idreview_tests::tmux::Tmux;
use idreview_tests::{Daemon, binary, card, fill, newest};
use tarpc::context;

fn console(dir: &std::path::Path) -> String {
    format!(
        "env NO_COLOR=1 {} --data-dir {} --no-spawn",
        binary("idreview").display(),
        dir.display()
    )
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_steps_to_the_next_card_and_doubts_need_a_reason_at_80x24() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 30, "tri");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    // The review queue: every card waiting for a person, oldest first.
    let mut queue = newest(&client, "status:needs_review", 1000).await;
    queue.reverse();
    assert!(queue.len() >= 5, "the fill makes a queue: {queue:?}");

    // With after_decision = "stay", the reviewer steps with `]`.
    let stay = dir.path().join("stay.toml");
    std::fs::write(&stay, "[console]\nafter_decision = \"stay\"\n").expect("config");
    let command = format!("{} --config {}", console(dir.path()), stay.display());
    let tmux = Tmux::start_sized(&command, 80, 24);
    tmux.wait_for(&["rows 1-"], dir.path());
    tmux.keys(&["w"]);
    tmux.wait_for(&["review queue"], dir.path());
    tmux.keys(&["Enter"]);
    tmux.wait_for(&[&format!("card {} is yours", queue[0])], dir.path());
    tmux.keys(&["r"]);
    tmux.type_text("blurry photo");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&[&format!("card {} rejected", queue[0])], dir.path());
    // The rejected card leaves the queue; `]` opens the card that was second, not third.
    tmux.keys(&["]"]);
    tmux.wait_for(&[&format!("card {} is yours", queue[1])], dir.path());

    // Unsure fields: the approval is refused until the reviewer says why.
    let doubtful = card(&client, queue[1])
        .await
        .fields
        .iter()
        .any(|f| f.confidence < 0.8);
    tmux.keys(&["a", "Enter"]);
    if doubtful {
        let screen = tmux.wait_for(
            &[&format!("approve card {} over doubts - reason:", queue[1])],
            dir.path(),
        );
        assert!(
            screen.contains("has doubts:"),
            "the doubts are named:\n{screen}"
        );
        assert_eq!(card(&client, queue[1]).await.status, Status::NeedsReview);
        tmux.type_text("checked against the photo");
        tmux.keys(&["Enter"]);
    }
    tmux.wait_for(&[&format!("card {} approved", queue[1])], dir.path());
    let approved = card(&client, queue[1]).await;
    assert_eq!(approved.status, Status::Approved);
    if doubtful {
        let events = client
            .audit_events(context::current(), queue[1])
            .await
            .expect("rpc")
            .expect("audit");
        let event = events.iter().rev().find(|e| e.action == "card.approved");
        let after = event.and_then(|e| e.after.clone()).unwrap_or_default();
        assert!(after.contains("overridden_doubts"), "{after}");
        assert_eq!(
            event.and_then(|e| e.reason.clone()).as_deref(),
            Some("checked against the photo")
        );
    }

    tmux.keys(&["]"]);
    tmux.wait_for(&[&format!("card {} is yours", queue[2])], dir.path());
    assert!(card(&client, queue[2]).await.assignee.is_some());
    // Ctrl-C leaves the console and gives the claim back.
    tmux.keys(&["C-c"]);
    wait_until("the claim is given back", async || {
        card(&client, queue[2]).await.assignee.is_none()
    })
    .await;
    drop(tmux);

    // By default the queue moves on by itself after a decision.
    let tmux = Tmux::start_sized(&console(dir.path()), 80, 24);
    tmux.wait_for(&["rows 1-"], dir.path());
    tmux.keys(&["w"]);
    tmux.wait_for(&["review queue"], dir.path());
    tmux.keys(&["Enter"]);
    tmux.wait_for(&[&format!("card {} is yours", queue[2])], dir.path());
    tmux.keys(&["r", "Tab", "Enter"]);
    tmux.wait_for(&[&format!("card {} is yours", queue[3])], dir.path());
    let rejected = card(&client, queue[2]).await;
    assert_eq!(rejected.status, Status::Rejected);
    assert_eq!(
        rejected.decision.map(|d| d.reason).as_deref(),
        Some("document expired"),
        "Tab offered the first preset reason"
    );
    tmux.keys(&["C-c"]);
    wait_until("the claim is given back", async || {
        card(&client, queue[3]).await.assignee.is_none()
    })
    .await;
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unseen_cards_are_asked_about_and_claims_survive_a_restart_at_200x50() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 120, "tri");
    let lease = [("IDREVIEW__REVIEW__LEASE_SECS", "4")];
    let daemon = Daemon::start_with(dir.path(), &lease).await;
    let client = daemon.client().await;
    let all = newest(&client, "", 1000).await;

    let tmux = Tmux::start_sized(&console(dir.path()), 200, 50);
    tmux.wait_for(&["rows 1-", "of 120"], dir.path());
    tmux.keys(&["Space"]);
    tmux.wait_for(&["marked: 1"], dir.path());
    // The marked card is on the first page; the last card is far below it.
    tmux.keys(&["G"]);
    tmux.wait_for(&["of 120"], dir.path());
    tmux.keys(&["a", "Enter"]);
    tmux.wait_for(
        &[&format!(
            "approve card {}, which is not on screen? y/n",
            all[0]
        )],
        dir.path(),
    );
    let before = card(&client, all[0]).await;
    tmux.keys(&["Enter"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(card(&client, all[0]).await, before, "Enter is not a yes");
    tmux.keys(&["n"]);

    // A filter change drops the marks, and says so.
    tmux.keys(&["/", "C-u"]);
    tmux.type_text("status:needs_review");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["1 mark cleared (the filter changed)"], dir.path());
    let screen = tmux.screen();
    assert!(!screen.contains("marked:"), "{screen}");

    // Open a card, then restart the daemon under it for longer than the lease.
    let reviewable = newest(&client, "status:needs_review", 1000).await;
    tmux.keys(&["g", "Enter"]);
    tmux.wait_for(&[&format!("card {} is yours", reviewable[0])], dir.path());
    let mut daemon = daemon;
    assert!(daemon.stop());
    tmux.wait_for(&["lost the daemon"], dir.path());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let daemon = Daemon::start_with(dir.path(), &lease).await;
    let client = daemon.client().await;
    let screen = tmux.wait_for(
        &[
            &format!("card {} is yours until", reviewable[0]),
            "held by local:",
        ],
        dir.path(),
    );
    assert!(!screen.contains("lost the daemon"), "{screen}");
    let held = card(&client, reviewable[0]).await;
    assert!(
        held.lease_until.is_some_and(|t| t > chrono::Utc::now()),
        "the daemon holds the claim again: {:?}",
        held.lease_until
    );
    tmux.keys(&["C-c"]);
    wait_until("the claim is given back", async || {
        card(&client, reviewable[0]).await.assignee.is_none()
    })
    .await;
    drop(daemon);
}

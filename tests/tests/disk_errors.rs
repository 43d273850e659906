//! Disk errors on the data dir surface as errors, never as silent loss. The tests run as root,
//! where permissions stop nothing, so the folders break the way a bad disk or a wrong mount
//! would: a file stands where `rejected/` and `objects/` should be. The daemon logs the error,
//! keeps both submissions in its work area, keeps answering RPC, and finishes them once the
//! folders are fixed.

use std::time::Duration;

use idreview_protocol::Status;
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::ledger::{Ledger, entries, files_below};
use idreview_tests::{Daemon, wait_for};
use tarpc::context;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_data_dir_keeps_submissions_until_it_is_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start_with(
        dir.path(),
        &[("IDREVIEW__VERIFICATION__PROVIDER", "manual")],
    )
    .await;
    let client = daemon.client().await;
    let rejected = daemon.rejected();
    let objects = dir.path().join("objects");
    // The inbox task makes its folders just after the socket answers.
    wait_for(Duration::from_secs(10), "rejected/ to be made", || {
        let made = rejected.is_dir();
        async move { made.then_some(()) }
    })
    .await;
    std::fs::remove_dir_all(&rejected).expect("remove rejected/");
    std::fs::write(&rejected, b"not a folder").expect("file as rejected/");
    let _ = std::fs::remove_dir_all(&objects);
    std::fs::write(&objects, b"not a folder").expect("file as objects/");

    write_submission(
        &daemon.inbox(),
        "good",
        Some(&manifest("good", "passport")),
        &[("front.jpg", jpeg(800, 600))],
    );
    write_submission(
        &daemon.inbox(),
        "bad",
        Some(&manifest("bad", "passport")),
        &[("front.jpg", b"text, not a photo".to_vec())],
    );
    let work = dir.path().join("work");
    wait_for(Duration::from_secs(30), "both failures logged", || {
        let log = daemon.log();
        let seen = log.contains("could not move a rejected submission")
            && log.contains("files not stored");
        async move { seen.then_some(()) }
    })
    .await;
    let mut kept = entries(&work);
    kept.sort();
    assert_eq!(kept, ["bad", "good"], "both submissions kept in work/");
    assert!(
        daemon
            .log()
            .contains("submission kept in the work area to be tried again"),
        "the deferral is logged"
    );
    let health = client.health(context::current()).await.expect("serving");
    assert_eq!(
        health.cards, 1,
        "the good submission's card exists, unfinished"
    );

    // The disk is fixed: both finish on their next retry.
    std::fs::remove_file(&rejected).expect("fix rejected/");
    std::fs::remove_file(&objects).expect("fix objects/");
    let ledger = wait_for(
        Duration::from_secs(60),
        "both submissions to finish",
        || {
            let client = client.clone();
            let rejected = rejected.clone();
            let work = work.clone();
            async move {
                let ledger = Ledger::read(&client, &rejected).await;
                let ready = ledger.cards.iter().all(|c| c.status == Status::NeedsReview);
                (entries(&work).is_empty() && ready && ledger.rejected.len() == 1).then_some(ledger)
            }
        },
    )
    .await;
    let mut problems = ledger.problems_for("good", "good", true);
    problems.extend(ledger.problems_for("bad", "bad", false));
    problems.extend(ledger.object_problems(&files_below(&objects)));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

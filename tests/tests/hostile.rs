//! Hostile input beyond the per-rule tests: a generated corpus of malformed submissions (see
//! `idreview_tests::hostile`) dropped into the real daemon's inbox. Each lands in `rejected/`
//! with a reason naming a rule, no card is made, the daemon keeps answering RPC throughout, and
//! its resident memory stays under a generous cap.

use std::time::Duration;

use idreview_tests::fixtures::write_submission;
use idreview_tests::hostile::corpus;
use idreview_tests::ledger::{entries, rejected_folders};
use idreview_tests::{Daemon, wait_for};
use tarpc::context;

/// Rules a hostile submission may be rejected under (the documented rule names).
const RULES: &[&str] = &[
    "manifest_missing",
    "manifest_malformed",
    "unknown_document_type",
    "unreadable",
    "symlink",
    "file_name",
    "unexpected_directory",
    "too_many_files",
    "duplicate_role",
    "front_missing",
    "back_missing",
    "empty_file",
    "file_type",
    "image_too_large",
    "video_too_large",
    "file_too_large",
    "decompression_bomb",
    "image_corrupt",
    "image_too_small",
    "video_corrupt",
    "pdf_corrupt",
];

/// Resident memory cap for the daemon while it chews through the corpus.
const RSS_CAP_KIB: u64 = 512 * 1024;

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_corpus_is_rejected_with_reasons_in_bounded_memory() {
    let corpus = corpus();
    assert!(corpus.len() >= 50, "corpus of {}", corpus.len());
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
    let pid = daemon.pid().expect("pid");
    let client = daemon.client().await;
    for h in &corpus {
        let files: Vec<(&str, Vec<u8>)> = h
            .files
            .iter()
            .map(|(n, b)| (n.as_str(), b.clone()))
            .collect();
        write_submission(&daemon.inbox(), &h.name, h.manifest.as_deref(), &files);
    }

    let total = corpus.len();
    let mut peak = 0;
    let rejected = daemon.rejected();
    let done = wait_for(
        Duration::from_secs(60),
        "every hostile submission rejected",
        || {
            let client = client.clone();
            let inbox = daemon.inbox();
            let work = dir.path().join("work");
            let rejected = rejected.clone();
            let rss = rss_kib(pid);
            peak = peak.max(rss.unwrap_or(0));
            async move {
                // The daemon answers while it works (and is still alive).
                let health = client.health(context::current()).await;
                assert!(health.is_ok(), "health failed: {health:?}");
                assert!(rss.is_some(), "the daemon died");
                let busy = entries(&inbox).len() + entries(&work).len();
                let folders = rejected_folders(&rejected);
                (busy == 0 && folders.len() >= total).then_some(folders)
            }
        },
    )
    .await;
    eprintln!(
        "{} hostile submissions, peak VmRSS {} KiB",
        corpus.len(),
        peak
    );

    let mut problems = Vec::new();
    for h in &corpus {
        let found: Vec<_> = done
            .values()
            .filter_map(|r| r.as_ref())
            .filter(|(submission, _)| *submission == h.name)
            .collect();
        match found.as_slice() {
            [(_, rule)] if RULES.contains(&rule.as_str()) => {}
            other => problems.push(format!("{:?}: {other:?}", h.name)),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let health = client
        .health(context::current())
        .await
        .expect("still serving");
    assert_eq!(health.cards, 0, "no hostile submission became a card");
    assert!(
        peak < RSS_CAP_KIB,
        "peak VmRSS {peak} KiB over the {RSS_CAP_KIB} KiB cap"
    );
    assert!(!daemon.log().contains("panicked"), "{}", daemon.log());
}

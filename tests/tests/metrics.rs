//! The Prometheus endpoint: after the daemon ingests some submissions and rejects others, a
//! scrape of `/metrics` reports exactly those counts, the cards by status, the pipeline stage
//! histograms, the RPC calls by method and outcome, and the open connections.

use std::time::Duration;

use idreview_protocol::CardId;
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, wait_for};
use tarpc::context;

/// The value of the sample `name{labels}` (labels exactly as rendered, e.g. `rule="x"`); `None`
/// when the scrape has no such line.
fn sample(scrape: &str, name: &str, labels: &str) -> Option<f64> {
    let key = if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{labels}}}")
    };
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(&key)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn scrape(daemon: &Daemon) -> String {
    let addr = std::fs::read_to_string(daemon.data_dir.join("idreviewd.metrics-addr"))
        .expect("the daemon writes the metrics address");
    let response = reqwest::get(format!("http://{}/metrics", addr.trim()))
        .await
        .expect("scrape /metrics");
    assert!(response.status().is_success(), "{}", response.status());
    response.text().await.expect("metrics body")
}

#[tokio::test]
async fn a_scrape_reports_what_the_daemon_did() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start_with(
        dir.path(),
        &[
            ("IDREVIEW__METRICS__LISTEN", "127.0.0.1:0"),
            ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
        ],
    )
    .await;
    let inbox = daemon.inbox();
    for n in 0..3 {
        let user = format!("m-good-{n}");
        let files = [("front.jpg", jpeg(1000, 700))];
        write_submission(&inbox, &user, Some(&manifest(&user, "passport")), &files);
    }
    for n in 0..2 {
        let user = format!("m-small-{n}");
        let files = [("front.jpg", jpeg(640, 480))];
        write_submission(&inbox, &user, Some(&manifest(&user, "passport")), &files);
    }
    let files = [("front.jpg", b"not an image".to_vec())];
    write_submission(
        &inbox,
        "m-text",
        Some(&manifest("m-text", "passport")),
        &files,
    );

    let done = wait_for(Duration::from_secs(60), "6 submissions counted", || async {
        let text = scrape(&daemon).await;
        let ingested = sample(&text, "idreview_submissions_ingested_total", "").unwrap_or(0.0);
        let total = sample(
            &text,
            "idreview_pipeline_stage_seconds_count",
            r#"stage="total""#,
        );
        (ingested >= 3.0 && total.unwrap_or(0.0) >= 6.0).then_some(text)
    })
    .await;
    let at = |name: &str, labels: &str| sample(&done, name, labels);
    assert_eq!(at("idreview_submissions_ingested_total", ""), Some(3.0));
    let rejected = "idreview_submissions_rejected_total";
    assert_eq!(at(rejected, r#"rule="image_too_small""#), Some(2.0));
    assert_eq!(at(rejected, r#"rule="file_type""#), Some(1.0));
    assert_eq!(at("idreview_cards", r#"status="needs_review""#), Some(3.0));
    let stage = "idreview_pipeline_stage_seconds_count";
    assert_eq!(at(stage, r#"stage="total""#), Some(6.0));
    assert_eq!(at(stage, r#"stage="validate""#), Some(6.0));
    assert_eq!(at(stage, r#"stage="upload""#), Some(3.0));
    assert_eq!(at(stage, r#"stage="verify""#), Some(3.0));
    for queue in [
        "pending_uploads",
        "verification_retries",
        "cleanups",
        "webhooks",
    ] {
        let labels = format!(r#"queue="{queue}""#);
        assert_eq!(at("idreview_queue_depth", &labels), Some(0.0), "{queue}");
    }
    assert!(
        done.contains("# TYPE idreview_pipeline_stage_seconds histogram"),
        "stage latencies are histograms:\n{done}"
    );

    // Two calls that answer, one that fails, over one open connection.
    let client = daemon.client().await;
    for user in ["m-good-0", "m-good-1"] {
        let card = client
            .card_for_user(context::current(), user.into())
            .await
            .expect("rpc")
            .expect("card_for_user");
        assert!(card.is_some());
    }
    let missing = client
        .get_card(context::current(), CardId(999_999))
        .await
        .expect("rpc");
    assert!(missing.is_err());
    let text = wait_for(Duration::from_secs(20), "one open connection", || async {
        let text = scrape(&daemon).await;
        (sample(&text, "idreview_open_connections", "") == Some(1.0)).then_some(text)
    })
    .await;
    let calls = "idreview_rpc_calls_total";
    let ok = r#"method="card_for_user",outcome="ok""#;
    assert_eq!(sample(&text, calls, ok), Some(2.0), "{text}");
    let failed = r#"method="get_card",outcome="error""#;
    assert_eq!(sample(&text, calls, failed), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, calls, r#"method="get_card",outcome="ok""#),
        None
    );
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _daemon = Daemon::start(dir.path()).await;
    assert!(!dir.path().join("idreviewd.metrics-addr").exists());
}

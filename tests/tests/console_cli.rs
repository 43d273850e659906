//! The console's scriptable commands against the real daemon: list, show and decide, in JSON
//! and as tables, with their exit codes, on submitted cards and on thousands of filled ones;
//! and what they say when no daemon answers.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

use idreview_protocol::{CardFilter, IdReviewClient, ListQuery, Status};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, binary, card_of, fill, newest, wait_for};

/// Cards of the filled daemon: more than two of the largest pages.
const CARDS: u64 = 2500;

fn idreview(daemon: &Daemon, args: &[&str]) -> Output {
    Command::new(binary("idreview"))
        .arg("--data-dir")
        .arg(&daemon.data_dir)
        .args(args)
        .output()
        .expect("run idreview")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn list_show_and_decide_from_scripts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    for user in ["ivy", "jack", "kim"] {
        write_submission(
            &daemon.inbox(),
            user,
            Some(&manifest(user, "passport")),
            &[("front.jpg", jpeg(1000, 700))],
        );
    }
    let mut cards = Vec::new();
    for user in ["ivy", "jack", "kim"] {
        cards.push(wait_for(Duration::from_secs(20), user, || card_of(&client, user)).await);
    }

    let out = idreview(&daemon, &["list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("list --json");
    assert_eq!(page["total"], 3);
    assert_eq!(page["cards"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        page["cards"][0]["document_type"], "passport",
        "enums are plain strings"
    );

    let out = idreview(&daemon, &["list", "--filter", "jack"]);
    assert!(out.status.success());
    let table = stdout(&out);
    assert!(table.contains("jack") && !table.contains("ivy"), "{table}");

    let id = cards[0].id.to_string();
    let out = idreview(&daemon, &["show", &id, "--json"]);
    assert!(out.status.success());
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("show --json");
    assert_eq!(shown["user_id"], "ivy");
    assert_eq!(shown["audit"][0]["action"], "card.created");

    let out = idreview(
        &daemon,
        &[
            "decide",
            &id,
            &cards[1].id.to_string(),
            "--reject",
            "--reason",
            "blurry photo",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decided: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("decide --json");
    assert_eq!(decided["decision"], "reject");
    assert_eq!(
        (decided["requested"].clone(), decided["decided"].clone()),
        (2.into(), 2.into())
    );
    let results = decided["results"].as_array().cloned().unwrap_or_default();
    assert!(
        results
            .iter()
            .all(|r| r["ok"] == true && r["version"].is_u64()),
        "{decided}"
    );
    let rejected = client
        .get_card(tarpc::context::current(), cards[1].id)
        .await
        .expect("rpc")
        .expect("card");
    assert_eq!(rejected.status, Status::Rejected);
    assert_eq!(
        rejected.decision.map(|d| d.reason).as_deref(),
        Some("blurry photo")
    );

    // Deciding a decided card fails for that card, and the command says so with its exit code.
    let out = idreview(&daemon, &["decide", &id, "--approve"]);
    assert!(
        !out.status.success(),
        "a failed card makes the command fail"
    );
    assert!(stdout(&out).contains(&id) || String::from_utf8_lossy(&out.stderr).contains(&id));

    let out = idreview(&daemon, &["show", "999999"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn commands_and_the_console_name_the_socket_when_no_daemon_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        Command::new(binary("idreview"))
            .args(["--data-dir", &data])
            .args(args)
            .env_remove("IDREVIEW_CONFIG")
            .env_remove("IDREVIEW_SOCKET")
            .output()
            .expect("run idreview")
    };
    let out = run(&["list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no daemon at {data}/idreviewd.sock")),
        "{err}"
    );
    assert!(
        err.contains(&format!("start it with `idreviewd --data-dir {data}`")),
        "{err}"
    );
    let out = run(&["--no-spawn"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no daemon at"));
}

/// A daemon on `dir` holding [`CARDS`] filled cards.
async fn filled(dir: &std::path::Path) -> Daemon {
    fill(dir, CARDS as usize, "cli");
    Daemon::start(dir).await
}

/// How many cards match `filter`, as the daemon counts them.
async fn total(client: &IdReviewClient, filter: &str) -> u64 {
    let query = ListQuery {
        filter: CardFilter::parse(filter).expect("filter parses"),
        limit: 1,
        ..ListQuery::default()
    };
    client
        .list_cards(tarpc::context::current(), query)
        .await
        .expect("rpc")
        .expect("lists")
        .total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_through_every_card_or_stops_at_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = filled(dir.path()).await;
    let out = idreview(&daemon, &["list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json page");
    assert_eq!(page["total"], CARDS);
    let cards = page["cards"].as_array().cloned().unwrap_or_default();
    assert_eq!(cards.len() as u64, CARDS);
    let ids: BTreeSet<u64> = cards.iter().filter_map(|c| c["id"].as_u64()).collect();
    assert_eq!(ids.len() as u64, CARDS, "every card once");
    // Newest first: the fill creates card 1 first.
    assert_eq!(cards.last().map(|c| c["id"].clone()), Some(1.into()));
    // Confidences are rounded to two places, not float noise.
    let noisy = cards
        .iter()
        .filter_map(|c| c["confidence"].as_f64())
        .find(|c| ((c * 100.0).round() / 100.0 - c).abs() > 1e-9);
    assert_eq!(noisy, None);

    let reviewable = total(&daemon.client().await, "status:needs_review").await;
    assert!(reviewable > 3 && reviewable < CARDS, "{reviewable}");
    let out = idreview(
        &daemon,
        &["list", "--limit", "3", "--filter", "status:needs_review"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "header, 3 rows, count:\n{text}");
    assert!(
        text.ends_with(&format!("3 of {reviewable} cards\n")),
        "{text}"
    );

    let out = idreview(&daemon, &["list", "--filter", "status:done"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--filter"));

    // An unknown key is refused with the closest one, not searched as text.
    let out = idreview(&daemon, &["list", "--filter", "stauts:needs_review"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean status:?"), "{err}");
    assert!(out.stdout.is_empty(), "nothing listed");

    // `id:` and `user:` are exact.
    let out = idreview(&daemon, &["list", "--json", "--filter", "id:7,8"]);
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json page");
    assert_eq!(page["total"], 2);
    let user = page["cards"][0]["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = idreview(
        &daemon,
        &["list", "--json", "--filter", &format!("user:{user}")],
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json page");
    let cards = page["cards"].as_array().cloned().unwrap_or_default();
    assert!(!cards.is_empty());
    assert!(
        cards.iter().all(|c| c["user_id"] == user.as_str()),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_decide_report_per_card_and_fail_on_any_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = filled(dir.path()).await;
    let client = daemon.client().await;
    let out = idreview(&daemon, &["show", "7", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["id"], 7);
    assert_eq!(shown["audit"][0]["action"], "card.imported");
    let at = shown["created_at"].as_str().unwrap_or_default();
    assert!(at.ends_with('Z') && at.contains('T'), "RFC 3339 UTC: {at}");

    let out = idreview(&daemon, &["show", "99999"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("card 99999 not found"));

    // Cards without doubts are approved as they are; a decided card cannot be rejected.
    let sure = newest(&client, "status:needs_review conf:>=0.8", 2).await;
    let [first, second] = sure[..] else {
        panic!("the fill makes cards without doubts: {sure:?}")
    };
    let unsure = newest(&client, "status:needs_review conf:<0.8", 2).await;
    let (open, doubtful) = (unsure[0], unsure[1]);
    let (first, second, open) = (first.to_string(), second.to_string(), open.to_string());
    let out = idreview(&daemon, &["decide", &first, &second, "--approve"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = idreview(
        &daemon,
        &["decide", &first, &open, "--reject", "--reason", "blurry"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("FAILED") && text.contains("1 rejected, 1 failed"),
        "{text}"
    );
    let out = idreview(&daemon, &["decide", &first, "--reject", "--json"]);
    assert!(
        !out.status.success(),
        "a reject without a reason is refused"
    );
    // A card with doubts is refused with its doubts, as data.
    let out = idreview(
        &daemon,
        &["decide", &doubtful.to_string(), "--approve", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let refused: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let error = &refused["results"][0]["error"];
    assert_eq!(error["kind"], "doubts", "{refused}");
    assert!(error["doubts"].as_array().is_some_and(|d| !d.is_empty()));
    assert!(!stdout(&out).contains("\"Err\""), "no serde enum wrappers");
}

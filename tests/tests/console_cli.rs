//! The console's scriptable commands against the real daemon: list, show and decide, in JSON
//! and as tables, with their exit codes.

use std::process::{Command, Output};
use std::time::Duration;

use idreview_protocol::{Card, CardPage, ItemResult, Status};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, binary, card_of, wait_for};

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
    let page: CardPage = serde_json::from_str(&stdout(&out)).expect("list --json is a CardPage");
    assert_eq!(page.total, 3);
    assert_eq!(page.cards.len(), 3);

    let out = idreview(&daemon, &["list", "--filter", "jack"]);
    assert!(out.status.success());
    let table = stdout(&out);
    assert!(table.contains("jack") && !table.contains("ivy"), "{table}");

    let id = cards[0].id.to_string();
    let out = idreview(&daemon, &["show", &id, "--json"]);
    assert!(out.status.success());
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("show --json");
    let card: Card = serde_json::from_value(shown["card"].clone()).expect("card");
    assert_eq!(card.user_id, "ivy");

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
    let results: Vec<ItemResult> = serde_json::from_str(&stdout(&out)).expect("decide --json");
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
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
fn commands_without_a_daemon_say_how_to_start_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(binary("idreview"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("list")
        .output()
        .expect("run idreview");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("idreviewd --data-dir"), "{err}");
}

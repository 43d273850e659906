//! What the console shows, read as a reviewer reads it: the real console in tmux at 80x24 and
//! 200x50 against the real daemon holding filled cards and a demo card read from its image.
//! The list's columns fit the width (user ids stay apart at 80, the user column takes only
//! what it needs at 200), the counts per status are never cut off, the help never runs one
//! column into the next, and a wide detail screen shows the image beside the fields. The zone
//! as the local reader read it is on the card and on screen, and the image reaches the system
//! viewer (a stand-in `xdg-open`) or a file the reviewer names.

use std::process::Command;
use std::time::Duration;

use idreview_protocol::{CardId, Status};
use idreview_tests::tmux::Tmux;
use idreview_tests::{Daemon, binary, fill, newest, wait_for};
use tarpc::context;

fn console(dir: &std::path::Path) -> String {
    format!(
        "env NO_COLOR=1 {} --data-dir {} --no-spawn",
        binary("idreview").display(),
        dir.display()
    )
}

/// Writes one demo submission and waits until the daemon has read it; its card id.
async fn demo_card(daemon: &Daemon, client: &idreview_protocol::IdReviewClient) -> CardId {
    let before = newest(client, "", 1).await;
    let demo = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(&daemon.data_dir)
        .args(["demo", "--count", "1", "--seed", "11"])
        .output()
        .expect("run idreviewd demo");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    wait_for(Duration::from_secs(60), "the demo card read", || async {
        let id = *newest(client, "", 1).await.first()?;
        let card = idreview_tests::card(client, id).await;
        let settled = matches!(card.status, Status::NeedsReview | Status::AutoVerified);
        (before.first() != Some(&id) && settled).then_some(id)
    })
    .await
}

fn title_line(screen: &str) -> &str {
    screen
        .lines()
        .find(|l| l.contains("holder") && l.contains("user"))
        .unwrap_or_else(|| panic!("no column titles:\n{screen}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_help_and_detail_fit_80x24_and_200x50() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 30, "kyc-onboarding-eu");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    let demo = demo_card(&daemon, &client).await;
    let health = client.health(context::current()).await.expect("health");

    // 80x24: every count whole, user ids told apart by their ends.
    let tmux = Tmux::start_sized(&console(dir.path()), 80, 24);
    let screen = tmux.wait_for(&["rows 1-", "of 31", "31 cards:"], dir.path());
    for (status, n) in health.by_status.iter().filter(|(_, n)| *n > 0) {
        let count = format!("{status} {n}");
        assert!(screen.contains(&count), "{count} on screen:\n{screen}");
    }
    for end in ["00030", "00029", "00028"] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains("kyc-") && l.contains(end)),
            "user {end} told apart:\n{screen}"
        );
    }
    assert!(
        !screen
            .lines()
            .any(|l| l.trim_end().ends_with("kyc-onboard")),
        "{screen}"
    );

    // The help: one column, every text whole (the queue's is the longest of the list's).
    tmux.keys(&["?"]);
    tmux.wait_for(&["Keys", "Card list"], dir.path());
    tmux.keys(&["j", "j", "j", "j", "j", "j"]);
    let help = tmux.wait_for(
        &["the review queue: every card needing a person, oldest first"],
        dir.path(),
    );
    assert!(
        !help
            .lines()
            .any(|l| l.contains("Card list") && l.contains("List and detail")),
        "{help}"
    );
    tmux.keys(&["Escape", "q"]);
    drop(tmux);

    // 200x50: counts beside the connection, a user column no wider than its ids.
    let tmux = Tmux::start_sized(&console(dir.path()), 200, 50);
    // The counts come in their own answer, after the list's: wait for them too.
    let screen = tmux.wait_for(&["rows 1-", "of 31", "31 cards:"], dir.path());
    let first = screen.lines().next().unwrap_or_default();
    assert!(first.contains("needs_review"), "counts beside: {first}");
    let titles = title_line(&screen);
    let (user, kind) = (
        titles.find("user").expect("user"),
        titles.find("type").expect("type"),
    );
    assert!(
        kind - user <= "kyc-onboarding-eu-00001".len() + 2,
        "the user column is {} wide:\n{screen}",
        kind - user
    );
    assert!(titles.contains("assignee"), "every column at 200: {titles}");

    // The demo card (the newest) opens with its image beside the fields.
    tmux.keys(&["g", "Enter"]);
    tmux.wait_for(&[&format!("card {demo} is yours")], dir.path());
    let detail = tmux.wait_for(&["turned 0°", "▀"], dir.path());
    let block = |c: char| c == '▀' || c == '▄';
    let shared = detail
        .lines()
        .filter(|l| l.chars().any(block))
        .filter(|l| l.chars().take(90).any(|c| c.is_ascii_alphanumeric()))
        .count();
    assert!(shared >= 5, "the image beside the text:\n{detail}");
    let overlap = detail
        .lines()
        .any(|l| l.chars().position(block).is_some_and(|x| x < 92));
    assert!(!overlap, "the image starts right of the text:\n{detail}");
    tmux.keys(&["Escape", "q"]);
    drop(daemon);
}

/// A stand-in for the desktop's `xdg-open` in `dir/bin`: copies the file it is given to
/// `dir/opened`, or fails with exit 3 when `fail`.
fn fake_opener(dir: &std::path::Path, fail: bool) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let script = match fail {
        true => "#!/bin/sh\nexit 3\n".to_string(),
        false => format!("#!/bin/sh\ncp \"$1\" {}\n", dir.join("opened").display()),
    };
    let path = bin.join("xdg-open");
    std::fs::write(&path, script).expect("script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zone_as_read_and_the_image_outside_the_console_at_80x24() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    let id = demo_card(&daemon, &client).await;
    let card = idreview_tests::card(&client, id).await;
    let zone = card
        .raw_zone
        .clone()
        .expect("the local reader keeps the zone as read");
    assert!(zone.rows.len() >= 2, "{zone:?}");
    for row in &zone.rows {
        assert_eq!(row.text.chars().count(), row.confidences.len());
    }
    let front = client
        .file_bytes(context::current(), id, "front.jpg".into())
        .await
        .expect("rpc")
        .expect("the front image");

    fake_opener(dir.path(), false);
    let command = format!(
        "cd {} && env PATH={}:$PATH {}",
        dir.path().display(),
        dir.path().join("bin").display(),
        console(dir.path())
    );
    let tmux = Tmux::start_sized(&command, 80, 24);
    tmux.wait_for(&["rows 1-"], dir.path());
    tmux.keys(&["Enter"]);
    tmux.wait_for(&[&format!("card {id} is yours")], dir.path());
    // The zone follows the fields: scroll to it and read it as printed.
    tmux.keys(&["j"; 8]);
    let mut wanted = vec!["Machine-readable zone"];
    wanted.extend(zone.rows.iter().map(|r| r.text.as_str()));
    tmux.wait_for(&wanted, dir.path());

    tmux.keys(&["o"]);
    tmux.wait_for(
        &[&format!("opened card {id} front.jpg in the system viewer")],
        dir.path(),
    );
    let opened = std::fs::read(dir.path().join("opened")).expect("the viewer got a file");
    assert_eq!(
        opened, front,
        "the viewer was handed the card's front image"
    );

    tmux.keys(&["W"]);
    let default = format!("./card-{id}-front.jpg");
    tmux.wait_for(
        &[&format!("write card {id} front.jpg to: {default}")],
        dir.path(),
    );
    tmux.keys(&["Enter"]);
    tmux.wait_for(
        &[&format!("wrote card {id} front.jpg to {default}")],
        dir.path(),
    );
    let written = std::fs::read(dir.path().join(format!("card-{id}-front.jpg"))).expect("written");
    assert_eq!(written, front);

    // A viewer that cannot open it: the reason on the status line, the console carries on.
    fake_opener(dir.path(), true);
    tmux.keys(&["o"]);
    tmux.wait_for(&["xdg-open failed (exit status: 3)"], dir.path());
    tmux.keys(&["Escape", "q"]);
    drop(daemon);
}

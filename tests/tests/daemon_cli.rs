//! The daemon's own commands and settings: the demo writer, kept originals, the socket's mode,
//! the printed configuration with its environment overrides.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use idreview_protocol::ListQuery;
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, binary, card_of, wait_for};
use tarpc::context;

#[tokio::test]
async fn demo_submissions_become_cards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let out = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo", "--count", "6", "--seed", "7"])
        .output()
        .expect("run idreviewd demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("wrote 6 demo submissions"), "{said}");
    // The run waited for the running daemon and says what became of each submission, and
    // how to open the console on this data dir.
    assert!(said.contains("6 became cards;"), "{said}");
    assert!(
        said.contains(&format!("`idreview --data-dir {}`", dir.path().display())),
        "{said}"
    );

    let client = daemon.client().await;
    // Each demo document is read by the local provider (OCR), slower in a debug build.
    let page = wait_for(Duration::from_secs(150), "six demo cards", || async {
        let page = client
            .list_cards(context::current(), ListQuery::default())
            .await
            .ok()?
            .ok()?;
        let done = page
            .cards
            .iter()
            .filter(|c| {
                !matches!(
                    c.status,
                    idreview_protocol::Status::Received
                        | idreview_protocol::Status::Uploading
                        | idreview_protocol::Status::Verifying
                )
            })
            .count();
        (done == 6).then_some(page)
    })
    .await;
    assert_eq!(page.total, 6);
    assert!(
        std::fs::read_dir(daemon.rejected())
            .expect("rejected dir")
            .next()
            .is_none(),
        "no demo submission was rejected"
    );
    // The embedded default provider reads the demo documents' zones; the fourth has a smudged
    // birth-date check digit and comes out low-confidence.
    let mut read = 0;
    for n in 1..=6 {
        let card = card_of(&client, &format!("demo-7-{n}"))
            .await
            .expect("demo card");
        let field = |name: &str| card.fields.iter().find(|f| f.name == name).cloned();
        if field("document_number").is_some_and(|f| f.source == idreview_protocol::FieldSource::Mrz)
        {
            read += 1;
        }
        if n == 4 {
            let birth = field("birth_date").expect("birth date read");
            assert!(birth.confidence < 0.5, "{birth:?}");
        }
    }
    assert!(read >= 5, "only {read} of 6 demo zones were read");

    // A second run with the same seed takes new user ids: nothing is refused as a second
    // card of an active user.
    let out = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo", "--count", "2", "--seed", "7"])
        .output()
        .expect("run idreviewd demo");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("2 became cards;"), "{said}");
    assert!(!said.contains("rejected"), "{said}");
    for user in ["demo-7-7", "demo-7-8"] {
        assert!(card_of(&client, user).await.is_some(), "{user}");
    }
}

#[tokio::test]
async fn stop_ends_the_daemon_of_a_data_dir_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut daemon = Daemon::start(dir.path()).await;
    let pid = daemon.pid().expect("running");
    let pid_file = dir.path().join("idreviewd.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).expect("pid file").trim(),
        pid.to_string()
    );
    let stop = || {
        Command::new(binary("idreviewd"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("stop")
            .output()
            .expect("run idreviewd stop")
    };
    let out = stop();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("idreviewd (pid {pid}) stopped\n")
    );
    // `stop` returned once the daemon was gone; it exited cleanly and tidied up.
    assert_eq!(daemon.wait_exit(Duration::from_secs(5)), Some(true));
    assert!(!pid_file.exists(), "the pid file is removed");
    assert!(!daemon.socket().exists(), "the socket is removed");
    let out = stop();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no idreviewd runs on"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn socket_is_private_and_originals_can_be_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon =
        Daemon::start_with(dir.path(), &[("IDREVIEW__INBOX__KEEP_PROCESSED", "true")]).await;
    let mode = std::fs::metadata(daemon.socket())
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "only the daemon's user may connect");

    let client = daemon.client().await;
    write_submission(
        &daemon.inbox(),
        "gina-1",
        Some(&manifest("gina", "passport")),
        &[("front.jpg", jpeg(1000, 700))],
    );
    wait_for(Duration::from_secs(20), "gina's card", || {
        card_of(&client, "gina")
    })
    .await;
    // The card is made before the folder leaves the work area: wait for the move too.
    let kept = dir.path().join("processed/gina-1/front.jpg");
    wait_for(
        Duration::from_secs(20),
        "keep_processed to keep the originals",
        || async { kept.exists().then_some(()) },
    )
    .await;
    assert!(
        !dir.path().join("work/gina-1").exists(),
        "moved, not copied"
    );
}

#[test]
fn config_command_shows_file_env_and_flag_layers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[inbox]\nrescan_secs = 9\nsettle_ms = 10\n").expect("config file");
    let out = Command::new(binary("idreviewd"))
        .arg("--config")
        .arg(&file)
        .args(["--data-dir", "/srv/idr", "config"])
        .env("IDREVIEW__INBOX__SETTLE_MS", "42")
        .output()
        .expect("run idreviewd config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rescan_secs = 9"), "file layer: {text}");
    assert!(
        text.contains("settle_ms = 42"),
        "env layer wins over the file: {text}"
    );
    assert!(
        text.contains("data_dir = \"/srv/idr\""),
        "flag layer: {text}"
    );

    std::fs::write(&file, "[inbox]\nrescan = 9\n").expect("config file");
    let out = Command::new(binary("idreviewd"))
        .arg("--config")
        .arg(&file)
        .arg("config")
        .output()
        .expect("run");
    assert!(!out.status.success(), "an unknown key is an error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rescan"),
        "the error names the key"
    );
}

#[test]
fn errors_are_said_once_and_plain_off_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("scan.jpg");
    std::fs::write(&bogus, b"not an image at all").expect("file");
    let out = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("read-mrz")
        .arg(&bogus)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run idreviewd read-mrz");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("could not be determined").count(),
        1,
        "the cause is said once:\n{err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("idreviewd: reading the MRZ of ") && last.contains("cannot decode"),
        "one line names what failed and why: {last}"
    );
    assert!(!err.contains('\u{1b}'), "no colour codes in a pipe:\n{err}");
}

//! Every kind of bad input ends in `rejected/<name>/` with a `reason.json` naming its rule,
//! the daemon keeps serving, and nothing in the inbox disappears without a trace.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use idreview_tests::fixtures::{jpeg, manifest, noise_png, png, png_bomb, write_submission};
use idreview_tests::{Daemon, card_of, rejected_rule, wait_for};
use tarpc::context;

/// An MP4 header (ftyp + moov boxes) padded out to `len` bytes with a sparse tail.
fn mp4_file(path: &std::path::Path, len: u64) {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&24u32.to_be_bytes());
    bytes.extend_from_slice(b"ftypisom\0\0\x02\0isommp41");
    bytes.extend_from_slice(&8u32.to_be_bytes());
    bytes.extend_from_slice(b"moov");
    std::fs::write(path, &bytes).expect("write mp4");
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(len)
        .expect("extend");
}

#[tokio::test]
async fn each_bad_input_is_rejected_with_its_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon =
        Daemon::start_with(dir.path(), &[("IDREVIEW__INBOX__ABANDON_AFTER_SECS", "3")]).await;
    let inbox = daemon.inbox();
    let good = || jpeg(1000, 700);
    let passport = |user: &str| manifest(user, "passport");
    let mut expected: Vec<(String, &str)> = Vec::new();
    let mut case =
        |name: &str, rule: &'static str, manifest: Option<String>, files: Vec<(&str, Vec<u8>)>| {
            write_submission(&inbox, name, manifest.as_deref(), &files);
            expected.push((name.to_string(), rule));
        };

    case(
        "magic",
        "file_type",
        Some(passport("u-magic")),
        vec![("front.jpg", b"this is not an image at all".to_vec())],
    );
    let mut truncated = jpeg(1000, 700);
    truncated.truncate(truncated.len() / 2);
    case(
        "truncated",
        "image_corrupt",
        Some(passport("u-trunc")),
        vec![("front.jpg", truncated)],
    );
    case(
        "empty",
        "empty_file",
        Some(passport("u-empty")),
        vec![("front.jpg", Vec::new())],
    );
    case(
        "huge",
        "image_too_large",
        Some(passport("u-huge")),
        vec![("front.png", noise_png(2000, 1900))],
    );
    case(
        "small",
        "image_too_small",
        Some(passport("u-small")),
        vec![("front.jpg", jpeg(640, 480))],
    );
    case(
        "bomb",
        "decompression_bomb",
        Some(passport("u-bomb")),
        vec![("front.png", png_bomb(100_000, 100_000))],
    );
    case(
        "not-video",
        "file_type",
        Some(passport("u-notvideo")),
        vec![
            ("front.jpg", good()),
            ("selfie.mp4", b"plain text".to_vec()),
        ],
    );
    case(
        "no-back",
        "back_missing",
        Some(manifest("u-noback", "national_id")),
        vec![("front.jpg", good())],
    );
    case(
        "bad-manifest",
        "manifest_malformed",
        Some("user_id = [unclosed".into()),
        vec![("front.jpg", good())],
    );
    case(
        "bad-type",
        "unknown_document_type",
        Some("user_id = \"u-type\"\ndocument_type = \"library_card\"\n".into()),
        vec![("front.jpg", good())],
    );
    case(
        "dotdot",
        "file_name",
        Some(passport("u-dotdot")),
        vec![("front.jpg", good()), ("..evil.jpg", good())],
    );
    case(
        "abandoned",
        "manifest_missing",
        None,
        vec![("front.jpg", good())],
    );

    let big_video = write_submission(&inbox, "big-video", None, &[("front.jpg", good())]);
    mp4_file(&big_video.join("selfie.mp4"), 51 * 1024 * 1024);
    idreview_tests::fixtures::write_manifest(&big_video, &passport("u-bigvideo"));
    expected.push(("big-video".into(), "video_too_large"));

    let link = write_submission(&inbox, "symlink", None, &[("back.jpg", good())]);
    std::os::unix::fs::symlink("/etc/passwd", link.join("front.jpg")).expect("symlink");
    idreview_tests::fixtures::write_manifest(&link, &passport("u-link"));
    expected.push(("symlink".into(), "symlink"));

    let odd = write_submission(&inbox, "non-utf8", None, &[("front.jpg", good())]);
    std::fs::write(odd.join(OsStr::from_bytes(b"scan-\xff.jpg")), good()).expect("non-utf8 name");
    idreview_tests::fixtures::write_manifest(&odd, &passport("u-nonutf8"));
    expected.push(("non-utf8".into(), "file_name"));

    // A verdict file of the submitter's own is not taken for the daemon's: validation refuses
    // the hidden file, and the submitter's file is kept.
    let forged = write_submission(&inbox, "forged-verdict", None, &[("front.jpg", good())]);
    std::fs::write(
        forged.join(".reason.json"),
        r#"{"rule":"forged","message":"made up"}"#,
    )
    .expect("forged verdict");
    idreview_tests::fixtures::write_manifest(&forged, &passport("u-forged"));
    expected.push(("forged-verdict".into(), "file_name"));

    let client = daemon.client().await;
    for (name, rule) in &expected {
        let got = wait_for(
            Duration::from_secs(30),
            &format!("{name} to be rejected"),
            || async { rejected_rule(&daemon.rejected(), name) },
        )
        .await;
        assert_eq!(&got, rule, "submission {name}");
        assert!(!inbox.join(name).exists(), "{name} left the inbox");
        let reason = std::fs::read_to_string(daemon.rejected().join(name).join("reason.json"))
            .expect("reason");
        assert!(reason.contains("\"message\""), "{reason}");
    }
    // The originals are kept next to the reason.
    assert!(daemon.rejected().join("bomb").join("front.png").exists());
    assert!(daemon.rejected().join("symlink").join("back.jpg").exists());
    let kept = daemon
        .rejected()
        .join("forged-verdict")
        .join(".reason.json.submitted");
    assert!(
        std::fs::read_to_string(kept).is_ok_and(|t| t.contains("forged")),
        "the submitter's file is kept under another name"
    );

    // Still serving, and none of them became a card.
    let health = client
        .health(context::current())
        .await
        .expect("daemon still answers");
    assert_eq!(health.cards, 0, "no bad submission became a card");
    assert_eq!(health.rejected, expected.len() as u64, "each counted once");

    // Reviewers list them with their rules, over RPC and with `idreview rejected`.
    let page = client
        .rejected_submissions(context::current(), 0, 1000)
        .await
        .expect("rpc")
        .expect("lists");
    assert_eq!(page.total, expected.len() as u64);
    for (name, rule) in &expected {
        let item = page.items.iter().find(|i| &i.folder == name);
        assert_eq!(item.map(|i| i.rule.as_str()), Some(*rule), "{name}");
    }
    let out = std::process::Command::new(idreview_tests::binary("idreview"))
        .arg("--data-dir")
        .arg(&daemon.data_dir)
        .args(["rejected", "--json", "--limit", "0"])
        .output()
        .expect("run idreview");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["total"], expected.len());
    let listed = json["submissions"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, expected.len());
    assert!(
        json["submissions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["folder"] == "small"
                && s["rule"] == "image_too_small"
                && s["file"] == "front.jpg"),
        "{json}"
    );
}

#[tokio::test]
async fn second_submission_for_an_active_user_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    let client = daemon.client().await;
    write_submission(
        &daemon.inbox(),
        "first",
        Some(&manifest("frank", "passport")),
        &[("front.jpg", jpeg(1000, 700))],
    );
    let card = wait_for(Duration::from_secs(20), "frank's card", || {
        card_of(&client, "frank")
    })
    .await;

    write_submission(
        &daemon.inbox(),
        "second",
        Some(&manifest("frank", "passport")),
        &[("front.png", png(1000, 700))],
    );
    let rule = wait_for(Duration::from_secs(20), "second to be rejected", || async {
        rejected_rule(&daemon.rejected(), "second")
    })
    .await;
    assert_eq!(rule, "active_card_exists");
    let reason =
        std::fs::read_to_string(daemon.rejected().join("second/reason.json")).expect("reason");
    assert!(
        reason.contains(&card.id.to_string()),
        "the reason names the active card: {reason}"
    );
    let still = card_of(&client, "frank").await.expect("card");
    assert_eq!(still.id, card.id);
}

#[tokio::test]
async fn loose_files_in_the_inbox_are_rejected_not_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;
    std::fs::write(daemon.inbox().join("stray.jpg"), jpeg(900, 700)).expect("loose file");
    let rule = wait_for(
        Duration::from_secs(30),
        "the loose file to be rejected",
        || async { rejected_rule(&daemon.rejected(), "stray.jpg") },
    )
    .await;
    assert_eq!(rule, "not_a_submission_folder");
    assert!(
        daemon
            .rejected()
            .join("stray.jpg")
            .join("stray.jpg")
            .exists(),
        "the file is kept"
    );
}
